//! Sessions a therapist schedules with a couple, and the calendar feeds that
//! carry them to each person's calendar.

use sqlx::Row;
use sqlx::any::AnyRow;
use trellis_core::{CoupleId, Millis, UserId};

use crate::db::Store;
use crate::error::{Conflict, Result, StoreError};
use crate::new_id;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentRow {
    pub id: String,
    pub couple_id: CoupleId,
    pub therapist_id: UserId,
    pub therapist_name: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub location_kind: String,
    pub location: String,
    /// `scheduled` or `cancelled`.
    pub status: String,
    pub reschedule_requested_by: Option<String>,
    /// Sealed with the couple's key.
    pub reschedule_note: Option<Vec<u8>>,
    pub sequence: i64,
    pub reminded_at: Option<Millis>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewAppointment<'a> {
    pub couple_id: &'a CoupleId,
    pub therapist_id: &'a UserId,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub location_kind: &'a str,
    pub location: &'a str,
    pub now: Millis,
}

/// A reminder to send: the session and who to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    pub appointment: AppointmentRow,
    pub practice_id: Option<String>,
    pub reminder_hours: i64,
}

const APPOINTMENT_COLUMNS: &str = "a.id, a.couple_id, a.therapist_id, t.name AS therapist_name, \
     a.starts_at, a.ends_at, a.location_kind, a.location, a.status, a.reschedule_requested_by, \
     a.reschedule_note_sealed, a.sequence, a.reminded_at, a.created_at, a.updated_at";
const APPOINTMENT_FROM: &str = "appointments a JOIN users t ON t.id = a.therapist_id";

