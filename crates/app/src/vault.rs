//! Sealing and opening what is kept encrypted at rest, with each owner's
//! data key: a couple's key for their writing, `practice:<id>` for intake
//! requests, `system` for two-step secrets.
//!
//! Data keys have versions. Sealed text names the version that sealed it;
//! new text is always sealed with the newest version (read from the
//! database each time, so a rotation elsewhere takes effect at once). Text
//! sealed before versions existed is read as version 1 with its old
//! context (see [`legacy_context`]).
//!
//! Data keys are unwrapped once and kept in memory. When a wrapping names a
//! master key this process does not know (another process rotated the
//! keyring), the keyring file is read again, so reads keep working across a
//! rotation without a restart.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use trellis_crypto::{DataKey, EnvelopeError, Keyring, Unwrapped, WrappedKey, sealed_version};
use trellis_store::{DataKeyRow, SealedCell, Store, StoredSealed};

use crate::state::system_now as now;

/// Sealed values kept in TEXT columns start with this, then base64.
pub const SEALED_TEXT_PREFIX: &str = "trellis-sealed:";

/// The part of a context that text sealed before versions existed was bound
/// to: everything before the first `|`. What follows (`|couple=..`) is bound
/// only from the versioned format on.
pub fn legacy_context(context: &str) -> &str {
    context.split('|').next().unwrap_or(context)
}

/// The context of a piece of client writing: its id, couple, author,
/// audience and addressee, so changing any of them in the database makes it
/// unreadable instead of showing it to someone else.
pub fn entry_context(
    id: &str,
    couple_id: &str,
    author_id: &str,
    audience: &str,
    addressed_to: Option<&str>,
) -> String {
    format!(
        "entry:{id}|couple={couple_id}|author={author_id}|audience={audience}|to={}",
        addressed_to.unwrap_or("")
    )
}

/// Sealed text that does not open with its key and context: damaged, or
/// changed in the database (moved to another row, couple, author or audience).
#[derive(Debug, thiserror::Error)]
#[error("sealed text could not be opened ({context})")]
pub struct Unreadable {
    pub context: String,
}

pub struct Vault {
    keyring: RwLock<Keyring>,
    keyring_path: Option<PathBuf>,
    data_keys: Mutex<HashMap<(String, i64), DataKey>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("keyring_path", &self.keyring_path)
            .finish()
    }
}

impl Vault {
    /// A vault over the keyring file at `path` (created 0600 if missing).
    pub fn from_keyring_file(path: PathBuf) -> anyhow::Result<Self> {
        let keyring = Keyring::load_or_create(&path)
            .with_context(|| format!("could not load the master key file {}", path.display()))?;
        Ok(Self {
            keyring: RwLock::new(keyring),
            keyring_path: Some(path),
            data_keys: Mutex::new(HashMap::new()),
        })
    }

    /// A vault with a key that lives only in memory (tests of other layers).
    pub fn in_memory() -> Self {
        Self {
            keyring: RwLock::new(Keyring::generate()),
            keyring_path: None,
            data_keys: Mutex::new(HashMap::new()),
        }
    }

    fn keyring(&self) -> Keyring {
        match self.keyring.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// A tag proving this server made `message` for `purpose`.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        self.keyring().sign(purpose, message)
    }

    /// Checks a tag made by [`Vault::sign`] (here or by another instance
    /// sharing the master key file).
    pub fn verify(&self, purpose: &str, message: &str, tag: &str) -> bool {
        self.keyring().verify(purpose, message, tag)
    }

    fn unwrap_key(&self, wrapped: &WrappedKey) -> anyhow::Result<Unwrapped> {
        match self.keyring().unwrap_checked(wrapped) {
            Err(EnvelopeError::UnknownMasterKey(id)) => {
                let path = self
                    .keyring_path
                    .as_ref()
                    .with_context(|| format!("master key {id} is unknown"))?;
                let reloaded =
                    Keyring::load(path).context("could not reload the master key file")?;
                let key = reloaded
                    .unwrap_checked(wrapped)
                    .context("the data key does not open with any master key")?;
                if let Ok(mut guard) = self.keyring.write() {
                    *guard = reloaded;
                }
                tracing::info!("master keyring reloaded after a rotation");
                Ok(key)
            }
            other => other.context("the data key does not open"),
        }
    }

