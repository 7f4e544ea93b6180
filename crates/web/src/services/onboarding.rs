//! Onboarding, each partner alone: what Trellis is, consent, and the private
//! safety check. A concerning answer shows help at once, flags the couple to
//! the therapist (never to the partner) and pauses shared exercises until
//! the therapist has spoken with that partner alone.

use std::collections::BTreeMap;

use serde::Serialize;
use trellis_core::Role;
use trellis_store::{Onboarding, SafetyFlag, User};

use super::audit;
use super::program::couple_for;
use crate::error::{AppError, AppResult};
use crate::state::{AppState, now};

fn partner_only(user: &User) -> AppResult<&str> {
    if user.role != Role::Partner {
        return Err(AppError::Forbidden);
    }
    user.couple_id.as_deref().ok_or(AppError::NotFound)
}

pub async fn status(state: &AppState, partner: &User) -> AppResult<Onboarding> {
    partner_only(partner)?;
    Ok(state.store().onboarding(&partner.id).await?)
}

pub async fn welcome(state: &AppState, partner: &User, scores_consent: bool) -> AppResult<()> {
    partner_only(partner)?;
    state
        .store()
        .record_welcome(&partner.id, scores_consent, now())
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

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SafetyOutcome {
    pub concerning: bool,
    /// Whether a therapist guides the couple (otherwise: find professional help).
    pub has_therapist: bool,
}

/// Records the private safety check. `answers`: question id → "yes" / "no".
#[tracing::instrument(skip_all, fields(user_id = %partner.id))]
pub async fn submit_safety(
    state: &AppState,
    partner: &User,
    answers: &BTreeMap<String, String>,
) -> AppResult<SafetyOutcome> {
    let couple_id = partner_only(partner)?;
    let check = &state.content().safety;
    for (id, value) in answers {
        if !check.questions.iter().any(|q| &q.id == id) {
            return Err(AppError::invalid(
                "answers",
                format!("There is no question \"{id}\"."),
            ));
        }
        if value != "yes" && value != "no" {
            return Err(AppError::invalid(
                "answers",
                "Please answer each question with yes or no.",
            ));
        }
    }
    if let Some(missing) = check
        .questions
        .iter()
        .find(|q| !answers.contains_key(&q.id))
    {
        return Err(AppError::invalid(
            "answers",
            format!("Please answer: \"{}\"", missing.text),
        ));
    }
    let concerning = !check
        .concerns(|id| answers.get(id).map(|v| v == "yes"))
        .is_empty();
    let json = serde_json::to_string(answers).map_err(anyhow::Error::from)?;
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
        .record_safety_screening(&partner.id, couple_id, &sealed, concerning, now())
        .await?;
    if concerning {
        audit::record(
            state,
            audit::Event::new("safety_concern")
                .actor(partner)
                .subject(&partner.id)
                .couple(couple_id),
        )
        .await?;
        tracing::warn!("safety check raised a concern; the couple is flagged for the therapist");
    }
    let couple = state.store().couple(couple_id).await?;
    Ok(SafetyOutcome {
        concerning,
        has_therapist: couple.therapist_id.is_some(),
    })
}

/// The person's own answers (for their export): question text → answer.
pub async fn own_answers(
    state: &AppState,
    partner: &User,
) -> AppResult<Option<BTreeMap<String, String>>> {
    let Some((_, sealed, _, couple_id)) = state.store().own_safety_screening(&partner.id).await?
    else {
        return Ok(None);
    };
    let json = state
        .vault()
        .open(
            state.store(),
            &couple_id,
            &sealed,
            &format!("safety:{}", partner.id),
        )
        .await?;
    let answers: BTreeMap<String, String> =
        serde_json::from_str(&json).map_err(anyhow::Error::from)?;
    let check = &state.content().safety;
    Ok(Some(
        answers
            .into_iter()
            .map(|(id, answer)| {
                let text = check
                    .questions
                    .iter()
                    .find(|q| q.id == id)
                    .map_or(id, |q| q.text.clone());
                (text, answer)
            })
            .collect(),
    ))
}

/// Flags in a couple, for its therapist only.
pub async fn flags(
    state: &AppState,
    therapist: &User,
    couple_id: &str,
) -> AppResult<Vec<SafetyFlag>> {
    if therapist.role != Role::Therapist {
        return Err(AppError::Forbidden);
    }
    let couple = couple_for(state, therapist, couple_id).await?;
    Ok(state.store().safety_flags(&couple.id).await?)
}

/// The therapist has spoken with the partner alone; shared exercises may resume.
pub async fn resolve(
    state: &AppState,
    therapist: &User,
    couple_id: &str,
    screening_id: &str,
) -> AppResult<()> {
    if therapist.role != Role::Therapist {
        return Err(AppError::Forbidden);
    }
    let couple = couple_for(state, therapist, couple_id).await?;
    state
        .store()
        .resolve_safety_flag(&couple.id, screening_id, &therapist.id, now())
        .await?;
    audit::record(
        state,
        audit::Event::new("safety_concern_resolved")
            .actor(therapist)
            .couple(&couple.id),
    )
    .await?;
    Ok(())
}
