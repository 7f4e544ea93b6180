//! Notices on a person's devices (web push), delivered to a push service
//! this test runs on loopback: encrypted for the device alone (RFC 8291),
//! signed with the server's key (VAPID), content-free, sent only for the
//! kinds the person chose, and forgotten when the service says the device
//! is gone.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use trellis_core::time::{DAY, utc_date};
use web_push_native::jwt_simple::algorithms::ES256PublicKey;
use web_push_native::jwt_simple::prelude::{
    ECDSAP256PublicKeyLike, NoCustomClaims, VerificationOptions,
};
use web_push_native::p256;

use crate::helpers::{DEMO_PASSWORD, TestApp};
use crate::on_both_backends;

on_both_backends!(with_local_push =>
    a_notice_reaches_the_device_encrypted_signed_and_saying_nothing_private,
    only_the_kinds_chosen_for_devices_are_pushed,
    a_device_its_service_calls_gone_is_forgotten,
);

on_both_backends!(with_demo => devices_must_be_real_push_services_and_ones_own);

/// What the push service received.
#[derive(Debug)]
struct Pushed {
    device: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A push service on loopback: `/push/{device}` takes messages (201),
/// `/gone/{device}` says the device no longer exists (410).
struct PushService {
    base: String,
    received: mpsc::UnboundedReceiver<Pushed>,
}

impl PushService {
    async fn start() -> PushService {
        let (sender, received) = mpsc::unbounded_channel();
        let sender = Arc::new(sender);
        async fn take(
            State(sender): State<Arc<mpsc::UnboundedSender<Pushed>>>,
            Path(device): Path<String>,
            headers: HeaderMap,
            body: Bytes,
        ) -> AxumStatus {
            let _ = sender.send(Pushed {
                device,
                headers,
                body,
            });
            AxumStatus::CREATED
        }
        let router = axum::Router::new()
            .route("/push/{device}", axum::routing::post(take))
            .route(
                "/gone/{device}",
                axum::routing::post(|| async { AxumStatus::GONE }),
            )
            .with_state(sender);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        PushService { base, received }
    }

    async fn next(&mut self) -> Pushed {
        tokio::time::timeout(Duration::from_secs(15), self.received.recv())
            .await
            .expect("no notice reached the push service")
            .expect("the push service stopped")
    }

    /// Nothing more arrives for a while (after the notice that should
    /// have come later already arrived).
    async fn nothing_more(&mut self) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        if let Ok(extra) = self.received.try_recv() {
            panic!("an unwanted notice was pushed: {extra:?}");
        }
    }
}

/// A browser's side of a subscription: the keys it keeps to read notices.
pub struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            secret: p256::SecretKey::random(&mut rand::rngs::OsRng),
            auth: rand::random(),
        }
    }

    pub fn subscription(&self, endpoint: &str) -> Value {
        use p256::elliptic_curve::sec1::ToEncodedPoint as _;
        json!({
            "endpoint": endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes()),
                "auth": URL_SAFE_NO_PAD.encode(self.auth),
            }
        })
    }

    fn read(&self, pushed: &Pushed) -> Value {
        let auth = web_push_native::Auth::clone_from_slice(&self.auth);
        let plain = web_push_native::decrypt(pushed.body.to_vec(), &self.secret, &auth)
            .expect("the notice opens with the device's keys");
        serde_json::from_slice(&plain).unwrap()
    }
}

