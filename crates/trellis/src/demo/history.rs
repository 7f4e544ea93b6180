//! Weeks of life in the demo practice: onboarding, exercises (one paired
//! exchange revealed, one still waiting, a reflect-back round confirmed),
//! journal entries shared and private, homework. Written through the same
//! services people use, at the times they tell of (the services read a
//! manual clock the demo moves back and forth).

use std::collections::BTreeMap;

use anyhow::Context;
use trellis_app::services::program::{self, AnswerInput};
use trellis_app::services::writing::{self, JOURNAL, NewWriting};
use trellis_app::services::{onboarding, situation};
use trellis_core::EmailAddress;
use trellis_core::Millis;
use trellis_core::privacy::Audience;
use trellis_core::time::DAY;
use trellis_store::User;
use trellis_web::AppState;

pub(super) async fn user(state: &AppState, email: &str) -> anyhow::Result<User> {
    let email = EmailAddress::parse("email", email).map_err(|e| anyhow::anyhow!(e.message))?;
    Ok(state
        .store()
        .user_by_email(&email)
        .await?
        .context("a demo account is missing")?
        .user)
}

async fn onboard(state: &AppState, partner: &User) -> anyhow::Result<()> {
    onboarding::welcome(state, partner, true).await?;
    let answers: BTreeMap<String, String> = state
        .content()
        .safety
        .questions
        .iter()
        .map(|q| {
            (
                q.id.clone(),
                if q.concerning == "yes" { "no" } else { "yes" }.to_owned(),
            )
        })
        .collect();
    onboarding::submit_safety(state, partner, &answers).await?;
    Ok(())
}

fn text(body: &str, audience: Audience) -> AnswerInput {
    AnswerInput {
        body: Some(body.to_owned()),
        audience: Some(audience.as_str().to_owned()),
        ..AnswerInput::default()
    }
}

async fn answer(
    state: &AppState,
    who: &User,
    exercise: &str,
    input: AnswerInput,
    at: Millis,
) -> anyhow::Result<()> {
    let present = back_to(state, at);
    let answered = program::answer(state, who, exercise, input).await;
    back_to(state, present);
    answered.map_err(|e| anyhow::anyhow!("demo answer to {exercise}: {e}"))?;
    Ok(())
}

async fn journal(
    state: &AppState,
    who: &User,
    body: &str,
    audience: Audience,
    at: Millis,
) -> anyhow::Result<String> {
    let present = back_to(state, at);
    let written = writing::write(
        state,
        who,
        NewWriting {
            kind: JOURNAL,
            ref_id: None,
            body,
            audience,
        },
    )
    .await;
    // its undo window (a minute after `at`) closed long ago
    back_to(state, present);
    Ok(written
        .map_err(|e| anyhow::anyhow!("demo journal: {e}"))?
        .id)
}

fn ratings(values: &[(&str, i64)]) -> AnswerInput {
    AnswerInput {
        ratings: values.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        ..AnswerInput::default()
    }
}

/// Answers that add up to `target` (spread from the first item on).
fn answers_for(
    state: &AppState,
    instrument: &str,
    target: i64,
) -> anyhow::Result<BTreeMap<String, i64>> {
    let instrument = state
        .content()
        .instrument(instrument)
        .context("a demo instrument is missing")?;
    let mut remaining = target;
    let mut answers = BTreeMap::new();
    for item in &instrument.items {
        let max = item.options.iter().map(|o| o.value).max().unwrap_or(0);
        let value = remaining.clamp(0, max);
        remaining -= value;
        answers.insert(item.id.clone(), value);
    }
    Ok(answers)
}

async fn measure(
    state: &AppState,
    who: &User,
    instrument: &str,
    score: i64,
    at: Millis,
) -> anyhow::Result<()> {
    let answers = answers_for(state, instrument, score)?;
    let present = back_to(state, at);
    let submitted =
        trellis_app::services::measures::submit(state, who, instrument, &answers, None).await;
    back_to(state, present);
    submitted.map_err(|e| anyhow::anyhow!("demo measure {instrument}: {e}"))?;
    Ok(())
}

