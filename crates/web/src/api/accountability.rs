use crate::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trellis_core::CoupleId;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::auth::session::{PartnerUser, RoleUser};
use crate::error::{AppError, AppResult};
use crate::extract::ApiJson;
use crate::services::accountability::{self, AgreementView, Consistency, Milestone, PromiseView};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct CommitmentRequest {
    pub text: Option<String>,
    /// `once`, `daily` or `weekly`.
    pub cadence: Option<String>,
    /// Weekly: weekdays, e.g. `["mon","thu"]`.
    #[serde(default)]
    pub days: Vec<String>,
    /// Once: YYYY-MM-DD.
    pub due: Option<String>,
    /// Renegotiating: the promise this one replaces (its history is kept).
    pub replaces: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: String,
    /// A gentle hint when the promise sounds vague.
    pub hint: Option<String>,
}

/// Make a promise to the partner.
#[utoipa::path(post, path = "/api/v1/commitments", tag = "accountability", security(("bearer" = [])), request_body = CommitmentRequest,
    responses((status = 201, body = Created), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn commit(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    ApiJson(r): ApiJson<CommitmentRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let text = r.text.unwrap_or_default();
    let cadence = accountability::parse_cadence(
        r.cadence.as_deref().unwrap_or_default(),
        &r.days,
        r.due.as_deref(),
    )?;
    let id = accountability::make_promise(&state, &partner, &text, cadence, r.replaces.as_deref())
        .await?;
    let hint = trellis_core::consistency::vagueness_hint(&text).map(str::to_owned);
    Ok((StatusCode::CREATED, Json(Created { id, hint })))
}

#[derive(Deserialize, ToSchema)]
pub struct MarkRequest {
    /// YYYY-MM-DD; today when left out.
    pub date: Option<String>,
    /// For "I noticed": a word of thanks.
    pub thanks: Option<String>,
}

/// The one who promised: kept, for a day.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/kept", tag = "accountability", security(("bearer" = [])), request_body = MarkRequest,
    params(("id" = String, Path)),
    responses((status = 204, description = "Marked"), (status = 403, description = "Not your promise", body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn kept(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<MarkRequest>,
) -> AppResult<StatusCode> {
    accountability::kept(&state, &partner, &id, r.date.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The partner: "I noticed" (the owner gets 403).
#[utoipa::path(post, path = "/api/v1/commitments/{id}/noticed", tag = "accountability", security(("bearer" = [])), request_body = MarkRequest,
    params(("id" = String, Path)),
    responses((status = 204, description = "Noticed"), (status = 403, description = "Your own promise", body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn noticed(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<MarkRequest>,
) -> AppResult<StatusCode> {
    accountability::noticed(
        &state,
        &partner,
        &id,
        r.date.as_deref(),
        r.thanks.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct StatusRequest {
    /// `active`, `paused` or `ended`.
    pub status: Option<String>,
}

/// Pause, resume or end a promise (its owner).
#[utoipa::path(post, path = "/api/v1/commitments/{id}/status", tag = "accountability", security(("bearer" = [])), request_body = StatusRequest,
    params(("id" = String, Path)),
    responses((status = 204, description = "Changed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn status(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<StatusRequest>,
) -> AppResult<StatusCode> {
    accountability::set_status(
        &state,
        &partner,
        &id,
        r.status.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct CommitmentList {
    pub commitments: Vec<PromiseView>,
}

/// The couple's promises (both partners and their therapist).
#[utoipa::path(get, path = "/api/v1/couples/{id}/commitments", tag = "accountability", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CommitmentList), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<CommitmentList>> {
    Ok(Json(CommitmentList {
        commitments: accountability::promises(&state, &user, &id).await?,
    }))
}

/// Follow-through and noticed rates per partner over four weeks, with the trend.
#[utoipa::path(get, path = "/api/v1/couples/{id}/consistency", tag = "accountability", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Consistency), (status = 404, body = ErrorBody)))]
pub async fn consistency(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<Consistency>> {
    Ok(Json(accountability::consistency(&state, &user, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AgreementRequest {
    pub title: Option<String>,
    pub text: Option<String>,
    /// A new version of an agreement (needs both again).
    pub replaces: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AgreementStatus {
    pub id: String,
    /// `proposed`, `agreed`, `superseded`.
    pub status: String,
}

/// Propose a boundary agreement; in force once the other partner accepts.
#[utoipa::path(post, path = "/api/v1/agreements", tag = "accountability", security(("bearer" = [])), request_body = AgreementRequest,
    responses((status = 201, body = AgreementStatus), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn propose(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    ApiJson(r): ApiJson<AgreementRequest>,
) -> AppResult<(StatusCode, Json<AgreementStatus>)> {
    let id = accountability::propose_agreement(
        &state,
        &partner,
        r.title.as_deref().unwrap_or_default(),
        r.text.as_deref().unwrap_or_default(),
        r.replaces.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(AgreementStatus {
            id,
            status: "proposed".to_owned(),
        }),
    ))
}

/// The other partner accepts (the proposer gets 403).
#[utoipa::path(post, path = "/api/v1/agreements/{id}/accept", tag = "accountability", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = AgreementStatus), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    Path(id): Path<String>,
) -> AppResult<Json<AgreementStatus>> {
    accountability::accept_agreement(&state, &partner, &id).await?;
    Ok(Json(AgreementStatus {
        id,
        status: "agreed".to_owned(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AgreementList {
    pub agreements: Vec<AgreementView>,
}

/// The couple's agreements with their history (who agreed to what, when).
#[utoipa::path(get, path = "/api/v1/couples/{id}/agreements", tag = "accountability", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = AgreementList), (status = 404, body = ErrorBody)))]
pub async fn agreements(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<AgreementList>> {
    Ok(Json(AgreementList {
        agreements: accountability::agreements(&state, &user, &id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct AppreciationRequest {
    pub body: Option<String>,
    /// Also let the therapist read it.
    #[serde(default)]
    pub share_with_therapist: bool,
}

/// A note of thanks or admiration to the partner.
#[utoipa::path(post, path = "/api/v1/appreciations", tag = "accountability", security(("bearer" = [])), request_body = AppreciationRequest,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn appreciate(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    ApiJson(r): ApiJson<AppreciationRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let body = r
        .body
        .ok_or_else(|| AppError::invalid("body", "Please write your note of thanks."))?;
    let id = accountability::appreciate(&state, &partner, &body, r.share_with_therapist).await?;
    Ok((StatusCode::CREATED, Json(Created { id, hint: None })))
}

#[derive(Serialize, ToSchema)]
pub struct MilestoneList {
    pub milestones: Vec<Milestone>,
}

/// Milestones computed from the data.
#[utoipa::path(get, path = "/api/v1/couples/{id}/milestones", tag = "accountability", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = MilestoneList), (status = 404, body = ErrorBody)))]
pub async fn milestones(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<MilestoneList>> {
    Ok(Json(MilestoneList {
        milestones: accountability::milestones(&state, &user, &id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct OpennessRequest {
    pub body: Option<String>,
    /// `me` (default), `therapist`, `partner` or `partner_and_therapist`.
    pub audience: Option<String>,
}

/// Record an act of openness in the log (audiences as for all writing).
#[utoipa::path(post, path = "/api/v1/openness", tag = "accountability", security(("bearer" = [])), request_body = OpennessRequest,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn openness(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    ApiJson(r): ApiJson<OpennessRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let audience = crate::services::writing::parse_audience("audience", r.audience.as_deref())?;
    let id = accountability::record_openness(
        &state,
        &partner,
        r.body.as_deref().unwrap_or_default(),
        audience,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id, hint: None })))
}

#[derive(Serialize, ToSchema)]
pub struct OpennessList {
    pub entries: Vec<super::entries::EntryJson>,
}

/// The openness log entries the caller may see.
#[utoipa::path(get, path = "/api/v1/openness", tag = "accountability", security(("bearer" = [])),
    responses((status = 200, body = OpennessList), (status = 401, body = ErrorBody)))]
pub async fn openness_log(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<OpennessList>> {
    let entries = crate::services::writing::list(
        &state,
        &user,
        trellis_store::EntryFilter {
            kind: Some(accountability::OPENNESS),
            ..trellis_store::EntryFilter::default()
        },
    )
    .await?;
    Ok(Json(OpennessList {
        entries: entries
            .into_iter()
            .map(|e| super::entries::EntryJson::at(e, state.now()))
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ContextRequest {
    /// YYYY-MM-DD; today when left out.
    pub date: Option<String>,
    pub body: Option<String>,
    /// `me` (default) or `therapist`.
    pub audience: Option<String>,
}

/// The owner adds context to a missed day, privately or for the therapist.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/context", tag = "accountability", security(("bearer" = [])), request_body = ContextRequest,
    params(("id" = String, Path)),
    responses((status = 204, description = "Saved"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn context(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ContextRequest>,
) -> AppResult<StatusCode> {
    let audience = crate::services::writing::parse_audience("audience", r.audience.as_deref())?;
    accountability::missed_context(
        &state,
        &partner,
        &id,
        r.date.as_deref(),
        r.body.as_deref().unwrap_or_default(),
        audience,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start a ritual of connection: a shared moment either partner ticks off.
#[utoipa::path(post, path = "/api/v1/rituals", tag = "accountability", security(("bearer" = [])), request_body = CommitmentRequest,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ritual(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    ApiJson(r): ApiJson<CommitmentRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let cadence = accountability::parse_cadence(
        r.cadence.as_deref().unwrap_or_default(),
        &r.days,
        r.due.as_deref(),
    )?;
    let id = accountability::make_ritual(
        &state,
        &partner,
        r.text.as_deref().unwrap_or_default(),
        cadence,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id, hint: None })))
}

#[derive(Deserialize, ToSchema)]
pub struct ProposalRequest {
    /// Which partner the promise is for.
    pub partner_id: Option<String>,
    pub text: Option<String>,
    pub cadence: Option<String>,
    #[serde(default)]
    pub days: Vec<String>,
    pub due: Option<String>,
}

/// The couple's therapist suggests a promise; the partner takes it on (or not).
#[utoipa::path(post, path = "/api/v1/couples/{id}/proposals", tag = "accountability", security(("bearer" = [])), request_body = ProposalRequest,
    params(("id" = String, Path)),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn propose_promise(
    State(state): State<AppState>,
    RoleUser(therapist): crate::auth::session::TherapistUser,
    Path(id): Path<CoupleId>,
    ApiJson(r): ApiJson<ProposalRequest>,
) -> AppResult<(StatusCode, Json<Created>)> {
    crate::services::program::couple_for(&state, &therapist, &id).await?;
    let cadence = accountability::parse_cadence(
        r.cadence.as_deref().unwrap_or_default(),
        &r.days,
        r.due.as_deref(),
    )?;
    let created = accountability::propose_promise(
        &state,
        &therapist,
        &id,
        r.partner_id.as_deref().unwrap_or_default(),
        r.text.as_deref().unwrap_or_default(),
        cadence,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: created,
            hint: None,
        }),
    ))
}

/// The partner takes on a promise their therapist suggested.
#[utoipa::path(post, path = "/api/v1/commitments/{id}/accept", tag = "accountability", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Taken on"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_proposal(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    Path(id): Path<String>,
) -> AppResult<StatusCode> {
    accountability::accept_proposal(&state, &partner, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
