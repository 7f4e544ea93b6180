//! The authorization matrix: every route of the router, called as every kind
//! of caller, must give what its declared `Access` says — and nothing private
//! may appear in any answer to anyone but its author. No route may answer 5xx.

use reqwest::StatusCode;
use serde_json::json;
use trellis_core::Role;
use trellis_core::access::{Access, Caller, Outcome, expected_outcome};
use trellis_core::privacy::Relation;
use trellis_store::NewPracticeWithAdmin;

use crate::helpers::{DEMO_PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(with_demo => every_route_answers_every_caller_as_declared);

const SECRET: &str = "matrix-secret: what I never told anyone";
const PRIVATE_MESSAGE: &str = "matrix-private-message: only for my therapist";
const NOTE: &str = "matrix-note: presenting concerns, for my eyes only";

struct Persona {
    name: &'static str,
    email: Option<&'static str>,
    caller: Caller,
}

fn personas() -> Vec<Persona> {
    let p = |name, email, role, relation| Persona {
        name,
        email,
        caller: Caller { role, relation },
    };
    vec![
        p("anonymous", None, None, Relation::Outsider),
        p(
            "partner A (author)",
            Some("alex@example.com"),
            Some(Role::Partner),
            Relation::Author,
        ),
        p(
            "partner B",
            Some("sam@example.com"),
            Some(Role::Partner),
            Relation::Partner,
        ),
        p(
            "partner of another couple",
            Some("jordan@example.com"),
            Some(Role::Partner),
            Relation::Outsider,
        ),
        p(
            "the couple's therapist",
            Some("therapist@example.com"),
            Some(Role::Therapist),
            Relation::CoupleTherapist,
        ),
        p(
            "another therapist",
            Some("therapist2@example.com"),
            Some(Role::Therapist),
            Relation::Outsider,
        ),
        p(
            "admin of another practice",
            Some("other-admin@example.org"),
            Some(Role::Admin),
            Relation::Outsider,
        ),
    ]
}

/// Real items of partner A's couple that paths name.
pub struct Items {
    pub entry_id: String,
    pub couple_id: String,
    pub appointment_id: String,
    pub note_id: String,
    /// A talk of partner A's couple that the therapist may read.
    pub talk_id: String,
}

/// A route's path with each parameter filled by what `access` expects there.
pub fn fill_path(path: &str, access: Access, items: &Items) -> String {
    let mut filled = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        filled.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .map_or(rest.len(), |e| start + e + 1);
        let name = &rest[start + 1..end - 1];
        filled.push_str(match (name, access) {
            ("action", _) => "pace",
            ("exercise_id", _) => "trust-in-daily-life",
            ("stage_id", _) => "understanding-how-it-happened",
            ("instrument", _) => "csi4",
            ("appointment_id", _) => items.appointment_id.as_str(),
            ("note_id", _) => items.note_id.as_str(),
            ("id", _) if path.contains("/talks/") => items.talk_id.as_str(),
            _ if path.contains("/instruments/") => "csi4",
            _ if path.contains("/exercises/") => "trust-in-daily-life",
            (_, Access::Writing) => items.entry_id.as_str(),
            (_, Access::CoupleTherapist | Access::Couple) => items.couple_id.as_str(),
            // Well-formed but unknown: a malformed id names nothing (404)
            // before any access rule is asked.
            _ => "00000000-0000-7000-8000-000000000000",
        });
        rest = &rest[end..];
    }
    filled.push_str(rest);
    filled
}

/// Does the answer match the expected outcome?
fn matches(expected: Outcome, access: Access, status: StatusCode, location: Option<&str>) -> bool {
    let to_sign_in = status == StatusCode::SEE_OTHER && location == Some("/login");
    match expected {
        Outcome::Unauthenticated => status == StatusCode::UNAUTHORIZED || to_sign_in,
        Outcome::Forbidden => status == StatusCode::FORBIDDEN,
        Outcome::NotFound => status == StatusCode::NOT_FOUND,
        // A public route may still refuse credentials (401) or an unknown link (404, 410).
        Outcome::Allowed if access == Access::Public => status != StatusCode::FORBIDDEN,
        Outcome::Allowed => {
            let item_scoped = matches!(access, Access::Writing | Access::CoupleTherapist);
            status != StatusCode::UNAUTHORIZED
                && status != StatusCode::FORBIDDEN
                && !to_sign_in
                && !(item_scoped && status == StatusCode::NOT_FOUND)
        }
    }
}

