//! The JSON API under `/api/v1`, described by the OpenAPI document at
//! `/api/openapi.json` (generated from these handlers and types).

mod accountability;
mod accounts;
mod coach;
mod couples;
mod entries;
mod links;
mod measures;
mod messages;
mod practice;
mod program;
mod push;
mod rights;
mod safety;
mod sessions;
mod staff;
mod talks;

use axum::Json;
use serde::Serialize;
use trellis_core::Role;
use trellis_store::User;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::routes::{Access, Route};

pub fn routes() -> Vec<Route> {
    use Access::{Public, SignedIn, Writing};
    vec![
        Route::post("/api/v1/auth/login", Public, accounts::login),
        Route::post("/api/v1/auth/logout", SignedIn, accounts::logout),
        Route::post("/api/v1/auth/logout-all", SignedIn, rights::logout_all),
        Route::get("/api/v1/me", SignedIn, accounts::me),
        Route::get("/api/v1/me/today", SignedIn, accounts::today),
        Route::delete("/api/v1/me", SignedIn, rights::delete_me),
        Route::get("/api/v1/me/export", SignedIn, rights::export),
        Route::get("/api/v1/me/activity", SignedIn, rights::activity),
        Route::post(
            "/api/v1/me/leave-couple",
            Access::Role(Role::Partner),
            rights::leave_couple,
        ),
        Route::post(
            "/api/v1/couples",
            Access::Role(Role::Therapist),
            couples::create,
        ),
        Route::get(
            "/api/v1/caseload",
            Access::Role(Role::Therapist),
            couples::caseload,
        ),
        Route::post(
            "/api/v1/couples/{id}/therapist",
            Access::Role(Role::Admin),
            staff::move_couple,
        ),
        Route::get(
            "/api/v1/practice/staff",
            Access::Role(Role::Admin),
            staff::list,
        ),
        Route::post(
            "/api/v1/practice/staff/{user_id}/deactivate",
            Access::Role(Role::Admin),
            staff::deactivate,
        ),
        Route::post(
            "/api/v1/practice/staff/{user_id}/two-factor/reset",
            Access::Role(Role::Admin),
            staff::reset_two_factor,
        ),
        Route::post(
            "/api/v1/couples/{id}/invitations",
            Access::CoupleTherapist,
            couples::invite,
        ),
        Route::post(
            "/api/v1/me/link-requests",
            Access::Role(Role::Partner),
            links::create,
        ),
        Route::get("/api/v1/link-requests", SignedIn, links::list),
        Route::post(
            "/api/v1/link-requests/{id}/{action}",
            Access::PartnerOrTherapist,
            links::answer,
        ),
        Route::post(
            "/api/v1/invitations/{token}/accept",
            Public,
            accounts::accept_invitation,
        ),
        Route::post(
            "/api/v1/entries",
            Access::Role(Role::Partner),
            entries::create,
        ),
        Route::get("/api/v1/entries", SignedIn, entries::list),
        Route::get("/api/v1/entries/{id}", Writing, entries::get),
        Route::patch("/api/v1/entries/{id}", Writing, entries::change_audience),
        Route::post("/api/v1/entries/{id}/undo", Writing, entries::undo),
        Route::post("/api/v1/entries/{id}/hold", Writing, entries::hold),
        Route::post(
            "/api/v1/entries/{id}/share-now",
            Writing,
            entries::share_now,
        ),
        Route::post(
            "/api/v1/coach/analyze",
            Access::Role(Role::Partner),
            coach::analyze,
        ),
        Route::get("/api/v1/program", SignedIn, program::get_program),
        Route::post(
            "/api/v1/exercises/{id}/responses",
            Access::Role(Role::Partner),
            program::answer,
        ),
        Route::get(
            "/api/v1/exercises/{id}/responses",
            Access::Role(Role::Partner),
            program::responses,
        ),
        Route::get(
            "/api/v1/couples/{id}/journey",
            Access::Couple,
            program::journey,
        ),
        Route::get(
            "/api/v1/couples/{id}/situation",
            Access::Couple,
            program::get_situation,
        ),
        Route::post(
            "/api/v1/couples/{id}/situation",
            Access::Couple,
            program::set_situation,
        ),
        Route::post(
            "/api/v1/couples/{id}/assignments",
            Access::CoupleTherapist,
            program::assign,
        ),
        Route::post(
            "/api/v1/couples/{id}/stages/{stage_id}/unlock",
            Access::CoupleTherapist,
            program::unlock,
        ),
        Route::get(
            "/api/v1/onboarding",
            Access::Role(Role::Partner),
            program::onboarding_status,
        ),
        Route::post(
            "/api/v1/onboarding/welcome",
            Access::Role(Role::Partner),
            program::welcome,
        ),
        Route::post(
            "/api/v1/onboarding/safety",
            Access::Role(Role::Partner),
            program::safety,
        ),
        Route::post(
            "/api/v1/safety/tell-therapist",
            Access::Role(Role::Partner),
            safety::tell_therapist,
        ),
        Route::post(
            "/api/v1/couples/{id}/screening",
            Access::CoupleTherapist,
            safety::decide,
        ),
        Route::get(
            "/api/v1/couples/{id}/screening",
            Access::CoupleTherapist,
            safety::panel,
        ),
        Route::post(
            "/api/v1/couples/{id}/rescreen",
            Access::CoupleTherapist,
            safety::rescreen,
        ),
        Route::get(
            "/api/v1/shared-work",
            Access::Role(Role::Partner),
            safety::shared_work,
        ),
        Route::post(
            "/api/v1/shared-work/pause",
            Access::Role(Role::Partner),
            safety::pause,
        ),
        Route::post(
            "/api/v1/shared-work/resume",
            Access::Role(Role::Partner),
            safety::resume,
        ),
        Route::patch(
            "/api/v1/practice/safety",
            Access::Role(Role::Admin),
            safety::settings,
        ),
        Route::get("/api/v1/instruments", SignedIn, measures::list),
        Route::get("/api/v1/instruments/{id}", SignedIn, measures::get),
        Route::post(
            "/api/v1/measures/{instrument}",
            Access::Role(Role::Partner),
            measures::submit,
        ),
        Route::get(
            "/api/v1/me/measures",
            Access::Role(Role::Partner),
            measures::mine,
        ),
        Route::post(
            "/api/v1/me/measures/sharing",
            Access::Role(Role::Partner),
            measures::sharing,
        ),
        Route::get(
            "/api/v1/couples/{id}/progress",
            Access::Couple,
            measures::progress,
        ),
        Route::post(
            "/api/v1/commitments",
            Access::Role(Role::Partner),
            accountability::commit,
        ),
        Route::post(
            "/api/v1/commitments/{id}/kept",
            Access::Role(Role::Partner),
            accountability::kept,
        ),
        Route::post(
            "/api/v1/commitments/{id}/noticed",
            Access::Role(Role::Partner),
            accountability::noticed,
        ),
        Route::post(
            "/api/v1/commitments/{id}/status",
            Access::Role(Role::Partner),
            accountability::status,
        ),
        Route::post(
            "/api/v1/commitments/{id}/context",
            Access::Role(Role::Partner),
            accountability::context,
        ),
        Route::post(
            "/api/v1/commitments/{id}/accept",
            Access::Role(Role::Partner),
            accountability::accept_proposal,
        ),
        Route::post(
            "/api/v1/rituals",
            Access::Role(Role::Partner),
            accountability::ritual,
        ),
        Route::post(
            "/api/v1/couples/{id}/proposals",
            Access::CoupleTherapist,
            accountability::propose_promise,
        ),
        Route::get(
            "/api/v1/couples/{id}/commitments",
            Access::Couple,
            accountability::list,
        ),
        Route::get(
            "/api/v1/couples/{id}/consistency",
            Access::Couple,
            accountability::consistency,
        ),
        Route::post(
            "/api/v1/agreements",
            Access::Role(Role::Partner),
            accountability::propose,
        ),
        Route::post(
            "/api/v1/agreements/{id}/accept",
            Access::Role(Role::Partner),
            accountability::accept,
        ),
        Route::get(
            "/api/v1/couples/{id}/agreements",
            Access::Couple,
            accountability::agreements,
        ),
        Route::post(
            "/api/v1/appreciations",
            Access::Role(Role::Partner),
            accountability::appreciate,
        ),
        Route::post(
            "/api/v1/openness",
            Access::Role(Role::Partner),
            accountability::openness,
        ),
        Route::get("/api/v1/openness", SignedIn, accountability::openness_log),
        Route::get(
            "/api/v1/couples/{id}/milestones",
            Access::Couple,
            accountability::milestones,
        ),
        Route::get("/api/v1/practices", Public, practice::practices),
        Route::get("/api/v1/self-check", Public, practice::self_check),
        Route::post("/api/v1/self-check", Public, practice::self_check_reading),
        Route::post("/api/v1/intake", Public, practice::submit),
        Route::get("/api/v1/intake", Access::Staff, practice::inbox),
        Route::post(
            "/api/v1/intake/{id}/accept",
            Access::Staff,
            practice::accept,
        ),
        Route::post("/api/v1/intake/{id}/reply", Access::Staff, practice::reply),
        Route::post(
            "/api/v1/couples/{id}/appointments",
            Access::CoupleTherapist,
            sessions::schedule,
        ),
        Route::get(
            "/api/v1/couples/{id}/appointments",
            Access::Couple,
            sessions::of_couple,
        ),
        Route::patch(
            "/api/v1/couples/{id}/appointments/{appointment_id}",
            Access::CoupleTherapist,
            sessions::reschedule,
        ),
        Route::delete(
            "/api/v1/couples/{id}/appointments/{appointment_id}",
            Access::CoupleTherapist,
            sessions::cancel,
        ),
        Route::post(
            "/api/v1/appointments/{id}/reschedule-request",
            Access::Role(Role::Partner),
            sessions::ask_to_move,
        ),
        Route::get("/api/v1/me/appointments", SignedIn, sessions::mine),
        Route::get("/api/v1/me/calendar", SignedIn, sessions::calendar),
        Route::post(
            "/api/v1/me/calendar/reset",
            SignedIn,
            sessions::reset_calendar,
        ),
        Route::get("/calendar/{feed_id}/{file}", Public, sessions::feed),
        Route::get("/api/v1/me/settings", SignedIn, sessions::settings),
        Route::patch("/api/v1/me/settings", SignedIn, sessions::change_settings),
        Route::get("/api/v1/push/key", SignedIn, push::key),
        Route::get("/api/v1/me/devices", SignedIn, push::list),
        Route::post("/api/v1/me/devices", SignedIn, push::add),
        Route::post("/api/v1/me/devices/remove", SignedIn, push::remove),
        Route::post(
            "/api/v1/messages",
            Access::PartnerOrTherapist,
            messages::post,
        ),
        Route::get(
            "/api/v1/messages",
            Access::PartnerOrTherapist,
            messages::list,
        ),
        Route::post(
            "/api/v1/comments",
            Access::Role(Role::Therapist),
            messages::comment,
        ),
        Route::get(
            "/api/v1/couples/{id}/comments",
            Access::Couple,
            messages::comments,
        ),
        Route::post(
            "/api/v1/couples/{id}/notes",
            Access::CoupleTherapist,
            messages::write_note,
        ),
        Route::get(
            "/api/v1/couples/{id}/notes",
            Access::CoupleTherapist,
            messages::notes_list,
        ),
        Route::patch(
            "/api/v1/couples/{id}/notes/{note_id}",
            Access::CoupleTherapist,
            messages::update_note,
        ),
        Route::post("/api/v1/talks", Access::Role(Role::Partner), talks::open),
        Route::get("/api/v1/talks/{id}", Access::Couple, talks::get),
        Route::get("/api/v1/talks/{id}/events", Access::Couple, talks::events),
        Route::post(
            "/api/v1/talks/{id}/turns",
            Access::Role(Role::Partner),
            talks::turn,
        ),
        Route::post(
            "/api/v1/talks/{id}/floor",
            Access::Role(Role::Partner),
            talks::floor,
        ),
        Route::post(
            "/api/v1/talks/{id}/leave",
            Access::Role(Role::Partner),
            talks::leave,
        ),
        Route::get(
            "/api/v1/couples/{id}/talks",
            Access::Couple,
            talks::of_couple,
        ),
        Route::post(
            "/api/v1/timeouts",
            Access::Role(Role::Partner),
            talks::call_timeout,
        ),
        Route::get(
            "/api/v1/couples/{id}/timeouts",
            Access::Couple,
            talks::couple_timeouts,
        ),
        Route::post(
            "/api/v1/compromises",
            Access::Role(Role::Partner),
            talks::open_compromise,
        ),
        Route::get(
            "/api/v1/compromises/{id}",
            Access::Role(Role::Partner),
            talks::get_compromise,
        ),
        Route::post(
            "/api/v1/compromises/{id}/circles",
            Access::Role(Role::Partner),
            talks::write_circles,
        ),
        Route::post(
            "/api/v1/compromises/{id}/agreement",
            Access::Role(Role::Partner),
            talks::compromise_agreement,
        ),
        Route::get("/api/openapi.json", Public, openapi_json),
    ]
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Trellis API", description = "The JSON API of Trellis. Errors are `{\"error\":{\"code\",\"message\"}}`."),
    paths(
        accounts::login,
        accounts::logout,
        accounts::me,
        accounts::today,
        accounts::accept_invitation,
        couples::create,
        couples::caseload,
        couples::invite,
        staff::list,
        staff::deactivate,
        staff::reset_two_factor,
        staff::move_couple,
        links::create,
        links::list,
        links::answer,
        entries::create,
        entries::list,
        entries::get,
        entries::change_audience,
        entries::undo,
        entries::hold,
        entries::share_now,
        rights::export,
        rights::activity,
        rights::delete_me,
        rights::leave_couple,
        rights::logout_all,
        coach::analyze,
        program::get_program,
        program::answer,
        program::responses,
        program::journey,
        program::get_situation,
        program::set_situation,
        program::assign,
        program::unlock,
        program::onboarding_status,
        program::welcome,
        program::safety,
        safety::decide,
        safety::panel,
        safety::rescreen,
        safety::shared_work,
        safety::pause,
        safety::resume,
        safety::settings,
        safety::tell_therapist,
        measures::list,
        measures::get,
        measures::submit,
        measures::mine,
        measures::sharing,
        measures::progress,
        accountability::commit,
        accountability::kept,
        accountability::noticed,
        accountability::status,
        accountability::list,
        accountability::consistency,
        accountability::propose,
        accountability::accept,
        accountability::agreements,
        accountability::appreciate,
        accountability::milestones,
        accountability::openness,
        accountability::openness_log,
        accountability::context,
        accountability::ritual,
        accountability::propose_promise,
        accountability::accept_proposal,
        practice::practices,
        practice::self_check,
        practice::self_check_reading,
        practice::submit,
        practice::inbox,
        practice::accept,
        practice::reply,
        sessions::schedule,
        sessions::of_couple,
        sessions::reschedule,
        sessions::cancel,
        sessions::ask_to_move,
        sessions::mine,
        sessions::calendar,
        sessions::reset_calendar,
        sessions::settings,
        sessions::change_settings,
        push::key,
        push::list,
        push::add,
        push::remove,
        messages::post,
        messages::list,
        messages::comment,
        messages::comments,
        messages::write_note,
        messages::notes_list,
        messages::update_note,
        talks::open,
        talks::get,
        talks::events,
        talks::turn,
        talks::floor,
        talks::leave,
        talks::of_couple,
        talks::call_timeout,
        talks::couple_timeouts,
        talks::open_compromise,
        talks::get_compromise,
        talks::write_circles,
        talks::compromise_agreement,
    ),
    components(schemas(ErrorBody, ErrorDetail, FieldError, UserJson)),
    modifiers(&BearerAuth, &ErrorResponses),
    tags((name = "accounts", description = "Signing in and out, who am I, invitations"), (name = "couples", description = "Couples and their partners"),
        (name = "writing", description = "Client writing with an audience, encrypted at rest"),
        (name = "data rights", description = "Export, activity, leaving, deletion"),
                (name = "coach", description = "Hints on harsh and constructive language, computed in memory"),
                (name = "program", description = "Onboarding, the journey, exercises and homework"),
                (name = "measures", description = "Validated measures and check-ins, trends, alerts"),
        (name = "accountability", description = "Promises kept and noticed, agreements, appreciations, milestones"),
        (name = "practice", description = "A practice's public side, the \"is it time?\" self-check, intake"),
        (name = "sessions", description = "Sessions, calendar feeds, notice settings and devices"),
        (name = "messages", description = "Couple and private threads, comments on shared work"),
        (name = "notes", description = "Therapists' private session notes"),
        (name = "talks", description = "Structured talks in real time, time-outs, the two-circles compromise"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The refusals every operation may answer with, from the route table: 401
/// and 403 where the route's [`Access`] asks for someone signed in, 404 where
/// its path names something, 413, 415 and 422 where it reads a body (422
/// also for a query string), 409 and 429 where it changes something.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use axum::http::Method;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        for route in crate::routes::specs() {
            let Some(item) = openapi.paths.paths.get_mut(route.path) else {
                continue;
            };
            let operation = match route.method {
                Method::GET => item.get.as_mut(),
                Method::POST => item.post.as_mut(),
                Method::PATCH => item.patch.as_mut(),
                Method::DELETE => item.delete.as_mut(),
                _ => None,
            };
            let Some(operation) = operation else {
                continue;
            };
            let has_query = operation
                .parameters
                .iter()
                .flatten()
                .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Query));
            let has_body = operation.request_body.is_some();
            let mut refusals = Vec::new();
            if route.access != Access::Public {
                refusals.push(("401", "Not signed in, or the session has ended"));
                refusals.push((
                    "403",
                    "Not for this account, or two-step sign-in must be set up first",
                ));
            }
            if route.path.contains('{') {
                refusals.push(("404", "Nothing by that name that the caller may see"));
            }
            if has_body {
                refusals.push(("413", "The body is larger than 1 MiB"));
                refusals.push(("415", "The body is not JSON"));
            }
            if has_body || has_query {
                refusals.push(("422", "Invalid input: `fields` says which and why"));
            }
            if route.method != Method::GET {
                refusals.push(("409", "In conflict with what is already there"));
                refusals.push((
                    "429",
                    "Too many attempts; `Retry-After` says when to try again",
                ));
            }
            for (status, description) in refusals {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(description)
                            .content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                                    .build(),
                            )
                            .build()
                            .into()
                    });
            }
        }
    }
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Every error response.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_input`, `unauthenticated`, `gone`.
    pub code: String,
    /// A message that can be shown to a person.
    pub message: String,
    /// Invalid input (422): each field that does not fit, and why. Left out
    /// of other refusals.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub fields: Vec<FieldError>,
}

/// One field of a request that does not fit.
#[derive(Serialize, ToSchema)]
pub struct FieldError {
    /// The field's name, or `body` when the request could not be read at all.
    pub field: String,
    /// What to change, for a person.
    pub message: String,
}

/// A person, as the API shows them.
#[derive(Serialize, ToSchema)]
pub struct UserJson {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `admin`, `therapist` or `partner`.
    pub role: String,
}

impl From<&User> for UserJson {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.clone(),
            name: user.name.clone(),
            role: user.role.as_str().to_owned(),
        }
    }
}
