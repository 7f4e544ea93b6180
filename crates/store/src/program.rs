//! The couple's path through the program: onboarding, the safety check,
//! pacing, homework and reflect-back rounds.

use sqlx::Row;
use sqlx::any::AnyRow;
use trellis_core::UserId;
use trellis_core::reflect_back::Status;
use trellis_core::{CoupleId, Millis};

use crate::db::Store;
use crate::error::{Result, StoreError};
use crate::new_id;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Onboarding {
    pub welcomed: bool,
    pub scores_consent: bool,
    pub consent_at: Option<Millis>,
    pub safety_done: bool,
}

impl Onboarding {
    pub fn complete(&self) -> bool {
        self.welcomed && self.safety_done
    }
}

/// A safety concern as the couple's therapist sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyFlag {
    pub screening_id: String,
    /// `check` (the safety check) or `writing` (crisis language).
    pub source: String,
    /// Who answered or wrote.
    pub user_id: String,
    pub user_name: String,
    /// `distress` or `urgent`.
    pub tier: String,
    /// Who may be at risk, seen from the writer: `themselves`, `partner`, `both`.
    pub at_risk: String,
    /// A distress flag whose urgency is possible, not confirmed.
    pub may_be_urgent: bool,
    pub created_at: Millis,
    pub resolved_at: Option<Millis>,
    /// Who closed it (a user id, or `left` when the partner left).
    pub resolved_by: Option<String>,
    /// The decision recorded when it was closed.
    pub decision: Option<String>,
}

/// How a flag is raised: how strong, and who may be at risk.
#[derive(Debug, Clone, Copy)]
pub struct FlagLevel<'a> {
    pub tier: &'a str,
    pub at_risk: &'a str,
    /// A distress flag whose urgency is possible, not confirmed.
    pub may_be_urgent: bool,
}

/// What raised a flag outside the safety check (`safety_screenings.source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConcernSource {
    /// Crisis language in something the person wrote.
    Writing,
    /// The person asked for their therapist to know.
    Asked,
}

impl ConcernSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ConcernSource::Writing => "writing",
            ConcernSource::Asked => "asked",
        }
    }
}

/// The insert of a flag raised outside the safety check (run on the pool or
/// in a transaction with the writing).
pub(crate) fn concern_insert<'q>(
    user_id: &'q str,
    couple_id: &'q str,
    sealed_note: &'q [u8],
    (flag, source): (FlagLevel<'q>, ConcernSource),
    now: Millis,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    sqlx::query(
        "INSERT INTO safety_screenings (id, user_id, couple_id, answers, concerning, created_at, source, tier, at_risk, may_be_urgent) \
         VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(user_id)
    .bind(couple_id)
    .bind(sealed_note)
    .bind(now)
    .bind(source.as_str())
    .bind(flag.tier)
    .bind(flag.at_risk)
    .bind(i64::from(flag.may_be_urgent))
}

/// One completed safety check (answers sealed with the couple's key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyCheckRow {
    pub id: String,
    pub user_id: String,
    pub answers: Vec<u8>,
    pub concerning: bool,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub id: String,
    pub exercise_id: String,
    pub due_on: Option<String>,
    pub note: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReflectBackRound {
    pub id: String,
    pub couple_id: CoupleId,
    pub exercise_id: String,
    pub speaker_id: String,
    pub listener_id: String,
    pub status: Status,
    pub audience: String,
    pub created_at: Millis,
}

fn round_from_row(row: &AnyRow) -> Result<ReflectBackRound> {
    let status: String = row.try_get("status")?;
    Ok(ReflectBackRound {
        id: row.try_get("id")?,
        couple_id: crate::id_at(row, "couple_id")?,
        exercise_id: row.try_get("exercise_id")?,
        speaker_id: row.try_get("speaker_id")?,
        listener_id: row.try_get("listener_id")?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown status {status}")))?,
        audience: row.try_get("audience")?,
        created_at: row.try_get("created_at")?,
    })
}

/// What a caseload row needs beyond names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseloadNews {
    /// Writing shared with the therapist since their last visit to the couple.
    pub new_shared: i64,
    /// Writing shared with the therapist since the couple's last session
    /// (before their first, ever): what to read before the next.
    pub shared_since_session: i64,
    /// When the couple's last session ended, if they have had one.
    pub last_session: Option<Millis>,
    /// Safety concerns not yet resolved.
    pub open_flags: i64,
    /// Of those, the urgent ones.
    pub urgent_flags: i64,
    /// Of those, the distress flags that may be urgent.
    pub possibly_urgent_flags: i64,
}

