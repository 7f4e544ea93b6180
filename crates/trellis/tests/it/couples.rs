//! The practice, therapists, couples and invitations; each role's home.

use reqwest::StatusCode;
use serde_json::json;
use trellis_core::time::DAY;
use trellis_crypto::SecretToken;
use trellis_store::NewPartner;

use crate::helpers::{DEMO_PASSWORD, TestApp, browser_client, find_link, page_text};
use crate::on_both_backends;

on_both_backends!(with_demo =>
    a_therapist_adds_a_couple_and_both_partners_join,
    only_therapists_add_couples,
    bad_couple_input_gets_field_messages,
    expired_and_unknown_invitations_are_refused,
    an_admin_invites_a_therapist_who_joins_the_practice,
    a_self_guided_couple_invites_and_links_a_therapist,
    each_role_has_its_home,
);

async fn a_therapist_adds_a_couple_and_both_partners_join(app: TestApp) {
    let therapist = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, created) = app
        .api_post(Some(&therapist), "/api/v1/couples", json!({"partners": [{"email": "Lee@Example.org", "name": "Lee"}, {"email": "kim@example.org", "name": "Kim"}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let couple_id = created["id"].as_str().unwrap().to_owned();
    let invitations = created["invitations"].as_array().unwrap();
    assert_eq!(invitations.len(), 2);
    assert_eq!(invitations[0]["email"], "lee@example.org");

    // Each invitation went out by mail, and only there: the therapist never
    // holds the secret that claims a partner's seat.
    for invitation in invitations {
        assert_eq!(invitation["mailed"], true);
        assert!(invitation.get("token").is_none(), "{invitation}");
    }
    let mail = app
        .last_mail_to("kim@example.org")
        .expect("an invitation mail for Kim");
    let link = find_link(&mail, &format!("{}/invitations/", app.base)).unwrap();

    let lee_token = app.invitation_token("lee@example.org");
    let (status, accepted) = app
        .api_post(
            None,
            &format!("/api/v1/invitations/{lee_token}/accept"),
            json!({"name": "Lee", "password": "lee's own password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{accepted}");
    assert_eq!(accepted["user"]["role"], "partner");
    let (_, me) = app
        .api_get(accepted["token"].as_str().unwrap(), "/api/v1/me")
        .await;
    assert_eq!(me["couple_id"], couple_id.as_str());

    // Single use.
    let (status, body) = app
        .api_post(
            None,
            &format!("/api/v1/invitations/{lee_token}/accept"),
            json!({"name": "Someone", "password": "another password"}),
        )
        .await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(body["error"]["code"], "gone");

    // Kim accepts in the browser.
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    let client = browser_client();
    let page = client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page_text(page).await.contains("kim@example.org"));
    let short = app
        .submit(
            &client,
            &path,
            &path,
            &[("name", "Kimberly"), ("password", "short")],
        )
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page_text(short).await.contains("Kimberly"),
        "the name typed is kept"
    );
    let joined = app
        .submit(
            &client,
            &path,
            &path,
            &[("name", "Kimberly"), ("password", "kim's own password")],
        )
        .await;
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    assert_eq!(joined.headers()["location"], "/our-space");
    let home = page_text(client.get(app.url("/our-space")).send().await.unwrap()).await;
    assert!(home.contains("Lee"), "Kim's home names her partner");
    assert!(home.contains("Dr. Priya Natarajan"));

    let caseload = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let html = page_text(caseload.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(html.contains("Lee & Kimberly"), "{html}");
}

async fn only_therapists_add_couples(app: TestApp) {
    let body = json!({"partners": [{"email": "x1@example.org", "name": "X"}, {"email": "y1@example.org", "name": "Y"}]});
    let (status, _) = app.api_post(None, "/api/v1/couples", body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for email in ["admin@example.com", "alex@example.com"] {
        let token = app.api_login(email, DEMO_PASSWORD).await;
        let (status, error) = app
            .api_post(Some(&token), "/api/v1/couples", body.clone())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{email}");
        assert_eq!(error["error"]["code"], "forbidden");
    }
    let client = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        client
            .get(app.url("/caseload/couples/new"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
}

async fn bad_couple_input_gets_field_messages(app: TestApp) {
    let therapist = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    for (partners, field) in [
        (
            json!([{"email": "one@example.org", "name": "One"}]),
            "partners",
        ),
        (
            json!([{"email": "same@example.org", "name": "A"}, {"email": "SAME@example.org", "name": "B"}]),
            "partners[1].email",
        ),
        (
            json!([{"email": "nope", "name": "A"}, {"email": "b@example.org", "name": "B"}]),
            "partners[0].email",
        ),
        (
            json!([{"email": "a@example.org", "name": " "}, {"email": "b@example.org", "name": "B"}]),
            "partners[0].name",
        ),
        (
            json!([{"email": "alex@example.com", "name": "Alex"}, {"email": "b@example.org", "name": "B"}]),
            "partners[0].email",
        ),
    ] {
        let (status, body) = app
            .api_post(
                Some(&therapist),
                "/api/v1/couples",
                json!({"partners": partners}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{partners}");
        let fields: Vec<&str> = body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{partners}: {fields:?}");
    }
    // Nothing was created by the refused requests.
    let therapist_user = app
        .store
        .user_by_email(&trellis_core::EmailAddress::parse("e", "therapist2@example.com").unwrap())
        .await
        .unwrap()
        .unwrap()
        .user;
    assert_eq!(
        app.store.caseload(&therapist_user.id).await.unwrap().len(),
        1
    );
}

async fn expired_and_unknown_invitations_are_refused(app: TestApp) {
    let therapist = app
        .store
        .user_by_email(&trellis_core::EmailAddress::parse("e", "therapist@example.com").unwrap())
        .await
        .unwrap()
        .unwrap()
        .user;
    let token = SecretToken::generate();
    let now = trellis_web::state::now();
    app.store
        .create_couple_with_invitations(
            &therapist,
            &[NewPartner {
                email: "late@example.org",
                name: "Late",
                token_hash: token.hash().as_str(),
            }],
            now - 8 * DAY,
            now - DAY,
        )
        .await
        .unwrap();
    let (status, body) = app
        .api_post(
            None,
            &format!("/api/v1/invitations/{}/accept", token.expose()),
            json!({"name": "Late", "password": "a good password"}),
        )
        .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let page = browser_client()
        .get(app.url(&format!("/invitations/{}", token.expose())))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(page_text(page).await.contains("expired"));

    let (status, _) = app
        .api_post(
            None,
            "/api/v1/invitations/not-a-real-token/accept",
            json!({"name": "X", "password": "a good password"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn an_admin_invites_a_therapist_who_joins_the_practice(app: TestApp) {
    let admin = app.browser_login("admin@example.com", DEMO_PASSWORD).await;
    let refused = app
        .submit(
            &admin,
            "/practice",
            "/practice/therapists",
            &[("name", "Noor"), ("email", "therapist@example.com")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page_text(refused)
            .await
            .contains("already has a Trellis account")
    );
    let sent = app
        .submit(
            &admin,
            "/practice",
            "/practice/therapists",
            &[("name", "Noor Haddad"), ("email", "noor@example.org")],
        )
        .await;
    assert_eq!(sent.status(), StatusCode::OK);
    let shown = page_text(sent).await;
    let link = find_link(
        &app.last_mail_to("noor@example.org").unwrap(),
        &format!("{}/invitations/", app.base),
    )
    .unwrap();
    assert!(
        !shown.contains(&link) && !shown.contains("/invitations/"),
        "the link is mailed to the invitee only; the admin never sees it"
    );
    assert!(shown.contains("Invitation emailed"));
    let practice = page_text(admin.get(app.url("/practice")).send().await.unwrap()).await;
    assert!(
        practice.contains("Noor Haddad (noor@example.org)"),
        "listed as invited"
    );

    let token = link.rsplit('/').next().unwrap();
    let (status, accepted) = app
        .api_post(
            None,
            &format!("/api/v1/invitations/{token}/accept"),
            json!({"name": "Noor Haddad", "password": "noor's password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(accepted["user"]["role"], "therapist");
    let practice = page_text(admin.get(app.url("/practice")).send().await.unwrap()).await;
    assert!(practice.contains("<td>Noor Haddad</td>"));
    let noor = app
        .browser_login("noor@example.org", "noor's password")
        .await;
    let caseload = page_text(noor.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(caseload.contains("Your practice code"));
}

async fn a_self_guided_couple_invites_and_links_a_therapist(app: TestApp) {
    let client = browser_client();
    let refused = app
        .submit(
            &client,
            "/signup",
            "/signup",
            &[
                ("name", "Robin"),
                ("email", "robin@example.org"),
                ("password", "tiny"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let asked = app
        .submit(
            &client,
            "/signup",
            "/signup",
            &[
                ("name", "Robin"),
                ("email", "robin@example.org"),
                ("password", "robin's password"),
            ],
        )
        .await;
    assert_eq!(asked.status(), StatusCode::OK);
    assert!(page_text(asked).await.contains("Check your mail"));
    // The account exists once Robin opens the link in her mail.
    let mail = app.wait_for_mail_to("robin@example.org").await;
    let link = find_link(&mail, &format!("{}/signup/confirm/", app.base)).unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    let signed_up = app.submit(&client, &path, &path, &[]).await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_up.headers()["location"], "/our-space");
    // Signing up again with her address answers the same as for a new one
    // (nobody learns that she has an account); Robin is told by mail.
    let again = app
        .submit(
            &browser_client(),
            "/signup",
            "/signup",
            &[
                ("name", "R"),
                ("email", "robin@example.org"),
                ("password", "robin's password"),
            ],
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(page_text(again).await.contains("Check your mail"));
    let mut told = String::new();
    for _ in 0..200 {
        told = app.last_mail_to("robin@example.org").unwrap_or_default();
        if told.contains("already has an account") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(told.contains("already has an account"), "{told}");
    let used = browser_client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(used.status(), StatusCode::GONE, "the link works once");

    let own = app
        .submit(
            &client,
            "/our-space",
            "/our-space/invite",
            &[("name", "Me"), ("email", "robin@example.org")],
        )
        .await;
    assert_eq!(own.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let invited = app
        .submit(
            &client,
            "/our-space",
            "/our-space/invite",
            &[("name", "Quinn"), ("email", "quinn@example.org")],
        )
        .await;
    assert_eq!(invited.status(), StatusCode::OK);
    let link = find_link(
        &app.last_mail_to("quinn@example.org").unwrap(),
        &format!("{}/invitations/", app.base),
    )
    .unwrap();
    let token = link.rsplit('/').next().unwrap();
    let (status, quinn) = app
        .api_post(
            None,
            &format!("/api/v1/invitations/{token}/accept"),
            json!({"name": "Quinn", "password": "quinn's password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let robin = app.api_login("robin@example.org", "robin's password").await;
    let (_, robin_me) = app.api_get(&robin, "/api/v1/me").await;
    let (_, quinn_me) = app
        .api_get(quinn["token"].as_str().unwrap(), "/api/v1/me")
        .await;
    assert_eq!(robin_me["couple_id"], quinn_me["couple_id"]);

    // A third person cannot be invited into a full couple.
    let full = app
        .submit(
            &client,
            "/our-space",
            "/our-space/invite",
            &[("name", "Extra"), ("email", "extra@example.org")],
        )
        .await;
    assert_eq!(full.status(), StatusCode::CONFLICT);
    assert!(page_text(full).await.contains("already has two partners"));

    let wrong = app
        .submit(
            &client,
            "/our-space",
            "/our-space/link-therapist",
            &[("code", "ZZZZ-9999")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page_text(wrong).await.contains("don't recognise"));
    let linked = app
        .submit(
            &client,
            "/our-space",
            "/our-space/link-therapist",
            &[("code", " drpr 2026 ")],
        )
        .await;
    assert_eq!(linked.status(), StatusCode::SEE_OTHER);
    let home = page_text(client.get(app.url("/our-space")).send().await.unwrap()).await;
    assert!(home.contains("Dr. Priya Natarajan is guiding you"));
    let therapist = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let caseload = page_text(therapist.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(caseload.contains("Robin & Quinn"));
}

async fn each_role_has_its_home(app: TestApp) {
    for (email, home, expected, forbidden) in [
        (
            "admin@example.com",
            "/practice",
            "Riverside Couples Practice",
            "/caseload",
        ),
        (
            "therapist@example.com",
            "/caseload",
            "Alex & Sam",
            "/practice",
        ),
        (
            "therapist2@example.com",
            "/caseload",
            "Jordan & Riley",
            "/our-space",
        ),
        ("alex@example.com", "/our-space", "Sam", "/practice"),
    ] {
        let client = app.browser_login(email, DEMO_PASSWORD).await;
        let root = client.get(app.url("/")).send().await.unwrap();
        assert_eq!(root.headers()["location"], home, "{email}");
        let page = client.get(app.url(home)).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page_text(page).await;
        assert!(html.contains(expected), "{email} should see {expected}");
        assert_eq!(
            client
                .get(app.url(forbidden))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::FORBIDDEN,
            "{email} {forbidden}"
        );
    }
    // A therapist sees only their own couples.
    let tom = app
        .browser_login("therapist2@example.com", DEMO_PASSWORD)
        .await;
    let html = page_text(tom.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(!html.contains("Alex"));
}
