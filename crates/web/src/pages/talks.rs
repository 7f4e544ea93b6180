//! Structured talks, time-outs and the two-circles compromise, as pages.
//! Each move is an ordinary form post; `talk.js` adds live updates.

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_app::Error as DomainError;
use trellis_core::Role;
use trellis_core::talk::{Move, Phase};
use trellis_core::time::MINUTE;

use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::services::compromise::{self, CompromiseView};
use crate::services::talks::{self, TalkView};
use crate::services::timeouts::{self, TimeoutView};
use crate::state::AppState;
use crate::when;

/// Break lengths offered, in minutes: from the shortest that helps to a day.
const BREAKS: [(i64, &str); 7] = [
    (20, "20 minutes"),
    (30, "30 minutes"),
    (60, "1 hour"),
    (120, "2 hours"),
    (240, "4 hours"),
    (720, "12 hours"),
    (1_440, "24 hours"),
];

pub struct TalkRow {
    pub id: String,
    pub topic: String,
    pub started: String,
    pub ended: bool,
}

#[derive(Template)]
#[template(path = "talks.html")]
struct TalksPage {
    layout: Layout,
    talks: Vec<TalkRow>,
    compromises: Vec<CompromiseView>,
    breaks: Vec<TimeoutView>,
    errors: Vec<String>,
    topic: String,
    has_partner: bool,
}

async fn talks_page(state: &AppState, page: &PageContext) -> AppResult<TalksPage> {
    let partner = page.require(Role::Partner)?;
    let (talks, breaks, compromises, has_partner) = if let Some(couple_id) = &partner.couple_id {
        let zone = crate::services::notices::zone_for(state, partner).await?;
        let talks = talks::list(state, partner, couple_id)
            .await?
            .into_iter()
            .map(|(row, topic)| TalkRow {
                started: when::long(row.created_at, &zone),
                ended: row.ended_at.is_some(),
                id: row.id,
                topic,
            })
            .collect();
        let breaks = timeouts::recent(state, partner, couple_id, 1)
            .await?
            .into_iter()
            .filter(|t| t.running)
            .collect();
        let members = state.store().couple_members(couple_id).await?.len();
        (
            talks,
            breaks,
            compromise::list(state, partner).await?,
            members == 2,
        )
    } else {
        (Vec::new(), Vec::new(), Vec::new(), false)
    };
    Ok(TalksPage {
        layout: page.layout("/talks"),
        talks,
        compromises,
        breaks,
        errors: Vec::new(),
        topic: String::new(),
        has_partner,
    })
}

