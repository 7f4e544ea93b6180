//! Turn delivery latency: from the moment a partner posts a move to the
//! moment the other partner's live stream (server-sent events) delivers it,
//! with 100 talks running at once. Measured on one instance (SQLite, and
//! PostgreSQL when `TRELLIS_TEST_DATABASE_URL` is set) and across two
//! instances on PostgreSQL (posted on one, heard on the other).
//!
//! The baseline, measured in the same run under the same load, is the
//! post itself (request to response): the ratio says how much later than
//! its own confirmation a turn reaches the other screen.
//!
//! `cargo bench -p trellis --bench talk_latency`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use trellis::config::Config;
use trellis::server::Server;
use trellis_crypto::SecretToken;
use trellis_store::{NewPartner, NewSession, SessionKind, Store};

const TALKS: usize = 100;
/// Each cycle: speak, paraphrase, confirm.
const CYCLES: usize = 2;

struct Running {
    bases: Vec<String>,
    _dir: tempfile::TempDir,
    _stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

async fn start(url: &str, instances: usize) -> (Running, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(url).await.unwrap();
    trellis::demo::seed_if_empty(
        &store,
        "a calm bench password",
        trellis_web::state::system_now(),
    )
    .await
    .unwrap();
    let mut bases = Vec::new();
    let mut stops = Vec::new();
    for _ in 0..instances {
        let config = Config {
            bind: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let server = Server::build_with_store(&config, store.clone())
            .await
            .unwrap();
        bases.push(format!("http://{}", server.addr()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run_until(async {
            let _ = rx.await;
        }));
        stops.push(tx);
    }
    (
        Running {
            bases,
            _dir: dir,
            _stops: stops,
        },
        store,
    )
}

/// `TALKS` couples with API tokens for both partners.
async fn couples(store: &Store) -> Vec<[String; 2]> {
    let email = trellis_core::EmailAddress::parse("e", "therapist@example.com").unwrap();
    let priya = store.user_by_email(&email).await.unwrap().unwrap().user;
    let now = trellis_web::state::system_now();
    let mut tokens = Vec::new();
    for i in 0..TALKS {
        let invites = [SecretToken::generate(), SecretToken::generate()];
        let hashes = [invites[0].hash(), invites[1].hash()];
        let emails = [format!("a{i}@bench.example"), format!("b{i}@bench.example")];
        let partners: Vec<NewPartner<'_>> = hashes
            .iter()
            .zip(&emails)
            .map(|(h, e)| NewPartner {
                email: e,
                name: "Partner",
                token_hash: h.as_str(),
            })
            .collect();
        store
            .create_couple_with_invitations(&priya, &partners, now, now + 86_400_000)
            .await
            .unwrap();
        let mut pair = Vec::new();
        for hash in &hashes {
            let joined = store
                .accept_invitation(hash.as_str(), "Partner", "$bench$", None, now)
                .await
                .unwrap();
            let token = SecretToken::generate();
            store
                .create_session(NewSession {
                    token_hash: token.hash().as_str(),
                    user_id: &joined.user.id,
                    kind: SessionKind::Api,
                    now,
                    expires_at: now + 86_400_000,
                })
                .await
                .unwrap();
            pair.push(token.expose().to_owned());
        }
        tokens.push([pair[0].clone(), pair[1].clone()]);
    }
    tokens
}

/// Reads events from a stream, sending (seq, arrival) for each.
fn follow(
    mut response: reqwest::Response,
    arrivals: tokio::sync::mpsc::UnboundedSender<(i64, Instant)>,
) {
    tokio::spawn(async move {
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            let at = Instant::now();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer[..end].to_owned();
                buffer.drain(..end + 2);
                if let Some(id) = block.lines().find_map(|l| l.strip_prefix("id:")) {
                    let _ = arrivals.send((id.trim().parse().unwrap_or(0), at));
                }
            }
        }
    });
}

struct Samples {
    delivery: Vec<Duration>,
    post: Vec<Duration>,
}

/// One talk: both partners listen on `listen_base`, moves are posted on
/// `post_base`; each move is timed at the other partner's stream.
async fn one_talk(post_base: String, listen_base: String, tokens: [String; 2]) -> Samples {
    let client = reqwest::Client::new();
    let opened: Value = client
        .post(format!("{post_base}/api/v1/talks"))
        .bearer_auth(&tokens[0])
        .json(&json!({"topic": "Bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let talk = opened["id"].as_str().unwrap().to_owned();
    let mut receivers = Vec::new();
    for token in &tokens {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let response = client
            .get(format!("{listen_base}/api/v1/talks/{talk}/events"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        follow(response, tx);
        receivers.push(rx);
    }
    let mut samples = Samples {
        delivery: Vec::new(),
        post: Vec::new(),
    };
    let mut seq = 0;
    for _ in 0..CYCLES {
        for (mover, kind, body) in [
            (0, "speak", "I would like us to plan the weekend together."),
            (1, "paraphrase", "You want us to plan the weekend together."),
            (0, "confirm", ""),
        ] {
            seq += 1;
            let sent = Instant::now();
            let response = client
                .post(format!("{post_base}/api/v1/talks/{talk}/turns"))
                .bearer_auth(&tokens[mover])
                .json(&json!({"kind": kind, "body": body}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), reqwest::StatusCode::CREATED);
            samples.post.push(sent.elapsed());
            let listener = &mut receivers[1 - mover];
            loop {
                let (got, at) = tokio::time::timeout(Duration::from_secs(30), listener.recv())
                    .await
                    .expect("delivered within 30 s")
                    .expect("stream open");
                // Each listener also sees its own earlier moves: skip to this one.
                if got == seq {
                    samples.delivery.push(at.duration_since(sent));
                    break;
                }
            }
            // The mover's own stream gets it too; drain so it does not pile up.
            while let Ok((got, _)) = receivers[mover].try_recv() {
                if got >= seq {
                    break;
                }
            }
        }
    }
    samples
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

async fn measure(label: &str, url: &str, instances: usize) -> String {
    let (running, store) = start(url, instances).await;
    let tokens = couples(&store).await;
    let post_base = running.bases[0].clone();
    let listen_base = running.bases[instances - 1].clone();
    let started = Instant::now();
    let tasks: Vec<_> = tokens
        .into_iter()
        .map(|pair| tokio::spawn(one_talk(post_base.clone(), listen_base.clone(), pair)))
        .collect();
    let mut delivery = Vec::new();
    let mut post = Vec::new();
    for task in tasks {
        let samples = task.await.unwrap();
        delivery.extend(samples.delivery);
        post.extend(samples.post);
    }
    let elapsed = started.elapsed();
    delivery.sort();
    post.sort();
    let (d50, d99) = (percentile(&delivery, 0.50), percentile(&delivery, 0.99));
    let (p50, p99) = (percentile(&post, 0.50), percentile(&post, 0.99));
    format!(
        "| {label} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.2}× | {:.2}× | {:.1} s |",
        delivery.len(),
        ms(d50),
        ms(d99),
        ms(p50),
        ms(p99),
        ms(d50) / ms(p50),
        ms(d99) / ms(p99),
        elapsed.as_secs_f64(),
    )
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut rows = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Store::sqlite_url(&dir.path().join("bench.db"));
        rows.push(measure("SQLite, one instance", &sqlite, 1).await);
        if let Some(server) = trellis_store::testing::postgres_server_url() {
            let one = trellis_store::testing::create_postgres_database(&server).await.unwrap();
            rows.push(measure("PostgreSQL, one instance", &one, 1).await);
            let two = trellis_store::testing::create_postgres_database(&server).await.unwrap();
            rows.push(measure("PostgreSQL, two instances (post on one, listen on the other)", &two, 2).await);
        } else {
            eprintln!("PostgreSQL rows skipped: set TRELLIS_TEST_DATABASE_URL to include them");
        }
        println!(
            "\n{TALKS} talks at once, {} moves each; delivery = post sent → event at the other partner's stream; baseline = the post's own response time.\n",
            CYCLES * 3
        );
        println!("| setup | moves | delivery p50 | delivery p99 | post p50 | post p99 | p50 ratio | p99 ratio | wall |");
        println!("|---|---|---|---|---|---|---|---|---|");
        for row in rows {
            println!("{row}");
        }
    });
}
