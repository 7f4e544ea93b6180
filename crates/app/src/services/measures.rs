//! Measures: taking them, scoring them, and who may see the results — the
//! partner only if the person shares, the therapist only under recorded
//! consent (both through `privacy::may_view`) — plus alerts for therapists.

use std::collections::BTreeMap;
use trellis_core::{CoupleId, UserId};

use serde::Serialize;
use trellis_core::Role;
use trellis_core::measures::{
    Alert, Band, ChangeAssessment, Instrument, Point, assess_change, gap_alert, is_due,
    partner_alerts,
};
use trellis_core::privacy::{Item, Ownership, may_view, relation};
use trellis_store::{MeasureRow, NewMeasure, User};

use super::audit;
use super::program::couple_for;
use crate::error::{AppResult, Error};
use crate::state::AppState;

/// What a person gets back after taking a measure.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MeasureResult {
    pub id: String,
    pub instrument: String,
    pub score: i64,
    pub range: (i64, i64),
    pub cutoff: Option<f64>,
    /// `below_cutoff`, `at_or_above_cutoff` or `no_cutoff`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub band: Band,
    pub change_from_baseline: Option<i64>,
    pub change_from_last: Option<i64>,
    /// Only where the instrument's SD and reliability are published; `null` otherwise.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub reliable_change: Option<ChangeAssessment>,
    pub taken_at: i64,
}

/// The context a measure's score is sealed with.
pub fn score_context(id: &str) -> String {
    format!("measure-score:{id}")
}

/// One person's results, oldest first, scores opened. Callers check first
/// that the reader may see them.
pub async fn measures_of(state: &AppState, user_id: &UserId) -> AppResult<Vec<MeasureRow>> {
    open_scores(state, state.store().measures_of(user_id).await?).await
}

/// The rows with their sealed scores opened.
pub(crate) async fn open_scores(
    state: &AppState,
    mut rows: Vec<MeasureRow>,
) -> AppResult<Vec<MeasureRow>> {
    for row in &mut rows {
        if let Some(sealed) = &row.score_sealed {
            let text = state
                .vault()
                .open(
                    state.store(),
                    &row.couple_id,
                    sealed,
                    &score_context(&row.id),
                )
                .await?;
            row.score = text
                .parse()
                .map_err(|_| anyhow::anyhow!("measure {} has a malformed score", row.id))?;
        }
    }
    Ok(rows)
}

fn result_for(instrument: &Instrument, history: &[MeasureRow], index: usize) -> MeasureResult {
    let row = &history[index.min(history.len().saturating_sub(1))];
    let first = history.first().filter(|f| f.id != row.id);
    let previous = index.checked_sub(1).and_then(|i| history.get(i));
    MeasureResult {
        id: row.id.clone(),
        instrument: instrument.id.clone(),
        score: row.score,
        range: instrument.range,
        cutoff: instrument.cutoff,
        band: instrument.band(row.score),
        change_from_baseline: first.map(|f| row.score - f.score),
        change_from_last: previous.map(|p| row.score - p.score),
        reliable_change: match (first, &instrument.psychometrics) {
            (Some(f), Some(p)) => Some(assess_change(
                f.score as f64,
                row.score as f64,
                p,
                instrument.cutoff,
            )),
            _ => None,
        },
        taken_at: row.created_at,
    }
}

