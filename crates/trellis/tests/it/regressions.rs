//! Privacy holes found in review, each pinned by a test.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{DEMO_PASSWORD, TestApp, fresh_couple};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    a_paired_answer_taken_back_hides_the_partners_again,
    a_listener_chooses_who_reads_their_reflections,
    staff_without_a_required_second_step_cannot_use_the_api,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    a_couple_someone_left_takes_no_one_new,
    password_checks_while_signed_in_are_throttled,
);

async fn password_checks_while_signed_in_are_throttled(app: TestApp) {
    let token = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let delete = || {
        reqwest::Client::new()
            .delete(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .json(&json!({"password": "a guess"}))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(
            delete().await.unwrap().status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_eq!(
        delete().await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a borrowed session cannot guess on"
    );
}

async fn a_couple_someone_left_takes_no_one_new(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    app.api_post(
        Some(&alex),
        "/api/v1/entries",
        json!({"body": "Only for Sam's eyes", "audience": "partner"}),
    )
    .await;
    let left = reqwest::Client::new()
        .post(app.url("/api/v1/me/leave-couple"))
        .bearer_auth(&sam)
        .json(&json!({"password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
    // Neither Alex nor the therapist can bring someone new into that couple.
    let browser = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    let invited = app
        .submit(
            &browser,
            "/our-space",
            "/our-space/invite",
            &[("name", "Newcomer"), ("email", "new@example.org")],
        )
        .await;
    assert_eq!(invited.status(), StatusCode::CONFLICT);
    assert!(app.last_mail_to("new@example.org").is_none());
}

async fn a_paired_answer_taken_back_hides_the_partners_again(app: TestApp) {
    let (_, first, second, _) = fresh_couple(&app).await;
    let (a, b) = (&first, &second);
    app.api_post(
        Some(a),
        "/api/v1/exercises/boundaries-we-need/responses",
        json!({"body": "A's moment"}),
    )
    .await;
    let (_, mine) = app
        .api_post(
            Some(b),
            "/api/v1/exercises/boundaries-we-need/responses",
            json!({"body": "B's moment"}),
        )
        .await;
    let (_, seen) = app
        .api_get(b, "/api/v1/exercises/boundaries-we-need/responses")
        .await;
    assert!(seen.to_string().contains("A's moment"));
    // B takes their own answer back to "only me": A's is hidden from B again.
    let id = mine["id"].as_str().unwrap();
    let patched = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/entries/{id}")))
        .bearer_auth(b)
        .json(&json!({"audience": "me"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let (_, seen) = app
        .api_get(b, "/api/v1/exercises/boundaries-we-need/responses")
        .await;
    assert!(!seen.to_string().contains("A's moment"), "{seen}");
}

async fn a_listener_chooses_who_reads_their_reflections(app: TestApp) {
    let (couple, speaker, listener, priya) = fresh_couple(&app).await;
    reqwest::Client::new()
        .post(app.url(&format!(
            "/api/v1/couples/{couple}/stages/acknowledging-the-pain/unlock"
        )))
        .bearer_auth(&priya)
        .send()
        .await
        .unwrap();
    let (speaker, listener) = (&speaker, &listener);
    let (status, _) = app
        .api_post(
            Some(speaker),
            "/api/v1/exercises/hearing-the-hurt/responses",
            json!({"move": "share", "body": "Speaker's hurt", "audience": "partner_and_therapist"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .api_post(
            Some(listener),
            "/api/v1/exercises/hearing-the-hurt/responses",
            json!({"move": "reflect", "body": "Listener's reflection"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let page = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let html = crate::helpers::page_text(
        page.get(app.url(&format!("/caseload/couples/{couple}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        html.contains("Speaker's hurt"),
        "the speaker chose to include the therapist"
    );
    assert!(
        !html.contains("Listener's reflection"),
        "the listener did not"
    );
}

async fn staff_without_a_required_second_step_cannot_use_the_api(app: TestApp) {
    let admin = app.browser_login("admin@example.com", DEMO_PASSWORD).await;
    app.submit(
        &admin,
        "/practice",
        "/practice",
        &[
            ("name", "Riverside Couples Practice"),
            ("description", ""),
            ("require_two_factor", "on"),
        ],
    )
    .await;
    // A web session of a therapist who has not set it up yet…
    let therapist = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    for path in [
        "/api/v1/me/export",
        "/api/v1/entries",
        "/account/export.json",
    ] {
        let response = therapist.get(app.url(path)).send().await.unwrap();
        assert!(
            response.status() == StatusCode::FORBIDDEN
                || response
                    .headers()
                    .get("location")
                    .is_some_and(|l| l == "/account/two-factor"),
            "{path}: {}",
            response.status()
        );
    }
    assert_eq!(
        therapist
            .get(app.url("/account/two-factor"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}
