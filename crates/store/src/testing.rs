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

/// Creates an empty database with a unique name on the server behind
/// `server_url` and returns its URL.
pub async fn create_postgres_database(server_url: &str) -> Result<String> {
    let name = format!("trellis_test_{}", uuid::Uuid::now_v7().simple());
    let options = PgConnectOptions::from_str(server_url)?;
    let mut conn = options.connect().await?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
