//! Promises kept and noticed, consistency without streaks, agreements both
//! partners sign, appreciations, and milestones computed from the data.
//! Promises and agreements are joint records: both partners and the couple's
//! therapist see them.

use serde::Serialize;
use trellis_core::EntryKind;
use trellis_core::Role;
use trellis_core::consistency::{
    self, Cadence, Day, Rates, WINDOW_DAYS, occurrences, parse_day, rates,
};
use trellis_core::privacy::{Audience, Item, Ownership, may_view, relation};
use trellis_core::time::{DAY, utc_date};
use trellis_core::{CoupleId, UserId};
use trellis_store::{AgreementRow, Couple, PromiseRow, User};

use super::program::couple_for;
use super::writing::{self, NewWriting};
use crate::error::{AppResult, Error};
use crate::state::AppState;

pub const APPRECIATION: EntryKind = EntryKind::Appreciation;
/// Acts of transparency ("I told you about the message before you asked").
pub const OPENNESS: EntryKind = EntryKind::Openness;

/// Today as a calendar day (UTC for now; a practice time zone would move this).
/// Today as a day number, on the calendar of the person acting or reading:
/// their own time zone, else their practice's, else UTC. (Partners of one
/// couple normally share a zone, so they agree on what "today" is.)
pub async fn today_for(state: &AppState, user: &User) -> AppResult<Day> {
    let zone = super::notices::zone_for(state, user).await?;
    Ok(crate::when::day_number(state.now(), &zone))
}

fn day_text(day: Day) -> String {
    utc_date(day * DAY)
}

async fn partner_couple(state: &AppState, partner: &User) -> AppResult<Couple> {
    if partner.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let couple_id = partner.couple_id.as_ref().ok_or(Error::NotFound)?;
    Ok(state.store().couple(couple_id).await?)
}

fn parse_text(field: &'static str, text: &str, max: usize) -> AppResult<String> {
    Ok(trellis_core::account::bounded_text(field, text, max)?)
}

/// Reads the cadence fields of a form or request (see
/// [`trellis_core::consistency::parse_cadence`]).
pub fn parse_cadence(kind: &str, days: &[String], due: Option<&str>) -> AppResult<Cadence> {
    Ok(trellis_core::consistency::parse_cadence(kind, days, due)?)
}

/// Seals a promise's words with the couple's key and stores it, starting today.
async fn store_promise(
    state: &AppState,
    couple_id: &CoupleId,
    owner_id: &UserId,
    text: &str,
    cadence: &Cadence,
    supersedes: Option<&str>,
    today: Day,
) -> AppResult<String> {
    if let Cadence::Once { due } = cadence
        && *due < today
    {
        return Err(Error::invalid(
            "due",
            "That date has passed; please choose today or later.",
        ));
    }
    let id = trellis_store::new_id();
    let sealed = state
        .vault()
        .seal(state.store(), couple_id, text, &format!("promise:{id}"))
        .await?;
    let cadence_json = serde_json::to_string(cadence).map_err(anyhow::Error::from)?;
    state
        .store()
        .insert_promise(
            &id,
            couple_id,
            owner_id,
            &sealed,
            &cadence_json,
            today,
            supersedes,
            state.now(),
        )
        .await?;
    Ok(id)
}

/// A new promise (or a renegotiated version of one of the partner's own).
pub async fn make_promise(
    state: &AppState,
    partner: &User,
    text: &str,
    cadence: Cadence,
    supersedes: Option<&str>,
) -> AppResult<String> {
    let couple = partner_couple(state, partner).await?;
    let text = parse_text("text", text, 300)?;
    // New commitments to each other wait while shared work is closed.
    super::safety::require_shared_work(state, &couple.id).await?;
    if let Some(old) = supersedes {
        let old = state.store().promise(old).await?;
        if old.couple_id != couple.id {
            return Err(Error::NotFound);
        }
        if old.owner_id != partner.id {
            return Err(Error::Forbidden);
        }
    }
    let today = today_for(state, partner).await?;
    store_promise(
        state,
        &couple.id,
        &partner.id,
        &text,
        &cadence,
        supersedes,
        today,
    )
    .await
}

