//! Server-rendered pages. Each works without JavaScript: forms post, the
//! server answers with a page or a redirect.

mod account;
mod admin;
mod intake;
mod journal;
mod measures;
mod messages;
mod partner;
mod program;
mod promises;
mod public;
mod sessions;
mod talks;
mod therapist;
mod two_factor;
mod visitors;

use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use trellis_app::Error as DomainError;
use trellis_core::Role;
use trellis_store::User;

use crate::auth::{CsrfToken, MaybeUser};
use crate::error::{AppError, AppResult, ErrorForPeople};
use crate::routes::{Access, Route};
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    use Access::{CoupleTherapist, Public, SignedIn};
    let partner = Access::Role(Role::Partner);
    let therapist = Access::Role(Role::Therapist);
    let admin = Access::Role(Role::Admin);
    vec![
        Route::get("/", Public, public::landing),
        Route::get("/login", Public, public::login_form),
        Route::post("/login", Public, public::login),
        Route::post("/login/two-factor", Public, two_factor::second_step),
        Route::post("/logout", Public, public::logout),
        Route::post(QUICK_EXIT_PATH, Public, public::quick_exit),
        Route::get("/signup", Public, public::signup_form),
        Route::post("/signup", Public, public::signup),
        Route::get(
            "/signup/confirm/{token}",
            Public,
            public::signup_confirm_form,
        ),
        Route::post("/signup/confirm/{token}", Public, public::signup_confirm),
        Route::get("/setup/{token}", Public, public::setup_form),
        Route::post("/setup/{token}", Public, public::setup),
        Route::get("/invitations/{token}", Public, public::invitation_form),
        Route::post("/invitations/{token}", Public, public::accept_invitation),
        Route::get("/password/forgot", Public, public::forgot_form),
        Route::post("/password/forgot", Public, public::forgot),
        Route::get("/password/reset/{token}", Public, public::reset_form),
        Route::post("/password/reset/{token}", Public, public::reset),
        Route::get("/account", SignedIn, account::show),
        Route::post("/account/password", SignedIn, account::change_password),
        Route::get("/account/two-factor", SignedIn, two_factor::show),
        Route::post("/account/two-factor", SignedIn, two_factor::enable),
        Route::post("/account/two-factor/disable", SignedIn, two_factor::disable),
        Route::get("/account/activity", SignedIn, account::activity),
        Route::get("/account/export", SignedIn, account::export_page),
        Route::get("/account/export.json", SignedIn, account::export_json),
        Route::post(
            "/account/sign-out-everywhere",
            SignedIn,
            account::sign_out_everywhere,
        ),
        Route::post("/account/leave-couple", partner, account::leave_couple),
        Route::post("/account/delete", SignedIn, account::delete_account),
        Route::get("/our-space", partner, partner::our_space),
        Route::post("/our-space/invite", partner, partner::invite),
        Route::post(
            "/our-space/link-therapist",
            partner,
            partner::link_therapist,
        ),
        Route::post(
            "/our-space/link-requests/{id}/{action}",
            partner,
            partner::answer_link_request,
        ),
        Route::get("/onboarding", partner, program::onboarding),
        Route::post("/onboarding/welcome", partner, program::welcome),
        Route::post("/onboarding/safety", partner, program::safety),
        Route::post("/safety/tell-therapist", partner, journal::tell_therapist),
        Route::post("/shared-work/{action}", partner, program::shared_work),
        Route::post("/journey/situation", partner, program::situation),
        Route::get("/journey", partner, program::journey),
        Route::get("/journey/review", SignedIn, program::review),
        Route::get("/journey/{exercise_id}", partner, program::exercise),
        Route::post("/journey/{exercise_id}", partner, program::answer),
        Route::get("/measures", partner, measures::overview),
        Route::post("/measures/sharing", partner, measures::sharing),
        Route::get("/measures/{instrument}", partner, measures::show),
        Route::post("/measures/{instrument}", partner, measures::submit),
        Route::get("/promises", partner, promises::show),
        Route::post("/promises", partner, promises::promise),
        Route::post("/promises/{id}/{action}", partner, promises::mark),
        Route::post("/agreements", partner, promises::propose),
        Route::post("/agreements/{id}/accept", partner, promises::accept),
        Route::post("/appreciations", partner, promises::appreciate),
        Route::post("/openness", partner, promises::openness),
        Route::post("/rituals", partner, promises::ritual),
        Route::get("/journal", partner, journal::journal),
        Route::post("/journal", partner, journal::write),
        Route::post(
            "/journal/{id}/audience",
            Access::Writing,
            journal::change_audience,
        ),
        Route::post("/journal/{id}/undo", Access::Writing, journal::undo),
        Route::post("/journal/{id}/hold", Access::Writing, journal::hold),
        Route::post(
            "/journal/{id}/share-now",
            Access::Writing,
            journal::share_now,
        ),
        Route::get("/caseload", therapist, therapist::caseload),
        Route::get(
            "/caseload/couples/new",
            therapist,
            therapist::new_couple_form,
        ),
        Route::post("/caseload/couples", therapist, therapist::create_couple),
        Route::post(
            "/caseload/link-requests/{id}/{action}",
            therapist,
            therapist::answer_link_request,
        ),
        Route::post(
            "/caseload/link-code",
            therapist,
            therapist::new_practice_code,
        ),
        Route::get("/caseload/couples/{id}", CoupleTherapist, journal::couple),
        Route::get(
            "/caseload/couples/{id}/report",
            CoupleTherapist,
            journal::report,
        ),
        Route::post(
            "/caseload/couples/{id}/{action}",
            CoupleTherapist,
            journal::steer,
        ),
        Route::get("/practices/{id}", Public, visitors::practice_page),
        Route::get("/practices/{id}/request", Public, visitors::request_form),
        Route::post("/practices/{id}/request", Public, visitors::send_request),
        Route::get("/is-it-time", Public, visitors::self_check),
        Route::post("/is-it-time", Public, visitors::self_check_result),
        Route::get("/intake", Access::Staff, intake::inbox),
        Route::get("/intake/{id}", Access::Staff, intake::show),
        Route::post("/intake/{id}/accept", Access::Staff, intake::accept),
        Route::post("/intake/{id}/reply", Access::Staff, intake::reply),
        Route::get(
            "/caseload/couples/{id}/sessions",
            CoupleTherapist,
            sessions::couple_sessions,
        ),
        Route::post(
            "/caseload/couples/{id}/sessions",
            CoupleTherapist,
            sessions::book,
        ),
        Route::post(
            "/caseload/couples/{id}/sessions/{appointment_id}",
            CoupleTherapist,
            sessions::change,
        ),
        Route::post(
            "/caseload/couples/{id}/sessions/{appointment_id}/cancel",
            CoupleTherapist,
            sessions::cancel,
        ),
        Route::get(
            "/caseload/couples/{id}/messages",
            CoupleTherapist,
            messages::therapist_messages,
        ),
        Route::post(
            "/caseload/couples/{id}/messages",
            CoupleTherapist,
            messages::therapist_post,
        ),
        Route::post(
            "/caseload/couples/{id}/comments",
            CoupleTherapist,
            messages::comment,
        ),
        Route::get(
            "/caseload/couples/{id}/notes",
            CoupleTherapist,
            messages::notes_list,
        ),
        Route::post(
            "/caseload/couples/{id}/notes",
            CoupleTherapist,
            messages::write_note,
        ),
        Route::get("/talks", partner, talks::list),
        Route::post("/talks", partner, talks::open),
        Route::get("/talks/{id}", Access::Couple, talks::show),
        Route::post("/talks/{id}/moves", partner, talks::make_move),
        Route::post("/talks/{id}/break", partner, talks::take_break),
        Route::post("/talks/{id}/promise", partner, talks::promise),
        Route::post("/compromises", partner, talks::open_compromise),
        Route::get("/compromises/{id}", partner, talks::show_compromise),
        Route::post("/compromises/{id}/circles", partner, talks::write_circles),
        Route::post("/compromises/{id}/agreement", partner, talks::agree),
        Route::get("/sessions", partner, sessions::partner_sessions),
        Route::post("/sessions/{id}/move", partner, sessions::ask_to_move),
        Route::get("/messages", partner, messages::partner_messages),
        Route::post("/messages", partner, messages::partner_post),
        Route::get("/account/notices", SignedIn, sessions::notices_form),
        Route::post("/account/notices", SignedIn, sessions::save_notices),
        Route::post(
            "/account/devices/forget",
            SignedIn,
            sessions::forget_devices,
        ),
        Route::post(
            "/account/calendar/reset",
            SignedIn,
            sessions::reset_calendar,
        ),
        Route::get("/practice", admin, admin::practice),
        Route::post("/practice", admin, admin::update_settings),
        Route::post("/practice/safety", admin, admin::update_safety),
        Route::post("/practice/therapists", admin, admin::invite_therapist),
        Route::post(
            "/practice/staff/{user_id}/deactivate",
            admin,
            admin::deactivate_staff,
        ),
        Route::post(
            "/practice/staff/{user_id}/two-factor/reset",
            admin,
            admin::reset_two_factor,
        ),
        Route::post(
            "/practice/couples/{id}/therapist",
            admin,
            admin::move_couple,
        ),
    ]
}

