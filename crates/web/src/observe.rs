//! Observability: a request id on every answer, one access-log line per
//! request, and Prometheus metrics served on a separate address.
//!
//! The access log names the matched route (`/invitations/{token}`), never
//! the raw path, so secrets carried in addresses (invitation and reset
//! tokens, calendar feeds) never reach the logs.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing::Instrument;

use crate::state::AppState;

/// The header carrying the request id, both ways.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served (in request extensions).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Route label of requests no route matched (one label, whatever the path).
const UNMATCHED: &str = "<unmatched>";

/// A request id given by a proxy in front is kept when it is short and plain;
/// anything else is replaced, so nobody can write what they like into our
/// logs.
fn acceptable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Gives the request an id, serves it inside a span carrying that id and the
/// matched route, logs one line when it is answered, records its metrics,
/// and returns the id in `X-Request-Id`.
pub async fn access(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| uuid::Uuid::now_v7().simple().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_owned();
    let method = req.method().as_str().to_owned();
    let span = tracing::info_span!("request", request_id = %id, %method, %route);
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            target: "trellis::access",
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "answered"
        );
    });
    let labels = [
        ("method", method),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("trellis_http_requests_total", &labels).increment(1);
    metrics::histogram!("trellis_http_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    response
}

/// Latency buckets (seconds) for the request histogram.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's metrics recorder, installed on first use (metrics are per
/// process: every server in it reports into the same registry). `None` only
/// if another recorder was installed first.
pub fn metrics_handle() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            metrics::describe_counter!(
                "trellis_http_requests_total",
                "Requests answered, by method, matched route and status."
            );
            metrics::describe_histogram!(
                "trellis_http_request_duration_seconds",
                metrics::Unit::Seconds,
                "Time to answer, by method, matched route and status."
            );
            Some(handle)
        })
        .clone()
}

/// `GET /metrics` in the Prometheus text format, for the metrics address
/// only (never the public one): request counts and latencies, the database
/// pool and the live streams, read when scraped.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let Some(handle) = metrics_handle() else {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "metrics are not available",
        )
            .into_response();
    };
    let (size, idle) = state.store().pool_stats();
    metrics::gauge!("trellis_db_pool_connections").set(f64::from(size));
    metrics::gauge!("trellis_db_pool_idle_connections").set(idle as f64);
    metrics::gauge!("trellis_live_streams").set(state.streams().total() as f64);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// The router served on `metrics_bind`: `/metrics` and nothing else.
pub fn metrics_router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(metrics))
        .with_state(state)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use std::sync::{Arc, Mutex};

    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// Log lines written by the subscriber under test.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Lines {
            self.clone()
        }
    }

    #[tokio::test]
    async fn the_access_log_names_the_route_never_the_path() {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(lines.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route("/invitations/{token}", get(|| async { "welcome" }))
            .layer(axum::middleware::from_fn(access));
        let response = app
            .oneshot(
                Request::builder()
                    .uri("/invitations/s3cret-token?x=1")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let id = response.headers()[&X_REQUEST_ID]
            .to_str()
            .unwrap()
            .to_owned();
        let log = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let line = log
            .lines()
            .find(|l| l.contains("answered"))
            .unwrap_or_else(|| panic!("no access line in {log}"));
        assert!(line.contains("INFO"), "{line}");
        assert!(line.contains("/invitations/{token}"), "{line}");
        assert!(line.contains("method=GET"), "{line}");
        assert!(line.contains("status=200"), "{line}");
        assert!(line.contains("latency_ms="), "{line}");
        assert!(line.contains(&id), "{line}");
        assert!(!log.contains("s3cret"), "{log}");
    }

    #[test]
    fn request_ids_from_outside_are_kept_only_when_plain() {
        assert!(acceptable("edge-7f3a.2_x"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable(&"x".repeat(65)));
        assert!(!acceptable("<script>"));
    }
}
