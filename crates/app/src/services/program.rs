//! The couple's journey through the program: what is open, what is done,
//! what the therapist assigned; answering exercises of every kind; the
//! reflect-back loop; and what the therapist steers (pace, unlocks, homework).

use std::collections::{BTreeMap, BTreeSet};
use trellis_core::CoupleId;
use trellis_core::EntryKind;
use trellis_core::account::within_limit;

use serde::{Deserialize, Serialize};
use trellis_core::Role;
use trellis_core::privacy::Audience;
use trellis_core::program::{Exercise, ExerciseKind, PreviousStage, Program, Stage, stage_is_open};
use trellis_core::reflect_back::{self, Move, Status};
use trellis_core::situation::Situation;
use trellis_store::{Assignment, Couple, EntryFilter, ReflectBackRound, User};

use super::writing::{self, Entry, NewWriting, PAIRED};
use crate::content::DEFAULT_PROGRAM;
use crate::error::{AppResult, Error};
use crate::state::AppState;

/// Exercise answers other than paired ones.
pub const EXERCISE: EntryKind = EntryKind::Exercise;
/// Turns of a reflect-back round (ref_id = the round).
pub const REFLECT_BACK: EntryKind = EntryKind::ReflectBack;

/// What a partner or the couple's therapist may open: the couple, if the
/// viewer belongs to it; `NotFound` otherwise.
pub async fn couple_for(
    state: &AppState,
    viewer: &User,
    couple_id: &CoupleId,
) -> AppResult<Couple> {
    let couple = state.store().couple(couple_id).await?;
    let allowed = match viewer.role {
        Role::Partner => viewer.couple_id.as_ref() == Some(&couple.id),
        Role::Therapist => couple.therapist_id.as_deref() == Some(viewer.id.as_str()),
        Role::Admin => false,
    };
    if allowed {
        Ok(couple)
    } else {
        Err(Error::NotFound)
    }
}

