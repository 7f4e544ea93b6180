//! From a visitor's request for a first appointment to a couple with
//! invitations: the public form, its spam guard and rate limit, the intake
//! inbox, and accepting, replying to or declining a request.

use std::net::IpAddr;
use trellis_core::account::within_limit;

use trellis_core::intake::{self, GuardVerdict, IntakeInput, RATE_FREE_REQUESTS, RATE_WINDOW};
use trellis_core::{EmailAddress, Millis, Role};
use trellis_store::{IntakeRow, NewIntake, Practice, ThrottleAttempt, User};

use super::audit;
use super::couples::{self, Invitee, SentInvitation};
use super::notices::{self, Notice};
use crate::error::{AppResult, Error};
use crate::state::AppState;

const STAMP_PURPOSE: &str = "intake-form";
pub const REPLY_MAX_CHARS: usize = 4_000;

/// A time stamp for the form, signed so it cannot be made up.
pub fn form_stamp(state: &AppState) -> String {
    let issued = state.now().to_string();
    let tag = state.vault().sign(STAMP_PURPOSE, &issued);
    format!("{issued}.{tag}")
}

fn stamp_time(state: &AppState, stamp: &str) -> Option<Millis> {
    let (issued, tag) = stamp.split_once('.')?;
    state
        .vault()
        .verify(STAMP_PURPOSE, issued, tag)
        .then(|| issued.parse().ok())
        .flatten()
}

/// The practice a request goes to: the named one, or the first.
pub async fn practice_for_requests(
    state: &AppState,
    practice_id: Option<&str>,
) -> AppResult<Practice> {
    match practice_id.filter(|id| !id.is_empty()) {
        Some(id) => Ok(state.store().practice(id).await?),
        None => state
            .store()
            .practices()
            .await?
            .into_iter()
            .next()
            .ok_or(Error::NotFound),
    }
}

/// How a request reached us, for the spam guard.
pub enum Origin<'a> {
    /// The web form, with its hidden field and signed stamp.
    Form { honeypot: &'a str, stamp: &'a str },
    /// The API: only a hidden field, if the client sent one.
    Api { honeypot: &'a str },
}

/// What the visitor is told: accepted (for a robot too, so it learns nothing).
pub enum Submitted {
    Received,
}

#[tracing::instrument(skip_all, fields(practice_id = %practice.id))]
pub async fn submit(
    state: &AppState,
    practice: &Practice,
    input: IntakeInput<'_>,
    origin: Origin<'_>,
    client: Option<IpAddr>,
) -> AppResult<Submitted> {
    let now = state.now();
    let verdict = match origin {
        Origin::Form { honeypot, stamp } => intake::guard(honeypot, stamp_time(state, stamp), now),
        Origin::Api { honeypot } if !honeypot.trim().is_empty() => GuardVerdict::Robot,
        Origin::Api { .. } => GuardVerdict::Person,
    };
    let too_early_or_late = match verdict {
        GuardVerdict::Robot => {
            tracing::info!("an appointment request filled the hidden field; dropped");
            return Ok(Submitted::Received);
        }
        GuardVerdict::Person => None,
        GuardVerdict::TooFast => Some(
            "That was quicker than we expected. Please check your details and send the form again.",
        ),
        GuardVerdict::Stale => {
            Some("This form was open for a long time. Please check your details and send it again.")
        }
    };
    // What the person can fix comes first; the timing is asked only of a
    // form that is otherwise fine.
    let request = intake::validate(&input).map_err(Error::Invalid)?;
    if let Some(message) = too_early_or_late {
        return Err(Error::invalid("form", message));
    }
    let key = format!(
        "intake:{}",
        client.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    );
    // Counted before anything is stored, atomically: parallel posts cannot pass the limit.
    let attempt = state
        .store()
        .throttle_attempt(&key, now, RATE_WINDOW, |n| {
            if n >= RATE_FREE_REQUESTS {
                RATE_WINDOW
            } else {
                0
            }
        })
        .await?;
    if let ThrottleAttempt::Locked { until } = attempt {
        return Err(Error::RateLimited {
            retry_after_secs: (until - now + 999) / 1000,
            message: "We have already received several requests from here today. Please wait a while, or contact the practice directly.",
        });
    }
    let partner_email = request
        .partner_email
        .as_ref()
        .map_or("", EmailAddress::as_str);
    let id = trellis_store::new_id();
    let row = record_request(
        state,
        NewIntake {
            id: &id,
            practice_id: &practice.id,
            names: &request.names,
            email: request.email.as_str(),
            partner_email,
            preferred_times: &request.preferred_times,
            message: &request.message,
            seen_separately: request.seen_separately,
            safe_contact: &request.safe_contact,
            now,
        },
    )
    .await?;
    tracing::info!(intake_id = %row.id, "appointment request received");
    for member in staff(state, &practice.id).await? {
        notices::notify(state, &member, Notice::NewIntake).await?;
    }
    Ok(Submitted::Received)
}

