//! Mail that tells a person something is waiting in Trellis. It never holds
//! client writing, names no partner and says nothing about what was written,
//! so a shared inbox or a glance at a lock screen gives nothing away. Each
//! person chooses which notices they get.

use jiff::tz::TimeZone;
use trellis_core::Role;
use trellis_core::UserId;
use trellis_store::User;

use crate::error::{AppResult, Error};
use crate::state::AppState;
use crate::when;

/// What happened, as far as a notice may say.
#[derive(Debug, Clone, Copy)]
pub enum Notice {
    /// A new message in one of their threads.
    NewMessage,
    /// A session was booked, moved or cancelled.
    SessionScheduled {
        starts_at: i64,
    },
    SessionMoved {
        starts_at: i64,
    },
    SessionCancelled {
        starts_at: i64,
    },
    /// A partner asked to move a session (to the therapist).
    RescheduleRequested {
        starts_at: i64,
    },
    /// The session is coming up.
    Reminder {
        starts_at: i64,
    },
    /// A new appointment request in the practice's inbox (to staff).
    NewIntake,
    /// The other partner opened a structured talk.
    TalkOpened,
    /// The other partner called a time-out, back at this time.
    TimeOut {
        return_at: i64,
    },
    /// A time-out is over: come back to the talk.
    BreakOver,
    /// A check-in (a short measure) is ready.
    CheckInDue,
    /// A request to link a therapist to a couple moved on: asked, agreed,
    /// declined, withdrawn or accepted.
    LinkRequest,
    /// Someone in the therapist's caseload raised a safety concern. Always
    /// sent: no one can turn it off, and it names no one.
    SafetyConcern {
        urgent: bool,
        /// Distress that may be urgent (read by word statistics, not
        /// confirmed): the notice asks for a prompt look, nothing is paused.
        may_be_urgent: bool,
    },
}

enum Kind {
    Messages,
    Appointments,
    Reminders,
    Intake,
    Safety,
}

impl Notice {
    fn kind(self) -> Kind {
        match self {
            Notice::NewMessage
            | Notice::TalkOpened
            | Notice::TimeOut { .. }
            | Notice::LinkRequest => Kind::Messages,
            Notice::BreakOver | Notice::CheckInDue => Kind::Reminders,
            Notice::SessionScheduled { .. }
            | Notice::SessionMoved { .. }
            | Notice::SessionCancelled { .. }
            | Notice::RescheduleRequested { .. } => Kind::Appointments,
            Notice::Reminder { .. } => Kind::Reminders,
            Notice::NewIntake => Kind::Intake,
            Notice::SafetyConcern { .. } => Kind::Safety,
        }
    }