/// The couple's program and whether they go at their own pace. Couples
/// without a therapist are self-paced; guided couples start with stage one.
pub async fn program_for<'a>(
    state: &'a AppState,
    couple: &Couple,
) -> AppResult<(&'a Program, bool)> {
    let settings = state.store().journey_settings(&couple.id).await?;
    let (program_id, self_paced) =
        settings.unwrap_or_else(|| (DEFAULT_PROGRAM.to_owned(), couple.therapist_id.is_none()));
    let program = state
        .content()
        .program(&program_id)
        .unwrap_or_else(|| state.content().default_program());
    Ok((program, self_paced))
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExerciseProgress {
    pub id: String,
    pub title: String,
    /// `reflection`, `rating`, `paired`, `reflect_back`, `checklist` or `goals`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: ExerciseKind,
    pub minutes: u32,
    /// Offered "when you are ready"; it never holds a stage back.
    pub optional: bool,
    /// Partner ids who have answered.
    pub done_by: Vec<String>,
    pub assigned_due: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StageProgress {
    pub id: String,
    pub title: String,
    pub order: u32,
    pub open: bool,
    pub exercises: Vec<ExerciseProgress>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssignmentView {
    pub id: String,
    pub exercise_id: String,
    pub exercise_title: String,
    pub due_on: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Journey {
    pub couple_id: String,
    pub program_id: String,
    pub program_title: String,
    pub self_paced: bool,
    /// Shared work is closed: the same for both partners, whatever closed it.
    pub joint_paused: bool,
    /// Each partner as `[id, name]`.
    pub partners: Vec<(String, String)>,
    pub stages: Vec<StageProgress>,
    pub assignments: Vec<AssignmentView>,
}

/// Who has done each exercise: answered it, or took part in a confirmed
/// reflect-back round. Exercise id → partner ids, sorted.
async fn done_by(
    state: &AppState,
    couple_id: &CoupleId,
    program: &Program,
) -> AppResult<BTreeMap<String, Vec<String>>> {
    let mut done: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (author, exercise) in state.store().exercise_completions(couple_id).await? {
        done.entry(exercise).or_default().push(author);
    }
    for (exercise, people) in reflect_back_done(state, couple_id, program).await? {
        done.entry(exercise.to_owned()).or_default().extend(people);
    }
    for people in done.values_mut() {
        people.sort();
        people.dedup();
    }
    Ok(done)
}

/// The stages open to a couple (see [`stage_is_open`]): a self-paced couple
/// opens the next stage once both partners did enough of the one before,
/// counting only the exercises shown in their situation and not optional.
fn open_stages(
    program: &Program,
    self_paced: bool,
    unlocked: &[String],
    situation: Option<Situation>,
    done: &BTreeMap<String, Vec<String>>,
    partners: &[String],
) -> BTreeSet<String> {
    let mut open = BTreeSet::new();
    let mut previous: Option<PreviousStage> = None;
    for stage in &program.stages {
        if stage_is_open(
            stage.order,
            self_paced,
            unlocked.contains(&stage.id),
            previous.as_ref(),
        ) {
            open.insert(stage.id.clone());
        }
        let expected: Vec<&Exercise> = stage
            .exercises
            .iter()
            .filter(|e| e.shown_in(situation) && !e.optional)
            .collect();
        previous = Some(PreviousStage {
            expected: expected.len(),
            done_by_each: partners
                .iter()
                .map(|partner| {
                    expected
                        .iter()
                        .filter(|e| done.get(&e.id).is_some_and(|who| who.contains(partner)))
                        .count()
                })
                .collect(),
        });
    }
    open
}

/// What the couple can open now, and the facts it follows from.
struct Pacing {
    open: BTreeSet<String>,
    done: BTreeMap<String, Vec<String>>,
    situation: Option<Situation>,
}

async fn pacing(
    state: &AppState,
    couple: &Couple,
    program: &Program,
    self_paced: bool,
) -> AppResult<Pacing> {
    let store = state.store();
    let unlocked = store.unlocked_stages(&couple.id).await?;
    let done = done_by(state, &couple.id, program).await?;
    let situation = super::situation::of_couple(state, &couple.id)
        .await?
        .map(|s| s.kind);
    let partners: Vec<String> = store
        .couple_members(&couple.id)
        .await?
        .into_iter()
        .map(|m| m.id.into_string())
        .collect();
    Ok(Pacing {
        open: open_stages(program, self_paced, &unlocked, situation, &done, &partners),
        done,
        situation,
    })
}

pub async fn journey(state: &AppState, viewer: &User, couple_id: &CoupleId) -> AppResult<Journey> {
    let couple = couple_for(state, viewer, couple_id).await?;
    let store = state.store();
    let (program, self_paced) = program_for(state, &couple).await?;
    let pacing = pacing(state, &couple, program, self_paced).await?;
    let mut assignments = store.assignments(&couple.id).await?;
    for assignment in &mut assignments {
        assignment.note = state
            .vault()
            .open_text(
                store,
                &couple.id,
                &assignment.note,
                &homework_note_context(&assignment.id),
            )
            .await?;
    }
    let due: BTreeMap<&str, &Assignment> = assignments
        .iter()
        .rev()
        .map(|a| (a.exercise_id.as_str(), a))
        .collect();
    let stages = program
        .stages
        .iter()
        .map(|stage| StageProgress {
            id: stage.id.clone(),
            title: stage.title.clone(),
            order: stage.order,
            open: pacing.open.contains(&stage.id),
            exercises: stage
                .exercises
                .iter()
                .filter(|exercise| {
                    exercise.shown_in(pacing.situation) || pacing.done.contains_key(&exercise.id)
                })
                .map(|exercise| ExerciseProgress {
                    id: exercise.id.clone(),
                    title: exercise.title.clone(),
                    kind: exercise.kind,
                    minutes: exercise.minutes,
                    optional: exercise.optional,
                    done_by: pacing.done.get(&exercise.id).cloned().unwrap_or_default(),
                    assigned_due: due.get(exercise.id.as_str()).and_then(|a| a.due_on.clone()),
                })
                .collect(),
        })
        .collect();
    let assignments = assignments
        .into_iter()
        .filter_map(|a| {
            program
                .exercise(&a.exercise_id)
                .map(|(_, exercise)| AssignmentView {
                    id: a.id,
                    exercise_title: exercise.title.clone(),
                    exercise_id: a.exercise_id,
                    due_on: a.due_on,
                    note: a.note,
                })
        })
        .collect();
    let partners = store
        .couple_members(&couple.id)
        .await?
        .into_iter()
        .map(|u| (u.id.into_string(), u.name))
        .collect();
    Ok(Journey {
        couple_id: couple.id.to_string(),
        program_id: program.id.clone(),
        program_title: program.title.clone(),
        self_paced,
        // Both partners see the same closed gate, whatever closed it.
        joint_paused: !super::safety::shared_work_open(state, &couple).await?,
        partners,
        stages,
        assignments,
    })
}

/// Reflect-back exercises count as done for both once a round was confirmed.
async fn reflect_back_done<'a>(
    state: &AppState,
    couple_id: &CoupleId,
    program: &'a Program,
) -> AppResult<BTreeMap<&'a str, Vec<String>>> {
    let mut done = BTreeMap::new();
    for exercise in program
        .stages
        .iter()
        .flat_map(|s| &s.exercises)
        .filter(|e| e.kind == ExerciseKind::ReflectBack)
    {
        let rounds = state
            .store()
            .reflect_back_rounds(couple_id, &exercise.id)
            .await?;
        if let Some(round) = rounds.iter().find(|r| r.status == Status::Confirmed) {
            done.insert(
                exercise.id.as_str(),
                vec![round.speaker_id.clone(), round.listener_id.clone()],
            );
        }
    }
    Ok(done)
}

/// An exercise a partner may work on now, with its stage and their couple.
pub async fn open_exercise<'a>(
    state: &'a AppState,
    partner: &User,
    exercise_id: &str,
) -> AppResult<(&'a Stage, Exercise, Couple)> {
    if partner.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let couple_id = partner.couple_id.as_ref().ok_or(Error::NotFound)?;
    let couple = state.store().couple(couple_id).await?;
    let (program, self_paced) = program_for(state, &couple).await?;
    let (stage, exercise) = program.exercise(exercise_id).ok_or(Error::NotFound)?;
    if !state.store().onboarding(&partner.id).await?.complete() {
        return Err(Error::Conflict(
            "Please take the first private steps (a welcome and a few questions just for you) before the exercises.".to_owned(),
        ));
    }
    // Only a self-paced couple's stages depend on what both have done; a
    // guided couple's need just the therapist's unlocks.
    let open = if self_paced {
        pacing(state, &couple, program, self_paced)
            .await?
            .open
            .contains(&stage.id)
    } else {
        let unlocked = state.store().unlocked_stages(&couple.id).await?;
        stage_is_open(stage.order, false, unlocked.contains(&stage.id), None)
    };
    if !open {
        let when = if self_paced {
            "when you have both done at least half of the stage before"
        } else {
            "when your therapist unlocks the stage"
        };
        return Err(Error::Conflict(format!(
            "\"{}\" opens {when} \"{}\".",
            exercise.title, stage.title
        )));
    }
    let (_, role) = super::situation::for_viewer(state, partner, &couple.id).await?;
    Ok((stage, exercise.worded_for(role), couple))
}

/// A goal with the markers that will show progress.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Goal {
    pub area: String,
    pub goal: String,
    pub markers: Vec<String>,
}

