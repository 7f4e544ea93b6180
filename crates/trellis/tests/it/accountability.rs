//! Promises kept and noticed, consistency, agreements both sign, appreciations.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{DEMO_PASSWORD, TestApp, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    the_promises_page_starts_calm_and_keeps_its_forms_folded,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    a_promise_is_kept_and_noticed_and_counted,
    agreements_need_both_and_keep_their_history,
    appreciations_reach_the_partner,
    promise_days_follow_the_partners_own_calendar,
    the_openness_log_honours_audiences,
    a_sharp_drop_in_follow_through_alerts_the_therapist,
    missed_day_context_and_celebrations,
    rituals_are_shared_and_therapists_can_suggest_promises,
);

async fn post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    app.api_post(Some(token), path, body).await
}

async fn a_promise_is_kept_and_noticed_and_counted(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let couple = app.api_get(&alex, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Bad input is refused clearly.
    assert_eq!(
        post(
            &app,
            &alex,
            "/api/v1/commitments",
            json!({"text": "Call", "cadence": "weekly"})
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post(
            &app,
            &alex,
            "/api/v1/commitments",
            json!({"text": "Call", "cadence": "sometimes"})
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        post(
            &app,
            &priya,
            "/api/v1/commitments",
            json!({"text": "x", "cadence": "daily"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, vague) = post(
        &app,
        &alex,
        "/api/v1/commitments",
        json!({"text": "Be better", "cadence": "daily"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        vague["hint"].as_str().unwrap().contains("concrete"),
        "a gentle hint when vague"
    );
    let (_, promise) = post(
        &app,
        &alex,
        "/api/v1/commitments",
        json!({"text": "I'll text you when I leave work", "cadence": "daily"}),
    )
    .await;
    assert!(promise["hint"].is_null());
    let id = promise["id"].as_str().unwrap();

    // Nothing due has passed yet: no rate, not a zero.
    let (_, before) = app
        .api_get(&sam, &format!("/api/v1/couples/{couple}/consistency"))
        .await;
    let alex_row = before["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Alex")
        .unwrap()
        .clone();
    assert_eq!(alex_row["kept"], 0);

    let kept = |token: &str, path: &str| {
        reqwest::Client::new()
            .post(app.url(path))
            .bearer_auth(token.to_owned())
            .json(&json!({}))
            .send()
    };
    assert_eq!(
        kept(&alex, &format!("/api/v1/commitments/{id}/kept"))
            .await
            .unwrap()
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        kept(&alex, &format!("/api/v1/commitments/{id}/noticed"))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN,
        "the owner cannot notice their own promise"
    );
    assert_eq!(
        kept(&sam, &format!("/api/v1/commitments/{id}/kept"))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN,
        "only the owner keeps it"
    );
    let (status, _) = post(
        &app,
        &sam,
        &format!("/api/v1/commitments/{id}/noticed"),
        json!({"thanks": "It helps me relax in the evening."}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = post(
        &app,
        &alex,
        &format!("/api/v1/commitments/{id}/kept"),
        json!({"date": "2999-01-01"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not in the future"
    );

    let (_, consistency) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/consistency"))
        .await;
    let alex_row = consistency["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Alex")
        .unwrap();
    assert_eq!(alex_row["kept"], 1);
    assert_eq!(alex_row["noticed"], 1);
    assert_eq!(alex_row["noticed_rate"], 1.0);
    let (_, list) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/commitments"))
        .await;
    let shown = list["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap();
    assert_eq!(shown["thanks"][0], "It helps me relax in the evening.");
    // Another couple sees none of it.
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        app.api_get(&jordan, &format!("/api/v1/couples/{couple}/commitments"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        kept(&jordan, &format!("/api/v1/commitments/{id}/noticed"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // Pausing and ending.
    let (status, _) = post(
        &app,
        &alex,
        &format!("/api/v1/commitments/{id}/status"),
        json!({"status": "paused"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = post(
        &app,
        &alex,
        &format!("/api/v1/commitments/{id}/status"),
        json!({"status": "ended"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = post(
        &app,
        &alex,
        &format!("/api/v1/commitments/{id}/status"),
        json!({"status": "active"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn agreements_need_both_and_keep_their_history(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (status, proposed) = post(&app, &alex, "/api/v1/agreements", json!({"title": "Phones", "text": "We tell each other about messages from exes the same day."})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(proposed["status"], "proposed");
    let id = proposed["id"].as_str().unwrap();
    assert_eq!(
        post(
            &app,
            &alex,
            &format!("/api/v1/agreements/{id}/accept"),
            json!({})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, agreed) = post(
        &app,
        &sam,
        &format!("/api/v1/agreements/{id}/accept"),
        json!({}),
    )
    .await;
    assert_eq!(
        (status, agreed["status"].as_str()),
        (StatusCode::OK, Some("agreed"))
    );
    assert_eq!(
        post(
            &app,
            &sam,
            &format!("/api/v1/agreements/{id}/accept"),
            json!({})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    // A new version needs both again; the old one stays in the history.
    let (_, v2) = post(&app, &sam, "/api/v1/agreements", json!({"title": "Phones", "text": "Same day, and we show the message if asked.", "replaces": id})).await;
    let v2 = v2["id"].as_str().unwrap();
    post(
        &app,
        &alex,
        &format!("/api/v1/agreements/{v2}/accept"),
        json!({}),
    )
    .await;
    let couple = app.api_get(&alex, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (_, list) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/agreements"))
        .await;
    let statuses: Vec<&str> = list["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["superseded", "agreed"]);
    assert_eq!(list["agreements"][1]["agreed_by"], "Alex");
    let (_, milestones) = app
        .api_get(&alex, &format!("/api/v1/couples/{couple}/milestones"))
        .await;
    assert!(milestones.to_string().contains("first_agreement"));
}

async fn appreciations_reach_the_partner(app: TestApp) {
    let riley = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let jordan_browser = app.browser_login("jordan@example.com", DEMO_PASSWORD).await;
    let (status, _) = post(
        &app,
        &riley,
        "/api/v1/appreciations",
        json!({"body": "Thank you for cooking on my late day."}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, export) = app
        .api_get(
            &app.api_login("jordan@example.com", DEMO_PASSWORD).await,
            "/api/v1/me/export",
        )
        .await;
    assert!(export.to_string().contains("cooking on my late day"));
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (_, entries) = app.api_get(&tom, "/api/v1/entries").await;
    assert!(
        !entries.to_string().contains("cooking"),
        "not shared with the therapist unless chosen"
    );
    let page = page_text(
        jordan_browser
            .get(app.url("/promises"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains("Make a promise") && page.contains("Propose an agreement"));
    let made = app
        .submit(
            &jordan_browser,
            "/promises",
            "/promises",
            &[
                ("text", "I'll put my phone away at dinner"),
                ("cadence", "weekly"),
                ("days", "mon"),
                ("days", "thu"),
            ],
        )
        .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let page = page_text(
        jordan_browser
            .get(app.url("/promises?done=promised"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains("every Mon, Thu") && page.contains("put my phone away"));
}

async fn the_openness_log_honours_audiences(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (status, _) = post(
        &app,
        &alex,
        "/api/v1/openness",
        json!({"body": "I told you about the message before you asked.", "audience": "partner"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    post(
        &app,
        &alex,
        "/api/v1/openness",
        json!({"body": "Private note about being open"}),
    )
    .await;
    let (_, seen) = app.api_get(&sam, "/api/v1/openness").await;
    let text = seen.to_string();
    assert!(
        text.contains("before you asked") && !text.contains("Private note"),
        "{text}"
    );
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (_, theirs) = app.api_get(&priya, "/api/v1/openness").await;
    assert!(
        !theirs.to_string().contains("before you asked"),
        "shared with the partner only"
    );
}

async fn a_sharp_drop_in_follow_through_alerts_the_therapist(app: TestApp) {
    use trellis_core::time::DAY;
    let riley = app
        .store
        .user_by_email(&trellis_core::EmailAddress::parse("e", "riley@example.com").unwrap())
        .await
        .unwrap()
        .unwrap()
        .user;
    let couple = riley.couple_id.clone().unwrap();
    let today = trellis_web::services::accountability::today_for(&app.state, &riley)
        .await
        .unwrap();
    let id = trellis_store::new_id();
    let sealed = app
        .state
        .vault()
        .seal(
            &app.store,
            &couple,
            "I'll call at lunch",
            &format!("promise:{id}"),
        )
        .await
        .unwrap();
    app.store
        .insert_promise(
            &id,
            &couple,
            &riley.id,
            &sealed,
            r#"{"cadence":"daily"}"#,
            today - 56,
            None,
            (today - 56) * DAY,
        )
        .await
        .unwrap();
    // Kept every day of the four weeks before, and only a few days of these four.
    for day in (today - 56)..=(today - 28) {
        app.store.mark_kept(&id, day, day * DAY).await.unwrap();
    }
    for day in [today - 20, today - 10] {
        app.store.mark_kept(&id, day, day * DAY).await.unwrap();
    }
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (_, progress) = app
        .api_get(&tom, &format!("/api/v1/couples/{couple}/progress"))
        .await;
    let alert = progress["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "follow_through_drop")
        .expect("an alert");
    assert!(
        alert["reason"]
            .as_str()
            .unwrap()
            .contains("Riley's follow-through on promises fell from 100%"),
        "{alert}"
    );
    let (_, consistency) = app
        .api_get(&tom, &format!("/api/v1/couples/{couple}/consistency"))
        .await;
    let row = consistency["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Riley")
        .unwrap();
    assert_eq!(row["previous_follow_through_rate"], 1.0);
    // The partners see their rates in kind words, never as a broken streak.
    let page = app.browser_login("riley@example.com", DEMO_PASSWORD).await;
    let html = page_text(page.get(app.url("/promises")).send().await.unwrap()).await;
    assert!(
        html.contains("a start: small steps count")
            && !html.to_lowercase().contains("streak broken")
    );
}

async fn missed_day_context_and_celebrations(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (_, promise) = post(
        &app,
        &alex,
        "/api/v1/commitments",
        json!({"text": "I'll walk the dog before work", "cadence": "daily"}),
    )
    .await;
    let id = promise["id"].as_str().unwrap();
    let (status, _) = post(
        &app,
        &alex,
        &format!("/api/v1/commitments/{id}/context"),
        json!({"body": "My back hurt today.", "audience": "therapist"}),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        post(
            &app,
            &sam,
            &format!("/api/v1/commitments/{id}/context"),
            json!({"body": "x"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            &app,
            &alex,
            &format!("/api/v1/commitments/{id}/context"),
            json!({"body": "x", "audience": "partner"})
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let couple = app.api_get(&alex, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (_, for_therapist) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/commitments"))
        .await;
    assert!(for_therapist.to_string().contains("My back hurt today."));
    let (_, for_partner) = app
        .api_get(&sam, &format!("/api/v1/couples/{couple}/commitments"))
        .await;
    assert!(
        !for_partner.to_string().contains("My back hurt"),
        "never the partner"
    );
    // A first agreement is celebrated in both partners' space; the nudge to appreciate shows until one is written.
    let (_, proposed) = post(
        &app,
        &alex,
        "/api/v1/agreements",
        json!({"title": "Evenings", "text": "Phones away after nine."}),
    )
    .await;
    post(
        &app,
        &sam,
        &format!(
            "/api/v1/agreements/{}/accept",
            proposed["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    let browser = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let home = page_text(browser.get(app.url("/our-space")).send().await.unwrap()).await;
    assert!(
        home.contains("Worth celebrating") && home.contains("first agreement"),
        "{home}"
    );
}

async fn rituals_are_shared_and_therapists_can_suggest_promises(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let couple = app.api_get(&alex, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A ritual either partner ticks off; nobody "notices" it.
    let (status, ritual) = post(
        &app,
        &alex,
        "/api/v1/rituals",
        json!({"text": "Ten minutes of talk after dinner", "cadence": "daily"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let ritual = ritual["id"].as_str().unwrap();
    assert_eq!(
        post(
            &app,
            &sam,
            &format!("/api/v1/commitments/{ritual}/kept"),
            json!({})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(
            &app,
            &sam,
            &format!("/api/v1/commitments/{ritual}/noticed"),
            json!({})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    // The therapist suggests; only the named partner takes it on.
    let sam_id = app.api_get(&sam, "/api/v1/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, proposal) = post(
        &app,
        &priya,
        &format!("/api/v1/couples/{couple}/proposals"),
        json!({"partner_id": sam_id, "text": "I'll say goodnight before bed", "cadence": "daily"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{proposal}");
    let proposal = proposal["id"].as_str().unwrap();
    assert_eq!(
        post(
            &app,
            &sam,
            &format!("/api/v1/commitments/{proposal}/kept"),
            json!({})
        )
        .await
        .0,
        StatusCode::CONFLICT,
        "take it on first"
    );
    assert_eq!(
        post(
            &app,
            &alex,
            &format!("/api/v1/commitments/{proposal}/accept"),
            json!({})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(
            &app,
            &sam,
            &format!("/api/v1/commitments/{proposal}/accept"),
            json!({})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post(
            &app,
            &sam,
            &format!("/api/v1/commitments/{proposal}/kept"),
            json!({})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        post(
            &app,
            &tom,
            &format!("/api/v1/couples/{couple}/proposals"),
            json!({"partner_id": sam_id, "text": "x y z", "cadence": "daily"})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // Rituals do not count in one partner's follow-through.
    let (_, consistency) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/consistency"))
        .await;
    let alex_row = consistency["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Alex")
        .unwrap();
    assert_eq!(alex_row["due"], 0);
    let sam_row = consistency["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Sam")
        .unwrap();
    assert_eq!(sam_row["kept"], 1);
    let page = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let html = page_text(page.get(app.url("/promises")).send().await.unwrap()).await;
    assert!(html.contains("Rituals together") && html.contains("Ten minutes of talk after dinner"));
}

/// A new couple's promises page says kindly that nothing is there yet, under
/// each heading, and folds the forms for rituals, agreements and openness
/// away (the promise form, the page's first job, stays open).
async fn the_promises_page_starts_calm_and_keeps_its_forms_folded(app: TestApp) {
    crate::couples::self_guided_pair(&app).await;
    let robin = app
        .browser_login("robin@example.org", "a long password")
        .await;
    let page = page_text(robin.get(app.url("/promises")).send().await.unwrap()).await;
    assert!(page.contains("None yet. One small promise, kept"), "{page}");
    assert!(page.contains("Quinn has not made a promise here yet."));
    for summary in [
        "<summary>Start a ritual</summary>",
        "<summary>Propose an agreement</summary>",
        "<summary>Add to the openness log</summary>",
    ] {
        let at = page.find(summary).unwrap_or_else(|| panic!("{summary}"));
        assert!(
            page[..at].ends_with("<details class=\"card\">\n"),
            "{summary} folded"
        );
    }
    assert!(page.contains("<form class=\"stack card\" method=\"post\" action=\"/promises\">"));
    assert!(
        page.contains("<fieldset class=\"when-weekly\">")
            && page.contains("<div class=\"when-once\">")
    );
}

/// A promise is kept on the partner's own calendar day, not UTC's: in a zone
/// whose date differs from UTC's right now, "today" is the local date.
async fn promise_days_follow_the_partners_own_calendar(app: TestApp) {
    use trellis_core::time::{DAY, HOUR, utc_date};
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let now = trellis_web::state::system_now();
    // a zone a day ahead of UTC, or a day behind, whichever differs now
    let (zone, local_offset) = if (now / HOUR) % 24 >= 10 {
        ("Pacific/Kiritimati", DAY)
    } else {
        ("Pacific/Pago_Pago", -DAY)
    };
    let settings = app
        .send(
            Some(&alex),
            reqwest::Method::PATCH,
            "/api/v1/me/settings",
            Some(json!({"time_zone": zone})),
        )
        .await;
    assert_eq!(settings.status(), StatusCode::OK);
    let (status, made) = post(
        &app,
        &alex,
        "/api/v1/commitments",
        json!({"text": "Text when I leave work", "cadence": "daily"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    let kept = format!("/api/v1/commitments/{id}/kept");
    let local_today = utc_date(now + local_offset);
    let utc_today = utc_date(now);
    if local_offset > 0 {
        // already tomorrow by UTC's calendar, but today here
        let (status, body) = post(&app, &alex, &kept, json!({"date": local_today})).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    } else {
        // UTC's today has not come yet here
        let (status, _) = post(&app, &alex, &kept, json!({"date": utc_today})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, body) = post(&app, &alex, &kept, json!({})).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let couple = app.api_get(&alex, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, list) = app
        .api_get(&alex, &format!("/api/v1/couples/{couple}/commitments"))
        .await;
    let promise = list["commitments"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .find(|p| p["id"] == id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(promise["kept_today"], true, "{promise}");
    // a one-time promise for the local today is not "in the past"
    let (status, body) = post(
        &app,
        &alex,
        "/api/v1/commitments",
        json!({"text": "Book the table", "cadence": "once", "due": local_today}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let yesterday_here = utc_date(now + local_offset - DAY);
    let (status, _) = post(
        &app,
        &alex,
        "/api/v1/commitments",
        json!({"text": "Book the table", "cadence": "once", "due": yesterday_here}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
