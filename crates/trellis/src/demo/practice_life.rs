//! The practice around the couples: its public page, sessions past and to
//! come, message threads, the therapist's notes and comments, and requests
//! waiting in the intake inbox.

use anyhow::Context;
use trellis_app::services::messages::{self, ThreadKind};
use trellis_app::services::notes;
use trellis_app::services::{compromise, talks};
use trellis_core::Millis;
use trellis_core::talk::Move;
use trellis_core::time::{DAY, MINUTE, utc_date};
use trellis_store::{NewAppointment, NewIntake, User};
use trellis_web::AppState;
use trellis_web::when;

use super::history::{back_to, user};

const ZONE: &str = "Europe/London";

/// `clock` o'clock in London, `days` from now (negative: in the past).
fn at(now: Millis, days: i64, clock: &str) -> anyhow::Result<Millis> {
    let zone = when::time_zone("zone", ZONE).map_err(|e| anyhow::anyhow!(e.message))?;
    when::parse_time(
        "start",
        &format!("{}T{clock}", utc_date(now + days * DAY)),
        &zone,
    )
    .map_err(|e| anyhow::anyhow!(e.message))
}

async fn sessions(
    state: &AppState,
    therapist: &User,
    couple_id: &trellis_core::CoupleId,
    days: &[i64],
    clock: &str,
    location: &str,
    now: Millis,
) -> anyhow::Result<()> {
    let kind = trellis_core::schedule::LocationKind::infer(location);
    for &day in days {
        let starts_at = at(now, day, clock)?;
        state
            .store()
            .create_appointment(NewAppointment {
                couple_id,
                therapist_id: &therapist.id,
                starts_at,
                ends_at: starts_at + 50 * MINUTE,
                location_kind: kind.as_str(),
                location,
                now: starts_at.min(now) - 7 * DAY,
            })
            .await?;
    }
    Ok(())
}

async fn say(
    state: &AppState,
    who: &User,
    thread: &messages::Thread,
    body: &str,
    at: Millis,
) -> anyhow::Result<()> {
    let present = back_to(state, at);
    let posted = messages::post(state, who, thread, body).await;
    back_to(state, present);
    posted.map_err(|e| anyhow::anyhow!("demo message: {e}"))?;
    Ok(())
}

