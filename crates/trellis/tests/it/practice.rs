//! The practice around the couples' work: the public page and the "is it
//! time?" self-check, intake, sessions and calendar feeds, messages, notes,
//! comments, and notices by mail.

use reqwest::StatusCode;
use serde_json::{Value, json};
use trellis_core::time::{DAY, HOUR, utc_date};
use trellis_web::state::system_now as now;

use crate::helpers::{
    Backend, DEMO_PASSWORD, SmtpSink, TestApp, assert_sealed_at_rest, browser_client, fresh_couple,
    fresh_couple_reading_mail, page_text,
};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    the_self_check_reads_answers_back_and_stores_nothing,
    requests_are_rate_limited_per_address,
    a_form_filled_in_by_the_browser_goes_through_and_real_mistakes_show_first,
    sessions_land_in_every_calendar_in_each_persons_time_zone,
    bad_sessions_are_refused_with_reasons,
    notes_are_the_therapists_alone,
    therapists_comment_on_work_shared_with_them_and_the_partner,
    practice_settings_are_checked_and_shown_publicly,
    the_caseload_shows_what_was_shared_since_the_last_session,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    an_api_request_reaches_the_inbox_and_becomes_an_invited_couple,
    the_request_form_stops_robots_and_lets_people_through,
    time_zones_are_chosen_from_a_list_not_typed,
    a_partner_without_a_practice_reads_times_in_their_browsers_zone,
    messages_reach_their_thread_and_no_one_else,
);

async fn practice_id(app: &TestApp) -> String {
    app.store.practices().await.unwrap()[0].id.clone()
}

/// A practice in India (no daylight saving) and a partner in Japan, so the
/// expected wall-clock times hold all year.
async fn set_practice_zone(app: &TestApp, zone: &str) {
    let id = practice_id(app).await;
    app.store
        .update_practice_details(&id, "", zone, 24)
        .await
        .unwrap();
}

