//! Mail goes through the outbox: what a mail server could not take waits
//! for a retry, sealed; what a stopped process left behind is sent by the
//! worker.

use std::time::Duration;

use trellis_core::time::{MINUTE, SECOND};
use trellis_store::{NewMail, SYSTEM_KEY_OWNER};
use trellis_web::state::system_now as now;

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends!(empty => mail_a_stopped_process_left_behind_is_sent_by_the_worker);
on_both_backends!(with_refusing_smtp => mail_the_server_refused_waits_sealed_for_a_retry);

async fn mail_a_stopped_process_left_behind_is_sent_by_the_worker(app: TestApp) {
    let id = trellis_store::new_id();
    let body = "Hello,\n\nA session was booked for Friday.\n\n— Trellis\n";
    let sealed = app
        .state
        .vault()
        .seal_text(&app.store, SYSTEM_KEY_OWNER, body, &format!("mail:{id}"))
        .await
        .unwrap();
    app.store
        .enqueue_mail(
            NewMail {
                id: &id,
                to_name: "Left Behind",
                to_email: "left@example.org",
                subject: "A session was booked",
                body: &sealed,
            },
            now(),
        )
        .await
        .unwrap();
    let mail = app.wait_for_mail_to("left@example.org").await;
    assert!(mail.contains("A session was booked for Friday."), "{mail}");
    for _ in 0..50 {
        if app.store.outbox_backlog().await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("a sent mail stayed in the outbox");
}

async fn mail_the_server_refused_waits_sealed_for_a_retry(app: TestApp) {
    let client = crate::helpers::browser_client();
    let asked = app
        .submit(
            &client,
            "/signup",
            "/signup",
            &[
                ("name", "Robin"),
                ("email", "robin@example.org"),
                ("password", "robin's long password"),
            ],
        )
        .await;
    assert_eq!(asked.status(), reqwest::StatusCode::OK);
    // the mail goes after the answer (a public form): wait for its first try
    let mut waiting = 0;
    for _ in 0..100 {
        waiting = app.store.outbox_backlog().await.unwrap();
        if waiting == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(waiting, 1, "the refused mail was not kept");
    // a refused connection fails at once; let that first try finish
    tokio::time::sleep(Duration::from_millis(500)).await;
    // it is not tried again at once, but within a few minutes
    assert!(
        app.store
            .claim_due_mail(now(), SECOND, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let later = app
        .store
        .claim_due_mail(now() + 5 * MINUTE, SECOND, 10)
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    let mail = &later[0];
    assert_eq!(mail.to_email, "robin@example.org");
    assert_eq!(mail.attempts, 2, "tried once at once, and now: {mail:?}");
    // the link inside is a secret: it is sealed at rest
    assert!(!mail.body.contains("/signup/confirm/"), "{}", mail.body);
    let opened = app
        .state
        .vault()
        .open_text(
            &app.store,
            SYSTEM_KEY_OWNER,
            &mail.body,
            &format!("mail:{}", mail.id),
        )
        .await
        .unwrap();
    assert!(opened.contains("/signup/confirm/"), "{opened}");
}