/// Where each role lands after signing in.
pub fn home_for(role: Role) -> &'static str {
    match role {
        Role::Partner => "/our-space",
        Role::Therapist => "/caseload",
        Role::Admin => "/practice",
    }
}

/// The partner's messages page, whose menu link carries the unread count.
const MESSAGES_PATH: &str = "/messages";

/// The navigation of each role, in one place.
fn nav_for(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Partner => &[
            ("/our-space", "Our space"),
            ("/journey", "Journey"),
            ("/measures", "Check-ins"),
            ("/promises", "Promises"),
            ("/journal", "Journal"),
            ("/talks", "Talks"),
            (MESSAGES_PATH, "Messages"),
            ("/sessions", "Sessions"),
            ("/account", "Account"),
        ],
        Role::Therapist => &[
            ("/caseload", "Caseload"),
            ("/intake", "Intake"),
            ("/account", "Account"),
        ],
        Role::Admin => &[
            ("/practice", "Practice"),
            ("/intake", "Intake"),
            ("/account", "Account"),
        ],
    }
}

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
    /// How many new things wait behind the link (0: none, no badge).
    pub badge: usize,
}

/// Quick exit posts here (with no CSRF token: see [`crate::auth::csrf`]).
pub const QUICK_EXIT_PATH: &str = "/quick-exit";

