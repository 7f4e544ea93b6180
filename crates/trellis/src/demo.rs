//! The demo practice: the shop window. Seeded only into an empty database,
//! through the same store operations real use goes through, with history
//! spread over past weeks.

use anyhow::Context;
use trellis_core::Millis;
use trellis_core::time::DAY;
use trellis_crypto::SecretToken;
use trellis_store::{NewPartner, NewPracticeWithAdmin, NewScreeningDecision, Store, User};

pub struct DemoAccount {
    pub email: &'static str,
    pub description: &'static str,
}

/// The demo's sign-ins, in the order they are printed.
pub const ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        email: "admin@example.com",
        description: "practice admin",
    },
    DemoAccount {
        email: "therapist@example.com",
        description: "therapist of Alex & Sam",
    },
    DemoAccount {
        email: "alex@example.com",
        description: "partner (with Sam)",
    },
    DemoAccount {
        email: "sam@example.com",
        description: "partner (with Alex)",
    },
    DemoAccount {
        email: "therapist2@example.com",
        description: "therapist of Jordan & Riley",
    },
    DemoAccount {
        email: "jordan@example.com",
        description: "partner (with Riley)",
    },
    DemoAccount {
        email: "riley@example.com",
        description: "partner (with Jordan)",
    },
];

/// Fills an empty database with the demo practice. Returns false (and
/// changes nothing) when the database already holds data.
pub async fn seed_if_empty(store: &Store, password: &str, now: Millis) -> anyhow::Result<bool> {
    if !store.is_empty().await? {
        return Ok(false);
    }
    let hash = trellis_crypto::hash_password(password).context("hashing the demo password")?;
    seed(store, &hash, now).await?;
    Ok(true)
}

async fn therapist(
    store: &Store,
    admin: &User,
    email: &str,
    name: &str,
    at: Millis,
) -> anyhow::Result<User> {
    let token = SecretToken::generate();
    store
        .create_therapist_invitation(admin, email, name, token.hash().as_str(), at, at + 7 * DAY)
        .await?;
    let code = crate::demo::practice_code(name);
    let accepted = store
        .accept_invitation(
            token.hash().as_str(),
            name,
            hash_placeholder(),
            Some(&code),
            at + DAY / 3,
        )
        .await?;
    Ok(accepted.user)
}

/// Accounts are created with a placeholder and given the real hash after,
/// so every demo account shares one (slow) hash computation.
fn hash_placeholder() -> &'static str {
    "$demo$unset"
}

fn practice_code(name: &str) -> String {
    let letters: String = name
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| !matches!(c, 'I' | 'O'))
        .chain("TRELLISX".chars())
        .take(4)
        .collect();
    format!("{letters}-2026")
}

struct CoupleSeed<'a> {
    partners: [(&'a str, &'a str); 2],
    started_days_ago: i64,
    joined: bool,
    /// The therapist saw each partner alone in the first week and cleared
    /// them for joint work.
    screened: bool,
}

async fn couple(
    store: &Store,
    therapist: &User,
    seed: CoupleSeed<'_>,
    now: Millis,
) -> anyhow::Result<Vec<User>> {
    let started = now - seed.started_days_ago * DAY;
    let tokens = [SecretToken::generate(), SecretToken::generate()];
    let hashes = [tokens[0].hash(), tokens[1].hash()];
    let partners: Vec<NewPartner<'_>> = seed
        .partners
        .iter()
        .zip(&hashes)
        .map(|((email, name), hash)| NewPartner {
            email,
            name,
            token_hash: hash.as_str(),
        })
        .collect();
    let (created, _) = store
        .create_couple_with_invitations(therapist, &partners, started, started + 7 * DAY)
        .await?;
    let mut users = Vec::new();
    if seed.joined {
        for (offset, (hash, (_, name))) in hashes.iter().zip(seed.partners).enumerate() {
            let joined_at = started + DAY / 2 + i64::try_from(offset)? * DAY;
            let accepted = store
                .accept_invitation(hash.as_str(), name, hash_placeholder(), None, joined_at)
                .await?;
            users.push(accepted.user);
        }
    }
    if seed.screened {
        for partner in &users {
            store
                .record_screening_decision(NewScreeningDecision {
                    couple_id: &created.id,
                    user_id: &partner.id,
                    decision: "conjoint_ok",
                    sealed_note: None,
                    decided_by: &therapist.id,
                    flag_id: None,
                    now: started + 5 * DAY,
                })
                .await?;
        }
    }
    Ok(users)
}

