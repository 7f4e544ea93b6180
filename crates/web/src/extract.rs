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

/// Requests arrive through a proxy that `behind_proxy` does not trust: every
/// client then shares the proxy's address, so per-address limits (sign-in,
/// appointment requests) would hit everyone at once. Said loudly, once.
fn warn_about_an_unconfigured_proxy() {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "requests carry X-Forwarded-For but behind_proxy is off: all clients look like the proxy's \
             address, so per-address limits apply to everyone at once. If Trellis runs behind your own \
             reverse proxy, set behind_proxy = true (TRELLIS_BEHIND_PROXY=true)."
        );
    }
}

/// The client's address: the socket peer, or, behind a trusted reverse proxy
/// (`behind_proxy`), the address that proxy appended to `X-Forwarded-For`.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl axum::extract::FromRequestParts<crate::state::AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &crate::state::AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config().behind_proxy {
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|v| v.trim().parse().ok())
                .next_back();
            if forwarded.is_some() {
                return Ok(ClientAddr(forwarded));
            }
        } else if parts.headers.contains_key("x-forwarded-for") {
            warn_about_an_unconfigured_proxy();
        }
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip());
        Ok(ClientAddr(peer))
    }
}
