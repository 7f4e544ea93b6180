//! Connecting, configuring and migrating either backend.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::error::Result;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// Kept for LISTEN connections (PostgreSQL); may hold a password, never printed.
    url: std::sync::Arc<str>,
    /// Ticks whenever sessions end here, so live streams look again at once.
    sessions_ended: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Store {
    /// Connects and runs pending migrations.
    #[tracing::instrument(skip(url), fields(backend))]
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url).ok_or_else(|| {
            crate::StoreError::Corrupt(
                "database URL must start with sqlite: or postgres:".to_owned(),
            )
        })?;
        tracing::Span::current().record("backend", tracing::field::debug(backend));
        let options = AnyConnectOptions::from_str(url)?;
        let pool = match backend {
            Backend::Sqlite => {
                // WAL lets readers and the one writer proceed together; the busy
                // timeout makes writers queue instead of failing under load.
                AnyPoolOptions::new()
                    .max_connections(8)
                    // An embedded file cannot drop a connection the way a
                    // server can, and the check before each use costs a
                    // round trip to the connection's thread on every query
                    // (a fifth of a signed-in request's time).
                    .test_before_acquire(false)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                                 PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };
        MIGRATOR.run(&pool).await?;
        let store = Store {
            pool,
            backend,
            url: url.into(),
            sessions_ended: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
        };
        store
            .guard_closed_sets(trellis_core::time::system_now())
            .await?;
        Ok(store)
    }

    /// A transaction that writes. On SQLite it takes the write lock at its
    /// start (`BEGIN IMMEDIATE`): a deferred transaction that reads and then
    /// writes fails at once with "database is locked" when another
    /// connection wrote in between (its snapshot is stale, so SQLite cannot
    /// make it wait), which reached people as a 500 under concurrent writes;
    /// this one waits its turn (`busy_timeout`) instead.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// The URL of a SQLite database file inside a data directory.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }

    /// Ticks each time sessions end through this store (sign-out, password
    /// change or reset, account deletion). Other instances' streams notice
    /// on their next regular look.
    pub fn session_endings(&self) -> tokio::sync::watch::Receiver<u64> {
        self.sessions_ended.subscribe()
    }

    /// How many times sessions have ended through this store (see
    /// [`Store::session_endings`]): a cache of sessions is stale once it moved.
    pub fn sessions_ended_count(&self) -> u64 {
        *self.sessions_ended.borrow()
    }

    pub(crate) fn sessions_ended(&self) {
        self.sessions_ended
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Connections in the pool, and how many of them are idle (for the
    /// metrics).
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// True when nobody has an account yet: first run, or a new demo.
    #[tracing::instrument(skip(self))]
    pub async fn is_empty(&self) -> Result<bool> {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(count == 0)
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Store {
    /// The version at which the named one-off maintenance was last done.
    pub async fn maintenance_done(&self, name: &str) -> crate::error::Result<Option<i64>> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT version FROM maintenance WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(v,)| v))
    }

    /// Records that the named maintenance is done at `version`.
    pub async fn record_maintenance(
        &self,
        name: &str,
        version: i64,
        now: trellis_core::Millis,
    ) -> crate::error::Result<()> {
        sqlx::query(
            "INSERT INTO maintenance (name, version, done_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET version = $2, done_at = $3",
        )
        .bind(name)
        .bind(version)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transaction that reads and then writes, while another connection
    /// writes in between, commits (the other waits its turn) instead of
    /// failing with "database is locked".
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_write_transaction_survives_a_writer_in_between_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Store::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        let mut tx = store.write_tx().await.unwrap();
        let (_,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM maintenance")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let pool = store.pool.clone();
        let other = tokio::spawn(async move {
            sqlx::query("INSERT INTO maintenance (name, version, done_at) VALUES ('other', 1, 0)")
                .execute(&pool)
                .await
        });
        // give the other writer time to try (it must wait for us)
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        sqlx::query("INSERT INTO maintenance (name, version, done_at) VALUES ('ours', 1, 0)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        other.await.unwrap().unwrap();
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM maintenance WHERE name IN ('other', 'ours')")
                .fetch_one(&store.pool)
                .await
                .unwrap();
        assert_eq!(count, 2);
    }
}
