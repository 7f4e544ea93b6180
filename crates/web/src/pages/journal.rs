//! The partner's journal and the therapist's view of what a couple shared.

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_app::Error as DomainError;
use trellis_core::CoupleId;
use trellis_core::Role;
use trellis_core::privacy::Audience;
use trellis_store::EntryFilter;

use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::services::messages;
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
    /// "5 Dec 2026", in the reader's zone; `datetime` is the instant, for `<time>`.
    pub date: String,
    pub datetime: String,
    pub body: String,
    pub audience: &'static str,
    pub audience_label: &'static str,
    pub audience_description: String,
    /// Where the therapist posts a comment on it, for work shared with both.
    pub comment_action: Option<String>,
    /// The author's own shared writing nobody else can read yet: until when
    /// (a time of day in their zone).
    pub waiting_until: Option<String>,
    /// The exercise it answers, by title, where a page knows the program.
    pub answers: Option<String>,
}

/// Exercise answers are stored as structured JSON; people read them as text.
fn readable_body(kind: &str, body: String) -> String {
    if kind != crate::services::program::EXERCISE && kind != crate::services::writing::PAIRED {
        return body;
    }
    let Ok(answer) = serde_json::from_str::<crate::services::program::StoredAnswer>(&body) else {
        return body;
    };
    let mut lines = Vec::new();
    if !answer.text.is_empty() {
        lines.push(answer.text);
    }
    for (item, value) in answer.ratings {
        lines.push(format!("{item}: {value} / 10"));
    }
    if !answer.checked.is_empty() {
        lines.push(format!("Ticked: {}", answer.checked.join(", ")));
    }
    for goal in answer.goals {
        lines.push(format!(
            "Goal ({}): {} — signs of progress: {}",
            goal.area,
            goal.goal,
            goal.markers.join("; ")
        ));
    }
    lines.join("\n")
}

impl EntryView {
    /// The entry as `zone`'s reader sees it: its date in their calendar.
    pub fn new(entry: Entry, zone: &jiff::tz::TimeZone) -> Self {
        let body = readable_body(&entry.kind, entry.body);
        let audience_description = if entry.mine {
            entry.audience.describe().to_owned()
        } else {
            entry.audience.describe_to_reader(&entry.author_name)
        };
        Self {
            id: entry.id,
            mine: entry.mine,
            author_name: entry.author_name,
            date: crate::when::short_date(entry.created_at, zone),
            datetime: crate::when::rfc3339(entry.created_at),
            body,
            audience: entry.audience.as_str(),
            audience_label: entry.audience.label(),
            audience_description,
            comment_action: None,
            waiting_until: None,
            answers: None,
        }
    }
}

#[derive(Template)]
#[template(path = "journal.html")]
struct JournalPage {
    layout: Layout,
    help: Option<(String, String, Vec<trellis_core::safety::Resource>)>,
    /// Who was told about the crisis language, exactly as it is.
    what_happens_next: String,
    /// Just saved, with a possible sign of crisis: help, and the choice to
    /// tell the therapist.
    possible: bool,
    /// Helplines (for the possible-sign card).
    resources: Vec<trellis_core::safety::Resource>,
    /// The couple has a therapist who can be told.
    can_tell: bool,
    /// Just told the therapist: what happens next.
    told: Option<String>,
    /// What became of the writing, before the possible-sign card.
    possible_said: &'static str,
    notice: Option<&'static str>,
    /// Just saved: who can read it, and the undo choices while it waits.
    saved: Option<SavedView>,
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
    let zone = crate::services::notices::zone_for(state, user).await?;
    let at = state.now();
    let views = entries
        .into_iter()
        .map(|entry| {
            let waiting = (entry.mine && entry.pending(at)).then_some(entry.visible_from);
            let mut view = EntryView::new(entry, &zone);
            view.waiting_until = waiting.map(|until| waiting_time(until, at, &zone));
            view
        })
        .collect();
    let can_tell = crate::services::couples::is_guided(state, user).await?;
    Ok(JournalPage {
        layout: page.layout("/journal"),
        help: None,
        what_happens_next: String::new(),
        possible: false,
        resources: Vec::new(),
        can_tell,
        told: None,
        possible_said: "",
        notice: None,
        saved: None,
        errors: Vec::new(),
        body: String::new(),
        chosen_audience: Audience::default().as_str(),
        audience_options: audience_options(),
        entries: views,
        show_controls: true,
    })
}

