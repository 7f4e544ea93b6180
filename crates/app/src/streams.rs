//! Live streams (server-sent events) held open by each person, counted so
//! nobody can tie up the server with a pile of them. The count is per
//! process: with several instances each allows the same number.
//!
//! A stream over the limit is refused with 429 (the streams already open go
//! on): a browser that opens a fifth tab is told to close one, rather than a
//! tab it already shows going quiet.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use trellis_store::SessionKind;

use crate::error::{AppResult, Error};

/// How many live streams one person may hold open at once.
pub const MAX_STREAMS_PER_PERSON: usize = 4;

/// Open streams per person.
#[derive(Default)]
pub struct LiveStreams {
    open: Mutex<HashMap<String, usize>>,
}

/// One open stream; dropping it (the stream ended or the client went away)
/// frees its place.
pub struct StreamSlot {
    streams: Arc<LiveStreams>,
    user_id: String,
}

impl LiveStreams {
    /// A place for one more stream of `user_id`, or 429 when they hold the most already.
    pub fn claim(self: &Arc<Self>, user_id: &str) -> AppResult<StreamSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(user_id.to_owned()).or_default();
        if *count >= MAX_STREAMS_PER_PERSON {
            return Err(Error::RateLimited {
                retry_after_secs: 30,
                message: "You have this open in several windows already. Please close one of them and try again.",
            });
        }
        *count += 1;
        Ok(StreamSlot {
            streams: Arc::clone(self),
            user_id: user_id.to_owned(),
        })
    }

    /// How many streams are open in this process (for the metrics).
    pub fn total(&self) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.values().sum()
    }

    /// How many streams `user_id` holds open now.
    pub fn open_for(&self, user_id: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(user_id).copied().unwrap_or(0)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .streams
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.user_id);
            }
        }
    }
}

/// The session a stream was opened with, checked again while it runs, so a
/// stream ends soon after its session does (logout, signing out everywhere,
/// a password change, a deleted account, an API token's lifetime).
pub struct StreamSession {
    pub token_hash: String,
    pub kind: SessionKind,
    pub max_age: Option<trellis_core::Millis>,
}
