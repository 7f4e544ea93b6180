//! Observability: a request id on every answer, metrics on their own
//! address (and only there).

use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(empty => every_answer_carries_a_request_id);

async fn every_answer_carries_a_request_id(app: TestApp) {
    let mut seen = std::collections::HashSet::new();
    for path in [
        "/healthz",
        "/login",
        "/api/v1/me",
        "/no-such-page",
        "/invitations/not-a-token",
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!((1..=64).contains(&id.len()), "{path}: {id}");
        assert!(seen.insert(id), "{path}: ids are not reused");
    }
    // an id given by a proxy in front is kept when it is plain
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "edge-7f3a.2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "edge-7f3a.2");
    // and replaced when it is not
    for odd in ["a b", &"x".repeat(65), "<script>"] {
        let response = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", odd)
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(id, odd);
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_address_only() {
    let app = TestApp::start_with(Backend::Sqlite, |config| {
        config.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
    })
    .await
    .unwrap();
    let metrics = app.metrics_base.clone().expect("a metrics address");
    for _ in 0..3 {
        app.client.get(app.url("/healthz")).send().await.unwrap();
    }
    app.client
        .get(app.url("/invitations/a-secret-token"))
        .send()
        .await
        .unwrap();
    let body = reqwest::get(format!("{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let requests = body
        .lines()
        .find(|l| {
            l.starts_with("trellis_http_requests_total{")
                && l.contains(r#"route="/healthz""#)
                && l.contains(r#"status="200""#)
        })
        .unwrap_or_else(|| panic!("no /healthz counter in\n{body}"));
    let count: f64 = requests.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 3.0, "{requests}");
    assert!(
        body.contains("trellis_http_request_duration_seconds_bucket{"),
        "{body}"
    );
    assert!(body.contains("trellis_db_pool_connections"), "{body}");
    assert!(body.contains("trellis_live_streams"), "{body}");
    // routes are labelled by their pattern: the token in the address is not there
    assert!(body.contains(r#"route="/invitations/{token}""#), "{body}");
    assert!(!body.contains("a-secret-token"), "{body}");
    // the public address does not serve metrics
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
}
