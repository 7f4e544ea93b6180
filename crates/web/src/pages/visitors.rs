//! The public side of a practice: its page, the "is it time for couples
//! therapy?" self-check, and asking for a first appointment. All of it works
//! without JavaScript and without an account; nothing is stored unless the
//! visitor sends a request. Every page here offers quick exit, as they ask
//! about fear and safety.

use std::collections::HashMap;

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_core::intake::IntakeInput;
use trellis_core::safety::Resource;
use trellis_core::selfcheck::SCALE;
use trellis_store::Practice;

use super::{Layout, PageContext, fixable, render, render_refused};
use crate::error::AppResult;
use crate::extract::{ClientAddr, PageForm};
use crate::services::help;
use crate::services::intake::{self, Origin};
use crate::state::AppState;

/// Paragraphs of plain text, as typed by the admin.
fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

#[derive(Template)]
#[template(path = "practice_public.html")]
struct PracticePublicPage {
    layout: Layout,
    practice: Practice,
    description: Vec<String>,
    contact: Vec<String>,
    therapists: Vec<String>,
    resources: Vec<Resource>,
}

pub async fn practice_page(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let practice = state.store().practice(&id).await?;
    let therapists = state
        .store()
        .therapists(&practice.id)
        .await?
        .into_iter()
        .map(|t| t.user.name)
        .collect();
    Ok(render(&PracticePublicPage {
        layout: page.layout_with_quick_exit(""),
        description: paragraphs(&practice.description),
        contact: practice.contact.lines().map(str::to_owned).collect(),
        therapists,
        resources: state.content().helplines_for(&practice.helpline_region),
        practice,
    })?
    .into_response())
}

pub struct SignRow {
    pub id: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "self_check.html")]
struct SelfCheckPage {
    layout: Layout,
    title: String,
    intro: String,
    signs: Vec<SignRow>,
    scale: Vec<(u32, &'static str)>,
    safety_question: String,
    practice_id: String,
    resources: Vec<Resource>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PracticeQuery {
    practice: String,
}

fn scale() -> Vec<(u32, &'static str)> {
    (0u32..).zip(SCALE).collect()
}

pub async fn self_check(
    State(state): State<AppState>,
    page: PageContext,
    Query(query): Query<PracticeQuery>,
) -> AppResult<Response> {
    let check = &state.content().self_check;
    let practice = intake::practice_for_requests(&state, Some(&query.practice))
        .await
        .ok();
    Ok(render(&SelfCheckPage {
        layout: page.layout_with_quick_exit(""),
        title: check.title.clone(),
        intro: check.intro.clone(),
        signs: check
            .signs
            .iter()
            .map(|s| SignRow {
                id: s.id.clone(),
                text: s.text.clone(),
            })
            .collect(),
        scale: scale(),
        safety_question: check.safety_question.clone(),
        resources: state
            .content()
            .helplines_for(help::region_of(practice.as_ref())),
        practice_id: practice.map(|p| p.id).unwrap_or_default(),
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "self_check_result.html")]
struct SelfCheckResultPage {
    layout: Layout,
    title: String,
    body_html: String,
    not_a_diagnosis: String,
    safety: Option<String>,
    answered: usize,
    practice_id: String,
    resources: Vec<Resource>,
}

/// Reads the answers back; nothing is stored or logged.
pub async fn self_check_result(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<HashMap<String, String>>,
) -> AppResult<Response> {
    let check = &state.content().self_check;
    let answer = |id: &str| {
        form.get(&format!("sign-{id}"))
            .and_then(|v| v.parse::<u32>().ok())
    };
    let feels_unsafe = form.get("safety").is_some_and(|v| v == "yes");
    let outcome = check.outcome(answer, feels_unsafe);
    let practice_id = form.get("practice").cloned().unwrap_or_default();
    let practice = intake::practice_for_requests(&state, Some(&practice_id))
        .await
        .ok();
    Ok(render(&SelfCheckResultPage {
        layout: page.layout_with_quick_exit(""),
        title: outcome.reading.title.clone(),
        body_html: outcome.body_html.clone(),
        not_a_diagnosis: check.not_a_diagnosis.clone(),
        safety: outcome.safety_concern.then(|| check.safety_body.clone()),
        answered: outcome.answered,
        resources: state
            .content()
            .helplines_for(help::region_of(practice.as_ref())),
        practice_id: practice.map(|p| p.id).unwrap_or_default(),
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    layout: Layout,
    practice: Practice,
    errors: Vec<String>,
    stamp: String,
    form: RequestFields,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RequestFields {
    names: String,
    email: String,
    partner_email: String,
    preferred_times: String,
    message: String,
    /// The checkbox: "on" when ticked.
    seen_separately: String,
    safe_contact: String,
    website: String,
    stamp: String,
}

pub async fn request_form(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let practice = state.store().practice(&id).await?;
    Ok(render(&RequestPage {
        layout: page.layout_with_quick_exit(""),
        practice,
        errors: Vec::new(),
        stamp: intake::form_stamp(&state),
        form: RequestFields::default(),
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "request_sent.html")]
struct RequestSentPage {
    layout: Layout,
    practice: Practice,
}

pub async fn send_request(
    State(state): State<AppState>,
    page: PageContext,
    ClientAddr(client): ClientAddr,
    Path(id): Path<String>,
    PageForm(form): PageForm<RequestFields>,
) -> AppResult<Response> {
    let practice = state.store().practice(&id).await?;
    let result = intake::submit(
        &state,
        &practice,
        IntakeInput {
            names: &form.names,
            email: &form.email,
            partner_email: &form.partner_email,
            preferred_times: &form.preferred_times,
            message: &form.message,
            seen_separately: !form.seen_separately.is_empty(),
            safe_contact: &form.safe_contact,
        },
        Origin::Form {
            honeypot: &form.website,
            stamp: &form.stamp,
        },
        client,
    )
    .await;
    match result {
        Ok(_) => Ok(render(&RequestSentPage {
            layout: page.layout_with_quick_exit(""),
            practice,
        })?
        .into_response()),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let template = RequestPage {
                layout: page.layout_with_quick_exit(""),
                practice,
                errors,
                stamp: intake::form_stamp(&state),
                form,
            };
            render_refused(&err, &template)
        }
    }
}
