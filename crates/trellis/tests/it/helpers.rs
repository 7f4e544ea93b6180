//! Spawns the real server on port 0 against a fresh database: a SQLite file
//! in a temporary directory, or a new PostgreSQL database when
//! `TRELLIS_TEST_DATABASE_URL` names a server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use trellis::config::Config;
use trellis::server::Server;
use trellis_store::Store;

/// The connection cap of [`TestApp::impatient`].
pub const IMPATIENT_CONNECTIONS: usize = 4;

/// The password of every seeded demo account in tests.
pub const DEMO_PASSWORD: &str = "a calm test password";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Says a test was skipped where `cargo test` shows it even for passing tests.
pub fn skip_notice(what: &str) {
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {what}");
}

pub struct TestApp {
    pub base: String,
    pub store: Store,
    pub database_url: String,
    /// The running server's state, for driving services directly.
    pub state: trellis_web::AppState,
    pub data_dir: PathBuf,
    /// A browser-like client: keeps cookies, does not follow redirects.
    pub client: reqwest::Client,
    /// `http://…` of the metrics address, when the test configured one.
    pub metrics_base: Option<String>,
    _dir: TempDir,
    _shutdown: oneshot::Sender<()>,
}

pub fn browser_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

impl TestApp {
    /// A server on an empty database, or `None` (with a notice) when the
    /// backend is not available here.
    pub async fn empty(backend: Backend) -> Option<TestApp> {
        Self::start(backend, None).await
    }

    /// A server on an empty database that sends mail through `smtp_url`.
    pub async fn start(backend: Backend, smtp_url: Option<String>) -> Option<TestApp> {
        Self::start_with(backend, |config| config.smtp_url = smtp_url).await
    }

    /// The demo practice on a server that waits little for slow clients and
    /// serves at most [`IMPATIENT_CONNECTIONS`] connections at once.
    pub async fn impatient(backend: Backend) -> Option<TestApp> {
        let app = Self::start_with(backend, |config| {
            config.header_timeout_seconds = 3;
            config.body_timeout_seconds = 1;
            config.max_connections = IMPATIENT_CONNECTIONS;
        })
        .await?;
        app.seed_demo().await;
        Some(app)
    }

    /// The demo practice where shared journal writing waits a minute before
    /// others can read it, as in production.
    pub async fn with_undo_window(backend: Backend) -> Option<TestApp> {
        Self::with_undo_seconds(backend, 60).await
    }

    /// The demo practice with a one-second undo window: long enough to see
    /// writing wait, short enough to see it arrive.
    pub async fn with_one_second_undo(backend: Backend) -> Option<TestApp> {
        Self::with_undo_seconds(backend, 1).await
    }

    /// The demo practice where a push service on this machine is accepted
    /// for devices (production refuses loopback and private addresses).
    pub async fn with_local_push(backend: Backend) -> Option<TestApp> {
        let app =
            Self::start_with(backend, |config| config.push_allow_local_endpoints = true).await?;
        app.seed_demo().await;
        Some(app)
    }

    /// The demo practice on a server that works on one request at a time.
    pub async fn one_request_at_a_time(backend: Backend) -> Option<TestApp> {
        let app = Self::start_with(backend, |config| config.concurrent_requests = 1).await?;
        app.seed_demo().await;
        Some(app)
    }

    /// An empty server whose mail server refuses every connection.
    pub async fn with_refusing_smtp(backend: Backend) -> Option<TestApp> {
        // a port nothing listens on once the listener is gone
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        Self::start(backend, Some(format!("smtp://{closed}"))).await
    }

    /// The demo practice with an undo window of `seconds`.
    pub async fn with_undo_seconds(backend: Backend, seconds: u64) -> Option<TestApp> {
        let app = Self::start_with(backend, |config| config.share_undo_seconds = seconds).await?;
        app.seed_demo().await;
        Some(app)
    }

