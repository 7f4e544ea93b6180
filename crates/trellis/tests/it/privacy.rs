//! Private by default, shared by choice; encrypted at rest.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DEMO_PASSWORD, TestApp, page_text};
use crate::on_both_backends;

on_both_backends!(with_demo =>
    entries_are_private_by_default_and_shared_by_choice,
    only_the_author_changes_the_audience_and_changes_are_recorded,
    therapists_opening_writing_is_audited,
    journal_pages_show_who_can_see_each_entry,
    writing_is_unreadable_in_the_database,
    a_key_rotation_keeps_everything_readable,
    bad_writing_input_is_refused_clearly,
    the_journal_list_pages_with_a_cursor,
);

async fn tokens(app: &TestApp, emails: &[&str]) -> Vec<String> {
    let mut tokens = Vec::new();
    for email in emails {
        tokens.push(app.api_login(email, DEMO_PASSWORD).await);
    }
    tokens
}

async fn write(app: &TestApp, token: &str, body: &str, audience: Option<&str>) -> String {
    let mut request = json!({"body": body});
    if let Some(audience) = audience {
        request["audience"] = json!(audience);
    }
    let (status, created) = app.api_post(Some(token), "/api/v1/entries", request).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

async fn patch(app: &TestApp, token: &str, id: &str, audience: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/entries/{id}")))
        .bearer_auth(token)
        .json(&json!({"audience": audience}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn listed(app: &TestApp, token: &str, id: &str) -> bool {
    let (status, list) = app.api_get(token, "/api/v1/entries").await;
    assert_eq!(status, StatusCode::OK);
    list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["id"] == id)
}

async fn entries_are_private_by_default_and_shared_by_choice(app: TestApp) {
    let people = [
        "alex@example.com",
        "sam@example.com",
        "therapist@example.com",
        "jordan@example.com",
        "therapist2@example.com",
        "admin@example.com",
    ];
    let t = tokens(&app, &people).await;
    let (alex, sam, priya) = (&t[0], &t[1], &t[2]);
    let id = write(
        &app,
        alex,
        "I still think about the night you didn't call.",
        None,
    )
    .await;
    let (_, entry) = app.api_get(alex, &format!("/api/v1/entries/{id}")).await;
    assert_eq!(entry["audience"], "me", "private by default");
    assert_eq!(
        entry["body"],
        "I still think about the night you didn't call."
    );
    assert_eq!(entry["mine"], true);

    // For each audience: exactly who may read it can, through both the single read and the list.
    let expectations = [
        ("me", [true, false, false, false, false, false]),
        ("therapist", [true, false, true, false, false, false]),
        ("partner", [true, true, false, false, false, false]),
        (
            "partner_and_therapist",
            [true, true, true, false, false, false],
        ),
    ];
    for (audience, allowed) in expectations {
        if audience != "me" {
            let (status, body) = patch(&app, alex, &id, audience).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(body["audience"], audience);
        }
        for (who, (token, may)) in people.iter().zip(t.iter().zip(allowed)) {
            let (status, body) = app.api_get(token, &format!("/api/v1/entries/{id}")).await;
            let expected = if may {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(
                status, expected,
                "{who} reading an entry for {audience}: {body}"
            );
            if !may {
                assert!(
                    !body.to_string().contains("didn't call"),
                    "nothing leaks in the error"
                );
            }
            assert_eq!(
                listed(&app, token, &id).await,
                may,
                "{who} listing an entry for {audience}"
            );
        }
    }
    // Sam's own private entry stays away from Alex and the therapist.
    let sams = write(&app, sam, "A note only for me.", Some("me")).await;
    assert_eq!(
        app.api_get(alex, &format!("/api/v1/entries/{sams}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api_get(priya, &format!("/api/v1/entries/{sams}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.api_get(sam, "/api/v1/entries/not-an-id").await.0,
        StatusCode::NOT_FOUND
    );
}

async fn only_the_author_changes_the_audience_and_changes_are_recorded(app: TestApp) {
    let t = tokens(
        &app,
        &[
            "alex@example.com",
            "sam@example.com",
            "jordan@example.com",
            "therapist@example.com",
        ],
    )
    .await;
    let id = write(&app, &t[0], "Shared with Sam.", Some("partner")).await;
    // Sam can see it but did not write it: 403. Jordan cannot see it: 404.
    assert_eq!(patch(&app, &t[1], &id, "me").await.0, StatusCode::FORBIDDEN);
    assert_eq!(patch(&app, &t[2], &id, "me").await.0, StatusCode::NOT_FOUND);
    assert_eq!(patch(&app, &t[3], &id, "me").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        patch(&app, &t[0], &id, "everyone").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(patch(&app, &t[0], &id, "therapist").await.0, StatusCode::OK);
    assert_eq!(patch(&app, &t[0], &id, "me").await.0, StatusCode::OK);
    let changes = app.store.audience_changes(&id).await.unwrap();
    let steps: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c.from.as_str(), c.to.as_str()))
        .collect();
    assert_eq!(steps, [("partner", "therapist"), ("therapist", "me")]);
    // The refused attempts changed nothing.
    assert_eq!(
        app.api_get(&t[1], &format!("/api/v1/entries/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn therapists_opening_writing_is_audited(app: TestApp) {
    let t = tokens(&app, &["sam@example.com", "therapist@example.com"]).await;
    let id = write(&app, &t[0], "For our next session.", Some("therapist")).await;
    assert_eq!(
        app.api_get(&t[1], &format!("/api/v1/entries/{id}")).await.0,
        StatusCode::OK
    );
    let sam = app
        .store
        .user_by_email(&trellis_core::EmailAddress::parse("e", "sam@example.com").unwrap())
        .await
        .unwrap()
        .unwrap()
        .user;
    let events = app.store.audit_events_about(&sam.id, 50).await.unwrap();
    let viewed: Vec<_> = events
        .iter()
        .filter(|e| e.action == "viewed_writing" && e.item_id.as_deref() == Some(id.as_str()))
        .collect();
    assert_eq!(viewed.len(), 1);
    assert_eq!(viewed[0].actor_name.as_deref(), Some("Dr. Priya Natarajan"));
}

async fn journal_pages_show_who_can_see_each_entry(app: TestApp) {
    let alex = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    let page = page_text(alex.get(app.url("/journal")).send().await.unwrap()).await;
    assert!(
        page.contains("Only you can see this."),
        "the choice explains itself"
    );
    let saved = app
        .submit(
            &alex,
            "/journal",
            "/journal",
            &[("body", "Private thought"), ("audience", "me")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let saved = app
        .submit(
            &alex,
            "/journal",
            "/journal",
            &[
                ("body", "For Priya and Sam"),
                ("audience", "partner_and_therapist"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let empty = app
        .submit(
            &alex,
            "/journal",
            "/journal",
            &[("body", "   "), ("audience", "partner")],
        )
        .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let journal = page_text(
        alex.get(app.url("/journal?saved=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(journal.contains("Private thought") && journal.contains("For Priya and Sam"));
    assert!(journal.contains("You, your partner and your therapist can see this."));

    let sam = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let sams = page_text(sam.get(app.url("/journal")).send().await.unwrap()).await;
    assert!(sams.contains("For Priya and Sam") && !sams.contains("Private thought"));

    let priya = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let caseload = page_text(priya.get(app.url("/caseload")).send().await.unwrap()).await;
    let alex_and_sam = caseload.find(">Alex & Sam<").unwrap();
    let start = caseload[..alex_and_sam]
        .rfind("/caseload/couples/")
        .unwrap();
    let couple_path: String = caseload[start..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let couple = page_text(priya.get(app.url(&couple_path)).send().await.unwrap()).await;
    let couple_section = &couple[..couple.find("Back to your caseload").unwrap_or(couple.len())];
    assert!(
        couple_section.contains("For Priya and Sam"),
        "{couple_path}: {couple_section}"
    );
    assert!(!couple_section.contains("Private thought"));
    // Another therapist cannot open this couple at all.
    let tom = app
        .browser_login("therapist2@example.com", DEMO_PASSWORD)
        .await;
    assert_eq!(
        tom.get(app.url(&couple_path))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

/// The sentence must not appear in any database file (SQLite: the main file,
/// its WAL and shared memory) or in any column (PostgreSQL).
async fn writing_is_unreadable_in_the_database(app: TestApp) {
    const SENTENCE: &str = "The secret we keep is that I read your messages in March";
    let token = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    write(&app, &token, SENTENCE, Some("partner")).await;
    let (_, list) = app.api_get(&token, "/api/v1/entries").await;
    assert!(
        list.to_string().contains(SENTENCE),
        "readable through the app"
    );

    crate::helpers::assert_sealed_at_rest(&app, SENTENCE, "entries").await;
}

async fn a_key_rotation_keeps_everything_readable(app: TestApp) {
    let token = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let id = write(&app, &token, "Before the rotation.", Some("me")).await;
    let key_file = app.data_dir.join("master.key");
    let before = trellis_crypto::Keyring::load(&key_file)
        .unwrap()
        .current_id()
        .to_owned();

    let rewrapped = trellis_web::vault::rotate_master_key(&app.store, &key_file)
        .await
        .unwrap();
    assert_eq!(rewrapped, 1, "Jordan and Riley's couple key was re-wrapped");
    let keyring = trellis_crypto::Keyring::load(&key_file).unwrap();
    assert_ne!(keyring.current_id(), before);
    for (_, master_key_id, _) in app.store.all_couple_keys().await.unwrap() {
        assert_eq!(master_key_id, keyring.current_id());
    }
    // The running server reads on, and a fresh process with the new file reads too.
    let (status, entry) = app.api_get(&token, &format!("/api/v1/entries/{id}")).await;
    assert_eq!(
        (status, entry["body"].as_str()),
        (StatusCode::OK, Some("Before the rotation."))
    );
    let fresh = trellis_web::vault::Vault::from_keyring_file(key_file.clone()).unwrap();
    let couple = entry["couple_id"].as_str().unwrap();
    let key = fresh.data_key(&app.store, couple).await.unwrap();
    let sealed = key.seal("after", "x");
    assert_eq!(key.open(&sealed, "x").unwrap(), "after");
    // New writing after the rotation works as before.
    let later = write(&app, &token, "After the rotation.", None).await;
    assert_eq!(
        app.api_get(&token, &format!("/api/v1/entries/{later}"))
            .await
            .0,
        StatusCode::OK
    );
}

async fn bad_writing_input_is_refused_clearly(app: TestApp) {
    let partner = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    for (body, field) in [
        (json!({"body": ""}), "body"),
        (json!({"body": "x".repeat(20_001)}), "body"),
        (json!({"body": "fine", "audience": "the world"}), "audience"),
    ] {
        let (status, error) = app.api_post(Some(&partner), "/api/v1/entries", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error["error"]["fields"][0]["field"], field);
    }
    let (status, _) = app
        .api_post(
            Some(&partner),
            "/api/v1/entries",
            json!({"text": "wrong key"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Staff do not write client entries.
    let therapist = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, _) = app
        .api_post(
            Some(&therapist),
            "/api/v1/entries",
            json!({"body": "hello"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Nothing refused was stored.
    let (_, list) = app.api_get(&partner, "/api/v1/entries").await;
    assert_eq!(list["entries"].as_array().unwrap().len(), 0);
}

/// `GET /api/v1/entries` pages newest first with `limit` and `before`: the
/// pages hold every entry once, in order, and a bad cursor or limit is 422.
async fn the_journal_list_pages_with_a_cursor(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    for n in 0..5 {
        let (status, _) = app
            .api_post(
                Some(&alex),
                "/api/v1/entries",
                json!({"body": format!("Paging note number {n}.")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, all) = app.api_get(&alex, "/api/v1/entries").await;
    let all_ids: Vec<Value> = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert!(all_ids.len() >= 5);
    assert!(all["next_cursor"].is_null(), "one page holds them all");
    let mut paged = Vec::new();
    let mut path = "/api/v1/entries?limit=2".to_owned();
    loop {
        let (status, page) = app.api_get(&alex, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let entries = page["entries"].as_array().unwrap();
        assert!(entries.len() <= 2);
        paged.extend(entries.iter().map(|e| e["id"].clone()));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/entries?limit=2&before={cursor}"),
            None => break,
        }
        assert!(paged.len() <= all_ids.len(), "paging does not end");
    }
    assert_eq!(paged, all_ids);
    for bad in [
        "limit=0",
        "limit=501",
        "before=nonsense",
        "before=12.not%20an%20id",
    ] {
        let (status, body) = app.api_get(&alex, &format!("/api/v1/entries?{bad}")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
}
