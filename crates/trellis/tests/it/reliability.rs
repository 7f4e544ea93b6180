//! What the reliability run found: bad input, refusals in one shape, slow
//! clients, and an OpenAPI document that says what the API really answers.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use trellis_core::Role;
use trellis_core::access::Access;

use crate::helpers::{DEMO_PASSWORD, IMPATIENT_CONNECTIONS, TestApp};
use crate::matrix::{Items, fill_path, seed_items};
use crate::on_both_backends;

on_both_backends!(with_demo =>
    nothing_holding_nul_reaches_a_query,
    ids_that_are_not_ids_name_nothing,
    every_refusal_speaks_our_error_language,
    every_answer_of_the_api_is_documented,
    every_answer_of_the_api_fits_its_schema,
);

on_both_backends!(one_request_at_a_time => requests_wait_their_turn_and_a_live_stream_holds_none);

on_both_backends!(impatient =>
    a_client_that_sends_half_its_headers_is_let_go,
    a_body_that_stalls_is_refused,
    connections_beyond_the_cap_wait_for_one_to_close,
    live_streams_outlast_the_timeouts,
);

/// Who calls a route in these sweeps: someone it is meant for.
fn caller_for(access: Access) -> Option<&'static str> {
    match access {
        Access::Public => None,
        Access::Role(Role::Admin) => Some("admin@example.com"),
        Access::Role(Role::Therapist) | Access::Staff | Access::CoupleTherapist => {
            Some("therapist@example.com")
        }
        _ => Some("alex@example.com"),
    }
}

/// A caller signed in for one route: a browser session for pages, a token for the API.
struct Session {
    client: reqwest::Client,
    token: Option<String>,
    csrf: Option<String>,
}

async fn session_for(app: &TestApp, access: Access, api: bool) -> Session {
    let (client, token) = app.caller(caller_for(access), api).await;
    let csrf = if api {
        None
    } else {
        Some(app.csrf(&client, "/password/forgot").await)
    };
    Session {
        client,
        token,
        csrf,
    }
}

impl Session {
    /// Sends `body` as JSON to the API, or `fields` (plus the CSRF token) as a form to a page.
    async fn send(
        &self,
        app: &TestApp,
        method: &Method,
        path: &str,
        body: &Value,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.client.request(method.clone(), app.url(path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if *method != Method::GET {
            request = match &self.csrf {
                None => request.json(body),
                Some(csrf) => {
                    let mut form = fields.to_vec();
                    form.push(("csrf", csrf));
                    request.form(&form)
                }
            };
        }
        request.send().await.unwrap()
    }
}

/// Every `{parameter}` of a route's path replaced by `value`.
fn fill_every(path: &str, value: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                value
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

const NUL: &str = "a\u{0}b";

/// Form fields the pages read, each holding a NUL.
const FORM_FIELDS: &[&str] = &[
    "body",
    "email",
    "name",
    "password",
    "new_password",
    "topic",
    "text",
    "note",
    "reason",
    "message",
    "location",
    "start",
    "title",
    "audience",
    "thread",
    "code",
    "totp",
    "concern",
    "summary",
    "description",
    "contact",
    "replaces",
    "target",
    "kind",
    "feeling",
    "need",
];

/// Routes that end the caller's membership whatever the body says: the sweep
/// would then meet only refusals.
const LEAVES: &[&str] = &["/account/leave-couple", "/api/v1/me/leave-couple"];

/// A body as the OpenAPI document describes it, with a NUL in every free text.
fn sample(spec: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 6 {
        return Value::Null;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return sample(spec, &spec["components"]["schemas"][name], depth + 1);
    }
    for choice in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[choice].as_array().and_then(|all| {
            all.iter()
                .find(|s| s["type"] != "null")
                .or_else(|| all.first())
        }) {
            return sample(spec, first, depth + 1);
        }
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds
            .iter()
            .find(|k| *k != "null")
            .cloned()
            .unwrap_or(Value::Null),
        other => other.clone(),
    };
    match kind.as_str() {
        Some("string") => json!(NUL),
        Some("integer") | Some("number") => json!(1),
        Some("boolean") => json!(true),
        Some("array") => json!([sample(spec, &schema["items"], depth + 1)]),
        _ => {
            let mut object = serde_json::Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property) in properties {
                    object.insert(name.clone(), sample(spec, property, depth + 1));
                }
            }
            if schema["additionalProperties"].is_object() {
                object.insert(
                    NUL.to_owned(),
                    sample(spec, &schema["additionalProperties"], depth + 1),
                );
            }
            Value::Object(object)
        }
    }
}

