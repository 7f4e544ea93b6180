use crate::extract::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trellis_store::EntryFilter;
use utoipa::{IntoParams, ToSchema};

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::auth::session::{PartnerUser, RoleUser};
use crate::error::{AppError, AppResult};
use crate::extract::ApiJson;
use crate::services::writing::{self, Entry, JOURNAL, NewWriting};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct NewEntryRequest {
    pub body: String,
    /// `me` (default), `therapist`, `partner` or `partner_and_therapist`.
    pub audience: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct AudienceRequest {
    /// `me`, `therapist`, `partner` or `partner_and_therapist`.
    pub audience: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EntryJson {
    pub id: String,
    pub kind: String,
    pub body: String,
    pub audience: String,
    /// Who can see it, in plain words.
    pub audience_description: String,
    pub author_id: String,
    pub author_name: String,
    pub couple_id: String,
    /// True when the caller wrote it.
    pub mine: bool,
    /// Only on the answer to writing it: crisis language was found. Show
    /// help resources to the writer; their therapist has been flagged.
    pub crisis: bool,
    /// Only on the answer to writing it: what may be crisis language was
    /// found (a possible sign, never with `crisis`). Show help resources
    /// and offer `POST /api/v1/safety/tell-therapist`; nobody has been told.
    pub possible_crisis: bool,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
    /// Epoch milliseconds: before this only the author can read it (the
    /// undo window after sharing, or the morning it is held until).
    pub visible_from: i64,
    /// Shared, but nobody else can read it yet: it can still be undone,
    /// held until morning or shared now.
    pub pending: bool,
}

impl EntryJson {
    /// The API shape of an entry read at `now` (whether it is still
    /// pending depends on the time).
    pub fn at(entry: Entry, now: trellis_core::Millis) -> Self {
        let pending = entry.mine && entry.pending(now);
        Self {
            id: entry.id,
            kind: entry.kind,
            body: entry.body,
            audience: entry.audience.as_str().to_owned(),
            audience_description: entry.audience.describe().to_owned(),
            author_id: entry.author_id,
            author_name: entry.author_name,
            couple_id: entry.couple_id.into_string(),
            mine: entry.mine,
            crisis: entry.crisis,
            possible_crisis: entry.possible_crisis,
            created_at: entry.created_at,
            updated_at: entry.updated_at,
            pending,
            visible_from: entry.visible_from,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EntryList {
    pub entries: Vec<EntryJson>,
    /// Pass as `before` for the next, older page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct EntryPageQuery {
    /// At most this many entries (1 to 500; default 500).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub before: Option<String>,
}

/// Write a journal entry (partners). Private to the author unless an audience is given.
#[utoipa::path(post, path = "/api/v1/entries", tag = "writing", security(("bearer" = [])), request_body = NewEntryRequest,
    responses((status = 201, body = EntryJson), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    RoleUser(user): PartnerUser,
    ApiJson(request): ApiJson<NewEntryRequest>,
) -> AppResult<(StatusCode, Json<EntryJson>)> {
    let audience = writing::parse_audience("audience", request.audience.as_deref())?;
    let entry = writing::write(
        &state,
        &user,
        NewWriting {
            kind: JOURNAL,
            ref_id: None,
            body: &request.body,
            audience,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(EntryJson::at(entry, state.now()))))
}

/// The journal entries the caller may see, newest first: their own, and what
/// others shared with them; a page at a time with `limit` and `before`.
#[utoipa::path(get, path = "/api/v1/entries", tag = "writing", security(("bearer" = [])), params(EntryPageQuery),
    responses((status = 200, body = EntryList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<EntryPageQuery>,
) -> AppResult<Json<EntryList>> {
    let limit = query.limit.unwrap_or(writing::LIST_LIMIT);
    if !(1..=writing::LIST_LIMIT).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("Ask for between 1 and {} entries.", writing::LIST_LIMIT),
        ));
    }
    let before = query
        .before
        .as_deref()
        .map(writing::parse_cursor)
        .transpose()?;
    let page = writing::list_page(
        &state,
        &user,
        EntryFilter {
            kind: Some(JOURNAL),
            before,
            ..EntryFilter::default()
        },
        limit,
    )
    .await?;
    Ok(Json(EntryList {
        entries: page
            .entries
            .into_iter()
            .map(|e| EntryJson::at(e, state.now()))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One entry; 404 when it does not exist or is not the caller's to see.
#[utoipa::path(get, path = "/api/v1/entries/{id}", tag = "writing", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = EntryJson), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<EntryJson>> {
    Ok(Json(EntryJson::at(
        writing::read(&state, &user, &id).await?,
        state.now(),
    )))
}

/// Change who can see an entry (its author only); every change is recorded.
#[utoipa::path(patch, path = "/api/v1/entries/{id}", tag = "writing", security(("bearer" = [])), request_body = AudienceRequest,
    params(("id" = String, Path)),
    responses((status = 200, body = EntryJson), (status = 401, body = ErrorBody), (status = 403, description = "Not the author", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_audience(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<AudienceRequest>,
) -> AppResult<Json<EntryJson>> {
    let entry = writing::change_audience(&state, &user, &id, request.audience.as_deref()).await?;
    Ok(Json(EntryJson::at(entry, state.now())))
}

/// Take back shared writing while nobody else can read it yet: it stays, private.
#[utoipa::path(post, path = "/api/v1/entries/{id}/undo", tag = "writing", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = EntryJson), (status = 401, body = ErrorBody), (status = 403, description = "Not the author", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Already readable by others", body = ErrorBody)))]
pub async fn undo(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<EntryJson>> {
    settle(&state, &user, &id, writing::PendingChoice::Undo).await
}

/// Let shared writing wait until seven in the morning (the author's time)
/// before anyone else can read it.
#[utoipa::path(post, path = "/api/v1/entries/{id}/hold", tag = "writing", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = EntryJson), (status = 401, body = ErrorBody), (status = 403, description = "Not the author", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Already readable by others", body = ErrorBody)))]
pub async fn hold(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<EntryJson>> {
    settle(&state, &user, &id, writing::PendingChoice::HoldUntilMorning).await
}

/// Let waiting writing be read now.
#[utoipa::path(post, path = "/api/v1/entries/{id}/share-now", tag = "writing", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = EntryJson), (status = 401, body = ErrorBody), (status = 403, description = "Not the author", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "Already readable by others", body = ErrorBody)))]
pub async fn share_now(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> AppResult<Json<EntryJson>> {
    settle(&state, &user, &id, writing::PendingChoice::ShareNow).await
}

async fn settle(
    state: &AppState,
    user: &trellis_store::User,
    id: &str,
    choice: writing::PendingChoice,
) -> AppResult<Json<EntryJson>> {
    let entry = writing::settle_pending(state, user, id, choice).await?;
    Ok(Json(EntryJson::at(entry, state.now())))
}