impl CaseloadNews {
    /// Writing shared since the last session, when the couple has had one.
    pub fn since_session(&self) -> Option<i64> {
        self.last_session.map(|_| self.shared_since_session)
    }
}

impl Store {
    pub async fn record_couple_view(
        &self,
        therapist_id: &UserId,
        couple_id: &CoupleId,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO couple_views (therapist_id, couple_id, viewed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (therapist_id, couple_id) DO UPDATE SET viewed_at = $3",
        )
        .bind(therapist_id.as_str())
        .bind(couple_id.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Per couple of the therapist: what was shared with them since their
    /// last visit and since the last session, and open safety flags. Their
    /// own writing, messages and comments are not "shared work" here
    /// (messages have their own unread count).
    pub async fn caseload_news(
        &self,
        therapist_id: &UserId,
        now: Millis,
    ) -> Result<std::collections::HashMap<String, CaseloadNews>> {
        self.news(therapist_id, None, now).await
    }

    /// [`Store::caseload_news`] for one of the therapist's couples (the
    /// default, all zeros, when it is not theirs).
    pub async fn couple_news(
        &self,
        therapist_id: &UserId,
        couple_id: &CoupleId,
        now: Millis,
    ) -> Result<CaseloadNews> {
        Ok(self
            .news(therapist_id, Some(couple_id), now)
            .await?
            .remove(couple_id.as_str())
            .unwrap_or_default())
    }

    async fn news(
        &self,
        therapist_id: &UserId,
        couple_id: Option<&str>,
        now: Millis,
    ) -> Result<std::collections::HashMap<String, CaseloadNews>> {
        use trellis_core::privacy::{Relation, visible_audiences};
        let audiences: Vec<&'static str> = visible_audiences(Relation::CoupleTherapist)
            .into_iter()
            .map(|a| a.as_str())
            .collect();
        let placeholders: Vec<String> = (0..audiences.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let shared = format!(
            "FROM entries e WHERE e.couple_id = c.id AND e.author_id <> $1 \
             AND e.kind NOT IN ('message', 'comment') AND e.visible_from <= $2 AND e.audience IN ({})",
            placeholders.join(", ")
        );
        let last_session = "(SELECT MAX(a.ends_at) FROM appointments a WHERE a.couple_id = c.id \
             AND a.status = 'scheduled' AND a.ends_at <= $2)";
        let one_couple = match couple_id {
            Some(_) => format!(" AND c.id = ${}", audiences.len() + 3),
            None => String::new(),
        };
        let sql = format!(
            "SELECT c.id, \
             (SELECT COUNT(*) {shared} \
              AND e.created_at > COALESCE((SELECT v.viewed_at FROM couple_views v WHERE v.therapist_id = $1 AND v.couple_id = c.id), 0)) AS new_shared, \
             (SELECT COUNT(*) {shared} AND e.created_at > COALESCE({last_session}, 0)) AS shared_since_session, \
             {last_session} AS last_session, \
             (SELECT COUNT(*) FROM safety_screenings s WHERE s.couple_id = c.id AND s.concerning = 1 AND s.resolved_at IS NULL) AS open_flags, \
             (SELECT COUNT(*) FROM safety_screenings s WHERE s.couple_id = c.id AND s.concerning = 1 AND s.resolved_at IS NULL AND s.tier = 'urgent') AS urgent_flags, \
             (SELECT COUNT(*) FROM safety_screenings s WHERE s.couple_id = c.id AND s.concerning = 1 AND s.resolved_at IS NULL AND s.tier = 'distress' AND s.may_be_urgent = 1) AS possibly_urgent_flags \
             FROM couples c WHERE c.therapist_id = $1{one_couple}"
        );
        let mut query = sqlx::query(&sql).bind(therapist_id.as_str()).bind(now);
        for audience in audiences {
            query = query.bind(audience);
        }
        if let Some(couple_id) = couple_id {
            query = query.bind(couple_id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    CaseloadNews {
                        new_shared: row.try_get("new_shared")?,
                        shared_since_session: row.try_get("shared_since_session")?,
                        last_session: row.try_get("last_session")?,
                        open_flags: row.try_get("open_flags")?,
                        urgent_flags: row.try_get("urgent_flags")?,
                        possibly_urgent_flags: row.try_get("possibly_urgent_flags")?,
                    },
                ))
            })
            .collect()
    }

    pub async fn onboarding(&self, user_id: &UserId) -> Result<Onboarding> {
        let row = sqlx::query("SELECT welcomed_at, scores_consent, consent_at, safety_done_at FROM onboarding WHERE user_id = $1")
            .bind(user_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(Onboarding::default());
        };
        Ok(Onboarding {
            welcomed: row.try_get::<Option<i64>, _>("welcomed_at")?.is_some(),
            scores_consent: row.try_get::<i64, _>("scores_consent")? != 0,
            consent_at: row.try_get("consent_at")?,
            safety_done: row.try_get::<Option<i64>, _>("safety_done_at")?.is_some(),
        })
    }

    /// Records the welcome as read and the consent choice, with the time.
    pub async fn record_welcome(
        &self,
        user_id: &UserId,
        scores_consent: bool,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO onboarding (user_id, welcomed_at, scores_consent, consent_at) VALUES ($1, $2, $3, $2) \
             ON CONFLICT (user_id) DO UPDATE SET welcomed_at = $2, scores_consent = $3, consent_at = $2",
        )
        .bind(user_id.as_str())
        .bind(now)
        .bind(i64::from(scores_consent))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores a completed safety check (answers sealed by the caller);
    /// `flag` when it raised a concern.
    pub async fn record_safety_screening(
        &self,
        user_id: &UserId,
        couple_id: &CoupleId,
        sealed_answers: &[u8],
        flag: Option<FlagLevel<'_>>,
        now: Millis,
    ) -> Result<String> {
        let id = new_id();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO safety_screenings (id, user_id, couple_id, answers, concerning, created_at, tier, at_risk, may_be_urgent) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(user_id.as_str())
        .bind(couple_id.as_str())
        .bind(sealed_answers)
        .bind(i64::from(flag.is_some()))
        .bind(now)
        .bind(flag.map_or("distress", |f| f.tier))
        .bind(flag.map_or("themselves", |f| f.at_risk))
        .bind(i64::from(flag.is_some_and(|f| f.may_be_urgent)))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO onboarding (user_id, safety_done_at) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET safety_done_at = $2",
        )
        .bind(user_id.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A concern raised outside the safety check (the person asked, or
    /// crisis language in what they wrote): a flag for the therapist like a
    /// concerning screening.
    pub async fn record_concern(
        &self,
        user_id: &UserId,
        couple_id: &CoupleId,
        sealed_note: &[u8],
        flag: (FlagLevel<'_>, ConcernSource),
        now: Millis,
    ) -> Result<()> {
        concern_insert(user_id, couple_id, sealed_note, flag, now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Concerning screenings in a couple, for its therapist: flags only.
    pub async fn safety_flags(&self, couple_id: &CoupleId) -> Result<Vec<SafetyFlag>> {
        let rows = sqlx::query(
            "SELECT s.id, s.source, s.user_id, u.name, s.tier, s.at_risk, s.may_be_urgent, s.created_at, s.resolved_at, s.resolved_by, s.decision \
             FROM safety_screenings s \
             JOIN users u ON u.id = s.user_id WHERE s.couple_id = $1 AND s.concerning = 1 ORDER BY s.created_at, s.id",
        )
        .bind(couple_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SafetyFlag {
                    screening_id: row.try_get("id")?,
                    source: row.try_get("source")?,
                    user_id: row.try_get("user_id")?,
                    user_name: row.try_get("name")?,
                    tier: row.try_get("tier")?,
                    at_risk: row.try_get("at_risk")?,
                    may_be_urgent: row.try_get::<i64, _>("may_be_urgent")? != 0,
                    created_at: row.try_get("created_at")?,
                    resolved_at: row.try_get("resolved_at")?,
                    resolved_by: row.try_get("resolved_by")?,
                    decision: row.try_get("decision")?,
                })
            })
            .collect()
    }

    /// Every safety check the couple's partners took, oldest first.
    pub async fn safety_checks(&self, couple_id: &CoupleId) -> Result<Vec<SafetyCheckRow>> {
        let rows = sqlx::query(
            "SELECT id, user_id, answers, concerning, created_at FROM safety_screenings \
             WHERE couple_id = $1 AND source = 'check' ORDER BY created_at, id",
        )
        .bind(couple_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SafetyCheckRow {
                    id: row.try_get("id")?,
                    user_id: row.try_get("user_id")?,
                    answers: row.try_get("answers")?,
                    concerning: row.try_get::<i64, _>("concerning")? != 0,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// `(program id, self-paced)`; a couple without a row follows the default
    /// program, self-paced only when nobody guides them.
    pub async fn journey_settings(&self, couple_id: &CoupleId) -> Result<Option<(String, bool)>> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT program_id, self_paced FROM couple_journeys WHERE couple_id = $1",
        )
        .bind(couple_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(program, paced)| (program, paced != 0)))
    }

    pub async fn set_journey_settings(
        &self,
        couple_id: &CoupleId,
        program_id: &str,
        self_paced: bool,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO couple_journeys (couple_id, program_id, self_paced, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (couple_id) DO UPDATE SET program_id = $2, self_paced = $3, updated_at = $4",
        )
        .bind(couple_id.as_str())
        .bind(program_id)
        .bind(i64::from(self_paced))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn unlocked_stages(&self, couple_id: &CoupleId) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT stage_id FROM stage_unlocks WHERE couple_id = $1")
                .bind(couple_id.as_str())
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    pub async fn unlock_stage(
        &self,
        couple_id: &CoupleId,
        stage_id: &str,
        by: &str,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO stage_unlocks (couple_id, stage_id, unlocked_by, unlocked_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (couple_id, stage_id) DO NOTHING",
        )
        .bind(couple_id.as_str())
        .bind(stage_id)
        .bind(by)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores homework; its `note` arrives sealed (or empty).
    pub async fn add_assignment(
        &self,
        couple_id: &CoupleId,
        by: &str,
        assignment: Assignment,
    ) -> Result<Assignment> {
        sqlx::query(
            "INSERT INTO assignments (id, couple_id, exercise_id, assigned_by, due_on, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&assignment.id)
        .bind(couple_id.as_str())
        .bind(&assignment.exercise_id)
        .bind(by)
        .bind(&assignment.due_on)
        .bind(&assignment.note)
        .bind(assignment.created_at)
        .execute(&self.pool)
        .await?;
        Ok(assignment)
    }

    pub async fn assignments(&self, couple_id: &CoupleId) -> Result<Vec<Assignment>> {
        let rows = sqlx::query("SELECT id, exercise_id, due_on, note, created_at FROM assignments WHERE couple_id = $1 ORDER BY created_at DESC, id DESC")
            .bind(couple_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Assignment {
                    id: row.try_get("id")?,
                    exercise_id: row.try_get("exercise_id")?,
                    due_on: row.try_get("due_on")?,
                    note: row.try_get("note")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// `(author id, exercise id)` of every exercise answer in the couple:
    /// which exercises each partner has done (no content).
    pub async fn exercise_completions(
        &self,
        couple_id: &CoupleId,
    ) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT author_id, ref_id FROM entries WHERE couple_id = $1 AND kind IN ('exercise', 'paired') AND ref_id IS NOT NULL",
        )
        .bind(couple_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// When the couple's first appreciation was written, and how many there are
    /// (counts only: the notes themselves stay behind the visibility rules).
    pub async fn appreciation_stats(
        &self,
        couple_id: &CoupleId,
    ) -> Result<(Option<Millis>, usize)> {
        let (first, count): (Option<i64>, i64) =
            sqlx::query_as("SELECT MIN(created_at), COUNT(*) FROM entries WHERE couple_id = $1 AND kind = 'appreciation'")
                .bind(couple_id.as_str())
                .fetch_one(&self.pool)
                .await?;
        Ok((first, usize::try_from(count).unwrap_or(0)))
    }

    /// When each partner first answered each exercise: `(author, exercise, at)`.
    pub async fn exercise_completion_times(
        &self,
        couple_id: &CoupleId,
    ) -> Result<Vec<(String, String, Millis)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT author_id, ref_id, MIN(created_at) FROM entries WHERE couple_id = $1 \
             AND kind IN ('exercise', 'paired') AND ref_id IS NOT NULL GROUP BY author_id, ref_id",
        )
        .bind(couple_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Whether the user wrote an entry of this kind about `ref_id` in this
    /// couple that their partner can currently see (a paired answer counts
    /// only while it is actually shared).
    pub async fn has_shared(
        &self,
        user_id: &UserId,
        couple_id: &CoupleId,
        kind: trellis_core::EntryKind,
        ref_id: &str,
    ) -> Result<bool> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM entries WHERE author_id = $1 AND couple_id = $2 AND kind = $3 AND ref_id = $4 \
             AND audience IN ('partner', 'partner_and_therapist')",
        )
            .bind(user_id.as_str())
            .bind(couple_id.as_str())
            .bind(kind.as_str())
            .bind(ref_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(count > 0)
    }

    pub async fn start_reflect_back(
        &self,
        couple_id: &CoupleId,
        exercise_id: &str,
        speaker_id: &UserId,
        listener_id: &UserId,
        audience: &str,
        now: Millis,
    ) -> Result<ReflectBackRound> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO reflect_backs (id, couple_id, exercise_id, speaker_id, listener_id, status, audience, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(&id)
        .bind(couple_id.as_str())
        .bind(exercise_id)
        .bind(speaker_id.as_str())
        .bind(listener_id.as_str())
        .bind(Status::AwaitingReflection.as_str())
        .bind(audience)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(ReflectBackRound {
            id,
            couple_id: couple_id.clone(),
            exercise_id: exercise_id.to_owned(),
            speaker_id: speaker_id.to_string(),
            listener_id: listener_id.to_string(),
            status: Status::AwaitingReflection,
            audience: audience.to_owned(),
            created_at: now,
        })
    }

    /// The couple's rounds of one exercise, newest first.
    pub async fn reflect_back_rounds(
        &self,
        couple_id: &CoupleId,
        exercise_id: &str,
    ) -> Result<Vec<ReflectBackRound>> {
        let rows = sqlx::query(
            "SELECT id, couple_id, exercise_id, speaker_id, listener_id, status, audience, created_at FROM reflect_backs \
             WHERE couple_id = $1 AND exercise_id = $2 ORDER BY created_at DESC, id DESC",
        )
        .bind(couple_id.as_str())
        .bind(exercise_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(round_from_row).collect()
    }

    /// Moves a round on, only from the status it was read in (so two clicks
    /// cannot both apply).
    pub async fn advance_reflect_back(
        &self,
        round_id: &str,
        from: Status,
        to: Status,
        now: Millis,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE reflect_backs SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(round_id)
        .bind(from.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
