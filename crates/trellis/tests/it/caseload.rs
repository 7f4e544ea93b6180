//! `GET /api/v1/caseload`: the therapist's couples with what needs
//! attention, sorted by need — the same list as the caseload page.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DEMO_PASSWORD, TestApp, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    a_couple_page_leads_with_what_changed_since_the_last_session,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    the_caseload_api_lists_couples_by_need,
    the_caseload_counts_what_each_couple_page_shows,
    the_caseload_opens_with_what_waits_for_the_therapist,
);

fn couple<'a>(list: &'a Value, partner: &str) -> &'a Value {
    list["couples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"].as_str().unwrap().contains(partner))
        .unwrap_or_else(|| panic!("no couple with {partner} in {list}"))
}

async fn the_caseload_api_lists_couples_by_need(app: TestApp) {
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, before) = app.api_get(&priya, "/api/v1/caseload").await;
    assert_eq!(status, StatusCode::OK, "{before}");
    let alex_sam = couple(&before, "Alex");
    assert!(alex_sam["id"].is_string());
    assert_eq!(alex_sam["partners"].as_array().unwrap().len(), 2);
    assert_eq!(alex_sam["shared_work_open"], true);
    // Noor & Kai took the check and wait for a decision: shared work is closed
    assert_eq!(couple(&before, "Noor")["shared_work_open"], false);

    // a message from Sam shows as unread for Alex & Sam's row
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (status, _) = app
        .api_post(
            Some(&sam),
            "/api/v1/messages",
            json!({"thread": "couple", "body": "Could we move Thursday to the afternoon?"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, after) = app.api_get(&priya, "/api/v1/caseload").await;
    assert_eq!(
        couple(&after, "Alex")["unread"].as_i64().unwrap(),
        before_unread(&before) + 1
    );

    // an urgent sign puts the couple first
    let (status, _) = app
        .api_post(
            Some(&sam),
            "/api/v1/entries",
            json!({"body": "I have the pills saved up and tonight is the night.", "audience": "me"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, flagged) = app.api_get(&priya, "/api/v1/caseload").await;
    let first = &flagged["couples"][0];
    assert!(
        first["title"].as_str().unwrap().contains("Sam"),
        "{flagged}"
    );
    assert!(first["urgent_flags"].as_i64().unwrap() >= 1, "{first}");
    // the list is sorted by need, every row as needy or less than the one before
    let need = |c: &Value| {
        (
            c["urgent_flags"].as_i64().unwrap(),
            c["possibly_urgent_flags"].as_i64().unwrap(),
            c["open_flags"].as_i64().unwrap(),
            c["alerts"].as_i64().unwrap(),
            c["unread"].as_i64().unwrap(),
        )
    };
    let rows = flagged["couples"].as_array().unwrap();
    assert!(
        rows.windows(2).all(|w| need(&w[0]) >= need(&w[1])),
        "{flagged}"
    );
    // the page lists the same couples, in the same order
    let page = page_text(
        app.browser_login("therapist@example.com", DEMO_PASSWORD)
            .await
            .get(app.url("/caseload"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let positions: Vec<usize> = rows
        .iter()
        .map(|c| page.find(c["title"].as_str().unwrap()).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");

    // only therapists have a caseload, and each sees their own
    let (status, _) = app.api_get(&sam, "/api/v1/caseload").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (status, his) = app.api_get(&tom, "/api/v1/caseload").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        his["couples"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| !c["title"].as_str().unwrap().contains("Alex")),
        "{his}"
    );
}

fn before_unread(list: &Value) -> i64 {
    couple(list, "Alex")["unread"].as_i64().unwrap()
}

/// The caseload reads every couple's facts at once; what it counts must be
/// what each couple's own progress shows, consent rules included.
async fn the_caseload_counts_what_each_couple_page_shows(app: TestApp) {
    trellis::demo::history::seed(&app.state, trellis_web::state::system_now())
        .await
        .unwrap();
    // Sam keeps scores from the therapist: hidden on both views alike
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (status, body) = app
        .api_post(
            Some(&sam),
            "/api/v1/me/measures/sharing",
            json!({"therapist": false, "partner": false}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    // a new partner whose CSI-4 stays low three times running: an alert
    let (_, mo, _, _) = crate::helpers::fresh_couple(&app).await;
    for _ in 0..3 {
        let (status, body) = app
            .api_post(
                Some(&mo),
                "/api/v1/measures/csi4",
                json!({"answers": {"1": 1, "5": 1, "7": 1, "10": 1}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for therapist in ["therapist@example.com", "therapist2@example.com"] {
        let token = app.api_login(therapist, DEMO_PASSWORD).await;
        let (_, list) = app.api_get(&token, "/api/v1/caseload").await;
        let mut alerting = 0;
        for couple in list["couples"].as_array().unwrap() {
            let id = couple["id"].as_str().unwrap();
            let (status, progress) = app
                .api_get(&token, &format!("/api/v1/couples/{id}/progress"))
                .await;
            assert_eq!(status, StatusCode::OK, "{progress}");
            assert_eq!(
                couple["alerts"].as_u64().unwrap() as usize,
                progress["alerts"].as_array().unwrap().len(),
                "{therapist}: {couple} vs {progress}"
            );
            alerting += usize::from(couple["alerts"].as_u64().unwrap() > 0);
        }
        if therapist == "therapist@example.com" {
            assert!(alerting > 0, "the demo's history raises alerts: {list}");
        }
    }
}

/// The therapist's couple page opens with what changed since the last
/// session and what waits for them, each a link to its part of the page;
/// shared exercise answers say which exercise they answer.
async fn a_couple_page_leads_with_what_changed_since_the_last_session(app: TestApp) {
    let (couple, mo, _, _) = crate::helpers::fresh_couple(&app).await;
    let priya = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let path = format!("/caseload/couples/{couple}");
    let first = page_text(priya.get(app.url(&path)).send().await.unwrap()).await;
    let main = &first[first.find("<main").unwrap()..];
    let since = &main[main.find("id=\"since-heading\"").expect("the summary")..];
    let since = &since[..since.find("</section>").unwrap()];
    assert!(
        main.find("since-heading").unwrap() < main.find("progress-heading").unwrap(),
        "the summary comes before the detail"
    );
    assert!(since.contains("Before the first session"), "{since}");
    assert!(
        since.contains("href=\"#shared-heading\">0 pieces of writing shared with you</a></li>"),
        "{since}"
    );

    let (status, _) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": "For Dr. Priya before Thursday", "audience": "therapist"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, answer) = app
        .api_post(
            Some(&mo),
            "/api/v1/exercises/trust-in-daily-life/responses",
            json!({"body": "Being asked, not told.", "audience": "therapist"}),
        )
        .await;
    assert!(status.is_success(), "{answer}");
    let again = page_text(priya.get(app.url(&path)).send().await.unwrap()).await;
    let since = &again[again.find("id=\"since-heading\"").unwrap()..];
    let since = &since[..since.find("</section>").unwrap()];
    assert!(
        since.contains("2 pieces of writing shared with you</a>, 2 new since you last looked"),
        "{since}"
    );
    let shared = &again[again.find("id=\"shared-heading\"").unwrap()..];
    assert!(
        shared.contains("Answers “"),
        "shared answers name their exercise: {shared}"
    );
}

/// Before the table, the caseload says in plain lines what waits for the
/// therapist: screening decisions, check-in changes, messages, new writing.
async fn the_caseload_opens_with_what_waits_for_the_therapist(app: TestApp) {
    let priya = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let waiting = |page: String| {
        let at = page.find("id=\"waiting-heading\"").expect("the summary");
        let end = at + page[at..].find("</section>").unwrap();
        assert!(
            end < page.find("<table").unwrap(),
            "the summary comes first"
        );
        page[at..end].to_owned()
    };
    let before = waiting(page_text(priya.get(app.url("/caseload")).send().await.unwrap()).await);
    // Noor & Kai took the safety check and wait for Dr. Priya's decision;
    // Alex & Sam have not taken it yet
    assert!(
        before.contains("2 couples are waiting on screening before joint work"),
        "{before}"
    );
    assert!(!before.contains("message"), "nothing unread yet: {before}");
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (status, _) = app
        .api_post(
            Some(&sam),
            "/api/v1/messages",
            json!({"thread": "couple", "body": "See you Thursday."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let after = waiting(page_text(priya.get(app.url("/caseload")).send().await.unwrap()).await);
    assert!(after.contains(" new message"), "{after}");
}
