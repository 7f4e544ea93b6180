use std::sync::Arc;

use trellis_core::Millis;
use trellis_store::Store;

use crate::content::Content;
use crate::mail::Mailer;
use crate::passwords::Passwords;
use crate::vault::Vault;

/// Settings the web layer needs; the binary builds them from file, env and flags.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Where people reach this Trellis, used in links sent by mail. No trailing slash.
    pub public_url: String,
    /// Mark cookies `Secure` and send HSTS: set when served over TLS.
    pub secure_cookies: bool,
    /// Trust the last `X-Forwarded-For` address (set when a reverse proxy
    /// is the only way in), for per-address sign-in throttling.
    pub behind_proxy: bool,
    /// Sign staff out after this long without activity.
    pub staff_idle_timeout: Millis,
    /// Sign partners out after this long without activity.
    pub partner_idle_timeout: Millis,
    /// An API token ends this long after sign-in, however active it was.
    pub api_token_lifetime: Millis,
    /// A request still unanswered after this long is given up with 503 (a
    /// live stream's answer starts at once, so streams are not cut).
    pub request_timeout: std::time::Duration,
    /// How long shared journal writing waits, readable by its author alone,
    /// so it can be taken back (milliseconds; 0: shared at once).
    pub share_undo: Millis,
    /// Requests worked on at once; more wait their turn in arrival order.
    /// Without it, under load every request competes for the database pool
    /// query by query, and one that needs many queries waits many times.
    pub concurrent_requests: usize,
    /// How long a session read from the database may be used again without
    /// reading it anew (see [`crate::sessions`]; zero: never).
    pub session_cache: std::time::Duration,
}

impl WebConfig {
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            secure_cookies: false,
            behind_proxy: false,
            staff_idle_timeout: 30 * trellis_core::time::MINUTE,
            partner_idle_timeout: 7 * trellis_core::time::DAY,
            api_token_lifetime: 30 * trellis_core::time::DAY,
            request_timeout: std::time::Duration::from_secs(30),
            share_undo: 60 * trellis_core::time::SECOND,
            concurrent_requests: 16,
            session_cache: std::time::Duration::from_secs(1),
        }
    }

    pub fn link(&self, path: &str) -> String {
        format!("{}{}", self.public_url, path)
    }
}

/// Everything a request handler may use; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
    clock: trellis_core::time::Clock,
}

struct Inner {
    store: Store,
    config: WebConfig,
    passwords: Passwords,
    mailer: Mailer,
    vault: Vault,
    content: Arc<Content>,
    pusher: Arc<crate::push::Pusher>,
    /// Permits for requests being worked on (`WebConfig::concurrent_requests`).
    admission: Arc<tokio::sync::Semaphore>,
    /// Talk ids with a new turn, for this process's live listeners.
    talk_turns: tokio::sync::broadcast::Sender<String>,
    /// Live streams open per person.
    streams: Arc<crate::streams::LiveStreams>,
    /// Sessions read recently ([`crate::sessions`]).
    sessions: crate::sessions::SessionCache,
}

impl AppState {
    pub fn new(
        store: Store,
        config: WebConfig,
        mailer: Mailer,
        vault: Vault,
        content: Arc<Content>,
        pusher: crate::push::Pusher,
    ) -> Self {
        let admission = Arc::new(tokio::sync::Semaphore::new(
            config.concurrent_requests.max(1),
        ));
        let sessions = crate::sessions::SessionCache::new(config.session_cache);
        Self {
            inner: Arc::new(Inner {
                sessions,
                store,
                config,
                passwords: Passwords::new(),
                mailer,
                vault,
                content,
                pusher: Arc::new(pusher),
                admission,
                talk_turns: tokio::sync::broadcast::channel(1024).0,
                streams: Arc::default(),
            }),
            clock: trellis_core::time::Clock::System,
        }
    }

    /// The same state reading time from `clock` (the demo writes its
    /// history at the times it describes; tests move time forward).
    pub fn with_clock(&self, clock: trellis_core::time::Clock) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            clock,
        }
    }

    /// The current time, from this state's clock: the one place the web
    /// layer reads the time.
    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn clock(&self) -> &trellis_core::time::Clock {
        &self.clock
    }

    pub fn content(&self) -> &Content {
        &self.inner.content
    }

    pub fn vault(&self) -> &Vault {
        &self.inner.vault
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    pub fn passwords(&self) -> &Passwords {
        &self.inner.passwords
    }

    pub fn streams(&self) -> &Arc<crate::streams::LiveStreams> {
        &self.inner.streams
    }

    /// Sessions read recently, to spare the database a read per request.
    pub fn sessions(&self) -> &crate::sessions::SessionCache {
        &self.inner.sessions
    }

    pub fn mailer(&self) -> &Mailer {
        &self.inner.mailer
    }

    /// Permits for requests being worked on.
    pub fn admission(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.inner.admission
    }

    /// Sends notices to people's devices (web push).
    pub fn pusher(&self) -> &Arc<crate::push::Pusher> {
        &self.inner.pusher
    }

    /// Tells this process's live listeners that a talk has a new turn.
    pub fn announce_turn(&self, talk_id: &str) {
        // No receiver (nobody listening) is fine.
        let _ = self.inner.talk_turns.send(talk_id.to_owned());
    }

    /// Talk ids as new turns arrive (here or, via the database, elsewhere).
    pub fn turn_announcements(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.inner.talk_turns.subscribe()
    }
}

/// The machine's time, for the few places that run outside any request's
/// state (key rotation in the vault); services use [`AppState::now`].
pub fn system_now() -> Millis {
    trellis_core::time::system_now()
}
