//! Sessions on the calendar: a therapist books, moves and cancels them; both
//! partners see them in their own time zone and may ask to move one; each
//! person can subscribe to their sessions at a secret calendar address; and
//! reminders go out before each session.

use jiff::tz::TimeZone;
use trellis_core::CoupleId;
use trellis_core::account::within_limit;
use trellis_core::schedule::{self, LocationKind};
use trellis_core::time::{DAY, HOUR, MINUTE};
use trellis_core::{Millis, Role};
use trellis_crypto::SecretToken;
use trellis_store::{AppointmentRow, Couple, NewAppointment, User};

use super::audit;
use super::notices::{self, Notice};
use super::program::couple_for;
use crate::calendar::{self, FeedEvent};
use crate::error::{AppResult, Error};
use crate::state::AppState;
use crate::when;

/// A session's length when none is given.
pub const DEFAULT_LENGTH: Millis = 50 * MINUTE;
const FEED_PURPOSE: &str = "calendar-feed";
const NOTE_MAX_CHARS: usize = 1_000;

/// A session as typed: times as RFC 3339 or wall-clock in the practice's zone.
pub struct Slot<'a> {
    pub start: &'a str,
    /// Empty: [`DEFAULT_LENGTH`] after the start.
    pub end: &'a str,
    pub location: &'a str,
    /// `in_person` or `video`; empty: a web address means video.
    pub kind: &'a str,
}

/// A session as one person sees it.
#[derive(Debug, Clone)]
pub struct Appointment {
    pub row: AppointmentRow,
    pub when: String,
    pub until: String,
    pub kind: LocationKind,
    pub cancelled: bool,
    pub past: bool,
    pub move_requested: bool,
    /// The note with a request to move it: only for the therapist and the
    /// partner who wrote it.
    pub move_note: Option<String>,
    /// For the therapist's form: the start as a date-time field value.
    pub start_input: String,
}

async fn practice_zone_of_couple(state: &AppState, couple: &Couple) -> AppResult<TimeZone> {
    Ok(match couple.practice_id.as_deref() {
        Some(id) => when::zone_or_utc(Some(&state.store().practice(id).await?.time_zone)),
        None => TimeZone::UTC,
    })
}

fn note_context(id: &str) -> String {
    format!("appointment:{id}:move-note")
}

/// A session as `viewer` sees it.
async fn view(
    state: &AppState,
    viewer: &User,
    row: AppointmentRow,
    zone: &TimeZone,
    now: Millis,
) -> AppResult<Appointment> {
    let may_read_note = viewer.id == row.therapist_id
        || row.reschedule_requested_by.as_deref() == Some(viewer.id.as_str());
    let move_note = match (&row.reschedule_note, may_read_note) {
        (Some(sealed), true) => Some(
            state
                .vault()
                .open(
                    state.store(),
                    &row.couple_id,
                    sealed,
                    &note_context(&row.id),
                )
                .await?,
        ),
        _ => None,
    };
    Ok(Appointment {
        when: when::long(row.starts_at, zone),
        until: when::clock(row.ends_at, zone),
        kind: LocationKind::parse(&row.location_kind).unwrap_or(LocationKind::InPerson),
        cancelled: row.status == "cancelled",
        past: row.ends_at <= now,
        move_requested: row.reschedule_requested_by.is_some(),
        move_note,
        start_input: when::input_value(row.starts_at, zone),
        row,
    })
}

async fn views(
    state: &AppState,
    viewer: &User,
    rows: Vec<AppointmentRow>,
    zone: &TimeZone,
    now: Millis,
) -> AppResult<Vec<Appointment>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(view(state, viewer, row, zone, now).await?);
    }
    Ok(out)
}

struct Checked {
    starts_at: Millis,
    ends_at: Millis,
    kind: LocationKind,
    location: String,
}

fn check_slot(slot: &Slot<'_>, zone: &TimeZone, now: Millis) -> AppResult<Checked> {
    let mut problems = Vec::new();
    let starts_at = when::parse_time("start", slot.start, zone)
        .map_err(|e| problems.push(e))
        .ok();
    let ends_at = if slot.end.trim().is_empty() {
        starts_at.map(|s| s + DEFAULT_LENGTH)
    } else {
        when::parse_time("end", slot.end, zone)
            .map_err(|e| problems.push(e))
            .ok()
    };
    let kind = match slot.kind.trim() {
        "" => LocationKind::infer(slot.location),
        other => match LocationKind::parse(other) {
            Some(kind) => kind,
            None => {
                problems.push(trellis_core::ValidationError::new(
                    "kind",
                    "Please choose in person or video.",
                ));
                LocationKind::InPerson
            }
        },
    };
    if let Err(err) = schedule::validate_location(kind, slot.location) {
        problems.push(err);
    }
    if let (Some(start), Some(end)) = (starts_at, ends_at)
        && let Err(err) = schedule::validate_slot(start, end, now)
    {
        problems.push(err);
    }
    match (problems.is_empty(), starts_at, ends_at) {
        (true, Some(starts_at), Some(ends_at)) => Ok(Checked {
            starts_at,
            ends_at,
            kind,
            location: slot.location.trim().to_owned(),
        }),
        _ => Err(Error::Invalid(problems)),
    }
}

