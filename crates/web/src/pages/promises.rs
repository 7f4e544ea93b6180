//! Promises, agreements and appreciations for partners.

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_core::CoupleId;
use trellis_core::Role;

use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::error::AppResult;
use crate::extract::PageForm;
use crate::services::accountability::{self, AgreementView, Consistency, PromiseView};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "promises.html")]
struct PromisesPage {
    layout: Layout,
    notice: Option<&'static str>,
    errors: Vec<String>,
    text: String,
    consistency: Consistency,
    promises: Vec<PromiseView>,
    agreements: Vec<AgreementView>,
    partner_name: Option<String>,
    /// The partner's own promises exist (else the heading says so).
    has_partner_promises: bool,
    has_own_promises: bool,
    weekdays: Vec<(&'static str, &'static str)>,
    openness: Vec<super::journal::EntryView>,
    audience_options: Vec<super::journal::AudienceOption>,
    consistency_chart: Option<super::measures::ChartView>,
}

async fn page_for(state: &AppState, page: &PageContext) -> AppResult<PromisesPage> {
    let (user, couple_id) = page.partner_in_couple()?;
    let partner_name = state
        .store()
        .couple_members(couple_id)
        .await?
        .into_iter()
        .find(|m| m.id != user.id)
        .map(|m| m.name);
    let promises = accountability::promises(state, user, couple_id).await?;
    let zone = crate::services::notices::zone_for(state, user).await?;
    let listed = |mine: bool| {
        promises
            .iter()
            .any(|p| p.mine == mine && !p.ritual && !p.pending)
    };
    let (has_own_promises, has_partner_promises) = (listed(true), listed(false));
    Ok(PromisesPage {
        layout: page.layout("/promises"),
        notice: None,
        errors: Vec::new(),
        text: String::new(),
        consistency: accountability::consistency(state, user, couple_id).await?,
        promises,
        has_own_promises,
        has_partner_promises,
        agreements: accountability::agreements(state, user, couple_id).await?,
        partner_name,
        weekdays: vec![
            ("mon", "Mon"),
            ("tue", "Tue"),
            ("wed", "Wed"),
            ("thu", "Thu"),
            ("fri", "Fri"),
            ("sat", "Sat"),
            ("sun", "Sun"),
        ],
        openness: crate::services::writing::list(
            state,
            user,
            trellis_store::EntryFilter {
                kind: Some(accountability::OPENNESS),
                ..trellis_store::EntryFilter::default()
            },
        )
        .await?
        .into_iter()
        .map(|entry| super::journal::EntryView::new(entry, &zone))
        .collect(),
        audience_options: super::journal::audience_options(),
        consistency_chart: consistency_chart(state, user, couple_id).await?,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    done: String,
}

pub async fn show(
    State(state): State<AppState>,
    page: PageContext,
    Query(flags): Query<Flags>,
) -> AppResult<Response> {
    let mut template = page_for(&state, &page).await?;
    template.notice = match flags.done.as_str() {
        "promised" => Some("Your promise is made. Small and steady is the whole idea."),
        "vague" => Some(
            "Your promise is made. A tip: the more concrete it is, the easier it is to keep and to notice.",
        ),
        "kept" => Some("Marked as kept."),
        "noticed" => Some("Your partner will see that you noticed."),
        "status" => Some("Updated."),
        "proposed" => Some("Proposed. It is in force once your partner agrees."),
        "agreed" => Some("Agreed, together."),
        "appreciated" => {
            Some("Sent. Appreciation is one of the strongest things a couple can give each other.")
        }
        "open" => Some("Noted in your openness log."),
        "ritual" => Some("Your ritual is started. Small shared moments add up."),
        "taken_on" => Some("It's yours now. Small and steady."),
        _ => None,
    };
    Ok(render(&template)?.into_response())
}

/// A refusal shown on the page, with what was typed kept.
async fn refused(
    state: &AppState,
    page: &PageContext,
    err: trellis_app::Error,
    text: String,
) -> AppResult<Response> {
    let (err, errors) = fixable(err)?;
    let mut template = page_for(state, page).await?;
    template.errors = errors;
    template.text = text;
    render_refused(&err, &template)
}

/// A form with a cadence: its fields by name, and the weekdays ticked (a
/// field that repeats, so the form is read as pairs).
struct CadenceForm<'a>(&'a [(String, String)]);

impl CadenceForm<'_> {
    fn field(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    fn days(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == "days")
            .map(|(_, v)| v.clone())
            .collect()
    }
}

