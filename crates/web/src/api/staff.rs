//! The practice admin's staff work: who works here, removing access when
//! someone leaves, resetting a lost second step, giving a couple to another
//! therapist. Every action is audited.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trellis_core::CoupleId;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::session::{AdminUser, RoleUser};
use crate::error::AppResult;
use crate::extract::{ApiJson, Path};
use crate::services::practice;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct StaffJson {
    pub id: String,
    pub name: String,
    pub email: String,
    /// `therapist` or `admin`.
    pub role: String,
    /// False once their access was removed.
    pub active: bool,
    pub two_factor: bool,
}

#[derive(Serialize, ToSchema)]
pub struct StaffList {
    pub staff: Vec<StaffJson>,
}

/// Everyone who works or worked at the admin's practice.
#[utoipa::path(get, path = "/api/v1/practice/staff", tag = "practice", security(("bearer" = [])),
    responses((status = 200, body = StaffList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    RoleUser(admin): AdminUser,
) -> AppResult<Json<StaffList>> {
    let staff = practice::staff(&state, &admin)
        .await?
        .into_iter()
        .map(|person| StaffJson {
            id: person.id.into_string(),
            name: person.name,
            email: person.email,
            role: person.role.to_string(),
            active: person.active,
            two_factor: person.two_factor,
        })
        .collect();
    Ok(Json(StaffList { staff }))
}

/// Removes a therapist's or admin's access at once: their sessions and
/// tokens stop working and sign-in is refused.
#[utoipa::path(post, path = "/api/v1/practice/staff/{user_id}/deactivate", tag = "practice", security(("bearer" = [])),
    params(("user_id" = String, Path)),
    responses((status = 204, description = "Access removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Yourself, or the last admin", body = ErrorBody)))]
pub async fn deactivate(
    State(state): State<AppState>,
    RoleUser(admin): AdminUser,
    Path(user_id): Path<String>,
) -> AppResult<StatusCode> {
    practice::deactivate_staff(&state, &admin, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resets a colleague's two-step sign-in (a lost phone).
#[utoipa::path(post, path = "/api/v1/practice/staff/{user_id}/two-factor/reset", tag = "practice", security(("bearer" = [])),
    params(("user_id" = String, Path)),
    responses((status = 204, description = "Two-step sign-in reset; their sessions ended"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_two_factor(
    State(state): State<AppState>,
    RoleUser(admin): AdminUser,
    Path(user_id): Path<String>,
) -> AppResult<StatusCode> {
    practice::reset_two_factor(&state, &admin, &user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct MoveCouple {
    pub therapist_id: String,
}

/// Gives a couple of the practice to another of its therapists.
#[utoipa::path(post, path = "/api/v1/couples/{id}/therapist", tag = "practice", security(("bearer" = [])), request_body = MoveCouple,
    params(("id" = String, Path)),
    responses((status = 204, description = "The couple's therapist changed"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_couple(
    State(state): State<AppState>,
    RoleUser(admin): AdminUser,
    Path(id): Path<CoupleId>,
    ApiJson(request): ApiJson<MoveCouple>,
) -> AppResult<StatusCode> {
    practice::move_couple(&state, &admin, &id, &request.therapist_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
