//! Configuration: defaults, then `trellis.toml`, then `TRELLIS_*` environment
//! variables, then command-line flags. Secrets can also come from files
//! (`TRELLIS_DATABASE_URL_FILE`, `TRELLIS_SMTP_URL_FILE`), as container
//! secrets usually do. Secrets are never logged.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address and port to listen on.
    pub bind: SocketAddr,
    /// Where the SQLite database, the mail outbox and keys live.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; unset for the SQLite file in `data_dir`.
    pub database_url: Option<String>,
    pub database_url_file: Option<PathBuf>,
    /// The address people use to reach Trellis, for links in mail.
    /// Defaults to `http://<bind>`.
    pub public_url: Option<String>,
    /// Set when Trellis is served over HTTPS (directly or behind a proxy).
    pub secure_cookies: bool,
    /// Set when a reverse proxy is the only way in: its `X-Forwarded-For`
    /// then names the client (for per-address sign-in throttling).
    pub behind_proxy: bool,
    /// `smtp://user:pass@host:587?tls=required`; unset writes mail to `<data_dir>/outbox`.
    pub smtp_url: Option<String>,
    pub smtp_url_file: Option<PathBuf>,
    /// The master keyring that seals every couple's data key. Defaults to
    /// `<data_dir>/master.key`, created (0600) on first start. Instances
    /// sharing one database must share this file.
    pub master_key_file: Option<PathBuf>,
    /// The key web push notices are signed with (VAPID). Defaults to
    /// `<data_dir>/vapid.key`, created (0600) on first start; instances
    /// sharing one database must share it, as they share the master key.
    pub push_key_file: Option<PathBuf>,
    /// Accept push addresses on this machine or its network (plain http,
    /// private addresses). Only for tests with a local push service: in
    /// production it would let anyone signed in make Trellis post inward.
    pub push_allow_local_endpoints: bool,
    /// A practice's own program content (same layout as `content/`): files
    /// here replace the built-in ones with the same path, new programs add.
    pub content_dir: Option<PathBuf>,
    /// The sender of Trellis's mail.
    pub mail_from: String,
    /// Sign staff out after this many idle minutes.
    pub staff_idle_minutes: u32,
    /// Sign partners out after this many idle days.
    pub partner_idle_days: u32,
    /// API tokens end this many days after sign-in, however active.
    pub api_token_days: u32,
    /// How often to look for session reminders that have fallen due, and
    /// for mail waiting in the outbox for a retry.
    pub reminder_check_seconds: u64,
    /// How often to mail partners whose check-in is ready (each at most
    /// weekly); the first sweep runs this long after start.
    pub checkin_sweep_minutes: u64,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Close a connection whose request headers have not all arrived this
    /// many seconds after it opened or its last answer (idle keep-alive
    /// connections end the same way).
    pub header_timeout_seconds: u64,
    /// Refuse (408) a request whose body stops arriving for this many seconds.
    /// Live streams of talks send, they do not receive, and are not affected.
    pub body_timeout_seconds: u64,
    /// Serve at most this many connections at once; more wait to be
    /// accepted until one closes. Keep it below the open-file limit.
    pub max_connections: usize,
    /// Work on at most this many requests at once; the others wait their
    /// turn (health checks and static files never wait).
    pub concurrent_requests: usize,
    /// Give up (503) on a request still unanswered after this many seconds.
    pub request_timeout_seconds: u64,
    /// Where to serve `GET /metrics` (Prometheus text format); unset: no
    /// metrics address. Keep it private: never the public address.
    pub metrics_bind: Option<SocketAddr>,
    /// Shared journal writing waits this many seconds, readable by its
    /// author alone, so it can be undone (0: shared at once).
    pub share_undo_seconds: u64,
    /// Use a session read from the database for up to this many
    /// milliseconds without reading it again (0: always read). Changes made
    /// on this instance take effect at once; on other instances a signed-out
    /// token is honoured for at most this long.
    pub session_cache_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./trellis-data"),
            database_url: None,
            database_url_file: None,
            public_url: None,
            secure_cookies: false,
            behind_proxy: false,
            smtp_url: None,
            smtp_url_file: None,
            master_key_file: None,
            push_key_file: None,
            push_allow_local_endpoints: false,
            content_dir: None,
            mail_from: "Trellis <trellis@localhost>".to_owned(),
            staff_idle_minutes: 30,
            partner_idle_days: 7,
            api_token_days: 30,
            reminder_check_seconds: 60,
            checkin_sweep_minutes: 60,
            log_format: "text".to_owned(),
            header_timeout_seconds: 30,
            body_timeout_seconds: 60,
            max_connections: 512,
            concurrent_requests: 16,
            request_timeout_seconds: 30,
            metrics_bind: None,
            share_undo_seconds: 60,
            session_cache_ms: 1_000,
        }
    }
}

