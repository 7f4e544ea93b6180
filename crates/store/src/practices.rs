//! A practice, its admins and its therapists.

use sqlx::Row;
use trellis_core::{CoupleId, Millis, Role};

use crate::accounts::{NewUserRow, USER_COLUMNS, USER_FROM, User, insert_user, user_from_row};
use crate::db::Store;
use crate::error::{Result, StoreError};
use crate::new_id;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Practice {
    pub id: String,
    pub name: String,
    pub description: String,
    /// How to reach the practice, shown on its public page.
    pub contact: String,
    /// An IANA time zone name; sessions are scheduled in it.
    pub time_zone: String,
    /// Hours before a session its reminder goes out; 0 turns them off.
    pub reminder_hours: i64,
    pub created_at: Millis,
    /// The regions whose helplines it shows (ids from `helplines.toml`,
    /// separated by commas).
    pub helpline_region: String,
}

const PRACTICE_COLUMNS: &str =
    "id, name, description, contact, time_zone, reminder_hours, created_at, helpline_region";

/// `NotFound` when an update changed no row.
fn changed_one(rows: u64) -> Result<()> {
    if rows == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn practice_from_row(row: &sqlx::any::AnyRow) -> Result<Practice> {
    Ok(Practice {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        contact: row.try_get("contact")?,
        time_zone: row.try_get("time_zone")?,
        reminder_hours: row.try_get("reminder_hours")?,
        created_at: row.try_get("created_at")?,
        helpline_region: row.try_get("helpline_region")?,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TherapistSummary {
    pub user: User,
    pub couples: i64,
}

/// What the first-run setup creates.
#[derive(Debug)]
pub struct NewPracticeWithAdmin<'a> {
    pub practice_name: &'a str,
    pub admin_email: &'a str,
    pub admin_name: &'a str,
    pub password_hash: &'a str,
    /// The setup link's token, consumed in the same transaction; `None` when
    /// seeding a demo, which has no link.
    pub setup_token_hash: Option<&'a str>,
    pub now: Millis,
}

impl Store {
    /// Creates a practice and its first admin, atomically.
    #[tracing::instrument(skip(self, new), fields(practice = new.practice_name))]
    pub async fn create_practice_with_admin(
        &self,
        new: NewPracticeWithAdmin<'_>,
    ) -> Result<(Practice, User)> {
        let mut tx = self.write_tx().await?;
        if let Some(token_hash) = new.setup_token_hash {
            let used = sqlx::query(
                "UPDATE one_time_tokens SET used_at = $1 \
                 WHERE token_hash = $2 AND purpose = 'setup' AND used_at IS NULL AND expires_at > $1",
            )
            .bind(new.now)
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
            if used.rows_affected() == 0 {
                return Err(StoreError::Gone);
            }
        }
        let practice = Practice {
            id: new_id(),
            name: new.practice_name.to_owned(),
            description: String::new(),
            contact: String::new(),
            time_zone: "UTC".to_owned(),
            reminder_hours: 24,
            created_at: new.now,
            helpline_region: "international".to_owned(),
        };
        sqlx::query(
            "INSERT INTO practices (id, name, description, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&practice.id)
        .bind(&practice.name)
        .bind(&practice.description)
        .bind(practice.created_at)
        .execute(&mut *tx)
        .await?;
        let admin_id = new_id();
        insert_user(
            &mut *tx,
            NewUserRow {
                id: &admin_id,
                email: new.admin_email,
                name: new.admin_name,
                role: Role::Admin,
                password_hash: new.password_hash,
                practice_id: Some(&practice.id),
                link_code: None,
                now: new.now,
            },
        )
        .await?;
        tx.commit().await?;
        let admin = self.user(&admin_id).await?;
        Ok((practice, admin))
    }

    #[tracing::instrument(skip(self))]
    pub async fn practice(&self, id: &str) -> Result<Practice> {
        let sql = format!("SELECT {PRACTICE_COLUMNS} FROM practices WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        practice_from_row(&row)
    }

    /// Every practice, oldest first (the public front page lists them).
    #[tracing::instrument(skip(self))]
    pub async fn practices(&self) -> Result<Vec<Practice>> {
        let sql = format!("SELECT {PRACTICE_COLUMNS} FROM practices ORDER BY created_at, id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(practice_from_row).collect()
    }

    /// What the public page and the calendar need beyond name and description.
    #[tracing::instrument(skip(self, contact))]
    pub async fn update_practice_details(
        &self,
        id: &str,
        contact: &str,
        time_zone: &str,
        reminder_hours: i64,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE practices SET contact = $1, time_zone = $2, reminder_hours = $3 WHERE id = $4",
        )
        .bind(contact)
        .bind(time_zone)
        .bind(reminder_hours)
        .bind(id)
        .execute(&self.pool)
        .await?;
        changed_one(done.rows_affected())
    }

    /// The regions whose helplines the practice shows.
    #[tracing::instrument(skip(self))]
    pub async fn set_practice_helpline_region(&self, id: &str, regions: &str) -> Result<()> {
        let done = sqlx::query("UPDATE practices SET helpline_region = $1 WHERE id = $2")
            .bind(regions)
            .bind(id)
            .execute(&self.pool)
            .await?;
        changed_one(done.rows_affected())
    }

    #[tracing::instrument(skip(self, description))]
    pub async fn update_practice(&self, id: &str, name: &str, description: &str) -> Result<()> {
        let done = sqlx::query("UPDATE practices SET name = $1, description = $2 WHERE id = $3")
            .bind(name)
            .bind(description)
            .bind(id)
            .execute(&self.pool)
            .await?;
        changed_one(done.rows_affected())
    }

    /// The practice's therapists with how many couples each guides.
    #[tracing::instrument(skip(self))]
    pub async fn therapists(&self, practice_id: &str) -> Result<Vec<TherapistSummary>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, \
             (SELECT COUNT(*) FROM couples c WHERE c.therapist_id = u.id) AS couple_count \
             FROM {USER_FROM} WHERE u.practice_id = $1 AND u.role = 'therapist' ORDER BY u.name, u.id"
        );
        let rows = sqlx::query(&sql)
            .bind(practice_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(TherapistSummary {
                    user: user_from_row(row)?.user,
                    couples: row.try_get("couple_count")?,
                })
            })
            .collect()
    }

    /// Everyone who works at the practice now: admins and therapists whose
    /// access was not removed.
    pub async fn practice_staff(&self, practice_id: &str) -> Result<Vec<User>> {
        self.staff_of(practice_id, false).await
    }

    /// Everyone who works or worked at the practice, removed staff included.
    pub async fn staff_ever(&self, practice_id: &str) -> Result<Vec<User>> {
        self.staff_of(practice_id, true).await
    }

    #[tracing::instrument(skip(self))]
    async fn staff_of(&self, practice_id: &str, with_removed: bool) -> Result<Vec<User>> {
        let removed = if with_removed {
            ""
        } else {
            "AND u.deactivated_at IS NULL"
        };
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.practice_id = $1 \
             AND u.role IN ('admin', 'therapist') {removed} ORDER BY u.name, u.id"
        );
        let rows = sqlx::query(&sql)
            .bind(practice_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(user_from_row(row)?.user))
            .collect()
    }

    /// Couples still guided by a therapist whose access was removed:
    /// `(couple id, that therapist's name)`.
    #[tracing::instrument(skip(self))]
    pub async fn couples_needing_a_therapist(
        &self,
        practice_id: &str,
    ) -> Result<Vec<(CoupleId, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT c.id, u.name FROM couples c JOIN users u ON u.id = c.therapist_id \
             WHERE c.practice_id = $1 AND u.deactivated_at IS NOT NULL AND c.closed_at IS NULL \
             ORDER BY c.created_at, c.id",
        )
        .bind(practice_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name)| (CoupleId::new(id), name))
            .collect())
    }

    /// The therapist who gave out this code, if any.
    #[tracing::instrument(skip(self, link_code))]
    pub async fn therapist_by_link_code(&self, link_code: &str) -> Result<Option<User>> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM {USER_FROM} WHERE u.link_code = $1 AND u.role = 'therapist' AND u.deactivated_at IS NULL"
        );
        let row = sqlx::query(&sql)
            .bind(link_code)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?.map(|u| u.user))
    }
}
