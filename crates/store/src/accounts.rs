//! People, their sessions, and single-use tokens.

use sqlx::Row;
use sqlx::any::AnyRow;
use trellis_core::{CoupleId, EmailAddress, Millis, PracticeId, Role, UserId};

use crate::db::Store;
use crate::error::{Conflict, Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The practice of an admin or therapist; for a partner, the practice
    /// their couple is linked to (if any) is on the couple.
    pub practice_id: Option<PracticeId>,
    /// The couple of a partner; `None` for staff and for partners between couples.
    pub couple_id: Option<CoupleId>,
    pub link_code: Option<String>,
    /// Two-step sign-in is set up.
    pub two_factor: bool,
    /// False once an admin has removed this member of staff.
    pub active: bool,
    pub created_at: Millis,
}

impl User {
    /// The facts about this person that decide what they may see (the one
    /// visibility rule, `trellis_core::privacy::relation`).
    pub fn as_viewer(&self) -> trellis_core::privacy::Viewer<'_> {
        trellis_core::privacy::Viewer {
            user_id: &self.id,
            role: self.role,
            couple_id: self.couple_id.as_ref(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct UserWithPassword {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A browser session (cookie).
    Web,
    /// A bearer token for the JSON API.
    Api,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub kind: SessionKind,
    pub now: Millis,
    pub expires_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OneTimePurpose {
    Setup,
    PasswordReset,
}

impl OneTimePurpose {
    fn as_str(self) -> &'static str {
        match self {
            OneTimePurpose::Setup => "setup",
            OneTimePurpose::PasswordReset => "password_reset",
        }
    }
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.email, u.name, u.role, u.practice_id, \
     m.couple_id, u.link_code, u.created_at, u.password_hash, \
     CAST(CASE WHEN u.totp_secret IS NULL THEN 0 ELSE 1 END AS BIGINT) AS two_factor, \
     CAST(CASE WHEN u.deactivated_at IS NULL THEN 1 ELSE 0 END AS BIGINT) AS active";
pub(crate) const USER_FROM: &str = "users u LEFT JOIN couple_members m ON m.user_id = u.id";

pub(crate) fn user_from_row(row: &AnyRow) -> Result<UserWithPassword> {
    let role: String = row.try_get("role")?;
    let role =
        Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?;
    Ok(UserWithPassword {
        user: User {
            id: crate::id_at(row, "id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            role,
            practice_id: crate::opt_id_at(row, "practice_id")?,
            couple_id: crate::opt_id_at(row, "couple_id")?,
            link_code: row.try_get("link_code")?,
            two_factor: row.try_get::<i64, _>("two_factor")? != 0,
            active: row.try_get::<i64, _>("active")? != 0,
            created_at: row.try_get("created_at")?,
        },
        password_hash: row.try_get("password_hash")?,
    })
}

/// The fields of a user row that is about to be written.
pub(crate) struct NewUserRow<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
    pub practice_id: Option<&'a str>,
    pub link_code: Option<&'a str>,
    pub now: Millis,
}

pub(crate) async fn insert_user<'c, E>(executor: E, row: NewUserRow<'_>) -> Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO users (id, email, name, role, password_hash, practice_id, link_code, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(row.id)
    .bind(row.email)
    .bind(row.name)
    .bind(row.role.as_str())
    .bind(row.password_hash)
    .bind(row.practice_id)
    .bind(row.link_code)
    .bind(row.now)
    .execute(executor)
    .await
    .map_err(StoreError::unique(Conflict::Email))?;
    Ok(())
}

/// A session found open, with its person.
#[derive(Debug, Clone)]
pub struct LiveSession {
    pub user: User,
    /// When it ends if idle from now on.
    pub expires_at: Millis,
    /// When it began (an API token's absolute lifetime counts from here).
    pub created_at: Millis,
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn user(&self, id: &str) -> Result<User> {
        let sql = format!("SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(user_from_row)
            .transpose()?
            .map(|u| u.user)
            .ok_or(StoreError::NotFound)
    }

    /// For sign-in: the user and their password hash.
    #[tracing::instrument(skip(self, email))]
    pub async fn user_by_email(&self, email: &EmailAddress) -> Result<Option<UserWithPassword>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.email = $1");
        let row = sqlx::query(&sql)
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    #[tracing::instrument(skip(self))]
    pub async fn password_hash(&self, user_id: &UserId) -> Result<String> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
                .bind(user_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(hash,)| hash).ok_or(StoreError::NotFound)
    }

    /// Sets a new password and ends every session of the user, so a changed
    /// or reset password locks out whoever else knew the old one.
    #[tracing::instrument(skip(self, password_hash))]
    pub async fn set_password(&self, user_id: &UserId, password_hash: &str) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        end_sessions_and_feed(&mut tx, user_id).await?;
        tx.commit().await?;
        self.sessions_ended();
        Ok(())
    }

    #[tracing::instrument(skip(self, session), fields(user_id = session.user_id))]
    pub async fn create_session(&self, session: NewSession<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, kind, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(session.token_hash)
        .bind(session.user_id)
        .bind(session.kind.as_str())
        .bind(session.now)
        .bind(session.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user behind a live session, which is then kept alive for
    /// `idle_timeout(role)` from now. Expired sessions are removed on sight.
    pub async fn session_user(
        &self,
        token_hash: &str,
        kind: SessionKind,
        now: Millis,
        idle_timeout: impl Fn(Role) -> Millis + Send,
    ) -> Result<Option<User>> {
        Ok(self
            .live_session(token_hash, kind, now, idle_timeout, None)
            .await?
            .map(|session| session.user))
    }

    /// As [`Store::session_user`], with the session's own times (for a
    /// cache that must not outlive them); a session older than `max_age` (an
    /// absolute lifetime, however active it was) has ended too.
    #[tracing::instrument(skip(self, token_hash, idle_timeout))]
    pub async fn live_session(
        &self,
        token_hash: &str,
        kind: SessionKind,
        now: Millis,
        idle_timeout: impl Fn(Role) -> Millis + Send,
        max_age: Option<Millis>,
    ) -> Result<Option<LiveSession>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.expires_at AS session_expires_at, \
             s.created_at AS session_created_at FROM sessions s \
             JOIN users u ON u.id = s.user_id LEFT JOIN couple_members m ON m.user_id = u.id \
             WHERE s.token_hash = $1 AND s.kind = $2 AND u.deactivated_at IS NULL"
        );
        let Some(row) = sqlx::query(&sql)
            .bind(token_hash)
            .bind(kind.as_str())
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let expires_at: Millis = row.try_get("session_expires_at")?;
        let created_at: Millis = row.try_get("session_created_at")?;
        if now >= expires_at || max_age.is_some_and(|age| now >= created_at.saturating_add(age)) {
            self.delete_session(token_hash).await?;
            return Ok(None);
        }
        let user = user_from_row(&row)?.user;
        // Sliding expiry; writing at most once a minute keeps reads cheap.
        let new_expiry = now + idle_timeout(user.role);
        let mut session = LiveSession {
            user,
            expires_at,
            created_at,
        };
        if new_expiry - expires_at > 60_000 {
            sqlx::query(
                "UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3",
            )
            .bind(now)
            .bind(new_expiry)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
            session.expires_at = new_expiry;
        }
        Ok(Some(session))
    }

    /// Whether a session is still open, without keeping it alive: for live
    /// streams, which re-check the session they were opened with.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn session_is_open(
        &self,
        token_hash: &str,
        kind: SessionKind,
        now: Millis,
        max_age: Option<Millis>,
    ) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT created_at FROM sessions WHERE token_hash = $1 AND kind = $2 AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(kind.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some_and(|(created_at,)| {
            max_age.is_none_or(|age| now < created_at.saturating_add(age))
        }))
    }