async fn seed(store: &Store, password_hash: &str, now: Millis) -> anyhow::Result<()> {
    let (_, admin) = store
        .create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: "Riverside Couples Practice",
            admin_email: "admin@example.com",
            admin_name: "Morgan Ellis",
            password_hash,
            setup_token_hash: None,
            now: now - 70 * DAY,
        })
        .await?;
    store
        .update_practice(
            admin.practice_id.as_deref().unwrap_or_default(),
            "Riverside Couples Practice",
            "A small team of couples therapists. We help partners talk again, repair trust and find their way back to each other.",
        )
        .await?;
    // The demo is tried by people without an authenticator app at hand; a real
    // practice keeps two-step sign-in required for its staff (the default).
    store
        .set_practice_requires_two_factor(admin.practice_id.as_deref().unwrap_or_default(), false)
        .await?;
    // The demo shows the helplines of the two regions its couples come from.
    store
        .set_practice_helpline_region(admin.practice_id.as_deref().unwrap_or_default(), "us,uk")
        .await?;
    let priya = therapist(
        store,
        &admin,
        "therapist@example.com",
        "Dr. Priya Natarajan",
        now - 68 * DAY,
    )
    .await?;
    let tom = therapist(
        store,
        &admin,
        "therapist2@example.com",
        "Tom Becker",
        now - 60 * DAY,
    )
    .await?;
    let alex_sam = CoupleSeed {
        partners: [("alex@example.com", "Alex"), ("sam@example.com", "Sam")],
        started_days_ago: 42,
        joined: true,
        screened: true,
    };
    let jordan_riley = CoupleSeed {
        partners: [
            ("jordan@example.com", "Jordan"),
            ("riley@example.com", "Riley"),
        ],
        started_days_ago: 35,
        joined: true,
        screened: true,
    };
    // A couple invited this week who have not joined yet, as a caseload has.
    let casey_drew = CoupleSeed {
        partners: [("casey@example.com", "Casey"), ("drew@example.com", "Drew")],
        started_days_ago: 2,
        joined: false,
        screened: false,
    };
    // A couple who joined this week: both took the private safety check, and
    // shared work waits until Dr. Priya has seen each of them alone.
    let noor_kai = CoupleSeed {
        partners: [("noor@example.com", "Noor"), ("kai@example.com", "Kai")],
        started_days_ago: 5,
        joined: true,
        screened: false,
    };
    let mut people = vec![priya, tom];
    people.extend(couple(store, &people[0].clone(), alex_sam, now).await?);
    people.extend(couple(store, &people[1].clone(), jordan_riley, now).await?);
    couple(store, &people[0].clone(), casey_drew, now).await?;
    people.extend(couple(store, &people[0].clone(), noor_kai, now).await?);
    for person in &people {
        store.set_password(&person.id, password_hash).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn practice_codes_are_readable() {
        assert_eq!(practice_code("Dr. Priya Natarajan"), "DRPR-2026");
        assert_eq!(practice_code("Tom Becker"), "TMBE-2026");
        assert_eq!(practice_code("Io"), "TREL-2026");
    }
}

/// Weeks of life in the demo practice: onboarding, exercises (one paired
/// exchange revealed, one still waiting, a reflect-back round confirmed),
/// journal entries shared and private, homework. Written through the same
/// services people use, then dated back.
pub mod history {
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
        let first = acc::appreciate(state, sam, "Thank you for the texts after work. It is a small thing that makes my evenings calmer.", true).await;
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
                hurt_partner_id: Some(sam.id.clone()),
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
        journal(state, &sam, "Therapy today was tiring. I noticed I could listen for longer before getting defensive.", Audience::Me, ago(10)).await?;
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
}

/// The practice around the couples: its public page, sessions past and to
/// come, message threads, the therapist's notes and comments, and requests
/// waiting in the intake inbox.
mod practice_life {
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
        couple_id: &str,
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
}
