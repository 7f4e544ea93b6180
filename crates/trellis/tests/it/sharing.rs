//! Sharing with care: shared journal writing waits in an undo window, read
//! by its author alone, and can be taken back, held until morning or shared
//! at once; the author is told exactly who can read it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DEMO_PASSWORD, TestApp, page_text};
use crate::on_both_backends;

on_both_backends!(with_undo_window =>
    shared_writing_waits_and_can_be_taken_back,
    waiting_writing_can_be_shared_now_or_held_until_morning,
    the_author_is_told_who_can_read_it_and_offered_to_wait_when_words_are_sharp,
);

on_both_backends!(with_one_second_undo => once_the_window_passes_the_partner_reads_it);

async fn write(app: &TestApp, token: &str, body: &str, audience: &str) -> Value {
    let (status, entry) = app
        .api_post(
            Some(token),
            "/api/v1/entries",
            json!({"body": body, "audience": audience}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    entry
}

async fn listed(app: &TestApp, token: &str, body: &str) -> bool {
    let (status, list) = app.api_get(token, "/api/v1/entries").await;
    assert_eq!(status, StatusCode::OK);
    list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["body"] == body)
}

async fn shared_writing_waits_and_can_be_taken_back(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let body = "I said things last night I wish I hadn't.";
    let entry = write(&app, &alex, body, "partner_and_therapist").await;
    let id = entry["id"].as_str().unwrap();
    assert_eq!(entry["pending"], true);
    assert!(
        entry["visible_from"].as_i64().unwrap() >= entry["created_at"].as_i64().unwrap() + 59_000
    );

    // nobody else can read it yet, by list or by id
    for (who, token) in [("Sam", &sam), ("the therapist", &priya)] {
        assert!(
            !listed(&app, token, body).await,
            "{who} sees waiting writing"
        );
        let (status, _) = app.api_get(token, &format!("/api/v1/entries/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who} reads waiting writing");
    }
    assert!(listed(&app, &alex, body).await, "the author sees it");
    // Sam cannot undo what they cannot see
    let (status, _) = app
        .api_post(Some(&sam), &format!("/api/v1/entries/{id}/undo"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, undone) = app
        .api_post(
            Some(&alex),
            &format!("/api/v1/entries/{id}/undo"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{undone}");
    assert_eq!(undone["audience"], "me");
    assert_eq!(undone["pending"], false);
    assert_eq!(undone["body"], body, "nothing is lost");
    assert!(!listed(&app, &sam, body).await);
    let (status, again) = app
        .api_post(
            Some(&alex),
            &format!("/api/v1/entries/{id}/undo"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
}

async fn waiting_writing_can_be_shared_now_or_held_until_morning(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let now_body = "Thank you for the walk today.";
    let entry = write(&app, &alex, now_body, "partner").await;
    let (status, shared) = app
        .api_post(
            Some(&alex),
            &format!(
                "/api/v1/entries/{}/share-now",
                entry["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{shared}");
    assert_eq!(shared["pending"], false);
    assert!(listed(&app, &sam, now_body).await, "shared now is read now");

    let late_body = "You never listen and I am sick of it.";
    let entry = write(&app, &alex, late_body, "partner").await;
    let before = entry["visible_from"].as_i64().unwrap();
    let (status, held) = app
        .api_post(
            Some(&alex),
            &format!("/api/v1/entries/{}/hold", entry["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let until = held["visible_from"].as_i64().unwrap();
    assert!(held["pending"] == true && until > before, "{held}");
    assert!(
        until - entry["created_at"].as_i64().unwrap() <= 25 * 3_600_000,
        "the next morning, not later"
    );
    assert!(!listed(&app, &sam, late_body).await, "held writing waits");
}

async fn the_author_is_told_who_can_read_it_and_offered_to_wait_when_words_are_sharp(app: TestApp) {
    let alex = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    let saved = app
        .submit(
            &alex,
            "/journal",
            "/journal",
            &[
                (
                    "body",
                    "You always make everything about you. You're so selfish.",
                ),
                ("audience", "partner"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let page = page_text(
        alex.get(app.url("/journal?saved=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        page.contains("Your entry is saved. Until ")
            && page.contains(
                "only you can read it, so you can still take it back; then Sam can read it too."
            ),
        "{page}"
    );
    assert!(
        page.contains("Hold it until morning"),
        "sharp words may wait"
    );
    assert!(page.contains("Undo: keep it to myself"));

    let calm = app
        .submit(
            &alex,
            "/journal",
            "/journal",
            &[
                ("body", "I liked cooking together tonight."),
                ("audience", "partner_and_therapist"),
            ],
        )
        .await;
    assert_eq!(calm.status(), StatusCode::SEE_OTHER);
    let page = page_text(
        alex.get(app.url("/journal?saved=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        page.contains("then Sam and Dr. Priya Natarajan can read it too."),
        "{page}"
    );
    assert!(
        !page.contains("Hold it until morning"),
        "only sharp words are offered a wait"
    );
    // the page's undo takes it back, and says so
    let id_at = page.find("/undo\"").unwrap();
    let start = page[..id_at].rfind("/journal/").unwrap();
    let undo = &page[start..id_at + 5];
    let undone = app.submit(&alex, "/journal", undo, &[]).await;
    assert_eq!(undone.status(), StatusCode::SEE_OTHER);
    let page = page_text(
        alex.get(app.url("/journal?settled=undone"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains("Taken back: only you can read that entry now."));
}

async fn once_the_window_passes_the_partner_reads_it(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let body = "I'm proud of how we handled Sunday.";
    let entry = write(&app, &alex, body, "partner").await;
    assert_eq!(entry["pending"], true);
    assert!(!listed(&app, &sam, body).await, "it waits first");
    let due = entry["visible_from"].as_i64().unwrap();
    while trellis_web::state::system_now() <= due {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        listed(&app, &sam, body).await,
        "then it arrives without anyone acting"
    );
    let (status, late) = app
        .api_post(
            Some(&alex),
            &format!("/api/v1/entries/{}/undo", entry["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "too late to undo: {late}");
}
