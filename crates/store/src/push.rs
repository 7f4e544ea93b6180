//! The devices (browsers) that asked for notices by web push.

use sqlx::Row;
use trellis_core::Millis;
use trellis_core::UserId;

use crate::db::Store;
use crate::error::Result;
use crate::new_id;

/// Where one browser takes push messages, and its keys (unpadded base64url,
/// as the browser gives them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscriptionRow {
    pub id: String,
    pub user_id: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at: Millis,
}

impl Store {
    /// Records a device for a person. A browser has one address per server,
    /// so when someone else signs in on the same device and turns notices
    /// on, the address becomes theirs: the first person's notices stop
    /// arriving on a device they no longer use.
    #[tracing::instrument(skip_all, fields(user_id))]
    pub async fn save_push_subscription(
        &self,
        user_id: &UserId,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (endpoint) DO UPDATE SET \
             user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, \
             created_at = excluded.created_at",
        )
        .bind(new_id())
        .bind(user_id.as_str())
        .bind(endpoint)
        .bind(p256dh)
        .bind(auth)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A person's devices, oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn push_subscriptions_for(
        &self,
        user_id: &UserId,
    ) -> Result<Vec<PushSubscriptionRow>> {
        let rows = sqlx::query(
            "SELECT id, user_id, endpoint, p256dh, auth, created_at FROM push_subscriptions \
             WHERE user_id = $1 ORDER BY created_at, id",
        )
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PushSubscriptionRow {
                    id: row.try_get("id")?,
                    user_id: row.try_get("user_id")?,
                    endpoint: row.try_get("endpoint")?,
                    p256dh: row.try_get("p256dh")?,
                    auth: row.try_get("auth")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Stops notices to one of the person's devices; `false` when it was not theirs.
    #[tracing::instrument(skip_all, fields(user_id))]
    pub async fn delete_push_subscription(&self, user_id: &UserId, endpoint: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2")
                .bind(user_id.as_str())
                .bind(endpoint)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Stops notices to all of the person's devices; how many there were.
    #[tracing::instrument(skip(self))]
    pub async fn delete_push_subscriptions_of(&self, user_id: &UserId) -> Result<u64> {
        let done = sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Forgets an address its push service says no longer exists.
    #[tracing::instrument(skip_all)]
    pub async fn forget_push_endpoint(&self, endpoint: &str) -> Result<()> {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1")
            .bind(endpoint)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
