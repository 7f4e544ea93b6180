use crate::extract::Path;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use trellis_app::Error as DomainError;
use trellis_store::SessionKind;
use utoipa::ToSchema;

use super::{ErrorBody, UserJson};
use crate::auth::CurrentUser;
use crate::auth::session::{end_session, start_session};
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, ClientAddr};
use crate::services::{accounts, two_factor};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// The current code from the authenticator app (or a recovery code),
    /// for accounts with two-step sign-in.
    pub totp: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; revoke with `POST /api/v1/auth/logout`.
    pub token: String,
    pub user: UserJson,
}

/// Sign in and get an API token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "Wrong email or password, or `two_factor_required`", body = ErrorBody),
        (status = 403, description = "`two_factor_setup_required`: set up two-step sign-in on the web first", body = ErrorBody),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(request): ApiJson<LoginRequest>,
) -> AppResult<Json<LoginResponse>> {
    let limits = accounts::sign_in_limits(&request.email, client.0, None);
    let user = accounts::sign_in(&state, &request.email, &request.password, &limits).await?;
    if two_factor::setup_required(&state, &user).await? {
        return Err(AppError::Domain(DomainError::TwoFactorSetupRequired));
    }
    if user.two_factor {
        let code = request
            .totp
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .ok_or(AppError::Domain(DomainError::TwoFactorRequired))?;
        two_factor::check_second_step(&state, &user, code).await?;
    }
    let token = start_session(&state, &user, SessionKind::Api).await?;
    Ok(Json(LoginResponse {
        token: token.expose().to_owned(),
        user: UserJson::from(&user),
    }))
}

/// Revoke the token this request carries.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    _user: CurrentUser,
    headers: HeaderMap,
) -> AppResult<StatusCode> {
    end_session(&state, &headers).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    /// The couple of a partner; null for staff.
    pub couple_id: Option<String>,
}

/// Who am I?
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn me(CurrentUser(user): CurrentUser) -> Json<MeResponse> {
    Json(MeResponse {
        id: user.id.into_string(),
        email: user.email,
        name: user.name,
        role: user.role.as_str().to_owned(),
        couple_id: user.couple_id.map(String::from),
    })
}

#[derive(Serialize, ToSchema)]
pub struct TodayResponse {
    /// What waits on the caller, most pressing first; empty when nothing does
    /// (and always for staff).
    pub items: Vec<crate::services::today::TodayItem>,
}

/// What waits on me today: a talk move, circles to write, a paired answer,
/// a reflect-back step, homework, a check-in, something to accept, messages.
#[utoipa::path(get, path = "/api/v1/me/today", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = TodayResponse), (status = 401, body = ErrorBody)))]
pub async fn today(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<TodayResponse>> {
    Ok(Json(TodayResponse {
        items: crate::services::today::today(&state, &user).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct AcceptRequest {
    pub name: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptResponse {
    pub user: UserJson,
    /// An API token for the new account, so a client can continue signed in.
    pub token: String,
}

/// Accept an invitation: creates the account.
#[utoipa::path(post, path = "/api/v1/invitations/{token}/accept", tag = "accounts", request_body = AcceptRequest,
    params(("token" = String, Path, description = "The secret from the invitation link")),
    responses((status = 201, body = AcceptResponse), (status = 404, body = ErrorBody),
        (status = 410, description = "Already used or expired", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ApiJson(request): ApiJson<AcceptRequest>,
) -> AppResult<(StatusCode, Json<AcceptResponse>)> {
    let user =
        accounts::accept_invitation(&state, &token, &request.name, &request.password).await?;
    let session = start_session(&state, &user, SessionKind::Api).await?;
    Ok((
        StatusCode::CREATED,
        Json(AcceptResponse {
            user: UserJson::from(&user),
            token: session.expose().to_owned(),
        }),
    ))
}