/// A promise of the viewer's couple, or `NotFound`.
async fn promise_for(state: &AppState, viewer: &User, id: &str) -> AppResult<PromiseRow> {
    let promise = state.store().promise(id).await?;
    couple_for(state, viewer, &promise.couple_id)
        .await
        .map_err(|_| Error::NotFound)?;
    Ok(promise)
}

/// The day a mark is for: the one given, or today on the marker's calendar.
async fn day_or_today(state: &AppState, marker: &User, date: Option<&str>) -> AppResult<Day> {
    let today = today_for(state, marker).await?;
    match date.map(str::trim).filter(|d| !d.is_empty()) {
        None => Ok(today),
        Some(text) => {
            let day = parse_day(text)
                .ok_or_else(|| Error::invalid("date", "Please give the date as YYYY-MM-DD."))?;
            if day > today {
                return Err(Error::invalid("date", "That day has not come yet."));
            }
            Ok(day)
        }
    }
}

/// A ritual of connection: a shared moment either partner ticks off.
pub async fn make_ritual(
    state: &AppState,
    partner: &User,
    text: &str,
    cadence: Cadence,
) -> AppResult<String> {
    let id = make_promise(state, partner, text, cadence, None).await?;
    state.store().set_promise_kind(&id, true, None).await?;
    Ok(id)
}

/// The therapist suggests a promise in session; it waits for the partner.
pub async fn propose_promise(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    partner_id: &str,
    text: &str,
    cadence: Cadence,
) -> AppResult<String> {
    if therapist.role != Role::Therapist {
        return Err(Error::Forbidden);
    }
    let couple = couple_for(state, therapist, couple_id).await?;
    let members = state.store().couple_members(&couple.id).await?;
    let partner = members
        .iter()
        .find(|m| m.id == partner_id)
        .ok_or_else(|| Error::invalid("partner_id", "Please choose one of the two partners."))?;
    super::safety::require_shared_work(state, &couple.id).await?;
    let text = parse_text("text", text, 300)?;
    let today = today_for(state, therapist).await?;
    let id = store_promise(state, &couple.id, &partner.id, &text, &cadence, None, today).await?;
    state
        .store()
        .set_promise_kind(&id, false, Some(&therapist.id))
        .await?;
    Ok(id)
}

/// The partner takes on what their therapist suggested.
pub async fn accept_proposal(state: &AppState, partner: &User, id: &str) -> AppResult<()> {
    let promise = promise_for(state, partner, id).await?;
    if promise.owner_id != partner.id {
        return Err(Error::Forbidden);
    }
    super::safety::require_shared_work(state, &promise.couple_id).await?;
    state
        .store()
        .accept_proposal(
            &promise.id,
            &partner.id,
            today_for(state, partner).await?,
            state.now(),
        )
        .await
        .map_err(|err| match err {
            trellis_store::StoreError::Gone => {
                Error::Conflict("This promise is already yours.".to_owned())
            }
            other => other.into(),
        })
}

/// The one who promised marks it kept.
pub async fn kept(state: &AppState, partner: &User, id: &str, date: Option<&str>) -> AppResult<()> {
    let promise = promise_for(state, partner, id).await?;
    // A ritual belongs to both; a promise to the one who made it.
    if partner.role != Role::Partner || (!promise.ritual && promise.owner_id != partner.id) {
        return Err(Error::Forbidden);
    }
    if promise.ritual {
        super::safety::require_shared_work(state, &promise.couple_id).await?;
    }
    if promise.proposal_pending {
        return Err(Error::Conflict(
            "Take this promise on first; then you can mark it kept.".to_owned(),
        ));
    }
    let day = day_or_today(state, partner, date).await?;
    state
        .store()
        .mark_kept(&promise.id, day, state.now())
        .await?;
    Ok(())
}

