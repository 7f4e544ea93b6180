//! Two-step sign-in: authenticator secrets, replay protection, recovery
//! codes, and sign-ins waiting for their second step.

use trellis_core::Millis;
use trellis_core::UserId;

use crate::db::Store;
use crate::error::{Result, StoreError};
use crate::new_id;

impl Store {
    /// The authenticator secret and the last accepted step, if set up.
    #[tracing::instrument(skip(self))]
    pub async fn totp(&self, user_id: &UserId) -> Result<Option<(String, i64)>> {
        let row: Option<(Option<String>, i64)> =
            sqlx::query_as("SELECT totp_secret, totp_last_step FROM users WHERE id = $1")
                .bind(user_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        let (secret, step) = row.ok_or(StoreError::NotFound)?;
        Ok(secret.map(|secret| (secret, step)))
    }

    /// Turns two-step sign-in on with a secret and fresh recovery codes
    /// (their hashes), replacing any earlier ones.
    #[tracing::instrument(skip(self, secret, recovery_hashes))]
    pub async fn enable_totp(
        &self,
        user_id: &UserId,
        secret: &str,
        recovery_hashes: &[String],
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE users SET totp_secret = $1, totp_last_step = 0 WHERE id = $2")
            .bind(secret)
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await?;
        for hash in recovery_hashes {
            sqlx::query("INSERT INTO recovery_codes (id, user_id, code_hash) VALUES ($1, $2, $3)")
                .bind(new_id())
                .bind(user_id.as_str())
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    pub async fn disable_totp(&self, user_id: &UserId) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE users SET totp_secret = NULL, totp_last_step = 0 WHERE id = $1")
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that a code of `step` was used; false if that step (or a later
    /// one) was already used, which makes a replayed code fail even when two
    /// requests race.
    #[tracing::instrument(skip(self))]
    pub async fn use_totp_step(&self, user_id: &UserId, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(user_id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Uses up a recovery code; false if it is unknown or already used.
    #[tracing::instrument(skip(self, code_hash))]
    pub async fn use_recovery_code(
        &self,
        user_id: &UserId,
        code_hash: &str,
        now: Millis,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(user_id.as_str())
        .bind(code_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn unused_recovery_codes(&self, user_id: &UserId) -> Result<i64> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }

    pub async fn create_pending_sign_in(
        &self,
        token_hash: &str,
        user_id: &UserId,
        expires_at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO pending_sign_ins (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(user_id.as_str())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user waiting behind a pending sign-in, if it has not expired.
    pub async fn pending_sign_in(&self, token_hash: &str, now: Millis) -> Result<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT user_id FROM pending_sign_ins WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    pub async fn finish_pending_sign_in(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM pending_sign_ins WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether the practice asks its staff for two-step sign-in.
    pub async fn practice_requires_two_factor(&self, practice_id: &str) -> Result<bool> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT require_staff_two_factor FROM practices WHERE id = $1")
                .bind(practice_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.is_some_and(|(flag,)| flag != 0))
    }

    pub async fn set_practice_requires_two_factor(
        &self,
        practice_id: &str,
        required: bool,
    ) -> Result<()> {
        sqlx::query("UPDATE practices SET require_staff_two_factor = $1 WHERE id = $2")
            .bind(i64::from(required))
            .bind(practice_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