/// Where quick exit leaves to: a neutral outside page. Its origin is allowed
/// as a form target in the Content-Security-Policy, so the form's redirect
/// there is not blocked.
pub const QUICK_EXIT_DESTINATION: &str = "https://www.bbc.com/weather";

/// What every page's frame needs: who is signed in, the CSRF token, the navigation.
pub struct Layout {
    pub user_name: Option<String>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// Partners get a quick-exit control on every page, and visitors on the
    /// public pages that ask about fear.
    pub quick_exit: bool,
}

impl Layout {
    /// Everything new behind the menu, for the badge on the phone's menu button.
    pub fn nav_badges(&self) -> usize {
        self.nav.iter().map(|item| item.badge).sum()
    }

    /// Where the quick-exit control leaves to.
    pub fn quick_exit_to(&self) -> &'static str {
        QUICK_EXIT_DESTINATION
    }

    /// Whether the partner scripts (coach hints, live talks) belong on the page.
    pub fn partner_scripts(&self) -> bool {
        self.quick_exit && self.user_name.is_some()
    }
}

/// The request context of a page: the person (if any) and the CSRF token.
pub struct PageContext {
    pub user: Option<User>,
    pub csrf: String,
    /// Staff who must set up two-step sign-in before anything else.
    pub two_factor_setup_required: bool,
    /// Messages waiting unread for a partner, shown beside "Messages".
    pub unread_messages: usize,
}

