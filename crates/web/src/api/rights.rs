use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::auth::session::{PartnerUser, RoleUser};
use crate::error::AppResult;
use crate::extract::ApiJsonOrEmpty;
use crate::services::rights::{self, Export, ExportedActivity};
use crate::state::AppState;

/// Everything the caller wrote or may see, decrypted, with their activity log.
#[utoipa::path(get, path = "/api/v1/me/export", tag = "data rights", security(("bearer" = [])),
    responses((status = 200, body = Export), (status = 401, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<(HeaderMap, Json<Export>)> {
    let export = rights::export(&state, &user).await?;
    let mut headers = HeaderMap::new();
    if let Ok(value) = "attachment; filename=\"trellis-export.json\"".parse() {
        headers.insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    Ok((headers, Json(export)))
}

#[derive(Serialize, ToSchema)]
pub struct ActivityResponse {
    pub activity: Vec<ExportedActivity>,
}

/// Who has seen what the caller shared, and what happened to their account.
#[utoipa::path(get, path = "/api/v1/me/activity", tag = "data rights", security(("bearer" = [])),
    responses((status = 200, body = ActivityResponse), (status = 401, body = ErrorBody)))]
pub async fn activity(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<ActivityResponse>> {
    Ok(Json(ActivityResponse {
        activity: rights::activity(&state, &user).await?,
    }))
}

#[derive(Deserialize, Default, ToSchema)]
pub struct DeleteRequest {
    /// The account's password, as a last check.
    pub password: Option<String>,
}

/// Delete the caller's account (partners). Their writing is removed; joint records stay, attributed to "a former member".
#[utoipa::path(delete, path = "/api/v1/me", tag = "data rights", security(("bearer" = [])), request_body = DeleteRequest,
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorBody), (status = 409, description = "Staff accounts are removed by an admin", body = ErrorBody),
        (status = 422, description = "Wrong password", body = ErrorBody)))]
pub async fn delete_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<DeleteRequest>,
) -> AppResult<StatusCode> {
    rights::delete_account(
        &state,
        &user,
        request.password.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leave the couple (partners): shared writing goes back to "only me"; a new
/// self-guided space begins. Takes `{"password"}`: 422 without it or when
/// it is wrong.
#[utoipa::path(post, path = "/api/v1/me/leave-couple", tag = "data rights", security(("bearer" = [])), request_body = DeleteRequest,
    responses((status = 204, description = "Left"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, description = "No password, or a wrong one", body = ErrorBody)))]
pub async fn leave_couple(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    ApiJsonOrEmpty(request): ApiJsonOrEmpty<DeleteRequest>,
) -> AppResult<StatusCode> {
    rights::leave_couple(
        &state,
        &user,
        request.password.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign out on every device, this one included.
#[utoipa::path(post, path = "/api/v1/auth/logout-all", tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "Signed out everywhere"), (status = 401, body = ErrorBody)))]
pub async fn logout_all(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<StatusCode> {
    rights::sign_out_everywhere(&state, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
