//! Structured talks over HTTP: the rules, who may read, live delivery over
//! server-sent events (resuming with Last-Event-ID, and across two instances
//! on PostgreSQL), time-outs, crisis language and the two-circles compromise.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use trellis_core::time::{HOUR, MINUTE};
use trellis_web::state::system_now as now;
use trellis_web::when::rfc3339;

use crate::helpers::{Backend, DEMO_PASSWORD, TestApp, assert_sealed_at_rest, fresh_couple};
use crate::on_both_backends;

// The demo's Alex and Sam, for the talks that read their history.
on_both_backends!(with_demo =>
    a_full_talk_follows_the_rules,
    two_circles_are_revealed_together,
);

on_both_backends!(with_practice =>
    the_therapist_reads_a_talk_only_with_the_couples_consent,
    racing_moves_cannot_fork_a_talk,
    turns_arrive_live_and_resume_after_the_last_event,
    time_outs_come_back_and_show_as_a_pattern,
    crisis_language_asks_the_writer_to_confirm,
    a_stronger_concern_is_raised_even_right_after_another,
    a_possible_sign_asks_the_writer_and_tells_nobody,
    a_safety_pause_stops_talks_but_never_leaving,
);

async fn open_talk(app: &TestApp, token: &str, body: Value) -> String {
    let (status, talk) = app.api_post(Some(token), "/api/v1/talks", body).await;
    assert_eq!(status, StatusCode::CREATED, "{talk}");
    talk["id"].as_str().unwrap().to_owned()
}

async fn turn(
    app: &TestApp,
    token: &str,
    talk: &str,
    kind: &str,
    body: &str,
) -> (StatusCode, Value) {
    app.api_post(
        Some(token),
        &format!("/api/v1/talks/{talk}/turns"),
        json!({"kind": kind, "body": body}),
    )
    .await
}

async fn ok(app: &TestApp, token: &str, talk: &str, kind: &str, body: &str) -> i64 {
    let (status, made) = turn(app, token, talk, kind, body).await;
    assert_eq!(status, StatusCode::CREATED, "{kind}: {made}");
    made["seq"].as_i64().unwrap()
}

async fn refused(app: &TestApp, token: &str, talk: &str, kind: &str, body: &str) -> String {
    let (status, answer) = turn(app, token, talk, kind, body).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "{kind} should be refused: {answer}"
    );
    answer["error"]["message"].as_str().unwrap().to_owned()
}

