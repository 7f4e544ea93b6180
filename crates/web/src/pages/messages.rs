//! Message threads for partners and therapists, comments on shared work,
//! and the therapist's private session notes.

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_core::CoupleId;
use trellis_core::Role;
use trellis_store::EntryFilter;

use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::error::AppResult;
use crate::extract::PageForm;
use crate::services::messages::{self, COMMENT, Thread, ThreadKind};
use crate::services::notes::{self, Note};
use crate::services::notices;
use crate::services::program::couple_for;
use crate::services::writing::{self, Entry};
use crate::state::AppState;
use crate::when;

pub struct MessageRow {
    pub entry: Entry,
    pub when: String,
}

/// A tab of threads: its label, address, and whether it is the one open.
pub struct ThreadTab {
    pub label: String,
    pub href: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "messages.html")]
struct MessagesPage {
    layout: Layout,
    heading: String,
    tabs: Vec<ThreadTab>,
    explanation: String,
    messages: Vec<MessageRow>,
    post_action: String,
    errors: Vec<String>,
    draft: String,
    comments: Vec<MessageRow>,
    crisis: bool,
    /// Just sent, with a possible sign of crisis: help, and the choice to
    /// tell the therapist (`can_tell`).
    possible: bool,
    can_tell: bool,
    /// What became of the writing, before the possible-sign card.
    possible_said: &'static str,
    /// Who was told about the crisis language, exactly as it is.
    what_happens_next: String,
    /// Helplines, shown with the crisis notice.
    resources: Vec<trellis_core::safety::Resource>,
    back: Option<(String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ThreadQuery {
    thread: String,
    partner: String,
    crisis: bool,
    possible: bool,
}

async fn rows(
    state: &AppState,
    viewer: &trellis_store::User,
    entries: Vec<Entry>,
) -> AppResult<Vec<MessageRow>> {
    let zone = notices::zone_for(state, viewer).await?;
    Ok(entries
        .into_iter()
        .map(|entry| MessageRow {
            when: when::long(entry.created_at, &zone),
            entry,
        })
        .collect())
}

/// Who reads the thread, said to the reader, naming only people who exist:
/// a self-guided couple has no therapist, a partner may not have joined yet.
fn explanation(
    thread: &Thread,
    viewer_role: Role,
    has_therapist: bool,
    has_partner: bool,
) -> String {
    match (thread.kind, viewer_role) {
        (ThreadKind::Couple, Role::Partner) => match (has_partner, has_therapist) {
            (true, true) => "You, your partner and your therapist read this thread.".to_owned(),
            (true, false) => "You and your partner read this thread. Nobody else does.".to_owned(),
            (false, true) => {
                "You and your therapist read this thread, and your partner will once they join."
                    .to_owned()
            }
            (false, false) => {
                "Your partner will read this thread once they join. Until then it is yours."
                    .to_owned()
            }
        },
        (ThreadKind::Couple, _) => "Both partners and you read this thread.".to_owned(),
        (ThreadKind::Private, Role::Partner) => {
            "Only you and your therapist read this thread. Your partner never sees it.".to_owned()
        }
        (ThreadKind::Private, _) => {
            "Only you and this partner read this thread. The other partner never sees it."
                .to_owned()
        }
    }
}

async fn partner_page(
    state: &AppState,
    page: &PageContext,
    kind: ThreadKind,
    crisis: bool,
) -> AppResult<MessagesPage> {
    let partner = page.require(Role::Partner)?;
    let thread = messages::thread(state, partner, kind, None, None).await;
    let couple_id = partner.couple_id.as_deref().unwrap_or_default().to_owned();
    let has_therapist = match &partner.couple_id {
        Some(id) => state.store().couple(id).await?.therapist_id.is_some(),
        None => false,
    };
    let has_partner = match &partner.couple_id {
        Some(id) => state.store().couple_members(id).await?.len() > 1,
        None => false,
    };
    let mut tabs = vec![ThreadTab {
        label: "Together".to_owned(),
        href: "/messages".to_owned(),
        current: kind == ThreadKind::Couple,
    }];
    if has_therapist {
        tabs.push(ThreadTab {
            label: "Just me and our therapist".to_owned(),
            href: "/messages?thread=private".to_owned(),
            current: kind == ThreadKind::Private,
        });
    }
    let (messages_list, explanation_text, post_action) = match thread {
        Ok(thread) => (
            rows(
                state,
                partner,
                messages::read_thread(state, partner, &thread).await?,
            )
            .await?,
            explanation(&thread, Role::Partner, has_therapist, has_partner),
            if kind == ThreadKind::Private {
                "/messages?thread=private"
            } else {
                "/messages"
            }
            .to_owned(),
        ),
        Err(_) => (
            Vec::new(),
            "Private messages are with your therapist, once your couple has one.".to_owned(),
            String::new(),
        ),
    };
    let comments = if couple_id.is_empty() {
        Vec::new()
    } else {
        let mut entries = writing::list(
            state,
            partner,
            EntryFilter {
                couple_id: Some(&couple_id),
                kind: Some(COMMENT),
                ref_id: None,
                author_id: None,
                before: None,
            },
        )
        .await?;
        entries.truncate(20);
        rows(state, partner, entries).await?
    };
    Ok(MessagesPage {
        layout: page.layout("/messages"),
        heading: "Messages".to_owned(),
        tabs,
        explanation: explanation_text,
        messages: messages_list,
        post_action,
        errors: Vec::new(),
        draft: String::new(),
        comments,
        crisis,
        possible: false,
        can_tell: false,
        possible_said: "Your message was sent.",
        what_happens_next: if crisis {
            crate::services::safety::what_happens_next_for(state, partner).await?
        } else {
            String::new()
        },
        resources: crate::services::help::resources_for(state, partner).await?,
        back: None,
    })
}

pub async fn partner_messages(
    State(state): State<AppState>,
    page: PageContext,
    Query(query): Query<ThreadQuery>,
) -> AppResult<Response> {
    let kind = if query.thread == "private" {
        ThreadKind::Private
    } else {
        ThreadKind::Couple
    };
    let mut template = partner_page(&state, &page, kind, query.crisis).await?;
    if query.possible && !query.crisis {
        let partner = page.require(Role::Partner)?;
        template.possible = true;
        template.can_tell = crate::services::couples::is_guided(&state, partner).await?;
    }
    Ok(render(&template)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MessageFields {
    body: String,
}

pub async fn partner_post(
    State(state): State<AppState>,
    page: PageContext,
    Query(query): Query<ThreadQuery>,
    PageForm(form): PageForm<MessageFields>,
) -> AppResult<Response> {
    let partner = page.require(Role::Partner)?;
    let kind = if query.thread == "private" {
        ThreadKind::Private
    } else {
        ThreadKind::Couple
    };
    let back = if kind == ThreadKind::Private {
        "/messages?thread=private"
    } else {
        "/messages?thread=couple"
    };
    let result = async {
        let thread = messages::thread(&state, partner, kind, None, None).await?;
        messages::post(&state, partner, &thread, &form.body).await
    }
    .await;
    match result {
        Ok(entry) if entry.crisis => Ok(see_other(&format!("{back}&crisis=true"))),
        Ok(entry) if entry.possible_crisis => Ok(see_other(&format!("{back}&possible=true"))),
        Ok(_) => Ok(see_other(back)),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = partner_page(&state, &page, kind, false).await?;
            template.errors = errors;
            template.draft = form.body;
            render_refused(&err, &template)
        }
    }
}

async fn therapist_page(
    state: &AppState,
    page: &PageContext,
    couple_id: &CoupleId,
    query: &ThreadQuery,
) -> AppResult<MessagesPage> {
    let therapist = page.require(Role::Therapist)?;
    let couple = couple_for(state, therapist, couple_id).await?;
    let members = state.store().couple_members(&couple.id).await?;
    let title = crate::services::couples::title(state, &couple.id).await?;
    let kind = if query.thread == "private" {
        ThreadKind::Private
    } else {
        ThreadKind::Couple
    };
    let partner = (kind == ThreadKind::Private).then_some(query.partner.as_str());
    let thread = messages::thread(state, therapist, kind, Some(&couple.id), partner).await?;
    let base = format!("/caseload/couples/{}/messages", couple.id);
    let mut tabs = vec![ThreadTab {
        label: format!("Together with {title}"),
        href: base.clone(),
        current: kind == ThreadKind::Couple,
    }];
    for member in &members {
        tabs.push(ThreadTab {
            label: format!("Just {}", member.name),
            href: format!("{base}?thread=private&partner={}", member.id),
            current: kind == ThreadKind::Private && query.partner == member.id,
        });
    }
    let post_action = match kind {
        ThreadKind::Couple => base.clone(),
        ThreadKind::Private => format!("{base}?thread=private&partner={}", query.partner),
    };
    Ok(MessagesPage {
        layout: page.layout("/caseload"),
        heading: format!("Messages with {title}"),
        tabs,
        explanation: explanation(&thread, Role::Therapist, true, true),
        messages: rows(
            state,
            therapist,
            messages::read_thread(state, therapist, &thread).await?,
        )
        .await?,
        post_action,
        errors: Vec::new(),
        draft: String::new(),
        comments: Vec::new(),
        crisis: false,
        possible: false,
        can_tell: false,
        possible_said: "Your message was sent.",
        what_happens_next: String::new(),
        resources: Vec::new(),
        back: Some((format!("/caseload/couples/{}", couple.id), title)),
    })
}

pub async fn therapist_messages(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<CoupleId>,
    Query(query): Query<ThreadQuery>,
) -> AppResult<Response> {
    Ok(render(&therapist_page(&state, &page, &id, &query).await?)?.into_response())
}

pub async fn therapist_post(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<CoupleId>,
    Query(query): Query<ThreadQuery>,
    PageForm(form): PageForm<MessageFields>,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    let kind = if query.thread == "private" {
        ThreadKind::Private
    } else {
        ThreadKind::Couple
    };
    let partner = (kind == ThreadKind::Private).then_some(query.partner.as_str());
    let result = async {
        let thread = messages::thread(&state, therapist, kind, Some(&id), partner).await?;
        messages::post(&state, therapist, &thread, &form.body).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(&match kind {
            ThreadKind::Couple => format!("/caseload/couples/{id}/messages"),
            ThreadKind::Private => format!(
                "/caseload/couples/{id}/messages?thread=private&partner={}",
                query.partner
            ),
        })),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = therapist_page(&state, &page, &id, &query).await?;
            template.errors = errors;
            template.draft = form.body;
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CommentFields {
    target_id: String,
    body: String,
}

/// A comment from the couple page; back to it afterwards.
pub async fn comment(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<CoupleId>,
    PageForm(form): PageForm<CommentFields>,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    couple_for(&state, therapist, &id).await?;
    match messages::comment(&state, therapist, &form.target_id, &form.body).await {
        Ok(_) => Ok(see_other(&format!("/caseload/couples/{id}?commented=true"))),
        Err(err) => {
            // Keep what was written: show it back with the reason.
            let (err, errors) = fixable(err)?;
            let page = super::MessagePage {
                layout: page.layout("/caseload"),
                title: "Your comment was not posted".to_owned(),
                body: format!("{} Your comment: “{}”", errors.join(" "), form.body),
                action: Some((
                    format!("/caseload/couples/{id}"),
                    "Back to the couple".to_owned(),
                )),
            };
            render_refused(&err, &page)
        }
    }
}

pub struct NoteRow {
    pub note: Note,
    pub when: String,
}

#[derive(Template)]
#[template(path = "notes.html")]
struct NotesPage {
    layout: Layout,
    couple_id: String,
    title: String,
    notes: Vec<NoteRow>,
    errors: Vec<String>,
    draft: String,
    saved: bool,
}

async fn notes_page(
    state: &AppState,
    page: &PageContext,
    couple_id: &CoupleId,
) -> AppResult<NotesPage> {
    let therapist = page.require(Role::Therapist)?;
    let list = notes::list(state, therapist, couple_id).await?;
    let zone = notices::zone_for(state, therapist).await?;
    let title = crate::services::couples::title(state, couple_id).await?;
    Ok(NotesPage {
        layout: page.layout("/caseload"),
        couple_id: couple_id.to_string(),
        title,
        notes: list
            .into_iter()
            .map(|note| NoteRow {
                when: when::long(note.created_at, &zone),
                note,
            })
            .collect(),
        errors: Vec::new(),
        draft: notes::TEMPLATE.to_owned(),
        saved: false,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SavedFlag {
    saved: bool,
}

pub async fn notes_list(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<CoupleId>,
    Query(flag): Query<SavedFlag>,
) -> AppResult<Response> {
    let mut template = notes_page(&state, &page, &id).await?;
    template.saved = flag.saved;
    Ok(render(&template)?.into_response())
}

pub async fn write_note(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<CoupleId>,
    PageForm(form): PageForm<MessageFields>,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    match notes::write(&state, therapist, &id, &form.body).await {
        Ok(_) => Ok(see_other(&format!(
            "/caseload/couples/{id}/notes?saved=true"
        ))),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = notes_page(&state, &page, &id).await?;
            template.errors = errors;
            template.draft = form.body;
            render_refused(&err, &template)
        }
    }
}