/// The fields of a request kept sealed with the practice's key. (Preferred
/// times stay plain: "Evenings" tells nobody anything.)
pub const SEALED_FIELDS: [&str; 6] = [
    "names",
    "email",
    "partner_email",
    "message",
    "reply",
    "safe_contact",
];

/// The context an intake field is sealed with.
pub fn field_context(id: &str, field: &str) -> String {
    format!("intake:{id}:{field}")
}

/// How long the contact details of a closed request are kept.
pub const CLOSED_DETAILS_KEPT: Millis = 90 * trellis_core::time::DAY;

async fn seal_field(
    state: &AppState,
    practice_id: &str,
    id: &str,
    field: &str,
    text: &str,
) -> AppResult<String> {
    Ok(state
        .vault()
        .seal_text(
            state.store(),
            &trellis_store::practice_key_owner(practice_id),
            text,
            &field_context(id, field),
        )
        .await?)
}

/// Stores a request with its personal details sealed (the demo uses this too).
pub async fn record_request(state: &AppState, new: NewIntake<'_>) -> AppResult<IntakeRow> {
    let seal = |field, text| seal_field(state, new.practice_id, new.id, field, text);
    let names = seal("names", new.names).await?;
    let email = seal("email", new.email).await?;
    let partner_email = seal("partner_email", new.partner_email).await?;
    let message = seal("message", new.message).await?;
    let safe_contact = seal("safe_contact", new.safe_contact).await?;
    let row = state
        .store()
        .create_intake(NewIntake {
            names: &names,
            email: &email,
            partner_email: &partner_email,
            message: &message,
            safe_contact: &safe_contact,
            ..new
        })
        .await?;
    opened(state, row).await
}

/// A request with its sealed fields opened.
async fn opened(state: &AppState, mut row: IntakeRow) -> AppResult<IntakeRow> {
    let owner = trellis_store::practice_key_owner(&row.practice_id);
    let vault = state.vault();
    let store = state.store();
    for (field, value) in [
        ("names", &mut row.names),
        ("email", &mut row.email),
        ("partner_email", &mut row.partner_email),
        ("message", &mut row.message),
        ("reply", &mut row.reply),
        ("safe_contact", &mut row.safe_contact),
    ] {
        *value = vault
            .open_text(store, &owner, value, &field_context(&row.id, field))
            .await?;
    }
    Ok(row)
}

/// How long the name and email of an invitation are kept after it ended
/// unused (expired or replaced); used ones are forgotten at once.
pub const ENDED_INVITATIONS_KEPT: Millis = 30 * trellis_core::time::DAY;

/// The pruning rule, run at start-up and with the hourly check-in sweep:
/// closed requests lose their details after [`CLOSED_DETAILS_KEPT`];
/// invitations lose name and email once used, or [`ENDED_INVITATIONS_KEPT`]
/// after they ended. Returns `(requests, invitations)` pruned.
pub async fn prune_personal_details(
    store: &trellis_store::Store,
    now: Millis,
) -> anyhow::Result<(u64, u64)> {
    let requests = store
        .prune_closed_intakes(now - CLOSED_DETAILS_KEPT)
        .await?;
    let invitations = store
        .prune_invitations(now - ENDED_INVITATIONS_KEPT)
        .await?;
    if requests + invitations > 0 {
        tracing::info!(requests, invitations, "old personal details pruned");
    }
    Ok((requests, invitations))
}

/// Admins and therapists of a practice.
async fn staff(state: &AppState, practice_id: &str) -> AppResult<Vec<User>> {
    Ok(state.store().practice_staff(practice_id).await?)
}

fn practice_of(user: &User) -> AppResult<&str> {
    match user.role {
        Role::Admin | Role::Therapist => user.practice_id.as_deref().ok_or(Error::Forbidden),
        Role::Partner => Err(Error::Forbidden),
    }
}

pub async fn inbox(state: &AppState, staff_member: &User) -> AppResult<Vec<IntakeRow>> {
    let practice_id = practice_of(staff_member)?;
    let mut requests = Vec::new();
    for row in state.store().intakes(practice_id, 200).await? {
        requests.push(opened(state, row).await?);
    }
    Ok(requests)
}

pub async fn request(state: &AppState, staff_member: &User, id: &str) -> AppResult<IntakeRow> {
    let practice_id = practice_of(staff_member)?;
    opened(state, state.store().intake(practice_id, id).await?).await
}

/// What accepting did: who was invited, and what the staff should know next.
pub struct Accepted {
    pub couple_id: String,
    pub sent: Vec<SentInvitation>,
    /// They asked to be seen separately first, so only one person was invited.
    pub seen_separately: bool,
}