async fn a_full_talk_follows_the_rules(app: TestApp) {
    let (couple_id, mo, pat, priya) = fresh_couple(&app).await;
    let talk = open_talk(&app, &mo, json!({"topic": "How we spend Sundays"})).await;
    let (_, view) = app.api_get(&mo, &format!("/api/v1/talks/{talk}")).await;
    assert_eq!(
        view["therapist_can_read"], true,
        "the default is plain: yes"
    );
    assert_eq!(view["your_moves"], json!(["speak", "hand_over", "leave"]));

    assert!(
        refused(&app, &pat, &talk, "speak", "My turn!")
            .await
            .contains("you are listening")
    );
    assert_eq!(
        ok(
            &app,
            &mo,
            &talk,
            "speak",
            "I feel lonely on Sundays when the phones come out."
        )
        .await,
        1
    );
    assert!(
        refused(&app, &mo, &talk, "speak", "And another thing")
            .await
            .contains("One turn at a time")
    );
    assert!(
        refused(&app, &mo, &talk, "paraphrase", "x")
            .await
            .contains("hold the floor")
    );
    ok(
        &app,
        &pat,
        &talk,
        "paraphrase",
        "You feel alone when we're on our phones.",
    )
    .await;
    ok(
        &app,
        &mo,
        &talk,
        "clarify",
        "Not alone exactly: left out of your day.",
    )
    .await;
    ok(
        &app,
        &pat,
        &talk,
        "paraphrase",
        "You feel left out of my day when I'm on my phone.",
    )
    .await;
    let (status, _) = app
        .api_post(
            Some(&pat),
            &format!("/api/v1/talks/{talk}/floor"),
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the listener cannot take the floor"
    );
    ok(&app, &mo, &talk, "confirm", "").await;
    assert!(
        refused(&app, &mo, &talk, "solve", "")
            .await
            .contains("both of you have been heard")
    );
    let (status, floor) = app
        .api_post(Some(&mo), &format!("/api/v1/talks/{talk}/floor"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{floor}");
    ok(
        &app,
        &pat,
        &talk,
        "speak",
        "I use my phone to switch off after a hard week.",
    )
    .await;
    ok(
        &app,
        &mo,
        &talk,
        "paraphrase",
        "The phone is how you rest after the week.",
    )
    .await;
    ok(&app, &pat, &talk, "confirm", "").await;
    ok(&app, &mo, &talk, "solve", "").await;
    assert!(
        refused(&app, &pat, &talk, "speak", "x")
            .await
            .contains("problem-solving now")
    );
    assert!(
        refused(&app, &pat, &talk, "idea", "x")
            .await
            .contains("agenda")
    );
    ok(&app, &pat, &talk, "agenda", "Sunday mornings").await;
    ok(&app, &mo, &talk, "idea", "Phones in a drawer until lunch").await;
    ok(
        &app,
        &pat,
        &talk,
        "idea",
        "A walk first, then an hour each to ourselves",
    )
    .await;
    ok(
        &app,
        &mo,
        &talk,
        "propose",
        "A walk together first, phones away until we're back",
    )
    .await;
    assert!(
        refused(&app, &mo, &talk, "accept", "")
            .await
            .contains("Your partner accepts")
    );
    ok(&app, &pat, &talk, "accept", "").await;
    ok(
        &app,
        &mo,
        &talk,
        "follow_up",
        "Look at it again in our session in two weeks",
    )
    .await;

    let (status, bad) = turn(&app, &mo, &talk, "shout", "!").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (_, view) = app.api_get(&priya, &format!("/api/v1/talks/{talk}")).await;
    assert_eq!(view["phase"], "problem_solving");
    assert_eq!(view["turns"].as_array().unwrap().len(), 16);
    assert_eq!(
        view["your_moves"],
        json!([]),
        "the therapist reads, never moves"
    );
    let (status, _) = turn(&app, &priya, &talk, "idea", "Try this").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    for (email, expected) in [
        ("therapist2@example.com", StatusCode::NOT_FOUND),
        ("jordan@example.com", StatusCode::NOT_FOUND),
        ("admin@example.com", StatusCode::NOT_FOUND),
    ] {
        let token = app.api_login(email, DEMO_PASSWORD).await;
        assert_eq!(
            app.api_get(&token, &format!("/api/v1/talks/{talk}"))
                .await
                .0,
            expected,
            "{email}"
        );
    }
    let (status, left) = app
        .api_post(
            Some(&pat),
            &format!("/api/v1/talks/{talk}/leave"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{left}");
    assert!(
        refused(&app, &mo, &talk, "idea", "one more")
            .await
            .contains("ended")
    );

    let (_, list) = app
        .api_get(&mo, &format!("/api/v1/couples/{couple_id}/talks"))
        .await;
    assert_eq!(list["talks"][0]["ended"], true);
    let (_, export) = app.api_get(&mo, "/api/v1/me/export").await;
    assert!(export["talks"].to_string().contains("left out of your day"));
    assert_sealed_at_rest(
        &app,
        "I feel lonely on Sundays when the phones come out.",
        "talk_turns",
    )
    .await;
}

async fn the_therapist_reads_a_talk_only_with_the_couples_consent(app: TestApp) {
    let (couple_id, mo, pat, priya) = fresh_couple(&app).await;
    let private = open_talk(
        &app,
        &mo,
        json!({"topic": "Just us", "therapist_can_read": false}),
    )
    .await;
    let shared = open_talk(&app, &pat, json!({"topic": "For Thursday"})).await;
    ok(&app, &mo, &private, "speak", "Something only for you.").await;
    assert_eq!(
        app.api_get(&priya, &format!("/api/v1/talks/{private}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let response = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/talks/{private}/events")))
        .bearer_auth(&priya)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (_, list) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple_id}/talks"))
        .await;
    let listed = list.to_string();
    assert!(listed.contains(&shared) && !listed.contains(&private) && !listed.contains("Just us"));
    let (_, view) = app.api_get(&pat, &format!("/api/v1/talks/{private}")).await;
    assert_eq!(view["therapist_can_read"], false);
    assert_eq!(view["turns"][0]["body"], "Something only for you.");
}

async fn racing_moves_cannot_fork_a_talk(app: TestApp) {
    let (_, mo, _, _) = fresh_couple(&app).await;
    let talk = open_talk(&app, &mo, json!({"topic": "Money"})).await;
    let (a, b) = tokio::join!(
        turn(&app, &mo, &talk, "speak", "First"),
        turn(&app, &mo, &talk, "speak", "Second")
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::CONFLICT],
        "{a:?} {b:?}"
    );
    let (_, view) = app.api_get(&mo, &format!("/api/v1/talks/{talk}")).await;
    assert_eq!(view["turns"].as_array().unwrap().len(), 1);
}

/// Reads server-sent events until `count` turns arrived; returns (id, data).
async fn read_events(response: &mut reqwest::Response, count: usize) -> Vec<(i64, Value)> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while events.len() < count {
        let chunk = tokio::time::timeout_at(deadline, response.chunk())
            .await
            .expect("turns arrive in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer[..end].to_owned();
            buffer.drain(..end + 2);
            let id = block
                .lines()
                .find_map(|l| l.strip_prefix("id:"))
                .map(|v| v.trim().parse().unwrap());
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data:"))
                .map(|v| serde_json::from_str(v.trim()).unwrap());
            if let (Some(id), Some(data)) = (id, data) {
                events.push((id, data));
            }
        }
    }
    events
}

async fn listen(
    base: &str,
    token: &str,
    talk: &str,
    last_event_id: Option<i64>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(format!("{base}/api/v1/talks/{talk}/events"))
        .bearer_auth(token);
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    response
}

async fn turns_arrive_live_and_resume_after_the_last_event(app: TestApp) {
    let (_, mo, pat, _) = fresh_couple(&app).await;
    let talk = open_talk(&app, &mo, json!({"topic": "Holidays"})).await;
    let mut pats = listen(&app.base, &pat, &talk, None).await;
    ok(
        &app,
        &mo,
        &talk,
        "speak",
        "I'd like one holiday just for us this year.",
    )
    .await;
    let first = read_events(&mut pats, 1).await;
    assert_eq!(first[0].0, 1);
    assert_eq!(
        first[0].1["body"],
        "I'd like one holiday just for us this year."
    );
    assert_eq!(first[0].1["author_name"], "Mo");
    ok(
        &app,
        &pat,
        &talk,
        "paraphrase",
        "You want a holiday for the two of us.",
    )
    .await;
    ok(&app, &mo, &talk, "confirm", "").await;
    let next = read_events(&mut pats, 2).await;
    assert_eq!(next.iter().map(|e| e.0).collect::<Vec<_>>(), [2, 3]);
    drop(pats);

    // The connection dropped after turn 2 was seen: it resumes from turn 3.
    let mut resumed = listen(&app.base, &pat, &talk, Some(2)).await;
    let again = read_events(&mut resumed, 1).await;
    assert_eq!(again[0].0, 3);
    assert_eq!(again[0].1["kind"], "confirm");
}

/// Two instances behind one address share a talk: a turn posted on one
/// reaches a listener connected to the other (PostgreSQL LISTEN/NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turn_posted_on_one_instance_reaches_a_listener_on_another() {
    let Some(app) = TestApp::with_demo(Backend::Postgres).await else {
        return;
    };
    let second = app.second_server().await;
    let (_, mo, pat, _) = fresh_couple(&app).await;
    let talk = open_talk(&app, &mo, json!({"topic": "The move"})).await;
    let mut on_second = listen(&second, &pat, &talk, None).await;
    // Let the second instance's listener settle before the turn is posted.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posted_at = std::time::Instant::now();
    ok(
        &app,
        &mo,
        &talk,
        "speak",
        "I'm scared of moving so far from my family.",
    )
    .await;
    let events = read_events(&mut on_second, 1).await;
    assert_eq!(
        events[0].1["body"],
        "I'm scared of moving so far from my family."
    );
    // Delivered by notification, well before the ten-second safety poll.
    assert!(
        posted_at.elapsed() < Duration::from_secs(8),
        "{:?}",
        posted_at.elapsed()
    );
    // And the other way round: posted on the second, heard on the first.
    let mut on_first = listen(&app.base, &mo, &talk, Some(1)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = reqwest::Client::new()
        .post(format!("{second}/api/v1/talks/{talk}/turns"))
        .bearer_auth(&pat)
        .json(&json!({"kind": "paraphrase", "body": "Moving feels frightening because of your family."}))
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::CREATED);
    let events = read_events(&mut on_first, 1).await;
    assert_eq!(events[0].0, 2);
}

