//! `trellis loadgen`: a large, realistic practice written straight into an
//! empty database, for the scale benchmark (`benches/scale/`).
//!
//! Everything is written the way the services write it (sealed with each
//! couple's own data key, bound to the same contexts), so the generated
//! practice reads exactly like one grown through the app, only in minutes:
//! rows go in as multi-row inserts, the password is hashed once, and one
//! thread generates the next batch of couples while the database stores the
//! last.
//!
//! Accounts, all signing in with the given password:
//! `loadgen-admin@example.com`; `loadgen-therapist-1@example.com`, `-2`, …
//! with 40 couples each (the last one takes the rest); and
//! `loadgen-therapist-small@example.com` with 3 more couples, so a small
//! caseload can be measured beside a full one. Partners are
//! `loadgen-partner-<n>-1@example.com` and `-2`.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use trellis_core::consistency::Cadence;
use trellis_core::privacy::Audience;
use trellis_core::safety::Answer;
use trellis_core::time::{DAY, HOUR};
use trellis_core::{Millis, Role};
use trellis_store::{Cell, NewPracticeWithAdmin, Store};
use trellis_web::content::Content;
use trellis_web::vault::{Vault, entry_context};

/// Couples per therapist, as the benchmark's full caseload.
pub const COUPLES_PER_THERAPIST: usize = 40;
/// The small caseload measured beside a full one.
pub const SMALL_CASELOAD: usize = 3;
/// Couples generated per batch (one transaction per table per batch).
const BATCH: usize = 100;
const WEEK: Millis = 7 * DAY;

const FIRST_NAMES: &[&str] = &[
    "Ada", "Ben", "Cleo", "Dev", "Esme", "Finn", "Gita", "Hugo", "Ines", "Jon", "Kira", "Leo",
    "Mina", "Nico", "Omar", "Pia", "Quinn", "Rosa", "Sami", "Tess", "Uma", "Vik", "Wren", "Yara",
];

const JOURNAL: &[&str] = &[
    "We talked after dinner without phones. It felt slow and careful, but we stayed with it.",
    "I noticed I went quiet when the money came up again. I want to say what I feel next time.",
    "A better week. Small things: a message at lunch, a walk on Sunday.",
    "I felt the old fear come back when plans changed at the last minute. I told them, calmly.",
    "We kept our promise on Thursday. It surprised me how much that mattered.",
    "Hard day. I took a break instead of arguing, and we came back to it later.",
];

/// What partners write in their couple thread.
pub const MESSAGES: &[&str] = &[
    "Could we move Thursday's session to the afternoon?",
    "We tried the time-out plan this week and it helped.",
    "Thank you for last session. We have been talking more.",
    "Is there something we should read before next time?",
];

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub couples: usize,
    pub weeks: usize,
}

/// What was written, and how long it took.
#[derive(Debug, Clone)]
pub struct Report {
    pub couples: usize,
    pub therapists: usize,
    pub rows: usize,
    pub seconds: f64,
}

