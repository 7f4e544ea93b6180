//! Notices on a person's own devices (web push): the server's public key
//! for `pushManager.subscribe`, and the devices that asked.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ErrorBody;
use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::extract::ApiJson;
use crate::services::notices;
use crate::state::AppState;
use crate::when;

#[derive(Serialize, ToSchema)]
pub struct PushKeyJson {
    /// The server's VAPID public key (unpadded base64url of the uncompressed
    /// P-256 point): `applicationServerKey` for `pushManager.subscribe`.
    pub public_key: String,
}

/// The key a browser needs to subscribe to this server's notices.
#[utoipa::path(get, path = "/api/v1/push/key", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = PushKeyJson)))]
pub async fn key(
    State(state): State<AppState>,
    CurrentUser(_user): CurrentUser,
) -> Json<PushKeyJson> {
    Json(PushKeyJson {
        public_key: state.pusher().public_key().to_owned(),
    })
}

#[derive(Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

/// A browser's `PushSubscription`, as `JSON.stringify` gives it.
#[derive(Deserialize, ToSchema)]
pub struct SubscriptionJson {
    /// The push service's https address for this browser.
    pub endpoint: String,
    pub keys: SubscriptionKeys,
}

/// Turns notices on for the calling device. Which kinds arrive follows the
/// `push_*` settings of `/api/v1/me/settings`; safety notices to a
/// therapist always do.
#[utoipa::path(post, path = "/api/v1/me/devices", tag = "sessions", security(("bearer" = [])), request_body = SubscriptionJson,
    responses((status = 204, description = "The device will get notices"), (status = 422, body = ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(subscription): ApiJson<SubscriptionJson>,
) -> AppResult<StatusCode> {
    notices::add_device(
        &state,
        &user,
        &subscription.endpoint,
        &subscription.keys.p256dh,
        &subscription.keys.auth,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct DeviceRef {
    pub endpoint: String,
}

/// Turns notices off for one of the caller's devices.
#[utoipa::path(post, path = "/api/v1/me/devices/remove", tag = "sessions", security(("bearer" = [])), request_body = DeviceRef,
    responses((status = 204, description = "No more notices to that device"), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(device): ApiJson<DeviceRef>,
) -> AppResult<StatusCode> {
    notices::remove_device(&state, &user, &device.endpoint).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct DeviceJson {
    /// The push service that carries its notices ("fcm.googleapis.com").
    pub service: String,
    /// When notices were turned on (RFC 3339).
    pub since: String,
}

#[derive(Serialize, ToSchema)]
pub struct DevicesJson {
    pub devices: Vec<DeviceJson>,
}

/// The caller's devices that get notices (never their addresses).
#[utoipa::path(get, path = "/api/v1/me/devices", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, body = DevicesJson)))]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Json<DevicesJson>> {
    let devices = notices::devices(&state, &user).await?;
    Ok(Json(DevicesJson {
        devices: devices
            .into_iter()
            .map(|device| DeviceJson {
                service: device.service,
                since: when::rfc3339(device.since),
            })
            .collect(),
    }))
}
