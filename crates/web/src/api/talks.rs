//! Structured talks, live over server-sent events; time-outs; the
//! two-circles compromise.

use std::convert::Infallible;
use trellis_app::Error as DomainError;
use trellis_core::CoupleId;

use crate::extract::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use trellis_core::talk::Move;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::auth::session::{PartnerUser, RoleUser};
use crate::error::{AppError, AppResult};
use crate::extract::ApiJson;
use crate::services::compromise::{self, CompromiseView};
use crate::services::talks::{self, TalkView, TurnView};
use crate::services::timeouts::{self, TimeoutView};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct NewTalk {
    pub topic: Option<String>,
    /// May your therapist read this talk? Default: yes.
    pub therapist_can_read: Option<bool>,
}

/// A partner opens a talk with the other partner; the opener holds the floor first.
#[utoipa::path(post, path = "/api/v1/talks", tag = "talks", security(("bearer" = [])), request_body = NewTalk,
    responses((status = 201, body = TalkView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    ApiJson(request): ApiJson<NewTalk>,
) -> AppResult<(StatusCode, Json<TalkView>)> {
    let talk = talks::open(
        &state,
        &user,
        request.topic.as_deref().unwrap_or_default(),
        request.therapist_can_read.unwrap_or(true),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(talk)))
}