    /// Opens a stored key version; a wrapping in the legacy form (the raw
    /// master key) is re-wrapped with the derived wrapping key on the way.
    async fn open_row(&self, store: &Store, row: &DataKeyRow) -> anyhow::Result<DataKey> {
        let opened = self.unwrap_key(&WrappedKey {
            master_key_id: row.master_key_id.clone(),
            sealed: row.wrapped.clone(),
        })?;
        if opened.legacy {
            let wrapped = self.keyring().wrap(&opened.key);
            if store
                .rewrap_data_key(row, &wrapped.master_key_id, &wrapped.sealed)
                .await?
            {
                tracing::info!(owner = %row.owner, version = row.version, "data key re-wrapped with the derived wrapping key");
            }
        }
        Ok(opened.key)
    }

    /// One version of an owner's key, `None` when there is no such version.
    async fn key_version(
        &self,
        store: &Store,
        owner: &str,
        version: i64,
    ) -> anyhow::Result<Option<DataKey>> {
        let cache_key = (owner.to_owned(), version);
        if let Some(key) = self
            .data_keys
            .lock()
            .ok()
            .and_then(|keys| keys.get(&cache_key).cloned())
        {
            return Ok(Some(key));
        }
        let Some(row) = store.data_key(owner, version).await? else {
            return Ok(None);
        };
        let key = self.open_row(store, &row).await?;
        if let Ok(mut keys) = self.data_keys.lock() {
            keys.insert(cache_key, key.clone());
        }
        Ok(Some(key))
    }

    /// The owner's newest key and its version, created on first use.
    async fn current_key(&self, store: &Store, owner: &str) -> anyhow::Result<(i64, DataKey)> {
        let row = match store.current_data_key(owner).await? {
            Some(row) => row,
            None => {
                let wrapped = self.keyring().wrap(&DataKey::generate());
                // If another request stored one first, that one wins.
                store
                    .insert_data_key(owner, 1, &wrapped.master_key_id, &wrapped.sealed, now())
                    .await?;
                store
                    .current_data_key(owner)
                    .await?
                    .context("the new data key was not stored")?
            }
        };
        let key = self
            .key_version(store, owner, row.version)
            .await?
            .context("the current data key vanished")?;
        Ok((row.version, key))
    }

    /// A new data key for an owner that has none yet, and the row that
    /// stores it wrapped (`master_key_id`, `wrapped`), as version 1: for
    /// loading many couples at once. Seal with [`Vault::seal_fresh`].
    pub fn fresh_data_key(&self) -> (DataKey, String, Vec<u8>) {
        let key = DataKey::generate();
        let wrapped = self.keyring().wrap(&key);
        (key, wrapped.master_key_id, wrapped.sealed)
    }

    /// Seals with a key from [`Vault::fresh_data_key`], exactly as
    /// [`Vault::seal`] would once that key is stored.
    pub fn seal_fresh(key: &DataKey, text: &str, context: &str) -> Vec<u8> {
        key.seal_versioned(1, text, context)
    }

    /// The couple's current data key, created on first use.
    pub async fn data_key(&self, store: &Store, couple_id: &str) -> anyhow::Result<DataKey> {
        Ok(self.current_key(store, couple_id).await?.1)
    }

    /// Seals text with the owner's current key, bound to `context`.
    pub async fn seal(
        &self,
        store: &Store,
        owner: &str,
        text: &str,
        context: &str,
    ) -> anyhow::Result<Vec<u8>> {
        let (version, key) = self.current_key(store, owner).await?;
        let version = u32::try_from(version).context("data key version out of range")?;
        Ok(key.seal_versioned(version, text, context))
    }

    /// Opens sealed text; an [`Unreadable`] error (inside the `anyhow`
    /// chain) when it does not open with its key and context.
    pub async fn open(
        &self,
        store: &Store,
        owner: &str,
        sealed: &[u8],
        context: &str,
    ) -> anyhow::Result<String> {
        if let Some(version) = sealed_version(sealed)
            && let Some(key) = self.key_version(store, owner, i64::from(version)).await?
            && let Ok(text) = key.open_versioned(sealed, context)
        {
            return Ok(text);
        }
        // Sealed before versions existed: version 1, the old context.
        if let Some(key) = self.key_version(store, owner, 1).await?
            && let Ok(text) = key.open(sealed, legacy_context(context))
        {
            return Ok(text);
        }
        tracing::warn!(%owner, %context, "sealed text did not open: damaged or changed in the database");
        Err(Unreadable {
            context: context.to_owned(),
        }
        .into())
    }

