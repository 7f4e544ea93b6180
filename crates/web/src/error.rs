//! The one error type at the HTTP edge: the domain's errors
//! ([`trellis_app::Error`]) and the refusals only the edge makes. Every handler returns it; it becomes a
//! JSON error for the API and a calm page for people (see `pages::render_errors`).
//! Details of unexpected failures go to the log, never to the person.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use trellis_app::Error as DomainError;
use trellis_core::ValidationError;
use trellis_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
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
    #[error("form expired")]
    CsrfRejected,
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
    /// The request itself could not be taken, whatever it said: a wrong
    /// method (405), too slow (408), too large (413), a kind of content this
    /// address does not read (415), or unreadable (400).
    #[error("request refused: {0}")]
    Request(StatusCode),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What the page layer needs to show an error to a person.
#[derive(Debug, Clone)]
pub struct ErrorForPeople {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AppError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![ValidationError::new(field, message)])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated
            | AppError::InvalidCredentials
            | AppError::TwoFactorRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::CsrfRejected | AppError::TwoFactorSetupRequired => {
                StatusCode::FORBIDDEN
            }
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::Conflict(_) | AppError::ConfirmationNeeded(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests { .. } | AppError::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            AppError::Request(status) => *status,
            AppError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) => "invalid_input",
            AppError::Unauthenticated => "unauthenticated",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Gone(_) => "gone",
            AppError::Conflict(_) => "conflict",
            AppError::ConfirmationNeeded(_) => "confirmation_needed",
            AppError::CsrfRejected => "csrf_rejected",
            AppError::TwoFactorRequired => "two_factor_required",
            AppError::TwoFactorSetupRequired => "two_factor_setup_required",
            AppError::TooManyRequests { .. } | AppError::RateLimited { .. } => "too_many_requests",
            AppError::Request(status) => match status.as_u16() {
                400 => "bad_request",
                405 => "method_not_allowed",
                408 => "request_timeout",
                413 => "payload_too_large",
                415 => "unsupported_media_type",
                503 => "unavailable",
                500.. => "internal",
                _ => "refused",
            },
            AppError::Unexpected(_) => "internal",
        }
    }

    /// Plain words for the person on the other end: the domain's words
    /// (see [`trellis_app::Error::message`]), and the edge's own for the
    /// two refusals only it makes.
    pub fn message(&self) -> String {
        let domain = match self {
            AppError::CsrfRejected => {
                return "This form was open for too long or came from somewhere else. Please go back, reload the page and try again.".to_owned();
            }
            AppError::Request(status) => {
                return match status.as_u16() {
                    405 => "This address doesn't take that kind of request.",
                    408 => "That took too long to arrive, so we stopped waiting. Please try again.",
                    413 => "That was larger than we can accept. Please shorten it and try again.",
                    415 => "We can't read that kind of content here. The API takes JSON (`Content-Type: application/json`); pages take their own forms.",
                    503 => "Trellis couldn't answer in time just now. Please wait a moment, check whether it went through, and try again.",
                    500.. => "Something went wrong on our side. Nothing you wrote was lost; please try again in a moment.",
                    _ => "We couldn't read that request. Please check it and try again.",
                }
                .to_owned();
            }
            AppError::Invalid(errors) => DomainError::Invalid(errors.clone()),
            AppError::Unauthenticated => DomainError::Unauthenticated,
            AppError::InvalidCredentials => DomainError::InvalidCredentials,
            AppError::Forbidden => DomainError::Forbidden,
            AppError::NotFound => DomainError::NotFound,
            AppError::Gone(message) => DomainError::Gone(message),
            AppError::Conflict(message) => DomainError::Conflict(message.clone()),
            AppError::ConfirmationNeeded(message) => {
                DomainError::ConfirmationNeeded(message.clone())
            }
            AppError::TwoFactorRequired => DomainError::TwoFactorRequired,
            AppError::TwoFactorSetupRequired => DomainError::TwoFactorSetupRequired,
            AppError::TooManyRequests { retry_after_secs } => DomainError::TooManyRequests {
                retry_after_secs: *retry_after_secs,
            },
            AppError::RateLimited {
                retry_after_secs,
                message,
            } => DomainError::RateLimited {
                retry_after_secs: *retry_after_secs,
                message,
            },
            AppError::Unexpected(_) => DomainError::Unexpected(anyhow::anyhow!("unexpected")),
        };
        domain.message()
    }
}

/// The one place the domain's errors become the edge's: kind for kind.
impl From<DomainError> for AppError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::Invalid(errors) => AppError::Invalid(errors),
            DomainError::Unauthenticated => AppError::Unauthenticated,
            DomainError::InvalidCredentials => AppError::InvalidCredentials,
            DomainError::Forbidden => AppError::Forbidden,
            DomainError::NotFound => AppError::NotFound,
            DomainError::Gone(message) => AppError::Gone(message),
            DomainError::Conflict(message) => AppError::Conflict(message),
            DomainError::TwoFactorRequired => AppError::TwoFactorRequired,
            DomainError::TwoFactorSetupRequired => AppError::TwoFactorSetupRequired,
            DomainError::TooManyRequests { retry_after_secs } => {
                AppError::TooManyRequests { retry_after_secs }
            }
            DomainError::ConfirmationNeeded(message) => AppError::ConfirmationNeeded(message),
            DomainError::RateLimited {
                retry_after_secs,
                message,
            } => AppError::RateLimited {
                retry_after_secs,
                message,
            },
            DomainError::Unexpected(err) => AppError::Unexpected(err),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        DomainError::from(err).into()
    }
}

impl From<ValidationError> for AppError {
    fn from(err: ValidationError) -> Self {
        AppError::Invalid(vec![err])
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Unexpected(err) = &self {
            tracing::error!(error = ?err, "request failed unexpectedly");
        } else {
            tracing::debug!(code = self.code(), "request refused");
        }
        let message = self.message();
        let mut body = serde_json::json!({"error": {"code": self.code(), "message": message}});
        if let AppError::Invalid(errors) = &self {
            body["error"]["fields"] = errors
                .iter()
                .map(|e| serde_json::json!({"field": e.field, "message": e.message}))
                .collect();
        }
        let mut response = (status, Json(body)).into_response();
        if let AppError::TooManyRequests { retry_after_secs }
        | AppError::RateLimited {
            retry_after_secs, ..
        } = &self
            && let Ok(value) =
                axum::http::HeaderValue::from_str(&retry_after_secs.max(&1).to_string())
        {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(ErrorForPeople {
            status,
            code: self.code(),
            message,
        });
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
