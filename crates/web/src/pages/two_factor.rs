//! Two-step sign-in pages: the second step of signing in, and setting it up.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Layout, PageContext, fixable, home_for, render, render_refused, see_other};
use crate::error::AppResult;
use crate::extract::PageForm;
use crate::services::two_factor::{self, Enrollment};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login_two_factor.html")]
pub struct SecondStepPage {
    pub layout: Layout,
    pub errors: Vec<String>,
    pub token: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SecondStepFields {
    token: String,
    code: String,
}

pub async fn second_step(
    State(state): State<AppState>,
    page: PageContext,
    headers: HeaderMap,
    PageForm(form): PageForm<SecondStepFields>,
) -> AppResult<Response> {
    match two_factor::finish_pending(&state, &form.token, &form.code).await {
        Ok(user) => super::public::begin_web_session(&state, &headers, &user).await,
        Err(err) => {
            let (err, errors) = fixable(err)?;
            render_refused(
                &err,
                &SecondStepPage {
                    layout: page.layout("/login"),
                    errors,
                    token: form.token,
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "two_factor.html")]
struct TwoFactorPage {
    layout: Layout,
    errors: Vec<String>,
    required: bool,
    enabled: bool,
    recovery_left: i64,
    enrollment: Option<Enrollment>,
    recovery_codes: Option<Vec<String>>,
    continue_href: &'static str,
}

async fn two_factor_page(state: &AppState, page: &PageContext) -> AppResult<TwoFactorPage> {
    let user = page.signed_in()?;
    let required = two_factor::setup_required(state, user).await?;
    let enrollment = if user.two_factor {
        None
    } else {
        Some(two_factor::begin_enrollment(user)?)
    };
    Ok(TwoFactorPage {
        layout: page.layout("/account"),
        errors: Vec::new(),
        required,
        enabled: user.two_factor,
        recovery_left: state.store().unused_recovery_codes(&user.id).await?,
        enrollment,
        recovery_codes: None,
        continue_href: home_for(user.role),
    })
}

pub async fn show(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    Ok(render(&two_factor_page(&state, &page).await?)?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EnableFields {
    secret: String,
    code: String,
    password: String,
}

pub async fn enable(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<EnableFields>,
) -> AppResult<Response> {
    let user = page.signed_in()?;
    if user.two_factor {
        return Ok(see_other("/account/two-factor"));
    }
    match two_factor::enable(&state, user, &form.secret, &form.code, &form.password).await {
        Ok(codes) => {
            let mut template = two_factor_page(&state, &page).await?;
            template.required = false;
            template.enrollment = None;
            template.recovery_codes = Some(codes);
            Ok(render(&template)?.into_response())
        }
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = two_factor_page(&state, &page).await?;
            // Keep the same secret, so a scanned code stays valid.
            template.enrollment = Some(two_factor::enrollment_for(user, form.secret)?);
            template.errors = errors;
            render_refused(&err, &template)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DisableFields {
    password: String,
}

pub async fn disable(
    State(state): State<AppState>,
    page: PageContext,
    PageForm(form): PageForm<DisableFields>,
) -> AppResult<Response> {
    let user = page.signed_in()?;
    match two_factor::disable(&state, user, &form.password).await {
        Ok(()) => Ok(see_other("/account/two-factor")),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let mut template = two_factor_page(&state, &page).await?;
            template.errors = errors;
            render_refused(&err, &template)
        }
    }
}