    /// Seals text for a TEXT column: [`SEALED_TEXT_PREFIX`] and base64.
    /// Empty text stays empty (nothing to hide, and SQL can still test it).
    pub async fn seal_text(
        &self,
        store: &Store,
        owner: &str,
        text: &str,
        context: &str,
    ) -> anyhow::Result<String> {
        if text.is_empty() {
            return Ok(String::new());
        }
        let sealed = self.seal(store, owner, text, context).await?;
        Ok(format!("{SEALED_TEXT_PREFIX}{}", STANDARD.encode(sealed)))
    }

    /// Opens what [`Vault::seal_text`] made. Text without the prefix is a
    /// value stored before it was sealed (start-up seals those) and is
    /// returned as it is.
    pub async fn open_text(
        &self,
        store: &Store,
        owner: &str,
        stored: &str,
        context: &str,
    ) -> anyhow::Result<String> {
        let Some(encoded) = stored.strip_prefix(SEALED_TEXT_PREFIX) else {
            return Ok(stored.to_owned());
        };
        let sealed = STANDARD.decode(encoded).map_err(|_| Unreadable {
            context: context.to_owned(),
        })?;
        self.open(store, owner, &sealed, context).await
    }
}

/// Is this error sealed text that did not open (as opposed to a database
/// or key file failure)?
pub fn is_unreadable(error: &anyhow::Error) -> bool {
    error.downcast_ref::<Unreadable>().is_some()
}

// --- every sealed column, for upgrades and rotation --------------------

/// One column that holds sealed values. `select` yields `owner`, the sealed
/// value and then text parts; the first `keys` parts name the row for
/// `update` (`$1` new value, `$2`.. keys, last the old value).
struct SealedColumn {
    select: String,
    update: String,
    text: bool,
    keys: usize,
    context: fn(&[String]) -> String,
}

fn part(parts: &[String], i: usize) -> &str {
    parts.get(i).map_or("", String::as_str)
}

fn bytea(table: &str, column: &str, owner: &str, context: fn(&[String]) -> String) -> SealedColumn {
    SealedColumn {
        select: format!("SELECT {owner}, {column}, id FROM {table} WHERE {column} IS NOT NULL"),
        update: format!("UPDATE {table} SET {column} = $1 WHERE id = $2 AND {column} = $3"),
        text: false,
        keys: 1,
        context,
    }
}

