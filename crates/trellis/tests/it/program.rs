//! The program: onboarding with the private safety check, stages opened by
//! the therapist, homework, paired answers revealed only when both answered,
//! and the reflect-back loop. Privacy holds at every step.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DEMO_PASSWORD, SAFE, TestApp, fresh_couple, onboard, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    paired_answers_stay_hidden_until_both_answered,
    exercise_kinds_check_their_fields,
    crisis_language_in_writing_flags_the_therapist_and_helps_the_writer,
    the_caseload_shows_what_is_new_and_what_needs_attention,
);

// These read the demo's couples and their history.
on_both_backends!(with_demo =>
    the_program_lists_nine_stages,
    exercises_open_after_onboarding_and_by_stage,
    the_reflect_back_loop_runs_until_confirmed,
    the_demo_has_weeks_of_history,
);

/// The API tokens of Alex, Sam and their therapist (a fresh couple in
/// tests is set up through the demo practice).
async fn people(app: &TestApp) -> (String, String, String) {
    (
        app.api_login("alex@example.com", DEMO_PASSWORD).await,
        app.api_login("sam@example.com", DEMO_PASSWORD).await,
        app.api_login("therapist@example.com", DEMO_PASSWORD).await,
    )
}

async fn answer(app: &TestApp, token: &str, exercise: &str, body: Value) -> (StatusCode, Value) {
    app.api_post(
        Some(token),
        &format!("/api/v1/exercises/{exercise}/responses"),
        body,
    )
    .await
}

