//! The domain's error: what went wrong, in the terms of Trellis, with the
//! plain words a person is shown. The web crate maps each kind to an HTTP
//! status in one place (`trellis_web::error`); nothing here knows HTTP.

use trellis_core::ValidationError;
use trellis_store::Conflict;
use trellis_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input")]
    Invalid(Vec<ValidationError>),
    #[error("not signed in")]
    Unauthenticated,
    #[error("wrong email or password")]
    InvalidCredentials,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("gone: {0}")]
    Gone(&'static str),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The password was right; the account also needs a code from its authenticator app.
    #[error("two-step sign-in required")]
    TwoFactorRequired,
    /// The practice requires two-step sign-in and it is not set up yet.
    #[error("two-step sign-in must be set up")]
    TwoFactorSetupRequired,
    /// Too many failed attempts; try again after this many seconds.
    #[error("too many attempts")]
    TooManyRequests { retry_after_secs: i64 },
    /// The words hold crisis language: the writer sees help and confirms
    /// before they are sent (the therapist is already flagged).
    #[error("confirmation needed")]
    ConfirmationNeeded(String),
    /// Too many of something that is not a sign-in (appointment requests).
    #[error("rate limited")]
    RateLimited {
        retry_after_secs: i64,
        message: &'static str,
    },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid(vec![ValidationError::new(field, message)])
    }

    /// Plain words for the person on the other end.
    pub fn message(&self) -> String {
        match self {
            Error::Invalid(errors) => errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            Error::Unauthenticated => "Please sign in to continue.".to_owned(),
            Error::InvalidCredentials => {
                "That email and password don't match an account. Please check them and try again.".to_owned()
            }
            Error::Forbidden => "This part of Trellis isn't available to your account.".to_owned(),
            Error::NotFound => "We couldn't find that page. It may have moved, or the link may be incomplete.".to_owned(),
            Error::Gone(message) => (*message).to_owned(),
            Error::Conflict(message) | Error::ConfirmationNeeded(message) => message.clone(),
            Error::TwoFactorRequired => {
                "Please also enter the 6-digit code from your authenticator app (field `totp`), or a recovery code.".to_owned()
            }
            Error::TwoFactorSetupRequired => {
                "Your practice asks you to set up two-step sign-in first. Please sign in on the web and follow the steps.".to_owned()
            }
            Error::TooManyRequests { retry_after_secs } => {
                let minutes = (retry_after_secs + 59) / 60;
                let when = if minutes <= 1 { "a minute".to_owned() } else { format!("{minutes} minutes") };
                format!("There have been several unsuccessful sign-ins, so we've paused them for a little while to keep the account safe. Please try again in {when}, or reset your password.")
            }
            Error::RateLimited { message, .. } => (*message).to_owned(),
            Error::Unexpected(_) => {
                "Something went wrong on our side. Nothing you wrote was lost; please try again in a moment.".to_owned()
            }
        }
    }
}

impl From<StoreError> for Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Error::NotFound,
            StoreError::Gone => Error::Gone("This link has already been used or has expired."),
            StoreError::Conflict(what) => Error::Conflict(match what {
                Conflict::Email => {
                    "An account with this email address already exists. Try signing in instead."
                        .to_owned()
                }
                Conflict::CoupleFull => {
                    "This couple already has two partners (or two open invitations).".to_owned()
                }
                Conflict::CoupleHasTherapist => {
                    "Your couple is already linked to a therapist.".to_owned()
                }
                Conflict::CoupleClosed => "Someone has left this couple, so it takes no one new: what was shared in it stays private. To begin with someone new, start a new space (Account → Leave the couple).".to_owned(),
                Conflict::LinkRequestOpen => "Your couple already has a request to a therapist waiting for an answer. Please wait for it, or withdraw it first.".to_owned(),
                Conflict::LinkRequestAnswered => {
                    "This request has already been answered.".to_owned()
                }
                Conflict::IntakeHandled => {
                    "Someone on your team has already handled this request.".to_owned()
                }
                Conflict::SessionCancelled => {
                    "This session has been cancelled, so it can't be changed.".to_owned()
                }
                Conflict::SessionAlreadyCancelled => {
                    "This session was already cancelled.".to_owned()
                }
                Conflict::BackupFile => {
                    "A backup file of that name already exists.".to_owned()
                }
                Conflict::Turn => {
                    "Someone else took this turn a moment ago. Please look again and try once more.".to_owned()
                }
                Conflict::Circle => {
                    "You have already written your circles for this topic.".to_owned()
                }
                Conflict::Proposer => {
                    "You proposed this agreement, so it waits for your partner to accept it.".to_owned()
                }
            }),
            other => Error::Unexpected(other.into()),
        }
    }
}

impl From<ValidationError> for Error {
    fn from(err: ValidationError) -> Self {
        Error::Invalid(vec![err])
    }
}

pub type AppResult<T> = Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_store_conflict_is_explained_in_its_own_words() {
        let mut seen = std::collections::HashSet::new();
        for conflict in Conflict::ALL {
            let message = Error::from(StoreError::Conflict(conflict)).message();
            assert!(message.ends_with('.'), "{conflict}: {message}");
            assert!(!message.starts_with("That "), "{conflict}: {message}");
            assert!(seen.insert(message.clone()), "{conflict} repeats {message}");
        }
    }
}