/// What staff are told when only the person who wrote was invited.
pub const SEEN_SEPARATELY_NOTE: &str = "They asked to be seen separately first, so only the person who wrote to you has been invited. \
     Their partner has not been contacted. When you feel it is right, you can invite them from the couple's page.";

/// The invitee for a request to be seen separately: the person who wrote
/// (the one with the request's address), or the first one named.
fn requester<'a, 'b>(row: &IntakeRow, partners: &'a [Invitee<'b>]) -> Option<&'a Invitee<'b>> {
    partners
        .iter()
        .find(|p| p.email.trim().eq_ignore_ascii_case(row.email.trim()))
        .or_else(|| partners.first())
}

/// Accepting: the request becomes a couple guided by `therapist_id` (a
/// therapist accepts for themselves), and both partners are invited. When
/// they asked to be seen separately first, only the person who wrote is
/// invited: the therapist decides later about the other partner.
#[tracing::instrument(skip_all, fields(staff = %staff_member.id, intake_id = id))]
pub async fn accept(
    state: &AppState,
    staff_member: &User,
    id: &str,
    therapist_id: Option<&str>,
    partners: &[Invitee<'_>],
) -> AppResult<Accepted> {
    let practice_id = practice_of(staff_member)?;
    let row = opened(state, state.store().intake(practice_id, id).await?).await?;
    let therapist = match (staff_member.role, therapist_id.filter(|t| !t.is_empty())) {
        (Role::Therapist, None) => staff_member.clone(),
        (_, Some(therapist_id)) => {
            let therapist = state.store().user(therapist_id).await.map_err(|_| {
                Error::invalid(
                    "therapist_id",
                    "Please choose one of the practice's therapists.",
                )
            })?;
            if therapist.role != Role::Therapist
                || therapist.practice_id.as_deref() != Some(practice_id)
            {
                return Err(Error::invalid(
                    "therapist_id",
                    "Please choose one of the practice's therapists.",
                ));
            }
            therapist
        }
        (_, None) => {
            return Err(Error::invalid(
                "therapist_id",
                "Please choose the therapist who will see this couple.",
            ));
        }
    };
    let now = state.now();
    // Claim it first, so two people accepting at once make one couple.
    state
        .store()
        .close_intake(practice_id, id, "accepted", &staff_member.id, None, now)
        .await?;
    let created = match (row.seen_separately, requester(&row, partners)) {
        (true, Some(requester)) => {
            couples::create_couple_inviting_one(state, &therapist, requester).await
        }
        _ => couples::create_couple(state, &therapist, partners).await,
    };
    match created {
        Ok((couple, sent)) => {
            state.store().set_intake_couple(id, &couple.id).await?;
            audit::record(
                state,
                audit::Event::new("intake_accepted")
                    .actor(staff_member)
                    .couple(&couple.id)
                    .item("intake", id),
            )
            .await?;
            Ok(Accepted {
                couple_id: couple.id.into_string(),
                sent,
                seen_separately: row.seen_separately,
            })
        }
        Err(err) => {
            state.store().reopen_intake(practice_id, id).await?;
            Err(err)
        }
    }
}

/// Replying (the request stays open) or declining (it closes): the text goes
/// to the visitor by mail, as the practice's own words.
#[tracing::instrument(skip_all, fields(staff = %staff_member.id, intake_id = id))]
pub async fn answer(
    state: &AppState,
    staff_member: &User,
    id: &str,
    reply: &str,
    decline: bool,
) -> AppResult<IntakeRow> {
    let practice_id = practice_of(staff_member)?;
    let reply = reply.trim();
    if reply.is_empty() {
        return Err(Error::invalid("reply", "Please write a reply to send."));
    }
    within_limit("reply", "the reply", reply, REPLY_MAX_CHARS)?;
    let request = opened(state, state.store().intake(practice_id, id).await?).await?;
    let sealed_reply = seal_field(state, practice_id, id, "reply", reply).await?;
    let status = if decline { "declined" } else { "replied" };
    state
        .store()
        .close_intake(
            practice_id,
            id,
            status,
            &staff_member.id,
            Some(&sealed_reply),
            state.now(),
        )
        .await?;
    let practice = state.store().practice(practice_id).await?;
    let body = format!(
        "Hello {names},\n\nThank you for contacting {practice}. {who} wrote:\n\n{reply}\n\n— {practice}, via Trellis\n",
        names = request.names,
        practice = practice.name,
        who = staff_member.name,
    );
    let sent = super::outbox::send(
        state,
        &request.names,
        &request.email,
        &format!("Your request to {}", practice.name),
        &body,
    )
    .await?;
    if sent == super::outbox::Sent::Later {
        return Err(Error::Conflict(
            "The reply is saved, but the mail could not be sent just now. Trellis will keep trying; you may want to contact them another way too."
                .to_owned(),
        ));
    }
    opened(state, state.store().intake(practice_id, id).await?).await
}