/// A partner takes a measure. Nothing is saved unless every answer is valid.
#[tracing::instrument(skip_all, fields(user_id = %partner.id, instrument = instrument_id))]
pub async fn submit(
    state: &AppState,
    partner: &User,
    instrument_id: &str,
    answers: &BTreeMap<String, i64>,
    note: Option<&str>,
) -> AppResult<MeasureResult> {
    if partner.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let couple_id = partner.couple_id.as_ref().ok_or(Error::NotFound)?;
    let instrument = state.content().instrument(instrument_id).ok_or_else(|| {
        Error::invalid(
            "instrument",
            format!("There is no measure \"{instrument_id}\": use csi16, csi4 or trust-pulse."),
        )
    })?;
    let score = instrument.score(answers).map_err(|(item, why)| {
        Error::Invalid(vec![trellis_core::ValidationError::new(
            "answers",
            format!("Item {item}: {why}."),
        )])
    })?;
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2_000) {
        return Err(Error::invalid(
            "note",
            "Please keep the note to 2000 characters or fewer.",
        ));
    }
    let id = trellis_store::new_id();
    let json = serde_json::to_string(answers).map_err(anyhow::Error::from)?;
    let sealed_answers = state
        .vault()
        .seal(state.store(), couple_id, &json, &format!("measure:{id}"))
        .await?;
    let score_sealed = state
        .vault()
        .seal(
            state.store(),
            couple_id,
            &score.to_string(),
            &score_context(&id),
        )
        .await?;
    let sealed_note = match note {
        Some(text) => Some(
            state
                .vault()
                .seal(
                    state.store(),
                    couple_id,
                    text,
                    &format!("measure-note:{id}"),
                )
                .await?,
        ),
        None => None,
    };
    state
        .store()
        .insert_measure(NewMeasure {
            id: &id,
            user_id: &partner.id,
            couple_id,
            instrument_id: &instrument.id,
            score_sealed: &score_sealed,
            answers: &sealed_answers,
            note: sealed_note.as_deref(),
            now: state.now(),
        })
        .await?;
    let history: Vec<MeasureRow> = measures_of(state, &partner.id)
        .await?
        .into_iter()
        .filter(|m| m.instrument_id == instrument.id)
        .collect();
    let index = history
        .iter()
        .position(|m| m.id == id)
        .unwrap_or(history.len().saturating_sub(1));
    Ok(result_for(instrument, &history, index))
}

/// May `viewer` see `subject`'s scores? The subject's own choices decide.
async fn may_see_scores(state: &AppState, viewer: &User, subject: &User) -> AppResult<bool> {
    let Some(couple_id) = subject.couple_id.as_ref() else {
        return Ok(viewer.id == subject.id);
    };
    let couple = state.store().couple(couple_id).await?;
    let sharing = state.store().score_sharing(&subject.id).await?;
    Ok(scores_visible(
        viewer,
        subject,
        couple_id,
        couple.therapist_id.as_ref(),
        sharing,
    ))
}