impl PageContext {
    pub fn layout(&self, current: &str) -> Layout {
        let nav = self
            .user
            .as_ref()
            .map(|user| {
                nav_for(user.role)
                    .iter()
                    .map(|(href, label)| NavItem {
                        href,
                        label,
                        current: *href == current,
                        // on the messages page itself they are being read
                        badge: if *href == MESSAGES_PATH && *href != current {
                            self.unread_messages
                        } else {
                            0
                        },
                    })
                    .collect()
            })
            .unwrap_or_default();
        Layout {
            user_name: self.user.as_ref().map(|u| u.name.clone()),
            csrf: self.csrf.clone(),
            nav,
            quick_exit: self.user.as_ref().is_some_and(|u| u.role == Role::Partner),
        }
    }

    /// The frame of a public page that asks about fear or safety: it offers
    /// quick exit to everyone, signed in or not.
    pub fn layout_with_quick_exit(&self, current: &str) -> Layout {
        Layout {
            quick_exit: true,
            ..self.layout(current)
        }
    }

    /// The signed-in admin or therapist.
    pub fn require_staff(&self) -> AppResult<&User> {
        self.require_where(|role| role != Role::Partner)
    }

    /// The signed-in person with this role, or the error that explains why not.
    pub fn require(&self, role: Role) -> AppResult<&User> {
        self.require_where(|r| r == role)
    }

    /// The signed-in partner and their couple (`NotFound` between couples).
    pub fn partner_in_couple(&self) -> AppResult<(&User, &trellis_core::CoupleId)> {
        let user = self.require(Role::Partner)?;
        let couple = user
            .couple_id
            .as_ref()
            .ok_or(AppError::Domain(DomainError::NotFound))?;
        Ok((user, couple))
    }

    /// The signed-in person, whatever their role (a page every role may see).
    pub fn signed_in(&self) -> AppResult<&User> {
        self.user
            .as_ref()
            .ok_or(AppError::Domain(DomainError::Unauthenticated))
    }

    /// The signed-in person if `allowed` takes their role and they need no
    /// two-step set-up first.
    fn require_where(&self, allowed: impl Fn(Role) -> bool) -> AppResult<&User> {
        let user = self.signed_in()?;
        if !allowed(user.role) {
            return Err(AppError::Domain(DomainError::Forbidden));
        }
        if self.two_factor_setup_required {
            return Err(AppError::Domain(DomainError::TwoFactorSetupRequired));
        }
        Ok(user)
    }
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|token| token.0.clone())
            .ok_or_else(|| AppError::from(anyhow::anyhow!("CSRF middleware is not installed")))?;
        let two_factor_setup_required = match &user {
            Some(user) => {
                crate::auth::session::enforce_two_factor_setup(parts, state, user).await?;
                false
            }
            None => false,
        };
        // counted for pages people read; a form's answer is a redirect
        let unread_messages = match &user {
            Some(user) if user.role == Role::Partner && parts.method == Method::GET => {
                crate::services::messages::unread_for_partner(state, user).await?
            }
            _ => 0,
        };
        Ok(PageContext {
            user,
            csrf,
            two_factor_setup_required,
            unread_messages,
        })
    }
}

pub fn render(template: &impl Template) -> AppResult<Html<String>> {
    template
        .render()
        .map(Html)
        .map_err(|err| AppError::from(anyhow::anyhow!("template failed: {err}")))
}

