//! Signing in and out, first-run setup, passwords, CSRF.

use reqwest::StatusCode;
use serde_json::json;
use trellis_web::WebConfig;

use crate::helpers::{
    Backend, DEMO_PASSWORD, SmtpSink, TestApp, browser_client, find_link, page_text,
};
use crate::on_both_backends;

on_both_backends!(empty => first_run_setup_creates_the_first_admin_once);
on_both_backends!(with_demo =>
    every_demo_account_signs_in_with_its_role,
    wrong_credentials_are_refused_alike_for_known_and_unknown_emails,
    api_tokens_are_revoked_by_logout,
    web_sign_in_and_out,
    forms_without_the_csrf_token_are_refused,
    password_reset_by_mailed_link,
    changing_the_password_signs_out_other_devices,
    malformed_json_is_a_clear_422,
);

async fn first_run_setup_creates_the_first_admin_once(app: TestApp) {
    let config = WebConfig::new(app.base.clone());
    let link = trellis_web::services::accounts::setup_link_if_empty(&app.store, &config)
        .await
        .unwrap()
        .unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    let client = browser_client();
    assert_eq!(
        client.get(app.url(&path)).send().await.unwrap().status(),
        StatusCode::OK
    );

    // Bad input: a clear message, and what was typed is still there.
    let refused = app
        .submit(
            &client,
            &path,
            &path,
            &[
                ("practice_name", "Harbour Therapy"),
                ("name", "Ada"),
                ("email", "not-an-email"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = page_text(refused).await;
    assert!(
        html.contains("Harbour Therapy"),
        "the practice name typed is kept"
    );
    assert!(html.contains("email address like name@example.com"));
    assert!(html.contains("at least 10 characters"));

    let created = app
        .submit(
            &client,
            &path,
            &path,
            &[
                ("practice_name", "Harbour Therapy"),
                ("name", "Ada"),
                ("email", "ada@harbour.example"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(created.headers()["location"], "/practice");
    // A new practice requires two-step sign-in of its staff: set it up first.
    let practice = client.get(app.url("/practice")).send().await.unwrap();
    assert_eq!(practice.headers()["location"], "/account/two-factor");
    crate::two_factor::enroll(&app, &client, "a long enough password").await;
    let practice = page_text(client.get(app.url("/practice")).send().await.unwrap()).await;
    assert!(practice.contains("Harbour Therapy"));

    // The link works once; and there is no second setup link once someone exists.
    assert_eq!(
        client.get(app.url(&path)).send().await.unwrap().status(),
        StatusCode::GONE
    );
    assert!(
        trellis_web::services::accounts::setup_link_if_empty(&app.store, &config)
            .await
            .unwrap()
            .is_none()
    );
    let (status, body) = app
        .api_post(
            None,
            "/api/v1/auth/login",
            json!({"email": "ada@harbour.example", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "two_factor_required");
}

async fn every_demo_account_signs_in_with_its_role(app: TestApp) {
    for (email, role, has_couple) in [
        ("admin@example.com", "admin", false),
        ("therapist@example.com", "therapist", false),
        ("therapist2@example.com", "therapist", false),
        ("alex@example.com", "partner", true),
        ("sam@example.com", "partner", true),
        ("jordan@example.com", "partner", true),
        ("riley@example.com", "partner", true),
    ] {
        let (status, body) = app
            .api_post(
                None,
                "/api/v1/auth/login",
                json!({"email": email, "password": DEMO_PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{email}");
        assert_eq!(body["user"]["role"], role);
        assert_eq!(body["user"]["email"], email);
        let (status, me) = app
            .api_get(body["token"].as_str().unwrap(), "/api/v1/me")
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["role"], role);
        assert_eq!(me["couple_id"].is_string(), has_couple, "{email}: {me}");
        for key in ["id", "email", "name", "role", "couple_id"] {
            assert!(me.get(key).is_some(), "{key} missing from /me");
        }
    }
    // Partners of one couple share it; the other couple's differs.
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    let (_, a) = app.api_get(&alex, "/api/v1/me").await;
    let (_, s) = app.api_get(&sam, "/api/v1/me").await;
    let (_, j) = app.api_get(&jordan, "/api/v1/me").await;
    assert_eq!(a["couple_id"], s["couple_id"]);
    assert_ne!(a["couple_id"], j["couple_id"]);
}

async fn wrong_credentials_are_refused_alike_for_known_and_unknown_emails(app: TestApp) {
    for (email, password) in [
        ("alex@example.com", "not the password"),
        ("nobody@example.com", DEMO_PASSWORD),
        ("not an email", "x"),
        ("", ""),
    ] {
        let (status, body) = app
            .api_post(
                None,
                "/api/v1/auth/login",
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{email}");
        assert_eq!(body["error"]["code"], "invalid_credentials");
    }
    // Emails are matched regardless of case and surrounding spaces.
    let (status, _) = app
        .api_post(
            None,
            "/api/v1/auth/login",
            json!({"email": "  ALEX@example.com ", "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn api_tokens_are_revoked_by_logout(app: TestApp) {
    let token = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    assert_eq!(app.api_get(&token, "/api/v1/me").await.0, StatusCode::OK);
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, body) = app.api_get(&token, "/api/v1/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert_eq!(
        app.api_get("made-up-token", "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn web_sign_in_and_out(app: TestApp) {
    let client = browser_client();
    // Not signed in: pages send you to sign in.
    let response = client.get(app.url("/our-space")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/login");

    let refused = app
        .submit(
            &client,
            "/login",
            "/login",
            &[
                ("email", "alex@example.com"),
                ("password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let html = page_text(refused).await;
    assert!(html.contains("alex@example.com"), "the email typed is kept");
    assert!(html.contains("don't match"));

    let signed_in = app
        .submit(
            &client,
            "/login",
            "/login",
            &[("email", "alex@example.com"), ("password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], "/our-space");
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("trellis_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let home = client.get(app.url("/our-space")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    assert!(page_text(home).await.contains("Sam"));

    let out = app.submit(&client, "/our-space", "/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        client
            .get(app.url("/our-space"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
}

async fn forms_without_the_csrf_token_are_refused(app: TestApp) {
    let client = browser_client();
    // No CSRF cookie at all.
    let response = client
        .post(app.url("/login"))
        .form(&[("email", "alex@example.com"), ("password", DEMO_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A cookie, but a different value in the form.
    let _ = app.csrf(&client, "/login").await;
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("email", "alex@example.com"),
            ("password", DEMO_PASSWORD),
            ("csrf", "forged-value-forged-value-forged-value"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(page_text(response).await.contains("try again"));
    // A signed-in browser cannot be made to sign out (or anything else) without the token.
    let signed_in = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    let response = signed_in.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        signed_in
            .get(app.url("/our-space"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // State never changes on GET.
    assert_eq!(
        signed_in
            .get(app.url("/logout"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

async fn password_reset_by_mailed_link(app: TestApp) {
    let client = browser_client();
    // Unknown and known addresses get the same answer.
    for email in ["nobody@example.com", "riley@example.com"] {
        let response = app
            .submit(
                &client,
                "/password/forgot",
                "/password/forgot",
                &[("email", email)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            page_text(response)
                .await
                .contains("If an account uses that address")
        );
    }
    let mail = app.wait_for_mail_to("riley@example.com").await;
    assert!(app.last_mail_to("nobody@example.com").is_none());
    let link = find_link(&mail, &format!("{}/password/reset/", app.base)).unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_owned();

    let short = app
        .submit(&client, &path, &path, &[("password", "short")])
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let done = app
        .submit(
            &client,
            &path,
            &path,
            &[("password", "a brand new password")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);

    let (old, _) = app
        .api_post(
            None,
            "/api/v1/auth/login",
            json!({"email": "riley@example.com", "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(old, StatusCode::UNAUTHORIZED);
    app.api_login("riley@example.com", "a brand new password")
        .await;
    assert_eq!(
        client.get(app.url(&path)).send().await.unwrap().status(),
        StatusCode::GONE
    );
}

async fn changing_the_password_signs_out_other_devices(app: TestApp) {
    let other_device = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    let client = app.browser_login("jordan@example.com", DEMO_PASSWORD).await;
    let wrong = app
        .submit(
            &client,
            "/account",
            "/account/password",
            &[
                ("current_password", "not it"),
                ("new_password", "another good password"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page_text(wrong).await.contains("current password"));
    let changed = app
        .submit(
            &client,
            "/account",
            "/account/password",
            &[
                ("current_password", DEMO_PASSWORD),
                ("new_password", "another good password"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    // This browser stays signed in; the other device does not.
    assert_eq!(
        client
            .get(app.url("/account?changed=true"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.api_get(&other_device, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    app.api_login("jordan@example.com", "another good password")
        .await;
}

async fn malformed_json_is_a_clear_422(app: TestApp) {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_input");
    let (status, body) = app
        .api_post(None, "/api/v1/auth/login", json!({"email": 5}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_goes_out_through_a_real_smtp_server() {
    let smtp = SmtpSink::start().await;
    let app = TestApp::with_demo_and_smtp(Backend::Sqlite, Some(smtp.url.clone()))
        .await
        .unwrap();
    let client = browser_client();
    let response = app
        .submit(
            &client,
            "/password/forgot",
            "/password/forgot",
            &[("email", "sam@example.com")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    for _ in 0..200 {
        if !smtp.messages().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "one message over SMTP");
    let mail = messages[0].replace("=\n", "").replace("=3D", "=");
    assert!(mail.contains("To: Sam <sam@example.com>"), "{mail}");
    let link = find_link(&mail, &format!("{}/password/reset/", app.base))
        .expect("a reset link in the mail");
    let path = link.strip_prefix(&app.base).unwrap();
    assert_eq!(
        client.get(app.url(path)).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert!(
        app.last_mail_to("sam@example.com").is_none(),
        "nothing went to the outbox"
    );
}
