use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::session::{RoleUser, TherapistUser};
use crate::error::AppResult;
use crate::extract::ApiJson;
use crate::services::couples::{self, Invitee};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct PartnerInput {
    pub email: String,
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct CreateCoupleRequest {
    /// Exactly two partners.
    pub partners: Vec<PartnerInput>,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationJson {
    pub email: String,
    /// The secret for `POST /api/v1/invitations/{token}/accept` (also mailed as a link).
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreateCoupleResponse {
    pub id: String,
    pub invitations: Vec<InvitationJson>,
}

/// A therapist adds a couple and invites both partners.
#[utoipa::path(post, path = "/api/v1/couples", tag = "couples", security(("bearer" = [])), request_body = CreateCoupleRequest,
    responses((status = 201, body = CreateCoupleResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "Only therapists add couples", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    RoleUser(therapist): TherapistUser,
    ApiJson(request): ApiJson<CreateCoupleRequest>,
) -> AppResult<(StatusCode, Json<CreateCoupleResponse>)> {
    let partners: Vec<Invitee<'_>> = request
        .partners
        .iter()
        .map(|p| Invitee {
            email: &p.email,
            name: &p.name,
        })
        .collect();
    let (couple, sent) = couples::create_couple(&state, &therapist, &partners).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreateCoupleResponse {
            id: couple.id,
            invitations: sent
                .into_iter()
                .map(|s| InvitationJson {
                    email: s.invitation.email,
                    token: s.token,
                })
                .collect(),
        }),
    ))
}