async fn every_route_answers_every_caller_as_declared(app: TestApp) {
    let hash = trellis_crypto::hash_password(DEMO_PASSWORD).unwrap();
    app.store
        .create_practice_with_admin(NewPracticeWithAdmin {
            practice_name: "Another Practice",
            admin_email: "other-admin@example.org",
            admin_name: "Other Admin",
            password_hash: &hash,
            setup_token_hash: None,
            now: trellis_web::state::system_now(),
        })
        .await
        .unwrap();
    // Its admin signs in with a password only, like the demo's staff.
    let other = app
        .store
        .user_by_email(&trellis_core::EmailAddress::parse("e", "other-admin@example.org").unwrap())
        .await
        .unwrap()
        .unwrap()
        .user;
    app.store
        .set_practice_requires_two_factor(other.practice_id.as_deref().unwrap(), false)
        .await
        .unwrap();
    let items = seed_items(&app).await;

    let specs = trellis_web::routes::specs();
    assert!(
        specs.len() >= 40,
        "the route table looks incomplete: {}",
        specs.len()
    );
    let mut failures = Vec::new();
    let mut calls = 0;
    for spec in &specs {
        let path = fill_path(spec.path, spec.access, &items);
        let is_api = spec.path.starts_with("/api/");
        for persona in personas() {
            // A fresh session per call: some routes end the session they are called with.
            let (client, token) = app.caller(persona.email, is_api).await;
            let mut request = client.request(spec.method.clone(), app.url(&path));
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            if spec.method != reqwest::Method::GET {
                request = if is_api {
                    request.json(&json!({}))
                } else {
                    let csrf = app.csrf(&client, "/password/forgot").await;
                    request.form(&[("csrf", csrf)])
                };
            }
            let response = request.send().await.unwrap();
            calls += 1;
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            // A live stream never ends by itself: its status is what counts here.
            let streaming = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/event-stream"));
            let body = if streaming {
                String::new()
            } else {
                response.text().await.unwrap_or_default()
            };
            let expected = expected_outcome(spec.access, persona.caller);
            let what = format!("{} {} as {}", spec.method, spec.path, persona.name);
            if status.is_server_error() {
                failures.push(format!("{what}: server error {status}"));
            } else if !matches(expected, spec.access, status, location.as_deref()) {
                failures.push(format!(
                    "{what}: expected {expected:?}, got {status} {location:?}"
                ));
            }
            if persona.caller.relation != Relation::Author && body.contains("matrix-secret") {
                failures.push(format!("{what}: LEAK of partner A's private writing"));
            }
            let thread_member = matches!(
                persona.caller.relation,
                Relation::Author | Relation::CoupleTherapist
            );
            if !thread_member && body.contains("matrix-private-message") {
                failures.push(format!("{what}: LEAK of partner A's private message"));
            }
            if persona.caller.relation != Relation::CoupleTherapist && body.contains("matrix-note")
            {
                failures.push(format!("{what}: LEAK of the therapist's private note"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls broke the rules:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Partner A's private entry and message, the therapist's note, a session
/// and a talk: real items for paths to name, each with its own audience.
pub async fn seed_items(app: &TestApp) -> Items {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let (status, entry) = app
        .api_post(Some(&alex), "/api/v1/entries", json!({"body": SECRET}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let entry_id = entry["id"].as_str().unwrap().to_owned();
    let couple_id = entry["couple_id"].as_str().unwrap().to_owned();
    // A private message to the therapist, a therapist's note and a session:
    // each may reach only its own audience.
    let (status, _) = app
        .api_post(
            Some(&alex),
            "/api/v1/messages",
            json!({"thread": "private", "body": PRIVATE_MESSAGE}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, note) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple_id}/notes"),
            json!({"body": NOTE}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    let tomorrow =
        trellis_web::when::rfc3339(trellis_web::state::system_now() + trellis_core::time::DAY);
    let (status, appointment) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple_id}/appointments"),
            json!({"start": tomorrow, "location": "Room 2"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{appointment}");
    let (status, talk) = app
        .api_post(
            Some(&alex),
            "/api/v1/talks",
            json!({"topic": "matrix talk", "therapist_can_read": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{talk}");
    Items {
        talk_id: talk["id"].as_str().unwrap().to_owned(),
        entry_id,
        couple_id,
        appointment_id: appointment["id"].as_str().unwrap().to_owned(),
        note_id: note["id"].as_str().unwrap().to_owned(),
    }
}
