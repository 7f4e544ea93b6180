//! Measure results, sharing choices and the check-in cadence.

use sqlx::Row;
use trellis_core::UserId;
use trellis_core::{CoupleId, Millis};

use crate::db::Store;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureRow {
    pub id: String,
    pub user_id: String,
    pub instrument_id: String,
    /// The score once opened (the store leaves 0 here when it is sealed).
    pub score: i64,
    /// The score sealed with the couple's key (`None` only for rows from
    /// before scores were sealed, until start-up seals them).
    pub score_sealed: Option<Vec<u8>>,
    pub answers: Vec<u8>,
    pub note: Option<Vec<u8>>,
    pub couple_id: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewMeasure<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub couple_id: &'a str,
    pub instrument_id: &'a str,
    pub score_sealed: &'a [u8],
    pub answers: &'a [u8],
    pub note: Option<&'a [u8]>,
    pub now: Millis,
}

/// Checked-in weekly unless the therapist sets another cadence.
pub const DEFAULT_CADENCE_DAYS: i64 = 7;

impl Store {
    /// Every partner who belongs to a couple (for the check-in sweep).
    #[tracing::instrument(skip(self))]
    pub async fn partners_in_couples(&self) -> Result<Vec<crate::User>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE u.role = 'partner' AND m.couple_id IS NOT NULL ORDER BY u.id",
            crate::accounts::USER_COLUMNS,
            crate::accounts::USER_FROM
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| Ok(crate::accounts::user_from_row(row)?.user))
            .collect()
    }

    /// Claims this week's "a check-in is ready" mail for a partner: `true`
    /// when none went out since `not_since` (and records this one).
    #[tracing::instrument(skip(self))]
    pub async fn claim_checkin_notice(
        &self,
        user_id: &UserId,
        now: Millis,
        not_since: Millis,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO checkin_notices (user_id, sent_at) VALUES ($1, $2) \
             ON CONFLICT (user_id) DO UPDATE SET sent_at = excluded.sent_at \
             WHERE checkin_notices.sent_at < $3",
        )
        .bind(user_id.as_str())
        .bind(now)
        .bind(not_since)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_measure(&self, m: NewMeasure<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO measures (id, user_id, couple_id, instrument_id, score, score_sealed, answers, note, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8)",
        )
        .bind(m.id)
        .bind(m.user_id)
        .bind(m.couple_id)
        .bind(m.instrument_id)
        .bind(m.score_sealed)
        .bind(m.answers)
        .bind(m.note)
        .bind(m.now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One person's results, oldest first. Callers check first (with the
    /// privacy policy) that the reader may see this person's scores.
    pub async fn measures_of(&self, user_id: &UserId) -> Result<Vec<MeasureRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {MEASURE_COLUMNS} FROM measures WHERE user_id = $1 ORDER BY created_at, id"
        ))
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(measure_from).collect()
    }

    /// Scores stored before scores were sealed: `(id, couple id, score)`.
    pub async fn clear_scores(&self) -> Result<Vec<(String, String, i64)>> {
        Ok(
            sqlx::query_as("SELECT id, couple_id, score FROM measures WHERE score_sealed IS NULL")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Stores a sealed score in place of the clear one.
    pub async fn set_sealed_score(&self, id: &str, sealed: &[u8]) -> Result<()> {
        sqlx::query(
            "UPDATE measures SET score_sealed = $1, score = 0 WHERE id = $2 AND score_sealed IS NULL",
        )
        .bind(sealed)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `(therapist may see my scores, my partner may see my scores)`.
    pub async fn score_sharing(&self, user_id: &UserId) -> Result<(bool, bool)> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT scores_consent, scores_to_partner FROM onboarding WHERE user_id = $1",
        )
        .bind(user_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map_or((false, false), |(t, p)| (t != 0, p != 0)))
    }

    pub async fn set_score_sharing(
        &self,
        user_id: &UserId,
        therapist: bool,
        partner: bool,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO onboarding (user_id, scores_consent, consent_at, scores_to_partner) VALUES ($1, $2, $4, $3) \
             ON CONFLICT (user_id) DO UPDATE SET scores_consent = $2, consent_at = $4, scores_to_partner = $3",
        )
        .bind(user_id.as_str())
        .bind(i64::from(therapist))
        .bind(i64::from(partner))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn cadence_days(&self, couple_id: &CoupleId) -> Result<i64> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT days FROM measure_cadence WHERE couple_id = $1")
                .bind(couple_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map_or(DEFAULT_CADENCE_DAYS, |(d,)| d))
    }

    pub async fn set_cadence_days(&self, couple_id: &CoupleId, days: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO measure_cadence (couple_id, days) VALUES ($1, $2) ON CONFLICT (couple_id) DO UPDATE SET days = $2",
        )
        .bind(couple_id.as_str())
        .bind(days)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

pub(crate) const MEASURE_COLUMNS: &str =
    "id, user_id, couple_id, instrument_id, score, score_sealed, answers, note, created_at";

pub(crate) fn measure_from(row: &sqlx::any::AnyRow) -> Result<MeasureRow> {
    Ok(MeasureRow {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        couple_id: row.try_get("couple_id")?,
        instrument_id: row.try_get("instrument_id")?,
        score: row.try_get("score")?,
        score_sealed: row.try_get("score_sealed")?,
        answers: row.try_get("answers")?,
        note: row.try_get("note")?,
        created_at: row.try_get("created_at")?,
    })
}
