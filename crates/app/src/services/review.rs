//! The journey review: the couple's path as a timeline they can read
//! together (and print) — stages completed, agreements, measures, milestones.

use serde::Serialize;
use trellis_core::CoupleId;
use trellis_core::Millis;
use trellis_store::User;

use super::program::{couple_for, program_for};
use super::{accountability, measures};
use crate::error::AppResult;

#[derive(Debug, Clone, Serialize)]
pub struct Moment {
    pub date: String,
    pub at: Millis,
    pub text: String,
}

impl Moment {
    /// The instant, for a `<time datetime>`.
    pub fn iso(&self) -> String {
        crate::when::rfc3339(self.at)
    }
}

pub async fn timeline(
    state: &crate::state::AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<(Vec<Moment>, Vec<String>)> {
    let couple = couple_for(state, viewer, couple_id).await?;
    let (program, _) = program_for(state, &couple).await?;
    let zone = super::notices::zone_for(state, viewer).await?;
    let day = |at: Millis| crate::when::short_date(at, &zone);
    let members = state.store().couple_members(&couple.id).await?;
    let mut moments = vec![Moment {
        date: day(couple.created_at),
        at: couple.created_at,
        text: "You began in Trellis.".to_owned(),
    }];
    let completions = state.store().exercise_completion_times(&couple.id).await?;
    let situation = super::situation::of_couple(state, &couple.id)
        .await?
        .map(|s| s.kind);
    for stage in &program.stages {
        // A stage is complete when both partners answered every exercise it
        // expects of them (shown in their situation, not optional); its date
        // is the last of those answers.
        let expected: Vec<_> = stage
            .exercises
            .iter()
            .filter(|e| e.shown_in(situation) && !e.optional)
            .collect();
        let mut last = None;
        let mut complete = members.len() == 2 && !expected.is_empty();
        for exercise in expected {
            for member in &members {
                match completions
                    .iter()
                    .find(|(a, e, _)| a == &member.id && e == &exercise.id)
                {
                    Some((_, _, at)) => last = last.max(Some(*at)),
                    None => complete = false,
                }
            }
        }
        if let (true, Some(at)) = (complete, last) {
            moments.push(Moment {
                date: day(at),
                at,
                text: format!("Together you completed the stage \"{}\".", stage.title),
            });
        }
    }
    for agreement in accountability::agreements(state, viewer, &couple.id).await? {
        if agreement.status == "agreed" || agreement.status == "superseded" {
            let at = state
                .store()
                .agreement(&agreement.id)
                .await?
                .agreed_at
                .unwrap_or(couple.created_at);
            moments.push(Moment {
                date: day(at),
                at,
                text: format!("You agreed: \"{}\".", agreement.title),
            });
        }
    }
    let progress = measures::progress(state, viewer, &couple.id).await?;
    for person in progress.partners.iter().filter(|p| p.visible) {
        if let Some(trend) = person.trends.iter().find(|t| t.instrument == "csi4")
            && let (Some(first), Some(last)) = (trend.points.first(), trend.points.last())
            && trend.points.len() > 1
        {
            let direction = if last.1 > first.1 {
                "rose"
            } else if last.1 < first.1 {
                "fell"
            } else {
                "stayed"
            };
            moments.push(Moment {
                date: day(last.0),
                at: last.0,
                text: format!(
                    "{}'s relationship satisfaction (CSI-4) {direction} from {} to {} since {}.",
                    person.name,
                    first.1,
                    last.1,
                    day(first.0)
                ),
            });
        }
    }
    moments.sort_by_key(|m| m.at);
    let milestones = accountability::milestones(state, viewer, &couple.id)
        .await?
        .into_iter()
        .map(|m| m.message)
        .collect();
    Ok((moments, milestones))
}