/// An answer as submitted (fields depend on the exercise kind).
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswerInput {
    pub body: Option<String>,
    /// `me`, `therapist`, `partner` or `partner_and_therapist`.
    pub audience: Option<String>,
    /// Rating exercises: item id → 0..10.
    #[serde(default)]
    pub ratings: BTreeMap<String, i64>,
    /// Checklist exercises: the ids of the ticked items.
    #[serde(default)]
    pub checked: Vec<String>,
    /// Goals exercises.
    #[serde(default)]
    pub goals: Vec<Goal>,
    /// Reflect-back: `share` (start), `reflect`, `clarify` or `confirm`;
    /// inferred from where the round stands when left out.
    #[serde(rename = "move")]
    pub action: Option<String>,
}

/// What is sealed for an exercise answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredAnswer {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub ratings: BTreeMap<String, i64>,
    #[serde(default)]
    pub checked: Vec<String>,
    #[serde(default)]
    pub goals: Vec<Goal>,
}

fn validate(exercise: &Exercise, input: &AnswerInput) -> AppResult<StoredAnswer> {
    let text = input
        .body
        .as_deref()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if text.chars().count() > writing::MAX_BODY_CHARS {
        return Err(Error::invalid(
            "body",
            "Please keep this shorter; you could add a journal entry for the rest.",
        ));
    }
    let mut answer = StoredAnswer {
        text,
        ..StoredAnswer::default()
    };
    match exercise.kind {
        ExerciseKind::Reflection | ExerciseKind::Paired | ExerciseKind::ReflectBack => {
            if answer.text.is_empty() {
                return Err(Error::invalid("body", "Please write your answer first."));
            }
        }
        ExerciseKind::Rating => {
            for item in &exercise.rating_items {
                match input.ratings.get(&item.id) {
                    Some(value) if (0..=10).contains(value) => {
                        answer.ratings.insert(item.id.clone(), *value);
                    }
                    Some(_) => {
                        return Err(Error::invalid(
                            "ratings",
                            format!("\"{}\": please choose a number from 0 to 10.", item.text),
                        ));
                    }
                    None => {
                        return Err(Error::invalid(
                            "ratings",
                            format!("Please rate \"{}\".", item.text),
                        ));
                    }
                }
            }
            if let Some(unknown) = input
                .ratings
                .keys()
                .find(|k| !exercise.rating_items.iter().any(|i| &i.id == *k))
            {
                return Err(Error::invalid(
                    "ratings",
                    format!("There is no statement \"{unknown}\" in this exercise."),
                ));
            }
        }
        ExerciseKind::Checklist => {
            for id in &input.checked {
                if !exercise.checklist_items.iter().any(|i| &i.id == id) {
                    return Err(Error::invalid(
                        "checked",
                        format!("There is no item \"{id}\" in this checklist."),
                    ));
                }
            }
            answer.checked = exercise
                .checklist_items
                .iter()
                .filter(|i| input.checked.contains(&i.id))
                .map(|i| i.id.clone())
                .collect();
        }
        ExerciseKind::Goals => {
            let goals: Vec<Goal> = input
                .goals
                .iter()
                .map(|g| Goal {
                    area: g.area.trim().to_owned(),
                    goal: g.goal.trim().to_owned(),
                    markers: g
                        .markers
                        .iter()
                        .map(|m| m.trim().to_owned())
                        .filter(|m| !m.is_empty())
                        .collect(),
                })
                .filter(|g| !g.goal.is_empty())
                .collect();
            if goals.is_empty() {
                return Err(Error::invalid("goals", "Please write at least one goal."));
            }
            if let Some(goal) = goals.iter().find(|g| g.markers.is_empty()) {
                return Err(Error::invalid(
                    "goals",
                    format!(
                        "\"{}\": please add at least one sign of progress you could notice.",
                        goal.goal
                    ),
                ));
            }
            answer.goals = goals;
        }
    }
    Ok(answer)
}