    /// Signs a user out everywhere.
    #[tracing::instrument(skip(self))]
    pub async fn delete_user_sessions(&self, user_id: &UserId) -> Result<()> {
        let mut tx = self.write_tx().await?;
        end_sessions_and_feed(&mut tx, user_id).await?;
        tx.commit().await?;
        self.sessions_ended();
        Ok(())
    }

    #[tracing::instrument(skip(self, token_hash))]
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        self.sessions_ended();
        Ok(())
    }

    #[tracing::instrument(skip(self, token_hash))]
    pub async fn create_one_time_token(
        &self,
        token_hash: &str,
        purpose: OneTimePurpose,
        user_id: Option<&str>,
        now: Millis,
        expires_at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO one_time_tokens (token_hash, purpose, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// True when the token exists for this purpose, is unused and unexpired.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn one_time_token_is_open(
        &self,
        token_hash: &str,
        purpose: OneTimePurpose,
        now: Millis,
    ) -> Result<bool> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT token_hash FROM one_time_tokens \
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Resets a password with a reset token, once. Returns the user whose
    /// password changed, or `NotFound` for an unknown, used or expired token.
    #[tracing::instrument(skip(self, token_hash, password_hash))]
    pub async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: Millis,
    ) -> Result<String> {
        let mut tx = self.write_tx().await?;
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "UPDATE one_time_tokens SET used_at = $1 \
             WHERE token_hash = $2 AND purpose = 'password_reset' AND used_at IS NULL AND expires_at > $1 \
             RETURNING user_id",
        )
        .bind(now)
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let user_id = row.and_then(|(id,)| id).ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        end_sessions_and_feed(&mut tx, &user_id).await?;
        // Any other reset links for the same account stop working too.
        sqlx::query(
            "UPDATE one_time_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = 'password_reset' AND used_at IS NULL",
        )
        .bind(now)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.sessions_ended();
        Ok(user_id)
    }
}