async fn nothing_holding_nul_reaches_a_query(app: TestApp) {
    let items = seed_items(&app).await;
    let spec = app.get_json("/api/openapi.json").await;
    let mut failures = Vec::new();
    let mut calls = 0;
    for route in trellis_web::routes::specs() {
        let api = route.path.starts_with("/api/");
        let session = session_for(&app, route.access, api).await;
        let method = &route.method;
        let what = format!("{method} {}", route.path);
        let request_schema = &spec["paths"][route.path][method.as_str().to_lowercase()]["requestBody"]
            ["content"]["application/json"]["schema"];
        let body = sample(&spec, request_schema, 0);
        let fields: Vec<(&str, &str)> = FORM_FIELDS.iter().map(|name| (*name, NUL)).collect();
        if route.path.contains('{') {
            let path = fill_every(route.path, "%00");
            let response = session.send(&app, method, &path, &body, &fields).await;
            calls += 1;
            if !response.status().is_client_error() {
                failures.push(format!(
                    "{what} with NUL in the path: {}",
                    response.status()
                ));
            }
        }
        if *method != Method::GET && !LEAVES.contains(&route.path) {
            let path = fill_path(route.path, route.access, &items);
            let response = session.send(&app, method, &path, &body, &fields).await;
            calls += 1;
            if response.status().is_server_error() {
                failures.push(format!(
                    "{what} with NUL in the body: {}",
                    response.status()
                ));
            }
        }
    }
    // The three the run found without signing in, exactly.
    let (status, refused) = app
        .api_post(
            None,
            "/api/v1/auth/login",
            json!({"email": "a\u{0}", "password": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_input");
    let page = app
        .client
        .get(app.url("/practices/%00"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let practices = app.get_json("/api/v1/practices").await;
    let practice_id = practices[0]["id"].as_str().unwrap_or("none");
    let (status, _) = app
        .api_post(
            None,
            "/api/v1/intake",
            json!({"practice_id": practice_id, "names": NUL, "email": "a@example.org", "message": NUL}),
        )
        .await;
    assert!(status.is_client_error(), "intake with NUL: {status}");
    assert!(calls > 100, "the sweep made {calls} calls");
    assert!(
        failures.is_empty(),
        "{} of {calls} calls went wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn ids_that_are_not_ids_name_nothing(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    for path in [
        "/api/v1/entries/not-an-id",
        "/api/v1/entries/0192d7a0-0000-7000-8000-00000000000%00",
        "/api/v1/couples/x'%20OR%201=1/talks",
        "/api/v1/talks/%FF%FE",
    ] {
        let (status, body) = app.api_get(&alex, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    // Someone not signed in still hears that first.
    let anonymous = app
        .client
        .get(app.url("/api/v1/entries/not-an-id"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // Names from the program content are not ids, and still work.
    let (status, _) = app.api_get(&alex, "/api/v1/instruments/csi4").await;
    assert_eq!(status, StatusCode::OK);
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// An API refusal: the status, JSON, our error code, and the security headers.
async fn assert_api_error(response: reqwest::Response, status: StatusCode, code: &str) {
    let what = response.url().path().to_owned();
    assert_eq!(response.status(), status, "{what}");
    assert!(
        content_type(&response).starts_with("application/json"),
        "{what}: {}",
        content_type(&response)
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers().contains_key("content-security-policy"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{what}: {body}");
    assert!(body["error"]["message"].as_str().unwrap().len() > 10);
}

async fn every_refusal_speaks_our_error_language(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    // A new connection for each request: a refusal before the body is read
    // (413) closes its connection, and a pooled one could be reused just as
    // it closes.
    let api = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let (_, talk) = app
        .api_post(Some(&alex), "/api/v1/talks", json!({"topic": "a talk"}))
        .await;
    let talk_id = talk["id"].as_str().unwrap();
    // A query string that does not fit.
    let response = api
        .get(app.url(&format!("/api/v1/talks/{talk_id}/events?after=abc")))
        .bearer_auth(&alex)
        .send()
        .await
        .unwrap();
    assert_api_error(response, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
    // A form or plain text sent to the API with a token: the wrong kind of content.
    for request in [
        api.post(app.url("/api/v1/entries"))
            .form(&[("body", "hello")]),
        api.post(app.url("/api/v1/entries"))
            .header("content-type", "text/plain")
            .body("hello"),
    ] {
        let response = request.bearer_auth(&alex).send().await.unwrap();
        assert_api_error(
            response,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
    }
    // Too large, with a declared length (refused by the body-limit layer)…
    let big = format!("{{\"body\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let response = api
        .post(app.url("/api/v1/entries"))
        .bearer_auth(&alex)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_api_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    // …and chunked, with no length said up front.
    let head = format!(
        "POST /api/v1/entries HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {alex}\r\n\
         content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    let answer = raw_exchange(&app, head.into_bytes(), chunked(big.as_bytes())).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    // A method the route does not take.
    let response = api
        .delete(app.url("/api/v1/program"))
        .bearer_auth(&alex)
        .send()
        .await
        .unwrap();
    assert_api_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    // People get the calm page, every time.
    let browser = app.browser_login("alex@example.com", DEMO_PASSWORD).await;
    for path in ["/journal?saved=maybe", "/talks/%FF%FE", "/journal/%00"] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        assert!(response.status().is_client_error(), "{path}");
        assert!(
            content_type(&response).starts_with("text/html"),
            "{path}: {}",
            content_type(&response)
        );
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains("<h1>"), "{path}: {page}");
    }
    let response = browser
        .post(app.url("/journal"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf=x&body={}", "x".repeat(2 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(content_type(&response).starts_with("text/html"));
    assert!(response.headers().contains_key("content-security-policy"));
}

/// `bytes` as an HTTP/1.1 chunked body, in 64 KiB chunks.
fn chunked(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in bytes.chunks(64 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Sends `head` then `body` over a raw socket, reading the answer while the
/// body is still going out (a server may answer before reading it all).
pub async fn raw_exchange(app: &TestApp, head: Vec<u8>, body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        write.write_all(&head).await.ok()?;
        write.write_all(&body).await.ok()?;
        write.flush().await.ok()
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 8192];
    let reading = async {
        while let Ok(n) = read.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
            if String::from_utf8_lossy(&answer).contains("\"error\"") {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), reading).await;
    writer.abort();
    String::from_utf8_lossy(&answer).into_owned()
}

/// Far longer than the timeouts the impatient server is given (3 s for
/// headers, 1 s for bodies).
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

async fn connect(app: &TestApp) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (or `PATIENCE` runs out:
/// `None`), returning what it said.
async fn until_closed(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut said = Vec::new();
    let reading = async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => said.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(PATIENCE, reading).await.ok()?;
    Some(String::from_utf8_lossy(&said).into_owned())
}

async fn a_client_that_sends_half_its_headers_is_let_go(app: TestApp) {
    use tokio::io::AsyncWriteExt;
    let mut half = connect(&app).await;
    half.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let mut silent = connect(&app).await;
    assert!(
        until_closed(&mut half).await.is_some(),
        "half the headers: still open"
    );
    assert!(
        until_closed(&mut silent).await.is_some(),
        "nothing sent: still open"
    );
    // The server itself still answers.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

async fn a_body_that_stalls_is_refused(app: TestApp) {
    use tokio::io::AsyncWriteExt;
    let mut stalled = connect(&app).await;
    stalled
        .write_all(
            b"POST /api/v1/auth/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
              content-length: 100\r\n\r\n{\"email\": \"alex@",
        )
        .await
        .unwrap();
    let said = until_closed(&mut stalled)
        .await
        .expect("a stalled body holds the connection");
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("request_timeout"), "{said}");
}

async fn connections_beyond_the_cap_wait_for_one_to_close(app: TestApp) {
    use tokio::io::AsyncWriteExt;
    // Every slot taken by a client that says nothing…
    let mut idle = Vec::new();
    for _ in 0..IMPATIENT_CONNECTIONS {
        idle.push(connect(&app).await);
    }
    // …so one more connection waits to be served…
    let mut waiting = connect(&app).await;
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let said = until_closed(&mut waiting)
        .await
        .expect("served once a slot freed");
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
    // …and it was answered only after the server let an idle one go (the
    // server closes that socket before it takes the next connection).
    let closed = idle
        .iter()
        .filter(|stream| closed_by_server(stream))
        .count();
    assert!(
        closed >= 1,
        "/healthz was answered while all {IMPATIENT_CONNECTIONS} idle connections were open"
    );
}

/// Has the server closed this socket? Reads what is there without waiting.
fn closed_by_server(stream: &tokio::net::TcpStream) -> bool {
    let mut buffer = [0u8; 1024];
    loop {
        match stream.try_read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// Opens a new talk as `token` and its live stream of turns.
async fn open_talk_stream(app: &TestApp, token: &str, topic: &str) -> reqwest::Response {
    let (status, talk) = app
        .api_post(Some(token), "/api/v1/talks", json!({"topic": topic}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{talk}");
    let stream = reqwest::Client::new()
        .get(app.url(&format!(
            "/api/v1/talks/{}/events",
            talk["id"].as_str().unwrap()
        )))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    stream
}

async fn live_streams_outlast_the_timeouts(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let mut stream = open_talk_stream(&app, &alex, "a long talk").await;
    // Past both timeouts, the stream is still open.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    match tokio::time::timeout(std::time::Duration::from_millis(500), stream.chunk()).await {
        Err(_) | Ok(Ok(Some(_))) => {}
        Ok(ended) => panic!("the stream ended: {ended:?}"),
    }
}

/// With one request at work at a time, many at once are all answered, in
/// turn; a live stream's open body does not keep the others waiting.
async fn requests_wait_their_turn_and_a_live_stream_holds_none(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let stream = open_talk_stream(&app, &alex, "our week").await;
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..24 {
        let request = client.get(app.url("/api/v1/me")).bearer_auth(&alex);
        calls.spawn(async move { request.send().await.map(|r| r.status()) });
    }
    while let Some(answer) = calls.join_next().await {
        assert_eq!(
            answer
                .unwrap()
                .expect("a request waited for the stream's turn to end"),
            StatusCode::OK
        );
    }
    drop(stream);
}

/// Each API route, called by someone it is meant for with an empty body,
/// answers only with statuses its operation documents; and `null` is
/// allowed where the API sends it.
async fn every_answer_of_the_api_is_documented(app: TestApp) {
    let items = seed_items(&app).await;
    let spec = app.get_json("/api/openapi.json").await;
    let reliable_change = &spec["components"]["schemas"]["MeasureResult"];
    assert!(
        !reliable_change["required"]
            .as_array()
            .unwrap()
            .contains(&json!("reliable_change")),
        "{reliable_change}"
    );
    assert!(
        reliable_change["properties"]["reliable_change"]
            .to_string()
            .contains("null"),
        "{reliable_change}"
    );
    let mut undocumented = Vec::new();
    for route in trellis_web::routes::specs() {
        if !route.path.starts_with("/api/v1/") || route.path.ends_with("/events") {
            continue;
        }
        let operation = &spec["paths"][route.path][route.method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{} {} is documented",
            route.method,
            route.path
        );
        let session = session_for(&app, route.access, true).await;
        let path = fill_path(route.path, route.access, &items);
        let response = session
            .send(&app, &route.method, &path, &json!({}), &[])
            .await;
        let status = response.status().as_str().to_owned();
        if operation["responses"].get(&status).is_none() {
            undocumented.push(format!("{} {}: {status}", route.method, route.path));
        }
    }
    assert!(
        undocumented.is_empty(),
        "answers the document does not name:\n{}",
        undocumented.join("\n")
    );
}

/// The demo's people, as the answers sweeps call the API.
const DEMO_PEOPLE: &[&str] = &[
    "alex@example.com",
    "sam@example.com",
    "jordan@example.com",
    "riley@example.com",
    "therapist@example.com",
    "admin@example.com",
];

/// Routes that end the session or membership they are called with: called
/// once each, on purpose, at the end.
const ENDINGS: &[&str] = &[
    "/api/v1/auth/logout",
    "/api/v1/auth/logout-all",
    "/api/v1/me/leave-couple",
    "/api/v1/me",
];

/// Holds the OpenAPI document and checks real answers against it: each
/// status documented for its operation, each body valid for the schema the
/// document gives that status.
struct Conformance {
    spec: Value,
    checked: usize,
    failures: Vec<String>,
    /// Operations (`METHOD route`) that answered with success.
    succeeded: std::collections::BTreeSet<String>,
}

impl Conformance {
    async fn new(app: &TestApp) -> Conformance {
        Conformance {
            spec: app.get_json("/api/openapi.json").await,
            checked: 0,
            failures: Vec::new(),
            succeeded: Default::default(),
        }
    }

    /// Calls `route` (as the document names it) at `path`, checks the
    /// answer, and returns its status and JSON.
    async fn call(
        &mut self,
        app: &TestApp,
        token: Option<&str>,
        method: Method,
        (route, path): (&str, &str),
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let response = app.send(token, method.clone(), path, body).await;
        let status = response.status();
        let kind = content_type(&response);
        let text = response.text().await.unwrap();
        let what = format!("{method} {path} ({route}) answered {status}");
        if let Err(why) = self.check(&method, route, status, &kind, &text) {
            self.failures.push(format!("{what}: {why}"));
        }
        self.checked += 1;
        if status.is_success() {
            self.succeeded.insert(format!("{method} {route}"));
        }
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// [`Self::call`] for a route without parameters.
    async fn at(
        &mut self,
        app: &TestApp,
        token: Option<&str>,
        method: Method,
        route: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(app, token, method, (route, route), body).await
    }

    /// [`Self::call`], expecting `expected`; returns the JSON. An empty
    /// `token` is no one signed in, a `null` body sends none.
    async fn expect(
        &mut self,
        app: &TestApp,
        token: &str,
        method: Method,
        (route, path): (&str, &str),
        body: Value,
        expected: StatusCode,
    ) -> Value {
        let body = Some(body).filter(|b| !b.is_null());
        let token = Some(token).filter(|t| !t.is_empty());
        let (status, answer) = self
            .call(app, token, method.clone(), (route, path), body)
            .await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        answer
    }

    fn check(
        &self,
        method: &Method,
        route: &str,
        status: StatusCode,
        kind: &str,
        text: &str,
    ) -> Result<(), String> {
        let operation = &self.spec["paths"][route][method.as_str().to_lowercase()];
        if !operation.is_object() {
            return Err("no such operation in the document".to_owned());
        }
        let documented = operation["responses"]
            .get(status.as_str())
            .ok_or("the status is not documented")?;
        let content = &documented["content"];
        if text.is_empty() {
            return match content.as_object() {
                Some(kinds) if !kinds.is_empty() => Err(format!(
                    "no body, but the document promises {:?}",
                    kinds.keys().collect::<Vec<_>>()
                )),
                _ => Ok(()),
            };
        }
        let media = kind.split(';').next().unwrap_or_default().trim();
        let schema = content
            .get(media)
            .map(|c| &c["schema"])
            .ok_or_else(|| format!("a {kind} body the document does not describe: {text:.200}"))?;
        if media != "application/json" {
            return Ok(());
        }
        let body: Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): {text:.200}"))?;
        let errors = schema_errors(&self.spec, schema, &body);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the body does not fit {schema}:\n    {}\n    body: {:.600}",
                errors.join("\n    "),
                body.to_string()
            ))
        }
    }
}

/// Where `instance` breaks `schema` (JSON Schema 2020-12, as OpenAPI 3.1
/// uses it), with `$ref`s resolved in the document's components. Objects
/// may hold only the properties their schema names.
fn schema_errors(spec: &Value, schema: &Value, instance: &Value) -> Vec<String> {
    let mut root = closed(schema.clone());
    let Some(fields) = root.as_object_mut() else {
        return vec![format!("the schema is not an object: {schema}")];
    };
    fields.insert(
        "$schema".to_owned(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    fields.insert("components".to_owned(), closed(spec["components"].clone()));
    let validator = jsonschema::draft202012::new(&root)
        .unwrap_or_else(|e| panic!("the document's schema {schema} does not compile: {e}"));
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at `{}`", e, e.instance_path()))
        .collect()
}

/// `schema` with every object schema that lists its properties closed to
/// others, so a field the document does not name is found.
fn closed(mut schema: Value) -> Value {
    match &mut schema {
        Value::Object(fields) => {
            for value in fields.values_mut() {
                *value = closed(value.take());
            }
            if fields.get("type") == Some(&json!("object"))
                && fields.get("properties").is_some_and(Value::is_object)
                && !fields.contains_key("additionalProperties")
            {
                fields.insert("additionalProperties".to_owned(), json!(false));
            }
        }
        Value::Array(items) => {
            for value in items {
                *value = closed(value.take());
            }
        }
        _ => {}
    }
    schema
}

/// Every `/api/v1` answer the demo can give (what each demo person reads,
/// what the main changes answer, and refusals: 401, 403, 404, 422) has a
/// documented status and a body that fits the documented schema.
async fn every_answer_of_the_api_fits_its_schema(app: TestApp) {
    let items = seed_items(&app).await;
    let mut doc = Conformance::new(&app).await;
    let mut tokens = Vec::new();
    for email in DEMO_PEOPLE {
        let (status, login) = doc
            .at(
                &app,
                None,
                Method::POST,
                "/api/v1/auth/login",
                Some(json!({"email": email, "password": DEMO_PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{email}: {login}");
        tokens.push(login["token"].as_str().unwrap().to_owned());
    }
    let [alex, sam, _, _, priya, _] = &tokens[..] else {
        unreachable!()
    };
    changes_answer_as_documented(&app, &mut doc, &items, alex, sam, priya).await;

    // Every GET, by everyone (and no one): what they may read, and refusals.
    let specs = trellis_web::routes::specs();
    let readable = specs.iter().filter(|r| {
        r.method == Method::GET && r.path.starts_with("/api/v1/") && !r.path.ends_with("/events")
    });
    for route in readable {
        let path = fill_path(route.path, route.access, &items);
        doc.call(&app, None, Method::GET, (route.path, &path), None)
            .await;
        for token in &tokens {
            doc.call(&app, Some(token), Method::GET, (route.path, &path), None)
                .await;
        }
    }
    // Every change with an empty body, by someone it is meant for: 422s
    // and the other refusals.
    let changes = specs.iter().filter(|r| {
        r.method != Method::GET && r.path.starts_with("/api/v1/") && !ENDINGS.contains(&r.path)
    });
    for route in changes {
        let token = match caller_for(route.access) {
            Some("admin@example.com") => tokens.get(5),
            Some("therapist@example.com") => Some(priya),
            Some(_) => Some(alex),
            None => None,
        };
        let path = fill_path(route.path, route.access, &items);
        doc.call(
            &app,
            token.map(String::as_str),
            route.method.clone(),
            (route.path, &path),
            Some(json!({})),
        )
        .await;
    }
    endings_answer_as_documented(&app, &mut doc).await;
    practice_changes_answer_as_documented(&app, &mut doc, &items).await;
    waiting_writing_answers_as_documented(&app, &mut doc).await;
    assert!(
        doc.checked > 300,
        "only {} answers were checked",
        doc.checked
    );
    // Each operation's success was seen, and checked, at least once.
    let unseen: Vec<String> = specs
        .iter()
        .filter(|r| r.path.starts_with("/api/v1/") && !r.path.ends_with("/events"))
        .map(|r| format!("{} {}", r.method, r.path))
        .filter(|operation| !doc.succeeded.contains(operation))
        .collect();
    assert!(
        unseen.is_empty(),
        "never answered with success: {unseen:#?}"
    );
    assert!(
        doc.failures.is_empty(),
        "{} of {} answers do not match the OpenAPI document:\n{}",
        doc.failures.len(),
        doc.checked,
        doc.failures.join("\n")
    );
}

/// One call of [`run`]: who makes it (`""`: no one signed in), the method,
/// the route as documented and the path called, the body (`null`: none),
/// and the status it must answer with.
type Step<'a> = (&'a str, Method, &'static str, String, Value, StatusCode);

/// `route` with each `{name}` replaced by its value.
fn at(route: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(route.to_owned(), |path, (name, value)| {
        path.replace(&format!("{{{name}}}"), value)
    })
}

/// Makes each call in turn, checked against the document; returns the answers.
async fn run(app: &TestApp, doc: &mut Conformance, steps: Vec<Step<'_>>) -> Vec<Value> {
    let mut answers = Vec::new();
    for (token, method, route, path, body, status) in steps {
        answers.push(
            doc.expect(app, token, method, (route, &path), body, status)
                .await,
        );
    }
    answers
}

fn id_of(answer: &Value) -> String {
    answer["id"].as_str().unwrap().to_owned()
}

/// The main changes, each with a body that works, as the partners, their
/// therapist and visitors make them; and what the new items read like.
async fn changes_answer_as_documented(
    app: &TestApp,
    doc: &mut Conformance,
    items: &Items,
    alex: &str,
    sam: &str,
    priya: &str,
) {
    use Method as M;
    use StatusCode as S;
    let (_, me) = doc.at(app, Some(alex), M::GET, "/api/v1/me", None).await;
    let alex_id = id_of(&me);
    let couple = [("id", items.couple_id.as_str())];
    let now = trellis_web::state::system_now();
    let later = |ms| trellis_web::when::rfc3339(now + ms);
    let plain = |route: &'static str| (route, route.to_owned());
    let with = |route: &'static str, values: &[(&str, &str)]| (route, at(route, values));
    let step = |token, method, (route, path): (&'static str, String), body, status| {
        (token, method, route, path, body, status)
    };
    let created = run(app, doc, vec![
        step(alex, M::POST, plain("/api/v1/entries"), json!({"body": "I felt close to you tonight.", "audience": "partner_and_therapist"}), S::CREATED),
        step(alex, M::POST, plain("/api/v1/coach/analyze"), json!({"text": "You never listen to me, you always do this."}), S::OK),
        step(alex, M::POST, plain("/api/v1/commitments"), json!({"text": "I will tell you when plans change", "cadence": "daily"}), S::CREATED),
        step(alex, M::POST, plain("/api/v1/rituals"), json!({"text": "A walk together", "cadence": "weekly", "days": ["sat"]}), S::CREATED),
        step(priya, M::POST, with("/api/v1/couples/{id}/proposals", &couple), json!({"partner_id": alex_id, "text": "I will text when I leave work", "cadence": "daily"}), S::CREATED),
        step(alex, M::POST, plain("/api/v1/agreements"), json!({"title": "Phones at dinner", "text": "Phones stay in the hall during dinner."}), S::CREATED),
        step(alex, M::POST, plain("/api/v1/appreciations"), json!({"body": "Thank you for cooking.", "share_with_therapist": true}), S::CREATED),
        step(alex, M::POST, plain("/api/v1/openness"), json!({"body": "I showed you my messages.", "audience": "partner"}), S::CREATED),
        step(alex, M::POST, plain("/api/v1/messages"), json!({"thread": "couple", "body": "See you on Thursday."}), S::CREATED),
        step(priya, M::POST, plain("/api/v1/messages"), json!({"thread": "private", "couple_id": items.couple_id, "partner_id": alex_id, "body": "How are you?"}), S::CREATED),
        step(priya, M::POST, with("/api/v1/couples/{id}/notes", &couple), json!({"body": "Warmer today."}), S::CREATED),
        step(alex, M::POST, plain("/api/v1/talks"), json!({"topic": "Weekends"}), S::CREATED),
        step(alex, M::POST, plain("/api/v1/compromises"), json!({"topic": "Holidays"}), S::CREATED),
        step(alex, M::GET, with("/api/v1/instruments/{id}", &[("id", "csi4")]), Value::Null, S::OK),
        step(alex, M::POST, plain("/api/v1/me/measures/sharing"), json!({"therapist": true, "partner": true}), S::NO_CONTENT),
        step(priya, M::POST, with("/api/v1/couples/{id}/assignments", &couple), json!({"exercise_id": "trust-in-daily-life", "note": "Before Thursday"}), S::CREATED),
        step(priya, M::POST, with("/api/v1/couples/{id}/stages/{stage_id}/unlock", &[couple[0], ("stage_id", "understanding-how-it-happened")]), json!({}), S::NO_CONTENT),
        step(priya, M::POST, with("/api/v1/couples/{id}/appointments", &couple), json!({"start": later(trellis_core::time::DAY), "location": "Room 1"}), S::CREATED),
        step(alex, M::PATCH, plain("/api/v1/me/settings"), json!({"notify_messages": false, "time_zone": "Europe/Berlin"}), S::OK),
        step(alex, M::POST, plain("/api/v1/me/calendar/reset"), json!({}), S::OK),
        step("", M::POST, plain("/api/v1/self-check"), json!({"answers": {"arguments": 2, "distance": 3}, "feels_unsafe": false}), S::OK),
        step("", M::POST, plain("/api/v1/intake"), json!({"names": ["Maya", "Leo"], "email": "maya@example.net", "message": "We keep having the same fight."}), S::CREATED),
        step("", M::POST, plain("/api/v1/intake"), json!({"names": "Ana and Bo", "email": "ana@example.net"}), S::CREATED),
        step(priya, M::POST, plain("/api/v1/couples"), json!({"partners": [{"email": "mo@example.org", "name": "Mo"}, {"email": "pat@example.org", "name": "Pat"}]}), S::CREATED),
        step(priya, M::POST, with("/api/v1/couples/{id}/screening", &couple), json!({"user_id": alex_id, "decision": "conjoint_ok", "note": "Seen alone."}), S::CREATED),
        step(priya, M::POST, with("/api/v1/couples/{id}/rescreen", &couple), json!({}), S::NO_CONTENT),
        step(priya, M::POST, with("/api/v1/couples/{id}/situation", &couple), json!({"kind": "both_hurt"}), S::OK),
        step(alex, M::POST, plain("/api/v1/shared-work/pause"), json!({}), S::OK),
        step(alex, M::POST, plain("/api/v1/shared-work/resume"), json!({}), S::OK),
        step(alex, M::POST, plain("/api/v1/me/devices"), crate::push::Browser::new().subscription("https://push.example.com/schema"), S::NO_CONTENT),
        step(alex, M::POST, plain("/api/v1/me/devices/remove"), json!({"endpoint": "https://push.example.com/schema"}), S::NO_CONTENT),
    ]).await;
    let [
        entry,
        promise,
        proposal,
        agreement,
        note,
        talk,
        compromise,
        session,
        new_couple,
    ] = [0, 2, 4, 5, 10, 11, 12, 17, 23].map(|i| id_of(&created[i]));
    let answers: serde_json::Map<String, Value> = created[13]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            (
                item["id"].as_str().unwrap().to_owned(),
                item["options"][1]["value"].clone(),
            )
        })
        .collect();
    let (_, inbox) = doc
        .at(app, Some(priya), M::GET, "/api/v1/intake", None)
        .await;
    let requests: Vec<String> = inbox["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(id_of)
        .collect();
    let the = |route: &'static str, id: &str| with(route, &[("id", id)]);
    let one_session = with(
        "/api/v1/couples/{id}/appointments/{appointment_id}",
        &[couple[0], ("appointment_id", &session)],
    );
    let measure = with("/api/v1/measures/{instrument}", &[("instrument", "csi4")]);
    run(app, doc, vec![
        step(alex, M::PATCH, the("/api/v1/entries/{id}", &entry), json!({"audience": "therapist"}), S::OK),
        step(alex, M::POST, the("/api/v1/commitments/{id}/kept", &promise), json!({}), S::NO_CONTENT),
        step(sam, M::POST, the("/api/v1/commitments/{id}/noticed", &promise), json!({"thanks": "Thank you for the call."}), S::NO_CONTENT),
        step(alex, M::POST, the("/api/v1/commitments/{id}/context", &promise), json!({"body": "A hard day.", "audience": "therapist"}), S::NO_CONTENT),
        step(alex, M::POST, the("/api/v1/commitments/{id}/status", &promise), json!({"status": "paused"}), S::NO_CONTENT),
        step(alex, M::POST, the("/api/v1/commitments/{id}/accept", &proposal), json!({}), S::NO_CONTENT),
        step(sam, M::POST, the("/api/v1/agreements/{id}/accept", &agreement), json!({}), S::OK),
        step(priya, M::POST, plain("/api/v1/comments"), json!({"target_id": agreement, "body": "A clear agreement."}), S::CREATED),
        step(priya, M::PATCH, with("/api/v1/couples/{id}/notes/{note_id}", &[couple[0], ("note_id", &note)]), json!({"body": "Warmer today; more eye contact."}), S::OK),
        step(alex, M::POST, the("/api/v1/talks/{id}/turns", &talk), json!({"kind": "speak", "body": "I miss our Saturdays."}), S::CREATED),
        step(sam, M::POST, the("/api/v1/talks/{id}/floor", &talk), json!({}), S::CONFLICT),
        step(sam, M::GET, the("/api/v1/talks/{id}", &talk), Value::Null, S::OK),
        step(alex, M::POST, plain("/api/v1/timeouts"), json!({"return_at": later(30 * trellis_core::time::MINUTE), "talk_id": talk}), S::CREATED),
        step(alex, M::POST, the("/api/v1/talks/{id}/leave", &talk), json!({}), S::CREATED),
        step(alex, M::POST, the("/api/v1/compromises/{id}/circles", &compromise), json!({"core": "Time with family", "flexible": "Which week"}), S::CREATED),
        step(sam, M::POST, the("/api/v1/compromises/{id}/circles", &compromise), json!({"core": "Some quiet days", "flexible": "Where we go"}), S::CREATED),
        step(sam, M::GET, the("/api/v1/compromises/{id}", &compromise), Value::Null, S::OK),
        step(alex, M::POST, the("/api/v1/compromises/{id}/agreement", &compromise), json!({"title": "Holidays", "body": "One week each, alternating."}), S::CREATED),
        // A second score of the same person has a reliable change to show.
        step(alex, M::POST, measure.clone(), json!({"answers": answers}), S::CREATED),
        step(alex, M::POST, measure.clone(), json!({"answers": answers}), S::CREATED),
        step(sam, M::POST, measure, json!({"answers": answers}), S::CREATED),
        step(priya, M::PATCH, one_session.clone(), json!({"start": later(2 * trellis_core::time::DAY), "location": "Room 3"}), S::OK),
        step(alex, M::POST, the("/api/v1/appointments/{id}/reschedule-request", &session), json!({"note": "Evenings suit us."}), S::NO_CONTENT),
        step(priya, M::DELETE, one_session, json!({}), S::NO_CONTENT),
        step(priya, M::POST, the("/api/v1/intake/{id}/accept", &requests[1]), json!({"partners": [{"name": "Maya", "email": "maya@example.net"}, {"name": "Leo", "email": "leo@example.net"}]}), S::CREATED),
        step(priya, M::POST, the("/api/v1/intake/{id}/reply", &requests[0]), json!({"reply": "Thursday at 6pm?", "decline": false}), S::OK),
        step(priya, M::POST, the("/api/v1/couples/{id}/invitations", &new_couple), json!({"email": "pat@example.org", "name": "Pat"}), S::CREATED),
    ]).await;
    let threads = [
        ("thread=couple".to_owned(), alex),
        ("thread=private".to_owned(), alex),
        (
            format!(
                "thread=private&couple_id={}&partner_id={alex_id}",
                items.couple_id
            ),
            priya,
        ),
    ];
    for (query, token) in threads {
        let path = format!("/api/v1/messages?{query}");
        doc.call(app, Some(token), M::GET, ("/api/v1/messages", &path), None)
            .await;
    }
    let path = format!(
        "/api/v1/couples/{}/comments?target_id={agreement}",
        items.couple_id
    );
    doc.call(
        app,
        Some(sam),
        M::GET,
        ("/api/v1/couples/{id}/comments", &path),
        None,
    )
    .await;

    // A new partner accepts the invitation, is welcomed, and answers an exercise.
    let invitation = app.invitation_token("mo@example.org");
    let accepted = run(
        app,
        doc,
        vec![step(
            "",
            M::POST,
            with(
                "/api/v1/invitations/{token}/accept",
                &[("token", &invitation)],
            ),
            json!({"name": "Mo", "password": "a long password"}),
            S::CREATED,
        )],
    )
    .await;
    let mo = accepted[0]["token"].as_str().unwrap();
    let safe: serde_json::Map<String, Value> = crate::helpers::SAFE
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    run(
        app,
        doc,
        vec![
            step(mo, M::GET, plain("/api/v1/onboarding"), Value::Null, S::OK),
            step(
                mo,
                M::POST,
                plain("/api/v1/onboarding/welcome"),
                json!({"scores_consent": true}),
                S::NO_CONTENT,
            ),
            step(
                mo,
                M::POST,
                plain("/api/v1/onboarding/safety"),
                json!({"answers": safe}),
                S::OK,
            ),
            step(
                mo,
                M::POST,
                with(
                    "/api/v1/exercises/{id}/responses",
                    &[("id", "trust-in-daily-life")],
                ),
                json!({"body": "Small things, every day.", "audience": "partner_and_therapist"}),
                S::CREATED,
            ),
            step(mo, M::GET, plain("/api/v1/onboarding"), Value::Null, S::OK),
        ],
    )
    .await;
}

/// Signing out, signing out everywhere, leaving the couple and deleting the
/// account, each once, each with a session of its own.
async fn endings_answer_as_documented(app: &TestApp, doc: &mut Conformance) {
    for (method, route, email, body) in [
        (
            Method::POST,
            "/api/v1/auth/logout",
            "alex@example.com",
            json!({}),
        ),
        (
            Method::POST,
            "/api/v1/auth/logout-all",
            "therapist@example.com",
            json!({}),
        ),
        (
            Method::DELETE,
            "/api/v1/me",
            "riley@example.com",
            json!({"password": DEMO_PASSWORD}),
        ),
        (
            Method::POST,
            "/api/v1/me/leave-couple",
            "jordan@example.com",
            json!({"password": DEMO_PASSWORD}),
        ),
    ] {
        let token = app.api_login(email, DEMO_PASSWORD).await;
        let (status, answer) = doc
            .at(app, Some(&token), method.clone(), route, Some(body))
            .await;
        assert!(
            status.is_success(),
            "{method} {route} as {email}: {status} {answer}"
        );
        // The session is over, or the membership: the next call hears so.
        doc.at(app, Some(&token), method, route, Some(json!({})))
            .await;
    }
}

/// A self-guided partner asks Dr. Priya to guide them and she accepts; the
/// admin resets a colleague's second step, gives a couple to him, and then
/// removes his access (last: he is gone afterwards).
/// Undo, hold and share-now succeed only on writing still waiting: each
/// gets an entry whose moment is pushed a minute ahead.
async fn waiting_writing_answers_as_documented(app: &TestApp, doc: &mut Conformance) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let (_, me) = app.api_get(&alex, "/api/v1/me").await;
    let alex_id = me["id"].as_str().unwrap().to_owned();
    for action in ["undo", "hold", "share-now"] {
        let (status, entry) = app
            .api_post(
                Some(&alex),
                "/api/v1/entries",
                json!({"body": format!("waiting for {action}"), "audience": "partner"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let id = entry["id"].as_str().unwrap();
        app.store
            .set_visible_from(id, &alex_id, trellis_web::state::system_now() + 60_000)
            .await
            .unwrap();
        let route = format!("/api/v1/entries/{{id}}/{action}");
        let (status, answer) = doc
            .call(
                app,
                Some(&alex),
                Method::POST,
                (&route, &format!("/api/v1/entries/{id}/{action}")),
                Some(json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {answer}");
    }
}

async fn practice_changes_answer_as_documented(
    app: &TestApp,
    doc: &mut Conformance,
    items: &crate::matrix::Items,
) {
    let client = crate::helpers::browser_client();
    let joined = app
        .sign_up(&client, "Robin", "robin@example.org", "a long password")
        .await;
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    let robin = app.api_login("robin@example.org", "a long password").await;
    let (status, request) = doc
        .at(
            app,
            Some(&robin),
            Method::POST,
            "/api/v1/me/link-requests",
            Some(json!({"code": "DRPR-2026"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    let priya = app.api_login("therapist@example.com", DEMO_PASSWORD).await;
    let accept = format!(
        "/api/v1/link-requests/{}/accept",
        request["id"].as_str().unwrap()
    );
    let (status, answer) = doc
        .call(
            app,
            Some(&priya),
            Method::POST,
            ("/api/v1/link-requests/{id}/{action}", &accept),
            Some(json!({})),
        )
        .await;
    assert!(status.is_success(), "{status} {answer}");

    let admin = app.api_login("admin@example.com", DEMO_PASSWORD).await;
    let email = trellis_core::EmailAddress::parse("e", "therapist2@example.com").unwrap();
    let tom = app
        .store
        .user_by_email(&email)
        .await
        .unwrap()
        .unwrap()
        .user
        .id;
    for (route, path, body) in [
        (
            "/api/v1/practice/staff/{user_id}/two-factor/reset",
            format!("/api/v1/practice/staff/{tom}/two-factor/reset"),
            json!({}),
        ),
        (
            "/api/v1/couples/{id}/therapist",
            format!("/api/v1/couples/{}/therapist", items.couple_id),
            json!({"therapist_id": tom}),
        ),
        (
            "/api/v1/practice/staff/{user_id}/deactivate",
            format!("/api/v1/practice/staff/{tom}/deactivate"),
            json!({}),
        ),
    ] {
        let (status, answer) = doc
            .call(app, Some(&admin), Method::POST, (route, &path), Some(body))
            .await;
        assert!(status.is_success(), "{route}: {status} {answer}");
    }
    let (status, answer) = doc
        .call(
            app,
            Some(&admin),
            Method::PATCH,
            ("/api/v1/practice/safety", "/api/v1/practice/safety"),
            Some(
                json!({"response_promise": "Flags are read on working days.", "rescreen_weeks": 8}),
            ),
        )
        .await;
    assert!(status.is_success(), "{status} {answer}");
}
