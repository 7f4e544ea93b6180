//! Argon2id runs on the blocking pool, a few at a time, so a burst of sign-ins
//! cannot starve the async runtime or exhaust memory (19 MiB per hash).

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

impl Passwords {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            permits: Arc::new(Semaphore::new(cores.max(1) * 2)),
        }
    }

    pub async fn hash(&self, password: &str) -> anyhow::Result<String> {
        let password = password.to_owned();
        self.on_blocking_pool("password hashing", move || {
            trellis_crypto::hash_password(&password).context("password hashing failed")
        })
        .await
    }

    /// Checks a password against the stored hash, or against a dummy hash when
    /// there is no account, so both cases take the same time.
    pub async fn verify(
        &self,
        password: &str,
        stored_hash: Option<String>,
    ) -> anyhow::Result<bool> {
        let password = password.to_owned();
        self.on_blocking_pool("password verification", move || match stored_hash {
            Some(hash) => {
                trellis_crypto::verify_password(&password, &hash).map_err(anyhow::Error::from)
            }
            None => {
                trellis_crypto::verify_against_dummy(&password);
                Ok(false)
            }
        })
        .await
    }

    /// Runs `work` on the blocking pool once a permit is free.
    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("password hasher closed")?;
        tokio::task::spawn_blocking(work)
            .await
            .with_context(|| format!("{what} task failed"))?
    }
}
