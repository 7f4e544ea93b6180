//! The safety flow: screening before joint work, tiered flags, notices that
//! reach the therapist at once and name no one, the pause either partner
//! may set, and a gate that looks the same to a partner whatever closed it.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{DEMO_PASSWORD, SAFE, TestApp, fresh_couple, onboard, page_text};
use crate::on_both_backends;

on_both_backends!(with_practice =>
    the_gate_looks_the_same_whether_or_not_the_other_partner_raised_a_concern,
    shared_work_opens_only_after_conjoint_ok_for_both,
    distress_notifies_without_closing_and_urgent_closes_until_a_decision,
    an_urgent_sign_only_word_statistics_read_is_a_distress_flag_that_pauses_nothing,
    a_threat_flags_the_partner_at_risk_not_only_the_writer,
    either_partner_may_close_shared_work_and_only_they_open_it_again,
    not_sure_is_a_concern_and_the_check_comes_back,
    the_practice_promise_is_what_the_client_reads,
    a_possible_sign_tells_nobody_until_the_writer_asks,
    without_a_therapist_there_is_no_one_to_tell,
    asking_to_tell_after_a_flag_from_before_the_therapist_tells_them,
);

// Jordan and Riley, the demo's couple that has been screened and cleared.
on_both_backends!(with_demo => a_partner_sees_the_same_closed_gate_whoever_closed_it);

/// Words the coach reads as a possible sign of crisis (likely, not sure):
/// passive ideation with no cue the rules know.
const POSSIBLE: &str = "I gave my guitar to my brother, I won't need it";

/// A couple Dr. Priya has just added, both partners joined, their safety
/// checks not yet taken and nobody screened.
async fn joined_couple(app: &TestApp, people: [(&str, &str); 2]) -> (String, String, String) {
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    crate::helpers::join_couple(app, &priya, people, |email| app.invitation_token(email)).await
}

fn with(answers: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut all = SAFE.to_vec();
    for (id, answer) in answers {
        let slot = all.iter_mut().find(|(q, _)| q == id).unwrap();
        slot.1 = answer;
    }
    all
}

/// Every mail in the outbox to `email`, oldest first.
fn mails_to(app: &TestApp, email: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(app.data_dir.join("outbox")) else {
        return Vec::new();
    };
    let mut mails: Vec<(std::path::PathBuf, String)> = dir
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let text = std::fs::read_to_string(&path).ok()?;
            Some((path, text))
        })
        .filter(|(_, text)| {
            text.lines()
                .any(|l| l.starts_with("To:") && l.contains(email))
        })
        .collect();
    mails.sort();
    mails.into_iter().map(|(_, text)| text).collect()
}

/// What each shared-work route answers the partner: status and message.
async fn shared_work_answers(app: &TestApp, token: &str) -> Vec<(StatusCode, Value)> {
    let mut answers = Vec::new();
    for (path, body) in [
        (
            "/api/v1/exercises/boundaries-we-need/responses",
            json!({"body": "x"}),
        ),
        ("/api/v1/talks", json!({"topic": "The weekend"})),
        ("/api/v1/compromises", json!({"topic": "Holidays"})),
        (
            "/api/v1/agreements",
            json!({"title": "Phones", "text": "We keep phones out of the bedroom."}),
        ),
        (
            "/api/v1/rituals",
            json!({"text": "A walk after dinner", "cadence": "daily"}),
        ),
    ] {
        let (status, answer) = app.api_post(Some(token), path, body).await;
        answers.push((status, answer["error"]["message"].clone()));
    }
    answers
}

