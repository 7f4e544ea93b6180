//! What each person chose: their time zone and which notices reach them,
//! by mail and on their devices.

use sqlx::Row;
use trellis_core::UserId;

use crate::db::Store;
use crate::error::Result;

/// A person's settings; [`PersonSettings::default`] when they never chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSettings {
    /// An IANA time zone name; `None` follows the practice.
    pub time_zone: Option<String>,
    pub notify_messages: bool,
    pub notify_reminders: bool,
    pub notify_appointments: bool,
    pub notify_intake: bool,
    /// The same kinds on the person's devices, once a device subscribed.
    pub push_messages: bool,
    pub push_reminders: bool,
    pub push_appointments: bool,
    pub push_intake: bool,
}

impl Default for PersonSettings {
    fn default() -> Self {
        Self {
            time_zone: None,
            notify_messages: true,
            notify_reminders: true,
            notify_appointments: true,
            notify_intake: true,
            push_messages: true,
            push_reminders: true,
            push_appointments: true,
            push_intake: true,
        }
    }
}

impl Store {
    #[tracing::instrument(skip(self))]
    pub async fn person_settings(&self, user_id: &UserId) -> Result<PersonSettings> {
        let row = sqlx::query(
            "SELECT time_zone, notify_messages, notify_reminders, notify_appointments, notify_intake, \
             push_messages, push_reminders, push_appointments, push_intake \
             FROM person_settings WHERE user_id = $1",
        )
        .bind(user_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(PersonSettings::default());
        };
        Ok(PersonSettings {
            time_zone: row.try_get("time_zone")?,
            notify_messages: row.try_get::<i64, _>("notify_messages")? != 0,
            notify_reminders: row.try_get::<i64, _>("notify_reminders")? != 0,
            notify_appointments: row.try_get::<i64, _>("notify_appointments")? != 0,
            notify_intake: row.try_get::<i64, _>("notify_intake")? != 0,
            push_messages: row.try_get::<i64, _>("push_messages")? != 0,
            push_reminders: row.try_get::<i64, _>("push_reminders")? != 0,
            push_appointments: row.try_get::<i64, _>("push_appointments")? != 0,
            push_intake: row.try_get::<i64, _>("push_intake")? != 0,
        })
    }

    #[tracing::instrument(skip(self, settings))]
    pub async fn set_person_settings(
        &self,
        user_id: &UserId,
        settings: &PersonSettings,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO person_settings (user_id, time_zone, notify_messages, notify_reminders, notify_appointments, notify_intake, \
             push_messages, push_reminders, push_appointments, push_intake) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (user_id) DO UPDATE SET \
             time_zone = excluded.time_zone, notify_messages = excluded.notify_messages, \
             notify_reminders = excluded.notify_reminders, notify_appointments = excluded.notify_appointments, \
             notify_intake = excluded.notify_intake, push_messages = excluded.push_messages, \
             push_reminders = excluded.push_reminders, push_appointments = excluded.push_appointments, \
             push_intake = excluded.push_intake",
        )
        .bind(user_id.as_str())
        .bind(settings.time_zone.as_deref())
        .bind(i64::from(settings.notify_messages))
        .bind(i64::from(settings.notify_reminders))
        .bind(i64::from(settings.notify_appointments))
        .bind(i64::from(settings.notify_intake))
        .bind(i64::from(settings.push_messages))
        .bind(i64::from(settings.push_reminders))
        .bind(i64::from(settings.push_appointments))
        .bind(i64::from(settings.push_intake))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
