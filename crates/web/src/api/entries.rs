use crate::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use trellis_store::EntryFilter;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::auth::session::{PartnerUser, RoleUser};
use crate::error::AppResult;
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
    /// Epoch milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<Entry> for EntryJson {
    fn from(entry: Entry) -> Self {
        Self {
            id: entry.id,
            kind: entry.kind,
            body: entry.body,
            audience: entry.audience.as_str().to_owned(),
            audience_description: entry.audience.describe().to_owned(),
            author_id: entry.author_id,
            author_name: entry.author_name,
            couple_id: entry.couple_id,
            mine: entry.mine,
            crisis: entry.crisis,
            created_at: entry.created_at,
            updated_at: entry.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EntryList {
    pub entries: Vec<EntryJson>,
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
    Ok((StatusCode::CREATED, Json(entry.into())))
}

/// Every journal entry the caller may see: their own, and what others shared with them.
#[utoipa::path(get, path = "/api/v1/entries", tag = "writing", security(("bearer" = [])),
    responses((status = 200, body = EntryList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<EntryList>> {
    let entries = writing::list(
        &state,
        &user,
        EntryFilter {
            kind: Some(JOURNAL),
            ..EntryFilter::default()
        },
    )
    .await?;
    Ok(Json(EntryList {
        entries: entries.into_iter().map(EntryJson::from).collect(),
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
    Ok(Json(writing::read(&state, &user, &id).await?.into()))
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
    Ok(Json(
        writing::change_audience(&state, &user, &id, request.audience.as_deref())
            .await?
            .into(),
    ))
}
