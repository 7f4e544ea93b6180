//! The coach over HTTP: partners get hints while writing; nothing is stored.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{DEMO_PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(with_demo => partners_get_hints_and_nothing_is_kept);

async fn partners_get_hints_and_nothing_is_kept(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let (status, analysis) = app
        .api_post(
            Some(&alex),
            "/api/v1/coach/analyze",
            json!({"text": "You are so selfish, you never think of anyone else."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{analysis}");
    assert!(
        analysis["labels"]
            .as_array()
            .unwrap()
            .contains(&"criticism".into()),
        "{analysis}"
    );
    let start = analysis["findings"][0]["start"].as_u64().unwrap() as usize;
    let end = analysis["findings"][0]["end"].as_u64().unwrap() as usize;
    assert!(start < end && end <= analysis["text"].as_str().unwrap().len());
    assert!(
        analysis["suggestion"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("i feel")
    );

    let (status, _) = app
        .api_post(
            Some(&alex),
            "/api/v1/coach/analyze",
            json!({"text": "x".repeat(20_001)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .api_post(Some(&alex), "/api/v1/coach/analyze", json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let therapist = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, _) = app
        .api_post(
            Some(&therapist),
            "/api/v1/coach/analyze",
            json!({"text": "hello"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nothing was stored: no writing exists for Alex.
    let (_, entries) = app.api_get(&alex, "/api/v1/entries").await;
    assert_eq!(entries["entries"].as_array().unwrap().len(), 0);
}
