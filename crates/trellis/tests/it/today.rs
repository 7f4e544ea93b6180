//! "Today": `GET /api/v1/me/today` and the home page list what waits on a
//! partner, most pressing first, and nothing that involves the other
//! partner while shared work is closed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DEMO_PASSWORD, TestApp, fresh_couple, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    today_lists_what_waits_in_order_of_need,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    the_demo_home_shows_what_waits,
);

/// The pinned order of kinds.
const ORDER: [&str; 8] = [
    "talk",
    "compromise",
    "paired",
    "reflect_back",
    "homework",
    "check_in",
    "agreement",
    "message",
];

async fn today(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app.api_get(token, "/api/v1/me/today").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

fn kinds(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["kind"].as_str().unwrap()).collect()
}

fn find<'a>(items: &'a [Value], kind: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {items:?}"))
}

async fn created(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let (status, response) = app.api_post(Some(token), path, body).await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {response}");
    response
}

async fn today_lists_what_waits_in_order_of_need(app: TestApp) {
    let (couple, mo, pat, priya) = fresh_couple(&app).await;
    // a new partner has only the first check-ins waiting
    let first = today(&app, &mo).await;
    assert!(!first.is_empty());
    for item in &first {
        assert_eq!(item["kind"], "check_in", "{first:?}");
        assert!(item["href"].as_str().unwrap().starts_with("/measures/"));
    }

    // Pat opens a talk and speaks: Mo is to say back what they heard
    let talk = created(
        &app,
        &pat,
        "/api/v1/talks",
        json!({"topic": "Sunday mornings"}),
    )
    .await;
    let talk_id = talk["id"].as_str().unwrap();
    assert!(
        !kinds(&today(&app, &mo).await).contains(&"talk"),
        "Pat has the floor: nothing waits on Mo yet"
    );
    assert_eq!(
        kinds(&today(&app, &pat).await)[0],
        "talk",
        "Pat has the floor"
    );
    created(
        &app,
        &pat,
        &format!("/api/v1/talks/{talk_id}/turns"),
        json!({"kind": "speak", "body": "I miss slow Sunday mornings with you."}),
    )
    .await;
    // Pat circles a compromise and answers a paired question; Mo has not
    let compromise = created(
        &app,
        &pat,
        "/api/v1/compromises",
        json!({"topic": "Holidays"}),
    )
    .await;
    assert!(
        kinds(&today(&app, &pat).await).contains(&"compromise"),
        "the opener's circles wait too"
    );
    created(
        &app,
        &pat,
        &format!(
            "/api/v1/compromises/{}/circles",
            compromise["id"].as_str().unwrap()
        ),
        json!({"core": "Time with family", "flexible": "Which week"}),
    )
    .await;
    created(
        &app,
        &pat,
        "/api/v1/exercises/boundaries-we-need/responses",
        json!({"body": "Phones away at dinner.", "audience": "partner_and_therapist"}),
    )
    .await;
    // homework with a date, an agreement to accept, a message
    created(
        &app,
        &priya,
        &format!("/api/v1/couples/{couple}/assignments"),
        json!({"exercise_id": "patterns-i-recognise", "due": "2026-12-10", "note": "Before Thursday"}),
    )
    .await;
    created(
        &app,
        &pat,
        "/api/v1/agreements",
        json!({"title": "Evenings", "text": "Phones away after nine."}),
    )
    .await;
    created(
        &app,
        &pat,
        "/api/v1/messages",
        json!({"thread": "couple", "body": "Could we talk on Sunday?"}),
    )
    .await;

    let items = today(&app, &mo).await;
    let got = kinds(&items);
    for kind in [
        "talk",
        "compromise",
        "paired",
        "homework",
        "check_in",
        "agreement",
        "message",
    ] {
        assert!(got.contains(&kind), "{kind} missing from {items:?}");
    }
    let ranks: Vec<usize> = got
        .iter()
        .map(|k| ORDER.iter().position(|o| o == k).unwrap())
        .collect();
    assert!(ranks.is_sorted(), "not in order of need: {got:?}");
    let talk_item = find(&items, "talk");
    assert_eq!(talk_item["href"], format!("/talks/{talk_id}#current-move"));
    assert!(
        talk_item["title"]
            .as_str()
            .unwrap()
            .contains("Sunday mornings")
    );
    assert_eq!(
        find(&items, "paired")["href"],
        "/journey/boundaries-we-need"
    );
    let homework = find(&items, "homework");
    assert_eq!(homework["due_at"], "2026-12-10");
    assert_eq!(homework["href"], "/journey/patterns-i-recognise");
    assert!(find(&items, "talk").get("due_at").is_none());
    assert_eq!(find(&items, "message")["title"], "1 new message");
    // what Pat did does not wait on Pat
    let pat_items = today(&app, &pat).await;
    for kind in ["talk", "compromise", "paired", "agreement", "message"] {
        assert!(
            !kinds(&pat_items).contains(&kind),
            "{kind} in {pat_items:?}"
        );
    }

    // the home page leads with the same list
    let mo_page = app.browser_login("mo@example.org", "a long password").await;
    let home = page_text(mo_page.get(app.url("/our-space")).send().await.unwrap()).await;
    assert!(home.contains("id=\"today-heading\""), "{home}");
    assert!(home.contains(&format!("href=\"/talks/{talk_id}#current-move\"")));
    assert!(home.contains("due Thursday 10 December"), "{home}");
    // the link lands on the move itself
    let talk_page = page_text(
        mo_page
            .get(app.url(&format!("/talks/{talk_id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(talk_page.contains("id=\"current-move\""));

    // Mo answers: the paired item goes
    created(
        &app,
        &mo,
        "/api/v1/exercises/boundaries-we-need/responses",
        json!({"body": "Time alone on Saturdays.", "audience": "partner_and_therapist"}),
    )
    .await;
    assert!(!kinds(&today(&app, &mo).await).contains(&"paired"));

    // shared work closed: nothing that involves Pat is listed, the rest stays
    let (status, _) = app
        .api_post(Some(&mo), "/api/v1/shared-work/pause", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let paused = today(&app, &mo).await;
    for kind in ["talk", "compromise", "paired", "reflect_back", "agreement"] {
        assert!(
            !kinds(&paused).contains(&kind),
            "{kind} while paused: {paused:?}"
        );
    }
    assert!(kinds(&paused).contains(&"message"), "{paused:?}");
    let pat_paused = today(&app, &pat).await;
    assert!(!kinds(&pat_paused).contains(&"talk"), "{pat_paused:?}");

    // staff have nothing waiting here; no token, no list
    assert!(today(&app, &priya).await.is_empty());
    let (status, _) = app.api_get("not-a-token", "/api/v1/me/today").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn the_demo_home_shows_what_waits(app: TestApp) {
    trellis::demo::history::seed(&app.state, trellis_web::state::system_now())
        .await
        .unwrap();
    // Riley has Jordan's paired money question to answer
    let riley = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let items = today(&app, &riley).await;
    let paired = find(&items, "paired");
    assert_eq!(paired["href"], "/journey/money-and-trust");
    assert!(
        paired["title"].as_str().unwrap().contains("Jordan"),
        "{paired}"
    );
    let client = app.browser_login("riley@example.com", DEMO_PASSWORD).await;
    let home = page_text(client.get(app.url("/our-space")).send().await.unwrap()).await;
    assert!(home.contains("href=\"/journey/money-and-trust\""), "{home}");
}
