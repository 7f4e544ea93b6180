//! Measures: instruments as published, scoring, sharing under consent,
//! alerts on constructed histories, charts.

use reqwest::StatusCode;
use serde_json::{Value, json};
use trellis_core::time::DAY;

use crate::helpers::{DEMO_PASSWORD, TestApp, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    a_ready_check_in_is_mailed_at_most_weekly,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    instruments_are_served_as_published,
    measures_score_and_refuse_bad_answers_whole,
    scores_reach_the_partner_and_therapist_only_by_choice,
    alerts_fire_on_a_constructed_history,
    charts_show_trends_with_their_numbers,
    charts_speak_plainly_and_time_readings_that_share_a_day,
);

fn all(value: i64, items: &[&str]) -> Value {
    let map: serde_json::Map<String, Value> = items
        .iter()
        .map(|id| ((*id).to_owned(), json!(value)))
        .collect();
    json!({"answers": map})
}

const CSI4: [&str; 4] = ["1", "5", "7", "10"];

async fn instruments_are_served_as_published(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let (_, list) = app.api_get(&alex, "/api/v1/instruments").await;
    let ids: Vec<&str> = list["instruments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    for id in ["csi16", "csi4", "trust-pulse"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let (_, csi16) = app.api_get(&alex, "/api/v1/instruments/csi16").await;
    assert_eq!(csi16["range"], json!([0, 81]));
    assert_eq!(csi16["cutoff"], 51.5);
    assert!(csi16["citation"].as_str().unwrap().contains("Funk"));
    let items = csi16["items"].as_array().unwrap();
    assert_eq!(items.len(), 16);
    assert_eq!(
        items[0]["text"],
        "Please indicate the degree of happiness, all things considered, of your relationship."
    );
    assert_eq!(
        items[1]["options"][0],
        json!({"value": 5, "label": "All the time"}),
        "left to right as on the form"
    );
    assert_eq!(items[10]["text"], "INTERESTING — BORING");
    assert_eq!(items[10]["options"][0]["value"], 5);
    assert_eq!(
        items[11]["options"][0]["value"], 0,
        "BAD — GOOD starts at 0"
    );
    let (_, csi4) = app.api_get(&alex, "/api/v1/instruments/csi4").await;
    assert_eq!(csi4["range"], json!([0, 21]));
    assert_eq!(csi4["cutoff"], 13.5);
    let (_, pulse) = app.api_get(&alex, "/api/v1/instruments/trust-pulse").await;
    assert_eq!(pulse["kind"], "check_in");
    assert_eq!(
        app.api_get(&alex, "/api/v1/instruments/phq9").await.0,
        StatusCode::NOT_FOUND
    );
}

async fn measures_score_and_refuse_bad_answers_whole(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let (_, mine) = app.api_get(&alex, "/api/v1/me/measures").await;
    assert_eq!(
        mine["due"],
        json!(["csi16", "trust-pulse"]),
        "the baseline first"
    );
    // Bad answers: which item and why; nothing saved.
    let mut missing = all(3, &CSI4);
    missing["answers"].as_object_mut().unwrap().remove("7");
    let (status, error) = app
        .api_post(Some(&alex), "/api/v1/measures/csi4", missing)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Item 7"),
        "{error}"
    );
    let (status, error) = app
        .api_post(Some(&alex), "/api/v1/measures/csi4", all(9, &CSI4))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not one of")
    );
    let (status, _) = app
        .api_post(Some(&alex), "/api/v1/measures/phq9", all(1, &CSI4))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown instrument"
    );
    let (_, mine) = app.api_get(&alex, "/api/v1/me/measures").await;
    assert!(
        mine["mine"]["trends"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["points"].as_array().unwrap().is_empty())
    );

    // All minimum, all maximum, and a mixed pattern of the CSI-4, by hand.
    let (status, low) = app
        .api_post(Some(&alex), "/api/v1/measures/csi4", all(0, &CSI4))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (low["score"].as_i64(), low["band"].as_str()),
        (Some(0), Some("below_cutoff"))
    );
    assert_eq!(low["range"], json!([0, 21]));
    assert!(
        low["reliable_change"].is_null(),
        "no published parameters, no RCI"
    );
    let mut max = all(5, &CSI4);
    max["answers"]["1"] = json!(6);
    let (_, high) = app
        .api_post(Some(&alex), "/api/v1/measures/csi4", max)
        .await;
    assert_eq!(
        (high["score"].as_i64(), high["band"].as_str()),
        (Some(21), Some("at_or_above_cutoff"))
    );
    assert_eq!(high["change_from_baseline"], 21);
    let mixed = json!({"answers": {"1": 3, "5": 2, "7": 4, "10": 3}});
    let (_, third) = app
        .api_post(Some(&alex), "/api/v1/measures/csi4", mixed)
        .await;
    assert_eq!(third["score"], 12);
    assert_eq!(third["change_from_last"], -9);
    // The trust pulse with a private note.
    let pulse = json!({"answers": {"security": 6, "reliability": 5, "respect": 8}, "note": "A better week."});
    let (status, result) = app
        .api_post(Some(&alex), "/api/v1/measures/trust-pulse", pulse)
        .await;
    assert_eq!(
        (status, result["score"].as_i64()),
        (StatusCode::CREATED, Some(19))
    );
    let csi16: Vec<&str> = (1..=16)
        .map(|n| Box::leak(n.to_string().into_boxed_str()) as &str)
        .collect();
    let mut baseline = all(3, &csi16);
    baseline["answers"]["1"] = json!(4);
    let (_, result) = app
        .api_post(Some(&alex), "/api/v1/measures/csi16", baseline)
        .await;
    assert_eq!(result["score"], 49, "3 × 15 + 4");
    let (_, mine) = app.api_get(&alex, "/api/v1/me/measures").await;
    assert_eq!(mine["due"], json!([]));
    // The private note is the author's: in their export, nowhere else.
    let (_, export) = app.api_get(&alex, "/api/v1/me/export").await;
    assert!(
        export["measures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["note"] == "A better week.")
    );
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (_, sams) = app.api_get(&sam, "/api/v1/me/export").await;
    assert!(!sams.to_string().contains("A better week."));
}

