//! Promises, their marks, and agreements.

use sqlx::Row;
use sqlx::any::AnyRow;
use trellis_core::{CoupleId, Millis, UserId};

use crate::db::Store;
use crate::error::{Conflict, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseRow {
    pub id: String,
    pub couple_id: CoupleId,
    pub owner_id: UserId,
    pub text: Vec<u8>,
    /// JSON of `trellis_core::consistency::Cadence`.
    pub cadence: String,
    pub start_day: i64,
    pub status: String,
    pub supersedes: Option<String>,
    pub created_at: Millis,
    /// A shared ritual either partner ticks off.
    pub ritual: bool,
    /// Suggested by the therapist and not yet taken on by the partner.
    pub proposal_pending: bool,
    pub proposed_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRow {
    pub day: i64,
    pub kept: bool,
    pub noticed: bool,
    pub thanks: Option<Vec<u8>>,
    pub context: Option<Vec<u8>>,
    pub context_audience: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementRow {
    pub id: String,
    pub couple_id: CoupleId,
    pub title: Vec<u8>,
    pub body: Vec<u8>,
    pub proposed_by: String,
    pub status: String,
    pub supersedes: Option<String>,
    pub created_at: Millis,
    pub agreed_at: Option<Millis>,
    pub agreed_by: Option<String>,
}

pub(crate) fn mark_from(row: &AnyRow) -> Result<MarkRow> {
    Ok(MarkRow {
        day: row.try_get("day")?,
        kept: row.try_get::<Option<i64>, _>("kept_at")?.is_some(),
        noticed: row.try_get::<Option<i64>, _>("noticed_at")?.is_some(),
        thanks: row.try_get("thanks")?,
        context: row.try_get("context")?,
        context_audience: row.try_get("context_audience")?,
    })
}

pub(crate) fn promise_from(row: &AnyRow) -> Result<PromiseRow> {
    Ok(PromiseRow {
        id: row.try_get("id")?,
        couple_id: crate::id_at(row, "couple_id")?,
        owner_id: crate::id_at(row, "owner_id")?,
        text: row.try_get("text")?,
        cadence: row.try_get("cadence")?,
        start_day: row.try_get("start_day")?,
        status: row.try_get("status")?,
        supersedes: row.try_get("supersedes")?,
        created_at: row.try_get("created_at")?,
        ritual: row.try_get::<i64, _>("ritual")? != 0,
        proposal_pending: row.try_get::<i64, _>("proposal_pending")? != 0,
        proposed_by: row.try_get("proposed_by")?,
    })
}

fn agreement_from(row: &AnyRow) -> Result<AgreementRow> {
    Ok(AgreementRow {
        id: row.try_get("id")?,
        couple_id: crate::id_at(row, "couple_id")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        proposed_by: row.try_get("proposed_by")?,
        status: row.try_get("status")?,
        supersedes: row.try_get("supersedes")?,
        created_at: row.try_get("created_at")?,
        agreed_at: row.try_get("agreed_at")?,
        agreed_by: row.try_get("agreed_by")?,
    })
}

pub(crate) const PROMISE_COLUMNS: &str = "id, couple_id, owner_id, text, cadence, start_day, status, supersedes, created_at, ritual, proposal_pending, proposed_by";
const AGREEMENT_COLUMNS: &str =
    "id, couple_id, title, body, proposed_by, status, supersedes, created_at, agreed_at, agreed_by";

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_promise(
        &self,
        id: &str,
        couple_id: &CoupleId,
        owner_id: &UserId,
        text: &[u8],
        cadence: &str,
        start_day: i64,
        supersedes: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        if let Some(old) = supersedes {
            sqlx::query("UPDATE promises SET status = 'ended', updated_at = $1 WHERE id = $2 AND couple_id = $3")
                .bind(now)
                .bind(old)
                .bind(couple_id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO promises (id, couple_id, owner_id, text, cadence, start_day, status, supersedes, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $8)",
        )
        .bind(id)
        .bind(couple_id.as_str())
        .bind(owner_id.as_str())
        .bind(text)
        .bind(cadence)
        .bind(start_day)
        .bind(supersedes)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn promise(&self, id: &str) -> Result<PromiseRow> {
        let sql = format!("SELECT {PROMISE_COLUMNS} FROM promises WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        promise_from(&row)
    }

    pub async fn promises_of_couple(&self, couple_id: &CoupleId) -> Result<Vec<PromiseRow>> {
        let sql = format!(
            "SELECT {PROMISE_COLUMNS} FROM promises WHERE couple_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(couple_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(promise_from).collect()
    }

    /// Pauses (from `day`), resumes (closes the open pause) or ends a promise.
    pub async fn set_promise_status(
        &self,
        id: &str,
        status: &str,
        day: i64,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE promises SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        match status {
            "paused" => {
                sqlx::query("INSERT INTO promise_pauses (promise_id, from_day, to_day) VALUES ($1, $2, NULL)")
                    .bind(id)
                    .bind(day)
                    .execute(&mut *tx)
                    .await?;
            }
            _ => {
                sqlx::query("UPDATE promise_pauses SET to_day = $1 WHERE promise_id = $2 AND to_day IS NULL")
                    .bind(day - 1)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// `(from, to)` pauses, an open one reaching `until`.
    pub async fn promise_pauses(&self, id: &str, until: i64) -> Result<Vec<(i64, i64)>> {
        let rows: Vec<(i64, Option<i64>)> =
            sqlx::query_as("SELECT from_day, to_day FROM promise_pauses WHERE promise_id = $1")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(from, to)| (from, to.unwrap_or(until)))
            .collect())
    }

    pub async fn mark_kept(&self, promise_id: &str, day: i64, now: Millis) -> Result<()> {
        sqlx::query(
            "INSERT INTO promise_marks (promise_id, day, kept_at) VALUES ($1, $2, $3) \
             ON CONFLICT (promise_id, day) DO UPDATE SET kept_at = $3",
        )
        .bind(promise_id)
        .bind(day)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn mark_noticed(
        &self,
        promise_id: &str,
        day: i64,
        thanks: Option<&[u8]>,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO promise_marks (promise_id, day, noticed_at, thanks) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (promise_id, day) DO UPDATE SET noticed_at = $3, thanks = $4",
        )
        .bind(promise_id)
        .bind(day)
        .bind(now)
        .bind(thanks)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn mark_context(
        &self,
        promise_id: &str,
        day: i64,
        context: &[u8],
        audience: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO promise_marks (promise_id, day, context, context_audience) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (promise_id, day) DO UPDATE SET context = $3, context_audience = $4",
        )
        .bind(promise_id)
        .bind(day)
        .bind(context)
        .bind(audience)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn promise_marks(&self, promise_id: &str) -> Result<Vec<MarkRow>> {
        let rows = sqlx::query(
            "SELECT day, kept_at, noticed_at, thanks, context, context_audience FROM promise_marks WHERE promise_id = $1 ORDER BY day",
        )
        .bind(promise_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(mark_from).collect()
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_agreement(
        &self,
        id: &str,
        couple_id: &CoupleId,
        title: &[u8],
        body: &[u8],
        proposed_by: &str,
        supersedes: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO agreements (id, couple_id, title, body, proposed_by, status, supersedes, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'proposed', $6, $7)",
        )
        .bind(id)
        .bind(couple_id.as_str())
        .bind(title)
        .bind(body)
        .bind(proposed_by)
        .bind(supersedes)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn agreement(&self, id: &str) -> Result<AgreementRow> {
        let sql = format!("SELECT {AGREEMENT_COLUMNS} FROM agreements WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        agreement_from(&row)
    }

    pub async fn agreements_of_couple(&self, couple_id: &CoupleId) -> Result<Vec<AgreementRow>> {
        let sql = format!(
            "SELECT {AGREEMENT_COLUMNS} FROM agreements WHERE couple_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(couple_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(agreement_from).collect()
    }

    /// The other partner accepts: in force from now; the version it replaces
    /// is superseded. `Gone` if it was no longer a proposal.
    pub async fn accept_agreement(&self, id: &str, by: &str, now: Millis) -> Result<()> {
        let mut tx = self.write_tx().await?;
        // Only the couple's other partner may accept: `NotFound` for anyone
        // outside the couple, `Conflict` for the one who proposed it.
        let proposer: Option<(String,)> = sqlx::query_as(
            "SELECT a.proposed_by FROM agreements a JOIN couple_members m \
             ON m.couple_id = a.couple_id AND m.user_id = $2 WHERE a.id = $1",
        )
        .bind(id)
        .bind(by)
        .fetch_optional(&mut *tx)
        .await?;
        match proposer {
            None => return Err(StoreError::NotFound),
            Some((proposer,)) if proposer == by => {
                return Err(StoreError::Conflict(Conflict::Proposer));
            }
            Some(_) => {}
        }
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "UPDATE agreements SET status = 'agreed', agreed_at = $1, agreed_by = $2 WHERE id = $3 AND status = 'proposed' RETURNING supersedes",
        )
        .bind(now)
        .bind(by)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let (supersedes,) = row.ok_or(StoreError::Gone)?;
        if let Some(old) = supersedes {
            sqlx::query(
                "UPDATE agreements SET status = 'superseded' WHERE id = $1 AND status = 'agreed'",
            )
            .bind(old)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks celebrations as seen; returns the ones that were new to this person.
    pub async fn first_sightings(
        &self,
        user_id: &UserId,
        keys: &[String],
        now: Millis,
    ) -> Result<Vec<String>> {
        let mut new = Vec::new();
        for key in keys {
            let done = sqlx::query(
                "INSERT INTO milestones_seen (user_id, kind, seen_at) VALUES ($1, $2, $3) ON CONFLICT (user_id, kind) DO NOTHING",
            )
            .bind(user_id.as_str())
            .bind(key)
            .bind(now)
            .execute(&self.pool)
            .await?;
            if done.rows_affected() == 1 {
                new.push(key.clone());
            }
        }
        Ok(new)
    }

    /// Marks a promise as a shared ritual, or as a therapist's proposal.
    pub async fn set_promise_kind(
        &self,
        id: &str,
        ritual: bool,
        proposed_by: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE promises SET ritual = $1, proposed_by = $2, proposal_pending = $3 WHERE id = $4")
            .bind(i64::from(ritual))
            .bind(proposed_by)
            .bind(i64::from(proposed_by.is_some()))
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The partner takes on a proposed promise: it starts today.
    pub async fn accept_proposal(
        &self,
        id: &str,
        owner_id: &str,
        today: i64,
        now: Millis,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE promises SET proposal_pending = 0, start_day = $1, updated_at = $2 WHERE id = $3 AND owner_id = $4 AND proposal_pending = 1",
        )
        .bind(today)
        .bind(now)
        .bind(id)
        .bind(owner_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Gone);
        }
        Ok(())
    }
}
