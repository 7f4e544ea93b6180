//! Request body extractors whose failures speak our error language.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A urlencoded form. Form structs default every field, so a missing field
/// reaches validation and gets a proper message instead of a bare rejection.
pub struct PageForm<T>(pub T);

impl<S, T> FromRequest<S> for PageForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(value)| PageForm(value))
            .map_err(|rejection| {
                tracing::debug!(%rejection, "unreadable form");
                AppError::invalid(
                    "form",
                    "We couldn't read that form. Please reload the page and try again.",
                )
            })
    }
}

/// A JSON body; malformed JSON or wrong types give a 422 that says what is wrong.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|axum::Json(value)| ApiJson(value))
            .map_err(|rejection| AppError::invalid("body", rejection.body_text()))
    }
}
