//! Data keys (wrapped by a master key, with versions) and the generic reads
//! and compare-and-swap writes that re-seal stored text under another key
//! version or context.

use sqlx::Row;
use trellis_core::Millis;

use crate::db::Store;
use crate::error::Result;

/// The owner of the data key that seals intake requests to a practice.
pub fn practice_key_owner(practice_id: &str) -> String {
    format!("practice:{practice_id}")
}

/// The owner of the data key that seals account secrets (two-step secrets).
pub const SYSTEM_KEY_OWNER: &str = "system";

/// One version of one owner's data key, still wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKeyRow {
    pub owner: String,
    pub version: i64,
    pub master_key_id: String,
    pub wrapped: Vec<u8>,
    pub retired_at: Option<Millis>,
}

/// A stored sealed value: bytes in a BYTEA column, or base64 text in a TEXT
/// column (where a column could not change type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredSealed {
    Bytes(Vec<u8>),
    Text(String),
}

/// One sealed cell as read by a [`Store::sealed_cells`] query.
#[derive(Debug, Clone)]
pub struct SealedCell {
    pub owner: String,
    pub value: StoredSealed,
    /// The text columns after `owner` and `sealed`: the row's key and
    /// whatever its context binds.
    pub parts: Vec<String>,
}

fn key_from(row: &sqlx::any::AnyRow) -> Result<DataKeyRow> {
    Ok(DataKeyRow {
        owner: row.try_get("owner")?,
        version: row.try_get("version")?,
        master_key_id: row.try_get("master_key_id")?,
        wrapped: row.try_get("wrapped")?,
        retired_at: row.try_get("retired_at")?,
    })
}

const KEY_COLUMNS: &str = "owner, version, master_key_id, wrapped, retired_at";

impl Store {
    /// One version of an owner's data key.
    #[tracing::instrument(skip(self))]
    pub async fn data_key(&self, owner: &str, version: i64) -> Result<Option<DataKeyRow>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM data_keys WHERE owner = $1 AND version = $2");
        let row = sqlx::query(&sql)
            .bind(owner)
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_from).transpose()
    }

    /// The newest version of an owner's data key (the one new text is sealed with).
    #[tracing::instrument(skip(self))]
    pub async fn current_data_key(&self, owner: &str) -> Result<Option<DataKeyRow>> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM data_keys WHERE owner = $1 ORDER BY version DESC LIMIT 1"
        );
        let row = sqlx::query(&sql)
            .bind(owner)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(key_from).transpose()
    }

    /// Stores a version of an owner's key unless one is there already (then
    /// the stored one wins, so there is never two of one version).
    #[tracing::instrument(skip(self, wrapped))]
    pub async fn insert_data_key(
        &self,
        owner: &str,
        version: i64,
        master_key_id: &str,
        wrapped: &[u8],
        now: Millis,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO data_keys (owner, version, master_key_id, wrapped, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (owner, version) DO NOTHING",
        )
        .bind(owner)
        .bind(version)
        .bind(master_key_id)
        .bind(wrapped)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every data key version of every owner.
    pub async fn all_data_keys(&self) -> Result<Vec<DataKeyRow>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM data_keys ORDER BY owner, version");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(key_from).collect()
    }

    /// Every couple's data key versions: `(couple id, master key id, wrapped)`.
    pub async fn all_couple_keys(&self) -> Result<Vec<(String, String, Vec<u8>)>> {
        Ok(self
            .all_data_keys()
            .await?
            .into_iter()
            .filter(|k| k.owner != SYSTEM_KEY_OWNER && !k.owner.contains(':'))
            .map(|k| (k.owner, k.master_key_id, k.wrapped))
            .collect())
    }

    /// Replaces one wrapping, only if it is still the one that was read.
    pub async fn rewrap_data_key(
        &self,
        key: &DataKeyRow,
        new_master_key_id: &str,
        wrapped: &[u8],
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE data_keys SET master_key_id = $1, wrapped = $2 \
             WHERE owner = $3 AND version = $4 AND master_key_id = $5 AND wrapped = $6",
        )
        .bind(new_master_key_id)
        .bind(wrapped)
        .bind(&key.owner)
        .bind(key.version)
        .bind(&key.master_key_id)
        .bind(&key.wrapped)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks every version of `owner` below `version` as retired (kept for
    /// reading until nothing uses it).
    pub async fn retire_data_keys_below(
        &self,
        owner: &str,
        version: i64,
        now: Millis,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE data_keys SET retired_at = $1 WHERE owner = $2 AND version < $3 AND retired_at IS NULL",
        )
        .bind(now)
        .bind(owner)
        .bind(version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Drops a retired key version (callers check nothing uses it).
    pub async fn drop_data_key(&self, owner: &str, version: i64) -> Result<()> {
        sqlx::query(
            "DELETE FROM data_keys WHERE owner = $1 AND version = $2 AND retired_at IS NOT NULL",
        )
        .bind(owner)
        .bind(version)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// After values were sealed in place: on SQLite, rewrites the file so no
    /// free page keeps the clear text, and empties the write-ahead log.
    /// (PostgreSQL's own VACUUM reclaims old row versions in time.)
    pub async fn scrub(&self) -> Result<()> {
        if self.backend() == crate::db::Backend::Sqlite {
            sqlx::query("VACUUM").execute(&self.pool).await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Runs a query whose columns are `owner`, `sealed` and then any number
    /// of text columns. The SQL comes from a fixed list in the vault, never
    /// from input.
    pub async fn sealed_cells(&self, sql: &str, text: bool) -> Result<Vec<SealedCell>> {
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let value = if text {
                    StoredSealed::Text(row.try_get(1)?)
                } else {
                    StoredSealed::Bytes(row.try_get(1)?)
                };
                let parts = (2..row.len())
                    .map(|i| row.try_get::<String, _>(i))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                Ok(SealedCell {
                    owner: row.try_get(0)?,
                    value,
                    parts,
                })
            })
            .collect()
    }

    /// Runs an update that sets `$1` (the new sealed value) where the row's
    /// key is `$2`.. and the sealed column still holds `old` (the last bind),
    /// so a value written meanwhile is never overwritten.
    pub async fn replace_sealed_cell(
        &self,
        sql: &str,
        new: &StoredSealed,
        keys: &[String],
        old: &StoredSealed,
    ) -> Result<bool> {
        let mut query = sqlx::query(sql);
        query = match new {
            StoredSealed::Bytes(b) => query.bind(b.clone()),
            StoredSealed::Text(t) => query.bind(t.clone()),
        };
        for key in keys {
            query = query.bind(key.clone());
        }
        query = match old {
            StoredSealed::Bytes(b) => query.bind(b.clone()),
            StoredSealed::Text(t) => query.bind(t.clone()),
        };
        Ok(query.execute(&self.pool).await?.rows_affected() == 1)
    }
}
