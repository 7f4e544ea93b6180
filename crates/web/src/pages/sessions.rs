//! Sessions: the therapist's booking page for a couple, the partners' list
//! with a way to ask to move one, and each person's calendar address and
//! notice settings.

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_core::CoupleId;
use trellis_core::Role;

use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::services::appointments::{self, Appointment, Slot};
use crate::services::notices::{self, SettingsChange};
use crate::services::program::couple_for;
use crate::state::AppState;
use crate::when;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SlotFields {
    start: String,
    minutes: String,
    kind: String,
    location: String,
}

impl SlotFields {
    /// The form gives a length in minutes; the service takes an end. A
    /// length that is not a number is refused, not guessed.
    fn end(&self, zone: &jiff::tz::TimeZone) -> AppResult<String> {
        let minutes = match self.minutes.trim() {
            "" => 50,
            text => text
                .parse::<i64>()
                .ok()
                .filter(|m| (1..=24 * 60).contains(m))
                .ok_or_else(|| {
                    AppError::invalid("minutes", "Please give the length in minutes, like 50.")
                })?,
        };
        Ok(match when::parse_time("start", &self.start, zone) {
            Ok(start) => when::rfc3339(start + minutes * trellis_core::time::MINUTE),
            Err(_) => String::new(),
        })
    }
}

#[derive(Template)]
#[template(path = "couple_sessions.html")]
struct CoupleSessionsPage {
    layout: Layout,
    couple_id: String,
    title: String,
    zone_name: String,
    appointments: Vec<Appointment>,
    errors: Vec<String>,
    form_start: String,
    form_minutes: String,
    form_kind: String,
    form_location: String,
    notice: Option<&'static str>,
}

async fn practice_zone(
    state: &AppState,
    user: &trellis_store::User,
) -> AppResult<jiff::tz::TimeZone> {
    Ok(when::zone_or_utc(
        notices::practice_zone(state, user).await?.as_deref(),
    ))
}

async fn couple_sessions_page(
    state: &AppState,
    page: &PageContext,
    couple_id: &CoupleId,
) -> AppResult<CoupleSessionsPage> {
    let therapist = page.require(Role::Therapist)?;
    let couple = couple_for(state, therapist, couple_id).await?;
    let zone = practice_zone(state, therapist).await?;
    Ok(CoupleSessionsPage {
        layout: page.layout("/caseload"),
        title: crate::services::couples::title(state, &couple.id).await?,
        zone_name: when::zone_name(&zone).to_owned(),
        appointments: appointments::for_couple(state, therapist, &couple.id).await?,
        couple_id: couple.id.into_string(),
        errors: Vec::new(),
        form_start: String::new(),
        form_minutes: "50".to_owned(),
        form_kind: "in_person".to_owned(),
        form_location: String::new(),
        notice: None,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    done: String,
}

pub async fn couple_sessions(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<CoupleId>,
    Query(flags): Query<Flags>,
) -> AppResult<Response> {
    let mut template = couple_sessions_page(&state, &page, &id).await?;
    template.notice = match flags.done.as_str() {
        "booked" => Some("The session is booked, and both partners have been told."),
        "moved" => Some("The session is moved, and both partners have been told."),
        "cancelled" => Some("The session is cancelled, and both partners have been told."),
        _ => None,
    };
    Ok(render(&template)?.into_response())
}

pub async fn book(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<CoupleId>,
    PageForm(form): PageForm<SlotFields>,
) -> AppResult<Response> {
    save_slot(&state, &page, &id, None, form).await
}

pub async fn change(
    State(state): State<AppState>,
    page: PageContext,
    Path((id, appointment_id)): Path<(CoupleId, String)>,
    PageForm(form): PageForm<SlotFields>,
) -> AppResult<Response> {
    save_slot(&state, &page, &id, Some(&appointment_id), form).await
}

/// Books a new session, or moves `appointment_id`, from the form.
async fn save_slot(
    state: &AppState,
    page: &PageContext,
    couple_id: &CoupleId,
    appointment_id: Option<&str>,
    form: SlotFields,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    let zone = practice_zone(state, therapist).await?;
    let (result, done) = match form.end(&zone) {
        Err(err) => (Err(err), ""),
        Ok(end) => {
            let slot = Slot {
                start: &form.start,
                end: &end,
                location: &form.location,
                kind: &form.kind,
            };
            match appointment_id {
                None => (
                    appointments::schedule(state, therapist, couple_id, slot)
                        .await
                        .map_err(AppError::from),
                    "booked",
                ),
                Some(id) => (
                    appointments::reschedule(state, therapist, couple_id, id, slot)
                        .await
                        .map_err(AppError::from),
                    "moved",
                ),
            }
        }
    };
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/caseload/couples/{couple_id}/sessions?done={done}"
        ))),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = couple_sessions_page(state, page, couple_id).await?;
            template.errors = errors;
            if appointment_id.is_none() {
                template.form_start = form.start;
                template.form_minutes = form.minutes;
                template.form_kind = form.kind;
                template.form_location = form.location;
            }
            render_refused(&err, &template)
        }
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    page: PageContext,
    Path((id, appointment_id)): Path<(CoupleId, String)>,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    appointments::cancel(&state, therapist, &id, &appointment_id).await?;
    Ok(see_other(&format!(
        "/caseload/couples/{id}/sessions?done=cancelled"
    )))
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    layout: Layout,
    /// A therapist guides the couple (self-guided couples book no sessions).
    guided: bool,
    appointments: Vec<Appointment>,
    zone_name: String,
    notice: Option<&'static str>,
    errors: Vec<String>,
}

