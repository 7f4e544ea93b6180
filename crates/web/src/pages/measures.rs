//! Check-ins for partners; progress for the therapist (on the couple page).

use std::collections::BTreeMap;
use trellis_app::Error as DomainError;

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;
use serde::Deserialize;
use trellis_core::Role;
use trellis_core::measures::{Instrument, InstrumentKind};

use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::charts::{Chart, Series, line_chart};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::services::measures::{self, PersonTrends};
use crate::state::AppState;
use crate::when;

/// A chart and the same numbers as a table.
pub struct ChartView {
    pub title: String,
    pub svg: String,
    /// What the dashed line means, in plain words.
    pub note: Option<String>,
    pub labels: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

/// One chart per instrument, with a line for each person shown, dated in
/// the reader's time zone.
pub fn charts(
    state: &AppState,
    id_prefix: &str,
    people: &[&PersonTrends],
    zone: &TimeZone,
) -> Vec<ChartView> {
    state
        .content()
        .instruments
        .iter()
        .filter_map(|instrument| {
            let series: Vec<Series> = people
                .iter()
                .filter_map(|p| {
                    p.trends
                        .iter()
                        .find(|t| t.instrument == instrument.id)
                        .map(|t| (p, t))
                })
                .filter(|(_, t)| !t.points.is_empty())
                .map(|(p, t)| Series {
                    label: p.name.clone(),
                    points: t.points.clone(),
                })
                .collect();
            if series.is_empty() {
                return None;
            }
            let describe = series
                .iter()
                .map(|s| {
                    let first = s.points.first().map_or(0, |p| p.1);
                    let last = s.points.last().map_or(0, |p| p.1);
                    format!(
                        "{}: {} check-ins, from {first} to {last}",
                        s.label,
                        s.points.len()
                    )
                })
                .collect::<Vec<_>>()
                .join("; ");
            let gap = match series.as_slice() {
                [a, b] => match (a.points.last(), b.points.last()) {
                    (Some(x), Some(y)) => format!(
                        " The latest gap between them is {} points.",
                        (x.1 - y.1).abs()
                    ),
                    _ => String::new(),
                },
                _ => String::new(),
            };
            let title = if instrument.plain_title == instrument.short_title {
                format!("{} over time", instrument.short_title)
            } else {
                format!(
                    "{}: {} over time",
                    instrument.plain_title, instrument.short_title
                )
            };
            let description = format!(
                "Scores from {} to {}{}. {describe}.{gap}",
                instrument.range.0,
                instrument.range.1,
                instrument
                    .cutoff
                    .map(|c| format!(", cutoff {c}"))
                    .unwrap_or_default()
            );
            let svg = line_chart(&Chart {
                id: &format!("{id_prefix}-{}", instrument.id),
                title: &title,
                description: &description,
                range: instrument.range,
                cutoff: instrument.cutoff,
                series: &series,
                zone,
            });
            // One row per check-in, in time order (two on one day stay two rows).
            let mut by_time: BTreeMap<i64, Vec<String>> = BTreeMap::new();
            for (n, s) in series.iter().enumerate() {
                for (at, score) in &s.points {
                    let row = by_time
                        .entry(*at)
                        .or_insert_with(|| vec![String::new(); series.len()]);
                    row[n] = score.to_string();
                }
            }
            // a day with two check-ins shows the time of each
            let days: Vec<String> = by_time
                .keys()
                .map(|at| when::short_date(*at, zone))
                .collect();
            let rows = by_time
                .into_iter()
                .zip(&days)
                .map(|((at, values), day)| {
                    let shared = days.iter().filter(|d| *d == day).count() > 1;
                    let date = if shared {
                        format!("{day}, {}", when::clock(at, zone))
                    } else {
                        day.clone()
                    };
                    (date, values)
                })
                .collect();
            Some(ChartView {
                title,
                svg,
                note: instrument.cutoff_meaning.clone(),
                labels: series.iter().map(|s| s.label.clone()).collect(),
                rows,
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "measures.html")]
struct MeasuresPage {
    layout: Layout,
    notice: Option<&'static str>,
    due: Vec<(String, String)>,
    my_charts: Vec<ChartView>,
    partner_name: Option<String>,
    partner_shares: bool,
    partner_charts: Vec<ChartView>,
    share_therapist: bool,
    share_partner: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    saved: bool,
    sharing: bool,
}

pub async fn overview(
    State(state): State<AppState>,
    page: PageContext,
    Query(flags): Query<Flags>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let mine = measures::mine(&state, user).await?;
    let zone = crate::services::notices::zone_for(&state, user).await?;
    let due = mine
        .due
        .iter()
        .filter_map(|id| {
            state
                .content()
                .instrument(id)
                .map(|i| (i.id.clone(), i.title.clone()))
        })
        .collect();
    let template = MeasuresPage {
        layout: page.layout("/measures"),
        notice: match (flags.saved, flags.sharing) {
            (true, _) => Some("Thank you. Your check-in is saved."),
            (_, true) => Some("Your choice is saved."),
            _ => None,
        },
        due,
        my_charts: charts(&state, "mine", &[&mine.mine], &zone),
        partner_name: mine.partner.as_ref().map(|p| p.name.clone()),
        partner_shares: mine.partner.as_ref().is_some_and(|p| p.visible),
        partner_charts: mine
            .partner
            .as_ref()
            .map(|p| charts(&state, "partner", &[p], &zone))
            .unwrap_or_default(),
        share_therapist: mine.share_with_therapist,
        share_partner: mine.share_with_partner,
    };
    Ok(render(&template)?.into_response())
}

#[derive(Template)]
#[template(path = "measure_form.html")]
struct MeasureForm {
    layout: Layout,
    errors: Vec<String>,
    instrument: Instrument,
    is_check_in: bool,
}

fn form(page: &PageContext, instrument: &Instrument) -> MeasureForm {
    MeasureForm {
        layout: page.layout("/measures"),
        errors: Vec::new(),
        is_check_in: instrument.kind == InstrumentKind::CheckIn,
        instrument: instrument.clone(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
) -> AppResult<Response> {
    page.require(Role::Partner)?;
    let instrument = state
        .content()
        .instrument(&id)
        .ok_or(AppError::Domain(DomainError::NotFound))?;
    Ok(render(&form(&page, instrument))?.into_response())
}

pub async fn submit(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<String>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    let instrument = state
        .content()
        .instrument(&id)
        .ok_or(AppError::Domain(DomainError::NotFound))?;
    let mut answers = BTreeMap::new();
    let mut note = None;
    for (key, value) in &pairs {
        if let Some(item) = key.strip_prefix("item_") {
            answers.insert(item.to_owned(), value.trim().parse().unwrap_or(i64::MIN));
        } else if key == "note" {
            note = Some(value.as_str());
        }
    }
    match measures::submit(&state, user, &id, &answers, note).await {
        Ok(_) => Ok(see_other("/measures?saved=true")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = form(&page, instrument);
            template.errors = errors;
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SharingFields {
    therapist: Option<String>,
    partner: Option<String>,
}

pub async fn sharing(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<SharingFields>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    measures::set_sharing(
        &state,
        user,
        form.therapist.is_some(),
        form.partner.is_some(),
    )
    .await?;
    Ok(see_other("/measures?sharing=true"))
}
