//! Pages for people who are not signed in yet.

use crate::extract::{Path, Query};
use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use trellis_store::SessionKind;

use super::{
    Layout, PageContext, QUICK_EXIT_DESTINATION, fixable, home_for, render, render_refused,
    see_other,
};
use crate::auth::session::{end_session, removal_cookie, session_cookie, start_session};
use crate::error::AppResult;
use crate::extract::{ClientAddr, PageForm};
use crate::services::accounts::{self, SetupForm, SignUpForm};
use crate::services::notices;
use crate::services::two_factor;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage {
    layout: Layout,
    practices: Vec<trellis_store::Practice>,
}

pub async fn landing(State(state): State<AppState>, page: PageContext) -> AppResult<Response> {
    if let Some(user) = &page.user {
        return Ok(see_other(home_for(user.role)));
    }
    Ok(render(&LandingPage {
        layout: page.layout("/"),
        practices: state.store().practices().await?,
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    errors: Vec<String>,
    email: String,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginFlags {
    signed_out: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    /// The browser's time zone, filled in by `/static/zone.js`.
    #[serde(default)]
    browser_zone: String,
}

pub async fn login_form(page: PageContext, Query(flags): Query<LoginFlags>) -> AppResult<Response> {
    if let Some(user) = &page.user {
        return Ok(see_other(home_for(user.role)));
    }
    Ok(render(&LoginPage {
        layout: page.layout("/login"),
        errors: Vec::new(),
        email: String::new(),
        notice: (flags.signed_out == "everywhere").then_some("You're signed out on every device."),
    })?
    .into_response())
}

/// Signs a person in with a new session; any session the browser had before
/// is ended, so a session id planted before sign-in is worthless after it.
pub async fn begin_web_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &trellis_store::User,
) -> AppResult<Response> {
    end_session(state, headers).await?;
    let token = start_session(state, user, SessionKind::Web).await?;
    let jar = CookieJar::new()
        .add(session_cookie(state, user, &token))
        .add(crate::auth::device::device_cookie(state, &user.email));
    Ok((jar, see_other(home_for(user.role))).into_response())
}

pub async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    page: PageContext,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> AppResult<Response> {
    let device = crate::auth::device::known_device(&state, &headers, &form.email);
    let limits = accounts::sign_in_limits(&form.email, client.0, device.as_deref());
    match accounts::sign_in(&state, &form.email, &form.password, &limits).await {
        Ok(user) if user.two_factor => {
            let token = two_factor::start_pending(&state, &user).await?;
            let template = super::two_factor::SecondStepPage {
                layout: page.layout("/login"),
                errors: Vec::new(),
                token: token.expose().to_owned(),
            };
            Ok(render(&template)?.into_response())
        }
        Ok(user) => {
            notices::adopt_browser_zone(&state, &user, &form.browser_zone).await?;
            begin_web_session(&state, &headers, &user).await
        }
        Err(err) => {
            let (err, errors) = fixable(err)?;
            render_refused(
                &err,
                &LoginPage {
                    layout: page.layout("/login"),
                    errors,
                    email: form.email,
                    notice: None,
                },
            )
        }
    }
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    end_session(&state, &headers).await?;
    let jar = CookieJar::new().add(removal_cookie());
    Ok((jar, see_other("/")).into_response())
}

/// Quick exit: ends the browser's session (if it has one) and sends it to a
/// neutral outside page. It needs no CSRF token, since a forged one can only
/// sign someone out; and leaving always works, even if the database does not
/// answer (the cookie is cleared either way).
pub async fn quick_exit(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(err) = end_session(&state, &headers).await {
        tracing::warn!(error = %err.message(), "quick exit could not end the session");
    }
    let jar = CookieJar::new().add(removal_cookie());
    (jar, see_other(QUICK_EXIT_DESTINATION)).into_response()
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    layout: Layout,
    errors: Vec<String>,
    name: String,
    email: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SignUpFields {
    name: String,
    email: String,
    password: String,
}

pub async fn signup_form(page: PageContext) -> AppResult<Response> {
    Ok(render(&SignUpPage {
        layout: page.layout("/signup"),
        errors: Vec::new(),
        name: String::new(),
        email: String::new(),
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "signup_sent.html")]
struct SignUpSentPage {
    layout: Layout,
}

#[derive(Template)]
#[template(path = "signup_confirm.html")]
struct SignUpConfirmPage {
    layout: Layout,
    token: String,
}

pub async fn signup(
    State(state): State<AppState>,
    page: PageContext,
    client: ClientAddr,
    PageForm(form): PageForm<SignUpFields>,
) -> AppResult<Response> {
    let result = accounts::sign_up_self_guided(
        &state,
        SignUpForm {
            name: &form.name,
            email: &form.email,
            password: &form.password,
        },
        client.0,
    )
    .await;
    match result {
        Ok(()) => Ok(render(&SignUpSentPage {
            layout: page.layout("/signup"),
        })?
        .into_response()),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            render_refused(
                &err,
                &SignUpPage {
                    layout: page.layout("/signup"),
                    errors,
                    name: form.name,
                    email: form.email,
                },
            )
        }
    }
}

/// The link from the sign-up mail: a button, so that a mail scanner opening
/// links cannot create the account.
pub async fn signup_confirm_form(
    State(state): State<AppState>,
    page: PageContext,
    Path(token): Path<String>,
) -> AppResult<Response> {
    accounts::sign_up_link_is_open(&state, &token).await?;
    Ok(render(&SignUpConfirmPage {
        layout: page.layout("/signup"),
        token,
    })?
    .into_response())
}

/// What a browser adds to the forms that start a session.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct BrowserZone {
    browser_zone: String,
}

pub async fn signup_confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    PageForm(form): PageForm<BrowserZone>,
) -> AppResult<Response> {
    let user = accounts::confirm_sign_up(&state, &token).await?;
    notices::adopt_browser_zone(&state, &user, &form.browser_zone).await?;
    begin_web_session(&state, &headers, &user).await
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    layout: Layout,
    errors: Vec<String>,
    token: String,
    practice_name: String,
    name: String,
    email: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SetupFields {
    practice_name: String,
    name: String,
    email: String,
    password: String,
}

pub async fn setup_form(
    State(state): State<AppState>,
    page: PageContext,
    Path(token): Path<String>,
) -> AppResult<Response> {
    accounts::setup_link_is_open(&state, &token).await?;
    let template = SetupPage {
        layout: page.layout("/setup"),
        errors: Vec::new(),
        token,
        practice_name: String::new(),
        name: String::new(),
        email: String::new(),
    };
    Ok(render(&template)?.into_response())
}

pub async fn setup(
    State(state): State<AppState>,
    page: PageContext,
    headers: HeaderMap,
    Path(token): Path<String>,
    PageForm(form): PageForm<SetupFields>,
) -> AppResult<Response> {
    let result = accounts::complete_setup(
        &state,
        &token,
        SetupForm {
            practice_name: &form.practice_name,
            name: &form.name,
            email: &form.email,
            password: &form.password,
        },
    )
    .await;
    match result {
        Ok(admin) => begin_web_session(&state, &headers, &admin).await,
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let template = SetupPage {
                layout: page.layout("/setup"),
                errors,
                token,
                practice_name: form.practice_name,
                name: form.name,
                email: form.email,
            };
            render_refused(&err, &template)
        }
    }
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    layout: Layout,
    errors: Vec<String>,
    token: String,
    email: String,
    name: String,
    is_therapist: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AcceptFields {
    name: String,
    password: String,
}

pub async fn invitation_form(
    State(state): State<AppState>,
    page: PageContext,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let preview = accounts::preview_invitation(&state, &token).await?;
    let template = InvitationPage {
        layout: page.layout("/invitations"),
        errors: Vec::new(),
        token,
        email: preview.email,
        name: preview.name,
        is_therapist: preview.kind == trellis_core::InvitationKind::Therapist,
    };
    Ok(render(&template)?.into_response())
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    page: PageContext,
    headers: HeaderMap,
    Path(token): Path<String>,
    PageForm(form): PageForm<AcceptFields>,
) -> AppResult<Response> {
    match accounts::accept_invitation(&state, &token, &form.name, &form.password).await {
        Ok(user) => begin_web_session(&state, &headers, &user).await,
        Err(err) => {
            let (err, errors) = fixable(err)?;
            let preview = accounts::preview_invitation(&state, &token).await?;
            let template = InvitationPage {
                layout: page.layout("/invitations"),
                errors,
                token,
                email: preview.email,
                name: form.name,
                is_therapist: preview.kind == trellis_core::InvitationKind::Therapist,
            };
            render_refused(&err, &template)
        }
    }
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    layout: Layout,
    errors: Vec<String>,
    email: String,
    sent: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ForgotFields {
    email: String,
}

pub async fn forgot_form(page: PageContext) -> AppResult<Response> {
    Ok(render(&ForgotPage {
        layout: page.layout("/password"),
        errors: Vec::new(),
        email: String::new(),
        sent: false,
    })?
    .into_response())
}

pub async fn forgot(
    State(state): State<AppState>,
    page: PageContext,
    client: ClientAddr,
    PageForm(form): PageForm<ForgotFields>,
) -> AppResult<Response> {
    match accounts::request_password_reset(&state, &form.email, client.0).await {
        Ok(()) => Ok(render(&ForgotPage {
            layout: page.layout("/password"),
            errors: Vec::new(),
            email: String::new(),
            sent: true,
        })?
        .into_response()),
        Err(err) => {
            let (err, errors) = fixable(err)?;
            render_refused(
                &err,
                &ForgotPage {
                    layout: page.layout("/password"),
                    errors,
                    email: form.email,
                    sent: false,
                },
            )
        }
    }
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    layout: Layout,
    errors: Vec<String>,
    token: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResetFields {
    password: String,
}

pub async fn reset_form(
    State(state): State<AppState>,
    page: PageContext,
    Path(token): Path<String>,
) -> AppResult<Response> {
    accounts::reset_link_is_open(&state, &token).await?;
    Ok(render(&ResetPage {
        layout: page.layout("/password"),
        errors: Vec::new(),
        token,
    })?
    .into_response())
}

pub async fn reset(
    State(state): State<AppState>,
    page: PageContext,
    headers: HeaderMap,
    Path(token): Path<String>,
    PageForm(form): PageForm<ResetFields>,
) -> AppResult<Response> {
    match accounts::reset_password(&state, &token, &form.password).await {
        // With two-step sign-in, a mailed link alone must not sign anyone in.
        Ok(user) if user.two_factor => Ok(see_other("/login")),
        Ok(user) => begin_web_session(&state, &headers, &user).await,
        Err(err) => {
            let (err, errors) = fixable(err)?;
            render_refused(
                &err,
                &ResetPage {
                    layout: page.layout("/password"),
                    errors,
                    token,
                },
            )
        }
    }
}
