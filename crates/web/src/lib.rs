//! The Trellis web application: one router serving pages, the JSON API and
//! operational endpoints over one [`AppState`].

pub mod api;
pub mod auth;
pub mod charts;
pub mod error;
pub mod extract;
pub mod observe;
pub mod pages;
pub mod routes;
pub mod security_headers;

// The domain layer, re-exported under its old paths so adapters read
// `crate::services::…` as before.
pub use trellis_app::{calendar, content, mail, push, services, state, streams, vault, when};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use trellis_app::Error as DomainError;

pub use error::{AppError, AppResult};
pub use trellis_app::{AppState, Mailer, WebConfig};

/// Request bodies above this are refused before they are read.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The whole application. Layers, from the outside in: the request id,
/// access log and metrics (see [`observe`]); security headers (so every
/// answer carries them, including refusals made by the layers below);
/// errors in our one shape (JSON for the API, the calm page for people),
/// whoever made them; addresses holding NUL refused; the body size limit;
/// the request timeout; admission (a bounded number of requests at work,
/// the rest waiting their turn); CSRF; then the routes.
pub fn router(state: AppState) -> Router {
    let timeout = state.config().request_timeout;
    routes::build(routes::table())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::csrf::protect,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), admit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(
            extract::refuse_unreadable_addresses,
        ))
        .layer(axum::middleware::from_fn(pages::render_errors))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security_headers::add,
        ))
        .layer(axum::middleware::from_fn(observe::access))
        .with_state(state)
}

/// Lets a bounded number of requests work at once, the others waiting in
/// arrival order, so under load each request is served whole instead of all
/// of them competing query by query for the database pool (where one with
/// many queries would wait many times). The permit is held until the answer
/// starts: a live stream's long body does not keep it. Health checks and
/// static files never wait. Once a request that may change something has
/// been answered, the session cache is emptied.
async fn admit(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    if path == "/healthz" || path == "/readyz" || path.starts_with("/static/") {
        return next.run(request).await;
    }
    // the semaphore is never closed; without a permit, serve anyway
    let _permit = state.admission().clone().acquire_owned().await.ok();
    let may_change = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    // who is signed in, or as whom, may have changed: sessions are read
    // anew (see `trellis_app::sessions`); on drop, so that a request cut by
    // the timeout or a panic empties the cache too
    let _forget = may_change.then(|| ForgetSessionsOnDrop(state.clone()));
    next.run(request).await
}

struct ForgetSessionsOnDrop(AppState);

impl Drop for ForgetSessionsOnDrop {
    fn drop(&mut self) {
        self.0.sessions().forget_all();
    }
}

/// Health, readiness and static files.
pub fn operations_routes() -> Vec<routes::Route> {
    use routes::{Access::Public, Route};
    vec![
        Route::get("/healthz", Public, healthz),
        Route::get("/readyz", Public, readyz),
        Route::get("/static/app.css", Public, || async {
            asset("text/css", include_str!("../static/app.css"))
        }),
        Route::get("/static/quick-exit.js", Public, || async {
            asset(JS, include_str!("../static/quick-exit.js"))
        }),
        Route::get("/static/coach.js", Public, || async {
            asset(JS, include_str!("../static/coach.js"))
        }),
        Route::get("/static/talk.js", Public, || async {
            asset(JS, include_str!("../static/talk.js"))
        }),
        Route::get("/static/zone.js", Public, || async {
            asset(JS, include_str!("../static/zone.js"))
        }),
        Route::get("/static/push.js", Public, || async {
            asset(JS, include_str!("../static/push.js"))
        }),
        Route::get("/static/install.js", Public, || async {
            asset(JS, include_str!("../static/install.js"))
        }),
        // installing on a phone: the manifest, icons, the service worker
        // (served from the root so it may look after every page) and the
        // page it shows offline
        Route::get("/manifest.webmanifest", Public, || async {
            asset(
                "application/manifest+json",
                include_str!("../static/manifest.webmanifest"),
            )
        }),
        Route::get("/sw.js", Public, || async {
            asset(JS, include_str!("../static/sw.js"))
        }),
        Route::get("/offline", Public, offline),
        Route::get("/favicon.ico", Public, || async {
            image(include_bytes!("../static/icon-32.png"))
        }),
        Route::get("/static/icon-192.png", Public, || async {
            image(include_bytes!("../static/icon-192.png"))
        }),
        Route::get("/static/icon-512.png", Public, || async {
            image(include_bytes!("../static/icon-512.png"))
        }),
    ]
}

/// What the service worker shows when the network is gone: no one is
/// signed in on it, and it says that nothing written is on the device.
async fn offline() -> AppResult<Html<String>> {
    use askama::Template;
    let page = pages::MessagePage {
        layout: pages::Layout {
            user_name: None,
            csrf: String::new(),
            nav: Vec::new(),
            quick_exit: false,
        },
        title: "You're offline".to_owned(),
        body: "Trellis needs a connection to show your space. Nothing you wrote is kept on this device, so it is all safe and waiting for you. If you are in danger, call your local emergency number.".to_owned(),
        action: Some(("/".to_owned(), "Open Trellis again".to_owned())),
    };
    Ok(Html(page.render().map_err(anyhow::Error::from)?))
}

/// A PNG compiled into the binary, cacheable for a day.
fn image(body: &'static [u8]) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready only when the database answers, so a load balancer skips an
/// instance that lost it.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.store().ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

const JS: &str = "text/javascript";

/// A file compiled into the binary, cacheable for an hour.
fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    let content_type = format!("{content_type}; charset=utf-8");
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600".to_owned()),
        ],
        body,
    )
}

async fn not_found() -> AppError {
    AppError::Domain(DomainError::NotFound)
}
