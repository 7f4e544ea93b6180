//! The audit log (append-only: nothing here changes or removes an event) and
//! sign-in throttling.

use sqlx::Row;
use trellis_core::Millis;

use crate::db::Store;
use crate::error::Result;
use crate::new_id;

/// Something that happened, for the record.
#[derive(Debug, Clone, Default)]
pub struct AuditRecord<'a> {
    pub actor_id: Option<&'a str>,
    pub actor_role: Option<&'a str>,
    /// What happened, e.g. `signed_in`, `audience_changed`, `viewed_writing`.
    pub action: &'a str,
    /// Whose data it concerns.
    pub subject_id: Option<&'a str>,
    pub couple_id: Option<&'a str>,
    pub item_kind: Option<&'a str>,
    pub item_id: Option<&'a str>,
    pub detail: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: String,
    pub at: Millis,
    pub actor_id: Option<String>,
    pub actor_name: Option<String>,
    pub actor_role: Option<String>,
    pub action: String,
    pub subject_id: Option<String>,
    pub couple_id: Option<String>,
    pub item_kind: Option<String>,
    pub item_id: Option<String>,
    pub detail: String,
}

/// What a throttled attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleAttempt {
    /// Counted; go ahead and check it. `attempts` includes this one.
    Go { attempts: i64 },
    /// Refused without being counted or checked until `until`.
    Locked { until: Millis },
}

impl Store {
    #[tracing::instrument(skip(self, record), fields(action = record.action))]
    pub async fn record_audit(&self, record: AuditRecord<'_>, now: Millis) -> Result<()> {
        self.record_audits(&[record], now).await
    }

    /// Several events at once, in one transaction and a few statements
    /// (many rows each), as when a therapist's export opens many entries.
    #[tracing::instrument(skip_all, fields(count = records.len()))]
    pub async fn record_audits(&self, records: &[AuditRecord<'_>], now: Millis) -> Result<()> {
        // Ten values a row; 50 rows stay far below both engines' bind limits.
        const ROWS_PER_STATEMENT: usize = 50;
        let mut tx = self.write_tx().await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|row| {
                    let first = row * 10 + 1;
                    let places: Vec<String> =
                        (first..first + 10).map(|n| format!("${n}")).collect();
                    format!("({})", places.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO audit_events (id, at, actor_id, actor_role, action, subject_id, couple_id, item_kind, item_id, detail) \
                 VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for record in chunk {
                query = query
                    .bind(new_id())
                    .bind(now)
                    .bind(record.actor_id)
                    .bind(record.actor_role)
                    .bind(record.action)
                    .bind(record.subject_id)
                    .bind(record.couple_id)
                    .bind(record.item_kind)
                    .bind(record.item_id)
                    .bind(record.detail);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Events about someone's data or done by them, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn audit_events_about(&self, user_id: &str, limit: i64) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT a.id, a.at, a.actor_id, u.name AS actor_name, a.actor_role, a.action, a.subject_id, \
             a.couple_id, a.item_kind, a.item_id, a.detail \
             FROM audit_events a LEFT JOIN users u ON u.id = a.actor_id \
             WHERE a.subject_id = $1 OR a.actor_id = $1 ORDER BY a.at DESC, a.id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEvent {
                    id: row.try_get("id")?,
                    at: row.try_get("at")?,
                    actor_id: row.try_get("actor_id")?,
                    actor_name: row.try_get("actor_name")?,
                    actor_role: row.try_get("actor_role")?,
                    action: row.try_get("action")?,
                    subject_id: row.try_get("subject_id")?,
                    couple_id: row.try_get("couple_id")?,
                    item_kind: row.try_get("item_kind")?,
                    item_id: row.try_get("item_id")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect()
    }

    /// Counts an attempt *before* it is checked, atomically, so parallel
    /// requests cannot each slip past the limit: attempts are counted within a
    /// fixed window that starts at the first attempt after the last one ended
    /// (so right around a window's end at most twice the limit gets through
    /// before a lock), `lock_for(attempts)` says how long to lock after that
    /// many (0: no lock), and while a lock holds nothing is counted or checked.
    /// A successful attempt is settled afterwards with [`Store::throttle_clear`]
    /// or [`Store::throttle_refund`].
    #[tracing::instrument(skip(self, key, lock_for))]
    pub async fn throttle_attempt(
        &self,
        key: &str,
        now: Millis,
        window: Millis,
        lock_for: impl Fn(i64) -> Millis,
    ) -> Result<ThrottleAttempt> {
        let mut tx = self.write_tx().await?;
        // Write first: SQLite takes its write lock and PostgreSQL locks the
        // row, so concurrent attempts on one key queue here.
        sqlx::query(
            "INSERT INTO login_throttle (throttle_key, failures, window_started_at, locked_until) VALUES ($1, 0, $2, 0) \
             ON CONFLICT (throttle_key) DO UPDATE SET failures = CASE WHEN login_throttle.window_started_at <= $3 THEN 0 ELSE login_throttle.failures END, \
             window_started_at = CASE WHEN login_throttle.window_started_at <= $3 THEN $2 ELSE login_throttle.window_started_at END",
        )
        .bind(key)
        .bind(now)
        .bind(now - window)
        .execute(&mut *tx)
        .await?;
        let (attempts, locked_until): (i64, i64) = sqlx::query_as(
            "SELECT failures, locked_until FROM login_throttle WHERE throttle_key = $1",
        )
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        if locked_until > now {
            tx.commit().await?;
            return Ok(ThrottleAttempt::Locked {
                until: locked_until,
            });
        }
        let attempts = attempts + 1;
        let lock = lock_for(attempts);
        sqlx::query(
            "UPDATE login_throttle SET failures = $1, locked_until = $2 WHERE throttle_key = $3",
        )
        .bind(attempts)
        .bind(if lock > 0 { now + lock } else { locked_until })
        .bind(key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ThrottleAttempt::Go { attempts })
    }

    /// Gives back an attempt that turned out well (a correct password from a
    /// shared address), lifting a lock that only that attempt had set.
    #[tracing::instrument(skip(self, key, lock_for))]
    pub async fn throttle_refund(
        &self,
        key: &str,
        now: Millis,
        lock_for: impl Fn(i64) -> Millis,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let row: Option<(i64,)> = sqlx::query_as(
            "UPDATE login_throttle SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END \
             WHERE throttle_key = $1 RETURNING failures",
        )
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((attempts,)) = row
            && lock_for(attempts) == 0
        {
            sqlx::query(
                "UPDATE login_throttle SET locked_until = 0 WHERE throttle_key = $1 AND locked_until > $2",
            )
            .bind(key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A successful sign-in clears the account's failures.
    pub async fn throttle_clear(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
