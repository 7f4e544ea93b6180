//! Sessions with the therapist, each person's calendar address, and their
//! notice and time zone settings.

use crate::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use trellis_core::CoupleId;
use trellis_store::PersonSettings;
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::extract::ApiJson;
use crate::services::appointments::{self, Appointment, Slot};
use crate::services::notices;
use crate::state::AppState;
use crate::when;

#[derive(Deserialize, ToSchema)]
pub struct AppointmentRequest {
    /// RFC 3339 ("2026-12-05T17:00:00Z"), or a wall-clock time in the
    /// practice's time zone ("2026-12-05T18:00").
    pub start: Option<String>,
    /// Like `start`; 50 minutes after it when missing.
    pub end: Option<String>,
    /// An address or room, or the video link (https://…).
    pub location: Option<String>,
    /// `in_person` or `video`; when missing, a web address means video.
    pub kind: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AppointmentJson {
    pub id: String,
    pub couple_id: String,
    pub therapist_name: String,
    /// RFC 3339, UTC.
    pub start: String,
    pub end: String,
    /// The start in the caller's time zone, in words.
    pub when: String,
    pub kind: String,
    pub location: String,
    /// `scheduled` or `cancelled`.
    pub status: String,
    pub reschedule_requested: bool,
    /// Only for the therapist and the partner who asked.
    pub reschedule_note: Option<String>,
}

impl From<Appointment> for AppointmentJson {
    fn from(a: Appointment) -> Self {
        Self {
            start: when::rfc3339(a.row.starts_at),
            end: when::rfc3339(a.row.ends_at),
            when: a.when,
            kind: a.kind.as_str().to_owned(),
            reschedule_requested: a.move_requested,
            id: a.row.id,
            couple_id: a.row.couple_id.into_string(),
            therapist_name: a.row.therapist_name,
            location: a.row.location,
            status: a.row.status,
            reschedule_note: a.move_note,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AppointmentList {
    pub appointments: Vec<AppointmentJson>,
}

fn slot(request: &AppointmentRequest) -> Slot<'_> {
    Slot {
        start: request.start.as_deref().unwrap_or_default(),
        end: request.end.as_deref().unwrap_or_default(),
        location: request.location.as_deref().unwrap_or_default(),
        kind: request.kind.as_deref().unwrap_or_default(),
    }
}

/// The couple's therapist books a session; both partners are told.
#[utoipa::path(post, path = "/api/v1/couples/{id}/appointments", tag = "sessions", security(("bearer" = [])), request_body = AppointmentRequest,
    params(("id" = String, Path)), responses((status = 201, body = AppointmentJson), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn schedule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
    ApiJson(request): ApiJson<AppointmentRequest>,
) -> AppResult<(StatusCode, Json<AppointmentJson>)> {
    let appointment = appointments::schedule(&state, &user, &id, slot(&request)).await?;
    Ok((StatusCode::CREATED, Json(appointment.into())))
}

/// The couple's sessions from a week ago on (partners and therapist).
#[utoipa::path(get, path = "/api/v1/couples/{id}/appointments", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = AppointmentList), (status = 404, body = ErrorBody)))]
pub async fn of_couple(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<CoupleId>,
) -> AppResult<Json<AppointmentList>> {
    Ok(Json(AppointmentList {
        appointments: appointments::for_couple(&state, &user, &id)
            .await?
            .into_iter()
            .map(AppointmentJson::from)
            .collect(),
    }))
}

/// Moves a session (the therapist).
#[utoipa::path(patch, path = "/api/v1/couples/{id}/appointments/{appointment_id}", tag = "sessions", security(("bearer" = [])), request_body = AppointmentRequest,
    params(("id" = String, Path), ("appointment_id" = String, Path)), responses((status = 200, body = AppointmentJson), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reschedule(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, appointment_id)): Path<(trellis_core::CoupleId, String)>,
    ApiJson(request): ApiJson<AppointmentRequest>,
) -> AppResult<Json<AppointmentJson>> {
    let appointment =
        appointments::reschedule(&state, &user, &id, &appointment_id, slot(&request)).await?;
    Ok(Json(appointment.into()))
}

/// Cancels a session (the therapist).
#[utoipa::path(delete, path = "/api/v1/couples/{id}/appointments/{appointment_id}", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path), ("appointment_id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((id, appointment_id)): Path<(trellis_core::CoupleId, String)>,
) -> AppResult<StatusCode> {
    appointments::cancel(&state, &user, &id, &appointment_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct MoveRequest {
    /// A few words for the therapist (e.g. which times would suit).
    pub note: Option<String>,
}

/// A partner asks to move a session.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/reschedule-request", tag = "sessions", security(("bearer" = [])), request_body = MoveRequest,
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn ask_to_move(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<MoveRequest>,
) -> AppResult<StatusCode> {
    appointments::ask_to_move(
        &state,
        &user,
        &id,
        request.note.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's own sessions, from a week ago on.
#[utoipa::path(get, path = "/api/v1/me/appointments", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = AppointmentList)))]
pub async fn mine(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<AppointmentList>> {
    Ok(Json(AppointmentList {
        appointments: appointments::mine(&state, &user)
            .await?
            .into_iter()
            .map(AppointmentJson::from)
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CalendarJson {
    /// A secret address for calendar apps (iCalendar). Anyone with it sees
    /// your session times, so keep it to yourself; reset it if it leaks.
    pub url: String,
}

/// The caller's secret calendar address.
#[utoipa::path(get, path = "/api/v1/me/calendar", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = CalendarJson)))]
pub async fn calendar(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<CalendarJson>> {
    Ok(Json(CalendarJson {
        url: appointments::calendar_url(&state, &user).await?,
    }))
}

/// A new secret calendar address; the old one stops working.
#[utoipa::path(post, path = "/api/v1/me/calendar/reset", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = CalendarJson)))]
pub async fn reset_calendar(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<CalendarJson>> {
    Ok(Json(CalendarJson {
        url: appointments::reset_calendar_url(&state, &user).await?,
    }))
}

/// The iCalendar feed behind a secret address.
pub async fn feed(
    State(state): State<AppState>,
    Path((feed_id, file)): Path<(String, String)>,
) -> AppResult<Response> {
    let body = appointments::feed(&state, &feed_id, &file).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response())
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SettingsJson {
    /// An IANA time zone ("Europe/Berlin"); null follows the practice.
    pub time_zone: Option<String>,
    pub notify_messages: bool,
    pub notify_reminders: bool,
    pub notify_appointments: bool,
    pub notify_intake: bool,
    /// The same kinds on the caller's devices (web push), once one subscribed.
    pub push_messages: bool,
    pub push_reminders: bool,
    pub push_appointments: bool,
    pub push_intake: bool,
}

impl From<PersonSettings> for SettingsJson {
    fn from(s: PersonSettings) -> Self {
        Self {
            time_zone: s.time_zone,
            notify_messages: s.notify_messages,
            notify_reminders: s.notify_reminders,
            notify_appointments: s.notify_appointments,
            notify_intake: s.notify_intake,
            push_messages: s.push_messages,
            push_reminders: s.push_reminders,
            push_appointments: s.push_appointments,
            push_intake: s.push_intake,
        }
    }
}

/// The caller's time zone and which notices they get, by mail and on their devices.
#[utoipa::path(get, path = "/api/v1/me/settings", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = SettingsJson)))]
pub async fn settings(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<SettingsJson>> {
    Ok(Json(state.store().person_settings(&user.id).await?.into()))
}

/// Changes some of the caller's settings; the rest stay as they were.
#[utoipa::path(patch, path = "/api/v1/me/settings", tag = "sessions", security(("bearer" = [])), request_body = notices::SettingsChange,
    responses((status = 200, body = SettingsJson), (status = 422, body = ErrorBody)))]
pub async fn change_settings(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(change): ApiJson<notices::SettingsChange>,
) -> AppResult<Json<SettingsJson>> {
    let settings = notices::change_settings(&state, &user, change).await?;
    Ok(Json(settings.into()))
}