    /// A server on an empty database, configured by `tweak`.
    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let dir = tempfile::tempdir().unwrap();
        let url = match backend {
            Backend::Sqlite => Store::sqlite_url(&dir.path().join("trellis.db")),
            Backend::Postgres => {
                let Some(server) = trellis_store::testing::postgres_server_url() else {
                    assert!(
                        std::env::var_os("TRELLIS_REQUIRE_POSTGRES").is_none(),
                        "TRELLIS_REQUIRE_POSTGRES is set but TRELLIS_TEST_DATABASE_URL is not"
                    );
                    skip_notice("PostgreSQL test (set TRELLIS_TEST_DATABASE_URL to run it)");
                    return None;
                };
                trellis_store::testing::create_postgres_database(&server)
                    .await
                    .unwrap()
            }
        };
        let store = Store::open(&url).await.unwrap();
        let database_url = url.clone();
        let mut config = Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            // Reminders fall due in tests within a second, not a minute.
            reminder_check_seconds: 1,
            // Shared writing is read at once, unless a test asks for the
            // undo window (see `sharing.rs`).
            share_undo_seconds: 0,
            ..Config::default()
        };
        tweak(&mut config);
        let server = Server::build_with_store(&config, store.clone())
            .await
            .unwrap();
        let base = format!("http://{}", server.addr());
        let metrics_base = server.metrics_addr().map(|a| format!("http://{a}"));
        let state = server.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(server.run_until(async {
            let _ = rx.await;
        }));
        Some(TestApp {
            base,
            store,
            database_url,
            state,
            data_dir: dir.path().to_path_buf(),
            client: browser_client(),
            metrics_base,
            _dir: dir,
            _shutdown: tx,
        })
    }

    /// A server with the demo practice in it.
    pub async fn with_demo(backend: Backend) -> Option<TestApp> {
        Self::with_demo_and_smtp(backend, None).await
    }

    pub async fn with_demo_and_smtp(backend: Backend, smtp_url: Option<String>) -> Option<TestApp> {
        let app = Self::start(backend, smtp_url).await?;
        app.seed_demo().await;
        Some(app)
    }

    async fn seed_demo(&self) {
        let seeded = trellis::demo::seed_if_empty(
            &self.store,
            DEMO_PASSWORD,
            trellis_web::state::system_now(),
        )
        .await
        .unwrap();
        assert!(seeded);
    }

    /// Another server process on the same database and key file, as after a
    /// restart or on a second instance. Returns its base URL.
    pub async fn second_server(&self) -> String {
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            data_dir: self.data_dir.clone(),
            share_undo_seconds: 0,
            ..Config::default()
        };
        let server = Server::build_with_store(&config, self.store.clone())
            .await
            .unwrap();
        let base = format!("http://{}", server.addr());
        tokio::spawn(server.run_until(std::future::pending()));
        base
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// GETs `path` anonymously and reads the answer as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A fresh caller: anonymous (`None`), or `email` signed in with a
    /// bearer token (`api`) or as a browser session.
    pub async fn caller(
        &self,
        email: Option<&str>,
        api: bool,
    ) -> (reqwest::Client, Option<String>) {
        let client = browser_client();
        let Some(email) = email else {
            return (client, None);
        };
        if api {
            return (client, Some(self.api_login(email, DEMO_PASSWORD).await));
        }
        let signed_in = self
            .submit(
                &client,
                "/login",
                "/login",
                &[("email", email), ("password", DEMO_PASSWORD)],
            )
            .await;
        assert_eq!(
            signed_in.status(),
            StatusCode::SEE_OTHER,
            "{email} signs in"
        );
        (client, None)
    }

    /// Signs in through the API and returns the bearer token.
    pub async fn api_login(&self, email: &str, password: &str) -> String {
        let response = reqwest::Client::new()
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "login as {email}");
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Calls the API as `token` (or no one), with `body` as JSON (or none).
    pub async fn send(
        &self,
        token: Option<&str>,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut request = reqwest::Client::new().request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// Every safety flag of a couple, read from the store (ids as the API
    /// gives them).
    pub async fn safety_flags(&self, couple_id: &str) -> Vec<trellis_store::SafetyFlag> {
        self.store
            .safety_flags(&trellis_core::CoupleId::new(couple_id))
            .await
            .unwrap()
    }

    pub async fn api_get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn api_post(
        &self,
        token: Option<&str>,
        path: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut request = reqwest::Client::new().post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs `path` with `client` and returns the body as it came.
    pub async fn fetch_text(&self, client: &reqwest::Client, path: &str) -> String {
        client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Loads a page with `client` and returns the CSRF token of its forms.
    pub async fn csrf(&self, client: &reqwest::Client, path: &str) -> String {
        let html = self.fetch_text(client, path).await;
        let marker = "name=\"csrf\" value=\"";
        let start = html
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF field on {path}"))
            + marker.len();
        html[start..start + html[start..].find('"').unwrap()].to_owned()
    }

    /// Posts a form the way a browser does: fetch the page, then submit with its token.
    pub async fn submit(
        &self,
        client: &reqwest::Client,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let csrf = self.csrf(client, page).await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &csrf));
        client
            .post(self.url(action))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Changes the password of the person signed in on `client`, through
    /// the account page's form.
    pub async fn change_password(
        &self,
        client: &reqwest::Client,
        current: &str,
        new: &str,
    ) -> reqwest::Response {
        self.submit(
            client,
            "/account",
            "/account/password",
            &[("current_password", current), ("new_password", new)],
        )
        .await
    }

    /// Asks for a password reset for `email` and returns the path of the
    /// mailed link.
    pub async fn reset_link_path(&self, client: &reqwest::Client, email: &str) -> String {
        self.submit(
            client,
            "/password/forgot",
            "/password/forgot",
            &[("email", email)],
        )
        .await;
        let mail = self.wait_for_mail_to(email).await;
        let link = find_link(&mail, &format!("{}/password/reset/", self.base)).unwrap();
        link.strip_prefix(&self.base).unwrap().to_owned()
    }

    /// A browser session signed in as `email`.
    pub async fn browser_login(&self, email: &str, password: &str) -> reqwest::Client {
        let client = browser_client();
        let response = self
            .submit(
                &client,
                "/login",
                "/login",
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in as {email}"
        );
        client
    }

    /// The secret of the newest invitation mailed to `email`: inviters never
    /// see it, so tests read it where the invitee would, in their mail.
    pub fn invitation_token(&self, email: &str) -> String {
        let mail = self
            .last_mail_to(email)
            .unwrap_or_else(|| panic!("no mail to {email}"));
        let link = find_link(&mail, &format!("{}/invitations/", self.base))
            .unwrap_or_else(|| panic!("no invitation link in the mail to {email}"));
        link.rsplit('/').next().unwrap().to_owned()
    }

    /// The newest mail to `email`, waiting a little for it: mails from the
    /// public forms leave after the answer.
    pub async fn wait_for_mail_to(&self, email: &str) -> String {
        for _ in 0..200 {
            if let Some(mail) = self.last_mail_to(email) {
                return mail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("no mail to {email}");
    }

    /// Self-guided sign-up as a person does it: the form, then the link in
    /// the mail. Returns the answer to confirming (a redirect home).
    pub async fn sign_up(
        &self,
        client: &reqwest::Client,
        name: &str,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        self.sign_up_from(client, name, email, password, &[]).await
    }

    /// [`TestApp::sign_up`], confirming with what the browser adds to the
    /// form (`browser_zone`).
    pub async fn sign_up_from(
        &self,
        client: &reqwest::Client,
        name: &str,
        email: &str,
        password: &str,
        browser: &[(&str, &str)],
    ) -> reqwest::Response {
        let asked = self
            .submit(
                client,
                "/signup",
                "/signup",
                &[("name", name), ("email", email), ("password", password)],
            )
            .await;
        assert_eq!(asked.status(), StatusCode::OK, "sign-up as {email}");
        let mail = self.wait_for_mail_to(email).await;
        let link = find_link(&mail, &format!("{}/signup/confirm/", self.base))
            .unwrap_or_else(|| panic!("no sign-up link in the mail to {email}"));
        let path = link.strip_prefix(&self.base).unwrap().to_owned();
        self.submit(client, &path, &path, browser).await
    }

    /// The newest mail sent to `email`, decoded enough to read links.
    pub fn last_mail_to(&self, email: &str) -> Option<String> {
        let outbox = self.data_dir.join("outbox");
        let mut mails: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(outbox)
            .ok()?
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let modified = entry.metadata().ok()?.modified().ok()?;
                let text = std::fs::read_to_string(entry.path()).ok()?;
                Some((modified, text))
            })
            .filter(|(_, text)| {
                text.lines()
                    .any(|l| l.starts_with("To:") && l.contains(email))
            })
            .collect();
        mails.sort_by_key(|(modified, _)| *modified);
        mails.pop().map(|(_, text)| decode_quoted_printable(&text))
    }
}

fn decode_quoted_printable(text: &str) -> String {
    text.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The first link in `text` that starts with `prefix`.
pub fn find_link(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)?;
    let rest = &text[start..];
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// Runs an `async fn(TestApp)` test against SQLite and, when configured, PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($setup:ident => $($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    if let Some(app) = $crate::helpers::TestApp::$setup($crate::helpers::Backend::Sqlite).await {
                        super::$test(app).await;
                    }
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::TestApp::$setup($crate::helpers::Backend::Postgres).await {
                        super::$test(app).await;
                    }
                }
            }
        )+
    };
}

