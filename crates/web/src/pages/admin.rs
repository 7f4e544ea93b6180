//! The practice admin's home: settings and therapists.

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use trellis_app::Error as DomainError;
use trellis_core::CoupleId;
use trellis_core::Role;

use super::therapist::InvitationsSentPage;
use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::services::couples::Invitee;
use crate::services::practice;
use crate::state::AppState;

pub struct StaffRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    /// Couples they guide (therapists).
    pub couples: Option<i64>,
    pub active: bool,
    pub two_factor: bool,
    pub is_me: bool,
}

/// A couple whose therapist left, waiting to be given to another.
pub struct WaitingCouple {
    pub id: String,
    pub title: String,
    pub former_therapist: String,
}

#[derive(Template)]
#[template(path = "practice.html")]
struct PracticePage {
    layout: Layout,
    /// The time zones to choose from.
    zones: &'static [String],
    /// The practice's safety settings: what clients are promised, and how
    /// often the safety check returns.
    safety: trellis_store::PracticeSafetySettings,
    safety_errors: Vec<String>,
    practice_name: String,
    saved: bool,
    staff: Vec<StaffRow>,
    /// Active therapists a couple can be given to: `(id, name)`.
    therapists: Vec<(String, String)>,
    waiting_couples: Vec<WaitingCouple>,
    /// What was just done, in words.
    done: Option<&'static str>,
    staff_errors: Vec<String>,
    pending: Vec<String>,
    invite_errors: Vec<String>,
    invite_name: String,
    invite_email: String,
    errors: Vec<String>,
    form_name: String,
    form_description: String,
    form_contact: String,
    form_time_zone: String,
    form_reminder_hours: String,
    form_helpline_region: String,
    /// The regions to choose from: `(id, name)`.
    helpline_regions: Vec<(String, String)>,
    require_two_factor: bool,
    practice_id: String,
}

