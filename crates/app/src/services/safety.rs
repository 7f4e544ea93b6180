//! The safety flow around shared work: the gate (screening decisions, the
//! pause either partner may set), flags raised by the safety check or by
//! crisis language, the notice that reaches the therapist at once, and what
//! the person who raised a flag is told. The rules themselves live in
//! `trellis_core::screening`; this module gathers facts and acts on them.
//!
//! Nothing a partner sees here depends on what the other partner answered or
//! wrote: the gate has one message, whatever closed it.

use std::collections::BTreeMap;
use trellis_core::CoupleId;
use trellis_core::account::within_limit;

use serde::Serialize;
use trellis_core::Role;
use trellis_core::safety::Answer;
use trellis_core::screening::{
    self, AtRisk, Concern, Decision, GateFacts, PartnerFacts, Tier, rescreen_due,
};
use trellis_store::{
    ConcernSource, Couple, FlagLevel, NewScreeningDecision, PracticeSafetySettings, User,
};

use super::audit;
use super::notices::{self, Notice};
use crate::error::{AppResult, Error};
use crate::state::AppState;

/// The one answer every shared-work route gives while the gate is closed,
/// the same for both partners whatever the reason.
pub const SHARED_WORK_CLOSED: &str = "Shared exercises are closed for now. A therapist guiding you opens them after talking with each of you on your own, and either of you can close them at any time without giving a reason. Your own writing and exercises are open as usual.";

/// What a client is told after raising a flag, when the practice has not
/// written its own promise: true of any practice, claims nothing more.
const DEFAULT_RESPONSE_PROMISE: &str = "Your therapist reads these notices when they are working; Trellis is not watched around the clock.";

/// What a client of a self-guided couple is told: no one is notified.
const NO_ONE_NOTIFIED: &str = "No therapist is linked to your account, so no one has been notified. If you need help now, please use the numbers on this page.";

/// Practices choose how often the check comes back, within reason.
pub const RESCREEN_WEEKS: std::ops::RangeInclusive<i64> = 1..=52;
pub const PROMISE_MAX_CHARS: usize = 500;

fn partner_couple(user: &User) -> AppResult<&CoupleId> {
    if user.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    user.couple_id.as_ref().ok_or(Error::NotFound)
}

/// The practice's safety settings; built-in defaults without a practice.
pub async fn practice_settings(
    state: &AppState,
    practice_id: Option<&str>,
) -> AppResult<PracticeSafetySettings> {
    Ok(match practice_id {
        Some(id) => state.store().practice_safety_settings(id).await?,
        None => PracticeSafetySettings {
            response_promise: String::new(),
            rescreen_weeks: 8,
        },
    })
}

/// The gate's facts, with each partner's id (in the order of
/// `facts.partners`) and when each last took the check.
struct Gate {
    facts: GateFacts,
    partner_ids: Vec<String>,
    last_checks: Vec<(String, i64)>,
}

async fn gate(state: &AppState, couple: &Couple) -> AppResult<Gate> {
    let store = state.store();
    let members = store.couple_members(&couple.id).await?;
    let decisions = store.screening_decisions(&couple.id).await?;
    let last_checks = store.last_safety_checks(&couple.id).await?;
    let pauses = store.shared_work_pauses(&couple.id).await?;
    let open_urgent_flags = store.open_urgent_flags(&couple.id).await?;
    Ok(Gate {
        facts: gate_facts(
            couple,
            &members,
            &decisions,
            &last_checks,
            &pauses,
            open_urgent_flags,
        ),
        partner_ids: members.into_iter().map(|m| m.id.into_string()).collect(),
        last_checks,
    })
}

