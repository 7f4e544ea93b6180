//! The one storage API of Trellis.
//!
//! Every query goes through sqlx's `Any` driver with SQL that is valid on both
//! SQLite and PostgreSQL (`$n` placeholders, TEXT ids, BIGINT times), so there
//! is one query path to read and test instead of two hand-kept copies. Where
//! the backends must differ (connection pragmas, creating test databases),
//! the difference stays in [`db`].

mod accountability;
mod accounts;
mod appointments;
mod audit;
mod bulk;
pub(crate) mod closed_sets;
mod couples;
pub mod db;
mod error;
mod intake;
mod keys;
mod links;
mod measures;
mod notes;
mod outbox;
mod practices;
mod program;
mod push;
mod rights;
mod scope;
mod screening;
mod settings;
mod situations;
mod talks;
pub mod testing;
mod two_factor;
mod writing;

pub use accountability::{AgreementRow, MarkRow, PromiseRow};
pub use accounts::{LiveSession, NewSession, OneTimePurpose, SessionKind, User, UserWithPassword};
pub use appointments::{AppointmentRow, DueReminder, NewAppointment};
pub use audit::{AuditEvent, AuditRecord, ThrottleAttempt};
pub use bulk::Cell;
pub use closed_sets::{ClosedColumn, closed_columns};
pub use couples::{
    CaseloadCouple, Couple, Invitation, InvitationAccepted, NewPartner, PartnerSummary,
    PendingSignUp,
};
pub use db::{Backend, Store};
pub use error::{Conflict, StoreError};
pub use intake::{IntakeRow, NewIntake};
pub use keys::{DataKeyRow, SYSTEM_KEY_OWNER, SealedCell, StoredSealed, practice_key_owner};
pub use links::{LinkRequest, NewLinkRequest};
pub use measures::{DEFAULT_CADENCE_DAYS, MeasureRow, NewMeasure};
pub use notes::NoteRow;
pub use outbox::{NewMail, OutboxMail};
pub use practices::{NewPracticeWithAdmin, Practice, TherapistSummary};
pub use program::{
    Assignment, CaseloadNews, ConcernSource, FlagLevel, Onboarding, ReflectBackRound,
    SafetyCheckRow, SafetyFlag,
};
pub use push::PushSubscriptionRow;
pub use rights::FORMER_MEMBER;
pub use scope::Scope;
pub use screening::{NewScreeningDecision, PracticeSafetySettings, ScreeningDecision};
pub use settings::PersonSettings;
pub use situations::SituationRow;
pub use talks::{
    CircleRow, CompromiseRow, NewTurn, TALK_CHANNEL, TalkListener, TalkRow, TimeoutRow, TurnRow,
};
pub use writing::{AudienceChange, EntryFilter, NewEntry, Reader, SealedEntry, WritingFlag};

/// A fresh time-ordered id (UUIDv7), as text so both backends store it alike.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A typed id read from `column` (see `trellis_core::ids`).
pub(crate) fn id_at<T: From<String>>(row: &sqlx::any::AnyRow, column: &str) -> error::Result<T> {
    use sqlx::Row;
    Ok(row.try_get::<String, _>(column)?.into())
}

/// A typed id read from a nullable `column`.
pub(crate) fn opt_id_at<T: From<String>>(
    row: &sqlx::any::AnyRow,
    column: &str,
) -> error::Result<Option<T>> {
    use sqlx::Row;
    Ok(row.try_get::<Option<String>, _>(column)?.map(T::from))
}