async fn tell_partners(state: &AppState, couple_id: &CoupleId, notice: Notice) -> AppResult<()> {
    for partner in state.store().couple_members(couple_id).await? {
        notices::notify(state, &partner, notice).await?;
    }
    Ok(())
}

/// The couple's therapist books a session.
#[tracing::instrument(skip_all, fields(therapist = %therapist.id, couple_id))]
pub async fn schedule(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    slot: Slot<'_>,
) -> AppResult<Appointment> {
    let couple = super::program::therapist_couple(state, therapist, couple_id).await?;
    let zone = practice_zone_of_couple(state, &couple).await?;
    let now = state.now();
    let checked = check_slot(&slot, &zone, now)?;
    let row = state
        .store()
        .create_appointment(NewAppointment {
            couple_id: &couple.id,
            therapist_id: &therapist.id,
            starts_at: checked.starts_at,
            ends_at: checked.ends_at,
            location_kind: checked.kind.as_str(),
            location: &checked.location,
            now,
        })
        .await?;
    audit::record(
        state,
        audit::Event::new("session_scheduled")
            .actor(therapist)
            .couple(&couple.id)
            .item("appointment", &row.id),
    )
    .await?;
    tell_partners(
        state,
        &couple.id,
        Notice::SessionScheduled {
            starts_at: row.starts_at,
        },
    )
    .await?;
    view(state, therapist, row, &zone, now).await
}

/// The therapist moves a session (which answers any request to move it).
#[tracing::instrument(skip_all, fields(therapist = %therapist.id, couple_id, id))]
pub async fn reschedule(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    id: &str,
    slot: Slot<'_>,
) -> AppResult<Appointment> {
    let couple = super::program::therapist_couple(state, therapist, couple_id).await?;
    let zone = practice_zone_of_couple(state, &couple).await?;
    let now = state.now();
    state.store().appointment(&couple.id, id).await?;
    let checked = check_slot(&slot, &zone, now)?;
    let row = state
        .store()
        .reschedule_appointment(
            &couple.id,
            id,
            checked.starts_at,
            checked.ends_at,
            checked.kind.as_str(),
            &checked.location,
            now,
        )
        .await?;
    tell_partners(
        state,
        &couple.id,
        Notice::SessionMoved {
            starts_at: row.starts_at,
        },
    )
    .await?;
    view(state, therapist, row, &zone, now).await
}

#[tracing::instrument(skip_all, fields(therapist = %therapist.id, couple_id, id))]
pub async fn cancel(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    id: &str,
) -> AppResult<()> {
    let couple = super::program::therapist_couple(state, therapist, couple_id).await?;
    let row = state.store().appointment(&couple.id, id).await?;
    state
        .store()
        .cancel_appointment(&couple.id, id, state.now())
        .await?;
    tell_partners(
        state,
        &couple.id,
        Notice::SessionCancelled {
            starts_at: row.starts_at,
        },
    )
    .await?;
    Ok(())
}

/// A partner asks to move a session, with an optional note for the therapist
/// (who is told by mail that a request is waiting, not what it says).
#[tracing::instrument(skip_all, fields(partner = %partner.id, id))]
pub async fn ask_to_move(state: &AppState, partner: &User, id: &str, note: &str) -> AppResult<()> {
    if partner.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let couple_id = partner.couple_id.as_ref().ok_or(Error::NotFound)?;
    let note = within_limit("note", "the note", note, NOTE_MAX_CHARS)?;
    let row = state.store().appointment(couple_id, id).await?;
    if row.ends_at <= state.now() {
        return Err(Error::Conflict("This session is already over.".to_owned()));
    }
    let sealed = if note.is_empty() {
        None
    } else {
        Some(
            state
                .vault()
                .seal(state.store(), couple_id, note, &note_context(id))
                .await?,
        )
    };
    state
        .store()
        .request_reschedule(couple_id, id, &partner.id, sealed.as_deref(), state.now())
        .await?;
    if let Ok(therapist) = state.store().user(&row.therapist_id).await {
        notices::notify(
            state,
            &therapist,
            Notice::RescheduleRequested {
                starts_at: row.starts_at,
            },
        )
        .await?;
    }
    Ok(())
}