/// The gate's facts for a couple from what the store holds: each member's
/// latest decision, whether they took the check, whether they closed shared
/// work; and the urgent flags still open.
pub(crate) fn gate_facts(
    couple: &Couple,
    members: &[User],
    decisions: &[trellis_store::ScreeningDecision],
    last_checks: &[(String, i64)],
    pauses: &[String],
    open_urgent_flags: i64,
) -> GateFacts {
    let partners = members
        .iter()
        .map(|member| PartnerFacts {
            decision: decisions
                .iter()
                .rev()
                .find(|d| d.user_id == member.id)
                .and_then(|d| Decision::parse(&d.decision)),
            checked: last_checks.iter().any(|(user_id, _)| user_id == &member.id),
            paused: pauses.iter().any(|p| *p == member.id),
        })
        .collect();
    GateFacts {
        guided: couple.therapist_id.is_some(),
        partners,
        open_urgent_flags: usize::try_from(open_urgent_flags).unwrap_or(usize::MAX),
    }
}

/// Whether the couple's shared work is open.
pub async fn shared_work_open(state: &AppState, couple: &Couple) -> AppResult<bool> {
    Ok(screening::shared_work_open(
        &gate(state, couple).await?.facts,
    ))
}

/// Refuses shared work while the gate is closed, with the one message.
pub async fn require_shared_work(state: &AppState, couple_id: &CoupleId) -> AppResult<()> {
    let couple = state.store().couple(couple_id).await?;
    if shared_work_open(state, &couple).await? {
        Ok(())
    } else {
        Err(Error::Conflict(SHARED_WORK_CLOSED.to_owned()))
    }
}

/// The gate as a partner sees it: the same for both, except their own pause.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedWork {
    pub open: bool,
    /// Shown while closed; the same for both partners.
    pub message: Option<String>,
    /// The viewer closed it themselves (only they may open it again).
    pub paused_by_me: bool,
    /// The viewer's own safety check is due (never taken, or time again).
    pub safety_check_due: bool,
}

pub async fn shared_work(state: &AppState, partner: &User) -> AppResult<SharedWork> {
    let couple_id = partner_couple(partner)?;
    let couple = state.store().couple(couple_id).await?;
    let gate = gate(state, &couple).await?;
    let open = screening::shared_work_open(&gate.facts);
    let paused_by_me = gate
        .partner_ids
        .iter()
        .zip(&gate.facts.partners)
        .any(|(id, facts)| id == &partner.id && facts.paused);
    let last_check = gate
        .last_checks
        .iter()
        .find(|(user_id, _)| user_id == &partner.id)
        .map(|(_, at)| *at);
    let settings = practice_settings(state, couple.practice_id.as_deref()).await?;
    let requested = state.store().rescreen_requested_at(&couple.id).await?;
    Ok(SharedWork {
        open,
        message: (!open).then(|| SHARED_WORK_CLOSED.to_owned()),
        paused_by_me,
        safety_check_due: rescreen_due(last_check, requested, settings.rescreen_weeks, state.now()),
    })
}

/// A partner closes shared work for now. No reason is asked or stored, and
/// the other partner sees only that it is closed.
pub async fn pause(state: &AppState, partner: &User) -> AppResult<()> {
    let couple_id = partner_couple(partner)?;
    state
        .store()
        .pause_shared_work(couple_id, &partner.id, state.now())
        .await?;
    audit::record(
        state,
        audit::Event::new("shared_work_paused")
            .actor(partner)
            .couple(couple_id),
    )
    .await?;
    Ok(())
}

/// A partner lifts their own pause.
pub async fn resume(state: &AppState, partner: &User) -> AppResult<()> {
    let couple_id = partner_couple(partner)?;
    state
        .store()
        .resume_shared_work(couple_id, &partner.id)
        .await?;
    audit::record(
        state,
        audit::Event::new("shared_work_resumed")
            .actor(partner)
            .couple(couple_id),
    )
    .await?;
    Ok(())
}

/// Where a flag came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Check,
    Writing,
    /// The person asked for their therapist to know.
    Asked,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Check => "check",
            Source::Writing => "writing",
            Source::Asked => "person's own request",
        }
    }
}