/// A partner answers an exercise. Returns the new entry's id.
#[tracing::instrument(skip_all, fields(user_id = %partner.id, exercise_id))]
pub async fn answer(
    state: &AppState,
    partner: &User,
    exercise_id: &str,
    input: AnswerInput,
) -> AppResult<String> {
    let (_, exercise, couple) = open_exercise(state, partner, exercise_id).await?;
    if exercise.kind.is_joint() {
        super::safety::require_shared_work(state, &couple.id).await?;
    }
    if exercise.kind == ExerciseKind::ReflectBack {
        return reflect_back_move(state, partner, &exercise, &couple, input).await;
    }
    let audience = match input.audience.as_deref() {
        Some(value) => writing::parse_audience("audience", Some(value))?,
        None => exercise.default_audience,
    };
    if exercise.kind == ExerciseKind::Paired
        && !matches!(audience, Audience::Partner | Audience::PartnerAndTherapist)
    {
        return Err(Error::invalid(
            "audience",
            "In a paired exercise your partner sees your answer once you have both answered: choose partner or partner_and_therapist.",
        ));
    }
    let answer = validate(&exercise, &input)?;
    if exercise.kind == ExerciseKind::Paired
        && state
            .store()
            .has_shared(&partner.id, &couple.id, PAIRED, &exercise.id)
            .await?
    {
        return Err(Error::Conflict(
            "You have already answered this one. Your answer is below.".to_owned(),
        ));
    }
    let body = serde_json::to_string(&answer).map_err(anyhow::Error::from)?;
    let kind = if exercise.kind == ExerciseKind::Paired {
        PAIRED
    } else {
        EXERCISE
    };
    let entry = writing::write(
        state,
        partner,
        NewWriting {
            kind,
            ref_id: Some(&exercise.id),
            body: &body,
            audience,
        },
    )
    .await?;
    Ok(entry.id)
}

