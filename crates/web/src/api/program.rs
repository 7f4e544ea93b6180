use std::collections::BTreeMap;
use trellis_core::CoupleId;

use crate::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::auth::session::{PartnerUser, RoleUser, TherapistUser};
use crate::error::{AppError, AppResult};
use crate::extract::ApiJson;
use crate::services::onboarding::{self, SafetyOutcome};
use crate::services::program::{self, AnswerInput, Responses};
use crate::services::situation;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ProgramExercise {
    pub id: String,
    pub title: String,
    /// `reflection`, `rating`, `paired`, `reflect_back`, `checklist` or `goals`.
    pub kind: String,
    pub minutes: u32,
    pub why: String,
    /// The prompt as the caller reads it: their role's wording when one
    /// partner was hurt by the other, the shared wording otherwise.
    pub prompt: Option<String>,
    pub prompt_speaker: Option<String>,
    pub prompt_listener: Option<String>,
    /// Offered "when you are ready".
    pub optional: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ProgramStage {
    pub id: String,
    pub title: String,
    pub order: u32,
    pub exercises: Vec<ProgramExercise>,
}

#[derive(Serialize, ToSchema)]
pub struct ProgramJson {
    pub id: String,
    pub title: String,
    pub stages: Vec<ProgramStage>,
}

/// The program the caller's couple follows (the default program for staff).
#[utoipa::path(get, path = "/api/v1/program", tag = "program", security(("bearer" = [])),
    responses((status = 200, body = ProgramJson), (status = 401, body = ErrorBody)))]
pub async fn get_program(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<ProgramJson>> {
    let (program, situation, role) = match user.couple_id.as_ref() {
        Some(couple_id) => {
            let couple = state.store().couple(couple_id).await?;
            let (situation, role) = situation::for_viewer(&state, &user, couple_id).await?;
            (
                program::program_for(&state, &couple).await?.0,
                situation,
                role,
            )
        }
        None => (state.content().default_program(), None, None),
    };
    Ok(Json(ProgramJson {
        id: program.id.clone(),
        title: program.title.clone(),
        stages: program
            .stages
            .iter()
            .map(|s| ProgramStage {
                id: s.id.clone(),
                title: s.title.clone(),
                order: s.order,
                exercises: s
                    .exercises
                    .iter()
                    .filter(|e| e.shown_in(situation))
                    .map(|e| {
                        let e = e.worded_for(role);
                        ProgramExercise {
                            kind: e.kind.as_str().to_owned(),
                            minutes: e.minutes,
                            optional: e.optional,
                            id: e.id,
                            title: e.title,
                            why: e.why,
                            prompt: e.prompt,
                            prompt_speaker: e.prompt_speaker,
                            prompt_listener: e.prompt_listener,
                        }
                    })
                    .collect(),
            })
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CreatedId {
    pub id: String,
}

/// Answer an exercise (partners). Fields by kind: `body` (reflection, paired,
/// reflect_back), `ratings` (rating), `checked` (checklist), `goals` (goals);
/// `audience` for who may see it; `move` for reflect-back steps.
#[utoipa::path(post, path = "/api/v1/exercises/{id}/responses", tag = "program", security(("bearer" = [])), request_body = AnswerInput,
    params(("id" = String, Path)),
    responses((status = 201, body = CreatedId), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not open yet, paused, or out of turn", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn answer(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AnswerInput>,
) -> AppResult<(StatusCode, Json<CreatedId>)> {
    let id = program::answer(&state, &partner, &id, input).await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })))
}

/// The responses of the caller's couple that the caller may see; a paired
/// answer of the partner appears once the caller has answered too.
#[utoipa::path(get, path = "/api/v1/exercises/{id}/responses", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Responses), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn responses(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    Path(id): Path<String>,
) -> AppResult<Json<Responses>> {
    Ok(Json(program::responses(&state, &partner, &id).await?))
}

/// Where a couple is: stages open or not, what each partner has done, homework.
#[utoipa::path(get, path = "/api/v1/couples/{id}/journey", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = program::Journey), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn journey(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<program::Journey>> {
    Ok(Json(program::journey(&state, &user, &id).await?))
}

/// The couple's situation and the viewer's role in it.
#[utoipa::path(get, path = "/api/v1/couples/{id}/situation", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = situation::SituationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_situation(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<situation::SituationView>> {
    Ok(Json(situation::view(&state, &user, &id).await?))
}

