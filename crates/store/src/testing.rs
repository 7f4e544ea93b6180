//! Fresh, isolated databases for tests: a SQLite file in a temporary
//! directory, or a new database on the PostgreSQL server named by
//! `TRELLIS_TEST_DATABASE_URL`.

use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::postgres::PgConnectOptions;

use crate::error::Result;

/// The environment variable that enables PostgreSQL tests.
pub const POSTGRES_ENV: &str = "TRELLIS_TEST_DATABASE_URL";

/// The PostgreSQL server URL for tests, if one is configured.
pub fn postgres_server_url() -> Option<String> {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|url| !url.trim().is_empty())
}

/// Test databases older than this are dropped when a new one is made: no
/// test runs this long, and a developer's server would otherwise keep every
/// database every run ever made (about 200 a run, 10 MB each) until the disk
/// fills, as it did twice at six hours. A database still in use cannot be
/// dropped (PostgreSQL refuses while it has connections), so a long test is
/// never pulled from under itself.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Creates an empty database with a unique name on the server behind
/// `server_url` and returns its URL. Test databases left from runs more
/// than [`STALE_AFTER`] ago are dropped first (their names are UUIDv7s,
/// which carry their creation time).
pub async fn create_postgres_database(server_url: &str) -> Result<String> {
    let name = format!("trellis_test_{}", uuid::Uuid::now_v7().simple());
    let options = PgConnectOptions::from_str(server_url)?;
    let mut conn = options.connect().await?;
    let existing: Vec<(String,)> =
        sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'trellis\\_test\\_%'")
            .fetch_all(&mut conn)
            .await?;
    let now = std::time::SystemTime::now();
    for (stale,) in existing {
        if is_stale(&stale, now) {
            // another process may be dropping it too: either way it goes
            let _ = sqlx::Executor::execute(
                &mut conn,
                format!("DROP DATABASE IF EXISTS {stale}").as_str(),
            )
            .await;
        }
    }
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await?;
    let mut url = url_without_database(server_url);
    url.push('/');
    url.push_str(&name);
    Ok(url)
}

/// Brings an empty database to the schema as it was before migration
/// `version`, so a test can write data in an old shape and watch the later
/// migrations carry it forward (opening a [`crate::Store`] runs the rest).
pub async fn migrate_before(url: &str, version: i64) -> Result<()> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await?;
    let earlier = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(
            crate::db::MIGRATOR
                .iter()
                .filter(|m| m.version < version)
                .cloned()
                .collect(),
        ),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    earlier.run(&pool).await?;
    pool.close().await;
    Ok(())
}

/// Whether a test database's name says it was made more than
/// [`STALE_AFTER`] before `now` (names that are not ours are never stale).
fn is_stale(name: &str, now: std::time::SystemTime) -> bool {
    let Some(made) = name
        .strip_prefix("trellis_test_")
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .and_then(|id| id.get_timestamp())
    else {
        return false;
    };
    let (secs, nanos) = made.to_unix();
    let made = std::time::UNIX_EPOCH + std::time::Duration::new(secs, nanos);
    now.duration_since(made).is_ok_and(|age| age > STALE_AFTER)
}

/// `postgres://user@host:port/db?x` → `postgres://user@host:port` (query dropped).
fn url_without_database(url: &str) -> String {
    let without_query = url.split('?').next().unwrap_or(url);
    let scheme_end = without_query.find("://").map_or(0, |i| i + 3);
    match without_query[scheme_end..].find('/') {
        Some(slash) => without_query[..scheme_end + slash].to_owned(),
        None => without_query.to_owned(),
    }
}

/// Moves an entry back in time, as if it was written and shared at `at`
/// (tests of what "since the last session" and history views show). The
/// product itself never rewrites time: the demo writes its history through
/// a manual clock.
pub async fn backdate_entry(store: &crate::Store, entry_id: &str, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE entries SET created_at = $1, updated_at = $1, visible_from = $1 WHERE id = $2",
    )
    .bind(at)
    .bind(entry_id)
    .execute(&store.pool)
    .await?;
    Ok(())
}

/// Moves a check-in back in time (tests of trends over weeks).
pub async fn backdate_measure(store: &crate::Store, id: &str, at: i64) -> Result<()> {
    sqlx::query("UPDATE measures SET created_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(&store.pool)
        .await?;
    Ok(())
}

/// Runs one statement as it is (tests of what the database itself refuses).
pub async fn execute(store: &crate::Store, sql: &str) -> Result<u64> {
    Ok(sqlx::query(sql).execute(&store.pool).await?.rows_affected())
}

/// The names of the guards (constraints on PostgreSQL, triggers on SQLite)
/// that [`crate::closed_columns`] put in the catalogue.
pub async fn closed_set_guards(store: &crate::Store) -> Result<Vec<String>> {
    Ok(store.closed_set_guards().await?.into_iter().collect())
}

/// The same database opened again, as a restart (or another instance) would.
pub async fn reopen(store: &crate::Store) -> Result<crate::Store> {
    crate::Store::open(store.url()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_old_test_databases_are_stale() {
        let at = |secs_ago: u64| {
            let made = std::time::SystemTime::now() - std::time::Duration::from_secs(secs_ago);
            let since = made.duration_since(std::time::UNIX_EPOCH).unwrap();
            let ts =
                uuid::Timestamp::from_unix(uuid::NoContext, since.as_secs(), since.subsec_nanos());
            format!("trellis_test_{}", uuid::Uuid::new_v7(ts).simple())
        };
        let now = std::time::SystemTime::now();
        assert!(is_stale(&at(7 * 3600), now));
        assert!(is_stale(&at(31 * 60), now));
        assert!(!is_stale(&at(60), now), "a run going on now");
        assert!(!is_stale("trellis_test_not_a_uuid", now));
        assert!(!is_stale("postgres", now));
        assert!(!is_stale(
            &at(7 * 3600).replace("trellis_test_", "trellis_"),
            now
        ));
    }

    #[test]
    fn the_database_name_is_cut_from_server_urls() {
        assert_eq!(
            url_without_database("postgres://postgres@127.0.0.1:5433/trellis_test"),
            "postgres://postgres@127.0.0.1:5433"
        );
        assert_eq!(
            url_without_database("postgres://u:p@h/db?sslmode=disable"),
            "postgres://u:p@h"
        );
        assert_eq!(
            url_without_database("postgres://h:5432"),
            "postgres://h:5432"
        );
    }
}