/// Six weeks of check-ins: Alex and Sam improving; Riley sliding below
/// the cutoff and missing the last check-ins, Jordan steady.
async fn measures(state: &AppState, people: [&User; 4], now: Millis) -> anyhow::Result<()> {
    let [alex, sam, jordan, riley] = people;
    let ago = |days: i64| now - days * DAY;
    for (who, to_partner) in [(alex, true), (sam, false), (jordan, false), (riley, false)] {
        trellis_app::services::measures::set_sharing(state, who, true, to_partner)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    measure(state, alex, "csi16", 38, ago(41)).await?;
    measure(state, sam, "csi16", 35, ago(41)).await?;
    measure(state, jordan, "csi16", 50, ago(34)).await?;
    measure(state, riley, "csi16", 47, ago(34)).await?;
    let alex_csi = [9, 10, 12, 12, 14, 16];
    let sam_csi = [8, 9, 9, 11, 13, 15];
    let alex_pulse = [11, 13, 14, 16, 18, 20];
    let sam_pulse = [9, 10, 12, 13, 15, 17];
    for week in 0..6 {
        let days = 35 - week as i64 * 7;
        measure(state, alex, "csi4", alex_csi[week], ago(days)).await?;
        measure(state, sam, "csi4", sam_csi[week], ago(days + 1)).await?;
        measure(state, alex, "trust-pulse", alex_pulse[week], ago(days)).await?;
        measure(state, sam, "trust-pulse", sam_pulse[week], ago(days + 1)).await?;
    }
    let jordan_csi = [14, 15, 14, 15, 15];
    for (week, score) in jordan_csi.into_iter().enumerate() {
        let days = 30 - week as i64 * 7;
        measure(state, jordan, "csi4", score, ago(days)).await?;
        measure(state, jordan, "trust-pulse", 18 + week as i64, ago(days)).await?;
    }
    // Riley checked in every few days at first, sliding below the cutoff, then stopped.
    let riley_csi = [13, 12, 11, 10];
    for (week, score) in riley_csi.into_iter().enumerate() {
        let days = 33 - week as i64 * 3;
        measure(state, riley, "csi4", score, ago(days)).await?;
        measure(state, riley, "trust-pulse", 16 - 2 * week as i64, ago(days)).await?;
    }
    Ok(())
}

/// Three weeks of a daily promise of Alex's, kept most days and often
/// noticed by Sam; an agreement both signed; appreciations both ways.
async fn accountability(state: &AppState, alex: &User, sam: &User) -> anyhow::Result<()> {
    use trellis_app::services::accountability as acc;
    use trellis_core::consistency::Cadence;
    let err = |e: trellis_app::Error| anyhow::anyhow!("demo: {e}");
    let couple = alex.couple_id.clone().context("Alex has no couple")?;
    let today = acc::today_for(state, alex).await.map_err(err)?;
    let id = trellis_store::new_id();
    let text = "I'll text you when I leave work, so you're not left wondering.";
    let sealed = state
        .vault()
        .seal(state.store(), &couple, text, &format!("promise:{id}"))
        .await?;
    let cadence = serde_json::to_string(&Cadence::Daily)?;
    let start = today - 20;
    state
        .store()
        .insert_promise(
            &id,
            &couple,
            &alex.id,
            &sealed,
            &cadence,
            start,
            None,
            (start) * DAY,
        )
        .await?;
    for day in start..today {
        // Kept on most days, with a couple of ordinary misses.
        if (day - start) % 9 == 4 {
            continue;
        }
        state
            .store()
            .mark_kept(&id, day, day * DAY + 17 * trellis_core::time::HOUR)
            .await?;
        if (day - start) % 3 != 1 {
            let thanks = if (day - start) == 6 {
                Some("Thank you. It really settles me.")
            } else {
                None
            };
            let sealed = match thanks {
                Some(t) => Some(
                    state
                        .vault()
                        .seal(state.store(), &couple, t, &format!("thanks:{id}:{day}"))
                        .await?,
                ),
                None => None,
            };
            state
                .store()
                .mark_noticed(
                    &id,
                    day,
                    sealed.as_deref(),
                    day * DAY + 18 * trellis_core::time::HOUR,
                )
                .await?;
        }
    }
    let agreement = acc::propose_agreement(state, sam, "Contact with exes", "If a former partner gets in touch, we tell each other the same day, and we answer together if we want to answer at all.", None)
        .await
        .map_err(err)?;
    acc::accept_agreement(state, alex, &agreement)
        .await
        .map_err(err)?;
    let present = back_to(state, state.now() - 8 * DAY);
    let first = acc::appreciate(
        state,
        sam,
        "Thank you for the texts after work. It is a small thing that makes my evenings calmer.",
        true,
    )
    .await;
    back_to(state, present - 3 * DAY);
    let second = acc::appreciate(
        state,
        alex,
        "I loved how you laughed at dinner on Friday. I've missed that.",
        false,
    )
    .await;
    back_to(state, present);
    first.map_err(err)?;
    second.map_err(err)?;
    Ok(())
}

/// Moves the demo's clock to `at` (the demo writes its history at the
/// times it tells of) and returns where it stood.
pub(super) fn back_to(state: &AppState, at: Millis) -> Millis {
    let present = state.now();
    state.clock().set(at);
    present
}

pub async fn seed(state: &AppState, now: Millis) -> anyhow::Result<()> {
    let state = &state.with_clock(trellis_core::time::Clock::manual(now));
    let alex = user(state, "alex@example.com").await?;
    let sam = user(state, "sam@example.com").await?;
    let jordan = user(state, "jordan@example.com").await?;
    let riley = user(state, "riley@example.com").await?;
    let priya = user(state, "therapist@example.com").await?;
    let tom = user(state, "therapist2@example.com").await?;
    for partner in [&alex, &sam, &jordan, &riley] {
        onboard(state, partner).await?;
    }
    let err = |e: trellis_app::Error| anyhow::anyhow!("demo: {e}");
    // Noor & Kai joined this week: both answered the safety check, and
    // shared work waits for Dr. Priya's decision after seeing each alone.
    for email in ["noor@example.com", "kai@example.com"] {
        onboard(state, &user(state, email).await?).await?;
    }
    let ago = |days: i64| now - days * DAY;

    // Alex & Sam: guided by Dr. Priya, six weeks in. Alex broke Sam's
    // trust (a hidden relationship, since ended), so each reads the
    // wording for their role; they are atoning now, in stage three.
    let couple = alex.couple_id.clone().context("Alex has no couple")?;
    situation::set(
        state,
        &priya,
        &couple,
        &situation::SituationInput {
            kind: "one_hurt".into(),
            hurt_partner_id: Some(sam.id.to_string()),
        },
    )
    .await
    .map_err(err)?;
    for stage in ["acknowledging-the-pain", "atoning"] {
        program::unlock_stage(state, &priya, &couple, stage)
            .await
            .map_err(err)?;
    }
    answer(
        state,
        &alex,
        "three-parts-of-trust",
        ratings(&[("safety", 4), ("reliability", 3), ("respect", 6)]),
        ago(40),
    )
    .await?;
    answer(
        state,
        &sam,
        "three-parts-of-trust",
        ratings(&[("safety", 3), ("reliability", 2), ("respect", 5)]),
        ago(39),
    )
    .await?;
    answer(state, &alex, "trust-in-daily-life", text("Safety, for me, is Sam asking how my day was and actually waiting for the answer. Reliability is small: the bins, the school run, a text when I'm late.", Audience::Therapist), ago(37)).await?;
    answer(state, &sam, "trust-in-daily-life", text("I feel safe when I can say 'that hurt' without it turning into a fight. Respect is being asked, not told.", Audience::Me), ago(36)).await?;
    answer(state, &alex, "my-time-out-plan", text("When my chest tightens and I start explaining instead of listening, I'll say 'I need twenty minutes', walk round the block, and come back to finish.", Audience::PartnerAndTherapist), ago(35)).await?;
    answer(state, &sam, "my-time-out-plan", text("If I start crying too hard to talk, I'll ask for a pause and sit in the garden. I'll text when I'm ready to come back.", Audience::PartnerAndTherapist), ago(35)).await?;
    answer(state, &sam, "plan-for-hard-days", text("Anniversaries and late evenings are hard. On those days I'll tell you in the morning, and I'd like you home by seven.", Audience::PartnerAndTherapist), ago(33)).await?;
    answer(state, &alex, "plan-for-hard-days", text("When Sam has a bad day I'll ask what would help rather than guess, and I won't read one hard evening as the end of us.", Audience::PartnerAndTherapist), ago(33)).await?;
    answer(state, &sam, "boundaries-we-need", text("No contact with her at all, and you tell me the same day if she gets in touch. I'd like openness about where you are for a while, offered rather than demanded.", Audience::PartnerAndTherapist), ago(30)).await?;
    answer(state, &alex, "boundaries-we-need", text("There is no contact any more, and I've blocked her number. If she ever gets in touch I'll tell you that day, and I'll be open about where I am for as long as you need.", Audience::PartnerAndTherapist), ago(29)).await?;
    answer(state, &sam, "hearing-the-hurt", AnswerInput { action: Some("share".into()), ..text("When you said you were working late and you weren't, I felt foolish for believing you, and very alone.", Audience::PartnerAndTherapist) }, ago(22)).await?;
    answer(
        state,
        &alex,
        "hearing-the-hurt",
        AnswerInput {
            action: Some("reflect".into()),
            ..text(
                "You felt stupid that you trusted me.",
                Audience::PartnerAndTherapist,
            )
        },
        ago(22),
    )
    .await?;
    answer(state, &sam, "hearing-the-hurt", AnswerInput { action: Some("clarify".into()), ..text("Not stupid. Foolish, and above all alone: like I was the only one in the marriage that week.", Audience::PartnerAndTherapist) }, ago(21)).await?;
    answer(state, &alex, "hearing-the-hurt", AnswerInput { action: Some("reflect".into()), ..text("You felt foolish for trusting me, and alone, as if you were the only one still in our marriage that week.", Audience::PartnerAndTherapist) }, ago(21)).await?;
    answer(
        state,
        &sam,
        "hearing-the-hurt",
        AnswerInput {
            action: Some("confirm".into()),
            ..AnswerInput::default()
        },
        ago(20),
    )
    .await?;
    answer(state, &alex, "taking-responsibility", text("I lied to avoid a hard conversation, and that choice was mine. I want to be someone who says the hard thing on the day.", Audience::Therapist), ago(14)).await?;
    answer(
        state,
        &alex,
        "naming-feelings",
        text(
            "Ashamed, mostly. And scared that sorry will never be enough.",
            Audience::Me,
        ),
        ago(12),
    )
    .await?;
    journal(
        state,
        &sam,
        "Therapy today was tiring. I noticed I could listen for longer before getting defensive.",
        Audience::Me,
        ago(10),
    )
    .await?;
    journal(
        state,
        &alex,
        "Thank you for Sunday. The walk without phones was the best hour we've had in months.",
        Audience::Partner,
        ago(5),
    )
    .await?;
    let sisters_visits = journal(
        state,
        &sam,
        "I'd like to talk about how we handle my sister's visits. Can we bring it to Thursday?",
        Audience::PartnerAndTherapist,
        ago(2),
    )
    .await?;
    answer(
        state,
        &alex,
        "three-parts-of-trust",
        ratings(&[("safety", 6), ("reliability", 5), ("respect", 7)]),
        ago(3),
    )
    .await?;
    answer(
        state,
        &sam,
        "three-parts-of-trust",
        ratings(&[("safety", 5), ("reliability", 4), ("respect", 6)]),
        ago(2),
    )
    .await?;
    let due = trellis_core::time::utc_date(now + 4 * DAY);
    program::assign(
        state,
        &priya,
        &couple,
        "apology-letter",
        Some(&due),
        "Take your time; we'll read it together on Thursday.",
    )
    .await
    .map_err(err)?;

    // Jordan & Riley: with Tom, at their own pace, five weeks in. No one
    // betrayal: trust wore down between a new job, a move and money
    // worries, so they follow the shorter program, Trust worn down, and
    // are in its second stage.
    let couple = jordan.couple_id.clone().context("Jordan has no couple")?;
    situation::set(
        state,
        &tom,
        &couple,
        &situation::SituationInput {
            kind: "eroded".into(),
            hurt_partner_id: None,
        },
    )
    .await
    .map_err(err)?;
    state
        .store()
        .set_journey_settings(&couple, "trust-worn-down", true, ago(34))
        .await?;
    answer(
        state,
        &jordan,
        "three-parts-of-trust",
        ratings(&[("safety", 5), ("reliability", 6), ("respect", 6)]),
        ago(33),
    )
    .await?;
    answer(
        state,
        &riley,
        "three-parts-of-trust",
        ratings(&[("safety", 4), ("reliability", 3), ("respect", 5)]),
        ago(33),
    )
    .await?;
    answer(
        state,
        &riley,
        "how-it-wore-down",
        text(
            "Tired. Hopeful on good days. Lonely when we go quiet for a whole evening. I think it started when we stopped telling each other the small things.",
            Audience::Therapist,
        ),
        ago(20),
    )
    .await?;
    answer(state, &jordan, "how-it-wore-down", text("Somewhere between the new job and the move we stopped checking in. Then the small worries became money worries, and I kept those to myself.", Audience::Partner), ago(19)).await?;
    answer(state, &jordan, "the-part-i-played", text("I went quiet about money instead of saying I was scared, and let the silence do the talking.", Audience::Partner), ago(12)).await?;
    answer(state, &riley, "the-part-i-played", text("I stopped asking about your day because I was afraid of the answer. Then I called the quiet 'giving you space'.", Audience::PartnerAndTherapist), ago(11)).await?;
    answer(
        state,
        &riley,
        "needs-that-went-unmet",
        text(
            "I needed to be asked how I was, not just what was for dinner.",
            Audience::PartnerAndTherapist,
        ),
        ago(10),
    )
    .await?;
    answer(
        state,
        &jordan,
        "needs-that-went-unmet",
        text(
            "I needed to hear that we were a team when the bills came, not that I'd failed.",
            Audience::Partner,
        ),
        ago(10),
    )
    .await?;
    // Stage three is open; Jordan answered the money question first and
    // Riley's answer is still to come (paired: neither sees the other's yet).
    answer(state, &jordan, "money-and-trust", text("Trust for us means no secrets about money, and telling each other early when we're struggling.", Audience::Partner), ago(9)).await?;
    journal(
        state,
        &riley,
        "We argued about the budget again, but we both took a break and came back. That's new.",
        Audience::PartnerAndTherapist,
        ago(4),
    )
    .await?;
    measures(state, [&alex, &sam, &jordan, &riley], now).await?;
    accountability(state, &alex, &sam).await?;
    super::practice_life::seed(state, now, &sisters_visits).await?;
    Ok(())
}