/// A table's rows: its name, its columns, the rows.
type TableRows = (&'static str, &'static [&'static str], Vec<Vec<Cell>>);

/// The rows of one batch of couples, table by table, in foreign-key order.
#[derive(Default)]
struct Batch {
    tables: Vec<TableRows>,
}

impl Batch {
    fn rows(&self) -> usize {
        self.tables.iter().map(|(_, _, rows)| rows.len()).sum()
    }
}

const USERS: &[&str] = &[
    "id",
    "email",
    "name",
    "role",
    "password_hash",
    "practice_id",
    "created_at",
];
const COUPLES: &[&str] = &["id", "practice_id", "therapist_id", "created_at"];
const MEMBERS: &[&str] = &["user_id", "couple_id", "joined_at"];
const DATA_KEYS: &[&str] = &["owner", "version", "master_key_id", "wrapped", "created_at"];
const ONBOARDING: &[&str] = &[
    "user_id",
    "welcomed_at",
    "scores_consent",
    "consent_at",
    "safety_done_at",
];
const SAFETY: &[&str] = &[
    "id",
    "user_id",
    "couple_id",
    "answers",
    "concerning",
    "created_at",
    "tier",
    "at_risk",
];
const DECISIONS: &[&str] = &[
    "id",
    "couple_id",
    "user_id",
    "decision",
    "decided_by",
    "decided_at",
];
const MEASURES: &[&str] = &[
    "id",
    "user_id",
    "couple_id",
    "instrument_id",
    "score",
    "score_sealed",
    "answers",
    "created_at",
];
const ENTRIES: &[&str] = &[
    "id",
    "couple_id",
    "author_id",
    "kind",
    "ref_id",
    "audience",
    "body",
    "created_at",
    "updated_at",
];
const PROMISES: &[&str] = &[
    "id",
    "couple_id",
    "owner_id",
    "text",
    "cadence",
    "start_day",
    "status",
    "created_at",
    "updated_at",
];
const MARKS: &[&str] = &["promise_id", "day", "kept_at"];
const APPOINTMENTS: &[&str] = &[
    "id",
    "couple_id",
    "therapist_id",
    "starts_at",
    "ends_at",
    "location_kind",
    "location",
    "status",
    "created_at",
    "updated_at",
];
const THREAD_READS: &[&str] = &["user_id", "thread_key", "read_at"];

/// One couple to generate: who guides it, its number (for names and mail).
#[derive(Clone)]
struct CoupleJob {
    number: usize,
    therapist_id: String,
}

/// Everything a generator thread needs, shared read-only.
struct Generator {
    practice_id: String,
    password_hash: String,
    weeks: usize,
    now: Millis,
    vault: std::sync::Arc<Vault>,
    content: std::sync::Arc<Content>,
    safety_answers: String,
}

/// Writes the practice. Refuses a database that already holds accounts.
pub async fn generate(
    store: &Store,
    vault: std::sync::Arc<Vault>,
    content: std::sync::Arc<Content>,
    password: &str,
    plan: Plan,
    now: Millis,
) -> anyhow::Result<Report> {
    if !store.is_empty().await? {
        anyhow::bail!(
            "this database already holds data: loadgen writes only into an empty one (choose a new data directory or database)"
        );
    }
    anyhow::ensure!(plan.couples > 0, "please ask for at least one couple");
    anyhow::ensure!(plan.weeks > 0, "please ask for at least one week");
    let started = Instant::now();
    let password_hash =
        trellis_crypto::hash_password(password).context("hashing the loadgen password")?;
    let history_start = now - plan.weeks as i64 * WEEK;
    let (practice, _admin) = store
        .create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: "Loadgen Couples Practice",
            admin_email: "loadgen-admin@example.com",
            admin_name: "Loadgen Admin",
            password_hash: &password_hash,
            setup_token_hash: None,
            now: history_start - WEEK,
        })
        .await?;
    store
        .set_practice_requires_two_factor(&practice.id, false)
        .await?;

    // therapists: 40 couples each, then the small caseload
    let full = plan.couples.div_ceil(COUPLES_PER_THERAPIST);
    let mut therapist_rows = Vec::new();
    let mut jobs = Vec::new();
    for t in 0..=full {
        let id = trellis_store::new_id();
        let (email, name, count) = if t < full {
            let first = t * COUPLES_PER_THERAPIST;
            (
                format!("loadgen-therapist-{}@example.com", t + 1),
                format!("Therapist {}", t + 1),
                COUPLES_PER_THERAPIST.min(plan.couples - first),
            )
        } else {
            (
                "loadgen-therapist-small@example.com".to_owned(),
                "Therapist Small".to_owned(),
                SMALL_CASELOAD,
            )
        };
        therapist_rows.push(vec![
            id.clone().into(),
            email.into(),
            name.into(),
            Role::Therapist.as_str().into(),
            password_hash.as_str().into(),
            practice.id.as_str().into(),
            (history_start - WEEK).into(),
        ]);
        for _ in 0..count {
            jobs.push(CoupleJob {
                number: jobs.len() + 1,
                therapist_id: id.clone(),
            });
        }
    }
    store.insert_rows("users", USERS, therapist_rows).await?;

    let safety: BTreeMap<String, Answer> = content
        .safety
        .questions
        .iter()
        .map(|q| (q.id.clone(), Answer::No))
        .collect();
    let generator = std::sync::Arc::new(Generator {
        practice_id: practice.id.clone(),
        password_hash,
        weeks: plan.weeks,
        now,
        vault,
        content,
        safety_answers: serde_json::to_string(&safety)?,
    });
    let couples = jobs.len();
    // one thread builds (and seals) the next batches while this task stores
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<anyhow::Result<Batch>>(2);
    let builder = {
        let generator = generator.clone();
        tokio::task::spawn_blocking(move || {
            for chunk in jobs.chunks(BATCH) {
                if sender.blocking_send(generator.batch(chunk)).is_err() {
                    return;
                }
            }
        })
    };
    let mut rows = 1 + full + 1;
    let mut done = 0;
    while let Some(batch) = receiver.recv().await {
        let batch = batch?;
        rows += batch.rows();
        for (table, columns, table_rows) in batch.tables {
            store
                .insert_rows(table, columns, table_rows)
                .await
                .with_context(|| format!("storing {table}"))?;
        }
        done += BATCH.min(couples - done);
        if done % 10_000 < BATCH || done == couples {
            tracing::info!(done, couples, rows, "loadgen progress");
        }
    }
    builder.await?;
    // everything here is sealed the current way: no start-up sweep needed
    Vault::record_swept(store).await?;
    Ok(Report {
        couples,
        therapists: full + 1,
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

impl Generator {
    /// The rows of a batch of couples, deterministic for their numbers.
    fn batch(&self, jobs: &[CoupleJob]) -> anyhow::Result<Batch> {
        let mut t: BTreeMap<&'static str, Vec<Vec<Cell>>> = BTreeMap::new();
        for job in jobs {
            self.couple(job, &mut t)?;
        }
        let order: [(&'static str, &'static [&'static str]); 13] = [
            ("users", USERS),
            ("couples", COUPLES),
            ("couple_members", MEMBERS),
            ("data_keys", DATA_KEYS),
            ("onboarding", ONBOARDING),
            ("safety_screenings", SAFETY),
            ("screening_decisions", DECISIONS),
            ("measures", MEASURES),
            ("entries", ENTRIES),
            ("promises", PROMISES),
            ("promise_marks", MARKS),
            ("appointments", APPOINTMENTS),
            ("thread_reads", THREAD_READS),
        ];
        let mut batch = Batch::default();
        for (table, columns) in order {
            batch
                .tables
                .push((table, columns, t.remove(table).unwrap_or_default()));
        }
        Ok(batch)
    }

    fn couple(
        &self,
        job: &CoupleJob,
        t: &mut BTreeMap<&'static str, Vec<Vec<Cell>>>,
    ) -> anyhow::Result<()> {
        let mut rng = StdRng::seed_from_u64(job.number as u64);
        let weeks = self.weeks as i64;
        // couples started at different times within the history
        let start = self.now - weeks * WEEK + rng.gen_range(0..DAY);
        let couple_id = trellis_store::new_id();
        let (key, master_key_id, wrapped) = self.vault.fresh_data_key();
        let seal = |text: &str, context: &str| Vault::seal_fresh(&key, text, context);
        let mut push = |table: &'static str, row: Vec<Cell>| t.entry(table).or_default().push(row);

        push(
            "couples",
            vec![
                couple_id.as_str().into(),
                self.practice_id.as_str().into(),
                job.therapist_id.as_str().into(),
                start.into(),
            ],
        );
        push(
            "data_keys",
            vec![
                couple_id.as_str().into(),
                1i64.into(),
                master_key_id.into(),
                wrapped.into(),
                start.into(),
            ],
        );
        let partners: Vec<String> = (1..=2).map(|_| trellis_store::new_id()).collect();
        for (i, id) in partners.iter().enumerate() {
            let name = FIRST_NAMES[(job.number * 2 + i) % FIRST_NAMES.len()];
            push(
                "users",
                vec![
                    id.as_str().into(),
                    format!("loadgen-partner-{}-{}@example.com", job.number, i + 1).into(),
                    name.into(),
                    Role::Partner.as_str().into(),
                    self.password_hash.as_str().into(),
                    Cell::NullText,
                    start.into(),
                ],
            );
            push(
                "couple_members",
                vec![
                    id.as_str().into(),
                    couple_id.as_str().into(),
                    (start + HOUR).into(),
                ],
            );
            let onboarded = start + 2 * HOUR;
            push(
                "onboarding",
                vec![
                    id.as_str().into(),
                    onboarded.into(),
                    1i64.into(),
                    onboarded.into(),
                    onboarded.into(),
                ],
            );
            push(
                "safety_screenings",
                vec![
                    trellis_store::new_id().into(),
                    id.as_str().into(),
                    couple_id.as_str().into(),
                    seal(&self.safety_answers, &format!("safety:{id}")).into(),
                    0i64.into(),
                    onboarded.into(),
                    "distress".into(),
                    "themselves".into(),
                ],
            );
            push(
                "screening_decisions",
                vec![
                    trellis_store::new_id().into(),
                    couple_id.as_str().into(),
                    id.as_str().into(),
                    "conjoint_ok".into(),
                    job.therapist_id.as_str().into(),
                    (start + 5 * DAY).into(),
                ],
            );
        }

        // check-ins: the baseline, a trust pulse every week, a CSI-4 every four
        for (i, user_id) in partners.iter().enumerate() {
            let mut measure = |instrument: &str, at: Millis, lean: f64, rng: &mut StdRng| {
                let Some(found) = self.content.instrument(instrument) else {
                    return Ok::<(), anyhow::Error>(());
                };
                let answers: BTreeMap<String, i64> = found
                    .items
                    .iter()
                    .map(|item| {
                        let last = item.options.len().saturating_sub(1) as f64;
                        let pick = (lean * last + rng.gen_range(-1.0..=1.0)).round();
                        let index = pick.clamp(0.0, last) as usize;
                        (
                            item.id.clone(),
                            item.options.get(index).map_or(0, |o| o.value),
                        )
                    })
                    .collect();
                let score = found
                    .score(&answers)
                    .map_err(|(item, why)| anyhow::anyhow!("{instrument} {item}: {why}"))?;
                let id = trellis_store::new_id();
                let json = serde_json::to_string(&answers)?;
                push(
                    "measures",
                    vec![
                        id.as_str().into(),
                        user_id.as_str().into(),
                        couple_id.as_str().into(),
                        instrument.into(),
                        0i64.into(),
                        seal(
                            &score.to_string(),
                            &trellis_app::services::measures::score_context(&id),
                        )
                        .into(),
                        seal(&json, &format!("measure:{id}")).into(),
                        at.into(),
                    ],
                );
                Ok(())
            };
            let offset = (i as i64) * 3 * HOUR;
            measure("csi16", start + DAY + offset, 0.45, &mut rng)?;
            for week in 0..weeks {
                // things get a little better, unevenly
                let lean = 0.45 + 0.3 * (week as f64 / weeks.max(1) as f64);
                let at = start + week * WEEK + 2 * DAY + offset;
                measure("trust-pulse", at, lean, &mut rng)?;
                if week % 4 == 3 {
                    measure("csi4", at + HOUR, lean, &mut rng)?;
                }
            }
        }

        // writing: a journal entry each week from each partner (every other
        // one shared), and a message in the couple thread
        let thread = format!("couple:{couple_id}");
        for week in 0..weeks {
            for (i, author) in partners.iter().enumerate() {
                let audience = if (week + i as i64) % 2 == 0 {
                    Audience::PartnerAndTherapist
                } else {
                    Audience::Me
                };
                let at = start + week * WEEK + (3 + i as i64) * DAY + rng.gen_range(0..HOUR);
                let text = JOURNAL[rng.gen_range(0..JOURNAL.len())];
                entry(
                    &mut push,
                    &seal,
                    [&couple_id, author],
                    "journal",
                    None,
                    audience,
                    text,
                    at,
                );
            }
            let author = &partners[(week % 2) as usize];
            let at = start + week * WEEK + 5 * DAY + rng.gen_range(0..HOUR);
            let text = MESSAGES[rng.gen_range(0..MESSAGES.len())];
            entry(
                &mut push,
                &seal,
                [&couple_id, author],
                "message",
                Some(&thread),
                Audience::PartnerAndTherapist,
                text,
                at,
            );
        }
        // the therapist and the partners read the thread up to a day ago
        push(
            "thread_reads",
            vec![
                job.therapist_id.as_str().into(),
                thread.as_str().into(),
                (self.now - DAY).into(),
            ],
        );

        // a promise each, twice a week, kept most weeks
        let today = self.now.div_euclid(DAY);
        for (i, owner) in partners.iter().enumerate() {
            let id = trellis_store::new_id();
            let days: Vec<u8> = if i == 0 { vec![0, 3] } else { vec![1, 5] };
            let cadence = serde_json::to_string(&Cadence::Weekly { days: days.clone() })?;
            let start_day = (start + 6 * DAY).div_euclid(DAY);
            let text = if i == 0 {
                "Tell you about my day before dinner"
            } else {
                "Ask how your week is going"
            };
            push(
                "promises",
                vec![
                    id.as_str().into(),
                    couple_id.as_str().into(),
                    owner.as_str().into(),
                    seal(text, &format!("promise:{id}")).into(),
                    cadence.into(),
                    start_day.into(),
                    "active".into(),
                    (start + 6 * DAY).into(),
                    (start + 6 * DAY).into(),
                ],
            );
            for day in start_day..today {
                // 1970-01-01 was a Thursday; 0 is Monday
                let weekday = ((day + 3).rem_euclid(7)) as u8;
                if days.contains(&weekday) && rng.gen_bool(0.75) {
                    push(
                        "promise_marks",
                        vec![
                            id.as_str().into(),
                            day.into(),
                            (day * DAY + 20 * HOUR).into(),
                        ],
                    );
                }
            }
        }

        // sessions every other week, and the next one booked
        let mut session = start + 7 * DAY + 10 * HOUR;
        while session < self.now + 14 * DAY {
            push(
                "appointments",
                vec![
                    trellis_store::new_id().into(),
                    couple_id.as_str().into(),
                    job.therapist_id.as_str().into(),
                    session.into(),
                    (session + HOUR).into(),
                    "in_person".into(),
                    "Room 2".into(),
                    "scheduled".into(),
                    (session - 7 * DAY).into(),
                    (session - 7 * DAY).into(),
                ],
            );
            session += 2 * WEEK;
        }
        Ok(())
    }
}

/// One piece of client writing, sealed as `writing` seals it.
#[allow(clippy::too_many_arguments)]
fn entry(
    push: &mut impl FnMut(&'static str, Vec<Cell>),
    seal: &impl Fn(&str, &str) -> Vec<u8>,
    [couple_id, author]: [&str; 2],
    kind: &str,
    ref_id: Option<&str>,
    audience: Audience,
    text: &str,
    at: Millis,
) {
    let id = trellis_store::new_id();
    let context = entry_context(&id, couple_id, author, audience.as_str(), None);
    push(
        "entries",
        vec![
            id.into(),
            couple_id.into(),
            author.into(),
            kind.into(),
            ref_id.map(str::to_owned).into(),
            audience.as_str().into(),
            seal(text, &context).into(),
            at.into(),
            at.into(),
        ],
    );
}
