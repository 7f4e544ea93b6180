//! Two-step sign-in: required for staff where the practice says so, optional
//! for partners; codes cannot be replayed; recovery codes work once.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{DEMO_PASSWORD, TestApp, browser_client, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    staff_must_set_up_two_step_sign_in_when_the_practice_requires_it,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    a_partner_turns_on_two_step_sign_in_and_signs_in_with_it,
);

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Sets up two-step sign-in for the browser's account; returns the secret and recovery codes.
pub async fn enroll(
    app: &TestApp,
    client: &reqwest::Client,
    password: &str,
) -> (String, Vec<String>) {
    let page = page_text(
        client
            .get(app.url("/account/two-factor"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains("<svg"), "a QR code is shown");
    let marker = "name=\"secret\" value=\"";
    let start = page.find(marker).expect("a setup secret") + marker.len();
    let secret = page[start..start + page[start..].find('"').unwrap()].to_owned();
    let wrong = app
        .submit(
            client,
            "/account/two-factor",
            "/account/two-factor",
            &[
                ("secret", &secret),
                ("code", "000000"),
                ("password", password),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let code = trellis_crypto::totp::code_at(&secret, now_seconds()).unwrap();
    // A signed-in browser alone cannot turn it on: the password is asked.
    let borrowed = app
        .submit(
            client,
            "/account/two-factor",
            "/account/two-factor",
            &[
                ("secret", &secret),
                ("code", &code),
                ("password", "not mine"),
            ],
        )
        .await;
    assert_eq!(borrowed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let done = app
        .submit(
            client,
            "/account/two-factor",
            "/account/two-factor",
            &[("secret", &secret), ("code", &code), ("password", password)],
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    let html = page_text(done).await;
    assert!(html.contains("Save your recovery codes"));
    let codes: Vec<String> = html
        .split("<li class=\"code\">")
        .skip(1)
        .map(|part| part[..part.find('<').unwrap()].to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn staff_must_set_up_two_step_sign_in_when_the_practice_requires_it(app: TestApp) {
    let admin = app.browser_login("admin@example.com", DEMO_PASSWORD).await;
    let saved = app
        .submit(
            &admin,
            "/practice",
            "/practice",
            &[
                ("name", "Riverside Couples Practice"),
                ("description", ""),
                ("require_two_factor", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    // Now the therapist is sent to set it up before anything else, and the API says why.
    let therapist = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let caseload = therapist.get(app.url("/caseload")).send().await.unwrap();
    assert_eq!(caseload.headers()["location"], "/account/two-factor");
    let (status, body) = app
        .api_post(
            None,
            "/api/v1/auth/login",
            json!({"email": "therapist@example.com", "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "two_factor_setup_required");
    let (secret, _) = enroll(&app, &therapist, DEMO_PASSWORD).await;
    assert_eq!(
        therapist
            .get(app.url("/caseload"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // It cannot be switched off while the practice requires it.
    let off = app
        .submit(
            &therapist,
            "/account/two-factor",
            "/account/two-factor/disable",
            &[("password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(off.status(), StatusCode::CONFLICT);
    // The API asks for the code, and accepts a fresh one.
    let (status, body) = app
        .api_post(
            None,
            "/api/v1/auth/login",
            json!({"email": "therapist@example.com", "password": DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("two_factor_required"))
    );
    let later = now_seconds() + 30;
    let code = trellis_crypto::totp::code_at(&secret, later).unwrap();
    let (status, _) = app
        .api_post(
            None,
            "/api/v1/auth/login",
            json!({"email": "therapist@example.com", "password": DEMO_PASSWORD, "totp": code}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a code of the next step (clock drift) is accepted"
    );
    let (status, _) = app
        .api_post(
            None,
            "/api/v1/auth/login",
            json!({"email": "therapist@example.com", "password": DEMO_PASSWORD, "totp": code}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the same code cannot be used twice"
    );
}

async fn a_partner_turns_on_two_step_sign_in_and_signs_in_with_it(app: TestApp) {
    let sam = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let (secret, recovery) = enroll(&app, &sam, DEMO_PASSWORD).await;

    let client = browser_client();
    let first = app
        .submit(
            &client,
            "/login",
            "/login",
            &[("email", "sam@example.com"), ("password", DEMO_PASSWORD)],
        )
        .await;
    assert_eq!(
        first.status(),
        StatusCode::OK,
        "no session yet: the second step is asked"
    );
    let html = page_text(first).await;
    assert!(html.contains("One more step"));
    let marker = "name=\"token\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let token = html[start..start + html[start..].find('"').unwrap()].to_owned();
    assert_eq!(
        client
            .get(app.url("/our-space"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER,
        "not signed in yet"
    );

    let wrong = app
        .submit(
            &client,
            "/login",
            "/login/two-factor",
            &[("token", &token), ("code", "123456")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let code = trellis_crypto::totp::code_at(&secret, now_seconds() + 30).unwrap();
    let done = app
        .submit(
            &client,
            "/login",
            "/login/two-factor",
            &[("token", &token), ("code", &code)],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        client
            .get(app.url("/our-space"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    // A recovery code works once.
    let (status, _) = app
        .api_post(None, "/api/v1/auth/login", json!({"email": "sam@example.com", "password": DEMO_PASSWORD, "totp": recovery[0].to_uppercase()}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .api_post(
            None,
            "/api/v1/auth/login",
            json!({"email": "sam@example.com", "password": DEMO_PASSWORD, "totp": recovery[0]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // A password reset link alone does not sign in past the second step.
    let forgot = app
        .submit(
            &browser_client(),
            "/password/forgot",
            "/password/forgot",
            &[("email", "sam@example.com")],
        )
        .await;
    assert_eq!(forgot.status(), StatusCode::OK);
    let mail = app.wait_for_mail_to("sam@example.com").await;
    let link = crate::helpers::find_link(&mail, &format!("{}/password/reset/", app.base)).unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    let reset_client = browser_client();
    let reset = app
        .submit(
            &reset_client,
            &path,
            &path,
            &[("password", "a fresh new password")],
        )
        .await;
    assert_eq!(reset.headers()["location"], "/login");
    assert_eq!(
        reset_client
            .get(app.url("/our-space"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    // Partners may turn it off with their password (after signing in again:
    // the reset ended every session).
    let again = browser_client();
    let first = app
        .submit(
            &again,
            "/login",
            "/login",
            &[
                ("email", "sam@example.com"),
                ("password", "a fresh new password"),
            ],
        )
        .await;
    let html = page_text(first).await;
    let start = html.find(marker).unwrap() + marker.len();
    let token = html[start..start + html[start..].find('"').unwrap()].to_owned();
    let done = app
        .submit(
            &again,
            "/login",
            "/login/two-factor",
            &[("token", &token), ("code", &recovery[1])],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let off = app
        .submit(
            &again,
            "/account/two-factor",
            "/account/two-factor/disable",
            &[("password", "a fresh new password")],
        )
        .await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    let (status, _) = app
        .api_post(
            None,
            "/api/v1/auth/login",
            json!({"email": "sam@example.com", "password": "a fresh new password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "a password alone is enough again");
}
