//! Health, readiness, security headers, the OpenAPI document, the CLI contract.

use reqwest::StatusCode;

use crate::helpers::{TestApp, page_text};
use crate::on_both_backends;

on_both_backends!(empty => health_and_readiness_answer, responses_carry_security_headers, openapi_describes_the_pinned_routes, unknown_pages_are_kind_404s);

async fn health_and_readiness_answer(app: TestApp) {
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(page_text(health).await, "ok");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    // Once the database is gone, the instance says it is not ready.
    app.store.close().await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}

async fn responses_carry_security_headers(app: TestApp) {
    for path in ["/", "/login", "/api/v1/me", "/no-such-page"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(headers.contains_key("permissions-policy"), "{path}");
        assert_eq!(headers["cache-control"], "no-store", "{path}");
    }
}

async fn openapi_describes_the_pinned_routes(app: TestApp) {
    let spec = app.get_json("/api/openapi.json").await;
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/couples",
        "/api/v1/invitations/{token}/accept",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
}

async fn unknown_pages_are_kind_404s(app: TestApp) {
    let page = app
        .client
        .get(app.url("/no-such-page"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page_text(page).await.contains("couldn't find that page"));
    let api = app
        .client
        .get(app.url("/api/v1/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}
