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
    /// Whether the invitation mail went out. The secret link is in that mail
    /// only (the outbox folder when no SMTP server is configured): accepting
    /// it proves the invitee reads that mailbox.
    pub mailed: bool,
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
            id: couple.id.into_string(),
            invitations: sent
                .into_iter()
                .map(|s| InvitationJson {
                    email: s.invitation.email,
                    mailed: s.mailed,
                })
                .collect(),
        }),
    ))
}

/// The couple's therapist sends a fresh invitation to a partner who has not
/// joined yet. The link goes to that partner's mail only.
/// Who to invite again. Missing fields are judged by the service, after it
/// checked the caller guides this couple (so outsiders learn nothing).
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct FreshInvitation {
    pub email: String,
    pub name: String,
}

#[utoipa::path(post, path = "/api/v1/couples/{id}/invitations", tag = "couples", security(("bearer" = [])), request_body = FreshInvitation,
    params(("id" = String, Path)),
    responses((status = 201, body = InvitationJson), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    RoleUser(therapist): TherapistUser,
    axum::extract::Path(id): axum::extract::Path<trellis_core::CoupleId>,
    ApiJson(request): ApiJson<FreshInvitation>,
) -> AppResult<(StatusCode, Json<InvitationJson>)> {
    let sent = couples::invite_partner(
        &state,
        &therapist,
        &id,
        Invitee {
            email: &request.email,
            name: &request.name,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(InvitationJson {
            email: sent.invitation.email,
            mailed: sent.mailed,
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CaseloadResponse {
    /// Sorted by need: urgent flags, flags that may be urgent, open flags,
    /// alerts, unread messages; otherwise newest first.
    pub couples: Vec<crate::services::caseload::CaseloadCouple>,
}

/// The therapist's caseload, the same list as the caseload page.
#[utoipa::path(get, path = "/api/v1/caseload", tag = "couples", security(("bearer" = [])),
    responses((status = 200, body = CaseloadResponse), (status = 401, body = ErrorBody),
        (status = 403, description = "Only therapists have a caseload", body = ErrorBody)))]
pub async fn caseload(
    State(state): State<AppState>,
    RoleUser(therapist): TherapistUser,
) -> AppResult<Json<CaseloadResponse>> {
    Ok(Json(CaseloadResponse {
        couples: crate::services::caseload::caseload(&state, &therapist).await?,
    }))
}