async fn reflect_back_move(
    state: &AppState,
    partner: &User,
    exercise: &Exercise,
    couple: &Couple,
    input: AnswerInput,
) -> AppResult<String> {
    let store = state.store();
    let rounds = store.reflect_back_rounds(&couple.id, &exercise.id).await?;
    let open_round = rounds.into_iter().find(|r| r.status != Status::Confirmed);
    let requested = input.action.as_deref().map(str::trim);
    let Some(round) = open_round else {
        if !matches!(requested, None | Some("share")) {
            return Err(Error::Conflict(
                "There is no conversation waiting for this step: the last one is complete. Start a new one by sharing.".to_owned(),
            ));
        }
        let other = store
            .couple_members(&couple.id)
            .await?
            .into_iter()
            .find(|m| m.id != partner.id)
            .ok_or_else(|| {
                Error::Conflict("This exercise needs your partner: invite them first.".to_owned())
            })?;
        let audience = match input.audience.as_deref() {
            Some(value) => writing::parse_audience("audience", Some(value))?,
            None => Audience::Partner,
        };
        if !matches!(audience, Audience::Partner | Audience::PartnerAndTherapist) {
            return Err(Error::invalid(
                "audience",
                "Your partner needs to read this to reflect it back: choose partner or partner_and_therapist.",
            ));
        }
        let answer = validate(exercise, &input)?;
        let round = store
            .start_reflect_back(
                &couple.id,
                &exercise.id,
                &partner.id,
                &other.id,
                audience.as_str(),
                state.now(),
            )
            .await?;
        return write_turn(state, partner, &round, &answer.text, audience).await;
    };
    let role = if round.speaker_id == partner.id {
        reflect_back::Role::Speaker
    } else {
        reflect_back::Role::Listener
    };
    let action = match requested {
        Some("reflect") => Move::Reflect,
        Some("confirm") => Move::Confirm,
        Some("clarify") => Move::Clarify,
        Some("share") => {
            return Err(Error::Conflict(
                "A conversation is already going on here; finish it first.".to_owned(),
            ));
        }
        Some(other) => {
            return Err(Error::invalid(
                "move",
                format!("\"{other}\" is not a step here: use reflect, confirm or clarify."),
            ));
        }
        None if role == reflect_back::Role::Listener => Move::Reflect,
        None => Move::Clarify,
    };
    let next = reflect_back::next(round.status, role, action)
        .map_err(|why| Error::Conflict(why.to_owned()))?;
    let text = match action {
        Move::Confirm => "Yes, that is it. I feel heard.".to_owned(),
        _ => validate(exercise, &input)?.text,
    };
    // Each person chooses who reads their own turns: the listener is asked
    // too (the partner must be included for the exchange to work).
    let audience = match (role, input.audience.as_deref()) {
        (reflect_back::Role::Listener, Some(value)) => {
            let audience = writing::parse_audience("audience", Some(value))?;
            if !matches!(audience, Audience::Partner | Audience::PartnerAndTherapist) {
                return Err(Error::invalid(
                    "audience",
                    "Your partner needs to read this: choose partner or partner_and_therapist.",
                ));
            }
            audience
        }
        (reflect_back::Role::Listener, None) => Audience::Partner,
        (reflect_back::Role::Speaker, _) => {
            Audience::parse(&round.audience).unwrap_or(Audience::Partner)
        }
    };
    if !store
        .advance_reflect_back(&round.id, round.status, next, state.now())
        .await?
    {
        return Err(Error::Conflict(
            "Your partner just moved this conversation on. Please reload the page.".to_owned(),
        ));
    }
    write_turn(state, partner, &round, &text, audience).await
}

