//! Mail waiting to be sent: kept until a mail server takes it, claimed by
//! one instance at a time.

use sqlx::Row;
use trellis_core::Millis;

use crate::db::Store;
use crate::error::Result;

/// A mail claimed for sending. `body` is as stored (sealed by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMail {
    pub id: String,
    pub to_name: String,
    pub to_email: String,
    pub subject: String,
    pub body: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

/// A new mail for the outbox.
#[derive(Debug, Clone, Copy)]
pub struct NewMail<'a> {
    pub id: &'a str,
    pub to_name: &'a str,
    pub to_email: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

impl Store {
    #[tracing::instrument(skip_all, fields(mail_id = mail.id))]
    pub async fn enqueue_mail(&self, mail: NewMail<'_>, now: Millis) -> Result<()> {
        sqlx::query(
            "INSERT INTO mail_outbox (id, to_name, to_email, subject, body, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(mail.id)
        .bind(mail.to_name)
        .bind(mail.to_email)
        .bind(mail.subject)
        .bind(mail.body)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims one mail until `now + lease` if it is due and nobody holds it.
    #[tracing::instrument(skip(self))]
    pub async fn claim_mail(
        &self,
        id: &str,
        now: Millis,
        lease: Millis,
    ) -> Result<Option<OutboxMail>> {
        let claimed = sqlx::query(
            "UPDATE mail_outbox SET claimed_until = $1, attempts = attempts + 1 \
             WHERE id = $2 AND failed_at IS NULL AND next_attempt_at <= $3 AND claimed_until <= $3",
        )
        .bind(now + lease)
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if claimed.rows_affected() == 0 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT id, to_name, to_email, subject, body, attempts FROM mail_outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(OutboxMail {
                id: row.try_get("id")?,
                to_name: row.try_get("to_name")?,
                to_email: row.try_get("to_email")?,
                subject: row.try_get("subject")?,
                body: row.try_get("body")?,
                attempts: row.try_get("attempts")?,
            })
        })
        .transpose()
    }

    /// Claims up to `limit` due mails, oldest first; each is claimed by
    /// exactly one caller however many instances ask at once.
    #[tracing::instrument(skip(self))]
    pub async fn claim_due_mail(
        &self,
        now: Millis,
        lease: Millis,
        limit: i64,
    ) -> Result<Vec<OutboxMail>> {
        let due: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM mail_outbox WHERE failed_at IS NULL AND next_attempt_at <= $1 \
             AND claimed_until <= $1 ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut claimed = Vec::new();
        for (id,) in due {
            if let Some(mail) = self.claim_mail(&id, now, lease).await? {
                claimed.push(mail);
            }
        }
        Ok(claimed)
    }

    /// A mail server took it: it leaves the outbox.
    #[tracing::instrument(skip(self))]
    pub async fn mail_sent(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM mail_outbox WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// It could not be sent: try again at `retry_at`, or give up (`None`),
    /// keeping the row (without a body) so the failure can be seen.
    #[tracing::instrument(skip(self, error))]
    pub async fn mail_not_sent(
        &self,
        id: &str,
        error: &str,
        retry_at: Option<Millis>,
        now: Millis,
    ) -> Result<()> {
        match retry_at {
            Some(at) => {
                sqlx::query(
                    "UPDATE mail_outbox SET next_attempt_at = $1, claimed_until = 0, last_error = $2 WHERE id = $3",
                )
                .bind(at)
                .bind(error)
                .bind(id)
                .execute(&self.pool)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE mail_outbox SET failed_at = $1, claimed_until = 0, last_error = $2, body = '' WHERE id = $3",
                )
                .bind(now)
                .bind(error)
                .bind(id)
                .execute(&self.pool)
                .await?
            }
        };
        Ok(())
    }

    /// Mail still waiting to be sent (not given up on).
    #[tracing::instrument(skip(self))]
    pub async fn outbox_backlog(&self) -> Result<i64> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM mail_outbox WHERE failed_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(count)
    }

    /// Forgets mail given up on before `before`.
    #[tracing::instrument(skip(self))]
    pub async fn prune_failed_mail(&self, before: Millis) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM mail_outbox WHERE failed_at IS NOT NULL AND failed_at < $1")
                .bind(before)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }
}