/// "14:03", or "07:00 tomorrow" when it is not today.
fn waiting_time(until: i64, at: i64, zone: &jiff::tz::TimeZone) -> String {
    let clock = crate::when::clock(until, zone);
    if crate::when::same_day(until, at, zone) {
        clock
    } else {
        format!("{clock} on {}", crate::when::short_date(until, zone))
    }
}

/// What the author is told right after saving: who can read it now, and
/// what they can still do while nobody else can.
pub struct SavedView {
    pub entry_id: String,
    pub said: String,
    pub waiting: bool,
    /// The coach read it as harsh: offer to let it wait until morning.
    pub offer_hold: bool,
}

async fn saved_view(
    state: &AppState,
    user: &trellis_store::User,
    entry: &EntryView,
    audience: Audience,
) -> AppResult<SavedView> {
    let names = writing::readers(state, user, audience).await?;
    let who = match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [first @ .., last] => format!("{} and {last}", first.join(", ")),
    };
    let said = match (&entry.waiting_until, who.is_empty()) {
        (_, true) => "Your entry is saved. Only you can read it.".to_owned(),
        (Some(until), false) => format!(
            "Your entry is saved. Until {until} only you can read it, so you can still take it back; then {who} can read it too."
        ),
        (None, false) => format!("Your entry is saved. {who} can read it now."),
    };
    Ok(SavedView {
        entry_id: entry.id.clone(),
        waiting: entry.waiting_until.is_some(),
        offer_hold: entry.waiting_until.is_some() && trellis_coach::analyze(&entry.body).is_harsh(),
        said,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    saved: bool,
    changed: bool,
    help: bool,
    /// Just saved with a possible sign of crisis.
    possible: bool,
    /// Just told the therapist.
    told: bool,
    /// After undo, hold or share now: `undone`, `held` or `shared`.
    settled: String,
}

pub async fn journal(
    State(state): State<AppState>,
    page: PageContext,
    Query(flags): Query<Flags>,
) -> AppResult<Response> {
    let mut template = journal_page(&state, &page).await?;
    if flags.help {
        let help = &state.content().safety.help;
        template.help = Some((
            help.title.clone(),
            state.content().safety.help_html(),
            crate::services::help::resources_for(&state, page.require(Role::Partner)?).await?,
        ));
        let user = page.require(Role::Partner)?;
        template.what_happens_next =
            crate::services::safety::what_happens_next_for(&state, user).await?;
    }
    if flags.possible || flags.told {
        let user = page.require(Role::Partner)?;
        template.possible = flags.possible && !flags.told;
        template.resources = crate::services::help::resources_for(&state, user).await?;
        if flags.told {
            template.told =
                Some(crate::services::safety::what_happens_next_for(&state, user).await?);
        }
    }
    if flags.saved {
        let user = page.require(Role::Partner)?;
        if let Some(newest) = template.entries.iter().find(|e| e.mine) {
            let audience = Audience::parse(newest.audience).unwrap_or_default();
            template.saved = Some(saved_view(&state, user, newest, audience).await?);
        }
    }
    template.notice = match (flags.saved, flags.changed, flags.settled.as_str()) {
        (_, _, "undone") => Some("Taken back: only you can read that entry now. It is still here."),
        (_, _, "held") => {
            Some("It will wait until seven in the morning. Until then only you can read it.")
        }
        (_, _, "shared") => Some("Shared: it can be read now."),
        (true, _, _) if template.saved.is_none() => Some("Your entry is saved."),
        (_, true, _) => Some("Who can see that entry has been changed."),
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
        Ok(entry) if entry.crisis => Ok(see_other("/journal?saved=true&help=true")),
        Ok(entry) if entry.possible_crisis => Ok(see_other("/journal?saved=true&possible=true")),
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
    let user = page.signed_in()?;
    writing::change_audience(&state, user, &id, Some(&form.audience)).await?;
    Ok(see_other("/journal?changed=true"))
}

/// Take back shared writing still waiting: it stays, private.
pub async fn undo(
    state: State<AppState>,
    page: PageContext,
    id: Path<String>,
) -> AppResult<Response> {
    settle(state, page, id, writing::PendingChoice::Undo, "undone").await
}

/// Let shared writing wait until the morning.
pub async fn hold(
    state: State<AppState>,
    page: PageContext,
    id: Path<String>,
) -> AppResult<Response> {
    settle(
        state,
        page,
        id,
        writing::PendingChoice::HoldUntilMorning,
        "held",
    )
    .await
}

/// Let waiting writing be read now.
pub async fn share_now(
    state: State<AppState>,
    page: PageContext,
    id: Path<String>,
) -> AppResult<Response> {
    settle(state, page, id, writing::PendingChoice::ShareNow, "shared").await
}

async fn settle(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    choice: writing::PendingChoice,
    settled: &str,
) -> AppResult<Response> {
    let user = page.signed_in()?;
    writing::settle_pending(&state, user, &id, choice).await?;
    Ok(see_other(&format!("/journal?settled={settled}")))
}

/// What the therapist reads first on a couple's page: what changed since
/// the last session and what waits for them.
pub struct SinceLastSession {
    /// The last session's date, if they have had one.
    pub last_session: Option<String>,
    /// Writing shared with the therapist since then (since ever, before a first session).
    pub shared_since_session: i64,
    /// Of what was shared, what is new since the therapist last looked.
    pub new_since_visit: i64,
    /// Check-in changes that need attention.
    pub alerts: usize,
    /// Partners whose safety check waits for the therapist's decision.
    pub awaiting_decision: Vec<String>,
}

/// Shared entries shown open on the couple page; older ones are one tap away.
const SHARED_AT_ONCE: usize = 5;

#[derive(Template)]
#[template(path = "couple.html")]
struct CouplePage {
    layout: Layout,
    since: SinceLastSession,
    progress_charts: Vec<super::measures::ChartView>,
    alerts: Vec<trellis_core::measures::Alert>,
    hidden_scores: Vec<String>,
    cadence_days: i64,
    consistency: crate::services::accountability::Consistency,
    consistency_chart: Option<super::measures::ChartView>,
    couple_id: String,
    journey: crate::services::program::Journey,
    screening: crate::services::safety::ScreeningPanel,
    situation: crate::services::situation::SituationView,
    situations: Vec<(&'static str, &'static str)>,
    decisions: Vec<(&'static str, &'static str)>,
    exercise_choices: Vec<(String, String)>,
    notice: Option<&'static str>,
    errors: Vec<String>,
    title: String,
    entries: Vec<EntryView>,
    audience_options: Vec<AudienceOption>,
    show_controls: bool,
    /// Talks the couple let the therapist read: (id, topic).
    talks: Vec<(String, String)>,
    /// Time-outs per week over eight weeks, oldest first.
    timeouts_per_week: Vec<usize>,
}

/// A therapist's view of one of their couples.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CoupleFlags {
    done: String,
}

pub async fn couple(
    State(state): State<AppState>,
    page: PageContext,
    Path(couple_id): Path<CoupleId>,
    Query(flags_q): Query<CoupleFlags>,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    let couple = state.store().couple(&couple_id).await?;
    if couple.therapist_id.as_deref() != Some(therapist.id.as_str()) {
        return Err(AppError::Domain(DomainError::NotFound));
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
    let journey = crate::services::program::journey(&state, therapist, &couple.id).await?;
    // what is new is read before this visit is recorded
    let news = state
        .store()
        .couple_news(&therapist.id, &couple.id, state.now())
        .await?;
    state
        .store()
        .record_couple_view(&therapist.id, &couple.id, state.now())
        .await?;
    let screening = crate::services::safety::panel(&state, therapist, &couple.id).await?;
    let situation = crate::services::situation::view(&state, therapist, &couple.id).await?;
    let (program, _) = crate::services::program::program_for(&state, &couple).await?;
    let exercise_choices = program
        .stages
        .iter()
        .flat_map(|s| {
            s.exercises.iter().map(move |e| {
                (
                    e.id.clone(),
                    format!("{}. {} — {}", s.order, s.title, e.title),
                )
            })
        })
        .collect();
    let progress = crate::services::measures::progress(&state, therapist, &couple.id).await?;
    let visible: Vec<&crate::services::measures::PersonTrends> =
        progress.partners.iter().filter(|p| p.visible).collect();
    let zone = crate::services::notices::zone_for(&state, therapist).await?;
    let exercise_titles: std::collections::HashMap<&str, &str> = program
        .stages
        .iter()
        .flat_map(|s| {
            s.exercises
                .iter()
                .map(|e| (e.id.as_str(), e.title.as_str()))
        })
        .collect();
    let since = SinceLastSession {
        last_session: news
            .last_session
            .map(|at| crate::when::short_date(at, &zone)),
        shared_since_session: news.shared_since_session,
        new_since_visit: news.new_shared,
        alerts: progress.alerts.len(),
        awaiting_decision: screening
            .partners
            .iter()
            .filter(|p| p.checked_at.is_some() && p.decision.is_none())
            .map(|p| p.name.clone())
            .collect(),
    };
    let template = CouplePage {
        since,
        progress_charts: super::measures::charts(&state, "couple", &visible, &zone),
        hidden_scores: hidden_scores(&progress),
        alerts: progress.alerts,
        cadence_days: progress.cadence_days,
        consistency: crate::services::accountability::consistency(&state, therapist, &couple.id)
            .await?,
        consistency_chart: super::promises::consistency_chart(&state, therapist, &couple.id)
            .await?,
        layout: page.layout("/caseload"),
        talks: crate::services::talks::list(&state, therapist, &couple.id)
            .await?
            .into_iter()
            .map(|(row, topic)| (row.id, topic))
            .collect(),
        timeouts_per_week: crate::services::timeouts::weekly_counts(
            &state, therapist, &couple.id, 8,
        )
        .await?,
        couple_id: couple.id.to_string(),
        journey,
        screening,
        situation,
        situations: trellis_core::situation::Situation::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        decisions: trellis_core::screening::Decision::ALL
            .iter()
            .map(|d| (d.as_str(), d.label()))
            .collect(),
        exercise_choices,
        notice: match flags_q.done.as_str() {
            "unlocked" => Some("The stage is open for the couple."),
            "assigned" => Some("The homework is assigned."),
            "pace" => Some("The pace is updated."),
            "decided" => Some("Your decision is recorded."),
            "situation" => Some(
                "The couple's situation is set. Each partner now reads the wording for their role.",
            ),
            "rescreen" => Some("Both partners will be asked to take the safety check again."),
            "cadence" => Some("The check-in cadence is updated."),
            "proposed" => Some("Suggested. The partner can take it on from their promises page."),
            "commented" => Some("Your comment is posted. Both partners can read it."),
            _ => None,
        },
        errors: Vec::new(),
        title,
        entries: entries
            .into_iter()
            .filter(|e| e.kind != messages::MESSAGE && e.kind != messages::COMMENT)
            .map(|entry| {
                let commentable =
                    !entry.mine && entry.audience == trellis_core::Audience::PartnerAndTherapist;
                let answers = entry
                    .ref_id
                    .as_deref()
                    .and_then(|id| exercise_titles.get(id))
                    .map(|title| (*title).to_owned());
                let mut view = EntryView::new(entry, &zone);
                view.answers = answers;
                if commentable {
                    view.comment_action = Some(format!("/caseload/couples/{}/comments", couple.id));
                }
                view
            })
            .collect(),
        audience_options: audience_options(),
        show_controls: false,
    };
    Ok(render(&template)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SteerFields {
    stage: String,
    self_paced: Option<String>,
    exercise_id: String,
    due: String,
    note: String,
    screening_id: String,
    user_id: String,
    decision: String,
    decision_note: String,
    kind: String,
    hurt_partner_id: String,
    cadence: String,
    partner_id: String,
    promise_text: String,
    promise_cadence: String,
}

/// The therapist steers the couple's journey from the couple page.
pub async fn steer(
    State(state): State<AppState>,
    page: PageContext,
    Path((couple_id, action)): Path<(CoupleId, String)>,
    PageForm(form): PageForm<SteerFields>,
) -> AppResult<Response> {
    use crate::services::program;
    let therapist = page.require(Role::Therapist)?;
    program::couple_for(&state, therapist, &couple_id).await?;
    let done = match action.as_str() {
        "unlock" => {
            program::unlock_stage(&state, therapist, &couple_id, &form.stage).await?;
            "unlocked"
        }
        "pace" => {
            program::set_pace(&state, therapist, &couple_id, form.self_paced.is_some()).await?;
            "pace"
        }
        "assign" => {
            program::assign(
                &state,
                therapist,
                &couple_id,
                &form.exercise_id,
                Some(&form.due),
                &form.note,
            )
            .await?;
            "assigned"
        }
        "propose" => {
            let cadence =
                crate::services::accountability::parse_cadence(&form.promise_cadence, &[], None)?;
            crate::services::accountability::propose_promise(
                &state,
                therapist,
                &couple_id,
                &form.partner_id,
                &form.promise_text,
                cadence,
            )
            .await?;
            "proposed"
        }
        "cadence" => {
            let days = form.cadence.trim().parse().unwrap_or(0);
            crate::services::measures::set_cadence(&state, therapist, &couple_id, days).await?;
            "cadence"
        }
        "screening" => {
            crate::services::safety::decide(
                &state,
                therapist,
                &couple_id,
                &crate::services::safety::DecisionInput {
                    user_id: form.user_id,
                    decision: form.decision,
                    note: Some(form.decision_note),
                    flag_id: Some(form.screening_id),
                },
            )
            .await?;
            "decided"
        }
        "situation" => {
            crate::services::situation::set(
                &state,
                therapist,
                &couple_id,
                &crate::services::situation::SituationInput {
                    kind: form.kind,
                    hurt_partner_id: Some(form.hurt_partner_id).filter(|id| !id.is_empty()),
                },
            )
            .await?;
            "situation"
        }
        "rescreen" => {
            crate::services::safety::request_rescreen(&state, therapist, &couple_id).await?;
            "rescreen"
        }
        _ => return Err(AppError::Domain(DomainError::NotFound)),
    };
    Ok(see_other(&format!(
        "/caseload/couples/{couple_id}?done={done}"
    )))
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    couple_id: String,
    title: String,
    program_title: String,
    today: String,
    alerts: Vec<trellis_core::measures::Alert>,
    progress_charts: Vec<super::measures::ChartView>,
    hidden_scores: Vec<String>,
    /// `(stage title, exercises with an answer, exercises)`.
    stages: Vec<(String, usize, usize)>,
}

/// A printable progress report for the couple's therapist.
pub async fn report(
    State(state): State<AppState>,
    page: PageContext,
    Path(couple_id): Path<CoupleId>,
) -> AppResult<Response> {
    let therapist = page.require(Role::Therapist)?;
    let journey = crate::services::program::journey(&state, therapist, &couple_id).await?;
    let progress = crate::services::measures::progress(&state, therapist, &couple_id).await?;
    let visible: Vec<&crate::services::measures::PersonTrends> =
        progress.partners.iter().filter(|p| p.visible).collect();
    let title = journey
        .partners
        .iter()
        .map(|(_, name)| name.as_str())
        .collect::<Vec<_>>()
        .join(" & ");
    let zone = crate::services::notices::zone_for(&state, therapist).await?;
    let template = ReportPage {
        layout: page.layout("/caseload"),
        couple_id: couple_id.to_string(),
        title,
        program_title: journey.program_title.clone(),
        today: crate::when::short_date(state.now(), &zone),
        progress_charts: super::measures::charts(&state, "report", &visible, &zone),
        hidden_scores: hidden_scores(&progress),
        alerts: progress.alerts,
        stages: journey
            .stages
            .iter()
            .map(|s| {
                (
                    s.title.clone(),
                    s.exercises.iter().filter(|e| !e.done_by.is_empty()).count(),
                    s.exercises.len(),
                )
            })
            .collect(),
    };
    Ok(render(&template)?.into_response())
}

/// "Let my therapist know": the partner asks for their therapist to be
/// told, from the journal page or a possible-sign card.
pub async fn tell_therapist(
    State(state): State<AppState>,
    page: PageContext,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    match crate::services::safety::tell_therapist(&state, user).await {
        Ok(_) => Ok(see_other("/journal?told=true")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = journal_page(&state, &page).await?;
            template.errors = errors;
            render_refused(&err, &template)
        }
    }
}

/// The partners whose scores their therapist may not see (they said so).
fn hidden_scores(progress: &crate::services::measures::Progress) -> Vec<String> {
    progress
        .partners
        .iter()
        .filter(|p| !p.visible)
        .map(|p| p.name.clone())
        .collect()
}