async fn write_turn(
    state: &AppState,
    partner: &User,
    round: &ReflectBackRound,
    text: &str,
    audience: Audience,
) -> AppResult<String> {
    let entry = writing::write(
        state,
        partner,
        NewWriting {
            kind: REFLECT_BACK,
            ref_id: Some(&round.id),
            body: text,
            audience,
        },
    )
    .await?;
    Ok(entry.id)
}

/// An answer, opened, as the exercise page and the API show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnswerView {
    pub id: String,
    pub author_id: String,
    pub author_name: String,
    pub mine: bool,
    pub audience: String,
    pub created_at: i64,
    pub text: String,
    pub ratings: BTreeMap<String, i64>,
    pub checked: Vec<String>,
    pub goals: Vec<Goal>,
}

fn answer_view(entry: Entry) -> AnswerView {
    let stored: StoredAnswer = serde_json::from_str(&entry.body).unwrap_or_else(|_| StoredAnswer {
        text: entry.body.clone(),
        ..StoredAnswer::default()
    });
    AnswerView {
        id: entry.id,
        author_id: entry.author_id,
        author_name: entry.author_name,
        mine: entry.mine,
        audience: entry.audience.as_str().to_owned(),
        created_at: entry.created_at,
        text: stored.text,
        ratings: stored.ratings,
        checked: stored.checked,
        goals: stored.goals,
    }
}

