//! Sealing and opening client writing with each couple's data key.
//!
//! Data keys are unwrapped once and kept in memory. When a wrapping names a
//! master key this process does not know (another process rotated the
//! keyring), the keyring file is read again, so reads keep working across a
//! rotation without a restart.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, RwLock};

use anyhow::Context;
use trellis_crypto::{DataKey, EnvelopeError, Keyring, WrappedKey};
use trellis_store::Store;

use crate::state::now;

pub struct Vault {
    keyring: RwLock<Keyring>,
    keyring_path: Option<PathBuf>,
    data_keys: Mutex<HashMap<String, DataKey>>,
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

    fn unwrap_key(&self, wrapped: &WrappedKey) -> anyhow::Result<DataKey> {
        match self.keyring().unwrap_key(wrapped) {
            Err(EnvelopeError::UnknownMasterKey(id)) => {
                let path = self
                    .keyring_path
                    .as_ref()
                    .with_context(|| format!("master key {id} is unknown"))?;
                let reloaded =
                    Keyring::load(path).context("could not reload the master key file")?;
                let key = reloaded
                    .unwrap_key(wrapped)
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

    /// The couple's data key, created on first use.
    pub async fn data_key(&self, store: &Store, couple_id: &str) -> anyhow::Result<DataKey> {
        if let Some(key) = self
            .data_keys
            .lock()
            .ok()
            .and_then(|keys| keys.get(couple_id).cloned())
        {
            return Ok(key);
        }
        let (master_key_id, sealed) = match store.couple_key(couple_id).await? {
            Some(found) => found,
            None => {
                let fresh = DataKey::generate();
                let wrapped = self.keyring().wrap(&fresh);
                store
                    .insert_couple_key(couple_id, &wrapped.master_key_id, &wrapped.sealed, now())
                    .await?
            }
        };
        let key = self.unwrap_key(&WrappedKey {
            master_key_id,
            sealed,
        })?;
        if let Ok(mut keys) = self.data_keys.lock() {
            keys.insert(couple_id.to_owned(), key.clone());
        }
        Ok(key)
    }

    pub async fn seal(
        &self,
        store: &Store,
        couple_id: &str,
        text: &str,
        context: &str,
    ) -> anyhow::Result<Vec<u8>> {
        Ok(self.data_key(store, couple_id).await?.seal(text, context))
    }

    pub async fn open(
        &self,
        store: &Store,
        couple_id: &str,
        sealed: &[u8],
        context: &str,
    ) -> anyhow::Result<String> {
        self.data_key(store, couple_id)
            .await?
            .open(sealed, context)
            .with_context(|| format!("could not open {context}"))
    }
}

/// Re-wraps every couple's data key under a new current master key, saving
/// the rotated keyring first so no wrapping ever names a key not on disk.
/// Returns how many couple keys were re-wrapped. Servers keep running: they
/// hold their data keys in memory and reload the keyring when they meet the
/// new key's id.
pub async fn rotate_master_key(store: &Store, path: &std::path::Path) -> anyhow::Result<usize> {
    let old = Keyring::load(path).with_context(|| format!("could not load {}", path.display()))?;
    let rotated = old.rotated();
    rotated
        .save(path)
        .context("could not save the rotated keyring")?;
    let mut count = 0;
    for (couple_id, master_key_id, sealed) in store.all_couple_keys().await? {
        if master_key_id == rotated.current_id() {
            continue;
        }
        let key = rotated
            .unwrap_key(&WrappedKey {
                master_key_id: master_key_id.clone(),
                sealed,
            })
            .with_context(|| format!("the data key of couple {couple_id} does not open"))?;
        let wrapped = rotated.wrap(&key);
        if store
            .rewrap_couple_key(
                &couple_id,
                &master_key_id,
                &wrapped.master_key_id,
                &wrapped.sealed,
            )
            .await?
        {
            count += 1;
        }
    }
    // Retired keys stay in the file: a server that has not reloaded yet may
    // still wrap a new couple's key with the old current key.
    Ok(count)
}
