//! Slowing down guessing: every attempt at a secret (a password, a second
//! step code) is counted before it is checked, in the database, so parallel
//! requests cannot each slip under the limit and a restart resets nothing.

use trellis_core::Millis;
use trellis_core::throttle::{WINDOW, lock_after};
use trellis_store::ThrottleAttempt;

use crate::error::{AppResult, Error};
use crate::state::AppState;

/// What happens to a key's count when the attempt turns out right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSuccess {
    /// The owner proved themselves: start again from nothing (an account).
    Clear,
    /// Give back this one attempt (a shared address: others may be guessing).
    Refund,
}

/// One counter an attempt is charged to.
#[derive(Debug, Clone)]
pub struct Limit {
    pub key: String,
    /// Attempts allowed in the window before locks begin.
    pub free: i64,
    pub on_success: OnSuccess,
}

impl Limit {
    pub fn new(key: String, free: i64, on_success: OnSuccess) -> Limit {
        Limit {
            key,
            free,
            on_success,
        }
    }
}

fn retry_after_secs(until: Millis, now: Millis) -> i64 {
    (until - now + 999) / 1000
}

/// Charges the attempt to every limit, then runs `check` (true: the secret
/// was right). Any limit that holds a lock refuses the attempt unchecked.
pub async fn attempt<F, E>(state: &AppState, limits: &[Limit], check: F) -> AppResult<bool>
where
    F: Future<Output = Result<bool, E>>,
    Error: From<E>,
{
    let now = state.now();
    let store = state.store();
    for limit in limits {
        let free = limit.free;
        if let ThrottleAttempt::Locked { until } = store
            .throttle_attempt(&limit.key, now, WINDOW, |n| lock_after(n, free))
            .await?
        {
            tracing::info!("attempt refused while throttled");
            return Err(Error::TooManyRequests {
                retry_after_secs: retry_after_secs(until, now),
            });
        }
    }
    let right = check.await?;
    if right {
        for limit in limits {
            let free = limit.free;
            match limit.on_success {
                OnSuccess::Clear => store.throttle_clear(&limit.key).await?,
                OnSuccess::Refund => {
                    store
                        .throttle_refund(&limit.key, now, |n| lock_after(n, free))
                        .await?;
                }
            }
        }
    }
    Ok(right)
}
