//! The JSON API under `/api/v1`, described by the OpenAPI document at
//! `/api/openapi.json` (generated from these handlers and types).

mod accounts;
mod couples;
mod entries;

use axum::Json;
use axum::Router;
use axum::routing::patch;
use axum::routing::{get, post};
use serde::Serialize;
use trellis_store::User;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(accounts::login))
        .route("/api/v1/auth/logout", post(accounts::logout))
        .route("/api/v1/me", get(accounts::me))
        .route("/api/v1/couples", post(couples::create))
        .route(
            "/api/v1/invitations/{token}/accept",
            post(accounts::accept_invitation),
        )
        .route("/api/v1/entries", post(entries::create).get(entries::list))
        .route(
            "/api/v1/entries/{id}",
            get(entries::get).merge(patch(entries::change_audience)),
        )
        .route("/api/openapi.json", get(openapi_json))
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Trellis API", description = "The JSON API of Trellis. Errors are `{\"error\":{\"code\",\"message\"}}`."),
    paths(
        accounts::login,
        accounts::logout,
        accounts::me,
        accounts::accept_invitation,
        couples::create,
        entries::create,
        entries::list,
        entries::get,
        entries::change_audience,
    ),
    components(schemas(ErrorBody, ErrorDetail, UserJson)),
    modifiers(&BearerAuth),
    tags((name = "accounts", description = "Signing in and out, who am I, invitations"), (name = "couples", description = "Couples and their partners"),
        (name = "writing", description = "Client writing with an audience, encrypted at rest"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_input`, `unauthenticated`, `gone`.
    pub code: String,
    /// A message that can be shown to a person.
    pub message: String,
}

/// A person, as the API shows them.
#[derive(Serialize, ToSchema)]
pub struct UserJson {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `admin`, `therapist` or `partner`.
    pub role: String,
}

impl From<&User> for UserJson {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role.as_str().to_owned(),
        }
    }
}