/// One turn of a reflect-back round.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TurnView {
    pub author_name: String,
    pub mine: bool,
    pub speaker: bool,
    pub text: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoundView {
    pub id: String,
    pub status: String,
    pub i_am_speaker: bool,
    pub turns: Vec<TurnView>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Responses {
    pub exercise_id: String,
    pub kind: String,
    /// Answers the caller may see (a partner's paired answer appears once the caller has answered too).
    pub responses: Vec<AnswerView>,
    /// Reflect-back rounds, newest first.
    pub rounds: Vec<RoundView>,
    /// The caller has answered (or, for reflect-back, a round was confirmed).
    pub answered: bool,
    /// The partner has answered: true even while their answer is still hidden.
    pub partner_answered: bool,
}

/// The responses of the caller's couple to an exercise that the caller may see.
pub async fn responses(
    state: &AppState,
    partner: &User,
    exercise_id: &str,
) -> AppResult<Responses> {
    if partner.role != Role::Partner {
        return Err(Error::Forbidden);
    }
    let couple_id = partner.couple_id.as_ref().ok_or(Error::NotFound)?;
    let couple = state.store().couple(couple_id).await?;
    let (program, _) = program_for(state, &couple).await?;
    let (_, exercise) = program.exercise(exercise_id).ok_or(Error::NotFound)?;
    responses_for(state, partner, &couple, exercise).await
}

pub async fn responses_for(
    state: &AppState,
    viewer: &User,
    couple: &Couple,
    exercise: &Exercise,
) -> AppResult<Responses> {
    let kind = if exercise.kind == ExerciseKind::Paired {
        PAIRED
    } else {
        EXERCISE
    };
    let entries = writing::list(
        state,
        viewer,
        EntryFilter::answers(&couple.id, kind, &exercise.id),
    )
    .await?;
    let mut responses: Vec<AnswerView> = entries.into_iter().map(answer_view).collect();
    responses.reverse();
    let members = state.store().couple_members(&couple.id).await?;
    let partner_id = members
        .iter()
        .find(|m| m.id != viewer.id)
        .map(|m| m.id.clone());
    let completions = state.store().exercise_completions(&couple.id).await?;
    let did = |who: &str| {
        completions
            .iter()
            .any(|(author, id)| author == who && id == &exercise.id)
    };
    let mut rounds = Vec::new();
    let mut confirmed = false;
    if exercise.kind == ExerciseKind::ReflectBack {
        for round in state
            .store()
            .reflect_back_rounds(&couple.id, &exercise.id)
            .await?
        {
            confirmed |= round.status == Status::Confirmed;
            let turns = writing::list(
                state,
                viewer,
                EntryFilter::answers(&couple.id, REFLECT_BACK, &round.id),
            )
            .await?;
            rounds.push(RoundView {
                i_am_speaker: round.speaker_id == viewer.id,
                status: round.status.as_str().to_owned(),
                turns: turns
                    .into_iter()
                    .rev()
                    .map(|t| TurnView {
                        speaker: t.author_id == round.speaker_id,
                        author_name: t.author_name,
                        mine: t.mine,
                        text: t.body,
                        created_at: t.created_at,
                    })
                    .collect(),
                id: round.id,
            });
        }
    }
    Ok(Responses {
        exercise_id: exercise.id.clone(),
        kind: exercise.kind.as_str().to_owned(),
        answered: did(&viewer.id) || confirmed,
        partner_answered: partner_id.as_deref().is_some_and(did) || confirmed,
        responses,
        rounds,
    })
}

// --- what the therapist steers ---------------------------------------------

/// A couple the caller guides: therapists only (`Forbidden` otherwise), and
/// only their own couples (`NotFound` otherwise).
pub(crate) async fn therapist_couple(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
) -> AppResult<Couple> {
    if therapist.role != Role::Therapist {
        return Err(Error::Forbidden);
    }
    couple_for(state, therapist, couple_id).await
}

pub async fn unlock_stage(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    stage_id: &str,
) -> AppResult<()> {
    let couple = therapist_couple(state, therapist, couple_id).await?;
    let (program, _) = program_for(state, &couple).await?;
    program
        .stage(stage_id)
        .ok_or_else(|| Error::invalid("stage", "There is no such stage in this program."))?;
    state
        .store()
        .unlock_stage(&couple.id, stage_id, &therapist.id, state.now())
        .await?;
    Ok(())
}

pub async fn set_pace(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    self_paced: bool,
) -> AppResult<()> {
    let couple = therapist_couple(state, therapist, couple_id).await?;
    let (program, _) = program_for(state, &couple).await?;
    state
        .store()
        .set_journey_settings(&couple.id, &program.id, self_paced, state.now())
        .await?;
    Ok(())
}

/// Homework: an exercise with an optional due date (YYYY-MM-DD). Assigning
/// an exercise of a closed stage opens that stage.
pub async fn assign(
    state: &AppState,
    therapist: &User,
    couple_id: &CoupleId,
    exercise_id: &str,
    due_on: Option<&str>,
    note: &str,
) -> AppResult<Assignment> {
    let couple = therapist_couple(state, therapist, couple_id).await?;
    let (program, _) = program_for(state, &couple).await?;
    let (stage, exercise) = program.exercise(exercise_id).ok_or_else(|| {
        Error::invalid("exercise_id", "There is no such exercise in this program.")
    })?;
    let due_on = due_on.map(str::trim).filter(|d| !d.is_empty());
    if let Some(due) = due_on
        && !is_date(due)
    {
        return Err(Error::invalid(
            "due",
            "Please give the due date as YYYY-MM-DD.",
        ));
    }
    within_limit("note", "the note", note, 500)?;
    state
        .store()
        .unlock_stage(&couple.id, &stage.id, &therapist.id, state.now())
        .await?;
    let id = trellis_store::new_id();
    let sealed_note = state
        .vault()
        .seal_text(
            state.store(),
            &couple.id,
            note.trim(),
            &homework_note_context(&id),
        )
        .await?;
    let mut assignment = state
        .store()
        .add_assignment(
            &couple.id,
            &therapist.id,
            trellis_store::Assignment {
                id,
                exercise_id: exercise.id.clone(),
                due_on: due_on.map(str::to_owned),
                note: sealed_note,
                created_at: state.now(),
            },
        )
        .await?;
    assignment.note = note.trim().to_owned();
    Ok(assignment)
}

/// The context a homework note is sealed with (the couple's key).
pub fn homework_note_context(assignment_id: &str) -> String {
    format!("assignment-note:{assignment_id}")
}

/// A real calendar day written `YYYY-MM-DD`: the one reading of days in
/// core (`consistency::parse_day`), so 2026-02-31 is refused here as it is
/// for promises.
fn is_date(value: &str) -> bool {
    value == value.trim() && trellis_core::consistency::parse_day(value).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates_are_plain_calendar_dates() {
        assert!(is_date("2026-12-01"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("1/12/2026"));
        assert!(!is_date("2026-1-1"));
        assert!(!is_date("2026-02-31"), "no such day");
        assert!(is_date("2028-02-29"), "a leap day");
        assert!(!is_date(" 2026-12-01"));
        assert!(!is_date(""));
    }
}