/// What the person who raised a flag is told about what happens next:
/// exactly what the practice promises, or that no one is notified.
pub async fn what_happens_next(state: &AppState, couple: &Couple) -> AppResult<String> {
    if couple.therapist_id.is_none() {
        return Ok(NO_ONE_NOTIFIED.to_owned());
    }
    let settings = practice_settings(state, couple.practice_id.as_deref()).await?;
    let promise = if settings.response_promise.trim().is_empty() {
        DEFAULT_RESPONSE_PROMISE
    } else {
        settings.response_promise.trim()
    };
    Ok(format!(
        "We have sent your therapist a private notice that does not say what you wrote. {promise} Your partner is not told."
    ))
}

/// [`what_happens_next`] for a partner's own couple.
pub async fn what_happens_next_for(state: &AppState, partner: &User) -> AppResult<String> {
    let couple_id = partner_couple(partner)?;
    let couple = state.store().couple(couple_id).await?;
    what_happens_next(state, &couple).await
}

/// What a piece of writing says about safety, from one reading by the coach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WritingSigns {
    /// The concern its sure signs make: the tier comes with them, and who
    /// may be at risk follows from their kind.
    pub concern: Option<Concern>,
    /// It holds possible signs and no sure one: the coach's word statistics
    /// found it likely, not certain. Nobody is told; the writer is shown help
    /// and offered to tell their therapist themselves ([`tell_therapist`]),
    /// so a misreading costs a kind card, not a notice about them.
    pub possible: bool,
}

pub fn writing_signs(body: &str) -> WritingSigns {
    use trellis_coach::{CrisisCategory, CrisisTier};
    let signs = trellis_coach::analyze(body).crisis_signs();
    let sure = || signs.iter().filter(|sign| !sign.tentative);
    // A sign only the word statistics read urgent is a distress concern
    // that may be urgent: an urgent flag pauses the couple's shared work
    // (which the other partner notices right after the writer saved), and
    // the statistics can be wrong. The therapist's notice says it may be
    // urgent, and the caseload and the couple page show it so.
    let concern = Concern::combine(sure().map(|sign| {
        let at_risk = match sign.category {
            CrisisCategory::Threat => AtRisk::Partner,
            CrisisCategory::SelfHarm
            | CrisisCategory::Suicidal
            | CrisisCategory::ViolenceReport
            | CrisisCategory::SexualCoercion
            | CrisisCategory::CoerciveControl => AtRisk::Themselves,
        };
        match (sign.tier, sign.statistical) {
            (CrisisTier::Urgent, false) => Concern::new(Tier::Urgent, at_risk),
            (CrisisTier::Urgent, true) => Concern::possibly_urgent(at_risk),
            (CrisisTier::Distress, _) => Concern::new(Tier::Distress, at_risk),
        }
    }));
    WritingSigns {
        concern,
        possible: concern.is_none() && !signs.is_empty(),
    }
}

/// Whether `person` has an open flag raised less than `within` ago that
/// already covers `concern` (as strong, and about everyone it puts at
/// risk): asking again, or confirming words already flagged, tells no one
/// twice, while anything stronger or about someone else is raised anew.
/// `only` narrows it to flags of one source.
pub async fn flagged_within(
    state: &AppState,
    person: &User,
    couple_id: &CoupleId,
    (within, only): (trellis_core::Millis, Option<ConcernSource>),
    concern: Concern,
) -> AppResult<bool> {
    let now = state.now();
    Ok(state
        .store()
        .safety_flags(couple_id)
        .await?
        .iter()
        .any(|flag| {
            let covers = Tier::parse(&flag.tier)
                .zip(AtRisk::parse(&flag.at_risk))
                .is_some_and(|(tier, at_risk)| {
                    Concern {
                        tier,
                        at_risk,
                        may_be_urgent: flag.may_be_urgent,
                    }
                    .covers(concern)
                });
            flag.user_id == person.id
                && only.is_none_or(|source| flag.source == source.as_str())
                && flag.resolved_at.is_none()
                && now - flag.created_at < within
                && covers
        }))
}

