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
    one_partner_alone_cannot_link_a_therapist,
    the_other_partner_or_the_therapist_can_decline,
    a_used_practice_code_no_longer_works,
    an_expired_practice_code_is_refused,
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
    let now = trellis_web::state::system_now();
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
    let quinn = invite_and_join(&app, &client, "Quinn", "quinn's password").await;
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
    // Asking links nothing yet: Quinn agrees first, then the therapist accepts.
    let home = page_text(client.get(app.url("/our-space")).send().await.unwrap()).await;
    assert!(!home.contains("is guiding you"), "{home}");
    assert!(home.contains("waiting for your partner to agree"));
    let quinn_client = app
        .browser_login("quinn@example.org", "quinn's password")
        .await;
    let quinn_home = page_text(
        quinn_client
            .get(app.url("/our-space"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(quinn_home.contains(
        "Robin asked to be guided by Dr. Priya Natarajan; your therapist would see only what you choose to share"
    ));
    let request_id = quinn_home
        .split("/our-space/link-requests/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let therapist = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let caseload = page_text(therapist.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(
        !caseload.contains("Robin & Quinn"),
        "not asked before Quinn agrees"
    );
    let agreed = app
        .submit(
            &quinn_client,
            "/our-space",
            &format!("/our-space/link-requests/{request_id}/agree"),
            &[],
        )
        .await;
    assert_eq!(agreed.status(), StatusCode::SEE_OTHER);
    let home = page_text(client.get(app.url("/our-space")).send().await.unwrap()).await;
    assert!(!home.contains("is guiding you"));
    assert!(home.contains("waiting for them to accept"));
    let caseload = page_text(therapist.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(caseload.contains("Couples asking you to guide them"));
    assert!(caseload.contains("Robin & Quinn"));
    let accepted = app
        .submit(
            &therapist,
            "/caseload",
            &format!("/caseload/link-requests/{request_id}/accept"),
            &[],
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let home = page_text(client.get(app.url("/our-space")).send().await.unwrap()).await;
    assert!(home.contains("Dr. Priya Natarajan is guiding you"));
    let caseload = page_text(therapist.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(caseload.contains("Robin & Quinn"));
    assert!(!caseload.contains("Couples asking you to guide them"));
}

/// The signed-in partner on `client` invites Quinn from their home; Quinn
/// accepts through the link in the mail. Quinn's accepted-invitation answer.
async fn invite_and_join(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    password: &str,
) -> serde_json::Value {
    let invited = app
        .submit(
            client,
            "/our-space",
            "/our-space/invite",
            &[("name", name), ("email", "quinn@example.org")],
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
            json!({"name": name, "password": password}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    quinn
}

/// A new self-guided partner, signed up through the page: the browser they
/// are signed in on, and an API token.
async fn self_guided(app: &TestApp, name: &str, email: &str) -> (reqwest::Client, String) {
    let client = browser_client();
    let signed_up = app.sign_up(&client, name, email, "a long password").await;
    assert_eq!(
        signed_up.status(),
        StatusCode::SEE_OTHER,
        "{email} signs up"
    );
    // nothing on their pages speaks of a therapist they do not have
    let sessions = page_text(client.get(app.url("/sessions")).send().await.unwrap()).await;
    assert!(
        sessions.contains("You are working self-guided")
            && !sessions.contains("Your therapist books them"),
        "{sessions}"
    );
    let thread = page_text(client.get(app.url("/messages")).send().await.unwrap()).await;
    assert!(
        thread.contains("Your partner will read this thread once they join")
            && !thread.contains("therapist read"),
        "{thread}"
    );
    (client, app.api_login(email, "a long password").await)
}

/// A self-guided couple of two: the tokens of Robin, who started, and of
/// Quinn, whom they invited.
pub(crate) async fn self_guided_pair(app: &TestApp) -> (String, String) {
    let (client, robin) = self_guided(app, "Robin", "robin@example.org").await;
    let quinn = invite_and_join(app, &client, "Quinn", "a long password").await;
    (robin, quinn["token"].as_str().unwrap().to_owned())
}

async fn ask(app: &TestApp, token: &str, code: &str) -> (StatusCode, serde_json::Value) {
    app.api_post(
        Some(token),
        "/api/v1/me/link-requests",
        json!({ "code": code }),
    )
    .await
}

async fn answer(
    app: &TestApp,
    token: &str,
    id: &str,
    action: &str,
) -> (StatusCode, serde_json::Value) {
    app.api_post(
        Some(token),
        &format!("/api/v1/link-requests/{id}/{action}"),
        json!({}),
    )
    .await
}

/// Whether the couple of the partner signed in with `token` has a therapist.
async fn guided(app: &TestApp, token: &str) -> bool {
    let (_, me) = app.api_get(token, "/api/v1/me").await;
    let couple = app
        .store
        .couple(&trellis_core::CoupleId::new(
            me["couple_id"].as_str().unwrap(),
        ))
        .await
        .unwrap();
    couple.therapist_id.is_some()
}

async fn one_partner_alone_cannot_link_a_therapist(app: TestApp) {
    let (robin, quinn) = self_guided_pair(&app).await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, asked) = ask(&app, &robin, "DRPR-2026").await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    assert_eq!(asked["status"], "waiting_for_partner");
    assert_eq!(asked["therapist_name"], "Dr. Priya Natarajan");
    let id = asked["id"].as_str().unwrap();

    // Robin cannot agree in Quinn's name, nor ask twice; the therapist is
    // not asked yet, so the request is not theirs to see or accept.
    let (status, body) = answer(&app, &robin, id, "agree").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = ask(&app, &robin, "DRPR-2026").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("waiting for an answer")
    );
    let (status, _) = answer(&app, &priya, id, "accept").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, listed) = app.api_get(&priya, "/api/v1/link-requests").await;
    assert_eq!(listed, json!([]));
    assert!(!guided(&app, &robin).await);

    // Quinn agrees: now the therapist is asked, and still nothing is linked.
    let (_, listed) = app.api_get(&quinn, "/api/v1/link-requests").await;
    assert_eq!(
        listed[0]["actions"],
        json!(["agree", "decline", "withdraw"])
    );
    let (status, agreed) = answer(&app, &quinn, id, "agree").await;
    assert_eq!(status, StatusCode::OK, "{agreed}");
    assert_eq!(agreed["status"], "waiting_for_therapist");
    assert!(!guided(&app, &robin).await);
    let (_, listed) = app.api_get(&priya, "/api/v1/link-requests").await;
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["actions"], json!(["decline", "accept"]));
    let (status, _) = answer(&app, &quinn, id, "accept").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (status, _) = answer(&app, &tom, id, "accept").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, accepted) = answer(&app, &priya, id, "accept").await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["status"], "accepted");
    assert!(guided(&app, &robin).await);
    let (status, _) = answer(&app, &priya, id, "decline").await;
    assert_eq!(status, StatusCode::CONFLICT, "settled stays settled");
}

async fn the_other_partner_or_the_therapist_can_decline(app: TestApp) {
    let (robin, quinn) = self_guided_pair(&app).await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;

    let (_, asked) = ask(&app, &robin, "DRPR-2026").await;
    let (status, declined) = answer(&app, &quinn, asked["id"].as_str().unwrap(), "decline").await;
    assert_eq!(status, StatusCode::OK, "{declined}");
    assert_eq!(declined["status"], "declined");
    let (_, listed) = app.api_get(&priya, "/api/v1/link-requests").await;
    assert_eq!(listed, json!([]), "the therapist never heard of it");

    // Either partner can take a waiting request back.
    let (status, asked) = ask(&app, &quinn, "DRPR-2026").await;
    assert_eq!(status, StatusCode::CREATED, "a settled request makes room");
    let (status, withdrawn) = answer(&app, &robin, asked["id"].as_str().unwrap(), "withdraw").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(withdrawn["status"], "withdrawn");

    let (_, asked) = ask(&app, &robin, "DRPR-2026").await;
    let id = asked["id"].as_str().unwrap();
    answer(&app, &quinn, id, "agree").await;
    let (status, declined) = answer(&app, &priya, id, "decline").await;
    assert_eq!(status, StatusCode::OK, "{declined}");
    assert_eq!(declined["status"], "declined");
    assert!(!guided(&app, &robin).await);
    let (_, listed) = app.api_get(&robin, "/api/v1/link-requests").await;
    assert_eq!(listed.as_array().unwrap().len(), 3);
    assert_eq!(listed[0]["status"], "declined");
    assert_eq!(listed[0]["actions"], json!([]));
}

/// The demo therapist's current practice code.
async fn priya_code(app: &TestApp) -> String {
    let email = trellis_core::EmailAddress::parse("email", "therapist@example.com").unwrap();
    let priya = app.store.user_by_email(&email).await.unwrap().unwrap().user;
    priya.link_code.unwrap()
}

async fn a_used_practice_code_no_longer_works(app: TestApp) {
    // Alone in the couple: no one else to ask, so the therapist is asked at once.
    let (_, robin) = self_guided(&app, "Robin", "robin@example.org").await;
    let (status, asked) = ask(&app, &robin, "DRPR-2026").await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    assert_eq!(asked["status"], "waiting_for_therapist");
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, _) = answer(&app, &priya, asked["id"].as_str().unwrap(), "accept").await;
    assert_eq!(status, StatusCode::OK);
    assert!(guided(&app, &robin).await);

    let fresh = priya_code(&app).await;
    assert_ne!(fresh, "DRPR-2026", "the used code was replaced");
    let (_, kim) = self_guided(&app, "Kim", "kim@example.org").await;
    let (status, refused) = ask(&app, &kim, "DRPR-2026").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.to_string().contains("don't recognise"));
    let (status, asked) = ask(&app, &kim, &fresh).await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
}

async fn an_expired_practice_code_is_refused(app: TestApp) {
    let email = trellis_core::EmailAddress::parse("email", "therapist@example.com").unwrap();
    let priya = app.store.user_by_email(&email).await.unwrap().unwrap().user;
    let now = trellis_web::state::system_now();
    app.store
        .replace_link_code(&priya.id, "DRPR-2026", now - 1)
        .await
        .unwrap();
    let (_, robin) = self_guided(&app, "Robin", "robin@example.org").await;
    let (status, refused) = ask(&app, &robin, "DRPR-2026").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.to_string().contains("don't recognise"));
    let therapist = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let caseload = page_text(therapist.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(caseload.contains("stopped working"));

    // A new code from the caseload works, for thirty days.
    let renewed = app
        .submit(&therapist, "/caseload", "/caseload/link-code", &[])
        .await;
    assert_eq!(renewed.status(), StatusCode::SEE_OTHER);
    let fresh = priya_code(&app).await;
    assert_ne!(fresh, "DRPR-2026");
    let caseload = page_text(therapist.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(caseload.contains(&fresh));
    assert!(caseload.contains("It works until"));
    assert!(!caseload.contains("stopped working"));
    let (status, asked) = ask(&app, &robin, &fresh).await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
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
