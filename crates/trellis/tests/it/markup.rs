//! What assistive technology relies on and axe cannot always see: every id
//! on a page is unique, every visible form control has a name, and a failed
//! sign-in says which fields to fix and puts the cursor there.

use std::collections::BTreeMap;

use reqwest::StatusCode;

use crate::helpers::{DEMO_PASSWORD, TestApp, browser_client, page_text};
use crate::on_both_backends;

on_both_backends!(with_demo =>
    every_page_has_unique_ids_and_named_controls,
    a_failed_sign_in_marks_the_fields_and_places_the_cursor,
);

/// The value of `name="…"` style attributes in one tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

/// Every opening tag of `element` in the page.
fn tags<'a>(html: &'a str, element: &str) -> Vec<&'a str> {
    tags_at(html, element).into_iter().map(|(_, t)| t).collect()
}

/// Every opening tag of `element` with where it starts.
fn tags_at<'a>(html: &'a str, element: &str) -> Vec<(usize, &'a str)> {
    let open = format!("<{element}");
    html.match_indices(&open)
        .filter(|(i, _)| {
            html[i + open.len()..]
                .chars()
                .next()
                .is_some_and(|c| c == ' ' || c == '>')
        })
        .filter_map(|(i, _)| html[i..].find('>').map(|end| (i, &html[i..i + end + 1])))
        .collect()
}

/// Where each `<label>…</label>` spans: a control inside one is named by it.
fn label_spans(html: &str) -> Vec<(usize, usize)> {
    tags_at(html, "label")
        .into_iter()
        .filter_map(|(i, _)| html[i..].find("</label>").map(|end| (i, i + end)))
        .collect()
}

/// Problems with ids and control names on one page.
fn problems(path: &str, html: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, _) in html.match_indices(" id=\"") {
        let start = i + 5;
        if let Some(end) = html[start..].find('"') {
            *ids.entry(&html[start..start + end]).or_default() += 1;
        }
    }
    for (id, count) in &ids {
        if *count > 1 {
            problems.push(format!("{path}: id \"{id}\" appears {count} times"));
        }
    }
    let labelled: Vec<&str> = tags(html, "label")
        .into_iter()
        .filter_map(|t| attribute(t, "for"))
        .collect();
    let spans = label_spans(html);
    for element in ["input", "textarea", "select"] {
        for (at, tag) in tags_at(html, element) {
            let kind = attribute(tag, "type").unwrap_or("text");
            if matches!(kind, "hidden" | "submit" | "button") {
                continue;
            }
            let named = attribute(tag, "aria-label").is_some()
                || attribute(tag, "aria-labelledby").is_some()
                || attribute(tag, "id").is_some_and(|id| labelled.contains(&id))
                || spans
                    .iter()
                    .any(|(start, end)| (*start..*end).contains(&at));
            if !named {
                problems.push(format!("{path}: a {element} without a name: {tag}"));
            }
        }
    }
    problems
}

async fn every_page_has_unique_ids_and_named_controls(app: TestApp) {
    trellis::demo::history::seed(&app.state, trellis_web::state::system_now())
        .await
        .unwrap();
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (_, caseload) = app.api_get(&priya, "/api/v1/caseload").await;
    let couple = caseload["couples"][0]["id"].as_str().unwrap().to_owned();
    let mut found = Vec::new();
    let mut seen = 0;
    for (email, paths) in [
        (
            "sam@example.com",
            vec![
                "/our-space".to_owned(),
                "/journey".to_owned(),
                "/journey/boundaries-we-need".to_owned(),
                "/measures".to_owned(),
                "/measures/trust-pulse".to_owned(),
                "/promises".to_owned(),
                "/journal".to_owned(),
                "/talks".to_owned(),
                "/messages".to_owned(),
                "/sessions".to_owned(),
                "/account".to_owned(),
                "/account/notices".to_owned(),
                "/account/two-factor".to_owned(),
            ],
        ),
        (
            "therapist@example.com",
            vec![
                "/caseload".to_owned(),
                format!("/caseload/couples/{couple}"),
                format!("/caseload/couples/{couple}/sessions"),
                format!("/caseload/couples/{couple}/messages"),
                format!("/caseload/couples/{couple}/notes"),
                "/intake".to_owned(),
            ],
        ),
        ("admin@example.com", vec!["/practice".to_owned()]),
    ] {
        let client = app.browser_login(email, DEMO_PASSWORD).await;
        for path in paths {
            let response = client.get(app.url(&path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{email} {path}");
            found.extend(problems(&path, &page_text(response).await));
            seen += 1;
        }
    }
    for path in ["/login", "/signup", "/is-it-time", "/password/forgot"] {
        let response = browser_client().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        found.extend(problems(path, &page_text(response).await));
        seen += 1;
    }
    assert!(seen >= 24);
    assert!(found.is_empty(), "{found:#?}");
    // the checker itself finds what it is for
    assert_eq!(
        problems("x", "<h2 id=\"a\">A</h2><textarea id=\"a\"></textarea>").len(),
        2
    );
}

async fn a_failed_sign_in_marks_the_fields_and_places_the_cursor(app: TestApp) {
    let client = browser_client();
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
    let password = tags(&html, "input")
        .into_iter()
        .find(|t| attribute(t, "id") == Some("password"))
        .unwrap();
    assert_eq!(attribute(password, "aria-invalid"), Some("true"));
    assert_eq!(attribute(password, "aria-describedby"), Some("form-errors"));
    assert!(password.contains(" autofocus"), "{password}");
    assert!(html.contains("id=\"form-errors\""));
    // the first visit marks nothing
    let fresh = page_text(client.get(app.url("/login")).send().await.unwrap()).await;
    assert!(!fresh.contains("aria-invalid"));

    // the account page leads to two-step sign-in
    let alex = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    let account = page_text(alex.get(app.url("/account")).send().await.unwrap()).await;
    assert!(account.contains("href=\"/account/two-factor\""));
}