/// A talk with every turn, and the moves open to the caller now.
#[utoipa::path(get, path = "/api/v1/talks/{id}", tag = "talks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TalkView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<TalkView>> {
    Ok(Json(talks::view(&state, &user, &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    /// Start after this turn (when no `Last-Event-ID` header is sent).
    pub after: Option<i64>,
}

/// Turns as server-sent events (`event: turn`, `id` = the turn's number,
/// `data` = the turn as JSON). Send `Last-Event-ID` to resume after a turn.
/// A person holds at most four streams at once (429 beyond); a stream ends
/// when its session does.
#[utoipa::path(get, path = "/api/v1/talks/{id}/events", tag = "talks", security(("bearer" = [])),
    params(("id" = String, Path), EventsQuery), responses((status = 200, description = "text/event-stream of turns"), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> AppResult<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>> {
    // A reconnecting EventSource sends Last-Event-ID; a page that already
    // shows some turns starts after them with `?after=`.
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or(query.after)
        .unwrap_or(0);
    // The session this stream rides on: the stream ends when it does.
    let session = crate::auth::session::session_secret(&headers)
        .map(|(secret, kind)| crate::streams::StreamSession {
            token_hash: trellis_crypto::SecretToken::from_client(&secret)
                .hash()
                .as_str()
                .to_owned(),
            kind,
            max_age: crate::auth::session::max_age(&state, kind),
        })
        .ok_or(AppError::Domain(DomainError::Unauthenticated))?;
    let turns = talks::follow(&state, &user, session, &id, after).await?;
    let events = turns.map(|turn| {
        let event = Event::default()
            .id(turn.seq.to_string())
            .event("turn")
            .json_data(&turn)
            .unwrap_or_else(|_| Event::default().comment("unreadable turn"));
        Ok(event)
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewTurn {
    /// `speak`, `paraphrase`, `confirm` or `clarify`; in problem-solving
    /// `solve`, `agenda`, `idea`, `propose`, `accept`, `follow_up`.
    pub kind: Option<String>,
    pub body: Option<String>,
    /// Send anyway after being shown help for crisis language.
    #[serde(default)]
    pub confirm: bool,
}

async fn play(
    state: &AppState,
    user: &trellis_store::User,
    id: &str,
    action: Move,
    body: &str,
    confirm: bool,
) -> AppResult<(StatusCode, Json<TurnView>)> {
    let turn = talks::make_move(state, user, id, action, body, confirm).await?;
    Ok((StatusCode::CREATED, Json(turn)))
}

/// A move in the talk. One that breaks the rules (the listener speaking, a
/// paraphrase nobody asked for) is refused with 409 and the reason.
#[utoipa::path(post, path = "/api/v1/talks/{id}/turns", tag = "talks", security(("bearer" = [])), request_body = NewTurn,
    params(("id" = String, Path)), responses((status = 201, body = TurnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn turn(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<NewTurn>,
) -> AppResult<(StatusCode, Json<TurnView>)> {
    let kind = request.kind.as_deref().unwrap_or_default();
    let action = Move::parse(kind)
        .filter(|m| !matches!(m, Move::HandOver | Move::Leave))
        .ok_or_else(|| {
            AppError::invalid(
                "kind",
                "Please choose a move: speak, paraphrase, confirm or clarify (or, when problem-solving, solve, agenda, idea, propose, accept, follow_up).",
            )
        })?;
    play(
        &state,
        &user,
        &id,
        action,
        request.body.as_deref().unwrap_or_default(),
        request.confirm,
    )
    .await
}

/// The speaker hands the floor to the other partner.
#[utoipa::path(post, path = "/api/v1/talks/{id}/floor", tag = "talks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 201, body = TurnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn floor(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    Path(id): Path<String>,
) -> AppResult<(StatusCode, Json<TurnView>)> {
    play(&state, &user, &id, Move::HandOver, "", false).await
}

/// Either partner leaves the talk; it ends.
#[utoipa::path(post, path = "/api/v1/talks/{id}/leave", tag = "talks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 201, body = TurnView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn leave(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    Path(id): Path<String>,
) -> AppResult<(StatusCode, Json<TurnView>)> {
    play(&state, &user, &id, Move::Leave, "", false).await
}

#[derive(Serialize, ToSchema)]
pub struct TalkSummary {
    pub id: String,
    pub topic: String,
    pub therapist_can_read: bool,
    pub created_at: i64,
    pub ended: bool,
}

#[derive(Serialize, ToSchema)]
pub struct TalkList {
    pub talks: Vec<TalkSummary>,
}

/// A couple's talks (partners; the therapist sees those they may read).
#[utoipa::path(get, path = "/api/v1/couples/{id}/talks", tag = "talks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TalkList), (status = 404, body = ErrorBody)))]
pub async fn of_couple(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<TalkList>> {
    let talks = talks::list(&state, &user, &id)
        .await?
        .into_iter()
        .map(|(row, topic)| TalkSummary {
            id: row.id,
            topic,
            therapist_can_read: row.therapist_can_read,
            created_at: row.created_at,
            ended: row.ended_at.is_some(),
        })
        .collect();
    Ok(Json(TalkList { talks }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewTimeout {
    /// When you will come back: RFC 3339, 20 minutes to 24 hours from now.
    pub return_at: Option<String>,
    /// The talk the break is from, if any.
    pub talk_id: Option<String>,
}

/// Calls a time-out; the other partner is told at once. 422 without a
/// return time, or outside 20 minutes to 24 hours.
#[utoipa::path(post, path = "/api/v1/timeouts", tag = "talks", security(("bearer" = [])), request_body = NewTimeout,
    responses((status = 201, body = TimeoutView), (status = 422, body = ErrorBody)))]
pub async fn call_timeout(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    ApiJson(request): ApiJson<NewTimeout>,
) -> AppResult<(StatusCode, Json<TimeoutView>)> {
    let view = timeouts::call(
        &state,
        &user,
        request.return_at.as_deref().unwrap_or_default(),
        request.talk_id.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Serialize, ToSchema)]
pub struct TimeoutList {
    pub timeouts: Vec<TimeoutView>,
    /// Time-outs per week over the last eight weeks, oldest first.
    pub per_week: Vec<usize>,
}

/// The couple's time-outs over eight weeks: for the partners and, as a
/// pattern, the therapist.
#[utoipa::path(get, path = "/api/v1/couples/{id}/timeouts", tag = "talks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TimeoutList), (status = 404, body = ErrorBody)))]
pub async fn couple_timeouts(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<TimeoutList>> {
    Ok(Json(TimeoutList {
        timeouts: timeouts::recent(&state, &user, &id, 56).await?,
        per_week: timeouts::weekly_counts(&state, &user, &id, 8).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewCompromise {
    pub topic: Option<String>,
}

/// Opens a two-circles compromise on a topic.
#[utoipa::path(post, path = "/api/v1/compromises", tag = "talks", security(("bearer" = [])), request_body = NewCompromise,
    responses((status = 201, body = CompromiseView), (status = 422, body = ErrorBody)))]
pub async fn open_compromise(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    ApiJson(request): ApiJson<NewCompromise>,
) -> AppResult<(StatusCode, Json<CompromiseView>)> {
    let view =
        compromise::open(&state, &user, request.topic.as_deref().unwrap_or_default()).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A compromise: your circles, and your partner's once both are written.
#[utoipa::path(get, path = "/api/v1/compromises/{id}", tag = "talks", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CompromiseView), (status = 404, body = ErrorBody)))]
pub async fn get_compromise(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    Path(id): Path<String>,
) -> AppResult<Json<CompromiseView>> {
    Ok(Json(compromise::view(&state, &user, &id).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CirclesRequest {
    /// What you cannot give up.
    pub core: Option<String>,
    /// Where you can be flexible.
    pub flexible: Option<String>,
}

/// Writes your two circles, once; they are revealed when both have written.
#[utoipa::path(post, path = "/api/v1/compromises/{id}/circles", tag = "talks", security(("bearer" = [])), request_body = CirclesRequest,
    params(("id" = String, Path)), responses((status = 201, body = CompromiseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn write_circles(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CirclesRequest>,
) -> AppResult<(StatusCode, Json<CompromiseView>)> {
    let view = compromise::write(
        &state,
        &user,
        &id,
        request.core.as_deref().unwrap_or_default(),
        request.flexible.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Deserialize, ToSchema)]
pub struct CompromiseAgreement {
    pub title: Option<String>,
    pub body: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AgreementCreated {
    /// The agreement, waiting for the other partner to accept it.
    pub agreement_id: String,
}

/// Proposes the shared agreement built from the overlap.
#[utoipa::path(post, path = "/api/v1/compromises/{id}/agreement", tag = "talks", security(("bearer" = [])), request_body = CompromiseAgreement,
    params(("id" = String, Path)), responses((status = 201, body = AgreementCreated), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn compromise_agreement(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CompromiseAgreement>,
) -> AppResult<(StatusCode, Json<AgreementCreated>)> {
    let agreement_id = compromise::agree(
        &state,
        &user,
        &id,
        request.title.as_deref().unwrap_or_default(),
        request.body.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(AgreementCreated { agreement_id })))
}
