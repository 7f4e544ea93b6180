//! Screening before joint work: the therapist's decisions and safety panel,
//! the partner's view of shared work and their own pause, and the practice's
//! safety settings.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use trellis_core::CoupleId;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::session::{AdminUser, PartnerUser, RoleUser, TherapistUser};
use crate::error::AppResult;
use crate::extract::{ApiJson, Path};
use crate::services::safety::{self, DecisionInput, DecisionRecorded, ScreeningPanel, SharedWork};
use crate::state::AppState;

/// Records the therapist's decision after talking with one partner alone.
/// Shared work opens once both partners have `conjoint_ok` and no urgent
/// flag waits.
#[utoipa::path(post, path = "/api/v1/couples/{id}/screening", tag = "safety", security(("bearer" = [])), request_body = DecisionInput,
    params(("id" = String, Path)),
    responses((status = 201, body = DecisionRecorded), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn decide(
    State(state): State<AppState>,
    RoleUser(therapist): TherapistUser,
    Path(id): Path<CoupleId>,
    ApiJson(request): ApiJson<DecisionInput>,
) -> AppResult<(StatusCode, Json<DecisionRecorded>)> {
    Ok((
        StatusCode::CREATED,
        Json(safety::decide(&state, &therapist, &id, &request).await?),
    ))
}

/// The couple's screening: each partner's latest safety check item by item,
/// the decisions, and the flags with who may be at risk.
#[utoipa::path(get, path = "/api/v1/couples/{id}/screening", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ScreeningPanel), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn panel(
    State(state): State<AppState>,
    RoleUser(therapist): TherapistUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<ScreeningPanel>> {
    Ok(Json(safety::panel(&state, &therapist, &id).await?))
}

/// Asks both partners to take the safety check again.
#[utoipa::path(post, path = "/api/v1/couples/{id}/rescreen", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn rescreen(
    State(state): State<AppState>,
    RoleUser(therapist): TherapistUser,
    Path(id): Path<CoupleId>,
) -> AppResult<StatusCode> {
    safety::request_rescreen(&state, &therapist, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether shared work is open, as the partner sees it (the same for both).
#[utoipa::path(get, path = "/api/v1/shared-work", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = SharedWork), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn shared_work(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
) -> AppResult<Json<SharedWork>> {
    Ok(Json(safety::shared_work(&state, &partner).await?))
}

/// Closes shared work for now, without a reason; only the same partner
/// opens it again.
#[utoipa::path(post, path = "/api/v1/shared-work/pause", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = SharedWork), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
) -> AppResult<Json<SharedWork>> {
    safety::pause(&state, &partner).await?;
    Ok(Json(safety::shared_work(&state, &partner).await?))
}

/// Lifts the partner's own pause.
#[utoipa::path(post, path = "/api/v1/shared-work/resume", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = SharedWork), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
) -> AppResult<Json<SharedWork>> {
    safety::resume(&state, &partner).await?;
    Ok(Json(safety::shared_work(&state, &partner).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SafetySettings {
    /// Shown word for word to a client whose answer or writing raised a
    /// flag, e.g. "Flags are read on working days, 9 to 5". Empty: a
    /// built-in wording that promises nothing more than is true.
    pub response_promise: String,
    /// How often the safety check comes back, in weeks (1 to 52).
    pub rescreen_weeks: i64,
}

/// The practice's safety settings.
#[utoipa::path(patch, path = "/api/v1/practice/safety", tag = "practice", security(("bearer" = [])), request_body = SafetySettings,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn settings(
    State(state): State<AppState>,
    RoleUser(admin): AdminUser,
    ApiJson(request): ApiJson<SafetySettings>,
) -> AppResult<StatusCode> {
    safety::change_practice_settings(
        &state,
        &admin,
        &request.response_promise,
        request.rescreen_weeks,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a partner is told after asking for their therapist to know.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Told {
    /// What happens next, in the practice's own words.
    pub message: String,
}

/// Lets the partner's therapist know they may not be safe: the same flag and
/// private notice as crisis language raises, at the partner's own request
/// (after a possible sign, `possible_crisis` on a new entry, or whenever
/// they choose). The notice names no words; the other partner is not told.
#[utoipa::path(post, path = "/api/v1/safety/tell-therapist", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = Told), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, description = "The couple has no therapist on Trellis", body = ErrorBody)))]
pub async fn tell_therapist(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
) -> AppResult<Json<Told>> {
    Ok(Json(Told {
        message: safety::tell_therapist(&state, &partner).await?,
    }))
}
