//! A therapist's private session notes, and when each person last read a
//! message thread.

use sqlx::Row;
use sqlx::any::AnyRow;
use trellis_core::Millis;
use trellis_core::{CoupleId, UserId};

use crate::db::Store;
use crate::error::{Result, StoreError};

/// A session note, body still sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRow {
    pub id: String,
    pub couple_id: String,
    pub therapist_id: String,
    pub body: Vec<u8>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

fn note_from(row: &AnyRow) -> Result<NoteRow> {
    Ok(NoteRow {
        id: row.try_get("id")?,
        couple_id: row.try_get("couple_id")?,
        therapist_id: row.try_get("therapist_id")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const NOTE_COLUMNS: &str = "id, couple_id, therapist_id, body, created_at, updated_at";

impl Store {
    #[tracing::instrument(skip(self, body))]
    pub async fn insert_note(
        &self,
        id: &str,
        couple_id: &CoupleId,
        therapist_id: &UserId,
        body: &[u8],
        now: Millis,
    ) -> Result<NoteRow> {
        sqlx::query(
            "INSERT INTO therapist_notes (id, couple_id, therapist_id, body, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(id)
        .bind(couple_id.as_str())
        .bind(therapist_id.as_str())
        .bind(body)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.note(therapist_id, id).await
    }

    /// A note, only for the therapist who wrote it.
    #[tracing::instrument(skip(self))]
    pub async fn note(&self, therapist_id: &UserId, id: &str) -> Result<NoteRow> {
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM therapist_notes WHERE id = $1 AND therapist_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(therapist_id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        note_from(&row)
    }

    /// This therapist's notes about a couple, newest first. Notes another
    /// therapist wrote (before a couple changed therapist) stay theirs.
    #[tracing::instrument(skip(self))]
    pub async fn notes_about(
        &self,
        therapist_id: &UserId,
        couple_id: &CoupleId,
    ) -> Result<Vec<NoteRow>> {
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM therapist_notes WHERE therapist_id = $1 AND couple_id = $2 \
             ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(therapist_id.as_str())
            .bind(couple_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(note_from).collect()
    }

    #[tracing::instrument(skip(self, body))]
    pub async fn update_note(
        &self,
        therapist_id: &UserId,
        id: &str,
        body: &[u8],
        now: Millis,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE therapist_notes SET body = $1, updated_at = $2 WHERE id = $3 AND therapist_id = $4",
        )
        .bind(body)
        .bind(now)
        .bind(id)
        .bind(therapist_id.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Marks a thread read up to `now` for this person.
    #[tracing::instrument(skip(self))]
    pub async fn mark_thread_read(
        &self,
        user_id: &UserId,
        thread_key: &str,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO thread_reads (user_id, thread_key, read_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, thread_key) DO UPDATE SET read_at = excluded.read_at",
        )
        .bind(user_id.as_str())
        .bind(thread_key)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When this person last read the thread (0 if never).
    #[tracing::instrument(skip(self))]
    pub async fn thread_read_at(&self, user_id: &UserId, thread_key: &str) -> Result<Millis> {
        let row =
            sqlx::query("SELECT read_at FROM thread_reads WHERE user_id = $1 AND thread_key = $2")
                .bind(user_id.as_str())
                .bind(thread_key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.try_get("read_at")).transpose()?.unwrap_or(0))
    }

    /// Unread messages from each couple of `therapist_id`, in one query
    /// (couples with none are absent): written by others after the
    /// therapist last opened each thread.
    #[tracing::instrument(skip(self))]
    pub async fn unread_messages_by_couple_for_therapist(
        &self,
        therapist_id: &UserId,
    ) -> Result<std::collections::HashMap<String, i64>> {
        let rows = sqlx::query(
            // The caseload's couples first, from their index: left to
            // itself, PostgreSQL walked every couple of the practice to
            // group in order (21 ms at 100,000 couples; 0.7 ms like this).
            "WITH mine AS MATERIALIZED (SELECT id FROM couples WHERE therapist_id = $1) \
             SELECT e.couple_id AS couple_id, COUNT(*) AS n FROM mine \
             JOIN entries e ON e.couple_id = mine.id \
             LEFT JOIN thread_reads r ON r.user_id = $1 AND r.thread_key = e.ref_id \
             WHERE e.kind = 'message' AND e.author_id <> $1 \
             AND e.audience IN ('therapist', 'partner_and_therapist') \
             AND e.created_at > COALESCE(r.read_at, 0) GROUP BY e.couple_id",
        )
        .bind(therapist_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("couple_id")?, row.try_get("n")?)))
            .collect()
    }
}
