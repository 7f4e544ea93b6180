//! Crisis resources per region (issue 13): a practice chooses the regions
//! its couples and visitors live in, and help shows those helplines.

use reqwest::StatusCode;

use crate::helpers::{DEMO_PASSWORD, TestApp, browser_client, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    a_region_that_is_not_listed_is_refused_kindly,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    a_practice_set_to_a_region_shows_its_helplines_wherever_help_is_shown,
);

/// Saves the practice settings form as the demo admin, with `region`.
async fn save_region(app: &TestApp, region: &str) -> reqwest::Response {
    let admin = app.browser_login("admin@example.com", DEMO_PASSWORD).await;
    let practice = app.store.practices().await.unwrap()[0].clone();
    let hours = practice.reminder_hours.to_string();
    app.submit(
        &admin,
        "/practice",
        "/practice",
        &[
            ("name", practice.name.as_str()),
            ("description", practice.description.as_str()),
            ("contact", practice.contact.as_str()),
            ("time_zone", practice.time_zone.as_str()),
            ("reminder_hours", hours.as_str()),
            ("helpline_region", region),
        ],
    )
    .await
}

async fn a_practice_set_to_a_region_shows_its_helplines_wherever_help_is_shown(app: TestApp) {
    let saved = save_region(&app, "nz").await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let practice = app.store.practices().await.unwrap()[0].clone();
    assert_eq!(practice.helpline_region, "nz");
    let admin = app.browser_login("admin@example.com", DEMO_PASSWORD).await;
    let settings = page_text(admin.get(app.url("/practice")).send().await.unwrap()).await;
    assert!(
        settings.contains("<option value=\"nz\" selected>New Zealand</option>"),
        "the choice shows on the settings page"
    );
    let listed = app.get_json("/api/v1/practices").await;
    assert_eq!(listed["practices"][0]["helpline_region"], "nz");

    // A visitor who says they feel unsafe on the self-check.
    let client = browser_client();
    let result = page_text(
        app.submit(
            &client,
            "/is-it-time",
            "/is-it-time",
            &[("safety", "yes"), ("practice", practice.id.as_str())],
        )
        .await,
    )
    .await;
    // A partner of the practice asking for help in their journal.
    let alex = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    let journal = page_text(
        alex.get(app.url("/journal?saved=true&help=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    for (what, page) in [("self-check", &result), ("journal", &journal)] {
        assert!(page.contains("href=\"tel:1737\""), "{what}: {page}");
        assert!(page.contains("Women's Refuge"), "{what}");
        assert!(
            !page.contains("href=\"tel:988\""),
            "{what}: another region's line is not shown"
        );
    }
}

async fn a_region_that_is_not_listed_is_refused_kindly(app: TestApp) {
    let refused = save_region(&app, "atlantis").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page_text(refused)
            .await
            .contains("Please choose one of the listed regions")
    );
    let practice = app.store.practices().await.unwrap()[0].clone();
    assert_eq!(practice.helpline_region, "us,uk", "unchanged");
}
