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
use crate::services::couples::{self, Invitee};
use crate::state::AppState;

pub struct CaseloadRow {
    pub id: String,
    /// Alerts from the measures (scores only under consent).
    pub alerts: usize,
    /// Messages from the couple the therapist has not read.
    pub unread: i64,
    /// Shared work is open (screened and cleared, nothing urgent waiting).
    pub shared_open: bool,
    pub news: trellis_store::CaseloadNews,
    pub title: String,
    pub partners: Vec<trellis_store::PartnerSummary>,
    pub since: String,
}

#[derive(Template)]
#[template(path = "caseload.html")]
struct CaseloadPage {
    /// Open safety flags across the caseload, and how many are urgent.
    attention: i64,
    urgent: i64,
    layout: Layout,
    couples: Vec<CaseloadRow>,
    link_code: Option<String>,
    /// The day the practice code stops working.
    link_code_expires: String,
    /// The code still works (else it shows as expired).
    link_code_current: bool,
    /// Couples who asked this therapist to guide them, both partners agreeing.
    link_requests: Vec<LinkRequestRow>,
}

pub struct LinkRequestRow {
    pub id: String,
    pub couple_title: String,
    pub asked_on: String,
}

pub async fn caseload(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    let mut news = state
        .store()
        .caseload_news(&therapist.id, crate::state::now())
        .await?;
    let couples = state
        .store()
        .caseload(&therapist.id)
        .await?
        .into_iter()
        .map(|entry| CaseloadRow {
            id: entry.couple.id.clone(),
            news: news.remove(&entry.couple.id).unwrap_or_default(),
            alerts: 0,
            unread: 0,
            shared_open: false,
            title: entry
                .partners
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(" & "),
            since: utc_date(entry.couple.created_at),
            partners: entry.partners,
        })
        .collect::<Vec<CaseloadRow>>();
    // Sorted by need: safety first, then alerts, then the newest.
    let mut couples: Vec<CaseloadRow> = couples;
    for row in &mut couples {
        row.alerts = crate::services::measures::progress(&state, therapist, &row.id)
            .await?
            .alerts
            .len();
        row.unread = state
            .store()
            .unread_messages_for_therapist(&therapist.id, &row.id)
            .await?;
        let couple = state.store().couple(&row.id).await?;
        row.shared_open = crate::services::safety::shared_work_open(&state, &couple).await?;
    }
    couples.sort_by_key(|row| {
        std::cmp::Reverse((row.news.urgent_flags, row.news.open_flags, row.alerts))
    });
    let code = couples::practice_code(&state, therapist).await?;
    let link_requests = couples::link_requests_for(&state, therapist)
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
        layout: page.layout("/caseload"),
        attention: couples.iter().map(|c| c.news.open_flags).sum(),
        urgent: couples.iter().map(|c| c.news.urgent_flags).sum(),
        couples,
        link_code_expires: code
            .as_ref()
            .map(|(_, at)| utc_date(*at))
            .unwrap_or_default(),
        link_code_current: code.as_ref().is_some_and(|(_, at)| {
            trellis_core::linking::link_code_works(*at, crate::state::now())
        }),
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
