//! Link requests: a self-guided couple asking a therapist to guide them, and
//! the practice codes that start one.

use sqlx::Row;
use sqlx::any::AnyRow;
use trellis_core::UserId;
use trellis_core::linking::LinkStatus;
use trellis_core::{CoupleId, Millis};

use crate::accounts::User;
use crate::couples::{lock_couple, refuse_closed, set_couple_therapist};
use crate::db::Store;
use crate::error::{Conflict, Result, StoreError};
use crate::new_id;

/// A couple's request to be guided by a therapist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRequest {
    pub id: String,
    pub couple_id: CoupleId,
    pub therapist_id: String,
    /// The partner who typed the code.
    pub requested_by: String,
    /// The partner whose agreement sent the request to the therapist (the
    /// requester themself when they were alone in the couple). `None` while
    /// the therapist has not been asked.
    pub agreed_by: Option<String>,
    pub status: LinkStatus,
    pub created_at: Millis,
    pub decided_at: Option<Millis>,
}

/// A request about to be made.
#[derive(Debug, Clone)]
pub struct NewLinkRequest<'a> {
    pub couple_id: &'a str,
    pub therapist_id: &'a str,
    pub requested_by: &'a str,
    /// `WaitingForPartner`, or `WaitingForTherapist` when there is no one
    /// else to ask (then `agreed_by` is the requester).
    pub status: LinkStatus,
    pub agreed_by: Option<&'a str>,
    pub now: Millis,
}

const LINK_COLUMNS: &str =
    "id, couple_id, therapist_id, requested_by, agreed_by, status, created_at, decided_at";

const OPEN_STATUSES: &str = "('waiting_for_partner', 'waiting_for_therapist')";

fn link_request_from_row(row: &AnyRow) -> Result<LinkRequest> {
    let status: String = row.try_get("status")?;
    Ok(LinkRequest {
        id: row.try_get("id")?,
        couple_id: crate::id_at(row, "couple_id")?,
        therapist_id: row.try_get("therapist_id")?,
        requested_by: row.try_get("requested_by")?,
        agreed_by: row.try_get("agreed_by")?,
        status: LinkStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown link request status {status}")))?,
        created_at: row.try_get("created_at")?,
        decided_at: row.try_get("decided_at")?,
    })
}

impl Store {
    /// Opens a request. `Conflict` when the couple already has a therapist,
    /// has a request waiting for an answer, or was closed.
    #[tracing::instrument(skip(self))]
    pub async fn create_link_request(&self, new: NewLinkRequest<'_>) -> Result<LinkRequest> {
        let mut tx = self.write_tx().await?;
        lock_couple(&mut tx, new.couple_id).await?;
        refuse_closed(&mut tx, new.couple_id).await?;
        let couple: Option<(Option<String>,)> =
            sqlx::query_as("SELECT therapist_id FROM couples WHERE id = $1")
                .bind(new.couple_id)
                .fetch_optional(&mut *tx)
                .await?;
        match couple {
            None => return Err(StoreError::NotFound),
            Some((Some(_),)) => return Err(StoreError::Conflict(Conflict::CoupleHasTherapist)),
            Some((None,)) => {}
        }
        let (open,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM link_requests WHERE couple_id = $1 AND status IN {OPEN_STATUSES}"
        ))
        .bind(new.couple_id)
        .fetch_one(&mut *tx)
        .await?;
        if open > 0 {
            return Err(StoreError::Conflict(Conflict::LinkRequestOpen));
        }
        let request = LinkRequest {
            id: new_id(),
            couple_id: new.couple_id.into(),
            therapist_id: new.therapist_id.to_owned(),
            requested_by: new.requested_by.to_owned(),
            agreed_by: new.agreed_by.map(str::to_owned),
            status: new.status,
            created_at: new.now,
            decided_at: None,
        };
        sqlx::query(&format!(
            "INSERT INTO link_requests ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)"
        ))
        .bind(&request.id)
        .bind(request.couple_id.as_str())
        .bind(&request.therapist_id)
        .bind(&request.requested_by)
        .bind(request.agreed_by.as_deref())
        .bind(request.status.as_str())
        .bind(request.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(request)
    }

    #[tracing::instrument(skip(self))]
    pub async fn link_request(&self, id: &str) -> Result<LinkRequest> {
        let row = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM link_requests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        link_request_from_row(&row)
    }