/// How long a partner's own request to tell their therapist stands: asking
/// again while it is open and this recent tells no one twice.
const TOLD_RECENTLY: trellis_core::Millis = trellis_core::time::HOUR;

/// A partner asks for their therapist to know they may not be safe (after a
/// possible sign, or whenever they choose): a flag like the one sure crisis
/// language raises, and the same notice. Asking again within the hour, while
/// that flag is open, sends nothing more. Answers what happens next.
#[tracing::instrument(skip_all, fields(user_id = %partner.id))]
pub async fn tell_therapist(state: &AppState, partner: &User) -> AppResult<String> {
    let couple_id = partner_couple(partner)?;
    let couple = state.store().couple(couple_id).await?;
    if couple.therapist_id.is_none() {
        return Err(Error::Conflict(
            "Your couple doesn't have a therapist on Trellis, so there is no one here to tell. The helplines are there for you at any hour.".to_owned(),
        ));
    }
    let concern = Concern::new(Tier::Distress, AtRisk::Themselves);
    // Only an earlier request of their own counts: it was made with a
    // therapist there to tell (it is refused otherwise), while a flag their
    // writing raised may date from before the couple had a therapist, when
    // no notice went out, and saying "we have sent your therapist a private
    // notice" would then be untrue.
    if flagged_within(
        state,
        partner,
        couple_id,
        (TOLD_RECENTLY, Some(ConcernSource::Asked)),
        concern,
    )
    .await?
    {
        return what_happens_next(state, &couple).await;
    }
    raise(
        state,
        partner,
        couple_id,
        concern,
        (Source::Asked, "asked for their therapist to know"),
    )
    .await
}

/// How strong a flag is and who may be at risk, as the store records it.
pub(crate) fn flag_level(concern: Concern) -> FlagLevel<'static> {
    FlagLevel {
        tier: concern.tier.as_str(),
        at_risk: concern.at_risk.as_str(),
        may_be_urgent: concern.rank().1,
    }
}

/// The sealed note a flag raised by writing carries (it names no words of
/// the writing).
pub async fn writing_flag_note(
    state: &AppState,
    author: &User,
    couple_id: &str,
) -> AppResult<Vec<u8>> {
    flag_note(state, author, couple_id, WRITING_NOTE).await
}

const WRITING_NOTE: &str = "crisis language in writing";

/// A flag's sealed note: why it was raised, never anyone's words.
async fn flag_note(
    state: &AppState,
    person: &User,
    couple_id: &str,
    why: &str,
) -> AppResult<Vec<u8>> {
    Ok(state
        .vault()
        .seal(
            state.store(),
            couple_id,
            why,
            &format!("safety:{}", person.id),
        )
        .await?)
}

/// Raises a flag for crisis language in something a partner wrote and
/// answers it (audit, notice). Returns what the writer is told next.
pub async fn raise_for_writing(
    state: &AppState,
    author: &User,
    couple_id: &CoupleId,
    concern: Concern,
) -> AppResult<String> {
    raise(
        state,
        author,
        couple_id,
        concern,
        (Source::Writing, WRITING_NOTE),
    )
    .await
}

/// Records a flag with its sealed note, then everything that follows it.
#[tracing::instrument(skip_all, fields(user_id = %person.id))]
async fn raise(
    state: &AppState,
    person: &User,
    couple_id: &CoupleId,
    concern: Concern,
    (source, why): (Source, &str),
) -> AppResult<String> {
    let note = flag_note(state, person, couple_id, why).await?;
    state
        .store()
        .record_concern(
            &person.id,
            couple_id,
            &note,
            (
                flag_level(concern),
                // (a safety check records its answers instead; it never
                // comes here)
                match source {
                    Source::Asked => ConcernSource::Asked,
                    Source::Writing | Source::Check => ConcernSource::Writing,
                },
            ),
            state.now(),
        )
        .await?;
    respond(state, person, couple_id, concern, source).await
}