async fn couple_id(app: &TestApp, token: &str) -> String {
    app.api_get(token, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn the_program_lists_nine_stages(app: TestApp) {
    let (alex, _, priya) = people(&app).await;
    for token in [&alex, &priya] {
        let (status, program) = app.api_get(token, "/api/v1/program").await;
        assert_eq!(status, StatusCode::OK);
        let stages = program["stages"].as_array().unwrap();
        assert_eq!(stages.len(), 9);
        assert_eq!(stages[0]["title"], "Making it safe");
        let exercises: Vec<&Value> = stages
            .iter()
            .flat_map(|s| s["exercises"].as_array().unwrap())
            .collect();
        assert!(exercises.len() >= 24);
        for exercise in exercises {
            let kind = exercise["kind"].as_str().unwrap();
            assert!(
                [
                    "reflection",
                    "rating",
                    "paired",
                    "reflect_back",
                    "checklist",
                    "goals"
                ]
                .contains(&kind),
                "{kind}"
            );
            assert!(exercise["id"].is_string() && exercise["title"].is_string());
        }
    }
}

async fn exercises_open_after_onboarding_and_by_stage(app: TestApp) {
    let (_, _, priya) = people(&app).await;
    // Jordan and Riley are onboarded in the demo; a new couple is not.
    let therapist = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (_, created) = app
        .api_post(Some(&therapist), "/api/v1/couples", json!({"partners": [{"email": "noa@example.org", "name": "Noa"}, {"email": "kai@example.org", "name": "Kai"}]}))
        .await;
    assert!(created["invitations"][0]["mailed"].as_bool().unwrap());
    let token = app.invitation_token("noa@example.org");
    let (_, noa) = app
        .api_post(
            None,
            &format!("/api/v1/invitations/{token}/accept"),
            json!({"name": "Noa", "password": "noa's password"}),
        )
        .await;
    let noa = noa["token"].as_str().unwrap().to_owned();
    let body = json!({"body": "Safety means I can say what I feel."});
    let (status, error) = answer(&app, &noa, "trust-in-daily-life", body.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "onboarding first: {error}");
    let (_, status_json) = app.api_get(&noa, "/api/v1/onboarding").await;
    assert_eq!(status_json["complete"], false);
    assert_eq!(
        status_json["safety_questions"].as_array().unwrap().len(),
        13
    );
    onboard(&app, &noa, SAFE).await;
    assert_eq!(
        answer(&app, &noa, "trust-in-daily-life", body.clone())
            .await
            .0,
        StatusCode::CREATED
    );
    // Stage two is closed until the therapist opens it.
    let (status, error) = answer(&app, &noa, "naming-feelings", body.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unlocks")
    );
    let couple = created["id"].as_str().unwrap();
    let unlock = reqwest::Client::new()
        .post(app.url(&format!(
            "/api/v1/couples/{couple}/stages/acknowledging-the-pain/unlock"
        )))
        .bearer_auth(&priya)
        .send()
        .await
        .unwrap();
    assert_eq!(unlock.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        answer(&app, &noa, "naming-feelings", body.clone()).await.0,
        StatusCode::CREATED
    );
    // Homework with a due date opens its stage and shows on the journey.
    let (status, _) = app
        .api_post(Some(&priya), &format!("/api/v1/couples/{couple}/assignments"), json!({"exercise_id": "patterns-i-recognise", "due": "2026-12-10", "note": "Before Thursday"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple}/assignments"),
            json!({"exercise_id": "patterns-i-recognise", "due": "next week"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, journey) = app
        .api_get(&noa, &format!("/api/v1/couples/{couple}/journey"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        journey["assignments"][0]["exercise_id"],
        "patterns-i-recognise"
    );
    assert_eq!(journey["assignments"][0]["due_on"], "2026-12-10");
    let stages = journey["stages"].as_array().unwrap();
    assert_eq!(stages.iter().filter(|s| s["open"] == true).count(), 3);
    let daily = stages[0]["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "trust-in-daily-life")
        .unwrap();
    let done: Vec<&str> = daily["done_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(done.len(), 1, "Noa did 'trust in daily life'");
    // Another couple's journey is not there for Noa or another therapist.
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    assert_eq!(
        app.api_get(&tom, &format!("/api/v1/couples/{couple}/journey"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    let jordans = couple_id(&app, &jordan).await;
    assert_eq!(
        app.api_get(&noa, &format!("/api/v1/couples/{jordans}/journey"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

async fn paired_answers_stay_hidden_until_both_answered(app: TestApp) {
    let (couple, alex, sam, _) = fresh_couple(&app).await;
    // A paired answer cannot be made private to dodge the exchange.
    let (status, error) = answer(
        &app,
        &alex,
        "boundaries-we-need",
        json!({"body": "x", "audience": "me"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, created) = answer(&app, &alex, "boundaries-we-need", json!({"body": "The night you drove me home without asking why.", "audience": "partner_and_therapist"})).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let alex_answer = created["id"].as_str().unwrap().to_owned();
    let (status, again) = answer(&app, &alex, "boundaries-we-need", json!({"body": "again"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    // The partner has not answered: the answer is hidden everywhere they look.
    let (_, seen) = app
        .api_get(&sam, "/api/v1/exercises/boundaries-we-need/responses")
        .await;
    assert_eq!(seen["responses"].as_array().unwrap().len(), 0, "{seen}");
    assert_eq!(seen["partner_answered"], true);
    assert_eq!(
        app.api_get(&sam, &format!("/api/v1/entries/{alex_answer}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, export) = app.api_get(&sam, "/api/v1/me/export").await;
    assert!(!export.to_string().contains("drove me home"));
    let sam_page = app
        .browser_login("pat@example.org", "a long password")
        .await;
    let html = page_text(
        sam_page
            .get(app.url("/journey/boundaries-we-need"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(!html.contains("drove me home") && html.contains("Your partner has answered"));
    // The therapist, in the audience, may read it already.
    let priya_page = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let couple_page = page_text(
        priya_page
            .get(app.url(&format!("/caseload/couples/{couple}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(couple_page.contains("drove me home"));

    // The partner answers: now each sees the other's.
    let (status, _) = answer(
        &app,
        &sam,
        "boundaries-we-need",
        json!({"body": "When you told me about the message yourself."}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, seen) = app
        .api_get(&sam, "/api/v1/exercises/boundaries-we-need/responses")
        .await;
    let texts: Vec<&str> = seen["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"The night you drove me home without asking why."),
        "{texts:?}"
    );
    let (_, alex_sees) = app
        .api_get(&alex, "/api/v1/exercises/boundaries-we-need/responses")
        .await;
    assert_eq!(alex_sees["responses"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.api_get(&sam, &format!("/api/v1/entries/{alex_answer}"))
            .await
            .0,
        StatusCode::OK
    );
}

async fn move_on(app: &TestApp, token: &str, action: &str, body: &str) -> (StatusCode, Value) {
    answer(
        app,
        token,
        "hearing-the-hurt",
        json!({"move": action, "body": body}),
    )
    .await
}

async fn the_reflect_back_loop_runs_until_confirmed(app: TestApp) {
    let (couple, alex, sam, priya) = fresh_couple(&app).await;
    let unlock = reqwest::Client::new()
        .post(app.url(&format!(
            "/api/v1/couples/{couple}/stages/acknowledging-the-pain/unlock"
        )))
        .bearer_auth(&priya)
        .send()
        .await
        .unwrap();
    assert_eq!(unlock.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        move_on(
            &app,
            &sam,
            "share",
            "When you lied about where you were, I felt foolish and alone."
        )
        .await
        .0,
        StatusCode::CREATED
    );
    // Out of turn: Sam cannot confirm before Alex reflects; Alex cannot confirm at all.
    assert_eq!(
        move_on(&app, &sam, "confirm", "").await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        move_on(&app, &alex, "confirm", "").await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        move_on(&app, &alex, "reflect", "You felt stupid.").await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        move_on(
            &app,
            &sam,
            "clarify",
            "Not stupid: foolish for trusting, and very alone."
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        move_on(
            &app,
            &alex,
            "reflect",
            "You felt foolish for trusting me, and alone with it."
        )
        .await
        .0,
        StatusCode::CREATED
    );
    assert_eq!(
        move_on(&app, &sam, "confirm", "").await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        move_on(&app, &alex, "reflect", "more").await.0,
        StatusCode::CONFLICT,
        "the round is over"
    );

    let (_, seen) = app
        .api_get(&alex, "/api/v1/exercises/hearing-the-hurt/responses")
        .await;
    let round = &seen["rounds"][0];
    assert_eq!(round["status"], "confirmed");
    assert_eq!(round["turns"].as_array().unwrap().len(), 5);
    assert_eq!(round["turns"][4]["text"], "Yes, that is it. I feel heard.");
    let (_, journey) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/journey"))
        .await;
    let exercise = journey["stages"][1]["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "hearing-the-hurt")
        .unwrap();
    assert_eq!(
        exercise["done_by"].as_array().unwrap().len(),
        2,
        "done for both"
    );
    // Another couple sees none of it.
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    let (_, theirs) = app
        .api_get(&jordan, "/api/v1/exercises/hearing-the-hurt/responses")
        .await;
    assert_eq!(theirs["rounds"].as_array().map_or(0, Vec::len), 0);
}

async fn exercise_kinds_check_their_fields(app: TestApp) {
    let (couple, alex, _, priya) = fresh_couple(&app).await;
    for stage in ["understanding-how-it-happened", "rebuilding-together"] {
        let unlock = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/couples/{couple}/stages/{stage}/unlock")))
            .bearer_auth(&priya)
            .send()
            .await
            .unwrap();
        assert_eq!(unlock.status(), StatusCode::NO_CONTENT);
    }
    let ratings = json!({"ratings": {"safety": 4, "reliability": 3}});
    let (status, error) = answer(&app, &alex, "three-parts-of-trust", ratings).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "respect is missing"
    );
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("kindness")
    );
    let out_of_range = json!({"ratings": {"safety": 4, "reliability": 3, "respect": 11}});
    assert_eq!(
        answer(&app, &alex, "three-parts-of-trust", out_of_range)
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let good = json!({"ratings": {"safety": 4, "reliability": 3, "respect": 7}, "body": "Better than last month."});
    assert_eq!(
        answer(&app, &alex, "three-parts-of-trust", good).await.0,
        StatusCode::CREATED
    );

    assert_eq!(
        answer(
            &app,
            &alex,
            "patterns-i-recognise",
            json!({"checked": ["not-an-item"]})
        )
        .await
        .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        answer(
            &app,
            &alex,
            "patterns-i-recognise",
            json!({"checked": ["avoided-talks"]})
        )
        .await
        .0,
        StatusCode::CREATED
    );

    let no_marker =
        json!({"goals": [{"area": "Communication", "goal": "Talk more", "markers": [" "]}]});
    assert_eq!(
        answer(&app, &alex, "our-goals", no_marker).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let goal = json!({"goals": [{"area": "Communication", "goal": "Talk more", "markers": ["Ten minutes most evenings"]}]});
    assert_eq!(
        answer(&app, &alex, "our-goals", goal).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        answer(&app, &alex, "no-such-exercise", json!({"body": "x"}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        answer(&app, &alex, "trust-in-daily-life", json!({"body": " "}))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, mine) = app
        .api_get(&alex, "/api/v1/exercises/three-parts-of-trust/responses")
        .await;
    assert_eq!(mine["responses"][0]["ratings"]["respect"], 7);
}

async fn the_demo_has_weeks_of_history(app: TestApp) {
    trellis::demo::history::seed(&app.state, trellis_web::state::system_now())
        .await
        .unwrap();
    let (alex, sam, priya) = people(&app).await;
    let couple = couple_id(&app, &alex).await;
    let (_, journey) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/journey"))
        .await;
    let done: usize = journey["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["exercises"].as_array().unwrap())
        .map(|e| e["done_by"].as_array().unwrap().len())
        .sum();
    assert!(done >= 10, "{done} answers in the demo journey");
    assert_eq!(journey["assignments"].as_array().unwrap().len(), 1);
    // The paired exchange is revealed; the reflect-back round is confirmed.
    let (_, paired) = app
        .api_get(&sam, "/api/v1/exercises/boundaries-we-need/responses")
        .await;
    assert_eq!(paired["responses"].as_array().unwrap().len(), 2);
    let (_, round) = app
        .api_get(&alex, "/api/v1/exercises/hearing-the-hurt/responses")
        .await;
    assert_eq!(round["rounds"][0]["status"], "confirmed");
    // History is spread over weeks, not written today.
    let (_, entries) = app.api_get(&sam, "/api/v1/entries").await;
    let oldest = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["created_at"].as_i64().unwrap())
        .min()
        .unwrap();
    assert!(trellis_web::state::system_now() - oldest > 7 * trellis_core::time::DAY);
    // Measures tell two stories: Alex and Sam improving, Riley not on track.
    let (_, progress) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/progress"))
        .await;
    let alex_trend = &progress["partners"][0]["trends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["instrument"] == "csi4")
        .unwrap()["points"];
    let points = alex_trend.as_array().unwrap();
    assert!(
        points.len() >= 6
            && points.last().unwrap()[1].as_i64() > points.first().unwrap()[1].as_i64()
    );
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let jordans = couple_id(
        &app,
        &app.api_login("jordan@example.com", DEMO_PASSWORD).await,
    )
    .await;
    let (_, theirs) = app
        .api_get(&tom, &format!("/api/v1/couples/{jordans}/progress"))
        .await;
    let kinds: Vec<&str> = theirs["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"below_cutoff") && kinds.contains(&"missed_check_ins"),
        "{kinds:?}"
    );
    // A promise kept and noticed for weeks, an agreement, a milestone.
    let (_, consistency) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/consistency"))
        .await;
    let alex_row = consistency["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Alex")
        .unwrap();
    assert!(
        alex_row["kept"].as_i64().unwrap() >= 15 && alex_row["noticed"].as_i64().unwrap() >= 8,
        "{alex_row}"
    );
    let (_, milestones) = app
        .api_get(&alex, &format!("/api/v1/couples/{couple}/milestones"))
        .await;
    let kinds = milestones.to_string();
    assert!(
        kinds.contains("steady_follow_through") && kinds.contains("first_agreement"),
        "{kinds}"
    );
    // Consistency week by week, as a chart with its numbers.
    let promises = page_text(
        app.browser_login("sam@example.com", DEMO_PASSWORD)
            .await
            .get(app.url("/promises"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        promises.contains("Promises kept, week by week (%)") && promises.contains("role=\"img\"")
    );
    // The journey review tells the story in order.
    let sam_page = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    let review = page_text(
        sam_page
            .get(app.url("/journey/review"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        review.contains("completed the stage \"Making it safe\""),
        "{review}"
    );
    assert!(
        review.contains("You agreed: \"Contact with exes\"") && review.contains("(CSI-4) rose")
    );
    let therapist_page = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let theirs = therapist_page
        .get(app.url(&format!("/journey/review?couple={couple}")))
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), StatusCode::OK);
    let other = app
        .browser_login("therapist2@example.com", DEMO_PASSWORD)
        .await;
    assert_eq!(
        other
            .get(app.url(&format!("/journey/review?couple={couple}")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    // Riley has not answered Jordan's paired question yet: it waits.
    let riley = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let (_, waiting) = app
        .api_get(&riley, "/api/v1/exercises/money-and-trust/responses")
        .await;
    assert_eq!(waiting["responses"].as_array().unwrap().len(), 0);
    assert_eq!(waiting["partner_answered"], true);
}

async fn crisis_language_in_writing_flags_the_therapist_and_helps_the_writer(app: TestApp) {
    let (couple, mo, pat, _) = fresh_couple(&app).await;
    let (status, entry) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": "Some nights I want to kill myself.", "audience": "me"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(entry["crisis"], true, "the writer is offered help");
    let (_, calm) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": "We had a calm evening."}),
        )
        .await;
    assert_eq!(calm["crisis"], false);
    // The therapist is flagged; shared work pauses; the partner learns nothing.
    let priya = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let page = page_text(
        priya
            .get(app.url(&format!("/caseload/couples/{couple}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        page.contains("Urgent: safety concern about Mo") && page.contains("suggests self-harm"),
        "{page}"
    );
    assert!(
        !page.contains("kill myself"),
        "a private entry stays private, even from the therapist"
    );
    let (status, _) = answer(&app, &pat, "boundaries-we-need", json!({"body": "x"})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    for path in [
        "/api/v1/me/export",
        "/api/v1/me/activity",
        "/api/v1/entries",
    ] {
        let (_, body) = app.api_get(&pat, path).await;
        let text = body.to_string();
        assert!(
            !text.contains("kill myself") && !text.contains("concern"),
            "{path}: {text}"
        );
    }
    // The journal page shows the help right away.
    let mo_page = app.browser_login("mo@example.org", "a long password").await;
    let saved = app
        .submit(
            &mo_page,
            "/journal",
            "/journal",
            &[("body", "I might hurt myself tonight."), ("audience", "me")],
        )
        .await;
    assert_eq!(saved.headers()["location"], "/journal?saved=true&help=true");
    let help = page_text(
        mo_page
            .get(app.url("/journal?saved=true&help=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(help.contains("You don't have to carry it alone"));
}

async fn the_caseload_shows_what_is_new_and_what_needs_attention(app: TestApp) {
    let (couple, mo, _, _) = fresh_couple(&app).await;
    let priya = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let caseload = page_text(priya.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(!caseload.contains("new since your last visit"));
    app.api_post(
        Some(&mo),
        "/api/v1/entries",
        json!({"body": "For Thursday", "audience": "therapist"}),
    )
    .await;
    app.api_post(
        Some(&mo),
        "/api/v1/entries",
        json!({"body": "Just for me", "audience": "me"}),
    )
    .await;
    let caseload = page_text(priya.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(
        caseload.contains("1 new since your last visit"),
        "only what was shared with the therapist counts"
    );
    priya
        .get(app.url(&format!("/caseload/couples/{couple}")))
        .send()
        .await
        .unwrap();
    let caseload = page_text(priya.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(!caseload.contains("new since your last visit"), "seen");
    assert!(!caseload.contains("safety flag"));
    app.api_post(
        Some(&mo),
        "/api/v1/entries",
        json!({"body": "I want to end my life.", "audience": "me"}),
    )
    .await;
    let caseload = page_text(priya.get(app.url("/caseload")).send().await.unwrap()).await;
    assert!(caseload.contains("Urgent safety flag"), "{caseload}");
    assert!(caseload.contains("Urgent: someone in your caseload needs your attention"));
}