pub async fn list(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    Ok(render(&talks_page(&state, &page).await?)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OpenFields {
    topic: String,
    therapist_can_read: Option<String>,
}

pub async fn open(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<OpenFields>,
) -> AppResult<Response> {
    let partner = page.require(Role::Partner)?;
    match talks::open(
        &state,
        partner,
        &form.topic,
        form.therapist_can_read.is_some(),
    )
    .await
    {
        Ok(talk) => Ok(see_other(&format!("/talks/{}", talk.id))),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = talks_page(&state, &page).await?;
            template.errors = errors;
            template.topic = form.topic;
            render_refused(&err, &template)
        }
    }
}

/// Turns shown open on a talk's page, so the move to make is near the top
/// even on a phone; earlier turns are one tap away.
const RECENT_TURNS: usize = 4;

#[derive(Template)]
#[template(path = "talk.html")]
struct TalkPage {
    layout: Layout,
    talk: TalkView,
    can: Vec<&'static str>,
    solving: bool,
    ended: bool,
    last_seq: i64,
    errors: Vec<String>,
    draft: String,
    draft_kind: String,
    /// Crisis language was found: help is shown, and sending needs a confirmation.
    confirm: Option<String>,
    breaks: Vec<TimeoutView>,
    break_options: Vec<(i64, &'static str)>,
    /// The reader called the running break: show the guidance.
    my_break: Option<TimeoutView>,
    reader_is_partner: bool,
    promised: bool,
    /// Problem-solving has named what to solve: offer ideas first.
    agenda_set: bool,
}

impl TalkPage {
    /// Turns folded away above the latest [`RECENT_TURNS`].
    fn earlier_turns(&self) -> usize {
        self.talk.turns.len().saturating_sub(RECENT_TURNS)
    }
}

impl TalkPage {
    /// May the reader make this move now?
    fn may(&self, action: &str) -> bool {
        self.can.contains(&action)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TalkFlags {
    promised: bool,
}

async fn talk_page(state: &AppState, page: &PageContext, id: &str) -> AppResult<TalkPage> {
    let viewer = page.signed_in()?;
    let talk = talks::view(state, viewer, id).await?;
    let breaks: Vec<TimeoutView> = timeouts::recent(state, viewer, &talk.couple_id, 1)
        .await?
        .into_iter()
        .filter(|t| t.running)
        .collect();
    let my_break = breaks.iter().find(|b| b.mine).cloned();
    Ok(TalkPage {
        layout: page.layout(if viewer.role == Role::Partner {
            "/talks"
        } else {
            "/caseload"
        }),
        can: talk.your_moves.iter().map(|m| m.as_str()).collect(),
        solving: talk.phase == Phase::ProblemSolving,
        ended: talk.phase == Phase::Ended,
        last_seq: talk.turns.last().map_or(0, |t| t.seq),
        reader_is_partner: viewer.role == Role::Partner,
        agenda_set: talk.turns.iter().any(|t| t.kind == "agenda"),
        talk,
        errors: Vec::new(),
        draft: String::new(),
        draft_kind: String::new(),
        confirm: None,
        breaks,
        break_options: BREAKS.to_vec(),
        my_break,
        promised: false,
    })
}

pub async fn show(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    Query(flags): Query<TalkFlags>,
) -> AppResult<Response> {
    let mut template = talk_page(&state, &page, &id).await?;
    template.promised = flags.promised;
    Ok(render(&template)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MoveFields {
    kind: String,
    body: String,
    confirm: String,
}

pub async fn make_move(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(form): PageForm<MoveFields>,
) -> AppResult<Response> {
    let partner = page.require(Role::Partner)?;
    let action = Move::parse(&form.kind)
        .ok_or_else(|| AppError::invalid("kind", "Please choose a move."))?;
    match talks::make_move(
        &state,
        partner,
        &id,
        action,
        &form.body,
        form.confirm == "yes",
    )
    .await
    {
        Ok(_) if action == Move::Leave => Ok(see_other("/talks")),
        Ok(_) => Ok(see_other(&format!("/talks/{id}"))),
        Err(trellis_app::Error::ConfirmationNeeded(message)) => {
            let mut template = talk_page(&state, &page, &id).await?;
            template.confirm = Some(message);
            template.draft = form.body;
            template.draft_kind = form.kind;
            Ok(render(&template)?.into_response())
        }
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = talk_page(&state, &page, &id).await?;
            template.errors = errors;
            template.draft = form.body;
            template.draft_kind = form.kind;
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BreakFields {
    minutes: String,
}

/// A time-out from a talk page: a length, not a clock time, is what a
/// heated person can choose.
pub async fn take_break(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(form): PageForm<BreakFields>,
) -> AppResult<Response> {
    let partner = page.require(Role::Partner)?;
    // Only the offered lengths; up to the next whole minute (the time people
    // read), and never past the longest break.
    let now = state.now();
    let return_at = match form.minutes.trim().parse::<i64>() {
        Ok(minutes) if BREAKS.iter().any(|(offered, _)| *offered == minutes) => {
            let at = now + minutes * MINUTE;
            let rounded = at + (MINUTE - at.rem_euclid(MINUTE)) % MINUTE;
            when::rfc3339(rounded.min(now + trellis_core::talk::TIMEOUT_MAX))
        }
        _ => String::new(),
    };
    match timeouts::call(&state, partner, &return_at, Some(&id)).await {
        Ok(_) => Ok(see_other(&format!("/talks/{id}"))),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = talk_page(&state, &page, &id).await?;
            template.errors = errors;
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PromiseFields {
    text: String,
}

/// An agreement from problem-solving becomes the partner's promise, weekly
/// on today's weekday, with one click.
pub async fn promise(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(form): PageForm<PromiseFields>,
) -> AppResult<Response> {
    let partner = page.require(Role::Partner)?;
    let talk = talks::view(&state, partner, &id).await?;
    if !talk
        .turns
        .iter()
        .any(|t| t.kind == "propose" && t.body == form.text)
    {
        return Err(AppError::Domain(DomainError::NotFound));
    }
    let today = crate::services::accountability::today_for(&state, partner).await?;
    let cadence = trellis_core::consistency::Cadence::Weekly {
        days: vec![trellis_core::consistency::weekday(today)],
    };
    crate::services::accountability::make_promise(&state, partner, &form.text, cadence, None)
        .await?;
    Ok(see_other(&format!("/talks/{id}?promised=true")))
}

#[derive(Template)]
#[template(path = "compromise.html")]
struct CompromisePage {
    layout: Layout,
    compromise: CompromiseView,
    errors: Vec<String>,
    /// What was typed, kept after a refusal.
    draft: CircleFields,
}

async fn compromise_page(
    state: &AppState,
    page: &PageContext,
    id: &str,
) -> AppResult<CompromisePage> {
    let partner = page.require(Role::Partner)?;
    Ok(CompromisePage {
        layout: page.layout("/talks"),
        compromise: compromise::view(state, partner, id).await?,
        errors: Vec::new(),
        draft: CircleFields::default(),
    })
}

pub async fn show_compromise(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
) -> AppResult<Response> {
    Ok(render(&compromise_page(&state, &page, &id).await?)?.into_response())
}

pub async fn open_compromise(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<OpenFields>,
) -> AppResult<Response> {
    let partner = page.require(Role::Partner)?;
    match compromise::open(&state, partner, &form.topic).await {
        Ok(view) => Ok(see_other(&format!("/compromises/{}", view.id))),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = talks_page(&state, &page).await?;
            template.errors = errors;
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CircleFields {
    core: String,
    flexible: String,
    title: String,
    body: String,
}

pub async fn write_circles(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(form): PageForm<CircleFields>,
) -> AppResult<Response> {
    let partner = page.require(Role::Partner)?;
    match compromise::write(&state, partner, &id, &form.core, &form.flexible).await {
        Ok(_) => Ok(see_other(&format!("/compromises/{id}"))),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = compromise_page(&state, &page, &id).await?;
            template.errors = errors;
            template.draft = form;
            render_refused(&err, &template)
        }
    }
}

pub async fn agree(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(form): PageForm<CircleFields>,
) -> AppResult<Response> {
    let partner = page.require(Role::Partner)?;
    match compromise::agree(&state, partner, &id, &form.title, &form.body).await {
        Ok(_) => Ok(see_other("/promises")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = compromise_page(&state, &page, &id).await?;
            template.errors = errors;
            template.draft = form;
            render_refused(&err, &template)
        }
    }
}