/// Everything that follows a flag, whatever raised it: the audit entry, the
/// therapist's notice (sent before the request answers), and the words for
/// the person who raised it.
pub async fn respond(
    state: &AppState,
    person: &User,
    couple_id: &CoupleId,
    concern: Concern,
    source: Source,
) -> AppResult<String> {
    let couple = state.store().couple(couple_id).await?;
    let response = screening::respond(concern, couple.therapist_id.is_some());
    audit::record(
        state,
        audit::Event::new("safety_concern")
            .actor(person)
            .subject(&person.id)
            .couple(couple_id)
            .detail(&format!(
                "{}{} from the {}",
                concern.tier.as_str(),
                if concern.rank().1 {
                    " (may be urgent)"
                } else {
                    ""
                },
                source.as_str()
            )),
    )
    .await?;
    tracing::warn!(
        tier = concern.tier.as_str(),
        may_be_urgent = concern.rank().1,
        source = source.as_str(),
        "a safety concern was raised"
    );
    if response.notify_therapist
        && let Some(therapist_id) = couple.therapist_id.as_deref()
    {
        let therapist = state.store().user(therapist_id).await?;
        notices::notify(
            state,
            &therapist,
            Notice::SafetyConcern {
                urgent: response.urgent,
                may_be_urgent: response.may_be_urgent,
            },
        )
        .await?;
    }
    what_happens_next(state, &couple).await
}

/// The therapist's decision after talking with one partner alone.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DecisionInput {
    pub user_id: String,
    /// `conjoint_ok`, `individual_first`, `conjoint_contraindicated` or `referred`.
    pub decision: String,
    pub note: Option<String>,
    /// The flag this decision answers; without it, every open flag about
    /// this partner is answered.
    pub flag_id: Option<String>,
}

/// A recorded decision, as the API returns it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionRecorded {
    pub user_id: String,
    pub decision: String,
    /// Flags this decision closed.
    pub flags_closed: u64,
    /// Whether shared work is open now.
    pub shared_work_open: bool,
}

pub const NOTE_MAX_CHARS: usize = 2_000;

/// Records a screening decision. The couple's own therapist only; anyone
/// else gets `NotFound`, as if the couple did not exist.
#[tracing::instrument(skip_all, fields(therapist_id = %therapist.id, couple_id))]
pub async fn decide(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    input: &DecisionInput,
) -> AppResult<DecisionRecorded> {
    let couple = super::program::therapist_couple(state, therapist, couple_id).await?;
    let decision = Decision::parse(input.decision.trim()).ok_or_else(|| {
        Error::invalid(
            "decision",
            "Please choose one of: conjoint_ok, individual_first, conjoint_contraindicated, referred.",
        )
    })?;
    let members = state.store().couple_members(&couple.id).await?;
    let partner = members
        .iter()
        .find(|m| m.id == input.user_id)
        .ok_or_else(|| Error::invalid("user_id", "Please choose one of the couple's partners."))?;
    let note = within_limit(
        "note",
        "the note",
        input.note.as_deref().unwrap_or_default(),
        NOTE_MAX_CHARS,
    )?;
    let sealed = if note.is_empty() {
        None
    } else {
        Some(
            state
                .vault()
                .seal(
                    state.store(),
                    &couple.id,
                    note,
                    &format!("screening:{}", partner.id),
                )
                .await?,
        )
    };
    let flags_closed = state
        .store()
        .record_screening_decision(NewScreeningDecision {
            couple_id: &couple.id,
            user_id: &partner.id,
            decision: decision.as_str(),
            sealed_note: sealed.as_deref(),
            decided_by: &therapist.id,
            flag_id: input.flag_id.as_deref().filter(|id| !id.is_empty()),
            now: state.now(),
        })
        .await?;
    audit::record(
        state,
        audit::Event::new("screening_decision")
            .actor(therapist)
            .subject(&partner.id)
            .couple(&couple.id)
            .detail(&format!(
                "{} ({flags_closed} flags closed)",
                decision.as_str()
            )),
    )
    .await?;
    Ok(DecisionRecorded {
        user_id: partner.id.to_string(),
        decision: decision.as_str().to_owned(),
        flags_closed,
        shared_work_open: shared_work_open(state, &couple).await?,
    })
}