async fn time_outs_come_back_and_show_as_a_pattern(app: TestApp) {
    let (couple_id, mo, _pat, priya) = fresh_couple(&app).await;
    let talk = open_talk(&app, &mo, json!({"topic": "Chores"})).await;
    for (body, field_message) in [
        (json!({}), "when you will come back"),
        (
            json!({"return_at": rfc3339(now() + 10 * MINUTE)}),
            "at least 20 minutes",
        ),
        (
            json!({"return_at": rfc3339(now() + 25 * HOUR)}),
            "at most 24 hours",
        ),
        (json!({"return_at": "after dinner"}), "date and time"),
    ] {
        let (status, refused) = app
            .api_post(Some(&mo), "/api/v1/timeouts", body.clone())
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains(field_message),
            "{refused}"
        );
    }
    let (status, called) = app
        .api_post(
            Some(&mo),
            "/api/v1/timeouts",
            json!({"return_at": rfc3339(now() + 30 * MINUTE), "talk_id": talk}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{called}");
    assert_eq!(called["running"], true);
    let mail = app
        .last_mail_to("pat@example.org")
        .expect("Pat is told at once");
    assert!(
        mail.contains("A short break") || mail.contains("break was called"),
        "{mail}"
    );
    let (status, pattern) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple_id}/timeouts"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pattern["per_week"].as_array().unwrap().len(), 8);
    assert_eq!(pattern["per_week"][7], 1);
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        app.api_get(&tom, &format!("/api/v1/couples/{couple_id}/timeouts"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // When the return time has come, both are invited back, once.
    let due = app.store.timeouts_due(now() + HOUR).await.unwrap();
    assert_eq!(due.len(), 1);
    assert!(
        app.store
            .claim_timeout_return(&due[0].id, now())
            .await
            .unwrap()
    );
    assert!(
        !app.store
            .claim_timeout_return(&due[0].id, now())
            .await
            .unwrap()
    );
}

async fn crisis_language_asks_the_writer_to_confirm(app: TestApp) {
    let (couple_id, mo, pat, _) = fresh_couple(&app).await;
    let talk = open_talk(&app, &mo, json!({"topic": "Lately"})).await;
    let words = "Some nights I want to kill myself.";
    let (status, answer) = turn(&app, &mo, &talk, "speak", words).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(answer["error"]["code"], "confirmation_needed");
    assert!(answer["error"]["message"].as_str().unwrap().contains("988"));
    let (_, view) = app.api_get(&pat, &format!("/api/v1/talks/{talk}")).await;
    assert_eq!(
        view["turns"].as_array().unwrap().len(),
        0,
        "nothing is sent before confirming"
    );
    let flags = app.safety_flags(&couple_id).await;
    assert!(
        flags
            .iter()
            .any(|f| f.source == "writing" && f.resolved_at.is_none()),
        "the therapist is flagged at once"
    );
    let (status, _) = app
        .api_post(
            Some(&mo),
            &format!("/api/v1/talks/{talk}/turns"),
            json!({"kind": "speak", "body": words, "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let flags = app.safety_flags(&couple_id).await;
    assert_eq!(
        flags.iter().filter(|f| f.source == "writing").count(),
        1,
        "confirming the words tells no one twice: {flags:?}"
    );
}

/// A flag raised a moment ago spares only the same concern again: a threat
/// sent (confirmed at once, as an API client may) minutes after a distress
/// entry in the journal is flagged urgent on its own.
async fn a_stronger_concern_is_raised_even_right_after_another(app: TestApp) {
    let (couple_id, mo, _, _) = fresh_couple(&app).await;
    let (status, _) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": "Honestly I can't go on like this anymore.", "audience": "me"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let talk = open_talk(&app, &mo, json!({"topic": "Lately"})).await;
    let (status, _) = app
        .api_post(
            Some(&mo),
            &format!("/api/v1/talks/{talk}/turns"),
            json!({"kind": "speak", "body": "If you leave I will kill you.", "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let flags = app.safety_flags(&couple_id).await;
    assert!(
        flags
            .iter()
            .any(|f| f.tier == "urgent" && f.resolved_at.is_none()),
        "the threat raised its own urgent flag: {flags:?}"
    );
}

/// Words that may be crisis language (a possible sign) are checked with the
/// writer before the partner reads them, and nobody is flagged.
async fn a_possible_sign_asks_the_writer_and_tells_nobody(app: TestApp) {
    let (couple_id, mo, pat, _) = fresh_couple(&app).await;
    let talk = open_talk(&app, &mo, json!({"topic": "Lately"})).await;
    let words = "I gave my guitar to my brother, I won't need it";
    let (status, answer) = turn(&app, &mo, &talk, "speak", words).await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert_eq!(answer["error"]["code"], "confirmation_needed");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains("Nobody has been told"), "{message}");
    assert!(message.contains("988"), "helplines: {message}");
    let (_, view) = app.api_get(&pat, &format!("/api/v1/talks/{talk}")).await;
    assert_eq!(view["turns"].as_array().unwrap().len(), 0, "not sent yet");
    assert!(
        app.safety_flags(&couple_id).await.is_empty(),
        "nobody is flagged"
    );
    let (status, _) = app
        .api_post(
            Some(&mo),
            &format!("/api/v1/talks/{talk}/turns"),
            json!({"kind": "speak", "body": words, "confirm": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(app.safety_flags(&couple_id).await.is_empty());
}

async fn two_circles_are_revealed_together(app: TestApp) {
    let (_, mo, pat, _) = fresh_couple(&app).await;
    let (status, opened) = app
        .api_post(
            Some(&mo),
            "/api/v1/compromises",
            json!({"topic": "Where we live"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let id = opened["id"].as_str().unwrap();
    let path = format!("/api/v1/compromises/{id}/circles");
    let (status, mine) = app
        .api_post(
            Some(&mo),
            &path,
            json!({"core": "Near my mother", "flexible": "Flat or house"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(mine["partner"].is_null());
    let (_, pats) = app
        .api_get(&pat, &format!("/api/v1/compromises/{id}"))
        .await;
    assert_eq!(pats["partner_done"], true);
    assert!(pats["partner"].is_null() && !pats.to_string().contains("Near my mother"));
    let (status, _) = app
        .api_post(
            Some(&pat),
            &format!("/api/v1/compromises/{id}/agreement"),
            json!({"title": "t", "body": "b"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "not before both are written");
    app.api_post(
        Some(&pat),
        &path,
        json!({"core": "A garden", "flexible": "Which town"}),
    )
    .await;
    let (_, both) = app.api_get(&mo, &format!("/api/v1/compromises/{id}")).await;
    assert_eq!(both["partner"]["core"], "A garden");
    let (status, _) = app
        .api_post(Some(&mo), &path, json!({"core": "x", "flexible": "y"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "circles are written once");
    let (status, agreed) = app
        .api_post(
            Some(&pat),
            &format!("/api/v1/compromises/{id}/agreement"),
            json!({"title": "A home", "body": "A house with a garden, within an hour of Mo's mother."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{agreed}");
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        app.api_get(&jordan, &format!("/api/v1/compromises/{id}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

async fn a_safety_pause_stops_talks_but_never_leaving(app: TestApp) {
    let (_, mo, pat, _) = fresh_couple(&app).await;
    let talk = open_talk(&app, &pat, json!({"topic": "The weekend"})).await;
    // Crisis language in Mo's journal pauses the couple's shared work.
    let (status, _) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": "I want to kill myself some days."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, refused) = app
        .api_post(Some(&pat), "/api/v1/talks", json!({"topic": "Another"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("closed for now"),
        "{refused}"
    );
    assert!(
        !refused.to_string().contains("kill"),
        "the reason is never named"
    );
    let (status, _) = turn(&app, &pat, &talk, "speak", "Shall we plan Saturday?").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app
        .api_post(Some(&pat), "/api/v1/compromises", json!({"topic": "x"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = app
        .api_post(Some(&mo), &format!("/api/v1/talks/{talk}/leave"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "leaving is always possible");
}
