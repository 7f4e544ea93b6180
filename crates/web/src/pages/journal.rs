//! The partner's journal and the therapist's view of what a couple shared.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_core::Role;
use trellis_core::privacy::Audience;
use trellis_core::time::utc_date;
use trellis_store::EntryFilter;

use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::services::writing::{self, Entry, JOURNAL, NewWriting};
use crate::state::AppState;

pub struct AudienceOption {
    pub value: &'static str,
    pub label: &'static str,
    pub description: &'static str,
}

pub fn audience_options() -> Vec<AudienceOption> {
    Audience::ALL
        .into_iter()
        .map(|a| AudienceOption {
            value: a.as_str(),
            label: a.label(),
            description: a.describe(),
        })
        .collect()
}

/// An entry as a page shows it.
pub struct EntryView {
    pub id: String,
    pub mine: bool,
    pub author_name: String,
    pub date: String,
    pub body: String,
    pub audience: &'static str,
    pub audience_label: &'static str,
    pub audience_description: &'static str,
}

impl From<Entry> for EntryView {
    fn from(entry: Entry) -> Self {
        Self {
            id: entry.id,
            mine: entry.mine,
            author_name: entry.author_name,
            date: utc_date(entry.created_at),
            body: entry.body,
            audience: entry.audience.as_str(),
            audience_label: entry.audience.label(),
            audience_description: entry.audience.describe(),
        }
    }
}

#[derive(Template)]
#[template(path = "journal.html")]
struct JournalPage {
    layout: Layout,
    notice: Option<&'static str>,
    errors: Vec<String>,
    body: String,
    chosen_audience: &'static str,
    audience_options: Vec<AudienceOption>,
    entries: Vec<EntryView>,
    show_controls: bool,
}

async fn journal_page(state: &AppState, page: &PageContext) -> AppResult<JournalPage> {
    let user = page.require(Role::Partner)?;
    let entries = writing::list(
        state,
        user,
        EntryFilter {
            kind: Some(JOURNAL),
            ..EntryFilter::default()
        },
    )
    .await?;
    Ok(JournalPage {
        layout: page.layout("/journal"),
        notice: None,
        errors: Vec::new(),
        body: String::new(),
        chosen_audience: Audience::default().as_str(),
        audience_options: audience_options(),
        entries: entries.into_iter().map(EntryView::from).collect(),
        show_controls: true,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    saved: bool,
    changed: bool,
}

pub async fn journal(
    State(state): State<AppState>,
    page: PageContext,
    Query(flags): Query<Flags>,
) -> AppResult<Response> {
    let mut template = journal_page(&state, &page).await?;
    template.notice = match (flags.saved, flags.changed) {
        (true, _) => Some("Your entry is saved."),
        (_, true) => Some("Who can see that entry has been changed."),
        _ => None,
    };
    Ok(render(&template)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EntryFields {
    body: String,
    audience: String,
}

pub async fn write(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<EntryFields>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let result = match writing::parse_audience("audience", Some(&form.audience)) {
        Ok(audience) => {
            writing::write(
                &state,
                user,
                NewWriting {
                    kind: JOURNAL,
                    ref_id: None,
                    body: &form.body,
                    audience,
                },
            )
            .await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(_) => Ok(see_other("/journal?saved=true")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = journal_page(&state, &page).await?;
            template.errors = errors;
            template.body = form.body;
            template.chosen_audience = Audience::parse(&form.audience).unwrap_or_default().as_str();
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AudienceFields {
    audience: String,
}

pub async fn change_audience(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(form): PageForm<AudienceFields>,
) -> AppResult<Response> {
    let user = page.user.as_ref().ok_or(AppError::Unauthenticated)?;
    writing::change_audience(&state, user, &id, Some(&form.audience)).await?;
    Ok(see_other("/journal?changed=true"))
}

#[derive(Template)]
#[template(path = "couple.html")]
struct CouplePage {
    layout: Layout,
    title: String,
    entries: Vec<EntryView>,
    audience_options: Vec<AudienceOption>,
    show_controls: bool,
}

/// A therapist's view of one of their couples.
pub async fn couple(
    State(state): State<AppState>,
    page: PageContext,
    Path(couple_id): Path<String>,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    let couple = state.store().couple(&couple_id).await?;
    if couple.therapist_id.as_deref() != Some(therapist.id.as_str()) {
        return Err(AppError::NotFound);
    }
    let partners = state.store().couple_members(&couple.id).await?;
    let title = if partners.is_empty() {
        "A couple not yet joined".to_owned()
    } else {
        partners
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(" & ")
    };
    let entries = writing::list(
        &state,
        therapist,
        EntryFilter {
            couple_id: Some(&couple.id),
            ..EntryFilter::default()
        },
    )
    .await?;
    let template = CouplePage {
        layout: page.layout("/caseload"),
        title,
        entries: entries.into_iter().map(EntryView::from).collect(),
        audience_options: audience_options(),
        show_controls: false,
    };
    Ok(render(&template)?.into_response())
}
