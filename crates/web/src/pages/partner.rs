//! The partner's home: "our space".

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_core::Role;
use trellis_core::linking::LinkAction;
use trellis_store::User;

use super::{Layout, PageContext, fixable, render, render_refused};
use crate::error::AppResult;
use crate::extract::{PageForm, Path};
use crate::services::couples::{self, Invitee};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "our_space.html")]
struct OurSpacePage {
    layout: Layout,
    name: String,
    partner_name: Option<String>,
    therapist_name: Option<String>,
    pending_invitations: Vec<String>,
    /// Just sent an invitation: whether its mail went out.
    invitation_mailed: Option<bool>,
    errors: Vec<String>,
    invite_name: String,
    invite_email: String,
    link_errors: Vec<String>,
    link_code: String,
    /// The couple's latest request to be guided by a therapist, if any.
    link_request: Option<LinkRequestCard>,
    /// No request is waiting: the practice code form shows.
    may_ask: bool,
    onboarded: bool,
    /// What waits on this partner now, most pressing first.
    today: Vec<TodayLine>,
    /// Milestones worth celebrating, computed from the data.
    celebrations: Vec<String>,
    /// No appreciation written in the last week: a gentle nudge.
    appreciation_nudge: bool,
    /// The next session, in the partner's time zone.
    next_session: Option<String>,
}

/// An item of "today" as the home page shows it.
struct TodayLine {
    kind: &'static str,
    title: String,
    href: String,
    /// "due Tuesday 8 December", for homework with a date.
    due: Option<String>,
}

/// A link request as a partner's home shows it.
struct LinkRequestCard {
    id: String,
    therapist_name: String,
    requested_by_name: String,
    /// This partner typed the code.
    mine: bool,
    /// `waiting_for_partner`, `waiting_for_therapist`, `declined`, ...
    status: &'static str,
    can_agree: bool,
    can_withdraw: bool,
}

/// The latest request, while the couple has no therapist yet.
async fn link_request_card(state: &AppState, user: &User) -> AppResult<Option<LinkRequestCard>> {
    let latest = couples::link_requests_for(state, user)
        .await?
        .into_iter()
        .next();
    Ok(latest.map(|view| LinkRequestCard {
        id: view.request.id.clone(),
        mine: view.request.requested_by == user.id,
        status: view.request.status.as_str(),
        can_agree: view.actions.contains(&LinkAction::Agree),
        can_withdraw: view.actions.contains(&LinkAction::Withdraw),
        therapist_name: view.therapist_name,
        requested_by_name: view.requested_by_name,
    }))
}

/// Builds the page; the form parts can be pre-filled after a refusal.
async fn our_space_page(state: &AppState, page: &PageContext) -> AppResult<OurSpacePage> {
    let user = page.require(Role::Partner)?;
    let overview = couples::overview_for_partner(state, user).await?;
    let (partner_name, therapist_name, pending_invitations) = match overview {
        Some(overview) => (
            overview.partner.map(|p| p.name),
            overview.therapist.map(|t| t.name),
            overview
                .open_invitations
                .into_iter()
                .map(|i| i.name)
                .collect(),
        ),
        None => (None, None, Vec::new()),
    };
    let link_request = match therapist_name {
        None => link_request_card(state, user).await?,
        Some(_) => None,
    };
    Ok(OurSpacePage {
        layout: page.layout("/our-space"),
        name: user.name.clone(),
        partner_name,
        may_ask: link_request.as_ref().is_none_or(|r| !r.can_withdraw),
        link_request,
        therapist_name,
        pending_invitations,
        invitation_mailed: None,
        errors: Vec::new(),
        invite_name: String::new(),
        invite_email: String::new(),
        link_errors: Vec::new(),
        link_code: String::new(),
        onboarded: state.store().onboarding(&user.id).await?.complete(),
        celebrations: match user.couple_id.as_ref() {
            Some(couple_id) => {
                crate::services::accountability::new_celebrations(state, user, couple_id).await?
            }
            None => Vec::new(),
        },
        appreciation_nudge: crate::services::accountability::appreciation_due(state, user).await?,
        next_session: crate::services::appointments::mine(state, user)
            .await?
            .into_iter()
            .find(|a| !a.past && !a.cancelled)
            .map(|a| a.when),
        today: crate::services::today::today(state, user)
            .await?
            .into_iter()
            .map(|item| TodayLine {
                kind: item.kind.as_str(),
                title: item.title,
                href: item.href,
                due: item.due_at.as_deref().map(crate::when::day),
            })
            .collect(),
    })
}

pub async fn our_space(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    Ok(render(&our_space_page(&state, &page).await?)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InviteFields {
    name: String,
    email: String,
}

pub async fn invite(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<InviteFields>,
) -> AppResult<Response> {
    let (user, couple_id) = page.partner_in_couple()?;
    let result = couples::invite_partner(
        &state,
        user,
        couple_id,
        Invitee {
            email: &form.email,
            name: &form.name,
        },
    )
    .await;
    match result {
        Ok(sent) => {
            let mut template = our_space_page(&state, &page).await?;
            template.invitation_mailed = Some(sent.mailed);
            Ok(render(&template)?.into_response())
        }
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = our_space_page(&state, &page).await?;
            template.errors = errors;
            template.invite_name = form.name;
            template.invite_email = form.email;
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LinkFields {
    code: String,
}

pub async fn link_therapist(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<LinkFields>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let result = couples::request_link(&state, user, &form.code).await;
    link_answered(&state, &page, result.map(|_| ()), form.code).await
}

/// Back home after a step on a link request, or the home again with why not.
async fn link_answered(
    state: &AppState,
    page: &PageContext,
    result: trellis_app::AppResult<()>,
    code: String,
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(super::see_other("/our-space")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = our_space_page(state, page).await?;
            template.link_errors = errors;
            template.link_code = code;
            render_refused(&err, &template)
        }
    }
}

/// The other partner agrees or declines; either partner withdraws.
pub async fn answer_link_request(
    State(state): State<AppState>,
    page: PageContext,
    Path((id, action)): Path<(String, String)>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let result = couples::answer_link_request(&state, user, &id, &action).await;
    link_answered(&state, &page, result.map(|_| ()), String::new()).await
}
