//! "Today": what waits on a partner now, in the order it matters, each item
//! one tap from where it is done. The home page and `GET /api/v1/me/today`
//! read the same list.
//!
//! Order: a move in a live talk first (someone is waiting in the moment),
//! then circles for a compromise, a paired answer the other partner is
//! waiting for, a reflect-back round, homework, a check-in, something to
//! accept, and unread messages last. While shared work is closed for safety
//! nothing that involves the other partner is listed: a paused couple is
//! never nudged towards each other.

use serde::Serialize;
use trellis_core::CoupleId;
use trellis_core::Role;
use trellis_core::program::ExerciseKind;
use trellis_core::reflect_back::Status;
use trellis_store::User;

use super::program::{couple_for, journey};
use crate::error::AppResult;
use crate::state::AppState;

/// The kinds of item, in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TodayKind {
    Talk,
    Compromise,
    Paired,
    ReflectBack,
    Homework,
    CheckIn,
    Agreement,
    Message,
}

impl TodayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TodayKind::Talk => "talk",
            TodayKind::Compromise => "compromise",
            TodayKind::Paired => "paired",
            TodayKind::ReflectBack => "reflect_back",
            TodayKind::Homework => "homework",
            TodayKind::CheckIn => "check_in",
            TodayKind::Agreement => "agreement",
            TodayKind::Message => "message",
        }
    }
}

/// One thing waiting on the partner.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TodayItem {
    /// `talk`, `compromise`, `paired`, `reflect_back`, `homework`,
    /// `check_in`, `agreement` or `message`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: TodayKind,
    /// What to do, in plain words.
    pub title: String,
    /// Where it is done.
    pub href: String,
    /// The day it is due (`YYYY-MM-DD`), for homework with a date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
}

fn item(kind: TodayKind, title: String, href: String) -> TodayItem {
    TodayItem {
        kind,
        title,
        href,
        due_at: None,
    }
}

/// What waits on `user` now, most pressing first. Staff and partners without
/// a couple have nothing waiting here.
#[tracing::instrument(skip_all, fields(user = %user.id))]
pub async fn today(state: &AppState, user: &User) -> AppResult<Vec<TodayItem>> {
    let (Role::Partner, Some(couple_id)) = (user.role, user.couple_id.as_ref()) else {
        return Ok(Vec::new());
    };
    let couple = couple_for(state, user, couple_id).await?;
    let shared_open = super::safety::shared_work_open(state, &couple).await?;
    let mut items = Vec::new();
    if shared_open {
        for talk in super::talks::waiting_on(state, user).await? {
            let title = if talk.confirm_paraphrase {
                format!(
                    "Check what {} heard you say in \u{201c}{}\u{201d}",
                    talk.other_name, talk.topic
                )
            } else {
                format!("Your turn in the talk \u{201c}{}\u{201d}", talk.topic)
            };
            items.push(item(
                TodayKind::Talk,
                title,
                format!("/talks/{}#current-move", talk.talk_id),
            ));
        }
        for compromise in super::compromise::list(state, user).await? {
            if compromise.mine.is_none() {
                items.push(item(
                    TodayKind::Compromise,
                    format!(
                        "Write your two circles for \u{201c}{}\u{201d}",
                        compromise.topic
                    ),
                    format!("/compromises/{}", compromise.id),
                ));
            }
        }
    }
    program_items(state, user, &couple, shared_open, &mut items).await?;
    for instrument in super::measures::due(state, user).await? {
        if let Some(found) = state.content().instrument(instrument) {
            items.push(item(
                TodayKind::CheckIn,
                format!("Check-in: {}", found.short_title),
                format!("/measures/{instrument}"),
            ));
        }
    }
    if shared_open {
        agreement_items(state, user, &couple.id, &mut items).await?;
    }
    let unread = super::messages::unread_for_partner(state, user).await?;
    if unread > 0 {
        let title = if unread == 1 {
            "1 new message".to_owned()
        } else {
            format!("{unread} new messages")
        };
        items.push(item(TodayKind::Message, title, "/messages".to_owned()));
    }
    items.sort_by_key(|i| i.kind);
    Ok(items)
}

