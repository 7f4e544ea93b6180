//! Onboarding, the journey and exercise pages for partners.

use std::collections::BTreeMap;
use trellis_app::Error as DomainError;

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_core::Role;
use trellis_core::program::Exercise;
use trellis_core::safety::{Question, Resource};

use super::journal::{AudienceOption, audience_options};
use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::services::program::{self, AnswerInput, Goal, Journey, Responses};
use crate::services::{onboarding, safety};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "onboarding.html")]
struct OnboardingPage {
    layout: Layout,
    errors: Vec<String>,
    step: &'static str,
    title: String,
    welcome_html: String,
    scores_consent: bool,
    safety_intro: String,
    questions: Vec<Question>,
    help_title: String,
    help_html: String,
    resources: Vec<Resource>,
    has_therapist: bool,
    self_guided: String,
    /// What happens after a concern, exactly as the practice promises it.
    what_happens_next: String,
    /// The check is back (re-screening), not the first time.
    again: bool,
    /// `(title, body)` when the joint program does not fit now.
    not_suitable: Option<(String, String)>,
}

fn onboarding_page(state: &AppState, page: &PageContext, step: &'static str) -> OnboardingPage {
    let content = state.content();
    OnboardingPage {
        layout: page.layout("/journey"),
        errors: Vec::new(),
        step,
        title: content.onboarding_title.clone(),
        welcome_html: content.onboarding_html.clone(),
        scores_consent: false,
        safety_intro: content.safety.intro.clone(),
        questions: content.safety.questions.clone(),
        help_title: content.safety.help.title.clone(),
        help_html: content.safety.help_html(),
        resources: content.helplines().to_vec(),
        has_therapist: true,
        self_guided: content.safety.self_guided.body.clone(),
        what_happens_next: String::new(),
        again: false,
        not_suitable: None,
    }
}

