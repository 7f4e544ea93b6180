//! A person's own account: password.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use trellis_store::SessionKind;

use super::{Layout, PageContext, fixable, render, render_refused, see_other};
use crate::auth::session::{session_cookie, start_session};
use crate::error::{AppError, AppResult};
use crate::extract::PageForm;
use crate::services::accounts;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    errors: Vec<String>,
    name: String,
    email: String,
    changed: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Flags {
    changed: bool,
}

pub async fn show(page: PageContext, Query(flags): Query<Flags>) -> AppResult<Response> {
    let user = page.user.as_ref().ok_or(AppError::Unauthenticated)?;
    let template = AccountPage {
        layout: page.layout("/account"),
        errors: Vec::new(),
        name: user.name.clone(),
        email: user.email.clone(),
        changed: flags.changed,
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
    let user = page.user.as_ref().ok_or(AppError::Unauthenticated)?;
    match accounts::change_password(&state, user, &form.current_password, &form.new_password).await
    {
        // The change ended every session; this device gets a fresh one.
        Ok(()) => {
            let token = start_session(&state, user, SessionKind::Web).await?;
            let jar = CookieJar::new().add(session_cookie(&state, user, &token));
            Ok((jar, see_other("/account?changed=true")).into_response())
        }
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let template = AccountPage {
                layout: page.layout("/account"),
                errors,
                name: user.name.clone(),
                email: user.email.clone(),
                changed: false,
            };
            render_refused(&err, &template)
        }
    }
}
