//! Messages between the couple and their therapist, therapists' comments on
//! shared work, and therapists' private session notes.

use crate::extract::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trellis_core::CoupleId;
use utoipa::{IntoParams, ToSchema};

use super::ErrorBody;
use super::entries::EntryJson;
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::extract::ApiJson;
use crate::services::messages::{self, ThreadKind};
use crate::services::notes::{self, Note};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct NewMessage {
    /// `couple` (both partners and the therapist) or `private` (one partner
    /// and the therapist; the other partner never sees it).
    pub thread: Option<String>,
    pub body: Option<String>,
    /// Therapists: the couple.
    #[schema(value_type = Option<String>)]
    pub couple_id: Option<CoupleId>,
    /// Therapists, private thread: the partner.
    pub partner_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct ThreadQuery {
    /// `couple` or `private`.
    pub thread: Option<String>,
    /// Therapists: the couple.
    #[param(value_type = Option<String>)]
    pub couple_id: Option<CoupleId>,
    /// Therapists, private thread: the partner.
    pub partner_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    pub thread: String,
    pub messages: Vec<EntryJson>,
}

/// Writes a message in a thread.
#[utoipa::path(post, path = "/api/v1/messages", tag = "messages", security(("bearer" = [])), request_body = NewMessage,
    responses((status = 201, body = EntryJson), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn post(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<NewMessage>,
) -> AppResult<(StatusCode, Json<EntryJson>)> {
    messages::may_use_threads(&user)?;
    let kind = ThreadKind::parse(request.thread.as_deref().unwrap_or_default())?;
    let thread = messages::thread(
        &state,
        &user,
        kind,
        request.couple_id.as_ref(),
        request.partner_id.as_deref(),
    )
    .await?;
    let entry = messages::post(
        &state,
        &user,
        &thread,
        request.body.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(EntryJson::at(entry, state.now()))))
}

/// A thread's messages, oldest first (opening it marks it read).
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", security(("bearer" = [])), params(ThreadQuery),
    responses((status = 200, body = MessageList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<ThreadQuery>,
) -> AppResult<Json<MessageList>> {
    messages::may_use_threads(&user)?;
    let kind = ThreadKind::parse(query.thread.as_deref().unwrap_or("couple"))?;
    let thread = messages::thread(
        &state,
        &user,
        kind,
        query.couple_id.as_ref(),
        query.partner_id.as_deref(),
    )
    .await?;
    let entries = messages::read_thread(&state, &user, &thread).await?;
    Ok(Json(MessageList {
        thread: thread.key,
        messages: entries
            .into_iter()
            .map(|e| EntryJson::at(e, state.now()))
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewComment {
    /// An exercise answer or entry shared with both partners and the
    /// therapist, or an agreement.
    pub target_id: Option<String>,
    pub body: Option<String>,
}

/// The therapist comments on shared work; the couple sees the comment.
#[utoipa::path(post, path = "/api/v1/comments", tag = "messages", security(("bearer" = [])), request_body = NewComment,
    responses((status = 201, body = EntryJson), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn comment(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(request): ApiJson<NewComment>,
) -> AppResult<(StatusCode, Json<EntryJson>)> {
    let entry = messages::comment(
        &state,
        &user,
        request.target_id.as_deref().unwrap_or_default(),
        request.body.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(EntryJson::at(entry, state.now()))))
}

#[derive(Deserialize, IntoParams)]
pub struct CommentQuery {
    /// The piece of work the comments are on.
    pub target_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CommentList {
    pub comments: Vec<EntryJson>,
}

/// Comments on one piece of the couple's work.
#[utoipa::path(get, path = "/api/v1/couples/{id}/comments", tag = "messages", security(("bearer" = [])), params(("id" = String, Path), CommentQuery),
    responses((status = 200, body = CommentList), (status = 404, body = ErrorBody)))]
pub async fn comments(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
    Query(query): Query<CommentQuery>,
) -> AppResult<Json<CommentList>> {
    crate::services::program::couple_for(&state, &user, &id).await?;
    let entries = messages::comments_on(
        &state,
        &user,
        &id,
        query.target_id.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(Json(CommentList {
        comments: entries
            .into_iter()
            .map(|e| EntryJson::at(e, state.now()))
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NoteRequest {
    pub body: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct NoteJson {
    pub id: String,
    pub couple_id: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<Note> for NoteJson {
    fn from(note: Note) -> Self {
        Self {
            id: note.id,
            couple_id: note.couple_id,
            body: note.body,
            created_at: note.created_at,
            updated_at: note.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NoteList {
    /// A template the therapist may start from.
    pub template: String,
    pub notes: Vec<NoteJson>,
}

/// Writes a session note, private to the therapist who writes it.
#[utoipa::path(post, path = "/api/v1/couples/{id}/notes", tag = "notes", security(("bearer" = [])), request_body = NoteRequest,
    params(("id" = String, Path)), responses((status = 201, body = NoteJson), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn write_note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
    ApiJson(request): ApiJson<NoteRequest>,
) -> AppResult<(StatusCode, Json<NoteJson>)> {
    let note = notes::write(
        &state,
        &user,
        &id,
        request.body.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(note.into())))
}

/// The therapist's own notes about a couple, newest first.
#[utoipa::path(get, path = "/api/v1/couples/{id}/notes", tag = "notes", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = NoteList), (status = 404, body = ErrorBody)))]
pub async fn notes_list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<NoteList>> {
    Ok(Json(NoteList {
        template: notes::TEMPLATE.to_owned(),
        notes: notes::list(&state, &user, &id)
            .await?
            .into_iter()
            .map(NoteJson::from)
            .collect(),
    }))
}

/// Rewrites one of the therapist's notes.
#[utoipa::path(patch, path = "/api/v1/couples/{id}/notes/{note_id}", tag = "notes", security(("bearer" = [])), request_body = NoteRequest,
    params(("id" = String, Path), ("note_id" = String, Path)), responses((status = 200, body = NoteJson), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_note(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, note_id)): Path<(CoupleId, String)>,
    ApiJson(request): ApiJson<NoteRequest>,
) -> AppResult<Json<NoteJson>> {
    let note = notes::update(
        &state,
        &user,
        &id,
        &note_id,
        request.body.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(Json(note.into()))
}