/// The registry of sealed columns. Each context here must be the one the
/// service that writes the column uses.
fn sealed_columns() -> Vec<SealedColumn> {
    let mut columns = vec![
        SealedColumn {
            select: "SELECT couple_id, body, id, couple_id, author_id, audience, \
                     COALESCE(addressed_to, '') FROM entries"
                .to_owned(),
            update: "UPDATE entries SET body = $1 WHERE id = $2 AND body = $3".to_owned(),
            text: false,
            keys: 1,
            context: |p| {
                let to = part(p, 4);
                entry_context(
                    part(p, 0),
                    part(p, 1),
                    part(p, 2),
                    part(p, 3),
                    (!to.is_empty()).then_some(to),
                )
            },
        },
        bytea("therapist_notes", "body", "couple_id", |p| {
            format!("note:{}", part(p, 0))
        }),
        bytea("talks", "topic", "couple_id", |p| {
            format!("talk:{}:topic", part(p, 0))
        }),
        SealedColumn {
            select: "SELECT t.couple_id, tt.body, tt.talk_id, CAST(tt.seq AS TEXT) \
                     FROM talk_turns tt JOIN talks t ON t.id = tt.talk_id"
                .to_owned(),
            update: "UPDATE talk_turns SET body = $1 WHERE talk_id = $2 AND seq = CAST($3 AS BIGINT) AND body = $4"
                .to_owned(),
            text: false,
            keys: 2,
            context: |p| format!("talk:{}:turn:{}", part(p, 0), part(p, 1)),
        },
        bytea("compromises", "topic", "couple_id", |p| {
            format!("compromise:{}:topic", part(p, 0))
        }),
        bytea("promises", "text", "couple_id", |p| {
            format!("promise:{}", part(p, 0))
        }),
        bytea("agreements", "title", "couple_id", |p| {
            format!("agreement-title:{}", part(p, 0))
        }),
        bytea("agreements", "body", "couple_id", |p| {
            format!("agreement:{}", part(p, 0))
        }),
        bytea("measures", "answers", "couple_id", |p| {
            format!("measure:{}", part(p, 0))
        }),
        bytea("measures", "note", "couple_id", |p| {
            format!("measure-note:{}", part(p, 0))
        }),
        bytea("measures", "score_sealed", "couple_id", |p| {
            crate::services::measures::score_context(part(p, 0))
        }),
        bytea("appointments", "reschedule_note_sealed", "couple_id", |p| {
            format!("appointment:{}:move-note", part(p, 0))
        }),
        SealedColumn {
            select: "SELECT couple_id, answers, id, user_id FROM safety_screenings".to_owned(),
            update: "UPDATE safety_screenings SET answers = $1 WHERE id = $2 AND answers = $3"
                .to_owned(),
            text: false,
            keys: 1,
            context: |p| format!("safety:{}", part(p, 1)),
        },
        SealedColumn {
            select: "SELECT 'system', totp_secret, id FROM users WHERE totp_secret IS NOT NULL"
                .to_owned(),
            update: "UPDATE users SET totp_secret = $1 WHERE id = $2 AND totp_secret = $3".to_owned(),
            text: true,
            keys: 1,
            context: |p| crate::services::two_factor::secret_context(part(p, 0)),
        },
        SealedColumn {
            select: "SELECT couple_id, note, id FROM assignments WHERE note <> ''".to_owned(),
            update: "UPDATE assignments SET note = $1 WHERE id = $2 AND note = $3".to_owned(),
            text: true,
            keys: 1,
            context: |p| crate::services::program::homework_note_context(part(p, 0)),
        },
    ];
    for (column, context) in [
        (
            "thanks",
            (|p| format!("thanks:{}:{}", part(p, 0), part(p, 1))) as fn(&[String]) -> String,
        ),
        ("context", |p| {
            format!("context:{}:{}", part(p, 0), part(p, 1))
        }),
    ] {
        columns.push(SealedColumn {
            select: format!(
                "SELECT p.couple_id, m.{column}, m.promise_id, CAST(m.day AS TEXT) \
                 FROM promise_marks m JOIN promises p ON p.id = m.promise_id WHERE m.{column} IS NOT NULL"
            ),
            update: format!(
                "UPDATE promise_marks SET {column} = $1 WHERE promise_id = $2 AND day = CAST($3 AS BIGINT) AND {column} = $4"
            ),
            text: false,
            keys: 2,
            context,
        });
    }
    for part_name in ["core", "flexible"] {
        columns.push(SealedColumn {
            select: format!(
                "SELECT c.couple_id, cc.{part_name}, cc.compromise_id, cc.user_id, '{part_name}' \
                 FROM compromise_circles cc JOIN compromises c ON c.id = cc.compromise_id"
            ),
            update: format!(
                "UPDATE compromise_circles SET {part_name} = $1 WHERE compromise_id = $2 AND user_id = $3 AND {part_name} = $4"
            ),
            text: false,
            keys: 2,
            context: |p| format!("compromise:{}:{}:{}", part(p, 0), part(p, 1), part(p, 2)),
        });
    }
    for field in crate::services::intake::SEALED_FIELDS {
        columns.push(SealedColumn {
            select: format!(
                "SELECT 'practice:' || practice_id, {field}, id, '{field}' FROM intake_requests WHERE {field} <> ''"
            ),
            update: format!(
                "UPDATE intake_requests SET {field} = $1 WHERE id = $2 AND {field} = $3"
            ),
            text: true,
            keys: 1,
            context: |p| crate::services::intake::field_context(part(p, 0), part(p, 1)),
        });
    }
    columns
}

/// The maintenance name of the sealing sweep, and the sealing format it
/// brings data to: raise the version when the format changes, and the next
/// start sweeps again.
const SWEEP: &str = "sealing_sweep";
const SWEEP_VERSION: i64 = 1;

/// What a sweep over the sealed columns did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Values sealed or re-sealed (clear text sealed, an older format or
    /// key version brought up to date).
    pub resealed: usize,
    /// Values that did not open (left as they are, and logged).
    pub unreadable: usize,
    /// `(owner, version)` of every key version some value still uses.
    pub in_use: Vec<(String, i64)>,
}