    /// Where the notice leads, for this reader.
    fn path(self, role: Role) -> &'static str {
        match self {
            Notice::NewMessage => "/messages",
            Notice::TalkOpened | Notice::TimeOut { .. } | Notice::BreakOver => "/talks",
            Notice::CheckInDue => "/measures",
            Notice::NewIntake => "/intake",
            Notice::LinkRequest if role == Role::Partner => "/our-space",
            _ if role == Role::Therapist => "/caseload",
            _ => "/sessions",
        }
    }

    /// Notices of one kind replace each other on a device.
    fn tag(self) -> &'static str {
        match self {
            Notice::NewMessage => "message",
            Notice::SessionScheduled { .. }
            | Notice::SessionMoved { .. }
            | Notice::SessionCancelled { .. }
            | Notice::RescheduleRequested { .. } => "session",
            Notice::Reminder { .. } => "reminder",
            Notice::NewIntake => "intake",
            Notice::TalkOpened | Notice::TimeOut { .. } | Notice::BreakOver => "talk",
            Notice::CheckInDue => "check-in",
            Notice::LinkRequest => "link",
            // a later, milder notice must not replace a more pressing
            // one still unread on the lock screen
            Notice::SafetyConcern { urgent: true, .. } => "safety-urgent",
            Notice::SafetyConcern {
                may_be_urgent: true,
                ..
            } => "safety-may-be-urgent",
            Notice::SafetyConcern { .. } => "safety",
        }
    }

    /// A title and one line, the same for mail and devices; `zone` is the reader's.
    fn headline(self, zone: &TimeZone) -> (String, String) {
        let at = |t: i64| when::long(t, zone);
        match self {
            Notice::NewMessage => (
                "You have a new message in Trellis".to_owned(),
                "There is a new message waiting for you in Trellis.".to_owned(),
            ),
            Notice::SessionScheduled { starts_at } => (
                "A session was booked".to_owned(),
                format!("A session was booked for {}.", at(starts_at)),
            ),
            Notice::SessionMoved { starts_at } => (
                "A session was moved".to_owned(),
                format!("A session was moved to {}.", at(starts_at)),
            ),
            Notice::SessionCancelled { starts_at } => (
                "A session was cancelled".to_owned(),
                format!("The session on {} was cancelled.", at(starts_at)),
            ),
            Notice::RescheduleRequested { starts_at } => (
                "A request to move a session".to_owned(),
                format!("Someone asked to move the session on {}.", at(starts_at)),
            ),
            Notice::Reminder { starts_at } => (
                "Reminder: your session is coming up".to_owned(),
                format!("A reminder that you have a session on {}.", at(starts_at)),
            ),
            Notice::TalkOpened => (
                "An invitation to talk".to_owned(),
                "Someone would like to have a structured talk with you in Trellis, whenever you are ready.".to_owned(),
            ),
            Notice::TimeOut { return_at } => (
                "A short break".to_owned(),
                format!(
                    "A break was called in your talk, to let things calm down. It will pick up again at {}.",
                    at(return_at)
                ),
            ),
            Notice::BreakOver => (
                "Time to come back".to_owned(),
                "The break is over. When you are both ready, come back to your talk.".to_owned(),
            ),
            Notice::CheckInDue => (
                "A check-in is ready".to_owned(),
                "A short check-in is ready for you in Trellis. It takes two or three minutes, whenever suits you.".to_owned(),
            ),
            Notice::LinkRequest => (
                "A request about who guides a couple".to_owned(),
                "A request to link a therapist to a couple has news, or is waiting for your answer, in Trellis.".to_owned(),
            ),
            Notice::SafetyConcern { urgent: true, .. } => (
                "Urgent: someone in your caseload needs your attention in Trellis".to_owned(),
                "Something in Trellis suggests that someone in your caseload may be in danger. Please sign in as soon as you can to see who, and reach them privately.".to_owned(),
            ),
            Notice::SafetyConcern {
                urgent: false,
                may_be_urgent: true,
            } => (
                "May be urgent: someone in your caseload needs your attention in Trellis".to_owned(),
                "Something in Trellis suggests that someone in your caseload is struggling, and it may be urgent. Please sign in as soon as you can to see who, and reach them privately.".to_owned(),
            ),
            Notice::SafetyConcern {
                urgent: false,
                may_be_urgent: false,
            } => (
                "Someone in your caseload needs your attention in Trellis".to_owned(),
                "Something in Trellis suggests that someone in your caseload is struggling. Please sign in to see who, and reach them privately.".to_owned(),
            ),
            Notice::NewIntake => (
                "A new appointment request".to_owned(),
                "A new request for a first appointment is waiting in the intake inbox.".to_owned(),
            ),
        }
    }

    /// Subject and body of the mail.
    fn text(self, zone: &TimeZone, link: &str) -> (String, String) {
        let (subject, line) = self.headline(zone);
        let choice = match self.kind() {
            Kind::Safety => {
                "These notices are always sent, because someone's safety may depend on them."
            }
            _ => "You can choose which of these mails you get under Account → Notices.",
        };
        let body = format!(
            "Hello,\n\n{line}\n\nSign in to see the details:\n\n{link}\n\n{choice}\n\n— Trellis\n"
        );
        (subject, body)
    }
}

/// The time zone a person reads times in: their own choice, else their
/// practice's, else UTC.
pub async fn zone_for(state: &AppState, user: &User) -> AppResult<TimeZone> {
    let settings = state.store().person_settings(&user.id).await?;
    zone_of(state, user, &settings).await
}

async fn zone_of(
    state: &AppState,
    user: &User,
    settings: &trellis_store::PersonSettings,
) -> AppResult<TimeZone> {
    if let Some(zone) = settings.time_zone.as_deref() {
        return Ok(when::zone_or_utc(Some(zone)));
    }
    Ok(when::zone_or_utc(
        practice_zone(state, user).await?.as_deref(),
    ))
}

/// Takes the time zone the person's browser reported at sign-in as their
/// own, when they have none and no practice to follow: otherwise a
/// self-guided couple would read every time in UTC. A name that is not a
/// real zone is ignored, as is an empty one (no script ran).
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn adopt_browser_zone(state: &AppState, user: &User, zone: &str) -> AppResult<()> {
    let zone = zone.trim();
    if zone.is_empty() || zone.len() > 64 || when::time_zone("time_zone", zone).is_err() {
        return Ok(());
    }
    let mut settings = state.store().person_settings(&user.id).await?;
    if settings.time_zone.is_some() || practice_zone(state, user).await?.is_some() {
        return Ok(());
    }
    settings.time_zone = Some(zone.to_owned());
    state
        .store()
        .set_person_settings(&user.id, &settings)
        .await?;
    Ok(())
}

