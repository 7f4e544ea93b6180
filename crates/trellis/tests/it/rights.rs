//! Throttled sign-in, signing out everywhere, activity, export, leaving,
//! deleting an account, backups.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Backend, DEMO_PASSWORD, TestApp, fresh_couple, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    the_export_leaves_out_the_safety_check_and_says_whom_to_ask,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    repeated_failed_sign_ins_are_paused_with_retry_after,
    signing_out_everywhere_ends_every_session,
    partners_see_who_opened_what_they_shared,
    the_export_holds_what_i_wrote_and_may_see_and_nothing_else,
    leaving_the_couple_withdraws_what_was_shared,
    deleting_an_account_removes_its_writing_and_frees_the_email,
);

async fn login_status(app: &TestApp, email: &str, password: &str) -> (StatusCode, Option<String>) {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status(), retry)
}

async fn repeated_failed_sign_ins_are_paused_with_retry_after(app: TestApp) {
    for attempt in 1..=5 {
        let (status, _) = login_status(&app, "sam@example.com", "wrong password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    // Now even the right password waits, and the answer says how long.
    let (status, retry) = login_status(&app, "sam@example.com", DEMO_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let seconds: i64 = retry.expect("a Retry-After header").parse().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    // Other accounts are not affected by one account's lock.
    assert_eq!(
        login_status(&app, "alex@example.com", DEMO_PASSWORD)
            .await
            .0,
        StatusCode::OK
    );
    // The sign-in page says it kindly.
    let client = crate::helpers::browser_client();
    let page = app
        .submit(
            &client,
            "/login",
            "/login",
            &[("email", "sam@example.com"), ("password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(page.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(page_text(page).await.contains("try again in a minute"));
    // The lock lives in the database: a restarted server keeps it.
    let second = app.second_server().await;
    let (status, _) = reqwest::Client::new()
        .post(format!("{second}/api/v1/auth/login"))
        .json(&json!({"email": "sam@example.com", "password": DEMO_PASSWORD}))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

async fn signing_out_everywhere_ends_every_session(app: TestApp) {
    let phone = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let laptop = app.browser_login("riley@example.com", DEMO_PASSWORD).await;
    let response = app
        .submit(&laptop, "/account", "/account/sign-out-everywhere", &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.api_get(&phone, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        laptop
            .get(app.url("/our-space"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    let token = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/auth/logout-all"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.api_get(&token, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn partners_see_who_opened_what_they_shared(app: TestApp) {
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (_, entry) = app
        .api_post(
            Some(&sam),
            "/api/v1/entries",
            json!({"body": "Before Thursday", "audience": "therapist"}),
        )
        .await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let id = entry["id"].as_str().unwrap();
    assert_eq!(
        app.api_get(&priya, &format!("/api/v1/entries/{id}"))
            .await
            .0,
        StatusCode::OK
    );
    let (_, activity) = app.api_get(&sam, "/api/v1/me/activity").await;
    let lines: Vec<&str> = activity["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["what"].as_str().unwrap())
        .collect();
    assert!(
        lines.contains(&"Dr. Priya Natarajan opened a journal entry of yours."),
        "{lines:?}"
    );
    let page = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let html = page_text(page.get(app.url("/account/activity")).send().await.unwrap()).await;
    assert!(html.contains("Dr. Priya Natarajan opened a journal entry of yours."));
    // Alex's activity does not show what happened to Sam's writing.
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let (_, theirs) = app.api_get(&alex, "/api/v1/me/activity").await;
    assert!(!theirs.to_string().contains("opened"));
}

async fn write(app: &TestApp, token: &str, body: &str, audience: &str) -> String {
    let (status, entry) = app
        .api_post(
            Some(token),
            "/api/v1/entries",
            json!({"body": body, "audience": audience}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    entry["id"].as_str().unwrap().to_owned()
}

async fn the_export_holds_what_i_wrote_and_may_see_and_nothing_else(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let mine = write(&app, &alex, "Alex private", "me").await;
    write(&app, &alex, "Alex to Sam", "partner").await;
    write(&app, &sam, "Sam to Alex", "partner").await;
    write(&app, &sam, "Sam private", "me").await;
    let response = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/entries/{mine}")))
        .bearer_auth(&alex)
        .json(&json!({"audience": "therapist"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let (status, export) = app.api_get(&alex, "/api/v1/me/export").await;
    assert_eq!(status, StatusCode::OK);
    let text = export.to_string();
    assert!(
        text.contains("Alex private")
            && text.contains("Alex to Sam")
            && text.contains("Sam to Alex")
    );
    assert!(
        !text.contains("Sam private"),
        "never the partner's private writing"
    );
    assert_eq!(export["account"]["email"], "alex@example.com");
    assert_eq!(export["account"]["partner"], "Sam");
    let entries = export["entries"].as_array().unwrap();
    let private: &Value = entries.iter().find(|e| e["id"] == mine.as_str()).unwrap();
    assert_eq!(private["audience_history"][0]["from"], "me");
    assert_eq!(private["audience_history"][0]["to"], "therapist");

    let client = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    let html = page_text(client.get(app.url("/account/export")).send().await.unwrap()).await;
    assert!(html.contains("Sam to Alex") && !html.contains("Sam private"));
    let download = client
        .get(app.url("/account/export.json"))
        .send()
        .await
        .unwrap();
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let json: Value = download.json().await.unwrap();
    assert_eq!(json["entries"].as_array().unwrap().len(), 3);
}

async fn leaving_the_couple_withdraws_what_was_shared(app: TestApp) {
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    let riley = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let shared = write(&app, &jordan, "Jordan shared this", "partner_and_therapist").await;
    assert_eq!(
        app.api_get(&riley, &format!("/api/v1/entries/{shared}"))
            .await
            .0,
        StatusCode::OK
    );
    // Leaving takes the password: without it, or with a wrong one, nothing
    // changes (on the page too)
    for body in [json!({}), json!({"password": "not my password"})] {
        let response = reqwest::Client::new()
            .post(app.url("/api/v1/me/leave-couple"))
            .bearer_auth(&jordan)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["fields"][0]["field"], "password", "{error}");
    }
    // no body at all is a missing password too
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/me/leave-couple"))
        .bearer_auth(&jordan)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let browser = app.browser_login("jordan@example.com", DEMO_PASSWORD).await;
    let page = app
        .submit(
            &browser,
            "/account",
            "/account/leave-couple",
            &[("password", "")],
        )
        .await;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page_text(page)
            .await
            .contains("Type your password to confirm")
    );
    assert_eq!(
        app.api_get(&riley, &format!("/api/v1/entries/{shared}"))
            .await
            .0,
        StatusCode::OK,
        "still in the couple"
    );
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/me/leave-couple"))
        .bearer_auth(&jordan)
        .json(&json!({"password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.api_get(&riley, &format!("/api/v1/entries/{shared}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        app.api_get(&tom, &format!("/api/v1/entries/{shared}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Jordan keeps their own writing, in a new space of their own.
    let (status, entry) = app
        .api_get(&jordan, &format!("/api/v1/entries/{shared}"))
        .await;
    assert_eq!(
        (status, entry["audience"].as_str()),
        (StatusCode::OK, Some("me"))
    );
    let (_, me) = app.api_get(&jordan, "/api/v1/me").await;
    let (_, riley_me) = app.api_get(&riley, "/api/v1/me").await;
    assert_ne!(me["couple_id"], riley_me["couple_id"]);
    write(&app, &jordan, "A fresh start", "me").await;
}

async fn deleting_an_account_removes_its_writing_and_frees_the_email(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let shared = write(&app, &alex, "Alex shared with Sam", "partner").await;
    let delete = |password: &'static str| {
        reqwest::Client::new()
            .delete(app.url("/api/v1/me"))
            .bearer_auth(&alex)
            .json(&json!({"password": password}))
            .send()
    };
    let refused = delete("not my password").await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // no password, and no body at all, are refused the same way
    assert_eq!(
        delete("").await.unwrap().status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bare = reqwest::Client::new()
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&alex)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.api_get(&sam, &format!("/api/v1/entries/{shared}"))
            .await
            .0,
        StatusCode::OK,
        "nothing deleted yet"
    );
    assert_eq!(
        delete(DEMO_PASSWORD).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        app.api_get(&alex, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "signed out"
    );
    assert_eq!(
        login_status(&app, "alex@example.com", DEMO_PASSWORD)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.api_get(&sam, &format!("/api/v1/entries/{shared}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, list) = app.api_get(&sam, "/api/v1/entries").await;
    assert!(!list.to_string().contains("Alex shared"));
    // Sam's home no longer names a partner; the address can be used again.
    let page = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let home = page_text(page.get(app.url("/our-space")).send().await.unwrap()).await;
    assert!(home.contains("Invite your partner"));
    let staff = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let staff_delete = reqwest::Client::new()
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&staff)
        .json(&json!({"password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        staff_delete.status(),
        StatusCode::CONFLICT,
        "staff accounts are removed by an admin"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_with_its_data() {
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    write(&app, &alex, "Worth keeping safe", "me").await;
    let backup = app.data_dir.join("backup.db");
    app.store.backup_to(&backup).await.unwrap();
    assert!(
        app.store.backup_to(&backup).await.is_err(),
        "an existing file is never overwritten"
    );

    let restored = trellis_store::Store::open(&trellis_store::Store::sqlite_url(&backup))
        .await
        .unwrap();
    let alex_user = restored
        .user_by_email(&trellis_core::EmailAddress::parse("e", "alex@example.com").unwrap())
        .await
        .unwrap()
        .unwrap()
        .user;
    let reader = trellis_store::Reader {
        user_id: &alex_user.id,
        role: alex_user.role,
        couple_id: alex_user.couple_id.as_ref(),
        now: trellis_web::state::system_now(),
    };
    let entries = restored
        .entries_for(reader, trellis_store::EntryFilter::default(), 10)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let vault =
        trellis_web::vault::Vault::from_keyring_file(app.data_dir.join("master.key")).unwrap();
    let text = vault
        .open(
            &restored,
            &entries[0].couple_id,
            &entries[0].body,
            &trellis_web::vault::entry_context(
                &entries[0].id,
                &entries[0].couple_id,
                &entries[0].author_id,
                entries[0].audience.as_str(),
                entries[0].addressed_to.as_deref(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(text, "Worth keeping safe");
}

async fn the_export_leaves_out_the_safety_check_and_says_whom_to_ask(app: TestApp) {
    let practice = app.store.practices().await.unwrap()[0].clone();
    app.store
        .update_practice_details(
            &practice.id,
            "Call reception on weekdays",
            &practice.time_zone,
            practice.reminder_hours,
        )
        .await
        .unwrap();
    // Mo has answered the safety check (all of it) on joining.
    let (_, mo, _, _) = fresh_couple(&app).await;
    let (status, export) = app.api_get(&mo, "/api/v1/me/export").await;
    assert_eq!(status, StatusCode::OK);
    assert!(export.get("safety_answers").is_none(), "{export}");
    let note = export["safety_answers_note"].as_str().unwrap();
    assert!(note.contains("not included"), "{note}");
    assert!(note.contains(&practice.name), "{note}");
    assert!(note.contains("Call reception on weekdays"), "{note}");

    let client = app.browser_login("mo@example.org", "a long password").await;
    let page = page_text(client.get(app.url("/account/export")).send().await.unwrap()).await;
    assert!(page.contains(note), "the page says it too");
    let file = app.fetch_text(&client, "/account/export.json").await;
    let questions = &app.state.content().safety.questions;
    assert!(!questions.is_empty());
    for copy in [export.to_string(), page, file] {
        for question in questions {
            assert!(
                !copy.contains(&question.text),
                "the export holds a safety question: {}",
                question.text
            );
        }
    }
}
