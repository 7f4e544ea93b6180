//! Encryption at rest beyond client writing (issue 15): intake details,
//! scores, homework notes and two-step secrets are sealed; entries are bound
//! to their couple, author and audience; rows from before still open; data
//! keys rotate; old personal details are pruned.

use reqwest::StatusCode;
use serde_json::json;
use trellis_store::{NewIntake, StoredSealed};

use crate::helpers::{DEMO_PASSWORD, TestApp, assert_sealed_at_rest, fresh_couple};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    used_invitations_and_long_closed_requests_are_pruned,
    the_start_up_sweep_runs_once_per_database,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    intake_scores_homework_and_two_step_secrets_are_sealed_at_rest,
    an_entry_changed_in_the_database_no_longer_opens,
    rows_sealed_before_the_change_still_open_and_are_brought_up_to_date,
    a_data_key_rotation_keeps_everything_readable_and_replaces_the_keys,
);

async fn user(app: &TestApp, email: &str) -> trellis_store::User {
    app.store
        .user_by_email(&trellis_core::EmailAddress::parse("e", email).unwrap())
        .await
        .unwrap()
        .unwrap()
        .user
}

async fn write(app: &TestApp, token: &str, body: &str, audience: &str) -> String {
    let (status, entry) = app
        .api_post(
            Some(token),
            "/api/v1/entries",
            json!({"body": body, "audience": audience}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    entry["id"].as_str().unwrap().to_owned()
}

async fn set_sql(app: &TestApp, sql: &str, id: &str, new: &str, old: &str) {
    let done = app
        .store
        .replace_sealed_cell(
            sql,
            &StoredSealed::Text(new.to_owned()),
            &[id.to_owned()],
            &StoredSealed::Text(old.to_owned()),
        )
        .await
        .unwrap();
    assert!(done, "{sql} changed the row");
}

async fn entry_body(app: &TestApp, id: &str) -> Vec<u8> {
    let cells = app
        .store
        .sealed_cells("SELECT couple_id, body, id FROM entries", false)
        .await
        .unwrap();
    match &cells.iter().find(|c| c.parts[0] == id).unwrap().value {
        StoredSealed::Bytes(b) => b.clone(),
        StoredSealed::Text(_) => unreachable!(),
    }
}

async fn intake_request(app: &TestApp, names: &str, message: &str) -> String {
    let practice_id = user(app, "therapist@example.com")
        .await
        .practice_id
        .unwrap();
    let id = trellis_store::new_id();
    trellis_web::services::intake::record_request(
        &app.state,
        NewIntake {
            id: &id,
            practice_id: &practice_id,
            names,
            email: "quinn.and.river@example.org",
            partner_email: "",
            preferred_times: "Evenings",
            message,
            seen_separately: false,
            safe_contact: "",
            now: trellis_web::state::system_now(),
        },
    )
    .await
    .unwrap();
    id
}

async fn intake_sealed_at_rest_helper(app: &TestApp) {
    const MESSAGE: &str = "We have been drifting apart since the baby came";
    intake_request(app, "Quinn Montgomery & River", MESSAGE).await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, inbox) = app.api_get(&priya, "/api/v1/intake").await;
    assert_eq!(status, StatusCode::OK);
    assert!(inbox.to_string().contains(MESSAGE), "readable in the inbox");
    assert!(inbox.to_string().contains("quinn.and.river@example.org"));
    assert_sealed_at_rest(app, MESSAGE, "intake_requests").await;
    assert_sealed_at_rest(app, "Quinn Montgomery & River", "intake_requests").await;
    assert_sealed_at_rest(app, "quinn.and.river@example.org", "intake_requests").await;
}

async fn intake_scores_homework_and_two_step_secrets_are_sealed_at_rest(app: TestApp) {
    intake_sealed_at_rest_helper(&app).await;

    // Homework notes.
    const NOTE: &str = "Talk about the night of the argument at your sister's";
    let (couple, noa, _, priya) = fresh_couple(&app).await;
    let (status, _) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple}/assignments"),
            json!({"exercise_id": "patterns-i-recognise", "note": NOTE}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, journey) = app
        .api_get(&noa, &format!("/api/v1/couples/{couple}/journey"))
        .await;
    assert_eq!(journey["assignments"][0]["note"], NOTE);
    assert_sealed_at_rest(&app, NOTE, "assignments").await;

    // Scores: only the sealed copy is kept; the results still read.
    let (status, result) = app
        .api_post(
            Some(&noa),
            "/api/v1/measures/csi4",
            json!({"answers": {"1": 4, "5": 5, "7": 5, "10": 5}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    let score = result["score"].as_i64().unwrap();
    assert!(score > 0);
    let scores: Vec<(String, String, i64)> = app.store.clear_scores().await.unwrap();
    assert!(scores.is_empty(), "no score is waiting in clear");
    let sealed = app
        .store
        .sealed_cells(
            "SELECT couple_id, score_sealed, id, CAST(score AS TEXT) FROM measures",
            false,
        )
        .await
        .unwrap();
    assert!(!sealed.is_empty());
    assert!(
        sealed.iter().all(|c| c.parts[1] == "0"),
        "the plain score is 0"
    );
    let (_, mine) = app.api_get(&noa, "/api/v1/me/measures").await;
    assert!(
        mine.to_string().contains(&format!("\"score\":{score}")),
        "{mine}"
    );

    // Two-step secrets: sealed with the system key; sign-in checks still work.
    let alex = user(&app, "alex@example.com").await;
    let secret = trellis_crypto::totp::new_secret();
    let now_secs = u64::try_from(trellis_web::state::system_now() / 1000).unwrap();
    let code = trellis_crypto::totp::code_at(&secret, now_secs).unwrap();
    trellis_web::services::two_factor::enable(&app.state, &alex, &secret, &code, DEMO_PASSWORD)
        .await
        .unwrap();
    let (stored, _) = app.store.totp(&alex.id).await.unwrap().unwrap();
    assert!(stored.starts_with(trellis_web::vault::SEALED_TEXT_PREFIX));
    assert!(!stored.contains(&secret));
    assert_sealed_at_rest(&app, &secret, "users").await;
    let opened = app
        .state
        .vault()
        .open_text(
            &app.store,
            trellis_store::SYSTEM_KEY_OWNER,
            &stored,
            &trellis_web::services::two_factor::secret_context(&alex.id),
        )
        .await
        .unwrap();
    assert_eq!(opened, secret);
}

/// Flipping audience, author or couple in SQL: the entry no longer opens. A
/// single read says so plainly (410), lists leave it out; nobody gets a 500.
async fn an_entry_changed_in_the_database_no_longer_opens(app: TestApp) {
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    let riley = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let private = write(&app, &jordan, "Only for me: I still check your phone", "me").await;
    let shared = write(&app, &jordan, "For both of you", "partner").await;

    set_sql(
        &app,
        "UPDATE entries SET audience = $1 WHERE id = $2 AND audience = $3",
        &private,
        "partner",
        "me",
    )
    .await;
    let (status, body) = app
        .api_get(&riley, &format!("/api/v1/entries/{private}"))
        .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert!(!body.to_string().contains("check your phone"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("can no longer be opened")
    );
    let (status, list) = app.api_get(&riley, "/api/v1/entries").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!list.to_string().contains(&private), "left out of lists");
    assert!(
        list.to_string().contains("For both of you"),
        "the rest still shows"
    );

    // Another author: the entry does not open for anyone.
    let riley_id = user(&app, "riley@example.com").await.id;
    let jordan_id = user(&app, "jordan@example.com").await.id;
    set_sql(
        &app,
        "UPDATE entries SET author_id = $1 WHERE id = $2 AND author_id = $3",
        &shared,
        &riley_id,
        &jordan_id,
    )
    .await;
    let (status, _) = app
        .api_get(&riley, &format!("/api/v1/entries/{shared}"))
        .await;
    assert_eq!(status, StatusCode::GONE);

    // Another couple: moved to Alex and Sam's, it opens nowhere.
    let other = write(&app, &jordan, "Moved elsewhere", "partner").await;
    let jordans_couple = user(&app, "jordan@example.com").await.couple_id.unwrap();
    let alex_couple = user(&app, "alex@example.com").await.couple_id.unwrap();
    set_sql(
        &app,
        "UPDATE entries SET couple_id = $1 WHERE id = $2 AND couple_id = $3",
        &other,
        &alex_couple,
        &jordans_couple,
    )
    .await;
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    // Alex's partner Sam "wrote" nothing; Jordan's entry now in their couple
    // would show to Alex as a partner-shared entry if it opened.
    let (status, list) = app.api_get(&alex, "/api/v1/entries").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!list.to_string().contains("Moved elsewhere"));
}

async fn rows_sealed_before_the_change_still_open_and_are_brought_up_to_date(app: TestApp) {
    let riley = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let id = write(&app, &riley, "Written before the upgrade", "partner").await;
    let couple = user(&app, "riley@example.com").await.couple_id.unwrap();
    // Seal it the old way: no version header, bound to the id only.
    let vault = app.state.vault();
    let key = vault.data_key(&app.store, &couple).await.unwrap();
    let legacy = key.seal("Written before the upgrade", &format!("entry:{id}"));
    assert_eq!(trellis_crypto::sealed_version(&legacy), None);
    let current = entry_body(&app, &id).await;
    assert!(
        app.store
            .replace_sealed_cell(
                "UPDATE entries SET body = $1 WHERE id = $2 AND body = $3",
                &StoredSealed::Bytes(legacy.clone()),
                std::slice::from_ref(&id),
                &StoredSealed::Bytes(current),
            )
            .await
            .unwrap()
    );
    // A request stored in clear, as before intake was sealed.
    let practice_id = user(&app, "therapist@example.com")
        .await
        .practice_id
        .unwrap();
    let clear_id = trellis_store::new_id();
    app.store
        .create_intake(NewIntake {
            id: &clear_id,
            practice_id: &practice_id,
            names: "Dana & Lee Okonkwo",
            email: "dana.okonkwo@example.org",
            partner_email: "",
            preferred_times: "",
            message: "Written in clear long ago",
            seen_separately: false,
            safe_contact: "",
            now: trellis_web::state::system_now(),
        })
        .await
        .unwrap();

    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    let (status, entry) = app.api_get(&jordan, &format!("/api/v1/entries/{id}")).await;
    assert_eq!(
        (status, entry["body"].as_str()),
        (StatusCode::OK, Some("Written before the upgrade"))
    );
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (_, inbox) = app.api_get(&priya, "/api/v1/intake").await;
    assert!(inbox.to_string().contains("Written in clear long ago"));

    // Start-up's sweep brings both up to date, once.
    let report = vault.sweep(&app.store).await.unwrap();
    assert!(report.resealed >= 2, "{report:?}");
    assert_eq!(report.unreadable, 0);
    let upgraded = entry_body(&app, &id).await;
    assert_eq!(trellis_crypto::sealed_version(&upgraded), Some(1));
    assert_sealed_at_rest(&app, "Written in clear long ago", "intake_requests").await;
    assert_eq!(vault.sweep(&app.store).await.unwrap().resealed, 0);
    let (status, entry) = app.api_get(&jordan, &format!("/api/v1/entries/{id}")).await;
    assert_eq!(
        (status, entry["body"].as_str()),
        (StatusCode::OK, Some("Written before the upgrade"))
    );
    let (_, inbox) = app.api_get(&priya, "/api/v1/intake").await;
    assert!(inbox.to_string().contains("Written in clear long ago"));

    // A data key wrapped the old way (with the raw master key) still opens
    // in a fresh process, and is re-wrapped with the derived key.
    let keyring = trellis_crypto::Keyring::load(&app.data_dir.join("master.key")).unwrap();
    let row = app.store.data_key(&couple, 1).await.unwrap().unwrap();
    let legacy_wrap = keyring.wrap_legacy(&key);
    assert!(
        app.store
            .rewrap_data_key(&row, &legacy_wrap.master_key_id, &legacy_wrap.sealed)
            .await
            .unwrap()
    );
    let fresh =
        trellis_web::vault::Vault::from_keyring_file(app.data_dir.join("master.key")).unwrap();
    let text = fresh
        .open(
            &app.store,
            &couple,
            &upgraded,
            &trellis_web::vault::entry_context(
                &id,
                &couple,
                entry["author_id"].as_str().unwrap(),
                "partner",
                None,
            ),
        )
        .await
        .unwrap();
    assert_eq!(text, "Written before the upgrade");
    let rewrapped = app.store.data_key(&couple, 1).await.unwrap().unwrap();
    assert_ne!(rewrapped.wrapped, legacy_wrap.sealed);
    assert!(
        !keyring
            .unwrap_checked(&trellis_crypto::WrappedKey {
                master_key_id: rewrapped.master_key_id,
                sealed: rewrapped.wrapped,
            })
            .unwrap()
            .legacy
    );
}

async fn a_data_key_rotation_keeps_everything_readable_and_replaces_the_keys(app: TestApp) {
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    let riley = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let id = write(&app, &jordan, "Before the data key rotation", "partner").await;
    intake_request(&app, "Sky & Ash", "Please help us talk again").await;
    let couple = user(&app, "jordan@example.com").await.couple_id.unwrap();
    let before = app.store.current_data_key(&couple).await.unwrap().unwrap();
    let (_, list_before) = app.api_get(&riley, "/api/v1/entries").await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (_, inbox_before) = app.api_get(&priya, "/api/v1/intake").await;

    let vault = app.state.vault();
    let done = trellis_web::vault::rotate_data_keys(&app.store, vault)
        .await
        .unwrap();
    assert!(done.rotated >= 2, "the couple and the practice: {done:?}");
    assert!(done.resealed >= 2, "{done:?}");
    assert_eq!(done.unreadable, 0);
    let after = app.store.current_data_key(&couple).await.unwrap().unwrap();
    assert_eq!(after.version, before.version + 1);
    assert_ne!(
        after.wrapped, before.wrapped,
        "a new key, not a re-wrapping"
    );
    let body = entry_body(&app, &id).await;
    assert_eq!(
        trellis_crypto::sealed_version(&body).map(i64::from),
        Some(after.version)
    );
    // Everything reads as before, here and in a fresh process.
    let (status, entry) = app.api_get(&riley, &format!("/api/v1/entries/{id}")).await;
    assert_eq!(
        (status, entry["body"].as_str()),
        (StatusCode::OK, Some("Before the data key rotation"))
    );
    assert_eq!(app.api_get(&riley, "/api/v1/entries").await.1, list_before);
    assert_eq!(app.api_get(&priya, "/api/v1/intake").await.1, inbox_before);
    let second = app.second_server().await;
    let response = app
        .client
        .get(format!("{second}/api/v1/entries/{id}"))
        .bearer_auth(&riley)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // The old version is kept until the next rotation, then dropped.
    assert!(
        app.store
            .data_key(&couple, before.version)
            .await
            .unwrap()
            .is_some()
    );
    let again = trellis_web::vault::rotate_data_keys(&app.store, vault)
        .await
        .unwrap();
    assert!(again.dropped >= 2, "{again:?}");
    assert!(
        app.store
            .data_key(&couple, before.version)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(app.api_get(&riley, "/api/v1/entries").await.1, list_before);
    let (status, entry) = app.api_get(&riley, &format!("/api/v1/entries/{id}")).await;
    assert_eq!(
        (status, entry["body"].as_str()),
        (StatusCode::OK, Some("Before the data key rotation"))
    );
}

/// The rule: invitations forget name and email once used (or 30 days after
/// they ended unused); closed requests lose their details 90 days after they
/// were closed; open ones keep them.
async fn used_invitations_and_long_closed_requests_are_pruned(app: TestApp) {
    let (couple, _, _, priya) = fresh_couple(&app).await;
    let closed = intake_request(&app, "Old & Closed", "Handled long ago").await;
    let open = intake_request(&app, "Still & Open", "Waiting for an answer").await;
    let (status, _) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/intake/{closed}/reply"),
            json!({"reply": "We are full, sorry.", "decline": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let practice_id = user(&app, "therapist@example.com")
        .await
        .practice_id
        .unwrap();
    let now = trellis_web::state::system_now();
    let pruned = trellis_web::services::intake::prune_personal_details(&app.store, now)
        .await
        .unwrap();
    assert!(pruned.1 >= 2, "Mo's and Pat's used invitations: {pruned:?}");
    assert_eq!(pruned.0, 0, "closed just now: kept");
    let invitations = app
        .store
        .sealed_cells(
            "SELECT COALESCE(couple_id, ''), name, id, email FROM invitations WHERE used_at IS NOT NULL",
            true,
        )
        .await
        .unwrap();
    assert!(!invitations.is_empty());
    assert!(
        invitations
            .iter()
            .all(|c| c.value == StoredSealed::Text(String::new()) && c.parts[1].is_empty())
    );
    let mo = user(&app, "mo@example.org").await;
    assert_eq!(mo.name, "Mo", "the account keeps the name");
    assert_eq!(mo.couple_id.as_deref(), Some(couple.as_str()));

    let later = now + trellis_web::services::intake::CLOSED_DETAILS_KEPT + 1;
    let pruned = trellis_web::services::intake::prune_personal_details(&app.store, later)
        .await
        .unwrap();
    assert_eq!(pruned.0, 1, "the declined request");
    let closed_row = app.store.intake(&practice_id, &closed).await.unwrap();
    assert_eq!(
        (
            closed_row.names.as_str(),
            closed_row.message.as_str(),
            closed_row.email.as_str()
        ),
        ("", "", "")
    );
    assert_eq!(closed_row.status, "declined");
    let open_row = app.store.intake(&practice_id, &open).await.unwrap();
    assert!(!open_row.names.is_empty() && !open_row.message.is_empty());
}

/// A large practice must not read every sealed value at each start: the
/// sweep is recorded once done, and later starts skip it until the sealing
/// format changes.
async fn the_start_up_sweep_runs_once_per_database(app: TestApp) {
    let vault = app.state.vault();
    assert_eq!(
        app.store.maintenance_done("sealing_sweep").await.unwrap(),
        Some(1),
        "the first start swept and recorded it"
    );
    assert_eq!(vault.sweep_once(&app.store).await.unwrap(), None);
    // a database from before the record (or a newer format) is swept again
    app.store
        .record_maintenance("sealing_sweep", 0, trellis_web::state::system_now())
        .await
        .unwrap();
    let report = vault.sweep_once(&app.store).await.unwrap();
    assert_eq!(report.map(|r| r.unreadable), Some(0));
    assert_eq!(
        app.store.maintenance_done("sealing_sweep").await.unwrap(),
        Some(1)
    );
    // a restart on the same database skips it and serves as before
    let second = app.second_server().await;
    let response = app
        .client
        .get(format!("{second}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}
