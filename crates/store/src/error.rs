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
