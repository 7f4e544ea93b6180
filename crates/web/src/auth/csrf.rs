//! CSRF protection: every form carries a token (`csrf` field, or an
//! `X-CSRF-Token` header) that is an HMAC, under the master key, of the
//! browser's session. A page from another site cannot read it, and a token
//! issued for one session is worthless for any other; signing in starts a
//! new session, so the token rotates with it. Before signing in, the token is
//! bound the same way to a random pre-session cookie (`__Host-` prefixed
//! when cookies are secure, so a sibling subdomain cannot plant it).
//!
//! Enforced once, as middleware, for every state-changing request that a
//! browser could forge: any form post, and anything carrying the session
//! cookie. Bearer-token API calls carry no ambient credentials and pass.
//! One path is exempt: quick exit, which can only sign the browser out, and
//! must work from a bare `navigator.sendBeacon` as someone hurries away.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use trellis_crypto::SecretToken;

use crate::auth::session::SESSION_COOKIE;
use crate::error::AppError;
use crate::state::AppState;

/// The pre-session cookie over plain HTTP (development, tests).
pub const CSRF_COOKIE: &str = "trellis_csrf";
/// The pre-session cookie when cookies are secure: host-only, cannot be set
/// by a sibling subdomain.
pub const CSRF_COOKIE_SECURE: &str = "__Host-trellis_csrf";
const SESSION_PURPOSE: &str = "csrf-session";
const PRE_SESSION_PURPOSE: &str = "csrf-pre-session";
pub const CSRF_FIELD: &str = "csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Forms are small; anything bigger is refused before it is buffered.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The token templates put into forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn is_form(request: &Request) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("application/x-www-form-urlencoded")
                || ct.starts_with("multipart/form-data")
                || ct.starts_with("text/plain")
        })
}

fn cookie_name(state: &AppState) -> &'static str {
    if state.config().secure_cookies {
        CSRF_COOKIE_SECURE
    } else {
        CSRF_COOKIE
    }
}

/// The token for what the browser holds: its session, else its pre-session
/// cookie. `None` when it holds neither (a first visit).
fn expected_token(state: &AppState, jar: &CookieJar) -> Option<String> {
    let token = if let Some(session) = jar.get(SESSION_COOKIE).filter(|c| !c.value().is_empty()) {
        let id = SecretToken::from_client(session.value()).hash();
        state.vault().sign(SESSION_PURPOSE, id.as_str())
    } else {
        let value = jar.get(cookie_name(state))?.value();
        if value.len() < 32 {
            return None;
        }
        state.vault().sign(PRE_SESSION_PURPOSE, value)
    };
    // Without a key there is no token to match: refuse rather than accept "".
    (!token.is_empty()).then_some(token)
}

pub async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let expected = expected_token(&state, &jar);

    let unsafe_method = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // The API reads only JSON (anything else is refused with 415 there), so
    // without the session cookie a form posted at it carries nothing to forge.
    let is_api = request.uri().path().starts_with("/api/");
    let forgeable = jar.get(SESSION_COOKIE).is_some() || (is_form(&request) && !is_api);
    let exempt = request.uri().path() == crate::pages::QUICK_EXIT_PATH;
    let mut request = request;
    if unsafe_method && forgeable && !exempt {
        let Some(expected) = expected.as_deref() else {
            return AppError::CsrfRejected.into_response();
        };
        match check(request, expected).await {
            Ok(checked) => request = checked,
            Err(response) => return response,
        }
    }

    // A first visit gets a pre-session cookie, and its forms a token bound to it.
    let (token, new_cookie) = match expected {
        Some(token) => (token, None),
        None => {
            let value = SecretToken::generate().expose().to_owned();
            (state.vault().sign(PRE_SESSION_PURPOSE, &value), Some(value))
        }
    };
    request.extensions_mut().insert(CsrfToken(token));
    let mut response = next.run(request).await;
    if let Some(value) = new_cookie {
        let cookie = Cookie::build((cookie_name(&state), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(state.config().secure_cookies)
            .build();
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Passes the request on (with its body restored) when it carries the token.
async fn check(request: Request, expected: &str) -> Result<Request, Response> {
    if let Some(sent) = request.headers().get(CSRF_HEADER) {
        return if constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            Ok(request)
        } else {
            Err(AppError::CsrfRejected.into_response())
        };
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|err| crate::extract::unread_body(&err).into_response())?;
    let sent = form_field(&bytes, CSRF_FIELD);
    match sent {
        Some(sent) if constant_time_eq(sent.as_bytes(), expected.as_bytes()) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(AppError::CsrfRejected.into_response()),
    }
}

fn form_field(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_tokens_match_and_others_do_not() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn the_csrf_field_is_found_among_others() {
        assert_eq!(
            form_field(b"email=a%40b.c&csrf=xyz", "csrf").as_deref(),
            Some("xyz")
        );
        assert_eq!(form_field(b"email=a", "csrf"), None);
        assert_eq!(form_field(b"\xff\xfe", "csrf"), None);
    }
}