impl Vault {
    /// Brings one stored value up to date: `None` when it already is.
    async fn upgrade_cell(
        &self,
        store: &Store,
        column: &SealedColumn,
        cell: &SealedCell,
        current: i64,
    ) -> anyhow::Result<Option<StoredSealed>> {
        let context = (column.context)(&cell.parts);
        let plain = match &cell.value {
            StoredSealed::Bytes(bytes) => {
                if bytes.is_empty() || sealed_version(bytes).map(i64::from) == Some(current) {
                    return Ok(None);
                }
                self.open(store, &cell.owner, bytes, &context).await?
            }
            StoredSealed::Text(text) => {
                if text.is_empty() {
                    return Ok(None);
                }
                if let Some(encoded) = text.strip_prefix(SEALED_TEXT_PREFIX) {
                    let up_to_date = STANDARD
                        .decode(encoded)
                        .ok()
                        .and_then(|b| sealed_version(&b))
                        .map(i64::from)
                        == Some(current);
                    if up_to_date {
                        return Ok(None);
                    }
                }
                self.open_text(store, &cell.owner, text, &context).await?
            }
        };
        Ok(Some(match cell.value {
            StoredSealed::Bytes(_) => {
                StoredSealed::Bytes(self.seal(store, &cell.owner, &plain, &context).await?)
            }
            StoredSealed::Text(_) => {
                StoredSealed::Text(self.seal_text(store, &cell.owner, &plain, &context).await?)
            }
        }))
    }

    /// Seals every value still in clear and re-seals every value in an
    /// older format or under an older key version, each with a
    /// compare-and-swap so writes made meanwhile win. Safe to run while
    /// servers serve, and again (it does nothing the second time).
    pub async fn sweep(&self, store: &Store) -> anyhow::Result<SweepReport> {
        self.seal_clear_scores(store).await?;
        let mut report = SweepReport::default();
        let mut current: HashMap<String, i64> = HashMap::new();
        for column in sealed_columns() {
            for cell in store.sealed_cells(&column.select, column.text).await? {
                let version = match current.get(&cell.owner) {
                    Some(v) => *v,
                    None => {
                        let (v, _) = self.current_key(store, &cell.owner).await?;
                        current.insert(cell.owner.clone(), v);
                        v
                    }
                };
                let keys = &cell.parts[..column.keys.min(cell.parts.len())];
                match self.upgrade_cell(store, &column, &cell, version).await {
                    Ok(Some(new)) => {
                        if store
                            .replace_sealed_cell(&column.update, &new, keys, &cell.value)
                            .await?
                        {
                            report.resealed += 1;
                        }
                    }
                    Ok(None) => {}
                    Err(error) if is_unreadable(&error) => report.unreadable += 1,
                    Err(error) => return Err(error),
                }
            }
            // What each value uses now, read again after the updates.
            for cell in store.sealed_cells(&column.select, column.text).await? {
                let blob = match &cell.value {
                    StoredSealed::Bytes(b) => b.clone(),
                    StoredSealed::Text(t) => match t.strip_prefix(SEALED_TEXT_PREFIX) {
                        Some(encoded) => STANDARD.decode(encoded).unwrap_or_default(),
                        None => continue,
                    },
                };
                if blob.is_empty() {
                    continue;
                }
                let version = sealed_version(&blob).map_or(1, i64::from);
                let used = (cell.owner, version);
                if !report.in_use.contains(&used) {
                    report.in_use.push(used);
                }
            }
        }
        // Wrappings in the legacy form are re-wrapped as they are opened.
        for row in store.all_data_keys().await? {
            if let Err(error) = self.open_row(store, &row).await {
                tracing::warn!(owner = %row.owner, version = row.version, "a data key did not open: {error:#}");
            }
        }
        if report.resealed > 0 {
            store.scrub().await?;
        }
        if report.resealed > 0 || report.unreadable > 0 {
            tracing::info!(
                resealed = report.resealed,
                unreadable = report.unreadable,
                "sealed values brought up to date"
            );
        }
        Ok(report)
    }

    /// The start-up sweep, once per database and sealing format: a large
    /// practice should not read every sealed value at each start. Data
    /// written since the sweep was recorded is already in the current format.
    pub async fn sweep_once(&self, store: &Store) -> anyhow::Result<Option<SweepReport>> {
        if store.maintenance_done(SWEEP).await? >= Some(SWEEP_VERSION) {
            return Ok(None);
        }
        let report = self.sweep(store).await?;
        store
            .record_maintenance(SWEEP, SWEEP_VERSION, now())
            .await?;
        Ok(Some(report))
    }