    /// A couple's requests, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn couple_link_requests(&self, couple_id: &CoupleId) -> Result<Vec<LinkRequest>> {
        self.link_requests_where("couple_id = $1", couple_id).await
    }

    /// The requests a therapist was asked to answer (both partners agreed),
    /// newest first. A request still waiting for a partner is not theirs to see.
    #[tracing::instrument(skip(self))]
    pub async fn therapist_link_requests(&self, therapist_id: &UserId) -> Result<Vec<LinkRequest>> {
        self.link_requests_where("therapist_id = $1 AND agreed_by IS NOT NULL", therapist_id)
            .await
    }

    async fn link_requests_where(&self, filter: &str, value: &str) -> Result<Vec<LinkRequest>> {
        let rows = sqlx::query(&format!(
            "SELECT {LINK_COLUMNS} FROM link_requests WHERE {filter} \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(value)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(link_request_from_row).collect()
    }

    /// Moves a request on from `from`, once: `Conflict` when someone else
    /// moved it first. `agreed_by` is recorded when given.
    #[tracing::instrument(skip(self))]
    pub async fn move_link_request(
        &self,
        id: &str,
        from: LinkStatus,
        to: LinkStatus,
        agreed_by: Option<&str>,
        now: Millis,
    ) -> Result<LinkRequest> {
        let done = sqlx::query(
            "UPDATE link_requests SET status = $1, agreed_by = COALESCE($2, agreed_by), decided_at = $3 \
             WHERE id = $4 AND status = $5",
        )
        .bind(to.as_str())
        .bind(agreed_by)
        .bind((!to.is_open()).then_some(now))
        .bind(id)
        .bind(from.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            self.link_request(id).await?;
            return Err(StoreError::Conflict(Conflict::LinkRequestAnswered));
        }
        self.link_request(id).await
    }

    /// The therapist accepts: the request is settled, the couple linked to
    /// them, and their practice code replaced (a code links one couple), all
    /// at once.
    #[tracing::instrument(skip(self, therapist, new_code))]
    pub async fn accept_link_request(
        &self,
        id: &str,
        therapist: &User,
        new_code: &str,
        code_expires_at: Millis,
        now: Millis,
    ) -> Result<LinkRequest> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(&format!(
            "UPDATE link_requests SET status = 'accepted', decided_at = $1 \
             WHERE id = $2 AND therapist_id = $3 AND status = 'waiting_for_therapist' \
             RETURNING {LINK_COLUMNS}"
        ))
        .bind(now)
        .bind(id)
        .bind(therapist.id.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            drop(tx);
            self.link_request(id).await?;
            return Err(StoreError::Conflict(Conflict::LinkRequestAnswered));
        };
        let request = link_request_from_row(&row)?;
        lock_couple(&mut tx, &request.couple_id).await?;
        refuse_closed(&mut tx, &request.couple_id).await?;
        if set_couple_therapist(&mut *tx, &request.couple_id, therapist).await? == 0 {
            return Err(StoreError::Conflict(Conflict::CoupleHasTherapist));
        }
        replace_code(&mut *tx, &therapist.id, new_code, code_expires_at).await?;
        tx.commit().await?;
        Ok(request)
    }

    /// When a therapist's practice code stops working; `None` when they have
    /// none. A code from before codes expired counts as issued now: it gets
    /// `expiry_if_unset`, once, on this first read.
    #[tracing::instrument(skip(self))]
    pub async fn link_code_expires_at(
        &self,
        therapist_id: &UserId,
        expiry_if_unset: Millis,
    ) -> Result<Option<Millis>> {
        sqlx::query(
            "UPDATE users SET link_code_expires_at = $1 \
             WHERE id = $2 AND link_code IS NOT NULL AND link_code_expires_at IS NULL",
        )
        .bind(expiry_if_unset)
        .bind(therapist_id.as_str())
        .execute(&self.pool)
        .await?;
        let row: Option<(Option<String>, Option<i64>)> =
            sqlx::query_as("SELECT link_code, link_code_expires_at FROM users WHERE id = $1")
                .bind(therapist_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        match row {
            None => Err(StoreError::NotFound),
            Some((Some(_), expires_at)) => Ok(expires_at),
            Some((None, _)) => Ok(None),
        }
    }

    /// Gives a therapist a fresh practice code; the old one stops working.
    #[tracing::instrument(skip(self, code))]
    pub async fn replace_link_code(
        &self,
        therapist_id: &UserId,
        code: &str,
        expires_at: Millis,
    ) -> Result<()> {
        replace_code(&self.pool, therapist_id, code, expires_at).await
    }
}

async fn replace_code<'c, E>(
    executor: E,
    therapist_id: &str,
    code: &str,
    expires_at: Millis,
) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let done = sqlx::query(
        "UPDATE users SET link_code = $1, link_code_expires_at = $2 WHERE id = $3 AND role = 'therapist'",
    )
    .bind(code)
    .bind(expires_at)
    .bind(therapist_id)
    .execute(executor)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