pub async fn promise(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let form = CadenceForm(&pairs);
    let field = |name: &str| form.field(name);
    let days = form.days();
    let text = field("text").to_owned();
    let result = match accountability::parse_cadence(field("cadence"), &days, Some(field("due"))) {
        Ok(cadence) => accountability::make_promise(&state, user, &text, cadence, None).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(_) if trellis_core::consistency::vagueness_hint(&text).is_some() => {
            Ok(see_other("/promises?done=vague"))
        }
        Ok(_) => Ok(see_other("/promises?done=promised")),
        Err(err) => refused(&state, &page, err, text).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MarkFields {
    thanks: String,
    status: String,
}

pub async fn mark(
    State(state): State<AppState>,
    page: PageContext,
    Path((id, action)): Path<(String, String)>,
    PageForm(form): PageForm<MarkFields>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let result = match action.as_str() {
        "kept" => accountability::kept(&state, user, &id, None)
            .await
            .map(|()| "kept"),
        "noticed" => accountability::noticed(&state, user, &id, None, Some(&form.thanks))
            .await
            .map(|()| "noticed"),
        "status" => accountability::set_status(&state, user, &id, &form.status)
            .await
            .map(|()| "status"),
        "accept" => accountability::accept_proposal(&state, user, &id)
            .await
            .map(|()| "taken_on"),
        _ => Err(trellis_app::Error::NotFound),
    };
    match result {
        Ok(done) => Ok(see_other(&format!("/promises?done={done}"))),
        Err(err) => refused(&state, &page, err, String::new()).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AgreementFields {
    title: String,
    text: String,
}

pub async fn propose(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<AgreementFields>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    match accountability::propose_agreement(&state, user, &form.title, &form.text, None).await {
        Ok(_) => Ok(see_other("/promises?done=proposed")),
        Err(err) => refused(&state, &page, err, String::new()).await,
    }
}

pub async fn accept(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    accountability::accept_agreement(&state, user, &id).await?;
    Ok(see_other("/promises?done=agreed"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AppreciationFields {
    body: String,
    with_therapist: Option<String>,
}

pub async fn appreciate(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<AppreciationFields>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    match accountability::appreciate(&state, user, &form.body, form.with_therapist.is_some()).await
    {
        Ok(_) => Ok(see_other("/promises?done=appreciated")),
        Err(err) => refused(&state, &page, err, String::new()).await,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OpennessFields {
    body: String,
    audience: String,
}

pub async fn openness(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<OpennessFields>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let result = match crate::services::writing::parse_audience("audience", Some(&form.audience)) {
        Ok(audience) => accountability::record_openness(&state, user, &form.body, audience).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(_) => Ok(see_other("/promises?done=open")),
        Err(err) => refused(&state, &page, err, String::new()).await,
    }
}

/// The weekly follow-through chart, with the numbers beside it.
pub async fn consistency_chart(
    state: &AppState,
    viewer: &trellis_store::User,
    couple_id: &CoupleId,
) -> AppResult<Option<super::measures::ChartView>> {
    use crate::charts::{Chart, Series, line_chart};
    let weekly = accountability::weekly_follow_through(state, viewer, couple_id).await?;
    let series: Vec<Series> = weekly
        .into_iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(label, points)| Series { label, points })
        .collect();
    if series.is_empty() {
        return Ok(None);
    }
    let description = series
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s.label,
                s.points
                    .iter()
                    .map(|(_, v)| format!("{v}%"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let title = "Promises kept, week by week (%)".to_owned();
    let svg = line_chart(&Chart {
        id: "consistency",
        title: &title,
        description: &description,
        range: (0, 100),
        cutoff: None,
        series: &series,
        // the points are calendar days (the last day of each week), not moments
        zone: &jiff::tz::TimeZone::UTC,
    });
    let mut rows: std::collections::BTreeMap<i64, Vec<String>> = std::collections::BTreeMap::new();
    for (n, s) in series.iter().enumerate() {
        for (at, value) in &s.points {
            rows.entry(*at)
                .or_insert_with(|| vec![String::new(); series.len()])[n] = format!("{value}%");
        }
    }
    Ok(Some(super::measures::ChartView {
        title,
        svg,
        note: None,
        labels: series.iter().map(|s| s.label.clone()).collect(),
        rows: rows
            .into_iter()
            .map(|(at, v)| {
                let day = crate::when::short_date(at, &jiff::tz::TimeZone::UTC);
                (format!("week to {day}"), v)
            })
            .collect(),
    }))
}

pub async fn ritual(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let form = CadenceForm(&pairs);
    let field = |name: &str| form.field(name);
    let days = form.days();
    let result = match accountability::parse_cadence(field("cadence"), &days, None) {
        Ok(cadence) => accountability::make_ritual(&state, user, field("text"), cadence).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(_) => Ok(see_other("/promises?done=ritual")),
        Err(err) => refused(&state, &page, err, String::new()).await,
    }
}
