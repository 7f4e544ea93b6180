//! The therapist's caseload: every couple with what needs attention, sorted
//! by need. The page and `GET /api/v1/caseload` read the same list.

use std::cmp::Reverse;

use serde::Serialize;
use trellis_store::User;
use utoipa::ToSchema;

use crate::error::AppResult;
use crate::state::AppState;

/// A partner as the caseload shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseloadPartner {
    pub name: String,
    pub email: String,
    /// False while their invitation is still open.
    pub joined: bool,
}

/// One couple of the caseload.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseloadCouple {
    pub id: String,
    /// The partners' names, joined with " & ".
    pub title: String,
    pub partners: Vec<CaseloadPartner>,
    /// The day the couple was added (UTC, YYYY-MM-DD).
    pub since: String,
    /// Safety concerns not yet resolved, and how many of them are urgent.
    pub open_flags: i64,
    pub urgent_flags: i64,
    /// Alerts from the questionnaires (scores only under consent).
    pub alerts: usize,
    /// Messages from the couple the therapist has not read.
    pub unread: i64,
    /// Shared work is open (screened and cleared, nothing urgent waiting).
    pub shared_work_open: bool,
    /// Writing shared with the therapist since their last visit to the couple.
    pub new_shared: i64,
    /// Writing shared since the couple's last session, when they have had one.
    pub since_session: Option<i64>,
}

/// The caseload of `therapist`, sorted by need: urgent flags, then open
/// flags, then alerts, then unread messages; otherwise newest first.
pub async fn caseload(state: &AppState, therapist: &User) -> AppResult<Vec<CaseloadCouple>> {
    let store = state.store();
    let mut news = store
        .caseload_news(&therapist.id, crate::state::now())
        .await?;
    let mut unread = store
        .unread_messages_by_couple_for_therapist(&therapist.id)
        .await?;
    let mut out = Vec::new();
    for entry in store.caseload(&therapist.id).await? {
        let id = entry.couple.id.clone();
        let news = news.remove(&id).unwrap_or_default();
        let alerts = crate::services::measures::progress(state, therapist, &id)
            .await?
            .alerts
            .len();
        let shared_work_open =
            crate::services::safety::shared_work_open(state, &entry.couple).await?;
        out.push(CaseloadCouple {
            title: super::couples::title_of(entry.partners.iter().map(|p| p.name.as_str())),
            partners: entry
                .partners
                .into_iter()
                .map(|p| CaseloadPartner {
                    name: p.name,
                    email: p.email,
                    joined: p.joined,
                })
                .collect(),
            since: trellis_core::time::utc_date(entry.couple.created_at),
            open_flags: news.open_flags,
            urgent_flags: news.urgent_flags,
            alerts,
            unread: unread.remove(&id).unwrap_or(0),
            shared_work_open,
            new_shared: news.new_shared,
            since_session: news.since_session,
            id,
        });
    }
    // stable: couples equal in need keep the store's newest-first order
    out.sort_by_key(|c| Reverse((c.urgent_flags, c.open_flags, c.alerts, c.unread)));
    Ok(out)
}
