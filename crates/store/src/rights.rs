//! Data rights: leaving a couple, deleting an account, backups.

use trellis_core::Millis;

use crate::db::{Backend, Store};
use crate::error::{Conflict, Result, StoreError};
use crate::new_id;

/// How a deleted person is shown wherever joint records still name them.
pub const FORMER_MEMBER: &str = "A former member";

impl Store {
    /// Takes a partner out of their couple: everything they shared there goes
    /// back to "only me" (each change recorded), so it leaves the other
    /// partner's and the therapist's view; then they start again in a new
    /// self-guided couple of their own. Returns the new couple's id.
    /// `resealed` holds each shared entry's body sealed again for "only me"
    /// (an entry missing from it keeps its body, which then no longer opens).
    #[tracing::instrument(skip(self, resealed))]
    pub async fn leave_couple(
        &self,
        user_id: &str,
        resealed: &[(String, Vec<u8>)],
        now: Millis,
    ) -> Result<String> {
        let mut tx = self.write_tx().await?;
        let row: Option<(String,)> =
            sqlx::query_as("DELETE FROM couple_members WHERE user_id = $1 RETURNING couple_id")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        let (old_couple,) = row.ok_or(StoreError::NotFound)?;
        close_after_leaving(&mut tx, &old_couple, user_id, now).await?;
        withdraw_shared_writing(&mut tx, user_id, resealed, now).await?;
        // Context on a missed day of a promise stays with the promise in the
        // old couple: it goes back to being the owner's alone.
        sqlx::query(
            "UPDATE promise_marks SET context_audience = 'me' WHERE context IS NOT NULL \
             AND promise_id IN (SELECT id FROM promises WHERE owner_id = $1)",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let couple_id = new_id();
        sqlx::query("INSERT INTO couples (id, practice_id, therapist_id, created_at) VALUES ($1, NULL, NULL, $2)")
            .bind(&couple_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO couple_members (user_id, couple_id, joined_at) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(&couple_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(%old_couple, "partner left their couple");
        Ok(couple_id)
    }

    /// Deletes a partner's account: all their own writing is removed, they
    /// leave their couple, their sessions and links end, and the account row
    /// keeps only a placeholder name so joint records stay whole (agreements,
    /// structured talks and compromise circles, written with the other
    /// partner, stay with the couple, shown as by "a former member").
    #[tracing::instrument(skip(self))]
    pub async fn delete_account(&self, user_id: &str, now: Millis) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE users SET email = $1, name = $2, password_hash = '!', link_code = NULL WHERE id = $3",
        )
        .bind(format!("deleted-{user_id}@invalid"))
        .bind(FORMER_MEMBER)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let couple: Option<(String,)> =
            sqlx::query_as("SELECT couple_id FROM couple_members WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((couple_id,)) = couple {
            close_after_leaving(&mut tx, &couple_id, user_id, now).await?;
        }
        for statement in [
            "DELETE FROM entries WHERE author_id = $1",
            // The therapist's side of their private thread goes with them.
            "DELETE FROM entries WHERE addressed_to = $1",
            // Their words on missed days go; the joint record of the promise stays.
            "UPDATE promise_marks SET context = NULL, context_audience = NULL \
             WHERE promise_id IN (SELECT id FROM promises WHERE owner_id = $1)",
            "DELETE FROM person_settings WHERE user_id = $1",
            "DELETE FROM calendar_feeds WHERE user_id = $1",
            "DELETE FROM push_subscriptions WHERE user_id = $1",
            "DELETE FROM thread_reads WHERE user_id = $1",
            "DELETE FROM safety_screenings WHERE user_id = $1",
            "DELETE FROM screening_decisions WHERE user_id = $1",
            "DELETE FROM shared_work_pauses WHERE user_id = $1",
            "DELETE FROM situation_proposals WHERE user_id = $1",
            "DELETE FROM measures WHERE user_id = $1",
            "DELETE FROM onboarding WHERE user_id = $1",
            "DELETE FROM couple_members WHERE user_id = $1",
            "DELETE FROM sessions WHERE user_id = $1",
            "DELETE FROM one_time_tokens WHERE user_id = $1",
        ] {
            sqlx::query(statement)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.sessions_ended();
        Ok(())
    }

    /// A consistent copy of a SQLite database, taken while it is in use.
    /// PostgreSQL is backed up with its own tools (`pg_dump`).
    #[tracing::instrument(skip(self))]
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<()> {
        if self.backend() != Backend::Sqlite {
            return Err(StoreError::Corrupt(
                "online backup here is for SQLite; back up PostgreSQL with pg_dump".to_owned(),
            ));
        }
        if path.exists() {
            return Err(StoreError::Conflict(Conflict::BackupFile));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path.to_string_lossy().into_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Closes the couple to new members and lifts the leaver's safety flags there
/// (their concern goes with them; it must not keep the other partner paused).
async fn close_after_leaving(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    couple_id: &str,
    user_id: &str,
    now: Millis,
) -> Result<()> {
    sqlx::query("UPDATE couples SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
        .bind(now)
        .bind(couple_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE safety_screenings SET resolved_at = $1, resolved_by = 'left' WHERE couple_id = $2 AND user_id = $3 AND resolved_at IS NULL",
    )
    .bind(now)
    .bind(couple_id)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM shared_work_pauses WHERE couple_id = $1 AND user_id = $2")
        .bind(couple_id)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE onboarding SET scores_consent = 0, scores_to_partner = 0 WHERE user_id = $1",
    )
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn withdraw_shared_writing(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
    resealed: &[(String, Vec<u8>)],
    now: Millis,
) -> Result<()> {
    let shared: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, audience FROM entries WHERE author_id = $1 AND audience <> 'me'",
    )
    .bind(user_id)
    .fetch_all(&mut **tx)
    .await?;
    for (entry_id, audience) in shared {
        let body = resealed
            .iter()
            .find(|(id, _)| *id == entry_id)
            .map(|(_, body)| body.clone());
        sqlx::query(
            "UPDATE entries SET audience = 'me', updated_at = $1, body = COALESCE($2, body) WHERE id = $3",
        )
            .bind(now)
            .bind(body)
            .bind(&entry_id)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO audience_changes (id, entry_id, changed_by, from_audience, to_audience, changed_at) \
             VALUES ($1, $2, $3, $4, 'me', $5)",
        )
        .bind(new_id())
        .bind(&entry_id)
        .bind(user_id)
        .bind(&audience)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
