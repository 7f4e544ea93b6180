//! Link requests: a self-guided couple asks a therapist to guide them with
//! the therapist's practice code; the other partner agrees, the therapist
//! accepts. Nothing links on one person's say-so.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::auth::session::{PartnerUser, RoleUser};
use crate::error::AppResult;
use crate::extract::{ApiJson, Path};
use crate::services::couples::{self, LinkRequestView};
use crate::state::AppState;

/// The practice code the therapist gave, like `K7QM-2XRD`. A missing code
/// is judged by the service, after it checked who is asking.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct NewLinkRequest {
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct LinkRequestJson {
    pub id: String,
    /// `waiting_for_partner`, `waiting_for_therapist`, `accepted`,
    /// `declined` or `withdrawn`.
    pub status: String,
    pub couple_id: String,
    pub therapist_name: String,
    pub requested_by_name: String,
    /// The steps the caller may take now: `agree`, `decline`, `withdraw`, `accept`.
    pub actions: Vec<String>,
    pub created_at: i64,
    #[schema(nullable)]
    pub decided_at: Option<i64>,
}

impl From<LinkRequestView> for LinkRequestJson {
    fn from(view: LinkRequestView) -> Self {
        Self {
            status: view.request.status.as_str().to_owned(),
            actions: view.actions.iter().map(|a| a.as_str().to_owned()).collect(),
            id: view.request.id,
            couple_id: view.request.couple_id.into_string(),
            therapist_name: view.therapist_name,
            requested_by_name: view.requested_by_name,
            created_at: view.request.created_at,
            decided_at: view.request.decided_at,
        }
    }
}

/// A partner of a self-guided couple asks a therapist to guide them. When
/// the couple has two partners the other agrees first; then the therapist
/// accepts. One request per couple waits at a time (409 for a second).
/// An unknown or expired code gets the same 422.
#[utoipa::path(post, path = "/api/v1/me/link-requests", tag = "couples", security(("bearer" = [])), request_body = NewLinkRequest,
    responses((status = 201, body = LinkRequestJson), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    ApiJson(request): ApiJson<NewLinkRequest>,
) -> AppResult<(StatusCode, Json<LinkRequestJson>)> {
    let view = couples::request_link(&state, &partner, &request.code).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// The link requests that concern the caller, newest first: a partner's
/// couple's, or those a therapist was asked to answer (after both partners
/// agreed). Empty for admins.
#[utoipa::path(get, path = "/api/v1/link-requests", tag = "couples", security(("bearer" = [])),
    responses((status = 200, body = [LinkRequestJson])))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<Vec<LinkRequestJson>>> {
    let views = couples::link_requests_for(&state, &user).await?;
    Ok(Json(views.into_iter().map(Into::into).collect()))
}

/// A step on a request: `agree` or `decline` (the other partner),
/// `withdraw` (either partner, while it waits), `accept` or `decline` (the
/// therapist, once both partners agreed; accepting links the couple and
/// replaces the therapist's practice code). 409 when the step is not the
/// caller's to take now; 404 for a request that is not theirs.
#[utoipa::path(post, path = "/api/v1/link-requests/{id}/{action}", tag = "couples", security(("bearer" = [])),
    params(("id" = String, Path), ("action" = String, Path, description = "agree, decline, withdraw or accept")),
    responses((status = 200, body = LinkRequestJson), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn answer(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, action)): Path<(String, String)>,
) -> AppResult<Json<LinkRequestJson>> {
    let view = couples::answer_link_request(&state, &user, &id, &action).await?;
    Ok(Json(view.into()))
}
