//! Sessions live in the database (so any app instance can serve any request),
//! keyed by the SHA-256 of a random secret. Browsers carry the secret in an
//! HttpOnly cookie; API clients send it as a bearer token.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use trellis_app::Error as DomainError;
use trellis_core::{Millis, Role};
use trellis_crypto::SecretToken;
use trellis_store::{NewSession, SessionKind, User};

use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "trellis_session";

/// The signed-in person; rejects with 401 when nobody is.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

/// The signed-in person, if any.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<User>);

impl CurrentUser {
    /// Refuses the request unless the person has this role.
    pub fn require(self, role: Role) -> AppResult<User> {
        if self.0.role == role {
            Ok(self.0)
        } else {
            Err(AppError::Domain(DomainError::Forbidden))
        }
    }
}

pub fn idle_timeout(state: &AppState, role: Role) -> Millis {
    if role.is_staff() {
        state.config().staff_idle_timeout
    } else {
        state.config().partner_idle_timeout
    }
}

/// How long a session may last however active it is: API tokens have an
/// absolute lifetime; browser sessions end when idle (and with the browser, for staff).
pub fn max_age(state: &AppState, kind: SessionKind) -> Option<Millis> {
    (kind == SessionKind::Api).then_some(state.config().api_token_lifetime)
}

fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The session secret a request carries (a bearer token, else the cookie), and its kind.
pub fn session_secret(headers: &axum::http::HeaderMap) -> Option<(String, SessionKind)> {
    if let Some(token) = bearer_token(headers) {
        return Some((token.to_owned(), SessionKind::Api));
    }
    let jar = CookieJar::from_headers(headers);
    jar.get(SESSION_COOKIE)
        .map(|cookie| (cookie.value().to_owned(), SessionKind::Web))
}

async fn authenticate(parts: &Parts, state: &AppState) -> AppResult<Option<User>> {
    let Some((secret, kind)) = session_secret(&parts.headers) else {
        return Ok(None);
    };
    let hash = SecretToken::from_client(&secret).hash();
    let now = state.now();
    let endings = state.store().sessions_ended_count();
    let cache = state.sessions();
    if let Some(user) = cache.get(hash.as_str(), kind, now, max_age(state, kind), endings) {
        return Ok(Some(user));
    }
    let start = cache.start_read(endings);
    let Some(session) = state
        .store()
        .live_session(
            hash.as_str(),
            kind,
            now,
            |role| idle_timeout(state, role),
            max_age(state, kind),
        )
        .await?
    else {
        return Ok(None);
    };
    let user = session.user.clone();
    cache.put(start, hash.as_str(), kind, session);
    Ok(Some(user))
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(cached) = parts.extensions.get::<MaybeUser>() {
            return Ok(cached.clone());
        }
        let user = MaybeUser(authenticate(parts, state).await?);
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// Paths staff may use before setting up a required second step.
pub const TWO_FACTOR_SETUP_PATHS: [&str; 5] = [
    "/account/two-factor",
    "/account/two-factor/disable",
    "/logout",
    "/api/v1/auth/logout",
    "/api/v1/me",
];

/// Refuses staff who must set up two-step sign-in first, except on the
/// pages that let them do it.
pub async fn enforce_two_factor_setup(
    parts: &Parts,
    state: &AppState,
    user: &User,
) -> AppResult<()> {
    if TWO_FACTOR_SETUP_PATHS.contains(&parts.uri.path()) {
        return Ok(());
    }
    if crate::services::two_factor::setup_required(state, user).await? {
        return Err(AppError::Domain(DomainError::TwoFactorSetupRequired));
    }
    Ok(())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        let user = user.ok_or(AppError::Domain(DomainError::Unauthenticated))?;
        enforce_two_factor_setup(parts, state, &user).await?;
        Ok(CurrentUser(user))
    }
}

/// Starts a session for a user who just proved who they are.
pub async fn start_session(
    state: &AppState,
    user: &User,
    kind: SessionKind,
) -> AppResult<SecretToken> {
    let token = SecretToken::generate();
    let now = state.now();
    state
        .store()
        .create_session(NewSession {
            token_hash: token.hash().as_str(),
            user_id: &user.id,
            kind,
            now,
            expires_at: now + idle_timeout(state, user.role),
        })
        .await?;
    Ok(token)
}

/// The browser cookie for a new web session. Staff get a cookie that ends
/// with the browser; partners stay signed in on their own device.
pub fn session_cookie(state: &AppState, user: &User, token: &SecretToken) -> Cookie<'static> {
    let mut cookie = Cookie::build((SESSION_COOKIE, token.expose().to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config().secure_cookies)
        .build();
    if !user.role.is_staff() {
        let seconds = idle_timeout(state, user.role) / 1000;
        cookie.set_max_age(cookie::time::Duration::seconds(seconds));
    }
    cookie
}

pub fn removal_cookie() -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, "")).path("/").build()
}

/// Ends the session the request came with, if any.
pub async fn end_session(state: &AppState, headers: &axum::http::HeaderMap) -> AppResult<()> {
    let jar = CookieJar::from_headers(headers);
    let secret = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
        .or_else(|| jar.get(SESSION_COOKIE).map(|c| c.value().to_owned()));
    if let Some(secret) = secret {
        state
            .store()
            .delete_session(SecretToken::from_client(&secret).hash().as_str())
            .await?;
    }
    Ok(())
}

/// The signed-in person, required to have one role. Checked before the
/// request body is read, so a caller with the wrong role gets 403 whatever
/// they sent.
#[derive(Debug, Clone)]
pub struct RoleUser<const ROLE: u8>(pub User);

pub type PartnerUser = RoleUser<0>;
pub type TherapistUser = RoleUser<1>;
pub type AdminUser = RoleUser<2>;

const fn role_of(code: u8) -> Role {
    match code {
        0 => Role::Partner,
        1 => Role::Therapist,
        _ => Role::Admin,
    }
}

impl<const ROLE: u8> FromRequestParts<AppState> for RoleUser<ROLE> {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        if user.role == role_of(ROLE) {
            Ok(RoleUser(user))
        } else {
            Err(AppError::Domain(DomainError::Forbidden))
        }
    }
}
