//! The public side of a practice (its page, the "is it time?" self-check) and
//! the intake inbox.

use crate::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trellis_core::intake::IntakeInput;
use trellis_store::{IntakeRow, Practice};
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::extract::{ApiJson, ClientAddr};
use crate::services::couples::Invitee;
use crate::services::intake::{self, Origin};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct PracticeJson {
    pub id: String,
    pub name: String,
    pub description: String,
    pub contact: String,
    pub time_zone: String,
    pub therapists: Vec<String>,
    /// The regions whose helplines the practice shows (ids from
    /// `helplines.toml`, separated by commas).
    pub helpline_region: String,
}

async fn practice_json(state: &AppState, practice: Practice) -> AppResult<PracticeJson> {
    let therapists = state
        .store()
        .therapists(&practice.id)
        .await?
        .into_iter()
        .map(|t| t.user.name)
        .collect();
    Ok(PracticeJson {
        id: practice.id,
        name: practice.name,
        description: practice.description,
        contact: practice.contact,
        time_zone: practice.time_zone,
        therapists,
        helpline_region: practice.helpline_region,
    })
}

#[derive(Serialize, ToSchema)]
pub struct PracticeList {
    pub practices: Vec<PracticeJson>,
}

/// The practices on this Trellis, as their public pages show them.
#[utoipa::path(get, path = "/api/v1/practices", tag = "practice", responses((status = 200, body = PracticeList)))]
pub async fn practices(State(state): State<AppState>) -> AppResult<Json<PracticeList>> {
    let mut practices = Vec::new();
    for practice in state.store().practices().await? {
        practices.push(practice_json(&state, practice).await?);
    }
    Ok(Json(PracticeList { practices }))
}

