//! The couple's situation (one hurt, both hurt, trust worn down): who sets
//! it, the words each partner reads, the exercises each situation shows,
//! stage pacing for self-paced couples, and the private suitability answers.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DEMO_PASSWORD, SAFE, TestApp, fresh_couple, onboard};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    the_therapist_sets_the_situation_and_each_partner_reads_their_role,
    self_guided_partners_agree_on_it_and_open_stages_in_order,
    a_suitability_answer_is_explained_privately_and_raises_no_flag,
);

async fn id_of(app: &TestApp, token: &str) -> String {
    app.api_get(token, "/api/v1/me").await.1["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An exercise of the caller's program as the API words it for them.
async fn exercise(app: &TestApp, token: &str, id: &str) -> Option<Value> {
    let (_, program) = app.api_get(token, "/api/v1/program").await;
    program["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["exercises"].as_array().unwrap().clone())
        .find(|e| e["id"] == id)
}

async fn the_therapist_sets_the_situation_and_each_partner_reads_their_role(app: TestApp) {
    let (couple, mo, pat, priya) = fresh_couple(&app).await;
    let path = format!("/api/v1/couples/{couple}/situation");
    let mo_id = id_of(&app, &mo).await;
    // Before a situation is set, both read the shared words.
    let shared = exercise(&app, &mo, "hearing-the-hurt").await.unwrap();
    assert_eq!(
        shared,
        exercise(&app, &pat, "hearing-the-hurt").await.unwrap()
    );
    // Bad input and the wrong people are refused.
    let (status, _) = app
        .api_post(Some(&priya), &path, json!({"kind": "affair"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .api_post(Some(&priya), &path, json!({"kind": "one_hurt"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "who was hurt?");
    let (status, _) = app
        .api_post(
            Some(&mo),
            &path,
            json!({"kind": "one_hurt", "hurt_partner_id": mo_id}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a guided couple's therapist sets it"
    );
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (status, _) = app
        .api_post(Some(&tom), &path, json!({"kind": "eroded"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Mo was hurt by Pat.
    let (status, set) = app
        .api_post(
            Some(&priya),
            &path,
            json!({"kind": "one_hurt", "hurt_partner_id": mo_id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["kind"], "one_hurt");
    assert_eq!(app.api_get(&mo, &path).await.1["my_role"], "hurt");
    assert_eq!(app.api_get(&pat, &path).await.1["my_role"], "involved");
    let hurt = exercise(&app, &mo, "looking-beneath-a-pattern")
        .await
        .unwrap();
    let involved = exercise(&app, &pat, "looking-beneath-a-pattern")
        .await
        .unwrap();
    assert_ne!(
        hurt["prompt"], involved["prompt"],
        "each role has its own words"
    );
    let hurt_prompt = hurt["prompt"].as_str().unwrap().to_lowercase();
    assert!(
        !hurt_prompt.contains("your part") && !hurt_prompt.contains("part you played"),
        "the hurt partner is not asked to share the blame: {hurt_prompt}"
    );
    // The exercises follow the situation.
    assert!(exercise(&app, &pat, "apology-letter").await.is_some());
    app.api_post(Some(&priya), &path, json!({"kind": "eroded"}))
        .await;
    assert!(exercise(&app, &pat, "apology-letter").await.is_none());
    assert!(exercise(&app, &pat, "the-part-i-played").await.is_some());
    assert_eq!(app.api_get(&mo, &path).await.1["my_role"], Value::Null);
}

async fn self_guided_partners_agree_on_it_and_open_stages_in_order(app: TestApp) {
    let (robin, quinn) = crate::couples::self_guided_pair(&app).await;
    onboard(&app, &robin, SAFE).await;
    onboard(&app, &quinn, SAFE).await;
    let couple = app.api_get(&robin, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/couples/{couple}/situation");
    let (status, first) = app
        .api_post(Some(&robin), &path, json!({"kind": "eroded"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["kind"], Value::Null, "it waits for Quinn");
    assert_eq!(first["waiting_for_partner"], true);
    let (_, other) = app
        .api_post(Some(&quinn), &path, json!({"kind": "both_hurt"}))
        .await;
    assert_eq!(other["kind"], Value::Null, "they said different things");
    let (_, agreed) = app
        .api_post(Some(&quinn), &path, json!({"kind": "eroded"}))
        .await;
    assert_eq!(agreed["kind"], "eroded");

    // Self-paced: only the first stage is open until both did half of it.
    let journey = |token: String| {
        let app = &app;
        let path = format!("/api/v1/couples/{couple}/journey");
        async move { app.api_get(&token, &path).await.1 }
    };
    let open = |j: &Value| {
        j["stages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["open"] == true)
            .count()
    };
    assert_eq!(open(&journey(robin.clone()).await), 1);
    let (status, refused) = app
        .api_post(
            Some(&robin),
            "/api/v1/exercises/naming-feelings/responses",
            json!({"body": "Tired."}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    for token in [&robin, &quinn] {
        for id in [
            "trust-in-daily-life",
            "my-time-out-plan",
            "plan-for-hard-days",
        ] {
            let (status, body) = app
                .api_post(
                    Some(token),
                    &format!("/api/v1/exercises/{id}/responses"),
                    json!({"body": "Our own words."}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{id}: {body}");
        }
        if token == &robin {
            // one partner alone does not open the next stage
            assert_eq!(open(&journey(quinn.clone()).await), 1);
        }
    }
    assert_eq!(open(&journey(quinn.clone()).await), 2);
    let (status, _) = app
        .api_post(
            Some(&robin),
            "/api/v1/exercises/naming-feelings/responses",
            json!({"body": "Tired, and hopeful."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn a_suitability_answer_is_explained_privately_and_raises_no_flag(app: TestApp) {
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (couple, ari, lou) = crate::helpers::join_couple(
        &app,
        &priya,
        [("ari@example.org", "Ari"), ("lou@example.org", "Lou")],
        |email| app.invitation_token(email),
    )
    .await;
    let mut answers = SAFE.to_vec();
    for slot in answers.iter_mut() {
        if slot.0 == "ongoing-affair" {
            slot.1 = "yes";
        }
    }
    let before = app.last_mail_to("therapist@example.com");
    let outcome = onboard(&app, &ari, &answers).await;
    assert_eq!(outcome["concerning"], false, "not a safety concern");
    let why = outcome["not_suitable"].as_str().unwrap();
    assert!(
        why.contains("not the right") || why.contains("not a judgement"),
        "{why}"
    );
    assert_eq!(
        app.last_mail_to("therapist@example.com"),
        before,
        "no notice"
    );
    onboard(&app, &lou, SAFE).await;
    // The therapist sees the answer; Lou sees nothing of it.
    let (_, panel) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/screening"))
        .await;
    assert!(panel["flags"].as_array().unwrap().is_empty());
    let ari_answers = panel["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Ari")
        .unwrap()["answers"]
        .to_string();
    assert!(ari_answers.contains("affair"), "{ari_answers}");
    for path in [
        "/api/v1/shared-work",
        "/api/v1/me/export",
        "/api/v1/entries",
    ] {
        let text = app.api_get(&lou, path).await.1.to_string().to_lowercase();
        assert!(
            !text.contains("affair") && !text.contains("suitab"),
            "{path}: {text}"
        );
    }
}
