//! Screening before joint work: the therapist's decisions, the pause either
//! partner may set, re-screening requests and the practice's safety settings.

use sqlx::Row;
use trellis_core::Millis;
use trellis_core::{CoupleId, UserId};

use crate::db::Store;
use crate::error::{Result, StoreError};
use crate::new_id;

/// One decision the therapist recorded about one partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningDecision {
    pub id: String,
    pub user_id: String,
    /// `conjoint_ok`, `individual_first`, `conjoint_contraindicated` or `referred`.
    pub decision: String,
    /// Sealed with the couple's key.
    pub note: Option<Vec<u8>>,
    pub decided_by: String,
    pub decided_at: Millis,
}

/// A decision to record, and which flags it answers.
#[derive(Debug)]
pub struct NewScreeningDecision<'a> {
    pub couple_id: &'a str,
    pub user_id: &'a str,
    pub decision: &'a str,
    pub sealed_note: Option<&'a [u8]>,
    pub decided_by: &'a str,
    /// One flag to answer; `None` answers every open flag that concerns the
    /// partner: raised by them, or raised by the other partner about them.
    pub flag_id: Option<&'a str>,
    pub now: Millis,
}

/// What a practice promises clients about flags, and how often the safety
/// check comes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PracticeSafetySettings {
    /// Shown to a client whose answer or writing raised a flag; "" uses the
    /// built-in wording.
    pub response_promise: String,
    pub rescreen_weeks: i64,
}

impl Store {
    /// Records a decision and closes the flags it answers, in one transaction.
    /// Returns how many flags it closed; `NotFound` when `flag_id` names no
    /// open flag of the couple.
    #[tracing::instrument(skip(self, new), fields(couple_id = new.couple_id))]
    pub async fn record_screening_decision(&self, new: NewScreeningDecision<'_>) -> Result<u64> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO screening_decisions (id, couple_id, user_id, decision, note, decided_by, decided_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new_id())
        .bind(new.couple_id)
        .bind(new.user_id)
        .bind(new.decision)
        .bind(new.sealed_note.map(<[u8]>::to_vec))
        .bind(new.decided_by)
        .bind(new.now)
        .execute(&mut *tx)
        .await?;
        let closed = match new.flag_id {
            Some(flag_id) => {
                let done = sqlx::query(
                    "UPDATE safety_screenings SET resolved_at = $1, resolved_by = $2, decision = $3 \
                     WHERE id = $4 AND couple_id = $5 AND concerning = 1 AND resolved_at IS NULL",
                )
                .bind(new.now)
                .bind(new.decided_by)
                .bind(new.decision)
                .bind(flag_id)
                .bind(new.couple_id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                done.rows_affected()
            }
            None => sqlx::query(
                "UPDATE safety_screenings SET resolved_at = $1, resolved_by = $2, decision = $3 \
                 WHERE couple_id = $4 AND concerning = 1 AND resolved_at IS NULL \
                 AND (user_id = $5 OR at_risk IN ('partner', 'both'))",
            )
            .bind(new.now)
            .bind(new.decided_by)
            .bind(new.decision)
            .bind(new.couple_id)
            .bind(new.user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        tx.commit().await?;
        Ok(closed)
    }

    /// Every decision about the couple's partners, oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn screening_decisions(
        &self,
        couple_id: &CoupleId,
    ) -> Result<Vec<ScreeningDecision>> {
        let rows = sqlx::query(
            "SELECT id, user_id, decision, note, decided_by, decided_at FROM screening_decisions \
             WHERE couple_id = $1 ORDER BY decided_at, id",
        )
        .bind(couple_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decision_from).collect()
    }

    /// Urgent flags in the couple that wait for a decision.
    #[tracing::instrument(skip(self))]
    pub async fn open_urgent_flags(&self, couple_id: &CoupleId) -> Result<i64> {
        let (open,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM safety_screenings \
             WHERE couple_id = $1 AND concerning = 1 AND resolved_at IS NULL AND tier = 'urgent'",
        )
        .bind(couple_id.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(open)
    }

    /// When each partner last took the safety check: `(user id, time)`.
    #[tracing::instrument(skip(self))]
    pub async fn last_safety_checks(&self, couple_id: &CoupleId) -> Result<Vec<(String, Millis)>> {
        Ok(sqlx::query_as(
            "SELECT user_id, MAX(created_at) FROM safety_screenings \
             WHERE couple_id = $1 AND source = 'check' GROUP BY user_id",
        )
        .bind(couple_id.as_str())
        .fetch_all(&self.pool)
        .await?)
    }

    /// A partner closes shared work. Idempotent.
    #[tracing::instrument(skip(self))]
    pub async fn pause_shared_work(
        &self,
        couple_id: &CoupleId,
        user_id: &UserId,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO shared_work_pauses (couple_id, user_id, paused_at) VALUES ($1, $2, $3) \
             ON CONFLICT (couple_id, user_id) DO NOTHING",
        )
        .bind(couple_id.as_str())
        .bind(user_id.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A partner lifts their own pause (never the other's). Idempotent.
    #[tracing::instrument(skip(self))]
    pub async fn resume_shared_work(&self, couple_id: &CoupleId, user_id: &UserId) -> Result<()> {
        sqlx::query("DELETE FROM shared_work_pauses WHERE couple_id = $1 AND user_id = $2")
            .bind(couple_id.as_str())
            .bind(user_id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Who in the couple has shared work paused.
    #[tracing::instrument(skip(self))]
    pub async fn shared_work_pauses(&self, couple_id: &CoupleId) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT user_id FROM shared_work_pauses WHERE couple_id = $1")
                .bind(couple_id.as_str())
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// The therapist asks both partners to take the safety check again.
    #[tracing::instrument(skip(self))]
    pub async fn request_rescreen(&self, couple_id: &CoupleId, now: Millis) -> Result<()> {
        sqlx::query("UPDATE couples SET rescreen_requested_at = $1 WHERE id = $2")
            .bind(now)
            .bind(couple_id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    pub async fn rescreen_requested_at(&self, couple_id: &CoupleId) -> Result<Option<Millis>> {
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT rescreen_requested_at FROM couples WHERE id = $1")
                .bind(couple_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(at,)| at))
    }

    #[tracing::instrument(skip(self))]
    pub async fn practice_safety_settings(
        &self,
        practice_id: &str,
    ) -> Result<PracticeSafetySettings> {
        let row =
            sqlx::query("SELECT response_promise, rescreen_weeks FROM practices WHERE id = $1")
                .bind(practice_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        Ok(PracticeSafetySettings {
            response_promise: row.try_get("response_promise")?,
            rescreen_weeks: row.try_get("rescreen_weeks")?,
        })
    }

    #[tracing::instrument(skip(self, settings))]
    pub async fn set_practice_safety_settings(
        &self,
        practice_id: &str,
        settings: &PracticeSafetySettings,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE practices SET response_promise = $1, rescreen_weeks = $2 WHERE id = $3",
        )
        .bind(&settings.response_promise)
        .bind(settings.rescreen_weeks)
        .bind(practice_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

pub(crate) fn decision_from(row: &sqlx::any::AnyRow) -> Result<ScreeningDecision> {
    Ok(ScreeningDecision {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        decision: row.try_get("decision")?,
        note: row.try_get("note")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get("decided_at")?,
    })
}
