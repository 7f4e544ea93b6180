//! Starting Trellis: open the database, bind the socket, serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::timeout::RequestBodyTimeoutLayer;
use trellis_core::time::{DAY, MINUTE};
use trellis_store::Store;
use trellis_web::{AppState, Mailer, WebConfig};

use crate::config::Config;

/// A bound, ready server. Binding happens before serving so callers (and
/// tests on port 0) know the real address first.
pub struct Server {
    listener: TcpListener,
    state: AppState,
    addr: SocketAddr,
    reminder_every: std::time::Duration,
    checkin_every: std::time::Duration,
    limits: Limits,
    /// The private address serving `/metrics`, when configured.
    metrics: Option<TcpListener>,
}

/// What keeps slow or idle clients from holding the server: see the
/// matching [`Config`] fields.
#[derive(Debug, Clone, Copy)]
struct Limits {
    header_timeout: Duration,
    body_timeout: Duration,
    max_connections: usize,
}

impl Server {
    pub async fn build(config: &Config) -> anyhow::Result<Server> {
        let store = config.open_store().await?;
        Self::build_with_store(config, store).await
    }

    pub async fn build_with_store(config: &Config, store: Store) -> anyhow::Result<Server> {
        let listener = TcpListener::bind(config.bind).await.with_context(|| {
            format!(
                "could not listen on {} (is another program using it?)",
                config.bind
            )
        })?;
        let addr = listener.local_addr()?;
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let mut web = WebConfig::new(public_url);
        web.secure_cookies = config.secure_cookies;
        web.behind_proxy = config.behind_proxy;
        web.staff_idle_timeout = i64::from(config.staff_idle_minutes.max(1)) * MINUTE;
        web.partner_idle_timeout = i64::from(config.partner_idle_days.max(1)) * DAY;
        web.api_token_lifetime = i64::from(config.api_token_days.max(1)) * DAY;
        web.request_timeout = Duration::from_secs(config.request_timeout_seconds.max(1));
        web.concurrent_requests = config.concurrent_requests.max(1);
        web.session_cache = std::time::Duration::from_millis(config.session_cache_ms);
        web.share_undo = i64::try_from(config.share_undo_seconds)
            .unwrap_or(i64::MAX / 1_000)
            .saturating_mul(1_000);
        let metrics = match config.metrics_bind {
            Some(bind) => {
                let listener = TcpListener::bind(bind).await.with_context(|| {
                    format!("could not listen on {bind} for metrics (is another program using it?)")
                })?;
                // install the recorder before the first request is counted
                if trellis_web::observe::metrics_handle().is_none() {
                    tracing::warn!("another metrics recorder is installed: /metrics stays empty");
                }
                Some(listener)
            }
            None => None,
        };
        let mailer = match &config.smtp_url {
            Some(url) => Mailer::smtp(url, &config.mail_from)?,
            None => {
                let outbox = config.data_dir.join("outbox");
                tracing::info!(outbox = %outbox.display(), "no SMTP server configured: mail will be written to the outbox folder");
                Mailer::outbox(outbox, &config.mail_from)?
            }
        };
        let vault = trellis_web::vault::Vault::from_keyring_file(config.master_key_file())?;
        // Values still in clear or sealed the older way are sealed now, once
        // per database (recorded, so later starts skip the full read).
        vault
            .sweep_once(&store)
            .await
            .context("could not bring sealed data up to date")?;
        trellis_app::services::intake::prune_personal_details(
            &store,
            trellis_web::state::system_now(),
        )
        .await?;
        let content = trellis_web::content::Content::load(config.content_dir.as_deref())
            .context("the program content is not valid")?;
        let pusher = trellis_web::push::Pusher::from_key_file(
            &config.push_key_file(),
            &format!("mailto:{}", mailer.from_address()),
            config.push_allow_local_endpoints,
        )?;
        let state = AppState::new(
            store,
            web,
            mailer,
            vault,
            std::sync::Arc::new(content),
            pusher,
        );
        Ok(Server {
            listener,
            state,
            addr,
            reminder_every: std::time::Duration::from_secs(config.reminder_check_seconds.max(1)),
            checkin_every: std::time::Duration::from_secs(config.checkin_sweep_minutes.max(1) * 60),
            limits: Limits {
                header_timeout: Duration::from_secs(config.header_timeout_seconds.max(1)),
                body_timeout: Duration::from_secs(config.body_timeout_seconds.max(1)),
                max_connections: config.max_connections.max(1),
            },
            metrics,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The metrics address, when one is configured.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes open requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let store = self.state.store().clone();
        let reminders = tokio::spawn(send_reminders(self.state.clone(), self.reminder_every));
        let mail = tokio::spawn(deliver_mail(self.state.clone(), self.reminder_every));
        let checkins = tokio::spawn(mail_checkins(self.state.clone(), self.checkin_every));
        let relay = tokio::spawn(trellis_app::services::talks::relay_other_instances(
            self.state.clone(),
        ));
        let metrics = self.metrics.map(|listener| {
            let router = trellis_web::observe::metrics_router(self.state.clone());
            tokio::spawn(async move {
                if let Err(err) = axum::serve(listener, router).await {
                    tracing::error!(%err, "the metrics address stopped");
                }
            })
        });
        let router = trellis_web::router(self.state)
            .layer(RequestBodyTimeoutLayer::new(self.limits.body_timeout));
        serve(self.listener, router, self.limits, shutdown).await;
        reminders.abort();
        mail.abort();
        checkins.abort();
        relay.abort();
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        store.close().await;
        Ok(())
    }
}

/// Accepts connections while fewer than `max_connections` are open (the
/// others wait in the listen queue), closes those whose headers do not
/// arrive in time, and on `shutdown` stops accepting and lets open requests
/// finish.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(error = %err, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service =
            router
                .clone()
                .map_request(move |mut request: axum::extract::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
        let connection = http
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
            .with_upgrades();
        let mut closing = closed.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut connection = std::pin::pin!(connection);
            let told_to_close = async move {
                let _ = closing.wait_for(|closing| *closing).await;
            };
            let closing = tokio::select! {
                _ = connection.as_mut() => false,
                () = told_to_close => true,
            };
            if closing {
                connection.as_mut().graceful_shutdown();
                let _ = connection.await;
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    // Every permit back: every connection has finished.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}

/// Mails partners whose check-in is ready, every `every`, first after one
/// period (a restart does not re-send: each partner is claimed weekly).
async fn mail_checkins(state: AppState, every: std::time::Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = trellis_app::services::intake::prune_personal_details(
            state.store(),
            trellis_web::state::system_now(),
        )
        .await
        {
            tracing::warn!(error = ?err, "could not prune old personal details");
        }
        match trellis_app::services::measures::mail_due_checkins(&state).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "check-in reminders mailed"),
            Err(err) => tracing::warn!(error = ?err, "could not mail check-in reminders"),
        }
    }
}

/// Sends session reminders and "time to come back" after time-outs as they
/// fall due, for as long as the server runs. Several instances may do this
/// at once: each is claimed once.
async fn send_reminders(state: AppState, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match trellis_app::services::appointments::send_due_reminders(&state).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "session reminders sent"),
            Err(err) => tracing::warn!(error = ?err, "could not send session reminders"),
        }
        match trellis_app::services::timeouts::invite_back_due(&state).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "couples invited back after a time-out"),
            Err(err) => {
                tracing::warn!(error = ?err, "could not invite couples back after a time-out")
            }
        }
    }
}

/// Retries mail the mail server could not take, and sends mail a stopped
/// process left in the outbox.
async fn deliver_mail(state: AppState, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match trellis_app::services::outbox::deliver_due(&state).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "mail from the outbox sent"),
            Err(err) => tracing::warn!(error = ?err, "could not send mail from the outbox"),
        }
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
