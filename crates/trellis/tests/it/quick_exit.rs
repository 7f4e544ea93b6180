//! Quick exit (issue 13): it signs the browser out as well as leaving, needs
//! no form token (a forged one can only sign someone out), and is offered on
//! the public pages that ask about fear. Where help is shown, helplines are
//! numbers to tap.

use reqwest::StatusCode;

use crate::helpers::{DEMO_PASSWORD, TestApp, browser_client, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    public_pages_about_fear_offer_quick_exit,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    quick_exit_signs_out_without_a_form_token,
    quick_exit_cannot_be_triggered_by_a_get,
    help_offers_helplines_to_call_or_text,
);

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn quick_exit_signs_out_without_a_form_token(app: TestApp) {
    let alex = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    let journal = alex.get(app.url("/journal")).send().await.unwrap();
    assert_eq!(journal.status(), StatusCode::OK);
    let page = page_text(journal).await;
    assert!(
        page.contains("action=\"/quick-exit\""),
        "partner pages offer quick exit"
    );

    // As navigator.sendBeacon sends it: no token, no body.
    let exit = alex.post(app.url("/quick-exit")).send().await.unwrap();
    assert_eq!(exit.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&exit).starts_with("https://"),
        "quick exit leaves for an outside page, not {:?}",
        location(&exit)
    );
    let after = alex.get(app.url("/journal")).send().await.unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&after), "/login", "the session has ended");

    // Without any session it still just leaves.
    let again = alex.post(app.url("/quick-exit")).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::SEE_OTHER);

    // The exemption is exactly this path: signing out otherwise still needs a token.
    let sam = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let logout = sam.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(logout.status(), StatusCode::FORBIDDEN);
    let still = sam.get(app.url("/journal")).send().await.unwrap();
    assert_eq!(still.status(), StatusCode::OK, "Sam is still signed in");
}

async fn quick_exit_cannot_be_triggered_by_a_get(app: TestApp) {
    let alex = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    let get = alex.get(app.url("/quick-exit")).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);
    let journal = alex.get(app.url("/journal")).send().await.unwrap();
    assert_eq!(
        journal.status(),
        StatusCode::OK,
        "a GET (an image, a link) does not sign anyone out"
    );
}

async fn public_pages_about_fear_offer_quick_exit(app: TestApp) {
    let id = app.store.practices().await.unwrap()[0].id.clone();
    for path in [
        "/is-it-time".to_owned(),
        format!("/practices/{id}"),
        format!("/practices/{id}/request"),
    ] {
        let response = reqwest::Client::new()
            .get(app.url(&path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let page = page_text(response).await;
        assert!(
            page.contains("<form class=\"quick-exit-form\" method=\"post\" action=\"/quick-exit\""),
            "{path} has a quick exit that works without JavaScript"
        );
        assert!(
            page.contains("<script src=\"/static/quick-exit.js\">"),
            "{path} loads the quick-exit script"
        );
    }
    // The result of the self-check, too.
    let visitor = browser_client();
    let result = app
        .submit(&visitor, "/is-it-time", "/is-it-time", &[("safety", "yes")])
        .await;
    assert_eq!(result.status(), StatusCode::OK);
    let page = page_text(result).await;
    assert!(page.contains("action=\"/quick-exit\""), "{page}");
}

async fn help_offers_helplines_to_call_or_text(app: TestApp) {
    let alex = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    for path in ["/journal?saved=true&help=true", "/messages?crisis=true"] {
        let page = page_text(alex.get(app.url(path)).send().await.unwrap()).await;
        assert_tap_to_call(path, &page);
    }
    // Visitors too: the practice page and the self-check.
    let id = app.store.practices().await.unwrap()[0].id.clone();
    for path in [format!("/practices/{id}"), "/is-it-time".to_owned()] {
        let page = page_text(
            reqwest::Client::new()
                .get(app.url(&path))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_tap_to_call(&path, &page);
    }
}

fn assert_tap_to_call(path: &str, page: &str) {
    for link in [
        "href=\"tel:988\"",
        "href=\"sms:988\"",
        "href=\"tel:116123\"",
        "href=\"sms:85258\"",
    ] {
        assert!(page.contains(link), "no {link} on {path}:\n{page}");
    }
}
