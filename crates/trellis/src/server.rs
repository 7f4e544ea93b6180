//! Starting Trellis: open the database, bind the socket, serve until told to stop.

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;
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
}

impl Server {
    pub async fn build(config: &Config) -> anyhow::Result<Server> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!(
                "could not create the data directory {}",
                config.data_dir.display()
            )
        })?;
        let store = Store::open(&config.database_url())
            .await
            .context("could not open the database")?;
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
        // (the sweep does nothing when all is up to date).
        vault
            .sweep(&store)
            .await
            .context("could not bring sealed data up to date")?;
        trellis_web::services::intake::prune_personal_details(&store, trellis_web::state::now())
            .await?;
        let content = trellis_web::content::Content::load(config.content_dir.as_deref())
            .context("the program content is not valid")?;
        let state = AppState::new(store, web, mailer, vault, std::sync::Arc::new(content));
        Ok(Server {
            listener,
            state,
            addr,
            reminder_every: std::time::Duration::from_secs(config.reminder_check_seconds.max(1)),
            checkin_every: std::time::Duration::from_secs(config.checkin_sweep_minutes.max(1) * 60),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
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
        let checkins = tokio::spawn(mail_checkins(self.state.clone(), self.checkin_every));
        let relay = tokio::spawn(trellis_web::services::talks::relay_other_instances(
            self.state.clone(),
        ));
        let router = trellis_web::router(self.state);
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, service)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the server stopped unexpectedly")?;
        reminders.abort();
        checkins.abort();
        relay.abort();
        store.close().await;
        Ok(())
    }
}

/// Mails partners whose check-in is ready, every `every`, first after one
/// period (a restart does not re-send: each partner is claimed weekly).
async fn mail_checkins(state: AppState, every: std::time::Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(err) = trellis_web::services::intake::prune_personal_details(
            state.store(),
            trellis_web::state::now(),
        )
        .await
        {
            tracing::warn!(error = ?err, "could not prune old personal details");
        }
        match trellis_web::services::measures::mail_due_checkins(&state).await {
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
        match trellis_web::services::appointments::send_due_reminders(&state).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "session reminders sent"),
            Err(err) => tracing::warn!(error = ?err, "could not send session reminders"),
        }
        match trellis_web::services::timeouts::invite_back_due(&state).await {
            Ok(0) => {}
            Ok(sent) => tracing::info!(sent, "couples invited back after a time-out"),
            Err(err) => {
                tracing::warn!(error = ?err, "could not invite couples back after a time-out")
            }
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
