//! A person's own account: password.

use crate::extract::Query;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use trellis_core::Role;
use trellis_store::{SessionKind, User};

use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::auth::session::{session_cookie, start_session};
use crate::error::AppResult;
use crate::extract::PageForm;
use crate::services::{accounts, rights};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    errors: Vec<String>,
    name: String,
    email: String,
    changed: bool,
    is_partner: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    changed: bool,
}

pub async fn show(page: PageContext, Query(flags): Query<Flags>) -> AppResult<Response> {
    let user = page.signed_in()?;
    let template = AccountPage {
        layout: page.layout("/account"),
        errors: Vec::new(),
        name: user.name.clone(),
        email: user.email.clone(),
        changed: flags.changed,
        is_partner: user.role == Role::Partner,
    };
    Ok(render(&template)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordFields {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<PasswordFields>,
) -> AppResult<Response> {
    let user = page.signed_in()?;
    match accounts::change_password(&state, user, &form.current_password, &form.new_password).await
    {
        // The change ended every session; this device gets a fresh one.
        Ok(()) => {
            let token = start_session(&state, user, SessionKind::Web).await?;
            let jar = CookieJar::new().add(session_cookie(&state, user, &token));
            Ok((jar, see_other("/account?changed=true")).into_response())
        }
        Err(err) => refused_on_account_page(&page, user, err),
    }
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    layout: Layout,
    activity: Vec<rights::ExportedActivity>,
}

pub async fn activity(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    let user = page.signed_in()?;
    let activity = rights::activity(&state, user).await?;
    Ok(render(&ActivityPage {
        layout: page.layout("/account"),
        activity,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "export.html")]
struct ExportPage {
    layout: Layout,
    export: rights::Export,
}

pub async fn export_page(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    let user = page.signed_in()?;
    let export = rights::export(&state, user).await?;
    Ok(render(&ExportPage {
        layout: page.layout("/account"),
        export,
    })?
    .into_response())
}

pub async fn export_json(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    let user = page.signed_in()?;
    let export = rights::export(&state, user).await?;
    Ok((
        [(
            axum::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"trellis-export.json\"",
        )],
        axum::Json(export),
    )
        .into_response())
}

pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    page: PageContext,
) -> AppResult<Response> {
    let user = page.signed_in()?;
    rights::sign_out_everywhere(&state, user).await?;
    let jar = CookieJar::new().add(crate::auth::session::removal_cookie());
    Ok((jar, see_other("/login?signed_out=everywhere")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DeleteFields {
    password: String,
}

pub async fn leave_couple(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<DeleteFields>,
) -> AppResult<Response> {
    let user = page.require(Role::Partner)?;
    match rights::leave_couple(&state, user, &form.password).await {
        Ok(()) => Ok(see_other("/our-space")),
        Err(err) => refused_on_account_page(&page, user, err),
    }
}

/// The account page again, with what to fix.
fn refused_on_account_page(
    page: &PageContext,
    user: &User,
    err: trellis_app::Error,
) -> AppResult<Response> {
    let (err, errors) = fixable(err)?;
    let template = AccountPage {
        layout: page.layout("/account"),
        errors,
        name: user.name.clone(),
        email: user.email.clone(),
        changed: false,
        is_partner: user.role == Role::Partner,
    };
    render_refused(&err, &template)
}

pub async fn delete_account(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<DeleteFields>,
) -> AppResult<Response> {
    let user = page.signed_in()?;
    match rights::delete_account(&state, user, &form.password).await {
        Ok(()) => {
            let jar = CookieJar::new().add(crate::auth::session::removal_cookie());
            Ok((jar, see_other("/?deleted=true")).into_response())
        }
        Err(err) => refused_on_account_page(&page, user, err),
    }
}