async fn scores_reach_the_partner_and_therapist_only_by_choice(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    app.api_post(Some(&alex), "/api/v1/measures/csi4", all(4, &CSI4))
        .await;
    let couple = app.api_get(&alex, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let visible = |progress: &Value, name: &str| {
        progress["partners"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["visible"].as_bool().unwrap())
    };
    let (_, progress) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/progress"))
        .await;
    assert_eq!(visible(&progress, "Alex"), Some(false), "no consent yet");
    assert!(!progress.to_string().contains("\"score\""));
    let (_, sams) = app.api_get(&sam, "/api/v1/me/measures").await;
    assert_eq!(sams["partner"]["visible"], false);

    let response = reqwest::Client::new()
        .post(app.url("/api/v1/me/measures/sharing"))
        .bearer_auth(&alex)
        .json(&json!({"therapist": true, "partner": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (_, progress) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/progress"))
        .await;
    assert_eq!(visible(&progress, "Alex"), Some(true));
    let (_, sams) = app.api_get(&sam, "/api/v1/me/measures").await;
    assert_eq!(sams["partner"]["visible"], false, "the partner still not");
    reqwest::Client::new()
        .post(app.url("/api/v1/me/measures/sharing"))
        .bearer_auth(&alex)
        .json(&json!({"therapist": true, "partner": true}))
        .send()
        .await
        .unwrap();
    let (_, sams) = app.api_get(&sam, "/api/v1/me/measures").await;
    assert_eq!(sams["partner"]["visible"], true);
    // Another therapist never.
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        app.api_get(&tom, &format!("/api/v1/couples/{couple}/progress"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

async fn alerts_fire_on_a_constructed_history(app: TestApp) {
    let riley = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    for token in [&riley, &jordan] {
        reqwest::Client::new()
            .post(app.url("/api/v1/me/measures/sharing"))
            .bearer_auth(token)
            .json(&json!({"therapist": true}))
            .send()
            .await
            .unwrap();
    }
    // Riley: three weekly CSI-4s below the cutoff, the last three weeks ago; Jordan steady.
    let now = trellis_web::state::system_now();
    for (weeks_ago, riley_score, jordan_score) in [(5, 2, 3), (4, 2, 3), (3, 1, 4)] {
        for (token, value) in [(&riley, riley_score), (&jordan, jordan_score)] {
            let (_, result) = app
                .api_post(Some(token), "/api/v1/measures/csi4", all(value, &CSI4))
                .await;
            trellis_store::testing::backdate_measure(
                &app.store,
                result["id"].as_str().unwrap(),
                now - weeks_ago * 7 * DAY,
            )
            .await
            .unwrap();
        }
    }
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let couple = app.api_get(&riley, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, progress) = app
        .api_get(&tom, &format!("/api/v1/couples/{couple}/progress"))
        .await;
    let alerts = progress["alerts"].as_array().unwrap();
    let kinds: Vec<&str> = alerts.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"below_cutoff"), "{alerts:?}");
    assert!(kinds.contains(&"missed_check_ins"), "{alerts:?}");
    assert!(kinds.contains(&"widening_gap"), "{alerts:?}");
    let below = alerts.iter().find(|a| a["kind"] == "below_cutoff").unwrap();
    assert!(below["reason"].as_str().unwrap().contains("Riley"));
    // Partners do not get the therapist's alerts.
    let (_, own) = app
        .api_get(&riley, &format!("/api/v1/couples/{couple}/progress"))
        .await;
    assert!(own["alerts"].as_array().unwrap().is_empty());
    // The caseload puts the couple needing attention first.
    let page = app
        .browser_login("therapist2@example.com", DEMO_PASSWORD)
        .await;
    let caseload = page_text(page.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(caseload.contains("to look at"));
}

async fn charts_show_trends_with_their_numbers(app: TestApp) {
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    reqwest::Client::new()
        .post(app.url("/api/v1/me/measures/sharing"))
        .bearer_auth(&sam)
        .json(&json!({"therapist": true}))
        .send()
        .await
        .unwrap();
    for value in [2, 3, 4] {
        app.api_post(Some(&sam), "/api/v1/measures/csi4", all(value, &CSI4))
            .await;
    }
    let browser = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let html = page_text(browser.get(app.url("/measures")).send().await.unwrap()).await;
    assert!(html.contains("role=\"img\"") && html.contains("CSI-4 over time"));
    assert!(
        html.contains("<td>8</td>") && html.contains("<td>12</td>") && html.contains("<td>16</td>"),
        "the numbers are in a table"
    );
    let form = page_text(browser.get(app.url("/measures/csi4")).send().await.unwrap()).await;
    assert!(form.contains(
        "Please indicate the degree of happiness, all things considered, of your relationship."
    ));
    assert!(form.contains("Funk, J. L., & Rogge, R. D. (2007)"));
    let refused = app
        .submit(
            &browser,
            "/measures/csi4",
            "/measures/csi4",
            &[("item_1", "3")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let priya = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let couple = app.api_get(&sam, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = page_text(
        priya
            .get(app.url(&format!("/caseload/couples/{couple}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        page.contains("CSI-4 over time")
            && page.contains("Alex has not chosen to share their scores")
    );
    let report = priya
        .get(app.url(&format!("/caseload/couples/{couple}/report")))
        .send()
        .await
        .unwrap();
    assert_eq!(report.status(), StatusCode::OK);
    assert!(
        page_text(report)
            .await
            .contains("Progress report: Alex & Sam")
    );
}

/// A check-in waiting is mailed once a week at most, saying only that it is
/// ready; a partner who turned reminders off gets none.
async fn a_ready_check_in_is_mailed_at_most_weekly(app: TestApp) {
    let (_, _mo, pat, _) = crate::helpers::fresh_couple(&app).await;
    let (status, _) = reqwest::Client::new()
        .patch(app.url("/api/v1/me/settings"))
        .bearer_auth(&pat)
        .json(&json!({"notify_reminders": false}))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    let sent = trellis_web::services::measures::mail_due_checkins(&app.state)
        .await
        .unwrap();
    assert!(sent >= 2, "Mo and Pat have check-ins waiting: {sent}");
    let mail = app.last_mail_to("mo@example.org").unwrap();
    assert!(mail.contains("A short check-in is ready"), "{mail}");
    assert!(mail.contains("/measures"));
    let pats = app.last_mail_to("pat@example.org").unwrap_or_default();
    assert!(!pats.contains("check-in"), "Pat turned reminders off");
    let again = trellis_web::services::measures::mail_due_checkins(&app.state)
        .await
        .unwrap();
    assert_eq!(again, 0, "not twice in a week");
}

/// Partners read what a chart measures and what its dashed line means in
/// plain words; two check-ins on one day are told apart by their time.
async fn charts_speak_plainly_and_time_readings_that_share_a_day(app: TestApp) {
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    for value in [1, 2] {
        let (status, _) = app
            .api_post(Some(&sam), "/api/v1/measures/csi4", all(value, &CSI4))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let browser = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let html = page_text(browser.get(app.url("/measures")).send().await.unwrap()).await;
    assert!(
        html.contains("How happy you feel together: CSI-4 over time"),
        "the title says what is measured"
    );
    assert!(
        html.contains("The dashed line: Scores under 13.5 are common"),
        "the cutoff is explained"
    );
    let csi4 = &html[html.find("CSI-4 over time: the numbers").unwrap()..];
    let table = &csi4[..csi4.find("</table>").unwrap()];
    let timed: Vec<&str> = table
        .split("<tr><td>")
        .skip(1)
        .map(|row| &row[..row.find("</td>").unwrap()])
        .filter(|date| {
            date.rsplit_once(", ")
                .is_some_and(|(_, time)| time.len() == 5 && time.as_bytes()[2] == b':')
        })
        .collect();
    assert!(
        timed.len() >= 2,
        "today's two check-ins carry their times: {table}"
    );
}