/// Ends every session of a person and revokes their calendar address (a new
/// one is made when they next ask for it): after a password change, a reset
/// or signing out everywhere, whoever held either loses it.
impl Store {
    /// Removes a member of staff's access at once: sign-in is refused, every
    /// session and API token ends, their calendar address and two-step
    /// sign-in are reset. Their name stays on what they wrote. `NotFound`
    /// unless they are active staff of this practice.
    #[tracing::instrument(skip(self))]
    pub async fn deactivate_staff(
        &self,
        practice_id: &str,
        user_id: &UserId,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE users SET deactivated_at = $1, totp_secret = NULL, totp_last_step = 0 \
             WHERE id = $2 AND practice_id = $3 AND role IN ('admin', 'therapist') AND deactivated_at IS NULL",
        )
        .bind(now)
        .bind(user_id.as_str())
        .bind(practice_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        for statement in [
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM one_time_tokens WHERE user_id = $1",
        ] {
            sqlx::query(statement)
                .bind(user_id.as_str())
                .execute(&mut *tx)
                .await?;
        }
        end_sessions_and_feed(&mut tx, user_id).await?;
        tx.commit().await?;
        self.sessions_ended();
        Ok(())
    }

    /// Gives a couple of this practice to another of its therapists.
    /// `NotFound` unless the couple belongs to the practice.
    #[tracing::instrument(skip(self))]
    pub async fn move_couple(
        &self,
        practice_id: &str,
        couple_id: &CoupleId,
        therapist_id: &UserId,
    ) -> Result<()> {
        let done =
            sqlx::query("UPDATE couples SET therapist_id = $1 WHERE id = $2 AND practice_id = $3")
                .bind(therapist_id.as_str())
                .bind(couple_id.as_str())
                .bind(practice_id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}

async fn end_sessions_and_feed(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: &str,
) -> Result<()> {
    for statement in [
        "DELETE FROM sessions WHERE user_id = $1",
        "DELETE FROM calendar_feeds WHERE user_id = $1",
    ] {
        sqlx::query(statement)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
