//! A browser that has signed in to an account before is a *known device*
//! for it: a long-lived cookie holding a random id and an HMAC of that id
//! with the account's email. A known device is throttled on its own count,
//! so someone guessing at an account — or a crowd behind one proxy address —
//! cannot lock its owner out of the browser they always use.

use axum::http::HeaderMap;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use trellis_crypto::SecretToken;

use crate::state::AppState;

pub const DEVICE_COOKIE: &str = "trellis_device";
const PURPOSE: &str = "known-device";
/// How long a browser stays known after its last sign-in.
const REMEMBER_DAYS: i64 = 180;

fn message(id: &str, email: &str) -> String {
    format!("{id}:{}", email.trim().to_lowercase())
}

/// The device id, when this browser signed in to `email` before.
pub fn known_device(state: &AppState, headers: &HeaderMap, email: &str) -> Option<String> {
    let jar = CookieJar::from_headers(headers);
    let value = jar.get(DEVICE_COOKIE)?.value().to_owned();
    let (id, tag) = value.split_once('.')?;
    state
        .vault()
        .verify(PURPOSE, &message(id, email), tag)
        .then(|| id.to_owned())
}

/// Marks this browser as known for `email` (after a full sign-in).
pub fn device_cookie(state: &AppState, email: &str) -> Cookie<'static> {
    let id = SecretToken::generate().expose().to_owned();
    let tag = state.vault().sign(PURPOSE, &message(&id, email));
    let mut cookie = Cookie::build((DEVICE_COOKIE, format!("{id}.{tag}")))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config().secure_cookies)
        .build();
    cookie.set_max_age(cookie::time::Duration::days(REMEMBER_DAYS));
    cookie
}
