//! `trellis loadgen`: a generated practice that signs in and reads like one
//! grown through the app, written only into an empty database.

use std::sync::Arc;

use reqwest::StatusCode;

use crate::helpers::{TestApp, page_text};
use crate::on_both_backends;

on_both_backends!(empty => a_generated_practice_reads_like_a_real_one);

const PASSWORD: &str = "scale test password 2026";

async fn a_generated_practice_reads_like_a_real_one(app: TestApp) {
    let config = trellis::config::Config {
        data_dir: app.data_dir.clone(),
        ..trellis::config::Config::default()
    };
    // the server's own key file: what loadgen seals, the server opens
    let vault =
        Arc::new(trellis_web::vault::Vault::from_keyring_file(config.master_key_file()).unwrap());
    let content = Arc::new(trellis_web::content::Content::load(None).unwrap());
    let plan = trellis::loadgen::Plan {
        couples: 41,
        weeks: 3,
    };
    let now = trellis_web::state::system_now();
    let report = trellis::loadgen::generate(
        &app.store,
        vault.clone(),
        content.clone(),
        PASSWORD,
        plan,
        now,
    )
    .await
    .unwrap();
    // 41 couples over two therapists, and three for the small caseload
    assert_eq!(report.couples, 44);
    assert_eq!(report.therapists, 3);
    assert!(report.rows > 44 * 3 * 5, "{report:?}");
    let again = trellis::loadgen::generate(&app.store, vault, content, PASSWORD, plan, now).await;
    assert!(
        again
            .unwrap_err()
            .to_string()
            .contains("already holds data")
    );

    for (email, couples) in [
        ("loadgen-therapist-1@example.com", 40),
        ("loadgen-therapist-2@example.com", 1),
        ("loadgen-therapist-small@example.com", 3),
    ] {
        let token = app.api_login(email, PASSWORD).await;
        let (status, caseload) = app.api_get(&token, "/api/v1/caseload").await;
        assert_eq!(status, StatusCode::OK, "{caseload}");
        assert_eq!(
            caseload["couples"].as_array().unwrap().len(),
            couples,
            "{email}"
        );
    }
    let therapist = app
        .api_login("loadgen-therapist-small@example.com", PASSWORD)
        .await;
    let (_, caseload) = app.api_get(&therapist, "/api/v1/caseload").await;
    let first = &caseload["couples"][0];
    assert_eq!(
        first["shared_work_open"], true,
        "screened and cleared: {first}"
    );
    let couple = first["id"].as_str().unwrap();
    // weeks of check-ins, opened with the couple's key
    let (status, progress) = app
        .api_get(&therapist, &format!("/api/v1/couples/{couple}/progress"))
        .await;
    assert_eq!(status, StatusCode::OK, "{progress}");
    let pulses = progress["partners"][0]["trends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["instrument"] == "trust-pulse")
        .unwrap_or_else(|| panic!("no trust pulse in {progress}"));
    assert_eq!(pulses["points"].as_array().unwrap().len(), 3);
    // the couple page renders, shared writing opened
    let browser = app
        .browser_login("loadgen-therapist-small@example.com", PASSWORD)
        .await;
    let response = browser
        .get(app.url(&format!("/caseload/couples/{couple}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = page_text(response).await;
    assert!(page.contains(first["partners"][0]["name"].as_str().unwrap()));

    // partners sign in and read their own writing and their promises
    let email = first["partners"][0]["email"].as_str().unwrap();
    let partner = app.api_login(email, PASSWORD).await;
    let (status, entries) = app.api_get(&partner, "/api/v1/entries?limit=50").await;
    assert_eq!(status, StatusCode::OK, "{entries}");
    let entries = entries["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["kind"] == "journal" && e["mine"] == true)
    );
    let (status, thread) = app
        .api_get(&partner, "/api/v1/messages?thread=couple")
        .await;
    assert_eq!(status, StatusCode::OK, "{thread}");
    let thread = thread.to_string();
    assert!(
        trellis::loadgen::MESSAGES
            .iter()
            .any(|m| thread.contains(m)),
        "{thread}"
    );
    assert!(
        entries
            .iter()
            .all(|e| !e["body"].as_str().unwrap().is_empty())
    );
    let (status, today) = app.api_get(&partner, "/api/v1/me/today").await;
    assert_eq!(status, StatusCode::OK, "{today}");
    let admin = app.api_login("loadgen-admin@example.com", PASSWORD).await;
    let (status, staff) = app.api_get(&admin, "/api/v1/practice/staff").await;
    assert_eq!(status, StatusCode::OK, "{staff}");
}
