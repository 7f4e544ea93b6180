//! Cheap denial of service and loose ends of sessions, feeds, passwords and
//! mail (issue 15, the "low" items), each pinned by a test.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use trellis_core::time::{DAY, utc_date};
use trellis_web::WebConfig;
use trellis_web::state::system_now as now;

use crate::helpers::{DEMO_PASSWORD, TestApp, browser_client, find_link, fresh_couple, page_text};
use crate::on_both_backends;

on_both_backends!(empty => a_leaked_password_is_refused_at_first_run_setup);
on_both_backends!(with_practice =>
    a_fifth_live_stream_is_refused,
    a_live_stream_ends_when_its_session_ends,
    a_therapists_feed_names_no_client,
    a_round_of_problem_solving_takes_a_bounded_number_of_ideas,
    a_partners_invitation_mail_carries_no_words_they_chose,
    a_session_ended_through_the_store_is_refused_at_once_despite_the_cache,
);
on_both_backends!(without_session_cache =>
    without_the_session_cache_a_session_removed_behind_the_servers_back_is_refused_at_once,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    api_tokens_end_after_their_absolute_lifetime,
    a_calendar_feed_ends_with_a_password_change_and_signing_out_everywhere,
    leaked_passwords_are_refused_wherever_a_password_is_set,
    a_therapists_export_is_recorded_once_per_partner,
);

/// Runs one SQL statement on the test database, to move time in the data.
async fn execute(app: &TestApp, sql: &str) {
    execute_unannounced(app, sql).await;
    // behind the server's back: its session cache cannot know
    app.state.sessions().forget_all();
}

/// Runs one SQL statement on the test database and leaves the server's
/// session cache as it is.
async fn execute_unannounced(app: &TestApp, sql: &str) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut conn).await.unwrap();
}

