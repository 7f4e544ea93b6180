#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The thing existed but can no longer be used (a used or expired link).
    #[error("no longer available")]
    Gone,
    /// A uniqueness rule was broken; the string names what was duplicated.
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`].
    pub(crate) fn unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Database(err),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What a [`StoreError::Conflict`] is about: one name for each, shared by the
/// store that raises it and the layers that explain it.
pub mod conflict {
    /// An account with this email already exists.
    pub const EMAIL: &str = "email";
    /// The couple already has two partners (or two open invitations).
    pub const COUPLE_FULL: &str = "couple is full";
    /// The couple is already linked to a therapist.
    pub const COUPLE_HAS_THERAPIST: &str = "couple already has a therapist";
    /// Someone left the couple: it takes no one new.
    pub const COUPLE_CLOSED: &str = "couple is closed";
    /// The couple already waits on a request to a therapist.
    pub const LINK_REQUEST_OPEN: &str = "a link request is already open";
    /// The link request was answered already.
    pub const LINK_REQUEST_ANSWERED: &str = "link request already answered";
    /// Someone handled the intake request already.
    pub const INTAKE_HANDLED: &str = "intake request already handled";
    /// The session was cancelled and cannot change.
    pub const SESSION_CANCELLED: &str = "the session was cancelled";
    /// The session was cancelled before.
    pub const SESSION_ALREADY_CANCELLED: &str = "the session was already cancelled";
    /// A backup file of that name exists.
    pub const BACKUP_FILE: &str = "backup file";
    /// Another turn took this place in the talk first.
    pub const TURN: &str = "turn";
    /// The person's circles for this compromise exist already.
    pub const CIRCLE: &str = "circle";
    /// The one who proposed an agreement cannot accept it.
    pub const PROPOSER: &str = "proposer";
}
