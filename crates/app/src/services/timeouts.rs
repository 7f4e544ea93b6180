//! Time-outs: either partner calls a break when things get heated and says
//! when they will come back (20 minutes to 24 hours). The other partner is
//! told at once, kindly; the caller gets guidance for calming down; at the
//! return time both are invited back. The therapist sees time-outs as a
//! pattern over weeks, never their content (they have none).

use serde::Serialize;
use trellis_core::CoupleId;
use trellis_core::Role;
use trellis_core::talk::validate_timeout;
use trellis_core::time::DAY;
use trellis_store::{TimeoutRow, User};

use super::notices::{self, Notice};
use super::program::couple_for;
use crate::error::{AppResult, Error};
use crate::state::AppState;
use crate::when;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeoutView {
    pub id: String,
    pub caller_name: String,
    /// The caller is the one asking.
    pub mine: bool,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub return_at: String,
    /// The return time in the reader's time zone, in words.
    pub back_at: String,
    pub talk_id: Option<String>,
    /// Still running now.
    pub running: bool,
}

async fn view(state: &AppState, viewer: &User, mut row: TimeoutRow) -> AppResult<TimeoutView> {
    let zone = notices::zone_for(state, viewer).await?;
    // The therapist learns of a talk only if the couple let them read it.
    if viewer.role == Role::Therapist
        && let Some(talk_id) = &row.talk_id
        && !state
            .store()
            .talk(talk_id)
            .await
            .is_ok_and(|t| t.therapist_can_read)
    {
        row.talk_id = None;
    }
    Ok(TimeoutView {
        mine: row.caller_id == viewer.id,
        back_at: when::long(row.return_at, &zone),
        started_at: when::rfc3339(row.started_at),
        return_at: when::rfc3339(row.return_at),
        running: row.return_at > state.now(),
        id: row.id,
        caller_name: row.caller_name,
        talk_id: row.talk_id,
    })
}

/// A partner calls a time-out until `return_at` (RFC 3339, or a wall-clock
/// time in their zone), optionally from a talk.
#[tracing::instrument(skip_all, fields(partner = %partner.id))]
pub async fn call(
    state: &AppState,
    partner: &User,
    return_at: &str,
    talk_id: Option<&str>,
) -> AppResult<TimeoutView> {
    if partner.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let couple_id = partner.couple_id.as_ref().ok_or(Error::Forbidden)?;
    if return_at.trim().is_empty() {
        return Err(Error::invalid(
            "return_at",
            "Please say when you will come back: a break always has an end.",
        ));
    }
    let zone = notices::zone_for(state, partner).await?;
    let back = when::parse_time("return_at", return_at, &zone)?;
    let now = state.now();
    validate_timeout(now, back)?;
    let talk_id = match talk_id.filter(|t| !t.is_empty()) {
        Some(id) => {
            let talk = state.store().talk(id).await.map_err(|_| Error::NotFound)?;
            if talk.couple_id != *couple_id {
                return Err(Error::NotFound);
            }
            Some(talk.id)
        }
        None => None,
    };
    let row = state
        .store()
        .create_timeout(
            &trellis_store::new_id(),
            couple_id,
            &partner.id,
            talk_id.as_deref(),
            now,
            back,
        )
        .await?;
    for member in state.store().couple_members(couple_id).await? {
        if member.id != partner.id {
            notices::notify(state, &member, Notice::TimeOut { return_at: back }).await?;
        }
    }
    if let Some(talk) = &talk_id {
        // Listeners of the talk see the break at once.
        state.announce_turn(talk);
        if let Err(err) = state.store().notify_talk(talk).await {
            tracing::warn!(error = ?err, "could not tell other instances about a time-out");
        }
    }
    view(state, partner, row).await
}

/// The couple's time-outs of the last `days` days, newest first (both
/// partners, and the therapist, who sees the pattern).
pub async fn recent(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
    days: i64,
) -> AppResult<Vec<TimeoutView>> {
    let couple = couple_for(state, viewer, couple_id).await?;
    let mut views = Vec::new();
    for row in state
        .store()
        .timeouts_of_couple(&couple.id, state.now() - days * DAY)
        .await?
    {
        views.push(view(state, viewer, row).await?);
    }
    Ok(views)
}

/// Time-outs per week over the last `weeks` weeks, oldest first: the pattern
/// a therapist looks at.
pub async fn weekly_counts(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    weeks: i64,
) -> AppResult<Vec<usize>> {
    let couple = couple_for(state, therapist, couple_id).await?;
    let now = state.now();
    let rows = state
        .store()
        .timeouts_of_couple(&couple.id, now - weeks * 7 * DAY)
        .await?;
    Ok((0..weeks)
        .rev()
        .map(|ago| {
            let (from, to) = (now - (ago + 1) * 7 * DAY, now - ago * 7 * DAY);
            rows.iter()
                .filter(|r| r.started_at > from && r.started_at <= to)
                .count()
        })
        .collect())
}

/// Invites both partners back when a time-out's return time has come; each
/// once, even with several instances.
pub async fn invite_back_due(state: &AppState) -> AppResult<usize> {
    let now = state.now();
    let mut sent = 0;
    for row in state.store().timeouts_due(now).await? {
        if !state.store().claim_timeout_return(&row.id, now).await? {
            continue;
        }
        for member in state.store().couple_members(&row.couple_id).await? {
            notices::notify(state, &member, Notice::BreakOver).await?;
        }
        sent += 1;
    }
    Ok(sent)
}