/// The partner's sessions page, with a notice or the errors of a refusal.
async fn sessions_page(
    state: &AppState,
    page: &PageContext,
    partner: &trellis_store::User,
    notice: Option<&'static str>,
    errors: Vec<String>,
) -> AppResult<SessionsPage> {
    let zone = notices::zone_for(state, partner).await?;
    let guided = crate::services::couples::is_guided(state, partner).await?;
    Ok(SessionsPage {
        layout: page.layout("/sessions"),
        guided,
        appointments: appointments::mine(state, partner).await?,
        zone_name: when::zone_name(&zone).to_owned(),
        notice,
        errors,
    })
}

pub async fn partner_sessions(
    State(state): State<AppState>,
    page: PageContext,
    Query(flags): Query<Flags>,
) -> AppResult<Response> {
    let partner = page.require(Role::Partner)?;
    let notice = (flags.done == "asked")
        .then_some("Your therapist has been told you'd like to move this session.");
    let template = sessions_page(&state, &page, partner, notice, Vec::new()).await?;
    Ok(render(&template)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MoveFields {
    note: String,
}

pub async fn ask_to_move(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(form): PageForm<MoveFields>,
) -> AppResult<Response> {
    let partner = page.require(Role::Partner)?;
    match appointments::ask_to_move(&state, partner, &id, &form.note).await {
        Ok(()) => Ok(see_other("/sessions?done=asked")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let template = sessions_page(&state, &page, partner, None, errors).await?;
            render_refused(&err, &template)
        }
    }
}

#[derive(Template)]
#[template(path = "notices.html")]
struct NoticesPage {
    layout: Layout,
    /// The time zones to choose from.
    zones: &'static [String],
    calendar_url: String,
    time_zone: String,
    /// `None` for someone with no practice (self-guided).
    practice_zone: Option<String>,
    notify_messages: bool,
    notify_reminders: bool,
    notify_appointments: bool,
    notify_intake: bool,
    push_messages: bool,
    push_reminders: bool,
    push_appointments: bool,
    push_intake: bool,
    /// The server's public push key, for the page's script.
    push_key: String,
    /// The push services of the person's devices, one per device.
    devices: Vec<String>,
    is_staff: bool,
    errors: Vec<String>,
    notice: Option<&'static str>,
}

async fn notices_page(state: &AppState, page: &PageContext) -> AppResult<NoticesPage> {
    let user = page.signed_in()?;
    let settings = state.store().person_settings(&user.id).await?;
    Ok(NoticesPage {
        zones: crate::when::zone_names(),
        layout: page.layout("/account"),
        calendar_url: appointments::calendar_url(state, user).await?,
        time_zone: settings.time_zone.unwrap_or_default(),
        practice_zone: notices::practice_zone(state, user).await?,
        notify_messages: settings.notify_messages,
        notify_reminders: settings.notify_reminders,
        notify_appointments: settings.notify_appointments,
        notify_intake: settings.notify_intake,
        push_messages: settings.push_messages,
        push_reminders: settings.push_reminders,
        push_appointments: settings.push_appointments,
        push_intake: settings.push_intake,
        push_key: state.pusher().public_key().to_owned(),
        devices: notices::devices(state, user)
            .await?
            .into_iter()
            .map(|device| device.service)
            .collect(),
        is_staff: user.role != Role::Partner,
        errors: Vec::new(),
        notice: None,
    })
}

pub async fn notices_form(
    State(state): State<AppState>,
    page: PageContext,
    Query(flags): Query<Flags>,
) -> AppResult<Response> {
    let mut template = notices_page(&state, &page).await?;
    template.notice = match flags.done.as_str() {
        "saved" => Some("Saved."),
        "reset" => Some(
            "Your calendar has a new address. The old one no longer works: add the new one to your calendar app.",
        ),
        "devices-off" => Some("Notices are off on all your devices."),
        "device-on" => Some("Notices are on for this device."),
        "device-off" => Some("Notices are off for this device."),
        _ => None,
    };
    Ok(render(&template)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoticeFields {
    time_zone: String,
    notify_messages: Option<String>,
    notify_reminders: Option<String>,
    notify_appointments: Option<String>,
    notify_intake: Option<String>,
    push_messages: Option<String>,
    push_reminders: Option<String>,
    push_appointments: Option<String>,
    push_intake: Option<String>,
}

pub async fn save_notices(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<NoticeFields>,
) -> AppResult<Response> {
    let user = page.signed_in()?;
    let change = SettingsChange {
        time_zone: Some(form.time_zone.clone()),
        notify_messages: Some(form.notify_messages.is_some()),
        notify_reminders: Some(form.notify_reminders.is_some()),
        notify_appointments: Some(form.notify_appointments.is_some()),
        notify_intake: Some(form.notify_intake.is_some()),
        push_messages: Some(form.push_messages.is_some()),
        push_reminders: Some(form.push_reminders.is_some()),
        push_appointments: Some(form.push_appointments.is_some()),
        push_intake: Some(form.push_intake.is_some()),
    };
    match notices::change_settings(&state, user, change).await {
        Ok(_) => Ok(see_other("/account/notices?done=saved")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = notices_page(&state, &page).await?;
            template.errors = errors;
            template.time_zone = form.time_zone;
            render_refused(&err, &template)
        }
    }
}

/// Turns notices off on every device at once: for a lost phone, or one
/// someone else can now pick up.
pub async fn forget_devices(
    State(state): State<AppState>,
    page: PageContext,
) -> AppResult<Response> {
    let user = page.signed_in()?;
    notices::remove_all_devices(&state, user).await?;
    Ok(see_other("/account/notices?done=devices-off"))
}

pub async fn reset_calendar(
    State(state): State<AppState>,
    page: PageContext,
) -> AppResult<Response> {
    let user = page.signed_in()?;
    appointments::reset_calendar_url(&state, user).await?;
    Ok(see_other("/account/notices?done=reset"))
}
