//! A visitor's request for a first appointment: what we accept, and the spam
//! guard that needs no third-party service (a field people never see, and a
//! form that must have been open for a few seconds, as a person needs).

use crate::account::{EmailAddress, ValidationError};
use crate::time::{DAY, Millis, SECOND};

pub const NAMES_MAX_CHARS: usize = 200;
pub const MESSAGE_MAX_CHARS: usize = 2_000;
pub const PREFERRED_TIMES_MAX_CHARS: usize = 500;
/// "Email only, not my phone": a short note, not a letter.
pub const SAFE_CONTACT_MAX_CHARS: usize = 300;
/// Faster than this is a script: a person whose browser fills the form in
/// still takes a couple of seconds to look and tap send.
pub const FORM_MIN_AGE: Millis = SECOND;
/// A form older than this is stale: load the page again.
pub const FORM_MAX_AGE: Millis = DAY;
/// Requests one address may send in [`RATE_WINDOW`] before it must wait.
pub const RATE_FREE_REQUESTS: i64 = 3;
pub const RATE_WINDOW: Millis = DAY;

/// A request as typed, before checking.
#[derive(Debug, Clone, Default)]
pub struct IntakeInput<'a> {
    pub names: &'a str,
    pub email: &'a str,
    pub partner_email: &'a str,
    pub preferred_times: &'a str,
    pub message: &'a str,
    /// "We'd like to be seen separately first": accepting invites only the
    /// person who wrote, and the therapist decides later about the other.
    pub seen_separately: bool,
    /// A safe way to reach the person who wrote, e.g. "email only, not my phone".
    pub safe_contact: &'a str,
}

/// A request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeRequest {
    pub names: String,
    pub email: EmailAddress,
    pub partner_email: Option<EmailAddress>,
    pub preferred_times: String,
    pub message: String,
    pub seen_separately: bool,
    pub safe_contact: String,
}

fn bounded(
    problems: &mut Vec<ValidationError>,
    field: &'static str,
    value: &str,
    max: usize,
    what: &str,
) -> String {
    let value = value.trim();
    if value.chars().count() > max {
        problems.push(ValidationError::new(
            field,
            format!("Please keep {what} to {max} characters or fewer."),
        ));
    }
    value.to_owned()
}

/// Checks every field and reports every problem at once.
pub fn validate(input: &IntakeInput<'_>) -> Result<IntakeRequest, Vec<ValidationError>> {
    let mut problems = Vec::new();
    let names = bounded(
        &mut problems,
        "names",
        input.names,
        NAMES_MAX_CHARS,
        "the names",
    );
    if names.is_empty() {
        problems.push(ValidationError::new(
            "names",
            "Please tell us your names (first names are enough).",
        ));
    }
    let email = EmailAddress::parse("email", input.email)
        .map_err(|err| problems.push(err))
        .ok();
    let partner_email = if input.partner_email.trim().is_empty() {
        None
    } else {
        EmailAddress::parse("partner_email", input.partner_email)
            .map_err(|err| problems.push(err))
            .ok()
    };
    if let (Some(a), Some(b)) = (&email, &partner_email)
        && a == b
    {
        problems.push(ValidationError::new(
            "partner_email",
            "Your partner's address should be their own; leave it empty if you share one.",
        ));
    }
    let preferred_times = bounded(
        &mut problems,
        "preferred_times",
        input.preferred_times,
        PREFERRED_TIMES_MAX_CHARS,
        "your preferred times",
    );
    let message = bounded(
        &mut problems,
        "message",
        input.message,
        MESSAGE_MAX_CHARS,
        "the message",
    );
    let safe_contact = bounded(
        &mut problems,
        "safe_contact",
        input.safe_contact,
        SAFE_CONTACT_MAX_CHARS,
        "the note on how to contact you",
    );
    match (problems.is_empty(), email) {
        (true, Some(email)) => Ok(IntakeRequest {
            names,
            email,
            partner_email,
            preferred_times,
            message,
            seen_separately: input.seen_separately,
            safe_contact,
        }),
        _ => Err(problems),
    }
}

/// What the spam guard decided about a form post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardVerdict {
    /// Looks like a person.
    Person,
    /// The hidden field was filled in: a robot. Answer as if it worked.
    Robot,
    /// Sent faster than anyone can type: ask to try again.
    TooFast,
    /// The form is missing its stamp, or is older than a day.
    Stale,
}

/// `issued_at` is the time stamped (and signed) into the form; `None` when
/// the stamp is missing or its signature does not hold.
pub fn guard(honeypot: &str, issued_at: Option<Millis>, now: Millis) -> GuardVerdict {
    if !honeypot.trim().is_empty() {
        return GuardVerdict::Robot;
    }
    let Some(issued_at) = issued_at else {
        return GuardVerdict::Stale;
    };
    let age = now - issued_at;
    if age < FORM_MIN_AGE {
        GuardVerdict::TooFast
    } else if age > FORM_MAX_AGE {
        GuardVerdict::Stale
    } else {
        GuardVerdict::Person
    }
}