/// Renders a form again, with its messages, after a refusal the person can fix.
pub fn render_refused(err: &AppError, template: &impl Template) -> AppResult<Response> {
    Ok((err.status(), render(template)?).into_response())
}

/// Splits errors into those a person can fix on the form (their messages)
/// and those that are not about the form at all (passed on).
pub fn fixable(err: impl Into<AppError>) -> Result<(AppError, Vec<String>), AppError> {
    let err = err.into();
    match &err {
        AppError::Domain(DomainError::Invalid(errors)) => {
            let messages = errors.iter().map(|e| e.message.clone()).collect();
            Ok((err, messages))
        }
        AppError::Domain(
            DomainError::InvalidCredentials
            | DomainError::Conflict(_)
            | DomainError::TooManyRequests { .. }
            | DomainError::RateLimited { .. },
        ) => {
            let message = err.message();
            Ok((err, vec![message]))
        }
        _ => Err(err),
    }
}

pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub layout: Layout,
    pub title: String,
    pub body: String,
    pub action: Option<(String, String)>,
}

/// Every refusal in one shape. A refusal made outside our handlers (axum's
/// routing, a layer such as the body limit) is first told in our words; then
/// the API keeps the JSON error, and everything else becomes a page for
/// people, where someone who is not signed in is sent to sign in.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let for_api = request.uri().path().starts_with("/api/");
    let csrf = request
        .extensions()
        .get::<CsrfToken>()
        .map(|t| t.0.clone())
        .unwrap_or_default();
    let response = in_our_words(next.run(request).await);
    if for_api {
        return response;
    }
    let Some(error) = response.extensions().get::<ErrorForPeople>().cloned() else {
        return response;
    };
    if error.status == StatusCode::UNAUTHORIZED {
        return see_other("/login");
    }
    if error.code == "two_factor_setup_required" {
        return see_other("/account/two-factor");
    }
    let title = match error.status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not available",
        StatusCode::GONE => "This link no longer works",
        StatusCode::INTERNAL_SERVER_ERROR => "Sorry, something went wrong",
        _ => "We couldn't do that",
    };
    let page = MessagePage {
        layout: Layout {
            user_name: None,
            csrf,
            nav: Vec::new(),
            quick_exit: false,
        },
        title: title.to_owned(),
        body: error.message,
        action: Some(("/".to_owned(), "Go to the start page".to_owned())),
    };
    let mut rendered = match page.render() {
        Ok(html) => (error.status, Html(html)).into_response(),
        Err(_) => (
            error.status,
            error.status.canonical_reason().unwrap_or("Error"),
        )
            .into_response(),
    };
    carry_headers(response.headers(), rendered.headers_mut());
    rendered
}

/// An error answer that is not already ours (plain text or empty, as axum
/// and tower layers make them) becomes the matching [`AppError`]'s answer,
/// keeping headers such as `Allow` and `Set-Cookie`.
fn in_our_words(response: Response) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !(status.is_client_error() || status.is_server_error())
        || !plain
        || response.extensions().get::<ErrorForPeople>().is_some()
    {
        return response;
    }
    let error = match status {
        StatusCode::UNAUTHORIZED => AppError::Domain(DomainError::Unauthenticated),
        StatusCode::FORBIDDEN => AppError::Domain(DomainError::Forbidden),
        StatusCode::NOT_FOUND => AppError::Domain(DomainError::NotFound),
        _ => AppError::Request(status),
    };
    let mut shaped = error.into_response();
    carry_headers(response.headers(), shaped.headers_mut());
    shaped
}

/// Headers of a replaced answer that still hold, all but those describing its body.
fn carry_headers(from: &HeaderMap, to: &mut HeaderMap) {
    let own: Vec<_> = to.keys().cloned().collect();
    for (name, value) in from {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && !own.contains(name) {
            to.append(name.clone(), value.clone());
        }
    }
}
