//! The couple's situation: one partner hurt by the other, both hurt, or
//! trust worn down. It decides which exercises a couple sees and which
//! wording each partner reads. The therapist sets it; a self-guided couple
//! sets it together, and it holds only once both partners said the same.

use serde::{Deserialize, Serialize};
use trellis_core::CoupleId;
use trellis_core::Role;
use trellis_core::situation::{CoupleSituation, PartnerRole, Situation};
use trellis_store::{Couple, User};

use super::audit;
use super::program::couple_for;
use crate::error::{AppResult, Error};
use crate::state::AppState;

/// What is asked: `kind` and, for `one_hurt`, the partner who was hurt.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct SituationInput {
    /// `one_hurt`, `both_hurt` or `eroded`.
    pub kind: String,
    pub hurt_partner_id: Option<String>,
}

/// The couple's situation as the API shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SituationView {
    /// The situation in force, if any.
    pub kind: Option<String>,
    pub hurt_partner_id: Option<String>,
    /// Self-guided couples: the viewer proposed something the other partner
    /// has not agreed to yet.
    pub waiting_for_partner: bool,
    /// The viewer's role, when one partner was hurt: `hurt` or `involved`.
    pub my_role: Option<String>,
}

/// The situation in force for a couple, if set.
pub async fn of_couple(
    state: &AppState,
    couple_id: &CoupleId,
) -> AppResult<Option<CoupleSituation>> {
    Ok(state
        .store()
        .couple_situation(couple_id)
        .await?
        .and_then(|(kind, hurt_partner_id)| {
            Situation::parse(&kind).map(|kind| CoupleSituation {
                kind,
                hurt_partner_id,
            })
        }))
}

/// The situation and the viewer's role in it.
pub async fn for_viewer(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<(Option<Situation>, Option<PartnerRole>)> {
    let situation = of_couple(state, couple_id).await?;
    let role = situation.as_ref().and_then(|s| s.role_of(&viewer.id));
    Ok((situation.map(|s| s.kind), role))
}

pub async fn view(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<SituationView> {
    let couple = couple_for(state, viewer, couple_id).await?;
    let situation = of_couple(state, &couple.id).await?;
    let waiting_for_partner = situation.is_none()
        && state
            .store()
            .situation_proposals(&couple.id)
            .await?
            .iter()
            .any(|(user_id, _, _)| user_id == &viewer.id);
    Ok(SituationView {
        kind: situation.as_ref().map(|s| s.kind.as_str().to_owned()),
        hurt_partner_id: situation.as_ref().and_then(|s| s.hurt_partner_id.clone()),
        my_role: situation
            .as_ref()
            .and_then(|s| s.role_of(&viewer.id))
            .map(|r| r.as_str().to_owned()),
        waiting_for_partner,
    })
}

async fn checked(
    state: &AppState,
    couple: &Couple,
    input: &SituationInput,
) -> AppResult<CoupleSituation> {
    let kind = Situation::parse(input.kind.trim()).ok_or_else(|| {
        Error::invalid("kind", "Please choose one of: one_hurt, both_hurt, eroded.")
    })?;
    let members = state.store().couple_members(&couple.id).await?;
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    CoupleSituation::new(kind, input.hurt_partner_id.as_deref(), &ids)
        .map_err(|message| Error::invalid("hurt_partner_id", message))
}

/// Sets (therapist) or proposes (a partner of a self-guided couple) the
/// couple's situation. Partners of a guided couple leave it to their
/// therapist, who talks it through with them.
#[tracing::instrument(skip_all, fields(user_id = %user.id, couple_id))]
pub async fn set(
    state: &AppState,
    user: &User,
    couple_id: &CoupleId,
    input: &SituationInput,
) -> AppResult<SituationView> {
    let couple = couple_for(state, user, couple_id).await?;
    let situation = checked(state, &couple, input).await?;
    let row = (
        situation.kind.as_str(),
        situation.hurt_partner_id.as_deref(),
    );
    match (user.role, couple.therapist_id.is_some()) {
        (Role::Therapist, _) => {
            state
                .store()
                .set_couple_situation(&couple.id, row, &user.id, state.now())
                .await?;
            record(state, user, &couple, &situation).await?;
        }
        (Role::Partner, false) => {
            state
                .store()
                .propose_situation(&couple.id, &user.id, row, state.now())
                .await?;
            let proposals = state.store().situation_proposals(&couple.id).await?;
            let agreed = proposals.len() == 2
                && proposals
                    .iter()
                    .all(|(_, kind, hurt)| kind == row.0 && hurt.as_deref() == row.1);
            if agreed {
                state
                    .store()
                    .set_couple_situation(&couple.id, row, &user.id, state.now())
                    .await?;
                record(state, user, &couple, &situation).await?;
            }
        }
        (Role::Partner, true) => {
            return Err(Error::Conflict(
                "Your therapist sets this with you, in a session.".to_owned(),
            ));
        }
        (Role::Admin, _) => return Err(Error::NotFound),
    }
    view(state, user, &couple.id).await
}

async fn record(
    state: &AppState,
    user: &User,
    couple: &Couple,
    situation: &CoupleSituation,
) -> AppResult<()> {
    audit::record(
        state,
        audit::Event::new("situation_set")
            .actor(user)
            .couple(&couple.id)
            .detail(situation.kind.as_str()),
    )
    .await
}
