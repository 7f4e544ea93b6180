//! The therapist's caseload and adding couples.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_core::Role;
use trellis_core::linking::LinkAction;
use trellis_core::time::utc_date;

use super::{Layout, PageContext, fixable, render, render_refused};
use crate::error::AppResult;
use crate::extract::{PageForm, Path};
use crate::services::caseload::CaseloadCouple;
use crate::services::couples::{self, Invitee};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "caseload.html")]
struct CaseloadPage {
    /// Open safety flags across the caseload, and how many are urgent.
    attention: i64,
    urgent: i64,
    /// Distress flags that may be urgent (read by word statistics).
    possibly_urgent: i64,
    layout: Layout,
    couples: Vec<CaseloadCouple>,
    link_code: Option<String>,
    /// The day the practice code stops working.
    link_code_expires: String,
    /// The code still works (else it shows as expired).
    link_code_current: bool,
    /// Couples who asked this therapist to guide them, both partners agreeing.
    link_requests: Vec<LinkRequestRow>,
    /// What waits for the therapist across the caseload, in a line each.
    waiting: Vec<String>,
}

/// "2 couples have check-in changes to look at", … : the caseload's
/// decisions and reading, before the table.
fn waiting_lines(
    couples: &[crate::services::caseload::CaseloadCouple],
    link_requests: usize,
) -> Vec<String> {
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let count = |f: &dyn Fn(&crate::services::caseload::CaseloadCouple) -> bool| {
        couples.iter().filter(|c| f(c)).count()
    };
    let mut lines = Vec::new();
    let screening = count(&|c| !c.shared_work_open);
    if screening > 0 {
        lines.push(format!(
            "{} waiting on screening before joint work",
            plural(screening, "couple is", "couples are")
        ));
    }
    let alerts = count(&|c| c.alerts > 0);
    if alerts > 0 {
        lines.push(format!(
            "{} check-in changes to look at",
            plural(alerts, "couple has", "couples have")
        ));
    }
    let unread: i64 = couples.iter().map(|c| c.unread).sum();
    if unread > 0 {
        lines.push(plural(
            usize::try_from(unread).unwrap_or(0),
            "new message",
            "new messages",
        ));
    }
    let shared = count(&|c| c.new_shared > 0);
    if shared > 0 {
        lines.push(format!(
            "new writing shared by {}",
            plural(shared, "couple", "couples")
        ));
    }
    if link_requests > 0 {
        lines.push(plural(
            link_requests,
            "couple asking you to guide them",
            "couples asking you to guide them",
        ));
    }
    lines
}

pub struct LinkRequestRow {
    pub id: String,
    pub couple_title: String,
    pub asked_on: String,
}

pub async fn caseload(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    let couples = crate::services::caseload::caseload(&state, therapist).await?;
    let code = couples::practice_code(&state, therapist).await?;
    let link_requests: Vec<LinkRequestRow> = couples::link_requests_for(&state, therapist)
        .await?
        .into_iter()
        .filter(|view| view.actions.contains(&LinkAction::Accept))
        .map(|view| LinkRequestRow {
            id: view.request.id,
            couple_title: view.couple_title,
            asked_on: utc_date(view.request.created_at),
        })
        .collect();
    let template = CaseloadPage {
        waiting: waiting_lines(&couples, link_requests.len()),
        layout: page.layout("/caseload"),
        attention: couples.iter().map(|c| c.open_flags).sum(),
        urgent: couples.iter().map(|c| c.urgent_flags).sum(),
        possibly_urgent: couples.iter().map(|c| c.possibly_urgent_flags).sum(),
        couples,
        link_code_expires: code
            .as_ref()
            .map(|(_, at)| utc_date(*at))
            .unwrap_or_default(),
        link_code_current: code
            .as_ref()
            .is_some_and(|(_, at)| trellis_core::linking::link_code_works(*at, state.now())),
        link_code: code.map(|(code, _)| code),
        link_requests,
    };
    Ok(render(&template)?.into_response())
}

#[derive(Template)]
#[template(path = "couple_new.html")]
struct NewCouplePage {
    layout: Layout,
    errors: Vec<String>,
    name1: String,
    email1: String,
    name2: String,
    email2: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NewCoupleFields {
    name1: String,
    email1: String,
    name2: String,
    email2: String,
}

pub async fn new_couple_form(page: PageContext) -> AppResult<Response> {
    page.require(Role::Therapist)?;
    let template = NewCouplePage {
        layout: page.layout("/caseload"),
        errors: Vec::new(),
        name1: String::new(),
        email1: String::new(),
        name2: String::new(),
        email2: String::new(),
    };
    Ok(render(&template)?.into_response())
}

#[derive(Template)]
#[template(path = "invitations_sent.html")]
pub struct InvitationsSentPage {
    pub layout: Layout,
    /// Who was invited, and whether their mail went out.
    pub invited: Vec<(String, bool)>,
    pub back_href: &'static str,
    pub back_label: &'static str,
}

pub async fn create_couple(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<NewCoupleFields>,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    let partners = [
        Invitee {
            email: &form.email1,
            name: &form.name1,
        },
        Invitee {
            email: &form.email2,
            name: &form.name2,
        },
    ];
    match couples::create_couple(&state, therapist, &partners).await {
        Ok((_, sent)) => {
            let template = InvitationsSentPage {
                layout: page.layout("/caseload"),
                invited: sent
                    .into_iter()
                    .map(|s| (s.invitation.name, s.mailed))
                    .collect(),
                back_href: "/caseload",
                back_label: "Back to your caseload",
            };
            Ok(render(&template)?.into_response())
        }
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let template = NewCouplePage {
                layout: page.layout("/caseload"),
                errors,
                name1: form.name1,
                email1: form.email1,
                name2: form.name2,
                email2: form.email2,
            };
            render_refused(&err, &template)
        }
    }
}

/// The therapist accepts a couple's request (the couple is linked) or declines it.
pub async fn answer_link_request(
    State(state): State<AppState>,
    page: PageContext,
    Path((id, action)): Path<(String, String)>,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    couples::answer_link_request(&state, therapist, &id, &action).await?;
    Ok(super::see_other("/caseload"))
}

/// A fresh practice code; the old one stops working.
pub async fn new_practice_code(
    State(state): State<AppState>,
    page: PageContext,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    couples::new_practice_code(&state, therapist).await?;
    Ok(super::see_other("/caseload"))
}