/// Whether `viewer` may see the scores of `subject`, a member of
/// `couple_id`, who shares them as `(with the therapist, with the partner)`.
pub(crate) fn scores_visible(
    viewer: &User,
    subject: &User,
    couple_id: &CoupleId,
    couple_therapist_id: Option<&UserId>,
    (therapist_consent, shared_with_partner): (bool, bool),
) -> bool {
    let relation = relation(
        viewer.as_viewer(),
        Ownership {
            author_id: &subject.id,
            couple_id,
            couple_therapist_id,
            addressed_to: None,
        },
    );
    may_view(
        relation,
        Item::MeasureScores {
            shared_with_partner,
            therapist_consent,
        },
    )
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trend {
    pub instrument: String,
    pub title: String,
    pub range: (i64, i64),
    pub cutoff: Option<f64>,
    /// `(taken at, score)`, oldest first.
    pub points: Vec<(i64, i64)>,
    pub latest: Option<MeasureResult>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonTrends {
    pub user_id: String,
    pub name: String,
    /// False when this person keeps their scores to themselves.
    pub visible: bool,
    pub trends: Vec<Trend>,
}

async fn trends_of(state: &AppState, viewer: &User, subject: &User) -> AppResult<PersonTrends> {
    if !may_see_scores(state, viewer, subject).await? {
        return Ok(hidden_trends(subject));
    }
    // Only this couple's history: a former couple's scores stay there.
    let rows: Vec<MeasureRow> = measures_of(state, &subject.id)
        .await?
        .into_iter()
        .filter(|m| Some(m.couple_id.as_str()) == subject.couple_id.as_deref())
        .collect();
    Ok(trends_from(state.content(), subject, &rows))
}

/// A person's trends from their check-ins in this couple (scores opened).
pub(crate) fn trends_from(
    content: &crate::content::Content,
    subject: &User,
    rows: &[MeasureRow],
) -> PersonTrends {
    let trends = content
        .instruments
        .iter()
        .map(|instrument| {
            let history: Vec<MeasureRow> = rows
                .iter()
                .filter(|m| m.instrument_id == instrument.id)
                .cloned()
                .collect();
            Trend {
                instrument: instrument.id.clone(),
                title: instrument.short_title.clone(),
                range: instrument.range,
                cutoff: instrument.cutoff,
                points: history.iter().map(|m| (m.created_at, m.score)).collect(),
                latest: (!history.is_empty())
                    .then(|| result_for(instrument, &history, history.len() - 1)),
            }
        })
        .collect();
    PersonTrends {
        user_id: subject.id.to_string(),
        name: subject.name.clone(),
        visible: true,
        trends,
    }
}

/// A person whose scores the viewer may not see: only their name.
pub(crate) fn hidden_trends(subject: &User) -> PersonTrends {
    PersonTrends {
        user_id: subject.id.to_string(),
        name: subject.name.clone(),
        visible: false,
        trends: Vec::new(),
    }
}

/// Which check-ins are due for a partner now.
/// Mails each partner with a check-in waiting, at most once a week, if they
/// want reminders (the in-app reminder on their home is always there).
pub async fn mail_due_checkins(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let mut sent = 0;
    for partner in state.store().partners_in_couples().await? {
        if due(state, &partner).await?.is_empty() {
            continue;
        }
        if state
            .store()
            .claim_checkin_notice(&partner.id, now, now - 6 * trellis_core::time::DAY)
            .await?
        {
            super::notices::notify(state, &partner, super::notices::Notice::CheckInDue).await?;
            sent += 1;
        }
    }
    Ok(sent)
}

pub async fn due(state: &AppState, partner: &User) -> AppResult<Vec<&'static str>> {
    let Some(couple_id) = partner.couple_id.as_ref() else {
        return Ok(Vec::new());
    };
    let cadence = state.store().cadence_days(couple_id).await?;
    let rows = measures_of(state, &partner.id).await?;
    let last = |id: &str| {
        rows.iter()
            .filter(|m| m.instrument_id == id)
            .map(|m| m.created_at)
            .max()
    };
    let mut due = Vec::new();
    if last("csi16").is_none() {
        due.push("csi16");
    }
    for id in ["csi4", "trust-pulse"] {
        // The baseline counts as this week's CSI-4.
        let latest = if id == "csi4" {
            last("csi4").max(last("csi16"))
        } else {
            last(id)
        };
        if is_due(latest, cadence, state.now()) && !(id == "csi4" && due.contains(&"csi16")) {
            due.push(id);
        }
    }
    Ok(due)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyMeasures {
    pub due: Vec<String>,
    pub mine: PersonTrends,
    /// The partner's trends, when they share them.
    pub partner: Option<PersonTrends>,
    pub share_with_therapist: bool,
    pub share_with_partner: bool,
}

pub async fn mine(state: &AppState, partner: &User) -> AppResult<MyMeasures> {
    if partner.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let other = match partner.couple_id.as_ref() {
        Some(couple_id) => state
            .store()
            .couple_members(couple_id)
            .await?
            .into_iter()
            .find(|m| m.id != partner.id),
        None => None,
    };
    let (share_with_therapist, share_with_partner) =
        state.store().score_sharing(&partner.id).await?;
    Ok(MyMeasures {
        due: due(state, partner)
            .await?
            .into_iter()
            .map(str::to_owned)
            .collect(),
        mine: trends_of(state, partner, partner).await?,
        partner: match &other {
            Some(other) => Some(trends_of(state, partner, other).await?),
            None => None,
        },
        share_with_therapist,
        share_with_partner,
    })
}

pub async fn set_sharing(
    state: &AppState,
    partner: &User,
    therapist: bool,
    with_partner: bool,
) -> AppResult<()> {
    if partner.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    state
        .store()
        .set_score_sharing(&partner.id, therapist, with_partner, state.now())
        .await?;
    let detail = format!(
        "scores: therapist {}, partner {}",
        if therapist { "yes" } else { "no" },
        if with_partner { "yes" } else { "no" }
    );
    audit::record(
        state,
        audit::Event::new("consent_recorded")
            .actor(partner)
            .subject(&partner.id)
            .detail(&detail),
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    pub couple_id: String,
    pub cadence_days: i64,
    pub partners: Vec<PersonTrends>,
    /// For the therapist: why each alert fired.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub alerts: Vec<Alert>,
}

/// Why a therapist should look at a couple now: scores low or falling (where
/// visible), a gap between the partners, follow-through on promises
/// dropping sharply, check-ins missed (`last_check_ins` is known only for
/// people whose scores are hidden; attendance is shown without consent).
pub(crate) fn therapist_alerts(
    content: &crate::content::Content,
    partners: &[PersonTrends],
    cadence: i64,
    consistency: &[super::accountability::PartnerConsistency],
    last_check_ins: &[Option<i64>],
    now: i64,
) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for person in partners {
        for trend in &person.trends {
            if let Some(instrument) = content.instrument(&trend.instrument)
                && instrument.id != "csi16"
            {
                alerts.extend(partner_alerts(
                    &person.name,
                    instrument,
                    &points_of(trend),
                    cadence,
                    now,
                ));
            }
        }
    }
    if let [a, b] = partners {
        for (ta, tb) in a.trends.iter().zip(&b.trends) {
            if let Some(instrument) = content.instrument(&ta.instrument) {
                alerts.extend(gap_alert(
                    instrument,
                    (&a.name, &points_of(ta)),
                    (&b.name, &points_of(tb)),
                ));
            }
        }
    }
    // Promises: a sharp drop in follow-through (promises are joint records).
    for partner in consistency {
        if trellis_core::consistency::sharp_drop(
            partner.previous_follow_through_rate,
            partner.follow_through_rate,
        ) {
            let percent = |r: Option<f64>| r.map_or(0, |r| (r * 100.0).round() as i64);
            alerts.push(Alert {
                kind: "follow_through_drop",
                reason: format!(
                    "{}'s follow-through on promises fell from {}% to {}% over the last four weeks.",
                    partner.name,
                    percent(partner.previous_follow_through_rate),
                    percent(partner.follow_through_rate)
                ),
            });
        }
    }
    for (person, last) in partners.iter().zip(last_check_ins) {
        if !person.visible
            && let Some(last) = last
            && now - last > 2 * cadence * trellis_core::time::DAY
        {
            alerts.push(Alert {
                kind: "missed_check_ins",
                reason: format!(
                    "{} has not checked in for {} days.",
                    person.name,
                    (now - last) / trellis_core::time::DAY
                ),
            });
        }
    }
    alerts
}

fn points_of(trend: &Trend) -> Vec<Point> {
    trend
        .points
        .iter()
        .map(|(at, score)| Point {
            at: *at,
            score: *score,
        })
        .collect()
}

/// Both partners side by side, for the couple's therapist (or a partner):
/// each partner's scores only where their own choices allow.
pub async fn progress(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<Progress> {
    let couple = couple_for(state, viewer, couple_id).await?;
    let members = state.store().couple_members(&couple.id).await?;
    let cadence = state.store().cadence_days(&couple.id).await?;
    let mut partners = Vec::new();
    for member in &members {
        partners.push(trends_of(state, viewer, member).await?);
    }
    let mut alerts = Vec::new();
    if viewer.role == Role::Therapist {
        let consistency = super::accountability::consistency(state, viewer, &couple.id)
            .await?
            .partners;
        let mut last_check_ins = Vec::new();
        for (member, person) in members.iter().zip(&partners) {
            // attendance, not scores: known even without consent
            last_check_ins.push(if person.visible {
                None
            } else {
                measures_of(state, &member.id)
                    .await?
                    .iter()
                    .map(|m| m.created_at)
                    .max()
            });
        }
        alerts = therapist_alerts(
            state.content(),
            &partners,
            cadence,
            &consistency,
            &last_check_ins,
            state.now(),
        );
    }
    Ok(Progress {
        couple_id: couple.id.into_string(),
        cadence_days: cadence,
        partners,
        alerts,
    })
}

pub async fn set_cadence(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    days: i64,
) -> AppResult<()> {
    if therapist.role != Role::Therapist {
        return Err(Error::Forbidden);
    }
    let couple = couple_for(state, therapist, couple_id).await?;
    if !(1..=60).contains(&days) {
        return Err(Error::invalid(
            "days",
            "Please choose a cadence between 1 and 60 days.",
        ));
    }
    state.store().set_cadence_days(&couple.id, days).await?;
    Ok(())
}
