//! What the reliability run found: bad input, refusals in one shape, slow
//! clients, and an OpenAPI document that says what the API really answers.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use trellis_core::Role;
use trellis_core::access::Access;

use crate::helpers::{DEMO_PASSWORD, IMPATIENT_CONNECTIONS, TestApp};
use crate::matrix::{fill_path, seed_items};
use crate::on_both_backends;

on_both_backends!(with_demo =>
    nothing_holding_nul_reaches_a_query,
    ids_that_are_not_ids_name_nothing,
    every_refusal_speaks_our_error_language,
    every_answer_of_the_api_is_documented,
);

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
    let api = reqwest::Client::new();
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

async fn live_streams_outlast_the_timeouts(app: TestApp) {
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let (status, talk) = app
        .api_post(
            Some(&alex),
            "/api/v1/talks",
            json!({"topic": "a long talk"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{talk}");
    let mut stream = reqwest::Client::new()
        .get(app.url(&format!(
            "/api/v1/talks/{}/events",
            talk["id"].as_str().unwrap()
        )))
        .bearer_auth(&alex)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    // Past both timeouts, the stream is still open.
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    match tokio::time::timeout(std::time::Duration::from_millis(500), stream.chunk()).await {
        Err(_) | Ok(Ok(Some(_))) => {}
        Ok(ended) => panic!("the stream ended: {ended:?}"),
    }
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
