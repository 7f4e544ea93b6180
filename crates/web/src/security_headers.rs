//! Security headers on every response, in one place.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self' https://www.bbc.com; frame-ancestors 'none'";
const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

// Quick exit's form redirects to its neutral page, so that origin is a
// permitted form target (see `pages::QUICK_EXIT_DESTINATION`, checked below).
pub async fn add(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_static = request.uri().path().starts_with("/static/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    set(
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    );
    set(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !is_static {
        // Pages hold private writing: never keep them in a shared or back-button cache.
        set(header::CACHE_CONTROL, "no-store");
    }
    if state.config().secure_cookies {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_exit_may_redirect_its_form_to_the_neutral_page() {
        let destination = crate::pages::QUICK_EXIT_DESTINATION;
        let origin = destination
            .splitn(4, '/')
            .take(3)
            .collect::<Vec<_>>()
            .join("/");
        let form_action = CONTENT_SECURITY_POLICY
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("form-action"))
            .unwrap_or_default();
        assert!(
            form_action.split(' ').any(|source| source == origin),
            "{form_action} does not allow {origin}"
        );
    }
}
