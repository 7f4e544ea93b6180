//! The `trellis` command line, run as a real process.

use std::io::Write;
use std::process::{Command, Stdio};

fn trellis() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trellis"))
}

#[test]
fn every_command_explains_itself() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["demo", "--help"],
        vec!["migrate", "--help"],
        vec!["admin", "--help"],
        vec!["admin", "rotate-key", "--help"],
        vec!["backup", "--help"],
        vec!["coach", "eval", "--help"],
        vec!["loadgen", "--help"],
    ] {
        let output = trellis().args(&args).output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage"),
            "{args:?}"
        );
    }
    let serve =
        String::from_utf8(trellis().args(["serve", "--help"]).output().unwrap().stdout).unwrap();
    assert!(serve.contains("--bind") && serve.contains("--data-dir"));
    let demo =
        String::from_utf8(trellis().args(["demo", "--help"]).output().unwrap().stdout).unwrap();
    assert!(demo.contains("--password") && demo.contains("./trellis-demo"));
    let loadgen = String::from_utf8(
        trellis()
            .args(["loadgen", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for flag in ["--couples", "--weeks", "--password"] {
        assert!(loadgen.contains(flag), "{flag}");
    }
}

#[test]
fn coach_analyze_reads_lines_and_writes_json_lines() {
    let mut child = trellis()
        .args(["coach", "analyze"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("You never listen to me!\nThank you for dinner, it meant a lot.\n".as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["text"], "You never listen to me!");
    assert!(
        lines[0]["labels"]
            .as_array()
            .unwrap()
            .contains(&"criticism".into())
    );
    assert!(lines[0]["suggestion"].is_string());
    let finding = &lines[0]["findings"][0];
    for key in ["kind", "start", "end", "cue", "explanation"] {
        assert!(finding.get(key).is_some(), "{key}");
    }
    assert!(
        lines[1]["labels"]
            .as_array()
            .unwrap()
            .contains(&"appreciation".into())
    );
    assert!(lines[1]["suggestion"].is_null());
}

#[test]
fn coach_eval_prints_the_scores() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("set.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"text": "You always leave a mess and you never care.", "labels": ["criticism"]}"#, "\n",
            r#"{"text": "I feel hurt when plans change at the last minute; I need a heads-up.", "labels": ["i_statement"]}"#, "\n",
            r#"{"text": "Thank you for listening last night.", "labels": ["appreciation"]}"#, "\n",
        ),
    )
    .unwrap();
    let output = trellis()
        .args(["coach", "eval"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = String::from_utf8(output.stdout).unwrap().to_lowercase();
    for word in ["criticism", "precision", "recall", "macro", "harsh"] {
        assert!(report.contains(word), "{word} missing from:\n{report}");
    }
    let broken = dir.path().join("broken.jsonl");
    std::fs::write(&broken, "{not json}\n").unwrap();
    let output = trellis()
        .args(["coach", "eval"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("line 1"));
}

/// A lost phone and no recovery codes: the operator turns the second step
/// off from the command line, and the person's activity says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_resets_a_lost_second_step() {
    use crate::helpers::{Backend, DEMO_PASSWORD, TestApp};
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    let email = trellis_core::EmailAddress::parse("e", "sam@example.com").unwrap();
    let sam = app.store.user_by_email(&email).await.unwrap().unwrap().user;
    let secret = trellis_crypto::totp::new_secret();
    let now_secs = u64::try_from(trellis_web::state::system_now() / 1000).unwrap();
    let code = trellis_crypto::totp::code_at(&secret, now_secs).unwrap();
    trellis_web::services::two_factor::enable(&app.state, &sam, &secret, &code, DEMO_PASSWORD)
        .await
        .unwrap();
    let login = || {
        reqwest::Client::new()
            .post(app.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"email": "sam@example.com", "password": DEMO_PASSWORD}))
            .send()
    };
    assert_eq!(
        login().await.unwrap().status(),
        reqwest::StatusCode::UNAUTHORIZED
    );

    let unknown = trellis()
        .args([
            "admin",
            "reset-two-factor",
            "--email",
            "nobody@example.com",
            "--data-dir",
        ])
        .arg(&app.data_dir)
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    let output = trellis()
        .args([
            "admin",
            "reset-two-factor",
            "--email",
            "sam@example.com",
            "--data-dir",
        ])
        .arg(&app.data_dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(login().await.unwrap().status(), reqwest::StatusCode::OK);
    let token = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (_, activity) = app.api_get(&token, "/api/v1/me/activity").await;
    assert!(
        activity
            .to_string()
            .contains("reset by the server's operator"),
        "{activity}"
    );
}

#[test]
fn a_backup_never_writes_over_a_file_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("backup.db");
    let backup = || {
        trellis()
            .env_remove("TRELLIS_DATABASE_URL")
            .args(["backup", "--data-dir"])
            .arg(&data)
            .arg(&file)
            .output()
            .unwrap()
    };
    let first = backup();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let again = backup();
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        said.contains("already exists") && said.contains("choose another name"),
        "{said}"
    );
}