/// The therapist asks both partners to take the safety check again.
pub async fn request_rescreen(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
) -> AppResult<()> {
    let couple = super::program::therapist_couple(state, therapist, couple_id).await?;
    state
        .store()
        .request_rescreen(&couple.id, state.now())
        .await?;
    audit::record(
        state,
        audit::Event::new("rescreen_requested")
            .actor(therapist)
            .couple(&couple.id),
    )
    .await?;
    Ok(())
}

/// One answer of a partner's latest check, for their therapist.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnsweredItem {
    pub question: String,
    pub answer: String,
    pub concern: bool,
    /// A lethality marker.
    pub urgent: bool,
}

/// One partner's screening, as their therapist sees it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerScreening {
    pub user_id: String,
    pub name: String,
    pub checked_at: Option<i64>,
    /// The latest check, item by item.
    pub answers: Vec<AnsweredItem>,
    pub decision: Option<String>,
    pub decision_label: Option<String>,
    pub decided_at: Option<i64>,
    /// The therapist's own note with the decision.
    pub note: Option<String>,
    /// They closed shared work themselves.
    pub paused: bool,
}

/// A flag, as the therapist sees it: what kind, who may be at risk, and
/// what to do.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagView {
    pub id: String,
    /// `distress` or `urgent`.
    pub tier: String,
    /// A distress flag that may be urgent: the coach's word statistics read
    /// urgency in the writing that no rule confirmed, so shared work was not
    /// paused.
    pub may_be_urgent: bool,
    /// `check` (the safety check), `writing` (crisis language in what they
    /// wrote) or `asked` (they asked for their therapist to know).
    pub source: String,
    pub raised_by: String,
    pub raised_by_name: String,
    /// The names of the people who may be at risk.
    pub at_risk: Vec<String>,
    /// Who to reach, privately.
    pub guidance: String,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
    pub decision: Option<String>,
}

/// The safety panel of a couple, for its therapist.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScreeningPanel {
    pub shared_work_open: bool,
    pub partners: Vec<PartnerScreening>,
    pub flags: Vec<FlagView>,
    pub rescreen_requested_at: Option<i64>,
}

impl ScreeningPanel {
    /// Flags no decision has answered yet.
    pub fn open_flags(&self) -> usize {
        self.flags
            .iter()
            .filter(|f| f.resolved_at.is_none())
            .count()
    }

    /// Open flags that may be urgent.
    pub fn open_flags_may_be_urgent(&self) -> usize {
        self.flags
            .iter()
            .filter(|f| f.resolved_at.is_none() && f.may_be_urgent)
            .count()
    }
}