async fn practice_page(state: &AppState, page: &PageContext) -> AppResult<PracticePage> {
    let admin = page.require(Role::Admin)?;
    let practice_id = admin
        .practice_id
        .as_deref()
        .ok_or(AppError::Domain(DomainError::Forbidden))?;
    let store = state.store();
    let practice = store.practice(practice_id).await?;
    let counts: std::collections::HashMap<String, i64> = store
        .therapists(practice_id)
        .await?
        .into_iter()
        .map(|t| (t.user.id.into_string(), t.couples))
        .collect();
    let people = practice::staff(state, admin).await?;
    let therapists = people
        .iter()
        .filter(|p| p.role == Role::Therapist && p.active)
        .map(|p| (p.id.to_string(), p.name.clone()))
        .collect();
    let staff = people
        .into_iter()
        .map(|p| StaffRow {
            couples: counts.get(p.id.as_str()).copied(),
            role: if p.role == Role::Admin {
                "Admin"
            } else {
                "Therapist"
            },
            is_me: p.id == admin.id,
            id: p.id.into_string(),
            name: p.name,
            email: p.email,
            active: p.active,
            two_factor: p.two_factor,
        })
        .collect();
    let mut waiting_couples = Vec::new();
    for (id, former_therapist) in store.couples_needing_a_therapist(practice_id).await? {
        waiting_couples.push(WaitingCouple {
            title: crate::services::couples::title(state, &id).await?,
            id: id.into_string(),
            former_therapist,
        });
    }
    let pending = store
        .open_therapist_invitations(practice_id, state.now())
        .await?
        .into_iter()
        .map(|i| format!("{} ({})", i.name, i.email))
        .collect();
    Ok(PracticePage {
        zones: crate::when::zone_names(),
        layout: page.layout("/practice"),
        practice_name: practice.name.clone(),
        saved: false,
        staff,
        therapists,
        waiting_couples,
        done: None,
        staff_errors: Vec::new(),
        pending,
        invite_errors: Vec::new(),
        invite_name: String::new(),
        invite_email: String::new(),
        errors: Vec::new(),
        form_name: practice.name,
        form_description: practice.description,
        form_contact: practice.contact,
        form_time_zone: practice.time_zone,
        form_reminder_hours: practice.reminder_hours.to_string(),
        helpline_regions: helpline_options(
            &state.content().helpline_regions(),
            &practice.helpline_region,
        ),
        form_helpline_region: practice.helpline_region,
        practice_id: practice.id,
        require_two_factor: store.practice_requires_two_factor(practice_id).await?,
        safety: store.practice_safety_settings(practice_id).await?,
        safety_errors: Vec::new(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    saved: bool,
    done: String,
}

fn done_text(done: &str) -> Option<&'static str> {
    match done {
        "removed" => Some(
            "Their access was removed. Their sessions have ended and they can no longer sign in.",
        ),
        "reset" => {
            Some("Their two-step sign-in was reset. They set it up again when they next sign in.")
        }
        "moved" => Some("The couple now has their new therapist."),
        "safety" => Some("The safety settings are saved."),
        _ => None,
    }
}

/// The regions to choose from, with the current choice first among them
/// when it is a combination (set by the operator, e.g. "us,uk").
fn helpline_options(regions: &[(String, String)], current: &str) -> Vec<(String, String)> {
    let mut options = regions.to_vec();
    if current.contains(',') {
        let names: Vec<&str> = current
            .split(',')
            .filter_map(|id| regions.iter().find(|(r, _)| r == id.trim()))
            .map(|(_, name)| name.as_str())
            .collect();
        options.insert(0, (current.to_owned(), names.join(" and ")));
    }
    options
}

pub async fn practice(
    State(state): State<AppState>,
    page: PageContext,
    Query(flags): Query<Flags>,
) -> AppResult<Response> {
    let mut template = practice_page(&state, &page).await?;
    template.saved = flags.saved;
    template.done = done_text(&flags.done);
    Ok(render(&template)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SettingsFields {
    name: String,
    description: String,
    contact: Option<String>,
    time_zone: Option<String>,
    reminder_hours: Option<String>,
    require_two_factor: Option<String>,
    helpline_region: Option<String>,
}

pub async fn update_settings(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<SettingsFields>,
) -> AppResult<Response> {
    let admin = page.require(Role::Admin)?;
    match practice::update_settings(
        &state,
        admin,
        practice::Settings {
            name: &form.name,
            description: &form.description,
            contact: form.contact.as_deref(),
            time_zone: form.time_zone.as_deref(),
            reminder_hours: form.reminder_hours.as_deref(),
            require_two_factor: form.require_two_factor.is_some(),
            helpline_region: form.helpline_region.as_deref(),
        },
    )
    .await
    {
        Ok(()) => Ok(see_other("/practice?saved=true")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = practice_page(&state, &page).await?;
            template.errors = errors;
            template.form_name = form.name;
            template.form_description = form.description;
            if let Some(contact) = form.contact {
                template.form_contact = contact;
            }
            if let Some(zone) = form.time_zone {
                template.form_time_zone = zone;
            }
            if let Some(hours) = form.reminder_hours {
                template.form_reminder_hours = hours;
            }
            if let Some(region) = form.helpline_region {
                template.form_helpline_region = region;
            }
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SafetyFields {
    response_promise: String,
    rescreen_weeks: String,
}

pub async fn update_safety(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<SafetyFields>,
) -> AppResult<Response> {
    let admin = page.require(Role::Admin)?;
    let weeks = form.rescreen_weeks.trim().parse().unwrap_or(0);
    match crate::services::safety::change_practice_settings(
        &state,
        admin,
        &form.response_promise,
        weeks,
    )
    .await
    {
        Ok(()) => Ok(see_other("/practice?done=safety")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = practice_page(&state, &page).await?;
            template.safety_errors = errors;
            template.safety.response_promise = form.response_promise;
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InviteFields {
    name: String,
    email: String,
}

pub async fn invite_therapist(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<InviteFields>,
) -> AppResult<Response> {
    let admin = page.require(Role::Admin)?;
    match practice::invite_therapist(
        &state,
        admin,
        Invitee {
            email: &form.email,
            name: &form.name,
        },
    )
    .await
    {
        Ok(sent) => {
            let template = InvitationsSentPage {
                layout: page.layout("/practice"),
                invited: vec![(sent.invitation.name, sent.mailed)],
                back_href: "/practice",
                back_label: "Back to the practice",
            };
            Ok(render(&template)?.into_response())
        }
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = practice_page(&state, &page).await?;
            template.invite_errors = errors;
            template.invite_name = form.name;
            template.invite_email = form.email;
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MoveFields {
    therapist_id: String,
}

/// Runs one staff action and comes back to the practice page, or shows it
/// again with the reason the action was refused.
async fn staff_action(
    state: &AppState,
    page: &PageContext,
    action: trellis_app::AppResult<()>,
    done: &str,
) -> AppResult<Response> {
    match action {
        Ok(()) => Ok(see_other(&format!("/practice?done={done}"))),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = practice_page(state, page).await?;
            template.staff_errors = errors;
            render_refused(&err, &template)
        }
    }
}

pub async fn deactivate_staff(
    State(state): State<AppState>,
    page: PageContext,
    Path(user_id): Path<String>,
) -> AppResult<Response> {
    let admin = page.require(Role::Admin)?;
    let action = practice::deactivate_staff(&state, admin, &user_id).await;
    staff_action(&state, &page, action, "removed").await
}

pub async fn reset_two_factor(
    State(state): State<AppState>,
    page: PageContext,
    Path(user_id): Path<String>,
) -> AppResult<Response> {
    let admin = page.require(Role::Admin)?;
    let action = practice::reset_two_factor(&state, admin, &user_id).await;
    staff_action(&state, &page, action, "reset").await
}

pub async fn move_couple(
    State(state): State<AppState>,
    page: PageContext,
    Path(id): Path<CoupleId>,
    PageForm(form): PageForm<MoveFields>,
) -> AppResult<Response> {
    let admin = page.require(Role::Admin)?;
    let action = practice::move_couple(&state, admin, &id, &form.therapist_id).await;
    staff_action(&state, &page, action, "moved").await
}