/// The partner marks "I noticed" (with an optional word of thanks). The
/// owner cannot notice their own promise.
pub async fn noticed(
    state: &AppState,
    partner: &User,
    id: &str,
    date: Option<&str>,
    thanks: Option<&str>,
) -> AppResult<()> {
    let promise = promise_for(state, partner, id).await?;
    if partner.role != Role::Partner || promise.owner_id == partner.id {
        return Err(Error::Forbidden);
    }
    if promise.ritual {
        return Err(Error::Conflict(
            "A ritual is something you do together: tick it off instead.".to_owned(),
        ));
    }
    let day = day_or_today(state, partner, date).await?;
    let sealed = match thanks.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => Some(
            state
                .vault()
                .seal(
                    state.store(),
                    &promise.couple_id,
                    &parse_text("thanks", text, 300)?,
                    &format!("thanks:{}:{day}", promise.id),
                )
                .await?,
        ),
        None => None,
    };
    state
        .store()
        .mark_noticed(&promise.id, day, sealed.as_deref(), state.now())
        .await?;
    Ok(())
}

pub async fn set_status(state: &AppState, partner: &User, id: &str, status: &str) -> AppResult<()> {
    let promise = promise_for(state, partner, id).await?;
    if promise.owner_id != partner.id {
        return Err(Error::Forbidden);
    }
    if !matches!(status, "active" | "paused" | "ended") {
        return Err(Error::invalid(
            "status",
            "Please choose active, paused or ended.",
        ));
    }
    if promise.status == "ended" {
        return Err(Error::Conflict(
            "This promise has ended; you can make a new one.".to_owned(),
        ));
    }
    state
        .store()
        .set_promise_status(
            &promise.id,
            status,
            today_for(state, partner).await?,
            state.now(),
        )
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromiseView {
    pub id: String,
    pub owner_id: String,
    pub owner_name: String,
    pub mine: bool,
    pub text: String,
    pub cadence: String,
    pub status: String,
    pub due_today: bool,
    pub kept_today: bool,
    pub noticed_today: bool,
    pub follow_through_rate: Option<f64>,
    pub noticed_rate: Option<f64>,
    /// Words of thanks the partner added, newest first.
    pub thanks: Vec<String>,
    /// A shared ritual either partner ticks off.
    pub ritual: bool,
    /// Suggested by the therapist, waiting for the partner to take it on.
    pub pending: bool,
    /// Context the owner gave for missed days, where the viewer may read it:
    /// `(date, text)`.
    pub missed_context: Vec<(String, String)>,
}

fn describe_cadence(cadence: &Cadence) -> String {
    const NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    match cadence {
        Cadence::Once { due } => format!("once, by {}", day_text(*due)),
        Cadence::Daily => "every day".to_owned(),
        Cadence::Weekly { days } => format!(
            "every {}",
            days.iter()
                .map(|d| NAMES[usize::from(*d) % 7])
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The rates of one promise over `from..=to`.
async fn promise_rates(
    state: &AppState,
    promise: &PromiseRow,
    cadence: &Cadence,
    from: Day,
    to: Day,
) -> AppResult<Rates> {
    let pauses = state.store().promise_pauses(&promise.id, to).await?;
    let marks = state.store().promise_marks(&promise.id).await?;
    Ok(rates_between(
        promise.start_day,
        cadence,
        &marks,
        &pauses,
        from,
        to,
    ))
}

/// The rates of one promise over `from..=to`, from its marks and pauses.
fn rates_between(
    start_day: Day,
    cadence: &Cadence,
    marks: &[trellis_store::MarkRow],
    pauses: &[(i64, i64)],
    from: Day,
    to: Day,
) -> Rates {
    let due = occurrences(cadence, start_day, from, to, pauses);
    let kept: Vec<Day> = marks.iter().filter(|m| m.kept).map(|m| m.day).collect();
    let noticed: Vec<Day> = marks.iter().filter(|m| m.noticed).map(|m| m.day).collect();
    rates(&due, &kept, &noticed)
}

pub async fn promises(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<Vec<PromiseView>> {
    let couple = couple_for(state, viewer, couple_id).await?;
    let members = state.store().couple_members(&couple.id).await?;
    let today = today_for(state, viewer).await?;
    let mut views = Vec::new();
    for promise in state.store().promises_of_couple(&couple.id).await? {
        let cadence: Cadence =
            serde_json::from_str(&promise.cadence).map_err(anyhow::Error::from)?;
        let text = state
            .vault()
            .open(
                state.store(),
                &couple.id,
                &promise.text,
                &format!("promise:{}", promise.id),
            )
            .await?;
        let marks = state.store().promise_marks(&promise.id).await?;
        let window =
            promise_rates(state, &promise, &cadence, today - WINDOW_DAYS + 1, today).await?;
        let pauses = state.store().promise_pauses(&promise.id, today).await?;
        let mut thanks = Vec::new();
        for mark in marks.iter().rev() {
            if let Some(sealed) = &mark.thanks {
                thanks.push(
                    state
                        .vault()
                        .open(
                            state.store(),
                            &couple.id,
                            sealed,
                            &format!("thanks:{}:{}", promise.id, mark.day),
                        )
                        .await?,
                );
            }
        }
        let today_mark = marks.iter().find(|m| m.day == today);
        let mut missed_context = Vec::new();
        for mark in &marks {
            let (Some(sealed), Some(audience)) = (
                &mark.context,
                mark.context_audience.as_deref().and_then(Audience::parse),
            ) else {
                continue;
            };
            let relation = relation(
                viewer.as_viewer(),
                Ownership {
                    author_id: &promise.owner_id,
                    couple_id: &couple.id,
                    couple_therapist_id: couple.therapist_id.as_ref(),
                    addressed_to: None,
                },
            );
            if may_view(relation, Item::Writing { audience }) {
                let text = state
                    .vault()
                    .open(
                        state.store(),
                        &couple.id,
                        sealed,
                        &format!("context:{}:{}", promise.id, mark.day),
                    )
                    .await?;
                missed_context.push((day_text(mark.day), text));
            }
        }
        views.push(PromiseView {
            owner_name: members
                .iter()
                .find(|m| m.id == promise.owner_id)
                .map_or_else(
                    || trellis_store::FORMER_MEMBER.to_owned(),
                    |m| m.name.clone(),
                ),
            mine: promise.owner_id == viewer.id,
            due_today: promise.status == "active"
                && !occurrences(&cadence, promise.start_day, today, today, &pauses).is_empty(),
            kept_today: today_mark.is_some_and(|m| m.kept),
            noticed_today: today_mark.is_some_and(|m| m.noticed),
            follow_through_rate: window.follow_through_rate,
            noticed_rate: window.noticed_rate,
            cadence: describe_cadence(&cadence),
            status: promise.status.clone(),
            owner_id: promise.owner_id.to_string(),
            id: promise.id,
            text,
            thanks,
            missed_context,
            ritual: promise.ritual,
            pending: promise.proposal_pending,
        });
    }
    Ok(views)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerConsistency {
    pub user_id: String,
    pub name: String,
    pub follow_through_rate: Option<f64>,
    pub noticed_rate: Option<f64>,
    pub due: usize,
    pub kept: usize,
    pub noticed: usize,
    /// The same rate over the four weeks before: the trend.
    pub previous_follow_through_rate: Option<f64>,
    /// Kind words for the rate; never a broken streak.
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consistency {
    pub window_days: i64,
    pub partners: Vec<PartnerConsistency>,
}

pub async fn consistency(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<Consistency> {
    let couple = couple_for(state, viewer, couple_id).await?;
    let scope = trellis_store::Scope::Couple(&couple.id);
    let store = state.store();
    let today = today_for(state, viewer).await?;
    let members = store.couple_members(&couple.id).await?;
    let promises = store.promises_in(scope).await?;
    let marks = store
        .promise_marks_in(scope, today - 2 * WINDOW_DAYS)
        .await?;
    let pauses = store.promise_pauses_in(scope, today).await?;
    Ok(Consistency {
        window_days: WINDOW_DAYS,
        partners: consistency_from(&members, &promises, &marks, &pauses, today)?,
    })
}

/// Each member's follow-through over the last four weeks and the four
/// before, from the couple's promises and their marks and pauses (keyed by
/// promise id, marks from at least eight weeks back).
pub(crate) fn consistency_from(
    members: &[User],
    promises: &[PromiseRow],
    marks: &std::collections::HashMap<String, Vec<trellis_store::MarkRow>>,
    pauses: &std::collections::HashMap<String, Vec<(i64, i64)>>,
    today: Day,
) -> AppResult<Vec<PartnerConsistency>> {
    let no_marks = Vec::new();
    let no_pauses = Vec::new();
    let mut partners = Vec::new();
    for member in members {
        let mut current = Vec::new();
        let mut previous = Vec::new();
        for promise in promises
            .iter()
            .filter(|p| p.owner_id == member.id && !p.ritual && !p.proposal_pending)
        {
            let cadence: Cadence =
                serde_json::from_str(&promise.cadence).map_err(anyhow::Error::from)?;
            let marks = marks.get(&promise.id).unwrap_or(&no_marks);
            let pauses = pauses.get(&promise.id).unwrap_or(&no_pauses);
            let window = |from: Day, to: Day| {
                rates_between(promise.start_day, &cadence, marks, pauses, from, to)
            };
            current.push(window(today - WINDOW_DAYS + 1, today));
            previous.push(window(today - 2 * WINDOW_DAYS + 1, today - WINDOW_DAYS));
        }
        let now_rates = consistency::combine(&current);
        let before = consistency::combine(&previous);
        partners.push(PartnerConsistency {
            user_id: member.id.to_string(),
            name: member.name.clone(),
            follow_through_rate: now_rates.follow_through_rate,
            noticed_rate: now_rates.noticed_rate,
            due: now_rates.due,
            kept: now_rates.kept,
            noticed: now_rates.noticed,
            previous_follow_through_rate: before.follow_through_rate,
            summary: consistency::describe(now_rates.follow_through_rate).to_owned(),
        });
    }
    Ok(partners)
}

/// Week by week over the last eight weeks: each partner's share of due
/// promises kept, in percent (weeks with nothing due are left out).
pub async fn weekly_follow_through(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<Vec<(String, Vec<(i64, i64)>)>> {
    let couple = couple_for(state, viewer, couple_id).await?;
    let members = state.store().couple_members(&couple.id).await?;
    let promises = state.store().promises_of_couple(&couple.id).await?;
    let today = today_for(state, viewer).await?;
    let mut out = Vec::new();
    for member in members {
        let mut points = Vec::new();
        for week in (0..8).rev() {
            let to = today - week * 7;
            let from = to - 6;
            let mut week_rates = Vec::new();
            for promise in promises
                .iter()
                .filter(|p| p.owner_id == member.id && !p.ritual && !p.proposal_pending)
            {
                let cadence: Cadence =
                    serde_json::from_str(&promise.cadence).map_err(anyhow::Error::from)?;
                week_rates.push(promise_rates(state, promise, &cadence, from, to).await?);
            }
            if let Some(rate) = consistency::combine(&week_rates).follow_through_rate {
                points.push((to * DAY, (rate * 100.0).round() as i64));
            }
        }
        out.push((member.name, points));
    }
    Ok(out)
}

// --- agreements --------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementView {
    pub id: String,
    pub title: String,
    pub body: String,
    pub status: String,
    pub proposed_by: String,
    pub proposed_by_me: bool,
    pub agreed_by: Option<String>,
    pub agreed_on: Option<String>,
    pub proposed_on: String,
    pub supersedes: Option<String>,
}

pub async fn propose_agreement(
    state: &AppState,
    partner: &User,
    title: &str,
    body: &str,
    supersedes: Option<&str>,
) -> AppResult<String> {
    let couple = partner_couple(state, partner).await?;
    let title = parse_text("title", title, 120)?;
    let body = parse_text("text", body, 4_000)?;
    super::safety::require_shared_work(state, &couple.id).await?;
    if let Some(old) = supersedes {
        let old = state.store().agreement(old).await?;
        if old.couple_id != couple.id {
            return Err(Error::NotFound);
        }
    }
    let id = trellis_store::new_id();
    let sealed_title = state
        .vault()
        .seal(
            state.store(),
            &couple.id,
            &title,
            &format!("agreement-title:{id}"),
        )
        .await?;
    let sealed_body = state
        .vault()
        .seal(state.store(), &couple.id, &body, &format!("agreement:{id}"))
        .await?;
    state
        .store()
        .insert_agreement(
            &id,
            &couple.id,
            &sealed_title,
            &sealed_body,
            &partner.id,
            supersedes,
            state.now(),
        )
        .await?;
    Ok(id)
}

/// In force only once the other partner accepts; the proposer cannot accept.
pub async fn accept_agreement(state: &AppState, partner: &User, id: &str) -> AppResult<()> {
    let agreement = state.store().agreement(id).await?;
    couple_for(state, partner, &agreement.couple_id)
        .await
        .map_err(|_| Error::NotFound)?;
    if partner.role != Role::Partner || agreement.proposed_by == partner.id {
        return Err(Error::Forbidden);
    }
    super::safety::require_shared_work(state, &agreement.couple_id).await?;
    state
        .store()
        .accept_agreement(&agreement.id, &partner.id, state.now())
        .await
        .map_err(|err| match err {
            trellis_store::StoreError::Gone => {
                Error::Conflict("This agreement is not waiting for an answer any more.".to_owned())
            }
            other => other.into(),
        })
}

pub async fn agreements(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<Vec<AgreementView>> {
    let couple = couple_for(state, viewer, couple_id).await?;
    let members = state.store().couple_members(&couple.id).await?;
    let name = |id: &str| {
        members.iter().find(|m| m.id == id).map_or_else(
            || trellis_store::FORMER_MEMBER.to_owned(),
            |m| m.name.clone(),
        )
    };
    let mut views = Vec::new();
    for row in state.store().agreements_of_couple(&couple.id).await? {
        views.push(agreement_view(state, viewer, &row, &name).await?);
    }
    Ok(views)
}

async fn agreement_view(
    state: &AppState,
    viewer: &User,
    row: &AgreementRow,
    name: &impl Fn(&str) -> String,
) -> AppResult<AgreementView> {
    Ok(AgreementView {
        id: row.id.clone(),
        title: state
            .vault()
            .open(
                state.store(),
                &row.couple_id,
                &row.title,
                &format!("agreement-title:{}", row.id),
            )
            .await?,
        body: state
            .vault()
            .open(
                state.store(),
                &row.couple_id,
                &row.body,
                &format!("agreement:{}", row.id),
            )
            .await?,
        status: row.status.clone(),
        proposed_by: name(&row.proposed_by),
        proposed_by_me: row.proposed_by == viewer.id,
        agreed_by: row.agreed_by.as_deref().map(name),
        agreed_on: row.agreed_at.map(utc_date),
        proposed_on: utc_date(row.created_at),
        supersedes: row.supersedes.clone(),
    })
}

/// A note of thanks or admiration to the partner.
pub async fn appreciate(
    state: &AppState,
    partner: &User,
    body: &str,
    with_therapist: bool,
) -> AppResult<String> {
    let audience = if with_therapist {
        Audience::PartnerAndTherapist
    } else {
        Audience::Partner
    };
    let entry = writing::write(
        state,
        partner,
        NewWriting {
            kind: APPRECIATION,
            ref_id: None,
            body,
            audience,
        },
    )
    .await?;
    Ok(entry.id)
}

/// True when the partner has written no appreciation in the last seven days.
pub async fn appreciation_due(state: &AppState, partner: &User) -> AppResult<bool> {
    if partner.role != Role::Partner || partner.couple_id.is_none() {
        return Ok(false);
    }
    let reader = writing::reader(state, partner);
    let filter = trellis_store::EntryFilter {
        kind: Some(APPRECIATION),
        author_id: Some(&partner.id),
        ..trellis_store::EntryFilter::default()
    };
    let latest = state.store().entries_for(reader, filter, 1).await?;
    Ok(latest
        .first()
        .is_none_or(|e| state.now() - e.created_at > 7 * DAY))
}

/// Context for a missed day, private or for the therapist.
pub async fn missed_context(
    state: &AppState,
    partner: &User,
    id: &str,
    date: Option<&str>,
    body: &str,
    audience: Audience,
) -> AppResult<()> {
    let promise = promise_for(state, partner, id).await?;
    if promise.owner_id != partner.id {
        return Err(Error::Forbidden);
    }
    if !matches!(audience, Audience::Me | Audience::Therapist) {
        return Err(Error::invalid(
            "audience",
            "Context for a missed day is for you, or for you and your therapist.",
        ));
    }
    let day = day_or_today(state, partner, date).await?;
    let text = parse_text("body", body, 1_000)?;
    let sealed = state
        .vault()
        .seal(
            state.store(),
            &promise.couple_id,
            &text,
            &format!("context:{}:{day}", promise.id),
        )
        .await?;
    state
        .store()
        .mark_context(&promise.id, day, &sealed, audience.as_str())
        .await?;
    Ok(())
}

/// An entry in the openness log; the author picks its audience as always.
pub async fn record_openness(
    state: &AppState,
    partner: &User,
    body: &str,
    audience: Audience,
) -> AppResult<String> {
    let entry = writing::write(
        state,
        partner,
        NewWriting {
            kind: OPENNESS,
            ref_id: None,
            body,
            audience,
        },
    )
    .await?;
    Ok(entry.id)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Milestone {
    pub kind: String,
    /// Warm words for both partners.
    pub message: String,
}

/// Milestones this partner has not been shown yet; they are marked seen, so
/// each celebration appears once (the journey review keeps them all).
pub async fn new_celebrations(
    state: &AppState,
    partner: &User,
    couple_id: &CoupleId,
) -> AppResult<Vec<String>> {
    let all = milestones(state, partner, couple_id).await?;
    let keys: Vec<String> = all
        .iter()
        .map(|m| format!("{}:{}", m.kind, m.message))
        .collect();
    let new = state
        .store()
        .first_sightings(&partner.id, &keys, state.now())
        .await?;
    Ok(all
        .into_iter()
        .zip(keys)
        .filter(|(_, key)| new.contains(key))
        .map(|(m, _)| m.message)
        .collect())
}

/// Milestones computed from the data, never set by hand.
pub async fn milestones(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<Vec<Milestone>> {
    let mut found = Vec::new();
    let consistency = consistency(state, viewer, couple_id).await?;
    for partner in &consistency.partners {
        let rates = Rates {
            due: partner.due,
            kept: partner.kept,
            noticed: partner.noticed,
            follow_through_rate: partner.follow_through_rate,
            noticed_rate: partner.noticed_rate,
        };
        if consistency::steady_follow_through(&rates) {
            found.push(Milestone {
                kind: "steady_follow_through".to_owned(),
                message: format!(
                    "{} kept at least 80% of their promises over the last four weeks.",
                    partner.name
                ),
            });
        }
    }
    let journey = super::program::journey(state, viewer, couple_id).await?;
    let members = journey.partners.len();
    for stage in &journey.stages {
        if members == 2
            && !stage.exercises.is_empty()
            && stage.exercises.iter().all(|e| e.done_by.len() == 2)
        {
            found.push(Milestone {
                kind: "stage_completed".to_owned(),
                message: format!("Together you completed \"{}\".", stage.title),
            });
        }
    }
    let couple = couple_for(state, viewer, couple_id).await?;
    let (first, count) = state.store().appreciation_stats(&couple.id).await?;
    if consistency::month_of_appreciations(first, count, state.now()) {
        found.push(Milestone {
            kind: "month_of_appreciations".to_owned(),
            message: "A whole month of appreciating each other. That matters.".to_owned(),
        });
    }
    if state
        .store()
        .agreements_of_couple(couple_id)
        .await?
        .iter()
        .any(|a| a.status == "agreed")
    {
        found.push(Milestone {
            kind: "first_agreement".to_owned(),
            message: "You made your first agreement together.".to_owned(),
        });
    }
    Ok(found)
}