fn appointment_from(row: &AnyRow) -> Result<AppointmentRow> {
    Ok(AppointmentRow {
        id: row.try_get("id")?,
        couple_id: crate::id_at(row, "couple_id")?,
        therapist_id: crate::id_at(row, "therapist_id")?,
        therapist_name: row.try_get("therapist_name")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        location_kind: row.try_get("location_kind")?,
        location: row.try_get("location")?,
        status: row.try_get("status")?,
        reschedule_requested_by: row.try_get("reschedule_requested_by")?,
        reschedule_note: row.try_get("reschedule_note_sealed")?,
        sequence: row.try_get("sequence")?,
        reminded_at: row.try_get("reminded_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    #[tracing::instrument(skip(self, new), fields(couple_id = %new.couple_id))]
    pub async fn create_appointment(&self, new: NewAppointment<'_>) -> Result<AppointmentRow> {
        let id = new_id();
        sqlx::query(
            "INSERT INTO appointments (id, couple_id, therapist_id, starts_at, ends_at, location_kind, location, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'scheduled', $8, $8)",
        )
        .bind(&id)
        .bind(new.couple_id.as_str())
        .bind(new.therapist_id.as_str())
        .bind(new.starts_at)
        .bind(new.ends_at)
        .bind(new.location_kind)
        .bind(new.location)
        .bind(new.now)
        .execute(&self.pool)
        .await?;
        self.appointment(new.couple_id, &id).await
    }

    /// One appointment of this couple.
    #[tracing::instrument(skip(self))]
    pub async fn appointment(&self, couple_id: &CoupleId, id: &str) -> Result<AppointmentRow> {
        let sql = format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM {APPOINTMENT_FROM} WHERE a.id = $1 AND a.couple_id = $2"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(couple_id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        appointment_from(&row)
    }

    /// A couple's appointments ending after `since`, soonest first.
    #[tracing::instrument(skip(self))]
    pub async fn appointments_of_couple(
        &self,
        couple_id: &CoupleId,
        since: Millis,
    ) -> Result<Vec<AppointmentRow>> {
        let sql = format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM {APPOINTMENT_FROM} \
             WHERE a.couple_id = $1 AND a.ends_at > $2 ORDER BY a.starts_at, a.id"
        );
        let rows = sqlx::query(&sql)
            .bind(couple_id.as_str())
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(appointment_from).collect()
    }

    /// The sessions one person takes part in, ending after `since`: as a
    /// partner, their couple's; as a therapist, the ones they lead.
    #[tracing::instrument(skip(self))]
    pub async fn appointments_of_person(
        &self,
        user_id: &UserId,
        since: Millis,
    ) -> Result<Vec<AppointmentRow>> {
        let sql = format!(
            "SELECT {APPOINTMENT_COLUMNS} FROM {APPOINTMENT_FROM} \
             WHERE a.ends_at > $2 AND (a.therapist_id = $1 OR a.couple_id IN \
             (SELECT couple_id FROM couple_members WHERE user_id = $1)) \
             ORDER BY a.starts_at, a.id"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id.as_str())
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(appointment_from).collect()
    }

    /// Moves a session (clearing any request to move it) and bumps its sequence.
    #[tracing::instrument(skip(self, location))]
    #[allow(clippy::too_many_arguments)]
    pub async fn reschedule_appointment(
        &self,
        couple_id: &CoupleId,
        id: &str,
        starts_at: Millis,
        ends_at: Millis,
        location_kind: &str,
        location: &str,
        now: Millis,
    ) -> Result<AppointmentRow> {
        let done = sqlx::query(
            "UPDATE appointments SET starts_at = $1, ends_at = $2, location_kind = $3, location = $4, \
             reschedule_requested_by = NULL, reschedule_note_sealed = NULL, reminded_at = NULL, \
             sequence = sequence + 1, updated_at = $5 \
             WHERE id = $6 AND couple_id = $7 AND status = 'scheduled'",
        )
        .bind(starts_at)
        .bind(ends_at)
        .bind(location_kind)
        .bind(location)
        .bind(now)
        .bind(id)
        .bind(couple_id.as_str())
        .execute(&self.pool)
        .await?;
        self.changed_while_scheduled(&done, couple_id, id, Conflict::SessionCancelled)
            .await?;
        self.appointment(couple_id, id).await
    }

    /// After an update guarded by `status = 'scheduled'`: nothing changed
    /// means the session is not the couple's (`NotFound`) or no longer
    /// scheduled (`Conflict(reason)`).
    async fn changed_while_scheduled(
        &self,
        done: &sqlx::any::AnyQueryResult,
        couple_id: &CoupleId,
        id: &str,
        reason: Conflict,
    ) -> Result<()> {
        if done.rows_affected() == 0 {
            self.appointment(couple_id, id).await?;
            return Err(StoreError::Conflict(reason));
        }
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    pub async fn cancel_appointment(
        &self,
        couple_id: &CoupleId,
        id: &str,
        now: Millis,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE appointments SET status = 'cancelled', sequence = sequence + 1, updated_at = $1 \
             WHERE id = $2 AND couple_id = $3 AND status = 'scheduled'",
        )
        .bind(now)
        .bind(id)
        .bind(couple_id.as_str())
        .execute(&self.pool)
        .await?;
        self.changed_while_scheduled(&done, couple_id, id, Conflict::SessionAlreadyCancelled)
            .await
    }

    #[tracing::instrument(skip(self, note))]
    pub async fn request_reschedule(
        &self,
        couple_id: &CoupleId,
        id: &str,
        user_id: &UserId,
        note: Option<&[u8]>,
        now: Millis,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE appointments SET reschedule_requested_by = $1, reschedule_note_sealed = $2, updated_at = $3 \
             WHERE id = $4 AND couple_id = $5 AND status = 'scheduled'",
        )
        .bind(user_id.as_str())
        .bind(note)
        .bind(now)
        .bind(id)
        .bind(couple_id.as_str())
        .execute(&self.pool)
        .await?;
        self.changed_while_scheduled(&done, couple_id, id, Conflict::SessionCancelled)
            .await
    }

    /// Scheduled sessions starting within `horizon` of `now` whose reminder
    /// has not gone out; the caller applies each practice's lead time.
    #[tracing::instrument(skip(self))]
    pub async fn unreminded_appointments(
        &self,
        now: Millis,
        horizon: Millis,
    ) -> Result<Vec<DueReminder>> {
        let sql = format!(
            "SELECT {APPOINTMENT_COLUMNS}, c.practice_id AS practice_id, \
             COALESCE(p.reminder_hours, 24) AS reminder_hours \
             FROM {APPOINTMENT_FROM} JOIN couples c ON c.id = a.couple_id \
             LEFT JOIN practices p ON p.id = c.practice_id \
             WHERE a.status = 'scheduled' AND a.reminded_at IS NULL \
             AND a.starts_at > $1 AND a.starts_at <= $2 ORDER BY a.starts_at, a.id"
        );
        let rows = sqlx::query(&sql)
            .bind(now)
            .bind(now + horizon)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(DueReminder {
                    appointment: appointment_from(row)?,
                    practice_id: row.try_get("practice_id")?,
                    reminder_hours: row.try_get("reminder_hours")?,
                })
            })
            .collect()
    }

    /// Claims a reminder so that only one process sends it: `true` for the
    /// caller that wins.
    #[tracing::instrument(skip(self))]
    pub async fn claim_reminder(&self, id: &str, now: Millis) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE appointments SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives a person a new calendar feed id, revoking the old one.
    #[tracing::instrument(skip(self, feed_id))]
    pub async fn replace_calendar_feed(
        &self,
        user_id: &UserId,
        feed_id: &str,
        now: Millis,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM calendar_feeds WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO calendar_feeds (feed_id, user_id, created_at) VALUES ($1, $2, $3)",
        )
        .bind(feed_id)
        .bind(user_id.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    #[tracing::instrument(skip(self))]
    pub async fn calendar_feed_of(&self, user_id: &UserId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT feed_id FROM calendar_feeds WHERE user_id = $1")
            .bind(user_id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("feed_id")).transpose()?)
    }

    /// Whose feed this is, if it has not been revoked.
    #[tracing::instrument(skip(self, feed_id))]
    pub async fn calendar_feed_owner(&self, feed_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT user_id FROM calendar_feeds WHERE feed_id = $1")
            .bind(feed_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("user_id")).transpose()?)
    }
}