/// The time zone name of the person's practice, if they belong to one.
pub async fn practice_zone(state: &AppState, user: &User) -> AppResult<Option<String>> {
    let practice_id = match user.role {
        Role::Partner => match user.couple_id.as_ref() {
            Some(couple_id) => state.store().couple(couple_id).await?.practice_id,
            None => None,
        },
        Role::Therapist | Role::Admin => user.practice_id.clone(),
    };
    Ok(match practice_id {
        Some(id) => Some(state.store().practice(&id).await?.time_zone),
        None => None,
    })
}

/// Sends a notice by mail and to the person's devices, each if they want
/// this kind there. A notice that cannot be sent is logged, never fatal: the
/// thing itself is already in Trellis.
#[tracing::instrument(skip_all, fields(user_id = %user.id))]
pub async fn notify(state: &AppState, user: &User, notice: Notice) -> AppResult<()> {
    if user.email.ends_with("@invalid") {
        return Ok(());
    }
    let settings = state.store().person_settings(&user.id).await?;
    let (by_mail, on_devices) = match notice.kind() {
        Kind::Messages => (settings.notify_messages, settings.push_messages),
        Kind::Appointments => (settings.notify_appointments, settings.push_appointments),
        Kind::Reminders => (settings.notify_reminders, settings.push_reminders),
        Kind::Intake => (settings.notify_intake, settings.push_intake),
        Kind::Safety => (true, true),
    };
    if !by_mail && !on_devices {
        return Ok(());
    }
    let zone = zone_of(state, user, &settings).await?;
    let path = notice.path(user.role);
    if on_devices {
        let (title, body) = notice.headline(&zone);
        let payload = crate::push::PushPayload {
            title,
            body,
            url: path.to_owned(),
            tag: notice.tag().to_owned(),
        };
        push_to_devices(state, &user.id, payload).await?;
    }
    if !by_mail {
        return Ok(());
    }
    let (subject, body) = notice.text(&zone, &state.config().link(path));
    if let Err(err) = super::outbox::send(state, &user.name, &user.email, &subject, &body).await {
        tracing::warn!(error = ?err, "could not send a notice");
    }
    Ok(())
}

/// Hands a notice to the push service of each of the person's devices, in
/// the background: a slow push service must not hold up the request that
/// caused the notice. Addresses their service calls gone are forgotten.
async fn push_to_devices(
    state: &AppState,
    user_id: &UserId,
    payload: crate::push::PushPayload,
) -> AppResult<()> {
    let devices = state.store().push_subscriptions_for(user_id).await?;
    if devices.is_empty() {
        return Ok(());
    }
    let pusher = state.pusher().clone();
    let store = state.store().clone();
    tokio::spawn(async move {
        for device in devices {
            let outcome = pusher
                .deliver(&device.endpoint, &device.p256dh, &device.auth, &payload)
                .await;
            let label = match &outcome {
                crate::push::Delivery::Delivered => "delivered",
                crate::push::Delivery::Gone => "gone",
                crate::push::Delivery::Failed(_) => "failed",
            };
            metrics::counter!("trellis_push_deliveries_total", "outcome" => label).increment(1);
            match outcome {
                crate::push::Delivery::Delivered => {}
                crate::push::Delivery::Gone => {
                    if let Err(err) = store.forget_push_endpoint(&device.endpoint).await {
                        tracing::warn!(error = %err, "could not forget a gone push address");
                    }
                }
                crate::push::Delivery::Failed(reason) => {
                    tracing::warn!(%reason, "could not send a notice to a device");
                }
            }
        }
    });
    Ok(())
}

/// A change to some of a person's settings; `None` leaves one as it is
/// (the API's request body as it is).
#[derive(Debug, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SettingsChange {
    /// An IANA time zone, or "" to follow the practice.
    pub time_zone: Option<String>,
    pub notify_messages: Option<bool>,
    pub notify_reminders: Option<bool>,
    pub notify_appointments: Option<bool>,
    pub notify_intake: Option<bool>,
    pub push_messages: Option<bool>,
    pub push_reminders: Option<bool>,
    pub push_appointments: Option<bool>,
    pub push_intake: Option<bool>,
}