/// The session cache spares a read per request, but a session ended through
/// the store (here by another part of the process, as a worker or a second
/// request would) is refused on the very next request, cached or not.
async fn a_session_ended_through_the_store_is_refused_at_once_despite_the_cache(app: TestApp) {
    let token = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, me) = app.api_get(&token, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    // read again: now from the cache
    assert_eq!(app.api_get(&token, "/api/v1/me").await.0, StatusCode::OK);
    app.store
        .delete_user_sessions(&trellis_core::UserId::new(me["id"].as_str().unwrap()))
        .await
        .unwrap();
    assert_eq!(
        app.api_get(&token, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}

/// With `session_cache_ms = 0`, nothing is remembered: a session removed
/// from the database by any means is refused on the next request.
async fn without_the_session_cache_a_session_removed_behind_the_servers_back_is_refused_at_once(
    app: TestApp,
) {
    let token = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    assert_eq!(app.api_get(&token, "/api/v1/me").await.0, StatusCode::OK);
    execute_unannounced(&app, "DELETE FROM sessions").await;
    assert_eq!(
        app.api_get(&token, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn open_talk(app: &TestApp, token: &str) -> String {
    let (status, talk) = app
        .api_post(Some(token), "/api/v1/talks", json!({"topic": "Sundays"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{talk}");
    talk["id"].as_str().unwrap().to_owned()
}

async fn listen(client: &reqwest::Client, app: &TestApp, talk: &str) -> reqwest::Response {
    client
        .get(app.url(&format!("/api/v1/talks/{talk}/events")))
        .send()
        .await
        .unwrap()
}

async fn listen_with_token(app: &TestApp, token: &str, talk: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(app.url(&format!("/api/v1/talks/{talk}/events")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// True when the server closes the stream. The guard only turns a stream
/// that would outlive its session (streams otherwise last five minutes)
/// into a failure instead of a long wait.
async fn stream_ends(mut stream: reqwest::Response) -> bool {
    assert_eq!(stream.status(), StatusCode::OK);
    tokio::time::timeout(Duration::from_secs(120), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await
    .is_ok()
}

async fn a_fifth_live_stream_is_refused(app: TestApp) {
    let (_, mo, pat, _) = fresh_couple(&app).await;
    let talk = open_talk(&app, &mo).await;
    let mut open = Vec::new();
    for _ in 0..trellis_web::streams::MAX_STREAMS_PER_PERSON {
        let stream = listen_with_token(&app, &mo, &talk).await;
        assert_eq!(stream.status(), StatusCode::OK);
        open.push(stream);
    }
    let fifth = listen_with_token(&app, &mo, &talk).await;
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = fifth.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("close one"),
        "{body}"
    );
    // The limit is each person's: the other partner still listens.
    assert_eq!(
        listen_with_token(&app, &pat, &talk).await.status(),
        StatusCode::OK
    );
    let (_, me) = app.api_get(&mo, "/api/v1/me").await;
    assert_eq!(
        app.state.streams().open_for(me["id"].as_str().unwrap()),
        trellis_web::streams::MAX_STREAMS_PER_PERSON
    );
    drop(open);
}

async fn a_live_stream_ends_when_its_session_ends(app: TestApp) {
    let (_, mo, pat, _) = fresh_couple(&app).await;
    // Mo opens the talk; Mo's first token ends with the password change below.
    let talk = open_talk(&app, &mo).await;

    // Signing out (an API token).
    let token = app.api_login("pat@example.org", "a long password").await;
    let stream = listen_with_token(&app, &token, &talk).await;
    let (status, _) = app
        .api_post(Some(&token), "/api/v1/auth/logout", json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(stream_ends(stream).await, "logout ends the stream");

    // Signing out everywhere.
    let stream = listen_with_token(&app, &pat, &talk).await;
    let (status, _) = app
        .api_post(Some(&pat), "/api/v1/auth/logout-all", json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(stream_ends(stream).await, "signing out everywhere ends it");

    // A password change (the browser that changed it stays signed in, on a
    // new session; the stream rode the old one).
    let browser = app.browser_login("mo@example.org", "a long password").await;
    let stream = listen(&browser, &app, &talk).await;
    let changed = app
        .change_password(&browser, "a long password", "a newer long password")
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert!(stream_ends(stream).await, "a password change ends it");

    // A deleted account.
    let token = app
        .api_login("mo@example.org", "a newer long password")
        .await;
    let stream = listen_with_token(&app, &token, &talk).await;
    let deleted = reqwest::Client::new()
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .json(&json!({"password": "a newer long password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert!(stream_ends(stream).await, "deleting the account ends it");
}

async fn api_tokens_end_after_their_absolute_lifetime(app: TestApp) {
    let token = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let browser = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    assert_eq!(app.api_get(&token, "/api/v1/me").await.0, StatusCode::OK);
    // Both sessions began a day more than the token lifetime ago, and have
    // been in use all along (they expire only when idle, a week from now).
    let lifetime = WebConfig::new("http://x").api_token_lifetime;
    let began = now() - lifetime - DAY;
    execute(
        &app,
        &format!(
            "UPDATE sessions SET created_at = {began}, expires_at = {}",
            now() + DAY
        ),
    )
    .await;
    assert_eq!(
        app.api_get(&token, "/api/v1/me").await.0,
        StatusCode::UNAUTHORIZED,
        "an API token ends after its lifetime, however active"
    );
    // A browser session is bound by its idle timeout alone.
    assert_eq!(
        browser
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // A new sign-in gives a new token that works.
    let fresh = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    assert_eq!(app.api_get(&fresh, "/api/v1/me").await.0, StatusCode::OK);
}

async fn feed_url(app: &TestApp, token: &str) -> String {
    let (status, calendar) = app.api_get(token, "/api/v1/me/calendar").await;
    assert_eq!(status, StatusCode::OK);
    calendar["url"].as_str().unwrap().to_owned()
}

async fn feed_text(app: &TestApp, token: &str) -> String {
    let response = reqwest::get(feed_url(app, token).await).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

async fn feed_status(url: &str) -> StatusCode {
    reqwest::get(url).await.unwrap().status()
}

async fn a_calendar_feed_ends_with_a_password_change_and_signing_out_everywhere(app: TestApp) {
    let token = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    let first = feed_url(&app, &token).await;
    assert_eq!(feed_status(&first).await, StatusCode::OK);

    let browser = app.browser_login("jordan@example.com", DEMO_PASSWORD).await;
    let changed = app
        .change_password(&browser, DEMO_PASSWORD, "jordan's new password")
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        feed_status(&first).await,
        StatusCode::NOT_FOUND,
        "the old address stops with the password"
    );

    let token = app
        .api_login("jordan@example.com", "jordan's new password")
        .await;
    let second = feed_url(&app, &token).await;
    assert_ne!(second, first);
    assert_eq!(feed_status(&second).await, StatusCode::OK);
    let (status, _) = app
        .api_post(Some(&token), "/api/v1/auth/logout-all", json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        feed_status(&second).await,
        StatusCode::NOT_FOUND,
        "signing out everywhere stops it too"
    );
}

async fn a_therapists_feed_names_no_client(app: TestApp) {
    let (couple_id, mo, _, priya) = fresh_couple(&app).await;
    let tomorrow = utc_date(now() + DAY);
    let (status, booked) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple_id}/appointments"),
            json!({"start": format!("{tomorrow}T18:00"), "end": format!("{tomorrow}T18:50"), "location": "Room 2"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    let therapists = feed_text(&app, &priya).await;
    assert!(
        therapists.contains("SUMMARY:Couples session"),
        "{therapists}"
    );
    for name in ["Mo", "Pat", "mo@example.org", "pat@example.org"] {
        assert!(!therapists.contains(name), "{name} in {therapists}");
    }
    // The partners' own feed still says whom they meet.
    let partners = feed_text(&app, &mo).await;
    assert!(partners.contains("SUMMARY:Session with Dr. Priya Natarajan"));
}

const LEAKED: &str = "qwertyuiop";

fn says_leaked(text: &str) -> bool {
    text.contains("appears in lists of leaked passwords")
}

async fn a_leaked_password_is_refused_at_first_run_setup(app: TestApp) {
    let config = WebConfig::new(app.base.clone());
    let link = trellis_web::services::accounts::setup_link_if_empty(&app.store, &config)
        .await
        .unwrap()
        .unwrap();
    let path = link.strip_prefix(&app.base).unwrap().to_owned();
    let refused = app
        .submit(
            &browser_client(),
            &path,
            &path,
            &[
                ("practice_name", "Harbour Therapy"),
                ("name", "Ada"),
                ("email", "ada@harbour.example"),
                ("password", "Password12"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(says_leaked(&page_text(refused).await));
}

async fn leaked_passwords_are_refused_wherever_a_password_is_set(app: TestApp) {
    // Self-guided sign-up.
    let signup = app
        .submit(
            &browser_client(),
            "/signup",
            "/signup",
            &[
                ("name", "Robin"),
                ("email", "robin@example.org"),
                ("password", LEAKED),
            ],
        )
        .await;
    assert_eq!(signup.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(says_leaked(&page_text(signup).await));

    // Accepting an invitation.
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, created) = app
        .api_post(Some(&priya), "/api/v1/couples", json!({"partners": [{"email": "lee@example.org", "name": "Lee"}, {"email": "kim@example.org", "name": "Kim"}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let invitation = app.invitation_token("lee@example.org");
    let (status, refused) = app
        .api_post(
            None,
            &format!("/api/v1/invitations/{invitation}/accept"),
            json!({"name": "Lee", "password": "1234567890"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(says_leaked(&refused.to_string()), "{refused}");

    // Changing it.
    let browser = app.browser_login("riley@example.com", DEMO_PASSWORD).await;
    let change = app
        .change_password(&browser, DEMO_PASSWORD, "BASKETBALL")
        .await;
    assert_eq!(change.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(says_leaked(&page_text(change).await));

    // Resetting it by a mailed link.
    let client = browser_client();
    let path = app.reset_link_path(&client, "riley@example.com").await;
    let reset = |password: &'static str| {
        let (app, client, path) = (&app, &client, &path);
        async move {
            app.submit(client, path, path, &[("password", password)])
                .await
        }
    };
    let refused = reset(" 1q2w3e4r5t ").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(says_leaked(&page_text(refused).await));
    // Any uncommon password still does.
    let done = reset("riley's uncommon phrase").await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
}

async fn a_round_of_problem_solving_takes_a_bounded_number_of_ideas(app: TestApp) {
    use trellis_core::talk::MAX_IDEAS_PER_ROUND;
    let (_, mo, pat, _) = fresh_couple(&app).await;
    let talk = open_talk(&app, &mo).await;
    let play = |token: &str, kind: &str, body: &str| {
        let (token, kind, body) = (token.to_owned(), kind.to_owned(), body.to_owned());
        let path = if kind == "hand_over" {
            format!("/api/v1/talks/{talk}/floor")
        } else {
            format!("/api/v1/talks/{talk}/turns")
        };
        let app = &app;
        async move {
            app.api_post(Some(&token), &path, json!({"kind": kind, "body": body}))
                .await
        }
    };
    for (token, kind, body) in [
        (&mo, "speak", "I miss our Sundays."),
        (&pat, "paraphrase", "You miss Sundays together."),
        (&mo, "confirm", ""),
        (&mo, "hand_over", ""),
        (&pat, "speak", "I need rest on Sundays."),
        (&mo, "paraphrase", "You need rest."),
        (&pat, "confirm", ""),
        (&mo, "solve", ""),
        (&pat, "agenda", "Sunday mornings"),
    ] {
        let (status, made) = play(token, kind, body).await;
        assert_eq!(status, StatusCode::CREATED, "{kind}: {made}");
    }
    for i in 0..MAX_IDEAS_PER_ROUND {
        let token = if i % 2 == 0 { &mo } else { &pat };
        let (status, made) = play(token, "idea", &format!("Idea {i}")).await;
        assert_eq!(status, StatusCode::CREATED, "idea {i}: {made}");
    }
    let (status, refused) = play(&mo, "idea", "One more").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("plenty of ideas"),
        "{refused}"
    );
    // A new agenda starts a new round.
    let (status, _) = play(&pat, "agenda", "Sunday evenings").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = play(&mo, "idea", "A walk at six").await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn a_partners_invitation_mail_carries_no_words_they_chose(app: TestApp) {
    let client = browser_client();
    let signed_up = app
        .sign_up(
            &client,
            "Your Bank Security Team",
            "someone@example.org",
            "an unverified password",
        )
        .await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);
    let invited = app
        .submit(
            &client,
            "/our-space",
            "/our-space/invite",
            &[
                ("name", "Call 555-0100 now"),
                ("email", "stranger@example.net"),
            ],
        )
        .await;
    assert_eq!(invited.status(), StatusCode::OK);
    let mail = app.last_mail_to("stranger@example.net").unwrap();
    assert!(find_link(&mail, &format!("{}/invitations/", app.base)).is_some());
    for chosen in ["Bank Security", "555-0100"] {
        assert!(!mail.contains(chosen), "{chosen} reached the mail: {mail}");
    }
}

async fn a_therapists_export_is_recorded_once_per_partner(app: TestApp) {
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    for body in ["Before Thursday", "After Thursday", "On Friday"] {
        let (status, _) = app
            .api_post(
                Some(&sam),
                "/api/v1/entries",
                json!({"body": body, "audience": "therapist"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let sams_id = app.api_get(&sam, "/api/v1/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, export) = app.api_get(&priya, "/api/v1/me/export").await;
    assert_eq!(status, StatusCode::OK);
    let exported = export["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["author"] != "Dr. Priya Natarajan" && e["written_by_me"] == false)
        .count();
    assert!(exported >= 3);
    let by_priya: Vec<_> = app
        .store
        .audit_events_about(&sams_id, 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.actor_role.as_deref() == Some("therapist"))
        .collect();
    assert_eq!(by_priya.len(), 1, "one event for Sam, not one per entry");
    assert_eq!(by_priya[0].action, "exported_writing");
    assert!(by_priya[0].detail.parse::<usize>().unwrap() >= 3);
    // Sam reads it in their activity, in plain words.
    let (_, activity) = app.api_get(&sam, "/api/v1/me/activity").await;
    assert!(
        activity
            .to_string()
            .contains("downloaded a copy of what you shared"),
        "{activity}"
    );
}
