//! The practice's intake inbox: requests for a first appointment, and
//! accepting, replying to or declining each.

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_core::Role;
use trellis_core::intake::split_names;
use trellis_store::IntakeRow;

use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::error::AppResult;
use crate::extract::PageForm;
use crate::services::couples::Invitee;
use crate::services::intake;
use crate::state::AppState;
use crate::when;

pub struct RequestRow {
    pub row: IntakeRow,
    pub received: String,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "intake.html")]
struct InboxPage {
    layout: Layout,
    requests: Vec<RequestRow>,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    done: String,
}

pub async fn inbox(
    State(state): State<AppState>,
    page: PageContext,
    Query(flags): Query<Flags>,
) -> AppResult<Response> {
    let staff = page.require_staff()?;
    let zone = crate::services::notices::zone_for(&state, staff).await?;
    let requests = intake::inbox(&state, staff)
        .await?
        .into_iter()
        .map(|row| RequestRow {
            received: when::long(row.created_at, &zone),
            open: row.status == "new" || row.status == "replied",
            row,
        })
        .collect();
    let notice = match flags.done.as_str() {
        "replied" => Some("Your reply is on its way."),
        "declined" => Some("The request is closed, and your message is on its way."),
        _ => None,
    };
    Ok(render(&InboxPage {
        layout: page.layout("/intake"),
        requests,
        notice,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "intake_request.html")]
struct RequestPage {
    layout: Layout,
    request: RequestRow,
    is_admin: bool,
    therapists: Vec<(String, String)>,
    errors: Vec<String>,
    reply_errors: Vec<String>,
    form: AcceptFields,
    reply: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AcceptFields {
    therapist_id: String,
    name1: String,
    email1: String,
    name2: String,
    email2: String,
}

async fn request_page(state: &AppState, page: &PageContext, id: &str) -> AppResult<RequestPage> {
    let staff = page.require_staff()?;
    let row = intake::request(state, staff, id).await?;
    let zone = crate::services::notices::zone_for(state, staff).await?;
    let practice_id = staff.practice_id.as_deref().unwrap_or_default();
    let therapists = state
        .store()
        .therapists(practice_id)
        .await?
        .into_iter()
        .map(|t| (t.user.id.into_string(), t.user.name))
        .collect();
    let (name1, name2) = split_names(&row.names);
    let form = AcceptFields {
        therapist_id: String::new(),
        name1,
        email1: row.email.clone(),
        name2,
        email2: row.partner_email.clone(),
    };
    Ok(RequestPage {
        layout: page.layout("/intake"),
        request: RequestRow {
            received: when::long(row.created_at, &zone),
            open: row.status == "new" || row.status == "replied",
            row,
        },
        is_admin: staff.role == Role::Admin,
        therapists,
        errors: Vec::new(),
        reply_errors: Vec::new(),
        form,
        reply: String::new(),
    })
}

pub async fn show(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(render(&request_page(&state, &page, &id).await?)?.into_response())
}

/// The invitations-sent page, with what to know when only the person who
/// wrote was invited.
#[derive(Template)]
#[template(path = "intake_accepted.html")]
struct IntakeAcceptedPage {
    layout: Layout,
    invited: Vec<(String, bool)>,
    back_href: &'static str,
    back_label: &'static str,
    note: Option<&'static str>,
}

pub async fn accept(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(form): PageForm<AcceptFields>,
) -> AppResult<Response> {
    let staff = page.require_staff()?;
    let partners = [
        Invitee {
            name: &form.name1,
            email: &form.email1,
        },
        Invitee {
            name: &form.name2,
            email: &form.email2,
        },
    ];
    match intake::accept(&state, staff, &id, Some(&form.therapist_id), &partners).await {
        Ok(accepted) => Ok(render(&IntakeAcceptedPage {
            layout: page.layout("/intake"),
            invited: accepted
                .sent
                .into_iter()
                .map(|s| (s.invitation.name, s.mailed))
                .collect(),
            back_href: "/intake",
            back_label: "Back to the intake inbox",
            note: accepted
                .seen_separately
                .then_some(intake::SEEN_SEPARATELY_NOTE),
        })?
        .into_response()),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = request_page(&state, &page, &id).await?;
            template.errors = errors;
            template.form = form;
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReplyFields {
    reply: String,
    decline: String,
}

pub async fn reply(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(form): PageForm<ReplyFields>,
) -> AppResult<Response> {
    let staff = page.require_staff()?;
    let decline = !form.decline.is_empty();
    match intake::answer(&state, staff, &id, &form.reply, decline).await {
        Ok(_) => Ok(see_other(if decline {
            "/intake?done=declined"
        } else {
            "/intake?done=replied"
        })),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = request_page(&state, &page, &id).await?;
            template.reply_errors = errors;
            template.reply = form.reply;
            render_refused(&err, &template)
        }
    }
}
