//! The one error type at the HTTP edge: the domain's errors
//! ([`trellis_app::Error`]) and the two refusals only the edge makes. Every
//! handler returns it; it becomes a JSON error for the API and a calm page
//! for people (see `pages::render_errors`). This is the one place a domain
//! error gets its HTTP status and code. Details of unexpected failures go to
//! the log, never to the person.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use trellis_app::Error as DomainError;
use trellis_core::ValidationError;
use trellis_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// What went wrong in the domain's terms (not found, forbidden,
    /// conflict, invalid input…), with its plain words.
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("form expired")]
    CsrfRejected,
    /// The request itself could not be taken, whatever it said: a wrong
    /// method (405), too slow (408), too large (413), a kind of content this
    /// address does not read (415), or unreadable (400).
    #[error("request refused: {0}")]
    Request(StatusCode),
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
        DomainError::invalid(field, message).into()
    }

    /// The domain's error, when it is one.
    pub fn domain(&self) -> Option<&DomainError> {
        match self {
            AppError::Domain(err) => Some(err),
            _ => None,
        }
    }

    pub fn status(&self) -> StatusCode {
        let err = match self {
            AppError::CsrfRejected => return StatusCode::FORBIDDEN,
            AppError::Request(status) => return *status,
            AppError::Domain(err) => err,
        };
        match err {
            DomainError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            DomainError::Unauthenticated
            | DomainError::InvalidCredentials
            | DomainError::TwoFactorRequired => StatusCode::UNAUTHORIZED,
            DomainError::Forbidden | DomainError::TwoFactorSetupRequired => StatusCode::FORBIDDEN,
            DomainError::NotFound => StatusCode::NOT_FOUND,
            DomainError::Gone(_) => StatusCode::GONE,
            DomainError::Conflict(_) | DomainError::ConfirmationNeeded(_) => StatusCode::CONFLICT,
            DomainError::TooManyRequests { .. } | DomainError::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            DomainError::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        let err = match self {
            AppError::CsrfRejected => return "csrf_rejected",
            AppError::Request(status) => {
                return match status.as_u16() {
                    400 => "bad_request",
                    405 => "method_not_allowed",
                    408 => "request_timeout",
                    413 => "payload_too_large",
                    415 => "unsupported_media_type",
                    503 => "unavailable",
                    500.. => "internal",
                    _ => "refused",
                };
            }
            AppError::Domain(err) => err,
        };
        match err {
            DomainError::Invalid(_) => "invalid_input",
            DomainError::Unauthenticated => "unauthenticated",
            DomainError::InvalidCredentials => "invalid_credentials",
            DomainError::Forbidden => "forbidden",
            DomainError::NotFound => "not_found",
            DomainError::Gone(_) => "gone",
            DomainError::Conflict(_) => "conflict",
            DomainError::ConfirmationNeeded(_) => "confirmation_needed",
            DomainError::TwoFactorRequired => "two_factor_required",
            DomainError::TwoFactorSetupRequired => "two_factor_setup_required",
            DomainError::TooManyRequests { .. } | DomainError::RateLimited { .. } => {
                "too_many_requests"
            }
            DomainError::Unexpected(_) => "internal",
        }
    }

    /// Plain words for the person on the other end: the domain's words
    /// (see [`trellis_app::Error::message`]), and the edge's own for the
    /// two refusals only it makes.
    pub fn message(&self) -> String {
        match self {
            AppError::Domain(err) => err.message(),
            AppError::CsrfRejected => {
                "This form was open for too long or came from somewhere else. Please go back, reload the page and try again.".to_owned()
            }
            AppError::Request(status) => match status.as_u16() {
                405 => "This address doesn't take that kind of request.",
                408 => "That took too long to arrive, so we stopped waiting. Please try again.",
                413 => "That was larger than we can accept. Please shorten it and try again.",
                415 => "We can't read that kind of content here. The API takes JSON (`Content-Type: application/json`); pages take their own forms.",
                503 => "Trellis couldn't answer in time just now. Please wait a moment, check whether it went through, and try again.",
                500.. => "Something went wrong on our side. Nothing you wrote was lost; please try again in a moment.",
                _ => "We couldn't read that request. Please check it and try again.",
            }
            .to_owned(),
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
        DomainError::from(err).into()
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        DomainError::Unexpected(err).into()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Some(DomainError::Unexpected(err)) = self.domain() {
            tracing::error!(error = ?err, "request failed unexpectedly");
        } else {
            tracing::debug!(code = self.code(), "request refused");
        }
        let message = self.message();
        let mut body = serde_json::json!({"error": {"code": self.code(), "message": message}});
        if let Some(DomainError::Invalid(errors)) = self.domain() {
            body["error"]["fields"] = errors
                .iter()
                .map(|e| serde_json::json!({"field": e.field, "message": e.message}))
                .collect();
        }
        let mut response = (status, Json(body)).into_response();
        if let Some(
            DomainError::TooManyRequests { retry_after_secs }
            | DomainError::RateLimited {
                retry_after_secs, ..
            },
        ) = self.domain()
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
