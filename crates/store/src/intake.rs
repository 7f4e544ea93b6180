//! Requests for a first appointment, from the public page to the practice's
//! intake inbox.

use sqlx::Row;
use sqlx::any::AnyRow;
use trellis_core::CoupleId;
use trellis_core::Millis;

use crate::db::Store;
use crate::error::{Conflict, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeRow {
    pub id: String,
    pub practice_id: String,
    pub names: String,
    pub email: String,
    pub partner_email: String,
    pub preferred_times: String,
    pub message: String,
    /// `new`, `accepted`, `declined` or `replied`.
    pub status: String,
    pub created_at: Millis,
    pub handled_by: Option<String>,
    pub handled_at: Option<Millis>,
    pub couple_id: Option<String>,
    pub reply: String,
    /// They asked to be seen separately first.
    pub seen_separately: bool,
    /// A safe way to contact the person who wrote (sealed at rest).
    pub safe_contact: String,
}

#[derive(Debug, Clone)]
pub struct NewIntake<'a> {
    pub id: &'a str,
    pub practice_id: &'a str,
    pub names: &'a str,
    pub email: &'a str,
    pub partner_email: &'a str,
    pub preferred_times: &'a str,
    pub message: &'a str,
    pub seen_separately: bool,
    pub safe_contact: &'a str,
    pub now: Millis,
}

const INTAKE_COLUMNS: &str = "id, practice_id, names, email, partner_email, preferred_times, message, \
     status, created_at, handled_by, handled_at, couple_id, reply, seen_separately, safe_contact";

fn intake_from(row: &AnyRow) -> Result<IntakeRow> {
    Ok(IntakeRow {
        id: row.try_get("id")?,
        practice_id: row.try_get("practice_id")?,
        names: row.try_get("names")?,
        email: row.try_get("email")?,
        partner_email: row.try_get("partner_email")?,
        preferred_times: row.try_get("preferred_times")?,
        message: row.try_get("message")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        handled_by: row.try_get("handled_by")?,
        handled_at: row.try_get("handled_at")?,
        couple_id: row.try_get("couple_id")?,
        reply: row.try_get("reply")?,
        seen_separately: row.try_get::<i64, _>("seen_separately")? != 0,
        safe_contact: row.try_get("safe_contact")?,
    })
}

impl Store {
    #[tracing::instrument(skip(self, new), fields(practice_id = new.practice_id))]
    pub async fn create_intake(&self, new: NewIntake<'_>) -> Result<IntakeRow> {
        let id = new.id.to_owned();
        sqlx::query(
            "INSERT INTO intake_requests (id, practice_id, names, email, partner_email, preferred_times, message, status, created_at, \
             seen_separately, safe_contact) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'new', $8, $9, $10)",
        )
        .bind(&id)
        .bind(new.practice_id)
        .bind(new.names)
        .bind(new.email)
        .bind(new.partner_email)
        .bind(new.preferred_times)
        .bind(new.message)
        .bind(new.now)
        .bind(i64::from(new.seen_separately))
        .bind(new.safe_contact)
        .execute(&self.pool)
        .await?;
        self.intake(new.practice_id, &id).await
    }

    /// One request of this practice (404 for another practice's).
    #[tracing::instrument(skip(self))]
    pub async fn intake(&self, practice_id: &str, id: &str) -> Result<IntakeRow> {
        let sql = format!(
            "SELECT {INTAKE_COLUMNS} FROM intake_requests WHERE id = $1 AND practice_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(practice_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        intake_from(&row)
    }

    /// The inbox: open requests first, then the rest, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn intakes(&self, practice_id: &str, limit: i64) -> Result<Vec<IntakeRow>> {
        let sql = format!(
            "SELECT {INTAKE_COLUMNS} FROM intake_requests WHERE practice_id = $1 \
             ORDER BY CASE WHEN status IN ('new', 'replied') THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(practice_id)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(intake_from).collect()
    }

    /// Moves an open (new or replied-to) request on. `Conflict` when someone
    /// else closed it first.
    #[tracing::instrument(skip(self, reply))]
    pub async fn close_intake(
        &self,
        practice_id: &str,
        id: &str,
        status: &str,
        handled_by: &str,
        reply: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE intake_requests SET status = $1, handled_by = $2, handled_at = $3, reply = COALESCE($4, reply) \
             WHERE id = $5 AND practice_id = $6 AND status IN ('new', 'replied')",
        )
        .bind(status)
        .bind(handled_by)
        .bind(now)
        .bind(reply)
        .bind(id)
        .bind(practice_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            self.intake(practice_id, id).await?;
            return Err(StoreError::Conflict(Conflict::IntakeHandled));
        }
        Ok(())
    }

    /// Opens a request again after accepting it failed half-way.
    #[tracing::instrument(skip(self))]
    pub async fn reopen_intake(&self, practice_id: &str, id: &str) -> Result<()> {
        sqlx::query(
            "UPDATE intake_requests SET status = CASE WHEN reply = '' THEN 'new' ELSE 'replied' END, \
             handled_by = NULL, handled_at = NULL, couple_id = NULL \
             WHERE id = $1 AND practice_id = $2",
        )
        .bind(id)
        .bind(practice_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes the contact details, message and reply of requests closed
    /// (accepted or declined) before `closed_before`: the practice has acted
    /// on them, and the couple, if any, now has its own account. The request
    /// itself (status, dates) stays for the practice's records.
    #[tracing::instrument(skip(self))]
    pub async fn prune_closed_intakes(&self, closed_before: Millis) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE intake_requests SET names = '', email = '', partner_email = '', \
             preferred_times = '', message = '', reply = '', safe_contact = '' \
             WHERE status IN ('accepted', 'declined') AND handled_at < $1 \
             AND (names <> '' OR email <> '' OR message <> '' OR reply <> '' OR safe_contact <> '')",
        )
        .bind(closed_before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    #[tracing::instrument(skip(self))]
    pub async fn set_intake_couple(&self, id: &str, couple_id: &CoupleId) -> Result<()> {
        sqlx::query("UPDATE intake_requests SET couple_id = $1 WHERE id = $2")
            .bind(couple_id.as_str())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