pub async fn onboarding(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let status = onboarding::status(&state, user).await?;
    let due = safety::shared_work(&state, user).await?.safety_check_due;
    let step = if !status.welcomed {
        "welcome"
    } else if due {
        "safety"
    } else {
        return Ok(see_other("/journey"));
    };
    let mut template = onboarding_page(&state, &page, step);
    template.scores_consent = status.scores_consent;
    template.again = status.safety_done;
    Ok(render(&template)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WelcomeFields {
    scores_consent: Option<String>,
}

pub async fn welcome(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<WelcomeFields>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    onboarding::welcome(&state, user, form.scores_consent.is_some()).await?;
    Ok(see_other("/onboarding"))
}

pub async fn safety(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let answers: BTreeMap<String, String> =
        pairs.into_iter().filter(|(k, _)| k != "csrf").collect();
    match onboarding::submit_safety(&state, user, &answers).await {
        Ok(outcome) if outcome.concerning || outcome.not_suitable.is_some() => {
            let mut template = onboarding_page(&state, &page, "help");
            template.has_therapist = outcome.has_therapist;
            template.what_happens_next = outcome.what_happens_next.unwrap_or_default();
            template.not_suitable = outcome.not_suitable.map(|body| {
                let title = state
                    .content()
                    .safety
                    .not_suitable
                    .as_ref()
                    .map_or_else(String::new, |n| n.title.clone());
                (title, body)
            });
            template.step = if outcome.concerning {
                "help"
            } else {
                "not_suitable"
            };
            template.resources = crate::services::help::resources_for(&state, user).await?;
            Ok(render(&template)?.into_response())
        }
        Ok(_) => Ok(see_other("/journey?welcome=true")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = onboarding_page(&state, &page, "safety");
            template.errors = errors;
            render_refused(&err, &template)
        }
    }
}

#[derive(Template)]
#[template(path = "journey.html")]
struct JourneyPage {
    layout: Layout,
    journey: Journey,
    me: String,
    onboarded: bool,
    shared_work: safety::SharedWork,
    notice: Option<&'static str>,
    situation: crate::services::situation::SituationView,
    situations: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct JourneyQuery {
    done: String,
}

pub async fn journey(
    State(state): State<AppState>,
    page: PageContext,
    Query(query): Query<JourneyQuery>,
) -> AppResult<Response> {
    let (user, couple_id) = page.partner_in_couple()?;
    let journey = program::journey(&state, user, couple_id).await?;
    let onboarded = state.store().onboarding(&user.id).await?.complete();
    let template = JourneyPage {
        layout: page.layout("/journey"),
        journey,
        me: user.id.to_string(),
        onboarded,
        shared_work: safety::shared_work(&state, user).await?,
        situation: crate::services::situation::view(&state, user, couple_id).await?,
        situations: trellis_core::situation::Situation::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        notice: match query.done.as_str() {
            "situation" => Some("Thank you. It is set once you have both said the same."),
            "paused" => {
                Some("Shared exercises are closed. Open them again here whenever you like.")
            }
            "resumed" => Some("You have lifted your pause."),
            _ => None,
        },
    };
    Ok(render(&template)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SituationFields {
    kind: String,
    hurt_partner_id: String,
}

/// A partner of a self-guided couple says what their situation is.
pub async fn situation(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<SituationFields>,
) -> AppResult<Response> {
    let (user, couple_id) = page.partner_in_couple()?;
    crate::services::situation::set(
        &state,
        user,
        couple_id,
        &crate::services::situation::SituationInput {
            kind: form.kind,
            hurt_partner_id: Some(form.hurt_partner_id).filter(|id| !id.is_empty()),
        },
    )
    .await?;
    Ok(see_other("/journey?done=situation"))
}

/// A partner closes shared work, or lifts their own pause.
pub async fn shared_work(
    State(state): State<AppState>,
    page: PageContext,
    Path(action): Path<String>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let done = match action.as_str() {
        "pause" => {
            safety::pause(&state, user).await?;
            "paused"
        }
        "resume" => {
            safety::resume(&state, user).await?;
            "resumed"
        }
        _ => return Err(AppError::Domain(DomainError::NotFound)),
    };
    Ok(see_other(&format!("/journey?done={done}")))
}

#[derive(Template)]
#[template(path = "exercise.html")]
struct ExercisePage {
    layout: Layout,
    errors: Vec<String>,
    notice: Option<&'static str>,
    stage_title: String,
    exercise: Exercise,
    kind: &'static str,
    prompt: String,
    prompt_speaker: String,
    prompt_listener: String,
    responses: Responses,
    /// Reflect-back: share, reflect, confirm, wait or done.
    next_move: &'static str,
    body: String,
    scale: Vec<u8>,
    goal_slots: Vec<usize>,
    audience_options: Vec<AudienceOption>,
    default_audience: &'static str,
}

async fn exercise_page(
    state: &AppState,
    page: &PageContext,
    exercise_id: &str,
) -> AppResult<ExercisePage> {
    let user = page.require(Role::Partner)?;
    let (stage, exercise, couple) = program::open_exercise(state, user, exercise_id).await?;
    let responses = program::responses_for(state, user, &couple, &exercise).await?;
    let next_move = match responses.rounds.first() {
        None => "share",
        Some(round) => match (round.status.as_str(), round.i_am_speaker) {
            ("confirmed", _) => "share",
            ("awaiting_reflection", false) => "reflect",
            ("awaiting_confirmation", true) => "confirm",
            _ => "wait",
        },
    };
    Ok(ExercisePage {
        layout: page.layout("/journey"),
        errors: Vec::new(),
        notice: None,
        stage_title: stage.title.clone(),
        kind: exercise.kind.as_str(),
        prompt: exercise.prompt.clone().unwrap_or_default(),
        prompt_speaker: exercise.prompt_speaker.clone().unwrap_or_default(),
        prompt_listener: exercise.prompt_listener.clone().unwrap_or_default(),
        exercise: exercise.clone(),
        responses,
        next_move,
        body: String::new(),
        scale: (0..=10).collect(),
        goal_slots: vec![0, 1, 2],
        audience_options: audience_options(),
        default_audience: exercise.default_audience.as_str(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    saved: bool,
}

pub async fn exercise(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    Query(flags): Query<Flags>,
) -> AppResult<Response> {
    let mut template = exercise_page(&state, &page, &id).await?;
    if flags.saved {
        template.notice = Some("Saved.");
    }
    Ok(render(&template)?.into_response())
}

/// Turns the form's fields into an answer, whatever the exercise kind.
fn answer_from_form(pairs: &[(String, String)]) -> AnswerInput {
    let mut input = AnswerInput::default();
    let mut goals: BTreeMap<usize, Goal> = BTreeMap::new();
    for (key, value) in pairs {
        match key.as_str() {
            "body" => input.body = Some(value.clone()),
            "audience" => input.audience = Some(value.clone()),
            "move" => input.action = Some(value.clone()),
            "checked" => input.checked.push(value.clone()),
            _ => {
                if let Some(item) = key.strip_prefix("rating_") {
                    input
                        .ratings
                        .insert(item.to_owned(), value.trim().parse().unwrap_or(-1));
                } else if let Some((field, n)) = key
                    .strip_prefix("goal_")
                    .and_then(|rest| rest.rsplit_once('_'))
                {
                    let Ok(n) = n.parse::<usize>() else { continue };
                    let goal = goals.entry(n).or_insert_with(|| Goal {
                        area: String::new(),
                        goal: String::new(),
                        markers: Vec::new(),
                    });
                    match field {
                        "area" => goal.area = value.clone(),
                        "text" => goal.goal = value.clone(),
                        "markers" => goal.markers = value.lines().map(str::to_owned).collect(),
                        _ => {}
                    }
                }
            }
        }
    }
    input.goals = goals.into_values().collect();
    input
}

pub async fn answer(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let input = answer_from_form(&pairs);
    let body = input.body.clone().unwrap_or_default();
    match program::answer(&state, user, &id, input).await {
        Ok(_) => Ok(see_other(&format!("/journey/{id}?saved=true"))),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = exercise_page(&state, &page, &id).await?;
            template.errors = errors;
            template.body = body;
            render_refused(&err, &template)
        }
    }
}

#[derive(Template)]
#[template(path = "review.html")]
struct ReviewPage {
    layout: Layout,
    back: String,
    moments: Vec<crate::services::review::Moment>,
    milestones: Vec<String>,
}

/// The journey review for a partner (their couple) or the couple's therapist.
pub async fn review(
    State(state): State<AppState>,
    page: PageContext,
    Query(query): Query<ReviewQuery>,
) -> AppResult<Response> {
    let user = page.signed_in()?;
    let (couple_id, back) = match user.role {
        Role::Partner => (
            user.couple_id
                .clone()
                .ok_or(AppError::Domain(DomainError::NotFound))?,
            "/journey".to_owned(),
        ),
        Role::Therapist => {
            let id = query
                .couple
                .clone()
                .map(trellis_core::CoupleId::from)
                .ok_or(AppError::Domain(DomainError::NotFound))?;
            let back = format!("/caseload/couples/{id}");
            (id, back)
        }
        Role::Admin => return Err(AppError::Domain(DomainError::NotFound)),
    };
    let (moments, milestones) = crate::services::review::timeline(&state, user, &couple_id).await?;
    Ok(render(&ReviewPage {
        layout: page.layout("/journey"),
        back,
        moments,
        milestones,
    })?
    .into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReviewQuery {
    couple: Option<String>,
}
