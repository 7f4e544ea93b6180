//! Safety on the appointment request (issue 13): the wish to be seen
//! separately first, and a safe way to be contacted.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DEMO_PASSWORD, TestApp, assert_sealed_at_rest, browser_client, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    a_request_to_be_seen_separately_invites_only_the_person_who_wrote,
    a_request_without_it_still_invites_both_partners,
    the_safe_contact_note_is_shown_to_the_practice_and_sealed_at_rest,
);

const SAFE_CONTACT: &str = "Email only please, never call my mobile phone";

/// Sends a request through the API and returns its id in Dr. Priya's inbox
/// with her token and the inbox entry.
async fn request(app: &TestApp, extra: Value) -> (String, String, Value) {
    let mut body = json!({
        "names": "Rowan and Kit",
        "email": "rowan@example.net",
        "partner_email": "kit@example.net",
        "preferred_times": "Mornings",
        "message": "We would like some help."
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, answer) = app.api_post(None, "/api/v1/intake", body).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, inbox) = app.api_get(&priya, "/api/v1/intake").await;
    assert_eq!(status, StatusCode::OK);
    let entry = inbox["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["email"] == "rowan@example.net")
        .expect("the request is in the inbox")
        .clone();
    (entry["id"].as_str().unwrap().to_owned(), priya, entry)
}

async fn read(app: &TestApp, client: &reqwest::Client, path: &str) -> String {
    page_text(client.get(app.url(path)).send().await.unwrap()).await
}

async fn accept(app: &TestApp, priya: &str, id: &str) -> Value {
    let partners = json!([{"name": "Rowan", "email": "rowan@example.net"}, {"name": "Kit", "email": "kit@example.net"}]);
    let (status, accepted) = app
        .api_post(
            Some(priya),
            &format!("/api/v1/intake/{id}/accept"),
            json!({"partners": partners}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{accepted}");
    accepted
}

async fn a_request_to_be_seen_separately_invites_only_the_person_who_wrote(app: TestApp) {
    let (id, priya, entry) = request(&app, json!({"seen_separately": true})).await;
    assert_eq!(entry["seen_separately"], true);

    let accepted = accept(&app, &priya, &id).await;
    let invited = accepted["invited"].as_array().unwrap();
    assert_eq!(invited.len(), 1, "{accepted}");
    assert_eq!(invited[0]["email"], "rowan@example.net");
    assert_eq!(accepted["seen_separately"], true);
    assert!(
        accepted["note"]
            .as_str()
            .unwrap()
            .contains("Their partner has not been contacted"),
        "{accepted}"
    );
    let mail = app.wait_for_mail_to("rowan@example.net").await;
    assert!(mail.contains("/invitations/"));
    assert!(
        app.last_mail_to("kit@example.net").is_none(),
        "the partner hears nothing"
    );

    // Later, the therapist decides to invite the other partner.
    let couple_id = accepted["couple_id"].as_str().unwrap();
    let (status, sent) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple_id}/invitations"),
            json!({"name": "Kit", "email": "kit@example.net"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert!(
        app.wait_for_mail_to("kit@example.net")
            .await
            .contains("/invitations/")
    );
}

async fn a_request_without_it_still_invites_both_partners(app: TestApp) {
    let (id, priya, entry) = request(&app, json!({})).await;
    assert_eq!(entry["seen_separately"], false);
    assert_eq!(entry["safe_contact"], "");

    let accepted = accept(&app, &priya, &id).await;
    assert_eq!(accepted["invited"].as_array().unwrap().len(), 2);
    assert_eq!(accepted["seen_separately"], false);
    assert!(accepted.get("note").is_none(), "{accepted}");
    for email in ["rowan@example.net", "kit@example.net"] {
        assert!(app.wait_for_mail_to(email).await.contains("/invitations/"));
    }
}

async fn the_safe_contact_note_is_shown_to_the_practice_and_sealed_at_rest(app: TestApp) {
    // The public form offers both fields.
    let practice = app.store.practices().await.unwrap()[0].id.clone();
    let form = read(
        &app,
        &browser_client(),
        &format!("/practices/{practice}/request"),
    )
    .await;
    assert!(form.contains("name=\"seen_separately\""));
    assert!(form.contains("A safe way to contact me"));

    // Too long a note is a clear 422, naming the field.
    let (status, body) = app
        .api_post(
            None,
            "/api/v1/intake",
            json!({"names": "Rowan", "email": "rowan@example.net", "safe_contact": "x".repeat(301)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"][0]["field"], "safe_contact");

    let (id, _, entry) = request(
        &app,
        json!({"seen_separately": true, "safe_contact": SAFE_CONTACT}),
    )
    .await;
    assert_eq!(entry["safe_contact"], SAFE_CONTACT);

    let priya = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let inbox = read(&app, &priya, "/intake").await;
    assert!(
        inbox.contains(SAFE_CONTACT),
        "the note is in the inbox list"
    );
    assert!(inbox.contains("Separately first"));
    let one = read(&app, &priya, &format!("/intake/{id}")).await;
    assert!(one.contains("A safe way to contact them:"));
    assert!(one.contains(SAFE_CONTACT));
    assert!(one.contains("Accept and send one invitation"));

    assert_sealed_at_rest(&app, SAFE_CONTACT, "intake_requests").await;
}
