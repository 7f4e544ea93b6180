//! Writing to the audit log from services.

use trellis_store::{AuditRecord, User};

use crate::error::AppResult;
use crate::state::AppState;

/// An audit event under construction.
#[derive(Default)]
pub struct Event<'a> {
    record: AuditRecord<'a>,
}

impl<'a> Event<'a> {
    pub fn new(action: &'a str) -> Self {
        Self {
            record: AuditRecord {
                action,
                ..AuditRecord::default()
            },
        }
    }

    pub fn actor(mut self, user: &'a User) -> Self {
        self.record.actor_id = Some(&user.id);
        self.record.actor_role = Some(user.role.as_str());
        self
    }

    pub fn subject(mut self, user_id: &'a str) -> Self {
        self.record.subject_id = Some(user_id);
        self
    }

    pub fn couple(mut self, couple_id: &'a str) -> Self {
        self.record.couple_id = Some(couple_id);
        self
    }

    pub fn item(mut self, kind: &'a str, id: &'a str) -> Self {
        self.record.item_kind = Some(kind);
        self.record.item_id = Some(id);
        self
    }

    pub fn detail(mut self, detail: &'a str) -> Self {
        self.record.detail = detail;
        self
    }
}

pub async fn record(state: &AppState, event: Event<'_>) -> AppResult<()> {
    state
        .store()
        .record_audit(event.record, state.now())
        .await?;
    Ok(())
}

/// Several events, written together.
pub async fn record_all(state: &AppState, events: Vec<Event<'_>>) -> AppResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let records: Vec<AuditRecord<'_>> = events.into_iter().map(|e| e.record).collect();
    state.store().record_audits(&records, state.now()).await?;
    Ok(())
}