async fn subscribe(app: &TestApp, token: &str, browser: &Browser, endpoint: &str) {
    let (status, body) = app
        .api_post(
            Some(token),
            "/api/v1/me/devices",
            browser.subscription(endpoint),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

async fn post_message(app: &TestApp, token: &str, body: &str) {
    let (status, answer) = app
        .api_post(
            Some(token),
            "/api/v1/messages",
            json!({"thread": "couple", "body": body}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
}

async fn book_session(app: &TestApp, therapist: &str) {
    let alex = app
        .store
        .user_by_email(&trellis_core::EmailAddress::parse("e", "alex@example.com").unwrap())
        .await
        .unwrap()
        .unwrap()
        .user;
    let couple_id = alex.couple_id.unwrap();
    let day = utc_date(trellis_web::state::system_now() + 3 * DAY);
    let (status, booked) = app
        .api_post(
            Some(therapist),
            &format!("/api/v1/couples/{couple_id}/appointments"),
            json!({"start": format!("{day}T17:00"), "location": "Room 2"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{booked}");
}

async fn settings(app: &TestApp, token: &str, change: Value) {
    let response = app
        .send(
            Some(token),
            reqwest::Method::PATCH,
            "/api/v1/me/settings",
            Some(change),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn a_notice_reaches_the_device_encrypted_signed_and_saying_nothing_private(app: TestApp) {
    let mut service = PushService::start().await;
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (status, key) = app.api_get(&sam, "/api/v1/push/key").await;
    assert_eq!(status, StatusCode::OK);
    let server_key = key["public_key"].as_str().unwrap().to_owned();
    assert_eq!(URL_SAFE_NO_PAD.decode(&server_key).unwrap().len(), 65);

    let phone = Browser::new();
    subscribe(
        &app,
        &sam,
        &phone,
        &format!("{}/push/sams-phone", service.base),
    )
    .await;
    let (_, devices) = app.api_get(&sam, "/api/v1/me/devices").await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1);
    assert_eq!(devices["devices"][0]["service"], "127.0.0.1");
    assert!(
        !devices.to_string().contains("sams-phone"),
        "the device's address is a secret of its own: {devices}"
    );

    let words = "push-secret: I felt alone at the party";
    post_message(&app, &alex, words).await;
    let pushed = service.next().await;
    assert_eq!(pushed.device, "sams-phone");
    assert_eq!(pushed.headers["content-encoding"], "aes128gcm");
    assert!(pushed.headers.contains_key("ttl"));
    assert!(
        !String::from_utf8_lossy(&pushed.body).contains("push-secret"),
        "the push service must see ciphertext only"
    );

    // signed with the key the browser subscribed with, for this service (its
    // scheme and host: real push services are on the default port)
    let authorization = pushed.headers["authorization"].to_str().unwrap();
    let rest = authorization.strip_prefix("vapid t=").unwrap();
    let (token, public) = rest.split_once(", k=").unwrap();
    assert_eq!(public, server_key);
    let verifier =
        ES256PublicKey::from_bytes(&URL_SAFE_NO_PAD.decode(&server_key).unwrap()).unwrap();
    let claims = verifier
        .verify_token::<NoCustomClaims>(
            token,
            Some(VerificationOptions {
                allowed_audiences: Some(["http://127.0.0.1".to_owned()].into_iter().collect()),
                ..Default::default()
            }),
        )
        .expect("the VAPID signature verifies for this push service");
    assert!(claims.subject.unwrap().starts_with("mailto:"));

    // what the device shows: that something waits, never who wrote what
    let notice = phone.read(&pushed);
    assert_eq!(notice["title"], "You have a new message in Trellis");
    assert_eq!(notice["url"], "/messages");
    assert_eq!(notice["tag"], "message");
    let shown = notice.to_string();
    for private in ["push-secret", "alone", "Alex", "Sam"] {
        assert!(!shown.contains(private), "{private} in {shown}");
    }
    // Alex has no device: nothing else arrives
    service.nothing_more().await;
}

async fn only_the_kinds_chosen_for_devices_are_pushed(app: TestApp) {
    let mut service = PushService::start().await;
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let phone = Browser::new();
    subscribe(&app, &sam, &phone, &format!("{}/push/sam", service.base)).await;

    // no messages on the phone, but still by mail; sessions on the phone
    settings(&app, &sam, json!({"push_messages": false})).await;
    let (_, chosen) = app.api_get(&sam, "/api/v1/me/settings").await;
    assert_eq!(chosen["push_messages"], false);
    assert_eq!(chosen["notify_messages"], true);
    assert_eq!(chosen["push_appointments"], true);

    post_message(&app, &alex, "Are we still on for Saturday?").await;
    book_session(&app, &priya).await;
    let pushed = service.next().await;
    let notice = phone.read(&pushed);
    assert_eq!(
        notice["title"], "A session was booked",
        "the message was pushed although Sam turned that off: {notice}"
    );
    assert_eq!(notice["url"], "/sessions");
    service.nothing_more().await;

    // turned back on, it arrives again
    settings(&app, &sam, json!({"push_messages": true})).await;
    post_message(&app, &alex, "See you then.").await;
    let notice = phone.read(&service.next().await);
    assert_eq!(notice["title"], "You have a new message in Trellis");

    // off on this device: nothing more reaches it
    let (status, _) = app
        .api_post(
            Some(&sam),
            "/api/v1/me/devices/remove",
            json!({"endpoint": format!("{}/push/sam", service.base)}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    post_message(&app, &alex, "One more thing.").await;
    book_session(&app, &priya).await;
    service.nothing_more().await;
}

async fn a_device_its_service_calls_gone_is_forgotten(app: TestApp) {
    let service = PushService::start().await;
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let old_phone = Browser::new();
    subscribe(
        &app,
        &sam,
        &old_phone,
        &format!("{}/gone/old", service.base),
    )
    .await;
    post_message(&app, &alex, "Thinking of you today.").await;
    for _ in 0..100 {
        let (_, devices) = app.api_get(&sam, "/api/v1/me/devices").await;
        if devices["devices"].as_array().unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("a device its push service called gone was kept");
}

async fn devices_must_be_real_push_services_and_ones_own(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let phone = Browser::new();
    // this server's own network is not a push service (unless a test says so)
    for endpoint in [
        "http://127.0.0.1:9/push",
        "https://localhost/push",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.8/push",
    ] {
        let (status, body) = app
            .api_post(
                Some(&sam),
                "/api/v1/me/devices",
                phone.subscription(endpoint),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{endpoint}: {body}"
        );
        assert_eq!(body["error"]["fields"][0]["field"], "endpoint", "{body}");
    }
    let mut broken = phone.subscription("https://push.example.com/sam");
    broken["keys"]["auth"] = json!("c2hvcnQ");
    let (status, body) = app.api_post(Some(&sam), "/api/v1/me/devices", broken).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"][0]["field"], "keys", "{body}");
    let (_, devices) = app.api_get(&sam, "/api/v1/me/devices").await;
    assert!(devices["devices"].as_array().unwrap().is_empty());

    // a real service's address is taken; only its owner may turn it off
    let endpoint = "https://push.example.com/sams-phone";
    subscribe(&app, &sam, &phone, endpoint).await;
    let (status, _) = app
        .api_post(
            Some(&alex),
            "/api/v1/me/devices/remove",
            json!({"endpoint": endpoint}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, devices) = app.api_get(&sam, "/api/v1/me/devices").await;
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1);

    // the notices page offers it, names how many devices, and turns all off
    let (client, _) = app.caller(Some("sam@example.com"), false).await;
    let page = app.fetch_text(&client, "/account/notices").await;
    assert!(
        page.contains("One device gets notices from Trellis."),
        "{page}"
    );
    assert!(page.contains("data-push-key=\""));
    assert!(page.contains("src=\"/static/push.js\""));
    let done = app
        .submit(&client, "/account/notices", "/account/devices/forget", &[])
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let (_, devices) = app.api_get(&sam, "/api/v1/me/devices").await;
    assert!(devices["devices"].as_array().unwrap().is_empty());
    let page = app
        .fetch_text(&client, "/account/notices?done=devices-off")
        .await;
    assert!(page.contains("Notices are off on all your devices."));
    assert!(page.contains("No device gets notices from Trellis yet."));
}
