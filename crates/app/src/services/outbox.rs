//! Mail goes through the outbox: stored first (body sealed), then sent at
//! once; if the mail server cannot take it, or the process stops before it
//! could, the worker (`deliver_due`) tries again later with growing gaps.
//! Each try claims the mail in the database, so of several instances only
//! one sends it.

use trellis_core::Millis;
use trellis_core::time::{DAY, HOUR, MINUTE, SECOND};
use trellis_store::{NewMail, OutboxMail, SYSTEM_KEY_OWNER};

use crate::error::AppResult;
use crate::state::AppState;

/// How long one instance holds a mail while its mail server answers.
const LEASE: Millis = 2 * MINUTE;
/// The gap before each retry; after the last, the mail is given up on.
const RETRY_AFTER: [Millis; 7] = [
    MINUTE,
    5 * MINUTE,
    15 * MINUTE,
    HOUR,
    3 * HOUR,
    6 * HOUR,
    12 * HOUR,
];
/// Mail given up on is forgotten after this long.
const KEEP_FAILED: Millis = 30 * DAY;

/// Whether the mail left now or waits for a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Now,
    Later,
}

fn context(id: &str) -> String {
    format!("mail:{id}")
}

/// Stores a mail and tries to send it at once.
#[tracing::instrument(skip_all)]
pub async fn send(
    state: &AppState,
    to_name: &str,
    to_email: &str,
    subject: &str,
    body: &str,
) -> AppResult<Sent> {
    let id = trellis_store::new_id();
    let sealed = state
        .vault()
        .seal_text(state.store(), SYSTEM_KEY_OWNER, body, &context(&id))
        .await?;
    state
        .store()
        .enqueue_mail(
            NewMail {
                id: &id,
                to_name,
                to_email,
                subject,
                body: &sealed,
            },
            state.now(),
        )
        .await?;
    let Some(mail) = state.store().claim_mail(&id, state.now(), LEASE).await? else {
        // another instance's worker took it in between: it is on its way
        return Ok(Sent::Later);
    };
    Ok(if deliver(state, mail).await? {
        Sent::Now
    } else {
        Sent::Later
    })
}

/// Sends the mail that is due (the worker's round); how many left.
pub async fn deliver_due(state: &AppState) -> AppResult<usize> {
    let store = state.store();
    let mut sent = 0;
    for mail in store.claim_due_mail(state.now(), LEASE, 50).await? {
        let id = mail.id.clone();
        match deliver(state, mail).await {
            Ok(true) => sent += 1,
            Ok(false) => {}
            // one mail's trouble (the database went away mid-round) must
            // not hold up the others; its claim lapses and it comes back
            Err(err) => tracing::warn!(mail_id = %id, error = ?err, "could not settle a mail"),
        }
    }
    store.prune_failed_mail(state.now() - KEEP_FAILED).await?;
    metrics::gauge!("trellis_mail_outbox_backlog").set(store.outbox_backlog().await? as f64);
    Ok(sent)
}

/// One try at a claimed mail; `true` when a mail server took it.
async fn deliver(state: &AppState, mail: OutboxMail) -> AppResult<bool> {
    let store = state.store();
    // a body that does not open is a failed try like any other, so it ends
    // in the retry schedule instead of coming back at every lease forever
    let sent = match state
        .vault()
        .open_text(store, SYSTEM_KEY_OWNER, &mail.body, &context(&mail.id))
        .await
    {
        Ok(body) => {
            state
                .mailer()
                .send(&mail.to_name, &mail.to_email, &mail.subject, body)
                .await
        }
        Err(err) => Err(err.context("could not open the sealed body")),
    };
    match sent {
        Ok(()) => {
            store.mail_sent(&mail.id).await?;
            metrics::counter!("trellis_mail_total", "outcome" => "sent").increment(1);
            Ok(true)
        }
        Err(err) => {
            let error = format!("{err:#}");
            let retry = usize::try_from(mail.attempts - 1)
                .ok()
                .and_then(|done| RETRY_AFTER.get(done))
                .map(|gap| state.now() + gap);
            match retry {
                Some(at) => tracing::warn!(
                    mail_id = %mail.id, attempts = mail.attempts, retry_in_seconds = (at - state.now()) / SECOND,
                    error = %error, "could not send a mail; it will be tried again"
                ),
                None => tracing::error!(
                    mail_id = %mail.id, attempts = mail.attempts, error = %error,
                    "could not send a mail after every retry; giving up"
                ),
            }
            metrics::counter!("trellis_mail_total", "outcome" => if retry.is_some() { "retry" } else { "failed" })
                .increment(1);
            store
                .mail_not_sent(&mail.id, &error, retry, state.now())
                .await?;
            Ok(false)
        }
    }
}
