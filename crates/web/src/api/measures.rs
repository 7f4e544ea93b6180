use std::collections::BTreeMap;
use trellis_app::Error as DomainError;
use trellis_core::CoupleId;

use crate::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trellis_core::measures::Instrument;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::auth::session::{PartnerUser, RoleUser};
use crate::error::{AppError, AppResult};
use crate::extract::ApiJson;
use crate::services::measures::{self, MeasureResult, MyMeasures, Progress};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct OptionJson {
    pub value: i64,
    pub label: String,
}

#[derive(Serialize, ToSchema)]
pub struct ItemJson {
    pub id: String,
    pub text: String,
    /// In the order the form shows them, left to right.
    pub options: Vec<OptionJson>,
}

#[derive(Serialize, ToSchema)]
pub struct InstrumentJson {
    pub id: String,
    pub title: String,
    /// `validated` or `check_in`.
    pub kind: String,
    pub citation: String,
    pub licence: String,
    pub range: (i64, i64),
    pub cutoff: Option<f64>,
    /// Reliable-change parameters exist (with their source).
    pub reliable_change_available: bool,
    pub note: bool,
    pub items: Vec<ItemJson>,
}

impl From<&Instrument> for InstrumentJson {
    fn from(i: &Instrument) -> Self {
        Self {
            id: i.id.clone(),
            title: i.title.clone(),
            kind: match i.kind {
                trellis_core::measures::InstrumentKind::Validated => "validated".to_owned(),
                trellis_core::measures::InstrumentKind::CheckIn => "check_in".to_owned(),
            },
            citation: i.citation.clone(),
            licence: i.licence.clone(),
            range: i.range,
            cutoff: i.cutoff,
            reliable_change_available: i.psychometrics.is_some(),
            note: i.note,
            items: i
                .items
                .iter()
                .map(|item| ItemJson {
                    id: item.id.clone(),
                    text: item.text.clone(),
                    options: item
                        .options
                        .iter()
                        .map(|o| OptionJson {
                            value: o.value,
                            label: o.label.clone(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InstrumentList {
    pub instruments: Vec<InstrumentJson>,
}

/// The measures and check-ins (`csi16`, `csi4`, `trust-pulse`).
#[utoipa::path(get, path = "/api/v1/instruments", tag = "measures", security(("bearer" = [])),
    responses((status = 200, body = InstrumentList), (status = 401, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, _user: CurrentUser) -> Json<InstrumentList> {
    Json(InstrumentList {
        instruments: state
            .content()
            .instruments
            .iter()
            .map(InstrumentJson::from)
            .collect(),
    })
}

/// One instrument with its items and answer options.
#[utoipa::path(get, path = "/api/v1/instruments/{id}", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = InstrumentJson), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<InstrumentJson>> {
    let instrument = state
        .content()
        .instrument(&id)
        .ok_or(AppError::Domain(DomainError::NotFound))?;
    Ok(Json(instrument.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct MeasureRequest {
    /// Item id → option value.
    #[serde(default)]
    pub answers: BTreeMap<String, i64>,
    /// A private note (check-ins that allow one); only the author sees it.
    pub note: Option<String>,
}

/// Take a measure (partners). Invalid answers → 422 naming the item; nothing is half-saved.
#[utoipa::path(post, path = "/api/v1/measures/{instrument}", tag = "measures", security(("bearer" = [])), request_body = MeasureRequest,
    params(("instrument" = String, Path)),
    responses((status = 201, body = MeasureResult), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    Path(instrument): Path<String>,
    ApiJson(request): ApiJson<MeasureRequest>,
) -> AppResult<(StatusCode, Json<MeasureResult>)> {
    let result = measures::submit(
        &state,
        &partner,
        &instrument,
        &request.answers,
        request.note.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(result)))
}

/// The caller's results over time, what is due, and the partner's results if shared.
#[utoipa::path(get, path = "/api/v1/me/measures", tag = "measures", security(("bearer" = [])),
    responses((status = 200, body = MyMeasures), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn mine(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
) -> AppResult<Json<MyMeasures>> {
    Ok(Json(measures::mine(&state, &partner).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct SharingRequest {
    #[serde(default)]
    pub therapist: bool,
    #[serde(default)]
    pub partner: bool,
}

/// Who may see the caller's scores (recorded, with the time).
#[utoipa::path(post, path = "/api/v1/me/measures/sharing", tag = "measures", security(("bearer" = [])), request_body = SharingRequest,
    responses((status = 204, description = "Recorded"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn sharing(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    ApiJson(request): ApiJson<SharingRequest>,
) -> AppResult<StatusCode> {
    measures::set_sharing(&state, &partner, request.therapist, request.partner).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Both partners side by side (each only under their own consent), with alerts for the therapist.
#[utoipa::path(get, path = "/api/v1/couples/{id}/progress", tag = "measures", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Progress), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn progress(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<Progress>> {
    Ok(Json(measures::progress(&state, &user, &id).await?))
}