/// Splits "Alex and Sam", "Alex & Sam" or "Alex, Sam" into two names, for
/// prefilling the invitations when staff accept a request.
pub fn split_names(names: &str) -> (String, String) {
    for separator in [" and ", " & ", " + ", ", ", ",", " und ", " et ", " y "] {
        if let Some((a, b)) = names.split_once(separator) {
            let (a, b) = (a.trim(), b.trim());
            if !a.is_empty() && !b.is_empty() {
                return (a.to_owned(), b.to_owned());
            }
        }
    }
    (names.trim().to_owned(), String::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>() -> IntakeInput<'a> {
        IntakeInput {
            names: "Maya and Leo",
            email: "Maya@Example.com ",
            partner_email: "",
            preferred_times: "Weekday evenings",
            message: "We keep having the same fight.",
            seen_separately: false,
            safe_contact: "",
        }
    }

    #[test]
    fn a_complete_request_is_accepted_and_trimmed() {
        let request = validate(&input()).unwrap();
        assert_eq!(request.names, "Maya and Leo");
        assert_eq!(request.email.as_str(), "maya@example.com");
        assert_eq!(request.partner_email, None);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let long = "x".repeat(MESSAGE_MAX_CHARS + 1);
        let bad = IntakeInput {
            names: "  ",
            email: "not an address",
            partner_email: "also bad",
            preferred_times: "",
            message: &long,
            seen_separately: true,
            safe_contact: &long,
        };
        let problems = validate(&bad).unwrap_err();
        let fields: Vec<_> = problems.iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            ["names", "email", "partner_email", "message", "safe_contact"]
        );
    }

    #[test]
    fn limits_are_inclusive() {
        let names = "n".repeat(NAMES_MAX_CHARS);
        let message = "m".repeat(MESSAGE_MAX_CHARS);
        let safe_contact = "s".repeat(SAFE_CONTACT_MAX_CHARS);
        let ok = IntakeInput {
            names: &names,
            message: &message,
            safe_contact: &safe_contact,
            ..input()
        };
        assert!(validate(&ok).is_ok());
    }

    #[test]
    fn the_safe_contact_note_and_the_wish_to_be_seen_separately_are_kept() {
        let request = validate(&IntakeInput {
            seen_separately: true,
            safe_contact: "  Email only, not my phone ",
            ..input()
        })
        .unwrap();
        assert!(request.seen_separately);
        assert_eq!(request.safe_contact, "Email only, not my phone");
    }

    #[test]
    fn partners_need_their_own_address_if_they_give_one() {
        let same = IntakeInput {
            partner_email: "maya@example.com",
            ..input()
        };
        assert_eq!(validate(&same).unwrap_err()[0].field, "partner_email");
        let own = IntakeInput {
            partner_email: "leo@example.com",
            ..input()
        };
        assert_eq!(
            validate(&own).unwrap().partner_email.unwrap().as_str(),
            "leo@example.com"
        );
    }

    #[test]
    fn the_guard_lets_people_through_and_stops_robots() {
        let issued = 1_000_000;
        assert_eq!(
            guard("", Some(issued), issued + 10 * SECOND),
            GuardVerdict::Person
        );
        assert_eq!(
            guard("http://spam", Some(issued), issued + 10 * SECOND),
            GuardVerdict::Robot
        );
        assert_eq!(
            guard("", Some(issued), issued + FORM_MIN_AGE - 1),
            GuardVerdict::TooFast
        );
        assert_eq!(
            guard("", Some(issued), issued + FORM_MIN_AGE),
            GuardVerdict::Person
        );
        assert_eq!(
            guard("", Some(issued), issued + FORM_MAX_AGE),
            GuardVerdict::Person
        );
        assert_eq!(
            guard("", Some(issued), issued + FORM_MAX_AGE + 1),
            GuardVerdict::Stale
        );
        assert_eq!(guard("", None, issued), GuardVerdict::Stale);
        // A stamp from the future (a forged or skewed one) is too fast, not trusted.
        assert_eq!(guard("", Some(issued + DAY), issued), GuardVerdict::TooFast);
    }

    #[test]
    fn names_split_into_two_people_when_they_can() {
        assert_eq!(split_names("Maya and Leo"), ("Maya".into(), "Leo".into()));
        assert_eq!(split_names("Maya & Leo"), ("Maya".into(), "Leo".into()));
        assert_eq!(split_names("Maya, Leo"), ("Maya".into(), "Leo".into()));
        assert_eq!(split_names("Maya"), ("Maya".into(), String::new()));
        assert_eq!(split_names(" and Leo"), ("and Leo".into(), String::new()));
    }
}
