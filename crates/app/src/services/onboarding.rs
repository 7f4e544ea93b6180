//! Onboarding, each partner alone: what Trellis is, consent, and the private
//! safety check (again every few weeks). A concerning answer shows help at
//! once and raises a flag for the therapist, never for the partner; what
//! follows is decided in `services::safety`.

use std::collections::BTreeMap;
use trellis_core::CoupleId;

use serde::Serialize;
use trellis_core::Role;
use trellis_core::safety::Answer;
use trellis_core::screening::Tier;
use trellis_store::{Onboarding, User};

use super::audit;
use super::safety;
use crate::error::{AppResult, Error};
use crate::state::AppState;

fn partner_only(user: &User) -> AppResult<&CoupleId> {
    if user.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    user.couple_id.as_ref().ok_or(Error::NotFound)
}

pub async fn status(state: &AppState, partner: &User) -> AppResult<Onboarding> {
    partner_only(partner)?;
    Ok(state.store().onboarding(&partner.id).await?)
}

pub async fn welcome(state: &AppState, partner: &User, scores_consent: bool) -> AppResult<()> {
    partner_only(partner)?;
    state
        .store()
        .record_welcome(&partner.id, scores_consent, state.now())
        .await?;
    let detail = if scores_consent {
        "therapist may see scores"
    } else {
        "scores kept private"
    };
    audit::record(
        state,
        audit::Event::new("consent_recorded")
            .actor(partner)
            .subject(&partner.id)
            .detail(detail),
    )
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SafetyOutcome {
    /// Something in the answers (new since the last check) is a concern.
    pub concerning: bool,
    /// Whether a therapist guides the couple (otherwise: find professional help).
    pub has_therapist: bool,
    /// A sign of danger to life: the therapist's notice is marked urgent.
    pub urgent: bool,
    /// What happens now, in plain words: who was told, and when they read it.
    pub what_happens_next: Option<String>,
    /// Set when an answer says the joint program does not fit now (an affair
    /// still going on, a decision to leave): a kind explanation, for the
    /// person alone. The therapist sees the answer; the partner nothing.
    pub not_suitable: Option<String>,
}

/// Records the private safety check. `answers`: question id → "yes", "no"
/// or "not_sure".
#[tracing::instrument(skip_all, fields(user_id = %partner.id))]
pub async fn submit_safety(
    state: &AppState,
    partner: &User,
    answers: &BTreeMap<String, String>,
) -> AppResult<SafetyOutcome> {
    let couple_id = partner_only(partner)?;
    let check = &state.content().safety;
    let mut parsed = BTreeMap::new();
    for (id, value) in answers {
        if !check.questions.iter().any(|q| &q.id == id) {
            return Err(Error::invalid(
                "answers",
                format!("There is no question \"{id}\"."),
            ));
        }
        let answer = Answer::parse(value).ok_or_else(|| {
            Error::invalid(
                "answers",
                "Please answer each question with yes, no or not sure.",
            )
        })?;
        parsed.insert(id.clone(), answer);
    }
    if let Some(missing) = check.questions.iter().find(|q| !parsed.contains_key(&q.id)) {
        return Err(Error::invalid(
            "answers",
            format!("Please answer: \"{}\"", missing.text),
        ));
    }
    let previous = match state
        .store()
        .safety_checks(couple_id)
        .await?
        .into_iter()
        .rev()
        .find(|row| row.user_id == partner.id)
    {
        Some(row) => Some(safety::open_answers(state, couple_id, &partner.id, &row.answers).await?),
        None => None,
    };
    let concern = check.new_concern(previous.as_ref(), &parsed);
    let json = serde_json::to_string(&parsed).map_err(anyhow::Error::from)?;
    let sealed = state
        .vault()
        .seal(
            state.store(),
            couple_id,
            &json,
            &format!("safety:{}", partner.id),
        )
        .await?;
    state
        .store()
        .record_safety_screening(
            &partner.id,
            couple_id,
            &sealed,
            concern.map(safety::flag_level),
            state.now(),
        )
        .await?;
    let what_happens_next = match concern {
        Some(concern) => {
            Some(safety::respond(state, partner, couple_id, concern, safety::Source::Check).await?)
        }
        None => None,
    };
    let couple = state.store().couple(couple_id).await?;
    let unsuitable = !check.unsuitable(|id| parsed.get(id).copied()).is_empty();
    Ok(SafetyOutcome {
        not_suitable: unsuitable
            .then(|| check.not_suitable.as_ref().map(|n| n.body.clone()))
            .flatten(),
        concerning: concern.is_some(),
        has_therapist: couple.therapist_id.is_some(),
        urgent: concern.is_some_and(|c| c.tier == Tier::Urgent),
        what_happens_next,
    })
}