async fn the_gate_looks_the_same_whether_or_not_the_other_partner_raised_a_concern(app: TestApp) {
    let (_, ari, lou) = joined_couple(
        &app,
        [("ari@example.org", "Ari"), ("lou@example.org", "Lou")],
    )
    .await;
    let (_, kim, lee) = joined_couple(
        &app,
        [("kim@example.org", "Kim"), ("lee@example.org", "Lee")],
    )
    .await;
    let before = mails_to(&app, "therapist@example.com").len();
    // Ari discloses danger; Kim raises nothing.
    let worried = onboard(&app, &ari, &with(&[("afraid", "yes"), ("weapons", "yes")])).await;
    assert_eq!(worried["concerning"], true);
    assert_eq!(worried["urgent"], true);
    let next = worried["what_happens_next"].as_str().unwrap();
    assert!(
        next.contains("notice") && next.contains("partner is not told"),
        "{next}"
    );
    let calm = onboard(&app, &kim, SAFE).await;
    assert_eq!(calm["concerning"], false);
    onboard(&app, &lou, SAFE).await;
    onboard(&app, &lee, SAFE).await;
    // The therapist had a notice while Ari's request was answered.
    assert_eq!(mails_to(&app, "therapist@example.com").len(), before + 1);

    // Lou and Lee see exactly the same thing.
    let lou_view = app.api_get(&lou, "/api/v1/shared-work").await.1;
    let lee_view = app.api_get(&lee, "/api/v1/shared-work").await.1;
    assert_eq!(lou_view, lee_view);
    assert_eq!(lou_view["open"], false);
    let lou_answers = shared_work_answers(&app, &lou).await;
    let lee_answers = shared_work_answers(&app, &lee).await;
    assert_eq!(lou_answers, lee_answers);
    for (status, message) in &lou_answers {
        assert_eq!(*status, StatusCode::CONFLICT, "{message}");
        assert_eq!(message, &lou_view["message"]);
        let text = message.as_str().unwrap().to_lowercase();
        assert!(!text.contains("safety") && !text.contains("concern") && !text.contains("ari"));
    }
    // Ari and Kim, whatever they answered, see the same too.
    assert_eq!(
        app.api_get(&ari, "/api/v1/shared-work").await.1,
        app.api_get(&kim, "/api/v1/shared-work").await.1
    );
    // Nothing of Ari's answers anywhere Lou looks.
    for path in [
        "/api/v1/me/export",
        "/api/v1/me/activity",
        "/api/v1/entries",
    ] {
        let (_, body) = app.api_get(&lou, path).await;
        let text = body.to_string().to_lowercase();
        assert!(
            !text.contains("\"yes\"") && !text.contains("concern") && !text.contains("weapon"),
            "{path}: {text}"
        );
    }
    // Private work goes on for everyone.
    let (status, _) = app
        .api_post(
            Some(&lou),
            "/api/v1/entries",
            json!({"body": "My own words."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn decide(
    app: &TestApp,
    path: &str,
    token: &str,
    user: &str,
    decision: &str,
) -> (StatusCode, Value) {
    let body = json!({"user_id": user, "decision": decision, "note": "Seen alone on Monday."});
    app.api_post(Some(token), path, body).await
}

async fn shared_work_opens_only_after_conjoint_ok_for_both(app: TestApp) {
    let (couple, ari, lou) = joined_couple(
        &app,
        [("ari@example.org", "Ari"), ("lou@example.org", "Lou")],
    )
    .await;
    onboard(&app, &ari, SAFE).await;
    onboard(&app, &lou, SAFE).await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (_, panel) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/screening"))
        .await;
    assert_eq!(panel["shared_work_open"], false);
    let ids: Vec<String> = panel["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["user_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        panel["partners"][0]["answers"].as_array().unwrap().len() >= 11,
        "the therapist sees each item: {panel}"
    );
    let path = format!("/api/v1/couples/{couple}/screening");
    // Only the couple's therapist decides.
    assert_eq!(
        decide(&app, &path, &tom, &ids[0], "conjoint_ok").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        decide(&app, &path, &ari, &ids[0], "conjoint_ok").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        decide(&app, &path, &priya, &ids[0], "fine").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        decide(&app, &path, &priya, "someone-else", "conjoint_ok")
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (status, first) = decide(&app, &path, &priya, &ids[0], "conjoint_ok").await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        first["shared_work_open"], false,
        "one partner is not enough"
    );
    let (status, _) = app
        .api_post(Some(&ari), "/api/v1/talks", json!({"topic": "The weekend"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, second) = decide(&app, &path, &priya, &ids[1], "individual_first").await;
    assert_eq!(second["shared_work_open"], false);
    let (_, second) = decide(&app, &path, &priya, &ids[1], "conjoint_ok").await;
    assert_eq!(second["shared_work_open"], true);
    let (status, talk) = app
        .api_post(Some(&ari), "/api/v1/talks", json!({"topic": "The weekend"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{talk}");
    let (status, agreement) = app
        .api_post(
            Some(&lou),
            "/api/v1/agreements",
            json!({"title": "Phones", "text": "We keep phones out of the bedroom."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{agreement}");
    // The decision and its note are the therapist's: sealed, and audited.
    let (_, panel) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/screening"))
        .await;
    assert_eq!(panel["partners"][1]["decision"], "conjoint_ok");
    assert_eq!(panel["partners"][1]["note"], "Seen alone on Monday.");
    crate::helpers::assert_sealed_at_rest(&app, "Seen alone on Monday.", "screening_decisions")
        .await;
}

/// The coach's word statistics read an urgent sign that no rule of theirs
/// confirms ("did some damage to my arm"): the therapist is told, and the
/// flag is distress (never "Urgent"), so shared work goes on and
/// the other partner sees nothing change the moment the writer saved. The
/// therapist is told it may be urgent, in the notice, on the caseload (which
/// lists the couple before one with a plain distress flag) and on the
/// couple's page.
async fn an_urgent_sign_only_word_statistics_read_is_a_distress_flag_that_pauses_nothing(
    app: TestApp,
) {
    let (couple, mo, pat, priya) = fresh_couple(&app).await;
    let (status, entry) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": "did some damage to my arm again last night, it'll heal", "audience": "me"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(entry["crisis"], true, "the writer is offered help");
    let notice = app.last_mail_to("therapist@example.com").unwrap();
    assert!(
        notice.contains("needs your attention") && !notice.contains("Urgent"),
        "{notice}"
    );
    assert!(
        !notice.contains("arm") && !notice.contains("Mo"),
        "{notice}"
    );
    let (status, talk) = app
        .api_post(Some(&pat), "/api/v1/talks", json!({"topic": "Saturday"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "shared work goes on: {talk}");
    let (panel, open) = open_flags(&app, &priya, &couple).await;
    assert_eq!(open.len(), 1, "{panel}");
    assert_eq!(open[0]["tier"], "distress", "{panel}");
    assert_eq!(open[0]["may_be_urgent"], true, "{panel}");
    assert!(
        notice.contains("May be urgent:") && notice.contains("as soon as you can"),
        "{notice}"
    );
    // A second couple of the same therapist, added later, with a plain
    // distress flag: the caseload still lists the first one first.
    let (other, sam, _) = joined_couple(
        &app,
        [("sam@example.org", "Sam"), ("lee@example.org", "Lee")],
    )
    .await;
    onboard(&app, &sam, SAFE).await;
    let (status, _) = app
        .api_post(
            Some(&sam),
            "/api/v1/entries",
            json!({"body": "Honestly I can't go on like this anymore.", "audience": "me"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, caseload) = app.api_get(&priya, "/api/v1/caseload").await;
    assert_eq!(status, StatusCode::OK, "{caseload}");
    let rows = caseload["couples"].as_array().unwrap();
    let row = |id: &str| rows.iter().position(|c| c["id"] == id).unwrap();
    assert!(row(&couple) < row(&other), "{caseload}");
    assert_eq!(rows[row(&couple)]["possibly_urgent_flags"], 1, "{caseload}");
    assert_eq!(rows[row(&other)]["possibly_urgent_flags"], 0, "{caseload}");
    assert_eq!(rows[row(&other)]["open_flags"], 1, "{caseload}");
    let therapist = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let page = app
        .fetch_text(&therapist, &format!("/caseload/couples/{couple}"))
        .await;
    assert!(page.contains("May be urgent: safety concern"), "{page}");
    assert!(!page.contains("did some damage"), "{page}");
    let list = app.fetch_text(&therapist, "/caseload").await;
    assert!(list.contains("1 of them may be urgent"), "{list}");
    // the writer's partner sees no flag of any kind
    let (_, pat_view) = app.api_get(&pat, "/api/v1/me").await;
    assert!(!pat_view.to_string().contains("urgent"), "{pat_view}");
}

async fn distress_notifies_without_closing_and_urgent_closes_until_a_decision(app: TestApp) {
    let (couple, mo, pat, priya) = fresh_couple(&app).await;
    let before = mails_to(&app, "therapist@example.com").len();
    let (status, entry) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": "Honestly I can't go on like this anymore.", "audience": "me"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(entry["crisis"], true, "the writer is offered help");
    let mails = mails_to(&app, "therapist@example.com");
    assert_eq!(
        mails.len(),
        before + 1,
        "the notice left during the request"
    );
    let notice = &app.last_mail_to("therapist@example.com").unwrap();
    assert!(
        notice.contains("needs your attention") && !notice.contains("Urgent"),
        "{notice}"
    );
    assert!(
        notice.contains("always sent"),
        "it cannot be switched off: {notice}"
    );
    for private in ["Mo", "Pat", "mo@example.org", "go on like this"] {
        assert!(
            !notice.contains(private),
            "the notice names no one: {notice}"
        );
    }
    // Distress pauses nothing.
    let (status, _) = app
        .api_post(Some(&pat), "/api/v1/talks", json!({"topic": "Saturday"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Self-harm with a plan is urgent: shared work waits for the therapist.
    app.api_post(
        Some(&mo),
        "/api/v1/entries",
        json!({"body": "I have been saving up my pills.", "audience": "me"}),
    )
    .await;
    let notice = app.last_mail_to("therapist@example.com").unwrap();
    assert!(notice.contains("Urgent"), "{notice}");
    assert!(!notice.contains("pills") && !notice.contains("Mo"));
    let (status, refused) = app
        .api_post(Some(&pat), "/api/v1/talks", json!({"topic": "Sunday"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let (panel, open) = open_flags(&app, &priya, &couple).await;
    assert_eq!(open.len(), 2, "{panel}");
    let urgent = open.iter().find(|f| f["tier"] == "urgent").unwrap();
    assert_eq!(urgent["at_risk"], json!(["Mo"]));
    assert!(
        urgent["guidance"]
            .as_str()
            .unwrap()
            .contains("Reach Mo privately")
    );
    assert!(
        !panel.to_string().contains("pills"),
        "private writing stays private"
    );
    // Clearing the flag is a decision, recorded with who made it.
    let (status, decided) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple}/screening"),
            json!({"user_id": urgent["raised_by"], "decision": "conjoint_ok", "flag_id": urgent["id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{decided}");
    assert_eq!(decided["flags_closed"], 1);
    assert_eq!(decided["shared_work_open"], true);
    let (_, panel) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/screening"))
        .await;
    let closed = panel["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == urgent["id"])
        .unwrap()
        .clone();
    assert_eq!(closed["decision"], "conjoint_ok");
    let (status, _) = app
        .api_post(Some(&pat), "/api/v1/talks", json!({"topic": "Sunday"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn a_threat_flags_the_partner_at_risk_not_only_the_writer(app: TestApp) {
    let (couple, mo, _, priya) = fresh_couple(&app).await;
    app.api_post(
        Some(&mo),
        "/api/v1/entries",
        json!({"body": "If you leave me I will kill you.", "audience": "me"}),
    )
    .await;
    let (_, panel) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/screening"))
        .await;
    let flag = &panel["flags"][0];
    assert_eq!(flag["tier"], "urgent");
    assert_eq!(flag["raised_by_name"], "Mo");
    assert_eq!(flag["at_risk"], json!(["Pat"]), "{panel}");
    assert!(
        flag["guidance"]
            .as_str()
            .unwrap()
            .contains("Reach Pat privately")
    );
    // The therapist's page says so in words.
    let browser = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let page = page_text(
        browser
            .get(app.url(&format!("/caseload/couples/{couple}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains("Urgent: safety concern about Pat"), "{page}");
}

async fn either_partner_may_close_shared_work_and_only_they_open_it_again(app: TestApp) {
    let (_, mo, pat, _) = fresh_couple(&app).await;
    let (status, view) = app
        .api_post(Some(&pat), "/api/v1/shared-work/pause", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["open"], false);
    assert_eq!(view["paused_by_me"], true);
    let (_, mo_view) = app.api_get(&mo, "/api/v1/shared-work").await;
    assert_eq!(mo_view["open"], false);
    assert_eq!(mo_view["paused_by_me"], false);
    let (status, _) = app
        .api_post(Some(&mo), "/api/v1/talks", json!({"topic": "x"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Mo cannot lift Pat's pause.
    let (_, still) = app
        .api_post(Some(&mo), "/api/v1/shared-work/resume", json!({}))
        .await;
    assert_eq!(still["open"], false);
    let (_, open) = app
        .api_post(Some(&pat), "/api/v1/shared-work/resume", json!({}))
        .await;
    assert_eq!(open["open"], true);
    let (status, _) = app
        .api_post(Some(&mo), "/api/v1/talks", json!({"topic": "x"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn not_sure_is_a_concern_and_the_check_comes_back(app: TestApp) {
    let (couple, ari, lou) = joined_couple(
        &app,
        [("ari@example.org", "Ari"), ("lou@example.org", "Lou")],
    )
    .await;
    let unsure = onboard(&app, &ari, &with(&[("control", "not_sure")])).await;
    assert_eq!(unsure["concerning"], true);
    assert_eq!(unsure["urgent"], false);
    onboard(&app, &lou, SAFE).await;
    let (status, refused) = app
        .api_post(
            Some(&lou),
            "/api/v1/onboarding/safety",
            json!({"answers": {"afraid": "maybe"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    // The therapist sees how each item was answered.
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (_, panel) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/screening"))
        .await;
    let ari_items = panel["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Ari")
        .unwrap()["answers"]
        .clone();
    let control = ari_items
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["question"].as_str().unwrap().contains("money"))
        .unwrap();
    assert_eq!(control["answer"], "Not sure / rather not say");
    assert_eq!(control["concern"], true);
    // Asked again on request; the same answer raises no second flag.
    let (_, view) = app.api_get(&ari, "/api/v1/shared-work").await;
    assert_eq!(view["safety_check_due"], false);
    let (status, _) = app
        .api_post(
            Some(&priya),
            &format!("/api/v1/couples/{couple}/rescreen"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, view) = app.api_get(&ari, "/api/v1/shared-work").await;
    assert_eq!(view["safety_check_due"], true);
    let again = onboard(&app, &ari, &with(&[("control", "not_sure")])).await;
    assert_eq!(
        again["concerning"], false,
        "nothing new since the last check"
    );
    let (_, view) = app.api_get(&ari, "/api/v1/shared-work").await;
    assert_eq!(view["safety_check_due"], false);
    let (_, panel) = app
        .api_get(&priya, &format!("/api/v1/couples/{couple}/screening"))
        .await;
    assert_eq!(panel["flags"].as_array().unwrap().len(), 1);
}

async fn the_practice_promise_is_what_the_client_reads(app: TestApp) {
    let admin = app.api_login("admin@example.com", DEMO_PASSWORD).await;
    let promise = "Flags are read on working days, Monday to Thursday, 9 to 5.";
    let response = reqwest::Client::new()
        .patch(app.url("/api/v1/practice/safety"))
        .bearer_auth(&admin)
        .json(&json!({"response_promise": promise, "rescreen_weeks": 6}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let refused = reqwest::Client::new()
        .patch(app.url("/api/v1/practice/safety"))
        .bearer_auth(&admin)
        .json(&json!({"response_promise": promise, "rescreen_weeks": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (_, ari, _) = joined_couple(
        &app,
        [("ari@example.org", "Ari"), ("lou@example.org", "Lou")],
    )
    .await;
    let outcome = onboard(&app, &ari, &with(&[("afraid", "yes")])).await;
    assert!(
        outcome["what_happens_next"]
            .as_str()
            .unwrap()
            .contains(promise),
        "{outcome}"
    );
    // The page says the same.
    let browser = app
        .browser_login("ari@example.org", "a long password")
        .await;
    let (status, _) = app
        .api_post(
            Some(&ari),
            "/api/v1/entries",
            json!({"body": "I can't go on anymore.", "audience": "me"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let page = page_text(
        browser
            .get(app.url("/journal?saved=true&help=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains(promise), "{page}");
    assert!(!page.contains("let your therapist know"));
}

/// The gate as a partner meets it: the shared-work view and the journey's flag.
async fn gate_seen_by(app: &TestApp, token: &str, couple: &str) -> (Value, Value) {
    let (_, work) = app.api_get(token, "/api/v1/shared-work").await;
    let (_, journey) = app
        .api_get(token, &format!("/api/v1/couples/{couple}/journey"))
        .await;
    (work, journey["joint_paused"].clone())
}

async fn a_partner_sees_the_same_closed_gate_whoever_closed_it(app: TestApp) {
    let jordan = app.api_login("jordan@example.com", DEMO_PASSWORD).await;
    let riley = app.api_login("riley@example.com", DEMO_PASSWORD).await;
    let couple = app.api_get(&riley, "/api/v1/me").await.1["couple_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (open, _) = gate_seen_by(&app, &riley, &couple).await;
    assert_eq!(
        open["open"], true,
        "the demo couple was screened and cleared"
    );
    // Jordan simply closes shared work...
    app.api_post(Some(&jordan), "/api/v1/shared-work/pause", json!({}))
        .await;
    let by_choice = (
        gate_seen_by(&app, &riley, &couple).await,
        shared_work_answers(&app, &riley).await,
    );
    app.api_post(Some(&jordan), "/api/v1/shared-work/resume", json!({}))
        .await;
    // ...or writes words that raise an urgent flag.
    app.api_post(
        Some(&jordan),
        "/api/v1/entries",
        json!({"body": "I want to kill myself.", "audience": "me"}),
    )
    .await;
    let by_flag = (
        gate_seen_by(&app, &riley, &couple).await,
        shared_work_answers(&app, &riley).await,
    );
    assert_eq!(by_choice, by_flag, "Riley cannot tell why");
    assert_eq!(by_flag.0.1, true);
    let tom = app.api_login("therapist2@example.com", DEMO_PASSWORD).await;
    let (_, panel) = app
        .api_get(&tom, &format!("/api/v1/couples/{couple}/screening"))
        .await;
    assert_eq!(panel["flags"][0]["tier"], "urgent", "the therapist knows");
}

/// A possible sign tells nobody: the writer is shown help and a button, and
/// only pressing it tells the therapist (the same flag and notice as sure
/// crisis language, naming no one and no words).
async fn a_possible_sign_tells_nobody_until_the_writer_asks(app: TestApp) {
    let (couple, mo, pat, priya) = fresh_couple(&app).await;
    let before = mails_to(&app, "therapist@example.com").len();
    let (status, entry) = app
        .api_post(
            Some(&mo),
            "/api/v1/entries",
            json!({"body": POSSIBLE, "audience": "me"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(entry["crisis"], false, "{entry}");
    assert_eq!(entry["possible_crisis"], true, "{entry}");
    assert_eq!(
        mails_to(&app, "therapist@example.com").len(),
        before,
        "nobody is told on the writer's behalf"
    );
    let screening = format!("/api/v1/couples/{couple}/screening");
    let (_, panel) = app.api_get(&priya, &screening).await;
    assert!(
        panel["flags"].as_array().unwrap().is_empty(),
        "no flag: {panel}"
    );

    // The page: help, and the choice.
    let browser = app.browser_login("mo@example.org", "a long password").await;
    let saved = app
        .submit(
            &browser,
            "/journal",
            "/journal",
            &[("body", POSSIBLE), ("audience", "me")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let location = saved.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/journal?saved=true&possible=true");
    let page = page_text(browser.get(app.url(&location)).send().await.unwrap()).await;
    assert!(page.contains("If things are heavy right now"), "{page}");
    assert!(page.contains("Nobody has been told"), "{page}");
    assert!(page.contains("Let my therapist know"), "{page}");
    assert_eq!(
        mails_to(&app, "therapist@example.com").len(),
        before,
        "still nobody"
    );

    // Pressing it tells the therapist.
    let told = app
        .submit(&browser, &location, "/safety/tell-therapist", &[])
        .await;
    assert_eq!(told.status(), StatusCode::SEE_OTHER);
    assert_eq!(told.headers()["location"], "/journal?told=true");
    let page = page_text(
        browser
            .get(app.url("/journal?told=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains("Your therapist has been told"), "{page}");
    assert!(page.contains("private notice"), "{page}");
    assert_eq!(mails_to(&app, "therapist@example.com").len(), before + 1);
    let notice = app.last_mail_to("therapist@example.com").unwrap();
    assert!(notice.contains("needs your attention"), "{notice}");
    for private in ["Mo", "Pat", "mo@example.org", "guitar"] {
        assert!(
            !notice.contains(private),
            "the notice names no one: {notice}"
        );
    }
    let (_, panel) = app.api_get(&priya, &screening).await;
    let flags = panel["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "{panel}");
    assert_eq!(flags[0]["tier"], "distress");
    assert_eq!(flags[0]["at_risk"], json!(["Mo"]));
    assert!(!panel.to_string().contains("guitar"), "{panel}");
    assert_eq!(flags[0]["source"], "asked", "{panel}");
    let therapist = app
        .browser_login("therapist@example.com", DEMO_PASSWORD)
        .await;
    let couple_page = app
        .fetch_text(&therapist, &format!("/caseload/couples/{couple}"))
        .await;
    assert!(
        couple_page.contains("asked for you to know that they may not be safe"),
        "the page says what raised it: {couple_page}"
    );

    // Pat learns nothing, and distress closes nothing.
    let (status, _) = app
        .api_post(Some(&pat), "/api/v1/talks", json!({"topic": "Saturday"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, pats) = app.api_get(&pat, "/api/v1/entries").await;
    assert!(!pats.to_string().contains("guitar"), "{pats}");

    // The API does the same, and says what happens next.
    tells_therapist_privately(
        &app,
        &mo,
        before + 1,
        "asking again within the hour tells no one twice",
    )
    .await;
    let (_, panel) = app.api_get(&priya, &screening).await;
    assert_eq!(panel["flags"].as_array().unwrap().len(), 1, "{panel}");
    let (status, refused) = app
        .api_post(Some(&priya), "/api/v1/safety/tell-therapist", json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "partners only: {refused}");
}

/// `partner` asks through the API to tell their therapist: the answer speaks
/// of a private notice, and the therapist's mailbox then holds `mails`.
async fn tells_therapist_privately(app: &TestApp, partner: &str, mails: usize, why: &str) {
    let (status, answer) = app
        .api_post(Some(partner), "/api/v1/safety/tell-therapist", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("private notice"),
        "{answer}"
    );
    assert_eq!(mails_to(app, "therapist@example.com").len(), mails, "{why}");
}

/// Robin's crisis writing was flagged while the couple had no therapist, so
/// nobody was told. Once a therapist guides them, "Let my therapist know"
/// sends the notice it promises: only an earlier request of Robin's own
/// would make it a repeat.
async fn asking_to_tell_after_a_flag_from_before_the_therapist_tells_them(app: TestApp) {
    let client = crate::helpers::browser_client();
    let signed_up = app
        .sign_up(&client, "Robin", "robin@example.org", "a long password")
        .await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);
    let robin = app.api_login("robin@example.org", "a long password").await;
    let (status, entry) = app
        .api_post(
            Some(&robin),
            "/api/v1/entries",
            json!({"body": "Honestly I can't go on like this anymore.", "audience": "me"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(entry["crisis"], true, "{entry}");
    let before = mails_to(&app, "therapist@example.com").len();
    // Priya comes to guide the couple (as an accepted link request does).
    let (_, me) = app.api_get(&robin, "/api/v1/me").await;
    let couple = trellis_core::CoupleId::new(me["couple_id"].as_str().unwrap());
    let email = trellis_core::EmailAddress::parse("email", "therapist@example.com").unwrap();
    let priya = app.store.user_by_email(&email).await.unwrap().unwrap().user;
    app.store.link_therapist(&couple, &priya).await.unwrap();

    tells_therapist_privately(&app, &robin, before + 1, "the notice it speaks of was sent").await;
}

/// A self-guided partner has no therapist on Trellis: the card shows the
/// helplines without the button, and asking anyway is refused kindly.
async fn without_a_therapist_there_is_no_one_to_tell(app: TestApp) {
    let client = crate::helpers::browser_client();
    let signed_up = app
        .sign_up(&client, "Robin", "robin@example.org", "a long password")
        .await;
    assert_eq!(signed_up.status(), StatusCode::SEE_OTHER);
    let robin = app.api_login("robin@example.org", "a long password").await;
    let (status, entry) = app
        .api_post(
            Some(&robin),
            "/api/v1/entries",
            json!({"body": POSSIBLE, "audience": "me"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(entry["possible_crisis"], true, "{entry}");
    let page = page_text(
        client
            .get(app.url("/journal?saved=true&possible=true"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains("If things are heavy right now"), "{page}");
    assert!(!page.contains("Let my therapist know"), "{page}");
    let (status, refused) = app
        .api_post(Some(&robin), "/api/v1/safety/tell-therapist", json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("helplines"),
        "{refused}"
    );
}

/// The couple's safety panel as their therapist reads it, and its open flags.
async fn open_flags(app: &TestApp, therapist: &str, couple: &str) -> (Value, Vec<Value>) {
    let (_, panel) = app
        .api_get(therapist, &format!("/api/v1/couples/{couple}/screening"))
        .await;
    let open = panel["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resolved_at"].is_null())
        .cloned()
        .collect();
    (panel, open)
}
