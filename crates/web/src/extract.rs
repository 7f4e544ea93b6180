//! Extractors and the address check whose failures speak our error
//! language: every rejection becomes an [`AppError`], so the API answers in
//! its one JSON shape and people get the calm page. Nothing a person typed
//! reaches a query holding a NUL character (PostgreSQL cannot store one),
//! and a path naming an id that is not an id (ids are UUIDv7 text) names
//! nothing.

use axum::body::{Body, to_bytes};
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use trellis_app::Error as DomainError;

use crate::error::AppError;

const NUL_MESSAGE: &str = "What you sent holds an invisible control character (NUL) that we can't store. Please remove it and try again.";

/// Refuses, before routing, an address that holds a NUL character or is not
/// UTF-8 once decoded: a path like that names nothing (404), a query string
/// like that is invalid input (422).
pub async fn refuse_unreadable_addresses(request: Request, next: Next) -> Response {
    let path = percent_decoded(request.uri().path().as_bytes());
    if path.contains(&0) || std::str::from_utf8(&path).is_err() {
        return AppError::Domain(DomainError::NotFound).into_response();
    }
    if let Some(query) = request.uri().query()
        && percent_decoded(query.as_bytes()).contains(&0)
    {
        return AppError::invalid("query", NUL_MESSAGE).into_response();
    }
    next.run(request).await
}

/// `%XX` escapes decoded (and `+` left alone: it never hides a NUL).
fn percent_decoded(raw: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let escaped = (raw[i] == b'%')
            .then(|| Some((hex(*raw.get(i + 1)?)?, hex(*raw.get(i + 2)?)?)))
            .flatten();
        match escaped {
            Some((high, low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            None => {
                out.push(raw[i]);
                i += 1;
            }
        }
    }
    out
}

/// Path parameters. A parameter that names an item must be an id (a UUID);
/// anything else names nothing (404), before any query runs. Handlers take
/// the caller before the path, so someone not signed in still hears 401.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map(|matched| matched.as_str().to_owned())
            .unwrap_or_default();
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Domain(DomainError::NotFound))?;
        for (name, value) in &params {
            if value.contains('\0') || (names_an_id(&route, name) && !is_id(value)) {
                return Err(AppError::Domain(DomainError::NotFound));
            }
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| {
                tracing::debug!(%rejection, "unreadable path");
                AppError::Domain(DomainError::NotFound)
            })
    }
}

/// Routes whose `{id}` is a name from the program content, not an id.
const NAMED_BY_CONTENT: &[&str] = &["/exercises/{id}", "/instruments/{id}"];

/// Does this parameter of this route name an item by its id?
pub fn names_an_id(route: &str, name: &str) -> bool {
    matches!(name, "id" | "appointment_id" | "note_id")
        && !NAMED_BY_CONTENT.iter().any(|named| route.contains(named))
}

/// An id as Trellis makes them: UUID text (`8-4-4-4-12` hex digits).
pub fn is_id(value: &str) -> bool {
    value.len() == 36
        && value.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A query string; one that does not fit gives a 422 that names it.
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection| {
                tracing::debug!(%rejection, "unreadable query string");
                AppError::invalid(
                    "query",
                    "Part of that address isn't something we understand. Please check the link and try again.",
                )
            })
    }
}

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
        let (parts, body) = req.into_parts();
        let bytes = to_bytes(body, crate::MAX_BODY_BYTES)
            .await
            .map_err(|err| unread_body(&err))?;
        if percent_decoded(&bytes).contains(&0) {
            return Err(AppError::invalid("form", NUL_MESSAGE));
        }
        let req = Request::from_parts(parts, Body::from(bytes));
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(value)| PageForm(value))
            .map_err(|rejection| {
                tracing::debug!(%rejection, "unreadable form");
                refused(rejection.status()).unwrap_or_else(|| {
                    AppError::invalid(
                        "form",
                        "We couldn't read that form. Please reload the page and try again.",
                    )
                })
            })
    }
}

/// A JSON body; malformed JSON or wrong types give a 422 that says what is
/// wrong, a body too large 413, another content type 415.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map_err(|rejection| {
                if stalled(&rejection) {
                    return AppError::Request(StatusCode::REQUEST_TIMEOUT);
                }
                refused(rejection.status())
                    .unwrap_or_else(|| AppError::invalid("body", rejection.body_text()))
            })?;
        if holds_nul(&value) {
            return Err(AppError::invalid("body", NUL_MESSAGE));
        }
        serde_json::from_value(value).map(ApiJson).map_err(|err| {
            AppError::invalid("body", format!("We couldn't read that request: {err}."))
        })
    }
}

/// A JSON body that may be left out altogether (then `T::default()`): for
/// confirmations, where a missing password is the service's to refuse with
/// a field message (422), not the transport's (415).
pub struct ApiJsonOrEmpty<T>(pub T);

impl<S, T> FromRequest<S> for ApiJsonOrEmpty<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers();
        let no_body = headers.get(axum::http::header::CONTENT_TYPE).is_none()
            && headers
                .get(axum::http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|v| v.trim() == "0");
        if no_body {
            return Ok(ApiJsonOrEmpty(T::default()));
        }
        let ApiJson(value) = ApiJson::<T>::from_request(req, state).await?;
        Ok(ApiJsonOrEmpty(value))
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

fn holds_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(holds_nul),
        serde_json::Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value)),
        _ => false,
    }
}

/// The refusals of the request itself rather than of what it says.
fn refused(status: StatusCode) -> Option<AppError> {
    matches!(
        status,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::UNSUPPORTED_MEDIA_TYPE
    )
    .then_some(AppError::Request(status))
}

/// Why a body could not be read: too large (413), stalled past the
/// body-read timeout (408), or broken off (400).
pub fn unread_body(err: &axum::Error) -> AppError {
    AppError::Request(if stalled(err) {
        StatusCode::REQUEST_TIMEOUT
    } else if is_length_limit(err) {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::BAD_REQUEST
    })
}

/// Is a body-read timeout somewhere in this error's chain?
fn stalled(err: &(dyn std::error::Error + 'static)) -> bool {
    chain(err).any(|e| e.is::<tower_http::timeout::TimeoutError>())
}

fn is_length_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    chain(err).any(|e| e.is::<http_body_util::LengthLimitError>())
}

fn chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
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