pub async fn panel(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
) -> AppResult<ScreeningPanel> {
    let couple = super::program::therapist_couple(state, therapist, couple_id).await?;
    let store = state.store();
    let members = store.couple_members(&couple.id).await?;
    let decisions = store.screening_decisions(&couple.id).await?;
    let checks = store.safety_checks(&couple.id).await?;
    let pauses = store.shared_work_pauses(&couple.id).await?;
    let check = &state.content().safety;
    let mut partners = Vec::new();
    for member in &members {
        let latest_check = checks.iter().rev().find(|c| c.user_id == member.id);
        let answers = match latest_check {
            Some(row) => {
                let answers = open_answers(state, &couple.id, &member.id, &row.answers).await?;
                check
                    .questions
                    .iter()
                    .map(|q| {
                        let answer = answers.get(&q.id).copied();
                        AnsweredItem {
                            question: q.text.clone(),
                            answer: answer.map_or("Not answered", Answer::label).to_owned(),
                            concern: q.is_concern(answer),
                            urgent: q.urgent,
                        }
                    })
                    .collect()
            }
            None => Vec::new(),
        };
        let latest = decisions.iter().rev().find(|d| d.user_id == member.id);
        let note = match latest.and_then(|d| d.note.as_deref()) {
            Some(sealed) => Some(
                state
                    .vault()
                    .open(
                        store,
                        &couple.id,
                        sealed,
                        &format!("screening:{}", member.id),
                    )
                    .await?,
            ),
            None => None,
        };
        let decision = latest.and_then(|d| Decision::parse(&d.decision));
        partners.push(PartnerScreening {
            user_id: member.id.to_string(),
            name: member.name.clone(),
            checked_at: latest_check.map(|c| c.created_at),
            answers,
            decision: decision.map(|d| d.as_str().to_owned()),
            decision_label: decision.map(|d| d.label().to_owned()),
            decided_at: latest.map(|d| d.decided_at),
            note,
            paused: pauses.iter().any(|p| *p == member.id),
        });
    }
    let flags = store
        .safety_flags(&couple.id)
        .await?
        .into_iter()
        .map(|flag| {
            let at_risk = AtRisk::parse(&flag.at_risk).unwrap_or(AtRisk::Themselves);
            let other = members
                .iter()
                .find(|m| m.id != flag.user_id)
                .map_or("their partner".to_owned(), |m| m.name.clone());
            let mut names = Vec::new();
            if at_risk.includes_themselves() {
                names.push(flag.user_name.clone());
            }
            if at_risk.includes_partner() {
                names.push(other);
            }
            let guidance = format!(
                "Reach {} privately, on their own, before any joint session or shared exercise. Do not raise this with both partners together.",
                names.join(" and ")
            );
            FlagView {
                id: flag.screening_id,
                may_be_urgent: flag.may_be_urgent
                    && Tier::parse(&flag.tier).is_some_and(|tier| tier != Tier::Urgent),
                tier: flag.tier,
                source: flag.source,
                raised_by: flag.user_id,
                raised_by_name: flag.user_name,
                at_risk: names,
                guidance,
                created_at: flag.created_at,
                resolved_at: flag.resolved_at,
                decision: flag.decision,
            }
        })
        .collect();
    Ok(ScreeningPanel {
        shared_work_open: shared_work_open(state, &couple).await?,
        partners,
        flags,
        rescreen_requested_at: store.rescreen_requested_at(&couple.id).await?,
    })
}

/// A partner's sealed answers: question id → answer.
pub async fn open_answers(
    state: &AppState,
    couple_id: &str,
    user_id: &str,
    sealed: &[u8],
) -> AppResult<BTreeMap<String, Answer>> {
    let json = state
        .vault()
        .open(
            state.store(),
            couple_id,
            sealed,
            &format!("safety:{user_id}"),
        )
        .await?;
    Ok(serde_json::from_str(&json).map_err(anyhow::Error::from)?)
}

/// The practice's safety settings, changed by one of its admins.
pub async fn change_practice_settings(
    state: &AppState,
    admin: &User,
    response_promise: &str,
    rescreen_weeks: i64,
) -> AppResult<()> {
    if admin.role != Role::Admin {
        return Err(Error::Forbidden);
    }
    let practice_id = admin.practice_id.as_deref().ok_or(Error::NotFound)?;
    let promise = within_limit(
        "response_promise",
        "this",
        response_promise,
        PROMISE_MAX_CHARS,
    )?;
    if !RESCREEN_WEEKS.contains(&rescreen_weeks) {
        return Err(Error::invalid(
            "rescreen_weeks",
            "Please choose between 1 and 52 weeks.",
        ));
    }
    state
        .store()
        .set_practice_safety_settings(
            practice_id,
            &PracticeSafetySettings {
                response_promise: promise.to_owned(),
                rescreen_weeks,
            },
        )
        .await?;
    audit::record(
        state,
        audit::Event::new("practice_safety_settings_changed").actor(admin),
    )
    .await?;
    Ok(())
}