/// Sets the couple's situation: `one_hurt` (with `hurt_partner_id`),
/// `both_hurt` or `eroded`. The couple's therapist sets it; each partner of a
/// self-guided couple says what they think, and it holds once both agree.
#[utoipa::path(post, path = "/api/v1/couples/{id}/situation", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = situation::SituationInput,
    responses((status = 200, body = situation::SituationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A guided couple's therapist sets it", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_situation(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
    ApiJson(request): ApiJson<situation::SituationInput>,
) -> AppResult<Json<situation::SituationView>> {
    Ok(Json(situation::set(&state, &user, &id, &request).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct AssignRequest {
    pub exercise_id: Option<String>,
    /// YYYY-MM-DD.
    pub due: Option<String>,
    pub note: Option<String>,
}

/// Assign an exercise as homework (the couple's therapist).
#[utoipa::path(post, path = "/api/v1/couples/{id}/assignments", tag = "program", security(("bearer" = [])), request_body = AssignRequest,
    params(("id" = String, Path)),
    responses((status = 201, body = CreatedId), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    RoleUser(therapist): TherapistUser,
    Path(id): Path<CoupleId>,
    ApiJson(request): ApiJson<AssignRequest>,
) -> AppResult<(StatusCode, Json<CreatedId>)> {
    program::couple_for(&state, &therapist, &id).await?;
    let exercise = request
        .exercise_id
        .ok_or_else(|| AppError::invalid("exercise_id", "Please choose an exercise."))?;
    let assignment = program::assign(
        &state,
        &therapist,
        &id,
        &exercise,
        request.due.as_deref(),
        request.note.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id: assignment.id })))
}

/// Open a stage for the couple (the couple's therapist).
#[utoipa::path(post, path = "/api/v1/couples/{id}/stages/{stage_id}/unlock", tag = "program", security(("bearer" = [])),
    params(("id" = String, Path), ("stage_id" = String, Path)),
    responses((status = 204, description = "Open"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn unlock(
    State(state): State<AppState>,
    RoleUser(therapist): TherapistUser,
    Path((id, stage)): Path<(trellis_core::CoupleId, String)>,
) -> AppResult<StatusCode> {
    program::unlock_stage(&state, &therapist, &id, &stage).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct OnboardingJson {
    pub welcomed: bool,
    pub scores_consent: bool,
    pub safety_done: bool,
    pub complete: bool,
    pub safety_questions: Vec<SafetyQuestion>,
}

#[derive(Serialize, ToSchema)]
pub struct SafetyQuestion {
    pub id: String,
    pub text: String,
}

/// Where the caller's onboarding stands, and the safety questions.
#[utoipa::path(get, path = "/api/v1/onboarding", tag = "program", security(("bearer" = [])),
    responses((status = 200, body = OnboardingJson), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn onboarding_status(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
) -> AppResult<Json<OnboardingJson>> {
    let status = onboarding::status(&state, &partner).await?;
    Ok(Json(OnboardingJson {
        complete: status.complete(),
        welcomed: status.welcomed,
        scores_consent: status.scores_consent,
        safety_done: status.safety_done,
        safety_questions: state
            .content()
            .safety
            .questions
            .iter()
            .map(|q| SafetyQuestion {
                id: q.id.clone(),
                text: q.text.clone(),
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct WelcomeRequest {
    /// The partner agrees that their therapist may see their check-in scores.
    #[serde(default)]
    pub scores_consent: bool,
}

/// Record that the welcome was read, and the consent choice.
#[utoipa::path(post, path = "/api/v1/onboarding/welcome", tag = "program", security(("bearer" = [])), request_body = WelcomeRequest,
    responses((status = 204, description = "Recorded"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn welcome(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    ApiJson(request): ApiJson<WelcomeRequest>,
) -> AppResult<StatusCode> {
    onboarding::welcome(&state, &partner, request.scores_consent).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct SafetyRequest {
    /// Question id → "yes" or "no".
    #[serde(default)]
    pub answers: BTreeMap<String, String>,
}

/// The private safety check. Never shown to the partner.
#[utoipa::path(post, path = "/api/v1/onboarding/safety", tag = "program", security(("bearer" = [])), request_body = SafetyRequest,
    responses((status = 200, body = SafetyOutcome), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn safety(
    State(state): State<AppState>,
    RoleUser(partner): PartnerUser,
    ApiJson(request): ApiJson<SafetyRequest>,
) -> AppResult<Json<SafetyOutcome>> {
    Ok(Json(
        onboarding::submit_safety(&state, &partner, &request.answers).await?,
    ))
}