/// A couple's sessions from a week ago on, for its partners and therapist,
/// in the viewer's time zone.
pub async fn for_couple(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<Vec<Appointment>> {
    let couple = couple_for(state, viewer, couple_id).await?;
    let zone = notices::zone_for(state, viewer).await?;
    let now = state.now();
    let rows = state
        .store()
        .appointments_of_couple(&couple.id, now - 7 * DAY)
        .await?;
    views(state, viewer, rows, &zone, now).await
}

/// The person's own sessions from a week ago on.
pub async fn mine(state: &AppState, user: &User) -> AppResult<Vec<Appointment>> {
    let zone = notices::zone_for(state, user).await?;
    let now = state.now();
    let rows = state
        .store()
        .appointments_of_person(&user.id, now - 7 * DAY)
        .await?;
    views(state, user, rows, &zone, now).await
}

fn feed_url(state: &AppState, feed_id: &str) -> String {
    let tag = state.vault().sign(FEED_PURPOSE, feed_id);
    state
        .config()
        .link(&format!("/calendar/{feed_id}/{tag}.ics"))
}

/// The person's secret calendar address, made on first use.
pub async fn calendar_url(state: &AppState, user: &User) -> AppResult<String> {
    let feed_id = match state.store().calendar_feed_of(&user.id).await? {
        Some(id) => id,
        None => {
            let id = SecretToken::generate().expose().to_owned();
            state
                .store()
                .replace_calendar_feed(&user.id, &id, state.now())
                .await?;
            id
        }
    };
    Ok(feed_url(state, &feed_id))
}

/// A new secret address; the old one stops working at once.
pub async fn reset_calendar_url(state: &AppState, user: &User) -> AppResult<String> {
    let id = SecretToken::generate().expose().to_owned();
    state
        .store()
        .replace_calendar_feed(&user.id, &id, state.now())
        .await?;
    audit::record(
        state,
        audit::Event::new("calendar_address_reset")
            .actor(user)
            .subject(&user.id),
    )
    .await?;
    Ok(feed_url(state, &id))
}

/// The feed behind a secret address; `NotFound` for anything else.
#[tracing::instrument(skip_all)]
pub async fn feed(state: &AppState, feed_id: &str, file: &str) -> AppResult<String> {
    let tag = file.strip_suffix(".ics").unwrap_or(file);
    if !state.vault().verify(FEED_PURPOSE, feed_id, tag) {
        return Err(Error::NotFound);
    }
    let owner_id = state
        .store()
        .calendar_feed_owner(feed_id)
        .await?
        .ok_or(Error::NotFound)?;
    let owner = state.store().user(&owner_id).await?;
    let zone = match notices::practice_zone(state, &owner).await? {
        Some(name) => when::zone_or_utc(Some(&name)),
        None => TimeZone::UTC,
    };
    let now = state.now();
    let rows = state
        .store()
        .appointments_of_person(&owner.id, now - 90 * DAY)
        .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        // A calendar feed leaves Trellis (calendar apps sync it, share it,
        // show it on lock screens): the therapist's names no client.
        let summary = if owner.role == Role::Therapist {
            "Couples session".to_owned()
        } else {
            format!("Session with {}", row.therapist_name)
        };
        let video = row.location_kind == LocationKind::Video.as_str();
        events.push(FeedEvent {
            id: row.id.clone(),
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            summary,
            location: if video {
                "Video call".to_owned()
            } else {
                row.location.clone()
            },
            video_link: video.then(|| row.location.clone()),
            cancelled: row.status == "cancelled",
            sequence: row.sequence,
            updated_at: row.updated_at,
        });
    }
    Ok(calendar::feed("Trellis sessions", &events, &zone, now))
}

/// Sends every reminder that has fallen due; safe to run from several
/// instances at once (each reminder is claimed before it is sent).
#[tracing::instrument(skip_all)]
pub async fn send_due_reminders(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let horizon = schedule::MAX_REMINDER_HOURS * HOUR;
    let mut sent = 0;
    for due in state.store().unreminded_appointments(now, horizon).await? {
        let row = &due.appointment;
        if !schedule::reminder_due(row.starts_at, false, due.reminder_hours, now) {
            continue;
        }
        if !state.store().claim_reminder(&row.id, now).await? {
            continue;
        }
        let notice = Notice::Reminder {
            starts_at: row.starts_at,
        };
        tell_partners(state, &row.couple_id, notice).await?;
        if let Ok(therapist) = state.store().user(&row.therapist_id).await {
            notices::notify(state, &therapist, notice).await?;
        }
        sent += 1;
    }
    Ok(sent)
}