/// Shown in logs: everything but secrets.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database_kind())
            .field("public_url", &self.public_url)
            .field("secure_cookies", &self.secure_cookies)
            .field("smtp", &self.smtp_url.as_ref().map(|_| "configured"))
            .field("master_key_file", &self.master_key_file())
            .field("push_key_file", &self.push_key_file())
            .field(
                "push_allow_local_endpoints",
                &self.push_allow_local_endpoints,
            )
            .field("staff_idle_minutes", &self.staff_idle_minutes)
            .field("partner_idle_days", &self.partner_idle_days)
            .field("api_token_days", &self.api_token_days)
            .field("header_timeout_seconds", &self.header_timeout_seconds)
            .field("body_timeout_seconds", &self.body_timeout_seconds)
            .field("max_connections", &self.max_connections)
            .field("concurrent_requests", &self.concurrent_requests)
            .field("request_timeout_seconds", &self.request_timeout_seconds)
            .field("metrics_bind", &self.metrics_bind)
            .field("share_undo_seconds", &self.share_undo_seconds)
            .field("session_cache_ms", &self.session_cache_ms)
            .finish()
    }
}

/// What the command line may override.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub bind: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

impl Config {
    /// Loads configuration from the optional file (default `trellis.toml` in
    /// the working directory, if present) and the environment.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "the configuration file {} does not exist",
                    path.display()
                );
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("trellis.toml")),
        }
        figment = figment.merge(Env::prefixed("TRELLIS_").ignore(&["test_database_url"]));
        let mut config: Config = figment
            .extract()
            .context("the configuration is not valid")?;
        if let Some(bind) = overrides.bind {
            config.bind = bind;
        }
        if let Some(data_dir) = overrides.data_dir {
            config.data_dir = data_dir;
        }
        config.database_url = secret(
            config.database_url.take(),
            config.database_url_file.as_deref(),
        )?;
        config.smtp_url = secret(config.smtp_url.take(), config.smtp_url_file.as_deref())?;
        Ok(config)
    }

    /// The data directory made if need be, and the database opened (and
    /// migrated).
    pub async fn open_store(&self) -> anyhow::Result<trellis_store::Store> {
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!(
                "could not create the data directory {}",
                self.data_dir.display()
            )
        })?;
        trellis_store::Store::open(&self.database_url())
            .await
            .context("could not open the database")
    }

    /// The database to use: the configured URL, or the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => trellis_store::Store::sqlite_url(&self.data_dir.join("trellis.db")),
        }
    }

    fn database_kind(&self) -> &'static str {
        match &self.database_url {
            Some(url) if url.starts_with("postgres") => "postgresql",
            Some(_) => "custom",
            None => "sqlite (data dir)",
        }
    }

    pub fn master_key_file(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    pub fn push_key_file(&self) -> PathBuf {
        self.push_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("vapid.key"))
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
    }
}

/// A secret given directly, or read from a file (trailing newline removed).
fn secret(direct: Option<String>, file: Option<&Path>) -> anyhow::Result<Option<String>> {
    match (direct, file) {
        (Some(value), _) => Ok(Some(value)),
        (None, Some(path)) => {
            let value = std::fs::read_to_string(path)
                .with_context(|| format!("could not read the secret file {}", path.display()))?;
            Ok(Some(value.trim_end_matches(['\n', '\r']).to_owned()))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_from_files_lose_their_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        std::fs::write(&path, "postgres://u:p@h/db\n").unwrap();
        assert_eq!(
            secret(None, Some(&path)).unwrap().as_deref(),
            Some("postgres://u:p@h/db")
        );
        assert_eq!(
            secret(Some("direct".into()), Some(&path))
                .unwrap()
                .as_deref(),
            Some("direct")
        );
        assert!(secret(None, Some(&dir.path().join("missing"))).is_err());
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let config = Config {
            database_url: Some("postgres://user:hunter2@db/trellis".into()),
            smtp_url: Some("smtp://me:swordfish@mail".into()),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"));
        assert!(!shown.contains("swordfish"));
    }

    #[test]
    fn the_sqlite_file_lives_in_the_data_dir() {
        let config = Config {
            data_dir: PathBuf::from("/srv/trellis"),
            ..Config::default()
        };
        assert_eq!(
            config.database_url(),
            "sqlite:///srv/trellis/trellis.db?mode=rwc"
        );
    }

    #[test]
    fn a_missing_config_file_named_explicitly_is_an_error() {
        assert!(
            Config::load(
                Some(Path::new("/nonexistent/trellis.toml")),
                Overrides::default()
            )
            .is_err()
        );
    }
}