pub async fn seed(state: &AppState, now: Millis, sisters_visits: &str) -> anyhow::Result<()> {
    let state = &state.with_clock(trellis_core::time::Clock::manual(now));
    let err = |e: trellis_app::Error| anyhow::anyhow!("demo: {e}");
    let priya = user(state, "therapist@example.com").await?;
    let tom = user(state, "therapist2@example.com").await?;
    let alex = user(state, "alex@example.com").await?;
    let sam = user(state, "sam@example.com").await?;
    let jordan = user(state, "jordan@example.com").await?;
    let practice_id = priya.practice_id.clone().context("Priya has no practice")?;
    state
        .store()
        .update_practice_details(
            &practice_id,
            "2 Riverside Walk, Kingston upon Thames\nMonday to Thursday, 9am to 8pm\nhello@riverside-couples.example",
            ZONE,
            24,
        )
        .await?;

    // Alex & Sam: weekly on Thursday evenings, in the practice.
    let couple = alex.couple_id.clone().context("Alex has no couple")?;
    let room = "Room 2, 2 Riverside Walk";
    sessions(
        state,
        &priya,
        &couple,
        &[-35, -28, -21, -14, -7, 3, 10],
        "18:00",
        room,
        now,
    )
    .await?;
    // Jordan & Riley: every other week, by video.
    let other = jordan.couple_id.clone().context("Jordan has no couple")?;
    sessions(
        state,
        &tom,
        &other,
        &[-30, -16, -2, 12],
        "19:30",
        "https://meet.example/riverside-tom",
        now,
    )
    .await?;

    let ago = |days: i64, minutes: i64| now - days * DAY + minutes * MINUTE;
    let together = messages::thread(state, &sam, ThreadKind::Couple, None, None)
        .await
        .map_err(err)?;
    let sams_private = messages::thread(state, &sam, ThreadKind::Private, None, None)
        .await
        .map_err(err)?;
    for (who, thread, body, when) in [
        (
            &sam,
            &together,
            "Could we move Thursday to 18:30? My train gets in late that week.",
            ago(9, 0),
        ),
        (
            &priya,
            &together,
            "18:30 is fine for me. I'll see you both then.",
            ago(9, 95),
        ),
        (
            &alex,
            &together,
            "Thank you. We've been doing the ten-minute check-ins most evenings.",
            ago(8, 10),
        ),
        (
            &sam,
            &sams_private,
            "I'm nervous about raising my sister's visits with Alex in the room. Can we go slowly?",
            ago(2, 30),
        ),
        (
            &priya,
            &sams_private,
            "Of course. We'll start with what each of you needs from those visits, not with who is right.",
            ago(2, 120),
        ),
        (
            &alex,
            &together,
            "Small thing, but we made it through a hard conversation about money without either of us walking out.",
            ago(1, 0),
        ),
    ] {
        say(state, who, thread, body, when).await?;
    }
    // Priya read the thread before Alex's last message: one new message waits.
    state
        .store()
        .mark_thread_read(&priya.id, &together.key, ago(2, 130))
        .await?;
    state
        .store()
        .mark_thread_read(&priya.id, &sams_private.key, ago(2, 130))
        .await?;

    messages::comment(
        state,
        &priya,
        sisters_visits,
        "Thank you for bringing this. Let's give it the first half of Thursday's session.",
    )
    .await
    .map_err(err)?;

    for (days, body) in [
        (
            28,
            "Presenting concerns: rebuilding trust after Alex's hidden messages; Sam feels foolish and alone.\n\nInterventions: slowed the exchange down; reflective listening.\n\nHomework: hearing the hurt, with reflect-back.\n\nPlan: acknowledging the pain before any problem-solving.",
        ),
        (
            7,
            "Presenting concerns: Sam raised feeling managed rather than asked.\n\nInterventions: softened start-ups; Alex owned the lie without explaining it away.\n\nHomework: patterns I recognise.\n\nPlan: Sam's sister's visits next week; watch for Alex withdrawing when criticised.",
        ),
    ] {
        back_to(state, now - days * DAY);
        let written = notes::write(state, &priya, &couple, body).await;
        back_to(state, now);
        written.map_err(err)?;
    }
    notes::write(
        state,
        &tom,
        &other,
        "Presenting concerns: money and time together.\n\nPlan: keep their own pace; check the Thursday evenings goal.",
    )
    .await
    .map_err(err)?;

    // Sam and Alex are in the middle of a talk about the sister's visits;
    // Alex took one break last week; a compromise waits for Sam's circles.
    // the talk happened yesterday, a minute a turn
    back_to(state, now - DAY);
    let talk = talks::open(state, &sam, "How we handle my sister's visits", true)
        .await
        .map_err(err)?;
    for (who, action, body) in [
        (
            &sam,
            Move::Speak,
            "When Jo stays, I feel torn between you and her, and I end up apologising to both.",
        ),
        (
            &alex,
            Move::Paraphrase,
            "You feel pulled in two directions when Jo visits.",
        ),
        (
            &sam,
            Move::Clarify,
            "Torn, and then guilty, because I keep saying sorry to both of you.",
        ),
        (
            &alex,
            Move::Paraphrase,
            "You feel torn, and then guilty, because you end up apologising to both of us.",
        ),
        (&sam, Move::Confirm, ""),
        (&sam, Move::HandOver, ""),
        (
            &alex,
            Move::Speak,
            "I feel like a guest in my own home when the plans are made without me.",
        ),
        (
            &sam,
            Move::Paraphrase,
            "You feel left out when Jo and I make the plans.",
        ),
    ] {
        state.clock().advance(MINUTE);
        talks::make_move(state, who, &talk.id, action, body, false)
            .await
            .map_err(err)?;
    }
    back_to(state, now);
    let started = now - 5 * DAY;
    let timeout = state
        .store()
        .create_timeout(
            &trellis_store::new_id(),
            &couple,
            &alex.id,
            None,
            started,
            started + 40 * MINUTE,
        )
        .await?;
    state
        .store()
        .claim_timeout_return(&timeout.id, started + 40 * MINUTE)
        .await?;
    let sundays = compromise::open(state, &alex, "Our Sundays")
        .await
        .map_err(err)?;
    compromise::write(
        state,
        &alex,
        &sundays.id,
        "A slow morning together, without phones.",
        "What we do in the afternoon, and seeing friends.",
    )
    .await
    .map_err(err)?;

    for (names, email, times, message, days) in [
        (
            "Maya and Leo",
            "maya@example.net",
            "Weekday evenings after 6",
            "We keep having the same argument and it is wearing us both down.",
            1,
        ),
        (
            "Ana & Bo",
            "ana@example.net",
            "Saturday mornings",
            "We'd like some help before our wedding next year.",
            4,
        ),
    ] {
        trellis_app::services::intake::record_request(
            state,
            NewIntake {
                id: &trellis_store::new_id(),
                practice_id: &practice_id,
                names,
                email,
                partner_email: "",
                preferred_times: times,
                message,
                seen_separately: false,
                safe_contact: "",
                now: now - days * DAY,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}