#[derive(Serialize, ToSchema)]
pub struct SelfCheckJson {
    pub title: String,
    pub intro: String,
    /// The answers each sign takes, 0 to 3.
    pub scale: Vec<String>,
    pub signs: Vec<SignJson>,
    pub safety_question: String,
    pub not_a_diagnosis: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignJson {
    pub id: String,
    pub text: String,
}

/// The "is it time for couples therapy?" self-check: its questions.
#[utoipa::path(get, path = "/api/v1/self-check", tag = "practice", responses((status = 200, body = SelfCheckJson)))]
pub async fn self_check(State(state): State<AppState>) -> Json<SelfCheckJson> {
    let check = &state.content().self_check;
    Json(SelfCheckJson {
        title: check.title.clone(),
        intro: check.intro.clone(),
        scale: trellis_core::selfcheck::SCALE
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        signs: check
            .signs
            .iter()
            .map(|s| SignJson {
                id: s.id.clone(),
                text: s.text.clone(),
            })
            .collect(),
        safety_question: check.safety_question.clone(),
        not_a_diagnosis: check.not_a_diagnosis.clone(),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct SelfCheckAnswers {
    /// Sign id → 0 (rarely or never) to 3 (most of the time).
    #[serde(default)]
    pub answers: std::collections::HashMap<String, u32>,
    /// The answer to the safety question.
    #[serde(default)]
    pub feels_unsafe: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SelfCheckReading {
    pub title: String,
    pub body: String,
    pub percent: u32,
    pub not_a_diagnosis: String,
    /// Present when the safety question was answered yes: where to get help now.
    pub safety: Option<String>,
}

/// Reads the answers back. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/self-check", tag = "practice", request_body = SelfCheckAnswers,
    responses((status = 200, body = SelfCheckReading), (status = 422, body = ErrorBody)))]
pub async fn self_check_reading(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SelfCheckAnswers>,
) -> Json<SelfCheckReading> {
    let check = &state.content().self_check;
    let outcome = check.outcome(|id| request.answers.get(id).copied(), request.feels_unsafe);
    Json(SelfCheckReading {
        title: outcome.reading.title.clone(),
        body: outcome.reading.body.clone(),
        percent: outcome.percent,
        not_a_diagnosis: check.not_a_diagnosis.clone(),
        safety: outcome.safety_concern.then(|| check.safety_body.clone()),
    })
}

/// `names` may be one string ("Maya and Leo") or a list of names.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Names {
    One(String),
    Several(Vec<String>),
}

impl Names {
    fn joined(&self) -> String {
        match self {
            Names::One(names) => names.clone(),
            Names::Several(names) => names
                .iter()
                .map(|n| n.trim())
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
                .join(" and "),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct IntakeRequestJson {
    pub names: Option<Names>,
    pub email: Option<String>,
    /// The other partner's address, if they want their own invitation.
    pub partner_email: Option<String>,
    pub preferred_times: Option<String>,
    pub message: Option<String>,
    /// Which practice; the first one when missing.
    pub practice_id: Option<String>,
    /// Leave empty: a field only robots fill in.
    pub website: Option<String>,
    /// "We'd like to be seen separately first": accepting then invites only
    /// the person who wrote.
    #[serde(default)]
    pub seen_separately: bool,
    /// A safe way to contact the person who wrote, e.g. "email only, not my phone".
    pub safe_contact: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IntakeReceived {
    pub received: bool,
    pub message: String,
}

/// A visitor asks for a first appointment (rate-limited per address).
#[utoipa::path(post, path = "/api/v1/intake", tag = "practice", request_body = IntakeRequestJson,
    responses((status = 201, body = IntakeReceived), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(request): ApiJson<IntakeRequestJson>,
) -> AppResult<(StatusCode, Json<IntakeReceived>)> {
    let practice = intake::practice_for_requests(&state, request.practice_id.as_deref()).await?;
    let names = request
        .names
        .as_ref()
        .map(Names::joined)
        .unwrap_or_default();
    intake::submit(
        &state,
        &practice,
        IntakeInput {
            names: &names,
            email: request.email.as_deref().unwrap_or_default(),
            partner_email: request.partner_email.as_deref().unwrap_or_default(),
            preferred_times: request.preferred_times.as_deref().unwrap_or_default(),
            message: request.message.as_deref().unwrap_or_default(),
            seen_separately: request.seen_separately,
            safe_contact: request.safe_contact.as_deref().unwrap_or_default(),
        },
        Origin::Api {
            honeypot: request.website.as_deref().unwrap_or_default(),
        },
        client,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(IntakeReceived {
            received: true,
            message: format!("Thank you. {} will reply by email.", practice.name),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct IntakeJson {
    pub id: String,
    pub names: String,
    pub email: String,
    pub partner_email: String,
    pub preferred_times: String,
    pub message: String,
    /// `new`, `replied`, `accepted` or `declined`.
    pub status: String,
    pub created_at: i64,
    pub couple_id: Option<String>,
    pub reply: String,
    /// They asked to be seen separately first.
    pub seen_separately: bool,
    /// A safe way to contact the person who wrote; empty when not given.
    pub safe_contact: String,
}

impl From<IntakeRow> for IntakeJson {
    fn from(row: IntakeRow) -> Self {
        Self {
            id: row.id,
            names: row.names,
            email: row.email,
            partner_email: row.partner_email,
            preferred_times: row.preferred_times,
            message: row.message,
            status: row.status,
            created_at: row.created_at,
            couple_id: row.couple_id,
            reply: row.reply,
            seen_separately: row.seen_separately,
            safe_contact: row.safe_contact,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct IntakeList {
    pub requests: Vec<IntakeJson>,
}

/// The practice's intake inbox (admins and therapists): open requests first.
#[utoipa::path(get, path = "/api/v1/intake", tag = "practice", security(("bearer" = [])),
    responses((status = 200, body = IntakeList), (status = 403, body = ErrorBody)))]
pub async fn inbox(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<IntakeList>> {
    Ok(Json(IntakeList {
        requests: intake::inbox(&state, &user)
            .await?
            .into_iter()
            .map(IntakeJson::from)
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PartnerInvite {
    pub name: String,
    pub email: String,
}

#[derive(Deserialize, ToSchema)]
pub struct AcceptIntake {
    /// The therapist who will see the couple; a therapist accepting may leave it out.
    pub therapist_id: Option<String>,
    /// Both partners, as they will be invited.
    #[serde(default)]
    pub partners: Vec<PartnerInvite>,
}

#[derive(Serialize, ToSchema)]
pub struct InvitedJson {
    pub email: String,
    /// Whether the invitation mail went out.
    pub mailed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptedIntake {
    pub couple_id: Option<String>,
    /// The people invited by mail. Their links are in their mail only.
    pub invited: Vec<InvitedJson>,
    /// They asked to be seen separately first: only the person who wrote
    /// was invited, and the therapist invites the other partner later.
    pub seen_separately: bool,
    /// What to know next, in words; set when only one person was invited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Accepts a request: the couple is created and both partners are invited
/// (only the person who wrote, when they asked to be seen separately first).
#[utoipa::path(post, path = "/api/v1/intake/{id}/accept", tag = "practice", security(("bearer" = [])), request_body = AcceptIntake,
    params(("id" = String, Path)), responses((status = 201, body = AcceptedIntake), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AcceptIntake>,
) -> AppResult<(StatusCode, Json<AcceptedIntake>)> {
    let invitees: Vec<Invitee<'_>> = request
        .partners
        .iter()
        .map(|p| Invitee {
            name: &p.name,
            email: &p.email,
        })
        .collect();
    let accepted = intake::accept(
        &state,
        &user,
        &id,
        request.therapist_id.as_deref(),
        &invitees,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(AcceptedIntake {
            couple_id: Some(accepted.couple_id),
            invited: accepted
                .sent
                .into_iter()
                .map(|s| InvitedJson {
                    email: s.invitation.email,
                    mailed: s.mailed,
                })
                .collect(),
            seen_separately: accepted.seen_separately,
            note: accepted
                .seen_separately
                .then(|| intake::SEEN_SEPARATELY_NOTE.to_owned()),
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct AnswerIntake {
    pub reply: Option<String>,
    /// Close the request (a kind no); otherwise it stays open.
    #[serde(default)]
    pub decline: bool,
}

/// Replies to a request by mail, or declines it kindly.
#[utoipa::path(post, path = "/api/v1/intake/{id}/reply", tag = "practice", security(("bearer" = [])), request_body = AnswerIntake,
    params(("id" = String, Path)), responses((status = 200, body = IntakeJson), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reply(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AnswerIntake>,
) -> AppResult<Json<IntakeJson>> {
    let row = intake::answer(
        &state,
        &user,
        &id,
        request.reply.as_deref().unwrap_or_default(),
        request.decline,
    )
    .await?;
    Ok(Json(row.into()))
}
