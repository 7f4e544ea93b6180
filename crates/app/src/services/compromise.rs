//! The two-circles compromise: on a topic, each partner privately writes
//! their core needs (what they cannot give up) and their flexible areas.
//! Both circles are revealed together once both are written, the paired
//! mechanic of the program; then the couple builds a shared agreement from
//! the overlap, which goes to their agreements for both to accept.

use serde::Serialize;
use trellis_core::CoupleId;
use trellis_core::Role;
use trellis_core::account::within_limit;
use trellis_core::privacy::{Audience, Item, Relation, may_view};
use trellis_store::User;

use super::accountability;
use crate::error::{AppResult, Error};
use crate::state::AppState;

const CIRCLE_MAX_CHARS: usize = 2_000;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Circles {
    pub name: String,
    /// What they cannot give up.
    pub core: String,
    /// Where they can bend.
    pub flexible: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompromiseView {
    pub id: String,
    pub topic: String,
    /// The caller's own circles, once written.
    pub mine: Option<Circles>,
    /// The partner has written theirs.
    pub partner_done: bool,
    /// The partner's circles: only once both have written.
    pub partner: Option<Circles>,
    /// The agreement built from the overlap, once proposed.
    pub agreement_id: Option<String>,
}

fn context(id: &str, user_id: &str, part: &str) -> String {
    format!("compromise:{id}:{user_id}:{part}")
}

fn partner_only(user: &User) -> AppResult<&CoupleId> {
    if user.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    user.couple_id.as_ref().ok_or(Error::Forbidden)
}

fn text(field: &'static str, value: &str, what: &str) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(field, format!("Please write {what}.")));
    }
    Ok(within_limit(field, "this", value, CIRCLE_MAX_CHARS)?.to_owned())
}

pub async fn open(state: &AppState, partner: &User, topic: &str) -> AppResult<CompromiseView> {
    let couple_id = partner_only(partner)?;
    super::safety::require_shared_work(state, couple_id).await?;
    let topic = text("topic", topic, "what you want to find a compromise on")?;
    let id = trellis_store::new_id();
    let sealed = state
        .vault()
        .seal(
            state.store(),
            couple_id,
            &topic,
            &format!("compromise:{id}:topic"),
        )
        .await?;
    state
        .store()
        .create_compromise(&id, couple_id, &partner.id, &sealed, state.now())
        .await?;
    view(state, partner, &id).await
}

pub async fn view(state: &AppState, partner: &User, id: &str) -> AppResult<CompromiseView> {
    let couple_id = partner_only(partner)?;
    let row = state.store().compromise(id).await?;
    if row.couple_id != *couple_id {
        return Err(Error::NotFound);
    }
    let vault = state.vault();
    let topic = vault
        .open(
            state.store(),
            couple_id,
            &row.topic,
            &format!("compromise:{id}:topic"),
        )
        .await?;
    let circles = state.store().circles(id).await?;
    let answered = circles.iter().any(|c| c.user_id == partner.id);
    let mut mine = None;
    let mut partner_circles = None;
    let mut partner_done = false;
    for circle in circles {
        let is_mine = circle.user_id == partner.id;
        partner_done |= !is_mine;
        // Circles are the paired mechanic between the two partners: the
        // other's are read only once the reader has written their own.
        let relation = if is_mine {
            Relation::Author
        } else {
            Relation::Partner
        };
        let item = Item::PairedAnswer {
            audience: Audience::Partner,
            reader_has_answered: answered,
        };
        if !may_view(relation, item) {
            continue;
        }
        let name = state.store().user(&circle.user_id).await?.name;
        let opened = Circles {
            name,
            core: vault
                .open(
                    state.store(),
                    couple_id,
                    &circle.core,
                    &context(id, &circle.user_id, "core"),
                )
                .await?,
            flexible: vault
                .open(
                    state.store(),
                    couple_id,
                    &circle.flexible,
                    &context(id, &circle.user_id, "flexible"),
                )
                .await?,
        };
        if is_mine {
            mine = Some(opened);
        } else {
            partner_circles = Some(opened);
        }
    }
    Ok(CompromiseView {
        id: row.id,
        topic,
        mine,
        partner_done,
        partner: partner_circles,
        agreement_id: row.agreement_id,
    })
}

/// Writes the caller's circles, once.
pub async fn write(
    state: &AppState,
    partner: &User,
    id: &str,
    core: &str,
    flexible: &str,
) -> AppResult<CompromiseView> {
    let couple_id = partner_only(partner)?;
    let row = state.store().compromise(id).await?;
    if row.couple_id != *couple_id {
        return Err(Error::NotFound);
    }
    super::safety::require_shared_work(state, couple_id).await?;
    let core = text("core", core, "what you cannot give up")?;
    let flexible = text("flexible", flexible, "where you can be flexible")?;
    let vault = state.vault();
    let sealed_core = vault
        .seal(
            state.store(),
            couple_id,
            &core,
            &context(id, &partner.id, "core"),
        )
        .await?;
    let sealed_flexible = vault
        .seal(
            state.store(),
            couple_id,
            &flexible,
            &context(id, &partner.id, "flexible"),
        )
        .await?;
    state
        .store()
        .insert_circle(id, &partner.id, &sealed_core, &sealed_flexible, state.now())
        .await
        .map_err(|err| match err {
            trellis_store::StoreError::Conflict(_) => {
                Error::Conflict("You have already written your circles for this topic.".to_owned())
            }
            other => other.into(),
        })?;
    view(state, partner, id).await
}

/// Builds the shared agreement from the overlap, once both circles are
/// revealed; it goes to the couple's agreements, where the other accepts it.
pub async fn agree(
    state: &AppState,
    partner: &User,
    id: &str,
    title: &str,
    body: &str,
) -> AppResult<String> {
    let current = view(state, partner, id).await?;
    if current.partner.is_none() || current.mine.is_none() {
        return Err(Error::Conflict(
            "The agreement comes once both of you have written your circles.".to_owned(),
        ));
    }
    let taken =
        || Error::Conflict("An agreement was already proposed from this compromise.".to_owned());
    if current.agreement_id.is_some() || !state.store().claim_compromise_agreement(id).await? {
        return Err(taken());
    }
    match accountability::propose_agreement(state, partner, title, body, None).await {
        Ok(agreement) => {
            state
                .store()
                .set_compromise_agreement(id, Some(&agreement))
                .await?;
            Ok(agreement)
        }
        Err(err) => {
            state.store().set_compromise_agreement(id, None).await?;
            Err(err)
        }
    }
}

/// The couple's compromises (ids), newest first.
pub async fn list(state: &AppState, partner: &User) -> AppResult<Vec<CompromiseView>> {
    let couple_id = partner_only(partner)?;
    let mut views = Vec::new();
    for id in state.store().compromises_of_couple(couple_id).await? {
        views.push(view(state, partner, &id).await?);
    }
    Ok(views)
}
