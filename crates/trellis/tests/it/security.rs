//! Findings of the security review (issue 15), each pinned by a test that
//! fails without its fix.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{DEMO_PASSWORD, TestApp, browser_client, fresh_couple, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    a_partner_who_leaves_loses_the_talks_they_opened,
    comments_never_outlive_their_work_in_single_reads_or_exports,
    context_on_a_missed_day_goes_back_to_its_owner_on_leaving,
    context_on_a_missed_day_goes_with_a_deleted_account,
    only_the_therapist_resends_a_guided_partners_invitation,
    accepting_an_invitation_is_audited,
    parallel_wrong_passwords_are_counted_before_they_are_checked,
    an_admin_resets_a_colleagues_lost_second_step,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    a_known_browser_is_not_locked_out_by_someone_elses_guesses,
    a_form_token_works_only_for_the_session_it_was_issued_for,
    a_departed_therapist_loses_access_at_once_and_their_couples_move,
    public_forms_cannot_flood_a_mailbox_or_tell_who_has_an_account,
);

async fn leave(app: &TestApp, token: &str) {
    let left = reqwest::Client::new()
        .post(app.url("/api/v1/me/leave-couple"))
        .bearer_auth(token)
        .json(&json!({"password": "a long password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), StatusCode::NO_CONTENT);
}

async fn a_partner_who_leaves_loses_the_talks_they_opened(app: TestApp) {
    let (_, mo, pat, _) = fresh_couple(&app).await;
    let (status, talk) = app
        .api_post(Some(&mo), "/api/v1/talks", json!({"topic": "Sundays"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{talk}");
    let talk = talk["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .api_post(
            Some(&mo),
            &format!("/api/v1/talks/{talk}/turns"),
            json!({"kind": "speak", "body": "I miss our slow mornings."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    leave(&app, &mo).await;

    assert_eq!(
        app.api_get(&mo, &format!("/api/v1/talks/{talk}")).await.0,
        StatusCode::NOT_FOUND,
        "the talk stays with the couple"
    );
    let events = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/talks/{talk}/events")))
        .bearer_auth(&mo)
        .send()
        .await
        .unwrap();
    assert_eq!(
        events.status(),
        StatusCode::NOT_FOUND,
        "no live stream either"
    );
    let (status, _) = app
        .api_post(
            Some(&mo),
            &format!("/api/v1/talks/{talk}/turns"),
            json!({"kind": "speak", "body": "Still here"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "and no more turns");
    // The partner who stayed still reads it.
    let (status, view) = app.api_get(&pat, &format!("/api/v1/talks/{talk}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(view.to_string().contains("slow mornings"));
}

async fn comments_never_outlive_their_work_in_single_reads_or_exports(app: TestApp) {
    let (_, mo, pat, priya) = fresh_couple(&app).await;
    let (_, shared) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": "I go quiet when I feel judged.", "audience": "partner_and_therapist"}),
        )
        .await;
    let shared = shared["id"].as_str().unwrap().to_owned();
    let (status, comment) = app
        .api_post(
            Some(&priya),
            "/api/v1/comments",
            json!({"target_id": shared, "body": "A brave noticing, worth bringing to session."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    let comment = comment["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.api_get(&pat, &format!("/api/v1/entries/{comment}"))
            .await
            .0,
        StatusCode::OK
    );
    // Mo takes the entry back to "only me".
    let taken_back = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/entries/{shared}")))
        .bearer_auth(&mo)
        .json(&json!({"audience": "me"}))
        .send()
        .await
        .unwrap();
    assert!(taken_back.status().is_success());
    assert_eq!(
        app.api_get(&pat, &format!("/api/v1/entries/{comment}"))
            .await
            .0,
        StatusCode::NOT_FOUND,
        "the comment no longer reaches the partner by its id"
    );
    let (_, list) = app.api_get(&pat, "/api/v1/entries").await;
    assert!(!list.to_string().contains("A brave noticing"));
    let (status, export) = app.api_get(&pat, "/api/v1/me/export").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !export.to_string().contains("A brave noticing"),
        "nor through the partner's export"
    );
}

async fn add_missed_day_context(app: &TestApp, owner: &str) -> String {
    let (status, promise) = app
        .api_post(
            Some(owner),
            "/api/v1/commitments",
            json!({"text": "I'll call when I'm running late", "cadence": "daily"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{promise}");
    let id = promise["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .api_post(
            Some(owner),
            &format!("/api/v1/commitments/{id}/context"),
            json!({"body": "My mother was in hospital.", "audience": "therapist"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    id
}

async fn context_on_a_missed_day_goes_back_to_its_owner_on_leaving(app: TestApp) {
    let (couple, mo, _, priya) = fresh_couple(&app).await;
    add_missed_day_context(&app, &mo).await;
    let commitments = format!("/api/v1/couples/{couple}/commitments");
    assert!(
        app.api_get(&priya, &commitments)
            .await
            .1
            .to_string()
            .contains("My mother was in hospital.")
    );
    leave(&app, &mo).await;
    let (status, after) = app.api_get(&priya, &commitments).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !after.to_string().contains("My mother was in hospital."),
        "withdrawn like the rest of what Mo shared"
    );
}

async fn context_on_a_missed_day_goes_with_a_deleted_account(app: TestApp) {
    let (_, mo, _, _) = fresh_couple(&app).await;
    let promise = add_missed_day_context(&app, &mo).await;
    let deleted = reqwest::Client::new()
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&mo)
        .json(&json!({"password": "a long password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let marks = app.store.promise_marks(&promise).await.unwrap();
    assert!(
        marks
            .iter()
            .all(|m| m.context.is_none() && m.context_audience.is_none()),
        "the sealed words are gone, not just hidden"
    );
}

async fn only_the_therapist_resends_a_guided_partners_invitation(app: TestApp) {
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, created) = app
        .api_post(
            Some(&priya),
            "/api/v1/couples",
            json!({"partners": [{"email": "ines@example.org", "name": "Ines"}, {"email": "tove@example.org", "name": "Tove"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        !created
            .to_string()
            .contains(&app.invitation_token("tove@example.org"))
    );
    let couple = created["id"].as_str().unwrap().to_owned();
    let (status, ines) = app
        .api_post(
            None,
            &format!(
                "/api/v1/invitations/{}/accept",
                app.invitation_token("ines@example.org")
            ),
            json!({"name": "Ines", "password": "a long password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let ines = ines["token"].as_str().unwrap().to_owned();
    // Ines may not choose who takes Tove's seat, even with Tove's address.
    let web = app
        .browser_login("ines@example.org", "a long password")
        .await;
    let refused = app
        .submit(
            &web,
            "/our-space",
            "/our-space/invite",
            &[("name", "Tove"), ("email", "ines.second@example.org")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(app.last_mail_to("ines.second@example.org").is_none());
    let (_, me) = app.api_get(&ines, "/api/v1/me").await;
    assert_eq!(me["couple_id"], couple.as_str());
    // The therapist can send a fresh one; its link reaches Tove's mailbox only.
    let (status, sent) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple}/invitations"),
            json!({"email": "tove@example.org", "name": "Tove"}),
        )
        .await;
    assert!(status.is_success(), "{status} {sent}");
    assert!(!sent.to_string().contains("/invitations/"));
}

async fn accepting_an_invitation_is_audited(app: TestApp) {
    let (_, mo, _, _) = fresh_couple(&app).await;
    let (status, activity) = app.api_get(&mo, "/api/v1/me/activity").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        activity.to_string().contains("accepted the invitation"),
        "{activity}"
    );
}

async fn login(app: &TestApp, client: &reqwest::Client, password: &str) -> StatusCode {
    client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "riley@example.com", "password": password}))
        .send()
        .await
        .unwrap()
        .status()
}

async fn parallel_wrong_passwords_are_counted_before_they_are_checked(app: TestApp) {
    let client = reqwest::Client::new();
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..12 {
        let (client, url) = (client.clone(), app.url("/api/v1/auth/login"));
        guesses.spawn(async move {
            client
                .post(url)
                .json(
                    &json!({"email": "riley@example.com", "password": format!("guess number {i}")}),
                )
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let statuses: Vec<StatusCode> = guesses.join_all().await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        checked <= 5,
        "at most five guesses are checked: {statuses:?}"
    );
    assert_eq!(checked + refused, 12, "{statuses:?}");
    assert_eq!(
        login(&app, &client, DEMO_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password waits for the lock too"
    );
}

async fn a_known_browser_is_not_locked_out_by_someone_elses_guesses(app: TestApp) {
    // Riley signed in on this browser before.
    let browser = app.browser_login("riley@example.com", DEMO_PASSWORD).await;
    let out = app.submit(&browser, "/our-space", "/logout", &[]).await;
    assert!(out.status().is_redirection() || out.status().is_success());
    // Someone else locks the account from elsewhere.
    let stranger = reqwest::Client::new();
    for i in 0..8 {
        login(&app, &stranger, &format!("guess {i}")).await;
    }
    assert_eq!(
        login(&app, &stranger, DEMO_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Riley's own browser still gets in with the right password.
    let back = app
        .submit(
            &browser,
            "/login",
            "/login",
            &[("email", "riley@example.com"), ("password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    // A browser that never signed in here is held to the account's lock.
    let fresh = browser_client();
    let refused = app
        .submit(
            &fresh,
            "/login",
            "/login",
            &[("email", "riley@example.com"), ("password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn a_form_token_works_only_for_the_session_it_was_issued_for(app: TestApp) {
    let alex = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let alex_token = app.csrf(&alex, "/our-space").await;
    let sam_token = app.csrf(&sam, "/our-space").await;
    assert_ne!(alex_token, sam_token);
    let sign_out = |client: &reqwest::Client, token: String| {
        client
            .post(app.url("/logout"))
            .form(&[("csrf", token)])
            .send()
    };
    assert_eq!(
        sign_out(&sam, alex_token.clone()).await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "Alex's token is worthless in Sam's session"
    );
    assert_eq!(
        sam.get(app.url("/our-space"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK,
        "Sam is still signed in"
    );
    // Signing in again starts a new session, and the token rotates with it.
    let again = alex
        .post(app.url("/login"))
        .form(&[
            ("csrf", alex_token.as_str()),
            ("email", "alex@example.com"),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let fresh = app.csrf(&alex, "/our-space").await;
    assert_ne!(fresh, alex_token);
    assert_eq!(
        sign_out(&alex, alex_token).await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "the token of the session before is worthless too"
    );
    assert!(
        sign_out(&alex, fresh)
            .await
            .unwrap()
            .status()
            .is_redirection()
    );
}

async fn user_id(app: &TestApp, email: &str) -> String {
    let email = trellis_core::EmailAddress::parse("e", email).unwrap();
    app.store
        .user_by_email(&email)
        .await
        .unwrap()
        .unwrap()
        .user
        .id
        .into_string()
}

async fn a_departed_therapist_loses_access_at_once_and_their_couples_move(app: TestApp) {
    let admin = app.api_login("admin@example.com", DEMO_PASSWORD).await;
    let (couple, mo, _, priya) = fresh_couple(&app).await;
    let priya_web = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let priya_id = user_id(&app, "therapist@example.com").await;
    let tom_id = user_id(&app, "therapist2@example.com").await;
    let admin_id = user_id(&app, "admin@example.com").await;

    // Nobody but an admin of the practice removes anyone; an admin not themselves.
    let deactivate = |token: &str, who: &str| {
        reqwest::Client::new()
            .post(app.url(&format!("/api/v1/practice/staff/{who}/deactivate")))
            .bearer_auth(token.to_owned())
            .send()
    };
    assert_eq!(
        deactivate(&priya, &tom_id).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        deactivate(&admin, &admin_id).await.unwrap().status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        deactivate(&admin, &user_id(&app, "alex@example.com").await)
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND,
        "partners are not staff"
    );

    assert_eq!(
        deactivate(&admin, &priya_id).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    // Her token, her browser and her password stop working at once.
    assert_eq!(
        app.api_get(&priya, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    let caseload = priya_web.get(app.url("/caseload")).send().await.unwrap();
    assert_eq!(caseload.headers()["location"], "/login");
    let login = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "therapist@example.com", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
    let (_, staff) = app.api_get(&admin, "/api/v1/practice/staff").await;
    let listed = staff["staff"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == priya_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["active"], false);
    let (_, activity) = app.api_get(&admin, "/api/v1/me/activity").await;
    assert!(
        activity.to_string().contains("staff deactivated")
            || activity.to_string().contains("removed"),
        "{activity}"
    );

    // The couple keeps its work and is given to Tom.
    let admin_web = app.browser_login("admin@example.com", DEMO_PASSWORD).await;
    let practice = page_text(admin_web.get(app.url("/practice")).send().await.unwrap()).await;
    assert!(practice.contains("Couples waiting for a new therapist"));
    assert!(practice.contains("Mo &amp; Pat") || practice.contains("Mo & Pat"));
    let moved = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/couples/{couple}/therapist")))
        .bearer_auth(&admin)
        .json(&json!({"therapist_id": priya_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        moved.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not to someone who left"
    );
    let moved = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/couples/{couple}/therapist")))
        .bearer_auth(&admin)
        .json(&json!({"therapist_id": tom_id}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::NO_CONTENT);
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (status, _) = app
        .api_get(&tom, &format!("/api/v1/couples/{couple}/progress"))
        .await;
    assert_eq!(status, StatusCode::OK, "Tom guides them now");
    let (_, me) = app.api_get(&mo, "/api/v1/me").await;
    assert_eq!(me["couple_id"], couple.as_str());
}

async fn an_admin_resets_a_colleagues_lost_second_step(app: TestApp) {
    let tom = app
        .browser_login("therapist2@example.com", DEMO_PASSWORD)
        .await;
    crate::two_factor::enroll(&app, &tom, DEMO_PASSWORD).await;
    let needs_code = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"email": "therapist2@example.com", "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(needs_code.status(), StatusCode::UNAUTHORIZED);
    let admin = app.api_login("admin@example.com", DEMO_PASSWORD).await;
    let tom_id = user_id(&app, "therapist2@example.com").await;
    let reset = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/practice/staff/{tom_id}/two-factor/reset")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    // Tom signs in with his password and is told it was reset.
    let tom_token = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (_, activity) = app.api_get(&tom_token, "/api/v1/me/activity").await;
    assert!(
        activity.to_string().contains("reset two-step sign-in"),
        "{activity}"
    );
}

async fn public_forms_cannot_flood_a_mailbox_or_tell_who_has_an_account(app: TestApp) {
    let forgot = |email: &'static str| {
        let app = &app;
        async move {
            app.submit(
                &browser_client(),
                "/password/forgot",
                "/password/forgot",
                &[("email", email)],
            )
            .await
            .status()
        }
    };
    // Known and unknown addresses: the same answers, the same limit.
    for email in ["riley@example.com", "nobody@example.com"] {
        for _ in 0..3 {
            assert_eq!(forgot(email).await, StatusCode::OK);
        }
        assert_eq!(
            forgot(email).await,
            StatusCode::TOO_MANY_REQUESTS,
            "a fourth mail to {email} waits"
        );
    }
    // Signing up with an address that has an account answers like a new one.
    let sign_up = |email: &'static str| {
        let app = &app;
        async move {
            let response = app
                .submit(
                    &browser_client(),
                    "/signup",
                    "/signup",
                    &[
                        ("name", "Kit"),
                        ("email", email),
                        ("password", "a long password"),
                    ],
                )
                .await;
            (response.status(), page_text(response).await)
        }
    };
    let (known, known_page) = sign_up("jordan@example.com").await;
    let (fresh, fresh_page) = sign_up("kit@example.org").await;
    assert_eq!(known, fresh);
    let main =
        |page: &str| page[page.find("<main").unwrap()..page.find("</main>").unwrap()].to_owned();
    assert_eq!(main(&known_page), main(&fresh_page));
    assert!(
        app.wait_for_mail_to("jordan@example.com")
            .await
            .contains("already has an account")
    );
}
