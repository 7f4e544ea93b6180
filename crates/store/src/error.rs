#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// The thing existed but can no longer be used (a used or expired link).
    #[error("no longer available")]
    Gone,
    /// A uniqueness rule or a state rule was broken: what about.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`].
    pub(crate) fn unique(what: Conflict) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
            _ => StoreError::Database(err),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// What a [`StoreError::Conflict`] is about: one variant for each, shared
/// by the store that raises it and the layers that explain it (matched
/// exhaustively, so a new kind of conflict cannot go unexplained).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Conflict {
    /// An account with this email already exists.
    Email,
    /// The couple already has two partners (or two open invitations).
    CoupleFull,
    /// The couple is already linked to a therapist.
    CoupleHasTherapist,
    /// Someone left the couple: it takes no one new.
    CoupleClosed,
    /// The couple already waits on a request to a therapist.
    LinkRequestOpen,
    /// The link request was answered already.
    LinkRequestAnswered,
    /// Someone handled the intake request already.
    IntakeHandled,
    /// The session was cancelled and cannot change.
    SessionCancelled,
    /// The session was cancelled before.
    SessionAlreadyCancelled,
    /// A backup file of that name exists.
    BackupFile,
    /// Another turn took this place in the talk first.
    Turn,
    /// The person's circles for this compromise exist already.
    Circle,
    /// The one who proposed an agreement cannot accept it.
    Proposer,
}

impl Conflict {
    /// Every kind of conflict (for tests that walk them all).
    pub const ALL: [Conflict; 13] = [
        Conflict::Email,
        Conflict::CoupleFull,
        Conflict::CoupleHasTherapist,
        Conflict::CoupleClosed,
        Conflict::LinkRequestOpen,
        Conflict::LinkRequestAnswered,
        Conflict::IntakeHandled,
        Conflict::SessionCancelled,
        Conflict::SessionAlreadyCancelled,
        Conflict::BackupFile,
        Conflict::Turn,
        Conflict::Circle,
        Conflict::Proposer,
    ];

    /// A short name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Conflict::Email => "email",
            Conflict::CoupleFull => "couple is full",
            Conflict::CoupleHasTherapist => "couple already has a therapist",
            Conflict::CoupleClosed => "couple is closed",
            Conflict::LinkRequestOpen => "a link request is already open",
            Conflict::LinkRequestAnswered => "link request already answered",
            Conflict::IntakeHandled => "intake request already handled",
            Conflict::SessionCancelled => "the session was cancelled",
            Conflict::SessionAlreadyCancelled => "the session was already cancelled",
            Conflict::BackupFile => "backup file",
            Conflict::Turn => "turn",
            Conflict::Circle => "circle",
            Conflict::Proposer => "proposer",
        }
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