pub async fn change_settings(
    state: &AppState,
    user: &User,
    change: SettingsChange,
) -> AppResult<trellis_store::PersonSettings> {
    let mut settings = state.store().person_settings(&user.id).await?;
    if let Some(zone) = change.time_zone.as_deref() {
        settings.time_zone = if zone.trim().is_empty() {
            None
        } else {
            when::time_zone("time_zone", zone)?;
            Some(zone.trim().to_owned())
        };
    }
    for (value, slot) in [
        (change.notify_messages, &mut settings.notify_messages),
        (change.notify_reminders, &mut settings.notify_reminders),
        (
            change.notify_appointments,
            &mut settings.notify_appointments,
        ),
        (change.notify_intake, &mut settings.notify_intake),
        (change.push_messages, &mut settings.push_messages),
        (change.push_reminders, &mut settings.push_reminders),
        (change.push_appointments, &mut settings.push_appointments),
        (change.push_intake, &mut settings.push_intake),
    ] {
        if let Some(value) = value {
            *slot = value;
        }
    }
    state
        .store()
        .set_person_settings(&user.id, &settings)
        .await?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safety_notices_of_each_strength_keep_their_own_place_on_a_device() {
        let concern = |urgent, may_be_urgent| Notice::SafetyConcern {
            urgent,
            may_be_urgent,
        };
        let tags = [
            concern(true, false).tag(),
            concern(false, true).tag(),
            concern(false, false).tag(),
        ];
        assert_eq!(tags, ["safety-urgent", "safety-may-be-urgent", "safety"]);
        let zone = TimeZone::get("Europe/Berlin").unwrap();
        let (subject, _) = concern(false, true).headline(&zone);
        assert!(subject.starts_with("May be urgent:"), "{subject}");
        let (subject, _) = concern(true, true).headline(&zone);
        assert!(subject.starts_with("Urgent:"), "{subject}");
    }

    #[test]
    fn notices_say_when_but_never_what_was_written_or_by_whom() {
        let zone = TimeZone::get("Europe/Berlin").unwrap();
        let at = when::parse_time("s", "2026-12-05T18:00", &zone).unwrap();
        for notice in [
            Notice::NewMessage,
            Notice::SessionScheduled { starts_at: at },
            Notice::SessionMoved { starts_at: at },
            Notice::SessionCancelled { starts_at: at },
            Notice::RescheduleRequested { starts_at: at },
            Notice::Reminder { starts_at: at },
            Notice::NewIntake,
            Notice::TalkOpened,
            Notice::TimeOut { return_at: at },
            Notice::BreakOver,
            Notice::CheckInDue,
        ] {
            let (subject, body) = notice.text(&zone, "https://trellis.example/x");
            assert!(!subject.is_empty());
            assert!(body.contains("https://trellis.example/x"));
            for word in ["therapy", "couple", "partner"] {
                assert!(
                    !body.to_lowercase().contains(word),
                    "{notice:?} says {word}"
                );
            }
        }
        let (_, body) = Notice::Reminder { starts_at: at }.text(&zone, "l");
        assert!(body.contains("Saturday 5 December 2026, 18:00 CET"));
    }
}

/// One of a person's devices, as they may see it: never its address, which
/// is a capability of its own.
#[derive(Debug, Clone)]
pub struct Device {
    /// The push service that carries its notices ("fcm.googleapis.com").
    pub service: String,
    pub since: trellis_core::Millis,
}

/// Turns notices on for the device (browser) that sent this subscription.
pub async fn add_device(
    state: &AppState,
    user: &User,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
) -> AppResult<()> {
    let checked = state
        .pusher()
        .check_subscription(endpoint, p256dh, auth)
        .map_err(|problem| match problem {
            crate::push::SubscriptionProblem::Endpoint => Error::invalid(
                "endpoint",
                "This device's notice address can't be used: it must be an https address of a push service.",
            ),
            crate::push::SubscriptionProblem::Keys => Error::invalid(
                "keys",
                "This device's notice keys are not complete. Please try turning notices on again.",
            ),
        })?;
    state
        .store()
        .save_push_subscription(
            &user.id,
            &checked.endpoint,
            &checked.p256dh,
            &checked.auth,
            state.now(),
        )
        .await?;
    Ok(())
}

/// Turns notices off for one device; `NotFound` when it is not theirs.
pub async fn remove_device(state: &AppState, user: &User, endpoint: &str) -> AppResult<()> {
    if state
        .store()
        .delete_push_subscription(&user.id, endpoint.trim())
        .await?
    {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Turns notices off on every device of the person; how many there were.
pub async fn remove_all_devices(state: &AppState, user: &User) -> AppResult<u64> {
    Ok(state.store().delete_push_subscriptions_of(&user.id).await?)
}

pub async fn devices(state: &AppState, user: &User) -> AppResult<Vec<Device>> {
    let rows = state.store().push_subscriptions_for(&user.id).await?;
    Ok(rows
        .into_iter()
        .map(|row| Device {
            service: row
                .endpoint
                .parse::<http::Uri>()
                .ok()
                .and_then(|uri| uri.host().map(str::to_owned))
                .unwrap_or_default(),
            since: row.created_at,
        })
        .collect())
}