/// Paired answers the other partner waits for, reflect-back rounds waiting
/// on this partner, and homework not yet done.
async fn program_items(
    state: &AppState,
    user: &User,
    couple: &trellis_store::Couple,
    shared_open: bool,
    items: &mut Vec<TodayItem>,
) -> AppResult<()> {
    let journey = journey(state, user, &couple.id).await?;
    let other = journey
        .partners
        .iter()
        .find(|(id, _)| *id != user.id)
        .cloned();
    let exercises = || journey.stages.iter().flat_map(|s| &s.exercises);
    if shared_open && let Some((other_id, other_name)) = &other {
        for exercise in exercises().filter(|e| e.kind == ExerciseKind::Paired) {
            if exercise.done_by.contains(other_id)
                && !exercise.done_by.iter().any(|d| *d == user.id)
            {
                items.push(item(
                    TodayKind::Paired,
                    format!(
                        "{other_name} answered \u{201c}{}\u{201d}: your answer opens both",
                        exercise.title
                    ),
                    format!("/journey/{}", exercise.id),
                ));
            }
        }
        for exercise in exercises().filter(|e| e.kind == ExerciseKind::ReflectBack) {
            let rounds = state
                .store()
                .reflect_back_rounds(&couple.id, &exercise.id)
                .await?;
            let waiting = rounds.iter().any(|r| match r.status {
                Status::AwaitingReflection => r.listener_id == user.id,
                Status::AwaitingConfirmation => r.speaker_id == user.id,
                Status::Confirmed => false,
            });
            if waiting {
                items.push(item(
                    TodayKind::ReflectBack,
                    format!(
                        "{other_name} is waiting for your step in \u{201c}{}\u{201d}",
                        exercise.title
                    ),
                    format!("/journey/{}", exercise.id),
                ));
            }
        }
    }
    let mut homework: Vec<TodayItem> = Vec::new();
    for assignment in &journey.assignments {
        let done = exercises()
            .find(|e| e.id == assignment.exercise_id)
            .is_none_or(|e| e.done_by.iter().any(|d| *d == user.id));
        let href = format!("/journey/{}", assignment.exercise_id);
        // assigned twice, or already listed as a paired answer or round
        let listed = homework.iter().chain(items.iter()).any(|i| i.href == href);
        if done || listed {
            continue;
        }
        homework.push(TodayItem {
            kind: TodayKind::Homework,
            title: format!("Homework: {}", assignment.exercise_title),
            href,
            due_at: assignment.due_on.clone(),
        });
    }
    // soonest due first, undated homework last
    homework.sort_by_key(|h| (h.due_at.is_none(), h.due_at.clone()));
    items.extend(homework);
    Ok(())
}

/// Agreements the other partner proposed, and promises the therapist
/// suggested to this partner: both wait for this partner's yes.
async fn agreement_items(
    state: &AppState,
    user: &User,
    couple_id: &CoupleId,
    items: &mut Vec<TodayItem>,
) -> AppResult<()> {
    for agreement in super::accountability::agreements(state, user, couple_id).await? {
        if agreement.status == "proposed" && !agreement.proposed_by_me {
            items.push(item(
                TodayKind::Agreement,
                format!(
                    "{} proposed an agreement: \u{201c}{}\u{201d}",
                    agreement.proposed_by, agreement.title
                ),
                "/promises#agreements".to_owned(),
            ));
        }
    }
    for promise in super::accountability::promises(state, user, couple_id).await? {
        if promise.pending && promise.mine {
            items.push(item(
                TodayKind::Agreement,
                format!(
                    "Your therapist suggested a promise: \u{201c}{}\u{201d}",
                    promise.text
                ),
                "/promises".to_owned(),
            ));
        }
    }
    Ok(())
}
