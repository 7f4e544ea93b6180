//! A short-lived, in-process cache of open sessions, so that a signed-in
//! request does not wait on the database just to learn who is asking.
//!
//! Sessions live in the database so that any instance can serve any
//! request; this cache only spares repeated reads of the same session.
//! It is never the authority on its own:
//!
//! - an entry is used for at most `ttl` (one second by default), measured on
//!   the machine's monotonic clock, and never past the session's own end
//!   (idle timeout, an API token's absolute lifetime) read from the app clock;
//! - every request that may change something (any method but `GET`, `HEAD`
//!   and `OPTIONS`) empties it once it has been answered (or given up: timed
//!   out, or failed), and every session ending through the store (sign-out,
//!   password change, account deletion) makes its entries stale, so on the
//!   instance where a change happens it takes effect by the time the request
//!   that made it is answered;
//! - a read that began before such a change never stores what it read (a
//!   generation number moves with each emptying).
//!
//! On *other* instances, a signed-out token or a changed membership is
//! therefore honoured for at most `ttl` more. `session_cache_ms = 0` turns
//! the cache off for deployments that cannot accept even that.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use trellis_core::Millis;
use trellis_store::{LiveSession, SessionKind, User};

/// Entries kept at most; past it the cache starts again empty (a burst of
/// distinct tokens costs reads, never memory).
const MAX_ENTRIES: usize = 10_000;

pub struct SessionCache {
    ttl: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Moves each time the cache is emptied.
    generation: u64,
    entries: HashMap<String, Entry>,
}

struct Entry {
    kind: SessionKind,
    session: LiveSession,
    read_at: Instant,
    /// The store's count of ended sessions when this was read.
    endings: u64,
}

/// Where a read stands, taken before it goes to the database.
#[derive(Debug, Clone, Copy)]
pub struct ReadStart {
    generation: u64,
    endings: u64,
    /// An entry's age counts from here, so a slow read does not lengthen it.
    at: Instant,
}

impl SessionCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // a panic while holding the lock leaves nothing half-written that
        // matters: an entry is either in the map or not
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The person behind a session read less than `ttl` ago, if it has not
    /// ended since. `endings` is the store's current count of ended sessions.
    pub fn get(
        &self,
        token_hash: &str,
        kind: SessionKind,
        now: Millis,
        max_age: Option<Millis>,
        endings: u64,
    ) -> Option<User> {
        if self.ttl.is_zero() {
            return None;
        }
        let inner = self.lock();
        let entry = inner.entries.get(token_hash)?;
        let fresh = entry.kind == kind
            && entry.endings == endings
            && entry.read_at.elapsed() < self.ttl
            && now < entry.session.expires_at
            && max_age.is_none_or(|age| now < entry.session.created_at.saturating_add(age));
        fresh.then(|| entry.session.user.clone())
    }

    /// Call before reading a session from the database.
    pub fn start_read(&self, endings: u64) -> ReadStart {
        ReadStart {
            generation: self.lock().generation,
            endings,
            at: Instant::now(),
        }
    }

    /// Keeps what a read found, unless the cache was emptied since it began.
    pub fn put(&self, start: ReadStart, token_hash: &str, kind: SessionKind, session: LiveSession) {
        if self.ttl.is_zero() {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != start.generation {
            return;
        }
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(
            token_hash.to_owned(),
            Entry {
                kind,
                session,
                read_at: start.at,
                endings: start.endings,
            },
        );
    }

    /// Forgets every session: something may have changed who is signed in,
    /// or as whom.
    pub fn forget_all(&self) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trellis_core::{Role, UserId};

    fn session(expires_at: Millis, created_at: Millis) -> LiveSession {
        LiveSession {
            user: User {
                id: UserId::new("u1"),
                email: "ann@example.com".to_owned(),
                name: "Ann".to_owned(),
                role: Role::Partner,
                practice_id: None,
                couple_id: None,
                link_code: None,
                two_factor: false,
                active: true,
                created_at: 0,
            },
            expires_at,
            created_at,
        }
    }

    #[test]
    fn an_entry_serves_until_its_session_ends_or_anything_changes() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let start = cache.start_read(0);
        cache.put(start, "h", SessionKind::Api, session(1_000, 0));
        assert!(cache.get("h", SessionKind::Api, 10, None, 0).is_some());
        // another kind of session with the same secret is not this one
        assert!(cache.get("h", SessionKind::Web, 10, None, 0).is_none());
        // the session's own end, by idle timeout or absolute lifetime
        assert!(cache.get("h", SessionKind::Api, 1_000, None, 0).is_none());
        assert!(cache.get("h", SessionKind::Api, 10, Some(10), 0).is_none());
        // a session ended through the store
        assert!(cache.get("h", SessionKind::Api, 10, None, 1).is_none());
        // a change on this instance
        cache.forget_all();
        assert!(cache.get("h", SessionKind::Api, 10, None, 0).is_none());
    }

    #[test]
    fn a_read_begun_before_a_change_is_not_kept() {
        let cache = SessionCache::new(Duration::from_secs(60));
        let start = cache.start_read(0);
        cache.forget_all();
        cache.put(start, "h", SessionKind::Api, session(1_000, 0));
        assert!(cache.get("h", SessionKind::Api, 10, None, 0).is_none());
    }

    #[test]
    fn entries_expire_and_a_zero_ttl_keeps_nothing() {
        let cache = SessionCache::new(Duration::from_millis(1));
        cache.put(
            cache.start_read(0),
            "h",
            SessionKind::Api,
            session(1_000, 0),
        );
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get("h", SessionKind::Api, 10, None, 0).is_none());
        let off = SessionCache::new(Duration::ZERO);
        off.put(off.start_read(0), "h", SessionKind::Api, session(1_000, 0));
        assert!(off.get("h", SessionKind::Api, 10, None, 0).is_none());
    }
}