async fn request(
    app: &TestApp,
    token: Option<&str>,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let response = app.send(token, method, path, body).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn the_self_check_reads_answers_back_and_stores_nothing(app: TestApp) {
    let client = browser_client();
    let form = page_text(client.get(app.url("/is-it-time")).send().await.unwrap()).await;
    assert!(form.contains("Is it time for couples therapy?"));
    assert!(form.contains("the same argument keeps coming back"));
    assert!(
        form.contains("emergency number"),
        "the danger line is visible"
    );

    let signs = [
        "arguments",
        "distance",
        "resentment",
        "guilt",
        "root-causes",
        "trust",
        "avoidance",
        "alone",
    ];
    let many: Vec<(String, &str)> = signs.iter().map(|s| (format!("sign-{s}"), "3")).collect();
    let fields: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let result = page_text(
        app.submit(&client, "/is-it-time", "/is-it-time", &fields)
            .await,
    )
    .await;
    assert!(
        result.contains("could be a good time to get support"),
        "{result}"
    );
    assert!(result.contains("not a diagnosis"));
    assert!(result.contains("Ask for an appointment"));
    assert!(!result.contains("Your safety first"));

    let few: Vec<(String, &str)> = signs.iter().map(|s| (format!("sign-{s}"), "0")).collect();
    let mut fields: Vec<(&str, &str)> = few.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    fields.push(("safety", "yes"));
    let result = page_text(
        app.submit(&client, "/is-it-time", "/is-it-time", &fields)
            .await,
    )
    .await;
    assert!(result.contains("few signs of strain"), "{result}");
    assert!(
        result.contains("Your safety first"),
        "feeling unsafe comes first"
    );
    assert!(result.contains("1-800-799-7233"));

    let (status, reading) = app
        .api_post(
            None,
            "/api/v1/self-check",
            json!({"answers": {"arguments": 2, "distance": 2, "resentment": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reading["percent"], 20);
    assert!(reading["safety"].is_null());

    let id = practice_id(&app).await;
    assert_eq!(app.store.intakes(&id, 10).await.unwrap().len(), 0);
}

fn intake_body(names: &str, email: &str) -> Value {
    json!({
        "names": names,
        "email": email,
        "partner_email": "leo@example.net",
        "preferred_times": "Tuesday or Thursday evenings",
        "message": "We keep having the same fight about money."
    })
}

async fn an_api_request_reaches_the_inbox_and_becomes_an_invited_couple(app: TestApp) {
    let (status, body) = app
        .api_post(
            None,
            "/api/v1/intake",
            intake_body("Maya and Leo", "maya@example.net"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        app.api_get(&alex, "/api/v1/intake").await.0,
        StatusCode::FORBIDDEN
    );
    let admin = app.api_login("admin@example.com", DEMO_PASSWORD).await;
    let (status, inbox) = app.api_get(&admin, "/api/v1/intake").await;
    assert_eq!(status, StatusCode::OK);
    let requests = inbox["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["status"], "new");
    assert_eq!(requests[0]["names"], "Maya and Leo");
    let id = requests[0]["id"].as_str().unwrap().to_owned();

    // The admin must name a therapist; a therapist accepts for themselves.
    let partners = json!([{"name": "Maya", "email": "maya@example.net"}, {"name": "Leo", "email": "leo@example.net"}]);
    let (status, _) = app
        .api_post(
            Some(&admin),
            &format!("/api/v1/intake/{id}/accept"),
            json!({"partners": partners}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (status, accepted) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/intake/{id}/accept"),
            json!({"partners": partners}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{accepted}");
    let couple_id = accepted["couple_id"].as_str().unwrap().to_owned();
    assert_eq!(accepted["invited"].as_array().unwrap().len(), 2);
    assert!(
        !accepted.to_string().contains("/invitations/"),
        "the secret links go to the invitees' mail only: {accepted}"
    );
    let couple = app
        .store
        .couple(&trellis_core::CoupleId::new(couple_id.as_str()))
        .await
        .unwrap();
    assert_eq!(
        couple.therapist_id.as_deref(),
        Some(priya_id(&app).await.as_str())
    );
    let mail = app
        .last_mail_to("leo@example.net")
        .expect("Leo is invited by mail");
    assert!(mail.contains("/invitations/"));

    // Accepting twice makes no second couple.
    let (status, _) = app
        .api_post(
            Some(&admin),
            &format!("/api/v1/intake/{id}/accept"),
            json!({"therapist_id": priya_id(&app).await, "partners": partners}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Another request: a reply keeps it open, declining closes it.
    app.api_post(
        None,
        "/api/v1/intake",
        intake_body(["Ana", "Bo"].join(" & ").as_str(), "ana@example.net"),
    )
    .await;
    let (_, inbox) = app.api_get(&admin, "/api/v1/intake").await;
    let second = inbox["requests"][0]["id"].as_str().unwrap().to_owned();
    let reply = |text: &str, decline: bool| json!({"reply": text, "decline": decline});
    let (status, answered) = app
        .api_post(
            Some(&admin),
            &format!("/api/v1/intake/{second}/reply"),
            reply(
                "We have Thursday at 6pm free. Would that suit you both?",
                false,
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    assert_eq!(answered["status"], "replied");
    let mail = app.last_mail_to("ana@example.net").unwrap();
    assert!(mail.contains("Thursday at 6pm"));
    let (status, answered) = app
        .api_post(
            Some(&admin),
            &format!("/api/v1/intake/{second}/reply"),
            reply(
                "We are full this month; the city's family centre has places.",
                true,
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answered["status"], "declined");
    let (status, _) = app
        .api_post(
            Some(&admin),
            &format!("/api/v1/intake/{second}/reply"),
            reply("Again", false),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a closed request stays closed"
    );
    let (status, _) = app
        .api_post(
            Some(&admin),
            &format!("/api/v1/intake/{second}/reply"),
            reply(" ", false),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn priya_id(app: &TestApp) -> String {
    let email = trellis_core::EmailAddress::parse("e", "therapist@example.com").unwrap();
    app.store
        .user_by_email(&email)
        .await
        .unwrap()
        .unwrap()
        .user
        .id
        .into_string()
}

async fn requests_are_rate_limited_per_address(app: TestApp) {
    for i in 0..3 {
        let (status, _) = app
            .api_post(
                None,
                "/api/v1/intake",
                intake_body("Maya and Leo", &format!("m{i}@example.net")),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/intake"))
        .json(&intake_body("Maya and Leo", "m4@example.net"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("several requests")
    );
    // Bad input is refused before it counts, and says what is wrong.
    let (status, body) = app
        .api_post(
            None,
            "/api/v1/intake",
            json!({"names": ["", " "], "email": "nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["names", "email"]);
    let id = practice_id(&app).await;
    assert_eq!(app.store.intakes(&id, 10).await.unwrap().len(), 3);
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

async fn the_request_form_stops_robots_and_lets_people_through(app: TestApp) {
    let id = practice_id(&app).await;
    let path = format!("/practices/{id}/request");
    let client = browser_client();
    let form_page = |client: reqwest::Client| {
        let url = app.url(&path);
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let fields = |csrf: &str, stamp: &str, website: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("stamp".to_owned(), stamp.to_owned()),
            ("website".to_owned(), website.to_owned()),
            ("names".to_owned(), "Maya and Leo".to_owned()),
            ("email".to_owned(), "maya@example.net".to_owned()),
            ("preferred_times".to_owned(), "Evenings".to_owned()),
        ]
    };
    let html = form_page(client.clone()).await;
    let (csrf, stamp) = (hidden(&html, "csrf"), hidden(&html, "stamp"));

    let send = |stamp: String, website: &'static str| {
        let (client, url, form) = (
            client.clone(),
            app.url(&path),
            fields(&csrf, &stamp, website),
        );
        async move {
            let response = client.post(url).form(&form).send().await.unwrap();
            (response.status(), page_text(response).await)
        }
    };

    // Straight away: faster than a person. A robot's hidden field: dropped quietly.
    let (status, text) = send(stamp.clone(), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("quicker than we expected"));
    let (status, text) = send(stamp.clone(), "http://cheap-pills.example").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("your request is on its way"));
    let forged = format!("1.{}", stamp.split('.').nth(1).unwrap());
    let (status, text) = send(forged, "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("open for a long time"));
    assert_eq!(app.store.intakes(&id, 10).await.unwrap().len(), 0);

    // A person takes a few seconds; their request arrives, with what they typed.
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    let (status, text) = send(stamp.clone(), "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("your request is on its way"));
    let inbox = app.store.intakes(&id, 10).await.unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].preferred_times, "Evenings");

    // Staff see it in their inbox; partners may not.
    let priya = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let text = page_text(priya.get(app.url("/intake")).send().await.unwrap()).await;
    assert!(text.contains("Maya and Leo"));
    let sam = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        sam.get(app.url("/intake")).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

/// A browser that fills the form in is quick, but not as quick as a script;
/// and a mistake the person can fix is said before anything about timing.
async fn a_form_filled_in_by_the_browser_goes_through_and_real_mistakes_show_first(app: TestApp) {
    let id = practice_id(&app).await;
    let path = format!("/practices/{id}/request");
    let client = browser_client();
    let html = client
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (csrf, stamp) = (hidden(&html, "csrf"), hidden(&html, "stamp"));
    let send = |email: &'static str| {
        let form = vec![
            ("csrf", csrf.clone()),
            ("stamp", stamp.clone()),
            ("website", String::new()),
            ("names", "Noor and Kai".to_owned()),
            ("email", email.to_owned()),
            ("preferred_times", "Weekday mornings".to_owned()),
        ];
        let (client, url) = (client.clone(), app.url(&path));
        async move {
            let response = client.post(url).form(&form).send().await.unwrap();
            (response.status(), page_text(response).await)
        }
    };
    let (status, text) = send("not an address").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!text.contains("quicker than we expected"), "{text}");
    assert!(text.contains("email"), "the real mistake is named");
    // two seconds: autofill and a tap
    tokio::time::sleep(std::time::Duration::from_millis(2_000)).await;
    let (status, text) = send("noor@example.net").await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(text.contains("your request is on its way"));
}

/// "London" cannot be typed wrong: the admin and each person pick a place.
async fn time_zones_are_chosen_from_a_list_not_typed(app: TestApp) {
    let admin = app.browser_login("admin@example.com", DEMO_PASSWORD).await;
    let practice = page_text(admin.get(app.url("/practice")).send().await.unwrap()).await;
    let field = &practice[practice.find("<select id=\"p-tz\"").expect("a select")..];
    let field = &field[..field.find("</select>").unwrap()];
    assert!(field.contains("<option value=\"Europe/London\""));
    assert!(
        field.contains(" selected>"),
        "the practice's zone is chosen"
    );
    let sam = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let notices = page_text(sam.get(app.url("/account/notices")).send().await.unwrap()).await;
    assert!(notices.contains("<select id=\"time_zone\" name=\"time_zone\">"));
    assert!(notices.contains("<option value=\"\" selected>The practice's ("));
    assert!(notices.contains("<option value=\"America/Chicago\">"));
}

/// Tomorrow at `clock` as a wall-clock time, e.g. "2026-12-05T18:00".
fn tomorrow_at(clock: &str) -> String {
    format!("{}T{clock}", utc_date(now() + DAY))
}

fn property<'a>(props: &'a [ical::property::Property], name: &str) -> &'a ical::property::Property {
    props
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

fn parse_feed(text: &str) -> ical::parser::ical::component::IcalCalendar {
    let mut calendars = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let calendar = calendars.next().expect("one calendar").expect("it parses");
    assert!(calendars.next().is_none());
    calendar
}

async fn sessions_land_in_every_calendar_in_each_persons_time_zone(app: TestApp) {
    set_practice_zone(&app, "Asia/Kolkata").await;
    let (couple_id, mo, pat, priya) = fresh_couple(&app).await;
    let (status, _) = request(
        &app,
        Some(&mo),
        reqwest::Method::PATCH,
        "/api/v1/me/settings",
        Some(json!({"time_zone": "Asia/Tokyo"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let start = tomorrow_at("18:00");
    let (status, booked) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple_id}/appointments"),
            json!({"start": start, "end": tomorrow_at("18:50"), "location": "https://meet.example/room-4"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
    assert_eq!(booked["kind"], "video");
    let id = booked["id"].as_str().unwrap().to_owned();

    // Both partners see it: Pat in the practice's zone, Mo in Tokyo's.
    let (_, pats) = app.api_get(&pat, "/api/v1/me/appointments").await;
    assert!(
        pats["appointments"][0]["when"]
            .as_str()
            .unwrap()
            .contains("18:00 IST"),
        "{pats}"
    );
    let (_, mos) = app.api_get(&mo, "/api/v1/me/appointments").await;
    assert!(
        mos["appointments"][0]["when"]
            .as_str()
            .unwrap()
            .contains("21:30 JST"),
        "{mos}"
    );
    assert_eq!(
        mos["appointments"][0]["start"],
        pats["appointments"][0]["start"]
    );

    // Each person's feed parses, and names the zone with its offset.
    let mut feeds = Vec::new();
    for token in [&mo, &pat, &priya] {
        let (status, calendar) = app.api_get(token, "/api/v1/me/calendar").await;
        assert_eq!(status, StatusCode::OK);
        let url = calendar["url"].as_str().unwrap().to_owned();
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/calendar")
        );
        let parsed = parse_feed(&response.text().await.unwrap());
        let event = parsed
            .events
            .iter()
            .find(|e| {
                property(&e.properties, "UID").value.as_deref() == Some(&format!("{id}@trellis"))
            })
            .expect("the session is in the feed");
        let dtstart = property(&event.properties, "DTSTART");
        assert_eq!(
            dtstart.value.as_deref(),
            Some(format!("{}T180000", utc_date(now() + DAY).replace('-', "")).as_str())
        );
        let tzid = dtstart
            .params
            .as_ref()
            .unwrap()
            .iter()
            .find(|(k, _)| k == "TZID")
            .unwrap();
        assert_eq!(tzid.1, vec!["Asia/Kolkata".to_owned()]);
        let zone = parsed
            .timezones
            .iter()
            .find(|z| property(&z.properties, "TZID").value.as_deref() == Some("Asia/Kolkata"))
            .unwrap();
        assert!(
            zone.transitions
                .iter()
                .any(|t| property(&t.properties, "TZOFFSETTO").value.as_deref() == Some("+0530"))
        );
        assert_eq!(
            property(&event.properties, "URL").value.as_deref(),
            Some("https://meet.example/room-4")
        );
        feeds.push((
            url,
            property(&event.properties, "SUMMARY")
                .value
                .clone()
                .unwrap(),
        ));
    }
    assert_eq!(feeds[0].1, "Session with Dr. Priya Natarajan");
    assert_eq!(feeds[2].1, "Couples session", "no client names in a feed");
    // The address is the same each time it is asked for…
    let (_, again) = app.api_get(&mo, "/api/v1/me/calendar").await;
    assert_eq!(again["url"], feeds[0].0.as_str());
    // …until it is reset: then the old one stops working.
    let (status, reset) = app
        .api_post(Some(&mo), "/api/v1/me/calendar/reset", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(reset["url"], feeds[0].0.as_str());
    assert_eq!(
        reqwest::get(&feeds[0].0).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        reqwest::get(reset["url"].as_str().unwrap())
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let tampered = feeds[1].0.replace(".ics", "x.ics");
    assert_eq!(
        reqwest::get(&tampered).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    // A partner asks to move it; the therapist moves it; then cancels it.
    let (status, _) = app
        .api_post(
            Some(&pat),
            &format!("/api/v1/appointments/{id}/reschedule-request"),
            json!({"note": "Could we do Friday?"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple_id}/appointments"))
        .await;
    let (_, for_mo) = app
        .api_get(&mo, &format!("/api/v1/couples/{couple_id}/appointments"))
        .await;
    assert!(
        for_mo["appointments"][0]["reschedule_note"].is_null(),
        "the note is for the therapist: {for_mo}"
    );
    assert_eq!(for_mo["appointments"][0]["reschedule_requested"], true);
    assert_eq!(listed["appointments"][0]["reschedule_requested"], true);
    assert_eq!(
        listed["appointments"][0]["reschedule_note"],
        "Could we do Friday?"
    );
    let (status, moved) = request(
        &app,
        Some(&priya),
        reqwest::Method::PATCH,
        &format!("/api/v1/couples/{couple_id}/appointments/{id}"),
        Some(json!({"start": tomorrow_at("19:00"), "location": "Room 2, 14 Elm Street"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["reschedule_requested"], false);
    assert_eq!(moved["kind"], "in_person");
    let (status, _) = request(
        &app,
        Some(&priya),
        reqwest::Method::DELETE,
        &format!("/api/v1/couples/{couple_id}/appointments/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let text = reqwest::get(&feeds[1].0)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let event = parse_feed(&text)
        .events
        .into_iter()
        .find(|e| property(&e.properties, "UID").value.as_deref() == Some(&format!("{id}@trellis")))
        .unwrap();
    assert_eq!(
        property(&event.properties, "STATUS").value.as_deref(),
        Some("CANCELLED")
    );
    assert_eq!(
        property(&event.properties, "SEQUENCE").value.as_deref(),
        Some("2")
    );
}

async fn bad_sessions_are_refused_with_reasons(app: TestApp) {
    let (couple_id, mo, _, priya) = fresh_couple(&app).await;
    let path = format!("/api/v1/couples/{couple_id}/appointments");
    for (body, field) in [
        (
            json!({"start": tomorrow_at("18:00"), "end": tomorrow_at("17:00")}),
            "end",
        ),
        (json!({"start": "next tuesday"}), "start"),
        (json!({"start": utc_date(now() - DAY) + "T10:00"}), "start"),
        (
            json!({"start": tomorrow_at("18:00"), "kind": "video", "location": "Room 2"}),
            "location",
        ),
        (
            json!({"start": tomorrow_at("09:00"), "end": tomorrow_at("15:00")}),
            "end",
        ),
    ] {
        let (status, refused) = app.api_post(Some(&priya), &path, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(refused["error"]["fields"][0]["field"], field, "{refused}");
    }
    let (status, _) = app
        .api_post(Some(&mo), &path, json!({"start": tomorrow_at("18:00")}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "partners do not book");
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (status, _) = app
        .api_post(Some(&tom), &path, json!({"start": tomorrow_at("18:00")}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another therapist's couple");
    let (status, _) = request(
        &app,
        Some(&mo),
        reqwest::Method::PATCH,
        "/api/v1/me/settings",
        Some(json!({"time_zone": "Mars/Olympus_Mons"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn user_id(app: &TestApp, token: &str) -> String {
    app.api_get(token, "/api/v1/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn thread_text(app: &TestApp, token: &str, query: &str) -> String {
    let (status, list) = app
        .api_get(token, &format!("/api/v1/messages?{query}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.to_string()
}

async fn messages_reach_their_thread_and_no_one_else(app: TestApp) {
    let (couple_id, mo, pat, priya) = fresh_couple(&app).await;
    let mo_id = user_id(&app, &mo).await;
    let pat_id = user_id(&app, &pat).await;
    let post = |token: String, body: Value| {
        let app = &app;
        async move { app.api_post(Some(&token), "/api/v1/messages", body).await }
    };
    let (status, sent) = post(
        mo.clone(),
        json!({"thread": "couple", "body": "Can we talk about the holidays on Sunday?"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    let (status, _) = post(
        mo.clone(),
        json!({"thread": "private", "body": "I am scared to bring up the debt with Pat."}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post(priya.clone(), json!({"thread": "private", "couple_id": couple_id, "partner_id": mo_id, "body": "Thank you for telling me. Shall we plan how to raise it?"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post(
        priya.clone(),
        json!({"thread": "couple", "couple_id": couple_id, "body": "See you both on Thursday."}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let pats_couple = thread_text(&app, &pat, "thread=couple").await;
    assert!(pats_couple.contains("holidays on Sunday") && pats_couple.contains("See you both"));
    let pats_private = thread_text(&app, &pat, "thread=private").await;
    assert!(
        !pats_private.contains("scared") && !pats_private.contains("plan how to raise"),
        "{pats_private}"
    );
    let mos_private = thread_text(&app, &mo, "thread=private").await;
    assert!(mos_private.contains("scared") && mos_private.contains("plan how to raise"));
    let priyas = thread_text(
        &app,
        &priya,
        &format!("thread=private&couple_id={couple_id}&partner_id={mo_id}"),
    )
    .await;
    assert!(priyas.contains("scared"));
    let (status, _) = app
        .api_get(
            &priya,
            &format!(
                "/api/v1/messages?thread=private&couple_id={couple_id}&partner_id=someone-else"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let pats_private_for_priya = thread_text(
        &app,
        &priya,
        &format!("thread=private&couple_id={couple_id}&partner_id={pat_id}"),
    )
    .await;
    assert!(!pats_private_for_priya.contains("scared"));

    // Outsiders: another therapist, another couple, the admin.
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        app.api_get(
            &tom,
            &format!("/api/v1/messages?thread=couple&couple_id={couple_id}")
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    assert!(
        !thread_text(&app, &jordan, "thread=couple")
            .await
            .contains("holidays")
    );
    let admin = app.api_login("admin@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        post(admin, json!({"thread": "couple", "body": "hi"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // A message keeps its thread's audience; exports hold what each may see.
    let id = sent["id"].as_str().unwrap();
    let (status, _) = request(
        &app,
        Some(&mo),
        reqwest::Method::PATCH,
        &format!("/api/v1/entries/{id}"),
        Some(json!({"audience": "me"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, mos_export) = app.api_get(&mo, "/api/v1/me/export").await;
    assert!(
        mos_export
            .to_string()
            .contains("scared to bring up the debt")
    );
    let (_, pats_export) = app.api_get(&pat, "/api/v1/me/export").await;
    assert!(!pats_export.to_string().contains("scared"));
    assert!(!pats_export.to_string().contains("plan how to raise"));
    assert_sealed_at_rest(
        &app,
        "I am scared to bring up the debt with Pat.",
        "entries",
    )
    .await;

    // The therapist's caseload shows what is new for them.
    let web = app.browser_login("mo@example.org", "a long password").await;
    let response = app
        .submit(
            &web,
            "/messages",
            "/messages",
            &[("body", "One more thing before Thursday.")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let priya_web = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let caseload = page_text(priya_web.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(caseload.contains("new message"), "{caseload}");
    let page = page_text(
        priya_web
            .get(app.url(&format!("/caseload/couples/{couple_id}/messages")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains("One more thing before Thursday."));
}

async fn notes_are_the_therapists_alone(app: TestApp) {
    let (couple_id, mo, _, priya) = fresh_couple(&app).await;
    const NOTE: &str = "Presenting concerns: Mo avoids money talk; plan to slow down next time.";
    let path = format!("/api/v1/couples/{couple_id}/notes");
    let (status, note) = app
        .api_post(Some(&priya), &path, json!({"body": NOTE}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    let (status, list) = app.api_get(&priya, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["notes"][0]["body"], NOTE);
    assert!(list["template"].as_str().unwrap().contains("Interventions"));
    let (status, _) = app
        .api_post(Some(&priya), &path, json!({"body": list["template"]}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an empty template is not a note"
    );

    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    assert_eq!(app.api_get(&tom, &path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.api_get(&mo, &path).await.0, StatusCode::FORBIDDEN);
    let admin = app.api_login("admin@example.com", DEMO_PASSWORD).await;
    assert_eq!(app.api_get(&admin, &path).await.0, StatusCode::FORBIDDEN);
    let (_, export) = app.api_get(&mo, "/api/v1/me/export").await;
    assert!(!export.to_string().contains("avoids money talk"));
    let note_id = note["id"].as_str().unwrap();
    let (status, updated) = request(
        &app,
        Some(&priya),
        reqwest::Method::PATCH,
        &format!("{path}/{note_id}"),
        Some(json!({"body": "Rewritten after supervision."})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["body"], "Rewritten after supervision.");
    app.api_post(Some(&priya), &path, json!({"body": NOTE}))
        .await;
    assert_sealed_at_rest(&app, NOTE, "therapist_notes").await;
}

async fn therapists_comment_on_work_shared_with_them_and_the_partner(app: TestApp) {
    let (couple_id, mo, pat, priya) = fresh_couple(&app).await;
    let (_, shared) = app
        .api_post(Some(&mo), "/api/v1/entries", json!({"body": "I noticed I go quiet when I feel judged.", "audience": "partner_and_therapist"}))
        .await;
    let (_, for_therapist) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": "Only for Dr. Priya.", "audience": "therapist"}),
        )
        .await;
    let (status, comment) = app
        .api_post(
            Some(&priya),
            "/api/v1/comments",
            json!({"target_id": shared["id"], "body": "That is a brave thing to notice."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    let (status, _) = app
        .api_post(
            Some(&priya),
            "/api/v1/comments",
            json!({"target_id": for_therapist["id"], "body": "Hmm"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a comment would reach the partner"
    );
    let (status, _) = app
        .api_post(
            Some(&pat),
            "/api/v1/comments",
            json!({"target_id": shared["id"], "body": "me too"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (status, _) = app
        .api_post(
            Some(&tom),
            "/api/v1/comments",
            json!({"target_id": shared["id"], "body": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, list) = app
        .api_get(
            &pat,
            &format!(
                "/api/v1/couples/{couple_id}/comments?target_id={}",
                shared["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["comments"][0]["body"],
        "That is a brave thing to notice."
    );
    let web = app
        .browser_login("pat@example.org", "a long password")
        .await;
    let page = page_text(web.get(app.url("/messages")).send().await.unwrap()).await;
    assert!(page.contains("That is a brave thing to notice."));
}

async fn practice_settings_are_checked_and_shown_publicly(app: TestApp) {
    let admin = app.browser_login("admin@example.com", DEMO_PASSWORD).await;
    let fields = |zone: &'static str, hours: &'static str| {
        [
            ("name", "Harbour Couples Practice"),
            (
                "description",
                "Calm, practical help for couples.\n\nEvening sessions available.",
            ),
            ("contact", "14 Elm Street\n+44 20 7946 0000"),
            ("time_zone", zone),
            ("reminder_hours", hours),
        ]
    };
    let response = app
        .submit(
            &admin,
            "/practice",
            "/practice",
            &fields("Mars/Olympus", "400"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = page_text(response).await;
    assert!(text.contains("We don't know the time zone \"Mars/Olympus\""));
    assert!(text.contains("from 0 (no reminders) to 168"));
    let response = app
        .submit(
            &admin,
            "/practice",
            "/practice",
            &fields("Europe/London", "48"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let practice = app.store.practices().await.unwrap().remove(0);
    assert_eq!(
        (practice.time_zone.as_str(), practice.reminder_hours),
        ("Europe/London", 48)
    );
    let public = page_text(
        browser_client()
            .get(app.url(&format!("/practices/{}", practice.id)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    for expected in [
        "Harbour Couples Practice",
        "Evening sessions available.",
        "14 Elm Street",
        "Dr. Priya Natarajan",
        "If you are in danger",
    ] {
        assert!(public.contains(expected), "{expected}");
    }
    let landing = page_text(browser_client().get(app.url("/")).send().await.unwrap()).await;
    assert!(landing.contains("Harbour Couples Practice") && landing.contains("/is-it-time"));
}

/// Mail goes through a real SMTP server: notices say something is waiting,
/// never what was written; reminders arrive before a session; each person's
/// choices are honoured.
async fn notices_and_reminders_arrive_by_mail(backend: Backend) {
    let smtp = SmtpSink::start().await;
    let Some(app) = TestApp::with_demo_and_smtp(backend, Some(smtp.url.clone())).await else {
        return;
    };
    let (couple_id, mo, pat, priya) =
        fresh_couple_reading_mail(&app, |email| smtp.invitation_token(&app.base, email)).await;
    let to = |who: &str| {
        smtp.messages()
            .into_iter()
            .filter(|m| m.lines().any(|l| l.starts_with("To:") && l.contains(who)))
            .collect::<Vec<_>>()
    };
    let wait_for = |who: &'static str, needle: &'static str| {
        let to = &to;
        async move {
            for _ in 0..100 {
                if to(who).iter().any(|m| m.contains(needle)) {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            panic!("no mail to {who} with {needle:?}");
        }
    };
    app.api_post(
        Some(&mo),
        "/api/v1/messages",
        json!({"thread": "couple", "body": "My secret worry about money"}),
    )
    .await;
    wait_for("pat@example.org", "new message").await;
    wait_for("therapist@example.com", "new message").await;

    // Pat turns message mail off; the next message reaches only the therapist.
    let (status, _) = request(
        &app,
        Some(&pat),
        reqwest::Method::PATCH,
        "/api/v1/me/settings",
        Some(json!({"notify_messages": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let before = to("pat@example.org").len();
    let therapist_before = to("therapist@example.com").len();
    app.api_post(
        Some(&mo),
        "/api/v1/messages",
        json!({"thread": "couple", "body": "Another private thought"}),
    )
    .await;
    for _ in 0..50 {
        if to("therapist@example.com").len() > therapist_before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(to("therapist@example.com").len() > therapist_before);
    assert_eq!(
        to("pat@example.org").len(),
        before,
        "Pat chose no message mail"
    );

    // A session two hours away: booked notices, then reminders to all three.
    let start = trellis_web::when::rfc3339(now() + 2 * HOUR);
    let (status, _) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple_id}/appointments"),
            json!({"start": start, "location": "Room 2"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    wait_for("mo@example.org", "A session was booked").await;
    for who in ["mo@example.org", "pat@example.org", "therapist@example.com"] {
        wait_for(who, "Reminder").await;
    }
    let reminders = to("mo@example.org")
        .iter()
        .filter(|m| m.contains("Reminder"))
        .count();
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    assert_eq!(
        to("mo@example.org")
            .iter()
            .filter(|m| m.contains("Reminder"))
            .count(),
        reminders,
        "a reminder goes out once"
    );
    for message in smtp.messages() {
        for private in ["secret worry", "private thought", "Room 2"] {
            assert!(
                !message.contains(private),
                "a mail holds {private:?}:\n{message}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_and_reminders_arrive_by_mail_sqlite() {
    notices_and_reminders_arrive_by_mail(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_and_reminders_arrive_by_mail_postgres() {
    notices_and_reminders_arrive_by_mail(Backend::Postgres).await;
}

async fn the_caseload_shows_what_was_shared_since_the_last_session(app: TestApp) {
    let (couple_id, mo, _pat, priya) = fresh_couple(&app).await;
    let priya_web = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let caseload =
        || async { page_text(priya_web.get(app.url("/caseload")).send().await.unwrap()).await };
    // Before any session: nothing "since the last session".
    let (_, before) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": "Before we ever met.", "audience": "therapist"}),
        )
        .await;
    trellis_store::testing::backdate_entry(
        &app.store,
        before["id"].as_str().unwrap(),
        now() - 3 * HOUR,
    )
    .await
    .unwrap();
    let text = caseload().await;
    let row = text.split("Mo & Pat").nth(1).unwrap_or_default().to_owned();
    assert!(!row.contains("since the last session"), "{row}");

    // A session that ended an hour ago; then Mo shares one thing, keeps one
    // private, and the therapist writes in the thread (neither counts).
    let start = now() - 2 * HOUR;
    app.store
        .create_appointment(trellis_store::NewAppointment {
            couple_id: &trellis_core::CoupleId::new(couple_id.as_str()),
            therapist_id: &trellis_core::UserId::new(priya_id(&app).await),
            starts_at: start,
            ends_at: start + HOUR,
            location_kind: "in_person",
            location: "Room 2",
            now: start - DAY,
        })
        .await
        .unwrap();
    app.api_post(Some(&mo), "/api/v1/entries", json!({"body": "After the session I noticed something.", "audience": "partner_and_therapist"}))
        .await;
    app.api_post(
        Some(&mo),
        "/api/v1/entries",
        json!({"body": "Just for me.", "audience": "me"}),
    )
    .await;
    app.api_post(
        Some(&priya),
        "/api/v1/messages",
        json!({"thread": "couple", "couple_id": couple_id, "body": "Thank you both for today."}),
    )
    .await;
    let text = caseload().await;
    assert!(text.contains("1 shared since the last session"), "{text}");
}

async fn a_partner_without_a_practice_reads_times_in_their_browsers_zone(app: TestApp) {
    let zone_of = |token: String| {
        let app = &app;
        async move {
            let (_, settings) = app.api_get(&token, "/api/v1/me/settings").await;
            settings["time_zone"].clone()
        }
    };
    // self-guided: the browser's zone, sent with the sign-up, becomes theirs
    let client = crate::helpers::browser_client();
    let confirmed = app
        .sign_up_from(
            &client,
            "Robin",
            "robin@example.org",
            "robin's long password",
            &[("browser_zone", "Asia/Tokyo")],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    let robin = app
        .api_login("robin@example.org", "robin's long password")
        .await;
    assert_eq!(zone_of(robin.clone()).await, "Asia/Tokyo");
    // later sign-ins elsewhere do not move a zone once there is one
    let other = crate::helpers::browser_client();
    let signed_in = app
        .submit(
            &other,
            "/login",
            "/login",
            &[
                ("email", "robin@example.org"),
                ("password", "robin's long password"),
                ("browser_zone", "Europe/Paris"),
            ],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(zone_of(robin).await, "Asia/Tokyo");

    // one that is not a real zone is ignored, and the page says UTC plainly
    let client = crate::helpers::browser_client();
    app.sign_up_from(
        &client,
        "Quinn",
        "quinn@example.org",
        "quinn's long password",
        &[("browser_zone", "Mars/Olympus_Mons")],
    )
    .await;
    let quinn = app
        .api_login("quinn@example.org", "quinn's long password")
        .await;
    assert_eq!(zone_of(quinn).await, Value::Null);
    let page = app.fetch_text(&client, "/account/notices").await;
    assert!(page.contains("Not chosen yet (UTC)"), "{page}");
    assert!(!page.contains("The practice's"));

    // a partner whose practice sets the zone keeps following it
    let alex_browser = crate::helpers::browser_client();
    app.submit(
        &alex_browser,
        "/login",
        "/login",
        &[
            ("email", "alex@example.com"),
            ("password", DEMO_PASSWORD),
            ("browser_zone", "Asia/Tokyo"),
        ],
    )
    .await;
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    assert_eq!(zone_of(alex).await, Value::Null);
    let page = app.fetch_text(&alex_browser, "/account/notices").await;
    assert!(page.contains("The practice's ("), "{page}");
}
