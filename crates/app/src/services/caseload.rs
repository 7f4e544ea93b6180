//! The therapist's caseload: every couple with what needs attention, sorted
//! by need. The page and `GET /api/v1/caseload` read the same list.

use std::cmp::Reverse;
use std::collections::HashMap;

use serde::Serialize;
use trellis_store::{
    Couple, DEFAULT_CADENCE_DAYS, MarkRow, MeasureRow, PromiseRow, Scope, ScreeningDecision, User,
};

use crate::error::AppResult;
use crate::state::AppState;

/// A partner as the caseload shows them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseloadPartner {
    pub name: String,
    pub email: String,
    /// False while their invitation is still open.
    pub joined: bool,
}

/// One couple of the caseload.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Of the open flags, the distress ones that may be urgent (the coach's
    /// word statistics read urgency no rule confirmed; nothing was paused).
    pub possibly_urgent_flags: i64,
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

/// The caseload of `therapist`, sorted by need: urgent flags, then flags
/// that may be urgent, then open flags, then alerts, then unread messages; otherwise newest first.
///
/// A fixed number of queries, whatever the size of the caseload: each kind
/// of fact is read for all the therapist's couples at once, then grouped.
#[tracing::instrument(skip_all, fields(therapist = %therapist.id))]
pub async fn caseload(state: &AppState, therapist: &User) -> AppResult<Vec<CaseloadCouple>> {
    let store = state.store();
    let now = state.now();
    let mut news = store.caseload_news(&therapist.id, now).await?;
    let mut unread = store
        .unread_messages_by_couple_for_therapist(&therapist.id)
        .await?;
    let mut facts = Facts::load(state, therapist).await?;
    let mut out = Vec::new();
    for entry in store.caseload(&therapist.id).await? {
        let id = entry.couple.id.clone();
        let news = news.remove(id.as_str()).unwrap_or_default();
        let couple = facts.take(&id);
        let alerts = couple.alerts(state, therapist, &entry.couple, now)?;
        let shared_work_open =
            trellis_core::screening::shared_work_open(&crate::services::safety::gate_facts(
                &entry.couple,
                &couple.members,
                &couple.decisions,
                &couple.last_checks,
                &couple.pauses,
                news.urgent_flags,
            ));
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
            possibly_urgent_flags: news.possibly_urgent_flags,
            alerts,
            unread: unread.remove(id.as_str()).unwrap_or(0),
            shared_work_open,
            new_shared: news.new_shared,
            since_session: news.since_session(),
            id: id.into_string(),
        });
    }
    // stable: couples equal in need keep the store's newest-first order
    out.sort_by_key(|c| {
        Reverse((
            c.urgent_flags,
            c.possibly_urgent_flags,
            c.open_flags,
            c.alerts,
            c.unread,
        ))
    });
    Ok(out)
}

/// What the caseload needs to know of one couple.
#[derive(Default)]
struct CoupleFacts {
    members: Vec<User>,
    measures: Vec<MeasureRow>,
    promises: Vec<PromiseRow>,
    decisions: Vec<ScreeningDecision>,
    last_checks: Vec<(String, i64)>,
    pauses: Vec<String>,
    cadence: Option<i64>,
}

/// The facts of every couple of a caseload, read in one query per kind.
struct Facts {
    couples: HashMap<String, CoupleFacts>,
    sharing: HashMap<String, (bool, bool)>,
    marks: HashMap<String, Vec<MarkRow>>,
    promise_pauses: HashMap<String, Vec<(i64, i64)>>,
    today: i64,
}

impl Facts {
    async fn load(state: &AppState, therapist: &User) -> AppResult<Facts> {
        let store = state.store();
        let scope = Scope::Caseload(&therapist.id);
        let today = crate::services::accountability::today_for(state, therapist).await?;
        let mut couples: HashMap<String, CoupleFacts> = HashMap::new();
        for (couple, member) in store.members_in(scope).await? {
            couples
                .entry(couple.into_string())
                .or_default()
                .members
                .push(member);
        }
        // alerts read only the ends of each history
        let measures = store
            .measure_ends_in(scope, trellis_core::measures::BELOW_CUTOFF_RUN)
            .await?;
        for row in crate::services::measures::open_scores(state, measures).await? {
            couples
                .entry(row.couple_id.clone())
                .or_default()
                .measures
                .push(row);
        }
        for promise in store.promises_in(scope).await? {
            couples
                .entry(promise.couple_id.to_string())
                .or_default()
                .promises
                .push(promise);
        }
        for (couple, decision) in store.screening_decisions_in(scope).await? {
            couples.entry(couple).or_default().decisions.push(decision);
        }
        for (couple, user, at) in store.last_safety_checks_in(scope).await? {
            couples
                .entry(couple)
                .or_default()
                .last_checks
                .push((user, at));
        }
        for (couple, user) in store.shared_work_pauses_in(scope).await? {
            couples.entry(couple).or_default().pauses.push(user);
        }
        for (couple, days) in store.cadences_in(scope).await? {
            couples.entry(couple).or_default().cadence = Some(days);
        }
        Ok(Facts {
            couples,
            sharing: store.score_sharing_in(scope).await?,
            marks: store
                .promise_marks_in(scope, today - 2 * trellis_core::consistency::WINDOW_DAYS)
                .await?,
            promise_pauses: store.promise_pauses_in(scope, today).await?,
            today,
        })
    }

    /// One couple's facts, with the caseload-wide maps it needs.
    fn take(&mut self, couple_id: &str) -> CoupleView<'_> {
        CoupleView {
            facts: self.couples.remove(couple_id).unwrap_or_default(),
            all: self,
        }
    }
}

struct CoupleView<'a> {
    facts: CoupleFacts,
    all: &'a Facts,
}

impl std::ops::Deref for CoupleView<'_> {
    type Target = CoupleFacts;
    fn deref(&self) -> &CoupleFacts {
        &self.facts
    }
}

impl CoupleView<'_> {
    /// How many alerts the couple's progress raises, as the couple page
    /// counts them.
    fn alerts(
        &self,
        state: &AppState,
        therapist: &User,
        couple: &Couple,
        now: i64,
    ) -> AppResult<usize> {
        let facts = &self.facts;
        let cadence = facts.cadence.unwrap_or(DEFAULT_CADENCE_DAYS);
        let mut partners = Vec::new();
        let mut last_check_ins = Vec::new();
        for member in &facts.members {
            let sharing = self
                .all
                .sharing
                .get(member.id.as_str())
                .copied()
                .unwrap_or_default();
            let rows: Vec<MeasureRow> = facts
                .measures
                .iter()
                .filter(|m| m.user_id == member.id)
                .cloned()
                .collect();
            let visible = crate::services::measures::scores_visible(
                therapist,
                member,
                &couple.id,
                couple.therapist_id.as_ref(),
                sharing,
            );
            if visible {
                partners.push(crate::services::measures::trends_from(
                    state.content(),
                    member,
                    &rows,
                ));
                last_check_ins.push(None);
            } else {
                partners.push(crate::services::measures::hidden_trends(member));
                last_check_ins.push(rows.iter().map(|m| m.created_at).max());
            }
        }
        let consistency = crate::services::accountability::consistency_from(
            &facts.members,
            &facts.promises,
            &self.all.marks,
            &self.all.promise_pauses,
            self.all.today,
        )?;
        Ok(crate::services::measures::therapist_alerts(
            state.content(),
            &partners,
            cadence,
            &consistency,
            &last_check_ins,
            now,
        )
        .len())
    }
}