    /// Records that everything in the database is sealed the current way
    /// (for generators that write only that way, such as `trellis loadgen`).
    pub async fn record_swept(store: &Store) -> anyhow::Result<()> {
        Ok(store
            .record_maintenance(SWEEP, SWEEP_VERSION, now())
            .await?)
    }

    /// Scores written before scores were sealed: seal them, then zero the
    /// clear column.
    async fn seal_clear_scores(&self, store: &Store) -> anyhow::Result<()> {
        for (id, couple_id, score) in store.clear_scores().await? {
            let sealed = self
                .seal(
                    store,
                    &couple_id,
                    &score.to_string(),
                    &crate::services::measures::score_context(&id),
                )
                .await?;
            store.set_sealed_score(&id, &sealed).await?;
        }
        Ok(())
    }
}

/// What `trellis admin rotate-data-keys` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKeyRotation {
    /// Owners (couples, practices, system) given a new key version.
    pub rotated: usize,
    /// Values re-sealed under the new versions.
    pub resealed: usize,
    /// Values that did not open (their old key version is kept).
    pub unreadable: usize,
    /// Key versions retired by an earlier rotation and dropped now that
    /// nothing uses them.
    pub dropped: usize,
}

/// Gives every owner a new data key version and re-seals everything under
/// it. Versions retired by an *earlier* rotation are dropped first when no
/// value uses them any more; versions retired now are kept until the next
/// rotation, so a server that sealed with one a moment ago loses nothing.
pub async fn rotate_data_keys(store: &Store, vault: &Vault) -> anyhow::Result<DataKeyRotation> {
    let before = vault.sweep(store).await?;
    let mut dropped = 0;
    for row in store.all_data_keys().await? {
        if row.retired_at.is_some() && !before.in_use.contains(&(row.owner.clone(), row.version)) {
            store.drop_data_key(&row.owner, row.version).await?;
            dropped += 1;
        }
    }
    let mut owners: Vec<String> = Vec::new();
    for row in store.all_data_keys().await? {
        if !owners.contains(&row.owner) {
            owners.push(row.owner);
        }
    }
    for owner in &owners {
        let (version, _) = vault.current_key(store, owner).await?;
        let wrapped = vault.keyring().wrap(&DataKey::generate());
        store
            .insert_data_key(
                owner,
                version + 1,
                &wrapped.master_key_id,
                &wrapped.sealed,
                now(),
            )
            .await?;
        store
            .retire_data_keys_below(owner, version + 1, now())
            .await?;
    }
    let after = vault.sweep(store).await?;
    Ok(DataKeyRotation {
        rotated: owners.len(),
        resealed: after.resealed,
        unreadable: after.unreadable,
        dropped,
    })
}

/// Re-wraps every data key under a new current master key, saving the
/// rotated keyring first so no wrapping ever names a key not on disk.
/// Returns how many couple keys were re-wrapped (practice and system keys
/// are re-wrapped too). Servers keep running: they hold their data keys in
/// memory and reload the keyring when they meet the new key's id.
pub async fn rotate_master_key(store: &Store, path: &std::path::Path) -> anyhow::Result<usize> {
    let old = Keyring::load(path).with_context(|| format!("could not load {}", path.display()))?;
    let rotated = old.rotated();
    rotated
        .save(path)
        .context("could not save the rotated keyring")?;
    let mut count = 0;
    for row in store.all_data_keys().await? {
        if row.master_key_id == rotated.current_id() {
            continue;
        }
        let key = rotated
            .unwrap_key(&WrappedKey {
                master_key_id: row.master_key_id.clone(),
                sealed: row.wrapped.clone(),
            })
            .with_context(|| format!("the data key of {} does not open", row.owner))?;
        let wrapped = rotated.wrap(&key);
        if store
            .rewrap_data_key(&row, &wrapped.master_key_id, &wrapped.sealed)
            .await?
            && row.owner != trellis_store::SYSTEM_KEY_OWNER
            && !row.owner.contains(':')
        {
            count += 1;
        }
    }
    // Retired keys stay in the file: a server that has not reloaded yet may
    // still wrap a new couple's key with the old current key.
    Ok(count)
}
