//! Structured talks and their turns, time-outs, the two-circles compromise,
//! and the notification that tells every instance a talk has a new turn.

use sqlx::Row;
use sqlx::any::AnyRow;
use trellis_core::{CoupleId, Millis, UserId};

use crate::db::{Backend, Store};
use crate::error::{Conflict, Result, StoreError};

/// The channel every instance LISTENs on (PostgreSQL).
pub const TALK_CHANNEL: &str = "trellis_talk_turns";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TalkRow {
    pub id: String,
    pub couple_id: CoupleId,
    pub couple_therapist_id: Option<UserId>,
    pub opened_by: UserId,
    pub other_partner: UserId,
    pub topic: Vec<u8>,
    pub therapist_can_read: bool,
    pub created_at: Millis,
    pub ended_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnRow {
    pub seq: i64,
    pub author_id: UserId,
    pub author_name: String,
    pub kind: String,
    pub body: Vec<u8>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutRow {
    pub id: String,
    pub couple_id: CoupleId,
    pub caller_id: String,
    pub caller_name: String,
    pub talk_id: Option<String>,
    pub started_at: Millis,
    pub return_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompromiseRow {
    pub id: String,
    pub couple_id: CoupleId,
    pub opened_by: UserId,
    pub topic: Vec<u8>,
    pub created_at: Millis,
    pub agreement_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircleRow {
    pub user_id: String,
    pub core: Vec<u8>,
    pub flexible: Vec<u8>,
}

const TALK_COLUMNS: &str = "t.id, t.couple_id, c.therapist_id AS couple_therapist_id, t.opened_by, \
     t.other_partner, t.topic, t.therapist_can_read, t.created_at, t.ended_at";
const TALK_FROM: &str = "talks t JOIN couples c ON c.id = t.couple_id";

fn talk_from(row: &AnyRow) -> Result<TalkRow> {
    Ok(TalkRow {
        id: row.try_get("id")?,
        couple_id: crate::id_at(row, "couple_id")?,
        couple_therapist_id: crate::opt_id_at(row, "couple_therapist_id")?,
        opened_by: crate::id_at(row, "opened_by")?,
        other_partner: crate::id_at(row, "other_partner")?,
        topic: row.try_get("topic")?,
        therapist_can_read: row.try_get::<i64, _>("therapist_can_read")? != 0,
        created_at: row.try_get("created_at")?,
        ended_at: row.try_get("ended_at")?,
    })
}

fn timeout_from(row: &AnyRow) -> Result<TimeoutRow> {
    Ok(TimeoutRow {
        id: row.try_get("id")?,
        couple_id: crate::id_at(row, "couple_id")?,
        caller_id: row.try_get("caller_id")?,
        caller_name: row.try_get("caller_name")?,
        talk_id: row.try_get("talk_id")?,
        started_at: row.try_get("started_at")?,
        return_at: row.try_get("return_at")?,
    })
}

const TIMEOUT_SELECT: &str = "SELECT o.id, o.couple_id, o.caller_id, u.name AS caller_name, o.talk_id, \
     o.started_at, o.return_at FROM timeouts o JOIN users u ON u.id = o.caller_id";

/// A new turn, sealed.
pub struct NewTurn<'a> {
    pub talk_id: &'a str,
    pub seq: i64,
    pub author_id: &'a str,
    pub kind: &'a str,
    pub body: &'a [u8],
    pub now: Millis,
    /// The move ends the talk.
    pub ends: bool,
}

/// Waits for talk notifications from other instances (PostgreSQL LISTEN).
pub struct TalkListener(sqlx::postgres::PgListener);

impl TalkListener {
    /// The id of the next talk with a new turn.
    pub async fn next(&mut self) -> Result<String> {
        Ok(self.0.recv().await?.payload().to_owned())
    }
}

impl Store {
    #[tracing::instrument(skip(self, topic))]
    #[allow(clippy::too_many_arguments)]
    pub async fn create_talk(
        &self,
        id: &str,
        couple_id: &CoupleId,
        opened_by: &str,
        other_partner: &str,
        topic: &[u8],
        therapist_can_read: bool,
        now: Millis,
    ) -> Result<TalkRow> {
        sqlx::query(
            "INSERT INTO talks (id, couple_id, opened_by, other_partner, topic, therapist_can_read, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(couple_id.as_str())
        .bind(opened_by)
        .bind(other_partner)
        .bind(topic)
        .bind(i64::from(therapist_can_read))
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.talk(id).await
    }

    #[tracing::instrument(skip(self))]
    pub async fn talk(&self, id: &str) -> Result<TalkRow> {
        let sql = format!("SELECT {TALK_COLUMNS} FROM {TALK_FROM} WHERE t.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        talk_from(&row)
    }

    /// A couple's talks, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn talks_of_couple(&self, couple_id: &CoupleId) -> Result<Vec<TalkRow>> {
        let sql = format!(
            "SELECT {TALK_COLUMNS} FROM {TALK_FROM} WHERE t.couple_id = $1 ORDER BY t.created_at DESC, t.id DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(couple_id.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(talk_from).collect()
    }

    /// Turns after `after` (0: all), in order.
    #[tracing::instrument(skip(self))]
    pub async fn turns_after(&self, talk_id: &str, after: i64) -> Result<Vec<TurnRow>> {
        let rows = sqlx::query(
            "SELECT t.seq, t.author_id, u.name AS author_name, t.kind, t.body, t.created_at \
             FROM talk_turns t JOIN users u ON u.id = t.author_id \
             WHERE t.talk_id = $1 AND t.seq > $2 ORDER BY t.seq",
        )
        .bind(talk_id)
        .bind(after)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(TurnRow {
                    seq: row.try_get("seq")?,
                    author_id: crate::id_at(row, "author_id")?,
                    author_name: row.try_get("author_name")?,
                    kind: row.try_get("kind")?,
                    body: row.try_get("body")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Adds a turn with the next number. `Conflict` when another turn took
    /// that number first: the caller replays the talk and tries again.
    /// `Gone` once the talk has ended: nothing is added to an ended talk.
    #[tracing::instrument(skip(self, turn), fields(talk_id = turn.talk_id, seq = turn.seq))]
    pub async fn insert_turn(&self, turn: NewTurn<'_>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let added = sqlx::query(
            "INSERT INTO talk_turns (talk_id, seq, author_id, kind, body, created_at) \
             SELECT $1, $2, $3, $4, $5, $6 WHERE NOT EXISTS \
             (SELECT 1 FROM talks WHERE id = $1 AND ended_at IS NOT NULL)",
        )
        .bind(turn.talk_id)
        .bind(turn.seq)
        .bind(turn.author_id)
        .bind(turn.kind)
        .bind(turn.body)
        .bind(turn.now)
        .execute(&mut *tx)
        .await
        .map_err(StoreError::unique(Conflict::Turn))?;
        if added.rows_affected() == 0 {
            return Err(StoreError::Gone);
        }
        if turn.ends {
            sqlx::query("UPDATE talks SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
                .bind(turn.now)
                .bind(turn.talk_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Tells every instance that a talk has a new turn (a no-op on SQLite,
    /// which one instance serves).
    #[tracing::instrument(skip(self))]
    pub async fn notify_talk(&self, talk_id: &str) -> Result<()> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(TALK_CHANNEL)
                .bind(talk_id)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// A listener for other instances' turns; `None` on SQLite.
    pub async fn listen_talks(&self) -> Result<Option<TalkListener>> {
        if self.backend() != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(self.url()).await?;
        listener.listen(TALK_CHANNEL).await?;
        Ok(Some(TalkListener(listener)))
    }

    #[tracing::instrument(skip(self))]
    pub async fn create_timeout(
        &self,
        id: &str,
        couple_id: &CoupleId,
        caller_id: &UserId,
        talk_id: Option<&str>,
        now: Millis,
        return_at: Millis,
    ) -> Result<TimeoutRow> {
        sqlx::query(
            "INSERT INTO timeouts (id, couple_id, caller_id, talk_id, started_at, return_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(couple_id.as_str())
        .bind(caller_id.as_str())
        .bind(talk_id)
        .bind(now)
        .bind(return_at)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(&format!("{TIMEOUT_SELECT} WHERE o.id = $1"))
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        timeout_from(&row)
    }

    /// A couple's time-outs started since `since`, newest first.
    #[tracing::instrument(skip(self))]
    pub async fn timeouts_of_couple(
        &self,
        couple_id: &CoupleId,
        since: Millis,
    ) -> Result<Vec<TimeoutRow>> {
        let rows = sqlx::query(&format!(
            "{TIMEOUT_SELECT} WHERE o.couple_id = $1 AND o.started_at >= $2 ORDER BY o.started_at DESC, o.id DESC"
        ))
        .bind(couple_id.as_str())
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(timeout_from).collect()
    }

    /// Time-outs whose return time has come and whose couple was not yet invited back.
    #[tracing::instrument(skip(self))]
    pub async fn timeouts_due(&self, now: Millis) -> Result<Vec<TimeoutRow>> {
        let rows = sqlx::query(&format!(
            "{TIMEOUT_SELECT} WHERE o.invited_back_at IS NULL AND o.return_at <= $1 ORDER BY o.return_at"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(timeout_from).collect()
    }

    /// Claims the invitation back, so only one instance sends it.
    #[tracing::instrument(skip(self))]
    pub async fn claim_timeout_return(&self, id: &str, now: Millis) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE timeouts SET invited_back_at = $1 WHERE id = $2 AND invited_back_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    #[tracing::instrument(skip(self, topic))]
    pub async fn create_compromise(
        &self,
        id: &str,
        couple_id: &CoupleId,
        opened_by: &str,
        topic: &[u8],
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO compromises (id, couple_id, opened_by, topic, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(couple_id.as_str())
        .bind(opened_by)
        .bind(topic)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    pub async fn compromise(&self, id: &str) -> Result<CompromiseRow> {
        let row = sqlx::query(
            "SELECT id, couple_id, opened_by, topic, created_at, agreement_id FROM compromises WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(CompromiseRow {
            id: row.try_get("id")?,
            couple_id: crate::id_at(&row, "couple_id")?,
            opened_by: crate::id_at(&row, "opened_by")?,
            topic: row.try_get("topic")?,
            created_at: row.try_get("created_at")?,
            agreement_id: row.try_get("agreement_id")?,
        })
    }

    #[tracing::instrument(skip(self))]
    pub async fn compromises_of_couple(&self, couple_id: &CoupleId) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM compromises WHERE couple_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(couple_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    /// Writes a partner's circles; once written they stay (the other may be reading them).
    #[tracing::instrument(skip(self, core, flexible))]
    pub async fn insert_circle(
        &self,
        compromise_id: &str,
        user_id: &UserId,
        core: &[u8],
        flexible: &[u8],
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO compromise_circles (compromise_id, user_id, core, flexible, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(compromise_id)
        .bind(user_id.as_str())
        .bind(core)
        .bind(flexible)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(StoreError::unique(Conflict::Circle))?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    pub async fn circles(&self, compromise_id: &str) -> Result<Vec<CircleRow>> {
        let rows = sqlx::query(
            "SELECT user_id, core, flexible FROM compromise_circles WHERE compromise_id = $1 ORDER BY created_at, user_id",
        )
        .bind(compromise_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CircleRow {
                    user_id: row.try_get("user_id")?,
                    core: row.try_get("core")?,
                    flexible: row.try_get("flexible")?,
                })
            })
            .collect()
    }

    /// Claims the right to propose the compromise's agreement (`false`
    /// when someone already did), so two partners cannot make two.
    #[tracing::instrument(skip(self))]
    pub async fn claim_compromise_agreement(&self, id: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE compromises SET agreement_id = 'pending' WHERE id = $1 AND agreement_id IS NULL",
        )
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records the proposed agreement, or (`None`) releases a claim that failed.
    #[tracing::instrument(skip(self))]
    pub async fn set_compromise_agreement(
        &self,
        id: &str,
        agreement_id: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE compromises SET agreement_id = $1 WHERE id = $2")
            .bind(agreement_id)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