/// The text of a page with askama's HTML escapes undone, so tests can look
/// for what a person reads.
pub async fn page_text(response: reqwest::Response) -> String {
    let html = response.text().await.unwrap();
    html.replace("&#38;", "&")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// A minimal SMTP server on loopback that keeps what it receives, so mail
/// goes over a real SMTP conversation in tests.
pub struct SmtpSink {
    pub url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let store = received.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut lines = BufReader::new(read).lines();
                    write.write_all(b"220 sink ESMTP\r\n").await.ok()?;
                    while let Ok(Some(line)) = lines.next_line().await {
                        let command = line.to_ascii_uppercase();
                        let reply: &[u8] =
                            if command.starts_with("EHLO") || command.starts_with("HELO") {
                                b"250 sink\r\n"
                            } else if command.starts_with("DATA") {
                                write.write_all(b"354 end with .\r\n").await.ok()?;
                                let mut message = String::new();
                                while let Ok(Some(data)) = lines.next_line().await {
                                    if data == "." {
                                        break;
                                    }
                                    message.push_str(&data);
                                    message.push('\n');
                                }
                                store.lock().unwrap().push(message);
                                b"250 queued\r\n"
                            } else if command.starts_with("QUIT") {
                                write.write_all(b"221 bye\r\n").await.ok()?;
                                return Some(());
                            } else {
                                b"250 OK\r\n"
                            };
                        write.write_all(reply).await.ok()?;
                    }
                    Some(())
                });
            }
        });
        SmtpSink { url, received }
    }

    /// The secret of the newest invitation this sink received for `email`,
    /// waiting a little for it to arrive.
    pub fn invitation_token(&self, base: &str, email: &str) -> String {
        for _ in 0..100 {
            let link = self
                .messages()
                .into_iter()
                .rev()
                .filter(|m| m.lines().any(|l| l.starts_with("To:") && l.contains(email)))
                .find_map(|m| {
                    find_link(
                        &decode_quoted_printable(&m),
                        &format!("{base}/invitations/"),
                    )
                });
            if let Some(link) = link {
                return link.rsplit('/').next().unwrap().to_owned();
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("no invitation mail to {email}");
    }

    pub fn messages(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

/// Safety-check answers that raise no concern.
pub const SAFE: &[(&str, &str)] = &[
    ("afraid", "no"),
    ("threats", "no"),
    ("physical-harm", "no"),
    ("control", "no"),
    ("sexual-coercion", "no"),
    ("weapons", "no"),
    ("self-harm-threats", "no"),
    ("strangulation", "no"),
    ("own-violence", "no"),
    ("own-hopelessness", "no"),
    ("own-suicide-plan", "no"),
    ("ongoing-affair", "no"),
    ("decided-to-leave", "no"),
];

/// Welcome and safety check through the API; returns the safety outcome.
pub async fn onboard(app: &TestApp, token: &str, answers: &[(&str, &str)]) -> Value {
    let (status, _) = app
        .api_post(
            Some(token),
            "/api/v1/onboarding/welcome",
            json!({"scores_consent": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answers: serde_json::Map<String, Value> = answers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    let (status, outcome) = app
        .api_post(
            Some(token),
            "/api/v1/onboarding/safety",
            json!({"answers": answers}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    outcome
}

/// The therapist records `decision` for every partner of the couple, as after
/// seeing each alone (`conjoint_ok` opens shared work).
pub async fn screen_couple(app: &TestApp, therapist: &str, couple_id: &str, decision: &str) {
    let (status, panel) = app
        .api_get(therapist, &format!("/api/v1/couples/{couple_id}/screening"))
        .await;
    assert_eq!(status, StatusCode::OK, "{panel}");
    for partner in panel["partners"].as_array().unwrap() {
        let (status, body) = app
            .api_post(
                Some(therapist),
                &format!("/api/v1/couples/{couple_id}/screening"),
                json!({"user_id": partner["user_id"], "decision": decision}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

/// A new couple guided by Dr. Priya, both partners onboarded and screened
/// (cleared for joint work):
/// `(couple id, first partner's token, second partner's token, therapist's token)`.
pub async fn fresh_couple(app: &TestApp) -> (String, String, String, String) {
    fresh_couple_reading_mail(app, |email| app.invitation_token(email)).await
}

/// [`fresh_couple`], reading each invitation's secret with `token_for`
/// (from an SMTP sink instead of the outbox folder).
pub async fn fresh_couple_reading_mail(
    app: &TestApp,
    token_for: impl Fn(&str) -> String,
) -> (String, String, String, String) {
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let (couple_id, first, second) = join_couple(
        app,
        &priya,
        [("mo@example.org", "Mo"), ("pat@example.org", "Pat")],
        token_for,
    )
    .await;
    onboard(app, &first, SAFE).await;
    onboard(app, &second, SAFE).await;
    screen_couple(app, &priya, &couple_id, "conjoint_ok").await;
    (couple_id, first, second, priya)
}

/// A couple the therapist has just added, both partners joined with the
/// password "a long password" (each invitation's secret read with
/// `token_for`); nothing taken yet: `(couple id, first token, second token)`.
pub async fn join_couple(
    app: &TestApp,
    therapist: &str,
    people: [(&str, &str); 2],
    token_for: impl Fn(&str) -> String,
) -> (String, String, String) {
    let partners: Vec<Value> = people
        .iter()
        .map(|(email, name)| json!({"email": email, "name": name}))
        .collect();
    let (status, created) = app
        .api_post(
            Some(therapist),
            "/api/v1/couples",
            json!({"partners": partners}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let mut tokens = Vec::new();
    for (email, name) in people {
        let token = token_for(email);
        let (_, accepted) = app
            .api_post(
                None,
                &format!("/api/v1/invitations/{token}/accept"),
                json!({"name": name, "password": "a long password"}),
            )
            .await;
        tokens.push(accepted["token"].as_str().unwrap().to_owned());
    }
    let second = tokens.pop().unwrap();
    let first = tokens.pop().unwrap();
    (created["id"].as_str().unwrap().to_owned(), first, second)
}

/// The sentence must not appear in any database file (SQLite: the main file,
/// its WAL and shared memory) or in any column of `table` (PostgreSQL), in
/// clear or as bytes.
pub async fn assert_sealed_at_rest(app: &TestApp, sentence: &str, table: &str) {
    let needle = sentence.as_bytes();
    let mut searched = 0;
    for entry in std::fs::read_dir(&app.data_dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("trellis.db") {
            let bytes = std::fs::read(&path).unwrap();
            searched += bytes.len();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{name} holds the sentence in clear"
            );
            assert!(
                !bytes.windows(10).any(|w| w == &needle[..10]),
                "{name} holds part of the sentence"
            );
        }
    }
    if let Some(url) = app.database_url.strip_prefix("postgres") {
        let url = format!("postgres{url}");
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let rows: Vec<(String,)> = sqlx::query_as(&format!("SELECT t::text FROM {table} t"))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert!(!rows.is_empty(), "{table} has rows to search");
        let hex: String = needle[..16].iter().map(|b| format!("{b:02x}")).collect();
        for (row,) in rows {
            assert!(
                !row.contains(sentence),
                "a row of {table} holds the sentence"
            );
            assert!(
                !row.contains(&hex),
                "a row of {table} holds the sentence as bytes"
            );
        }
    } else {
        assert!(searched > 0, "the SQLite files were found and searched");
    }
}
