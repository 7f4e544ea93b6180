//! Sessions on the calendar: which appointments are acceptable, and when a
//! reminder is due. Times are UTC epoch milliseconds; time zones are the
//! edge's concern (what a person types and reads).

use crate::account::ValidationError;
use crate::time::{HOUR, MINUTE, Millis};

pub const SHORTEST_SESSION: Millis = 15 * MINUTE;
pub const LONGEST_SESSION: Millis = 4 * HOUR;
/// The longest reminder lead a practice may set, in hours.
pub const MAX_REMINDER_HOURS: i64 = 7 * 24;
pub const LOCATION_MAX_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationKind {
    InPerson,
    Video,
}

impl LocationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LocationKind::InPerson => "in_person",
            LocationKind::Video => "video",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "in_person" => Some(LocationKind::InPerson),
            "video" => Some(LocationKind::Video),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LocationKind::InPerson => "In person",
            LocationKind::Video => "Video call",
        }
    }

    /// A location that starts with a web address is a video link.
    pub fn infer(location: &str) -> Self {
        let location = location.trim().to_ascii_lowercase();
        if location.starts_with("https://") || location.starts_with("http://") {
            LocationKind::Video
        } else {
            LocationKind::InPerson
        }
    }
}

/// Checks a session's times: it must end after it starts, last between a
/// quarter of an hour and four hours, and not start in the past.
pub fn validate_slot(
    starts_at: Millis,
    ends_at: Millis,
    now: Millis,
) -> Result<(), ValidationError> {
    if ends_at <= starts_at {
        return Err(ValidationError::new(
            "end",
            "The session must end after it starts.",
        ));
    }
    let length = ends_at - starts_at;
    if length < SHORTEST_SESSION {
        return Err(ValidationError::new(
            "end",
            "A session lasts at least 15 minutes.",
        ));
    }
    if length > LONGEST_SESSION {
        return Err(ValidationError::new(
            "end",
            "A session lasts at most 4 hours.",
        ));
    }
    if starts_at < now {
        return Err(ValidationError::new(
            "start",
            "Please choose a time that has not passed yet.",
        ));
    }
    Ok(())
}

/// Checks a video link or address: a video session needs an https link.
pub fn validate_location(kind: LocationKind, location: &str) -> Result<(), ValidationError> {
    let location = location.trim();
    if location.chars().count() > LOCATION_MAX_CHARS {
        return Err(ValidationError::new(
            "location",
            format!("Please keep the location to {LOCATION_MAX_CHARS} characters or fewer."),
        ));
    }
    if kind == LocationKind::Video && !location.to_ascii_lowercase().starts_with("https://") {
        return Err(ValidationError::new(
            "location",
            "A video session needs its link, starting with https://.",
        ));
    }
    Ok(())
}

/// Is the reminder for a session due now? Once, within the lead time before
/// it starts, never after it has started.
pub fn reminder_due(starts_at: Millis, reminded: bool, reminder_hours: i64, now: Millis) -> bool {
    if reminded || reminder_hours <= 0 || now >= starts_at {
        return false;
    }
    let lead = reminder_hours.min(MAX_REMINDER_HOURS) * HOUR;
    now >= starts_at - lead
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_800_000_000_000;

    #[test]
    fn a_normal_session_is_fine() {
        assert!(validate_slot(NOW + HOUR, NOW + 2 * HOUR, NOW).is_ok());
    }

    #[test]
    fn sessions_must_have_a_sensible_length() {
        assert_eq!(
            validate_slot(NOW + HOUR, NOW + HOUR, NOW)
                .unwrap_err()
                .field,
            "end"
        );
        assert_eq!(
            validate_slot(NOW + HOUR, NOW, NOW).unwrap_err().field,
            "end"
        );
        let start = NOW + HOUR;
        assert!(validate_slot(start, start + SHORTEST_SESSION - 1, NOW).is_err());
        assert!(validate_slot(start, start + SHORTEST_SESSION, NOW).is_ok());
        assert!(validate_slot(start, start + LONGEST_SESSION, NOW).is_ok());
        assert!(validate_slot(start, start + LONGEST_SESSION + 1, NOW).is_err());
    }

    #[test]
    fn sessions_cannot_start_in_the_past() {
        assert_eq!(
            validate_slot(NOW - 1, NOW + HOUR, NOW).unwrap_err().field,
            "start"
        );
        assert!(validate_slot(NOW, NOW + HOUR, NOW).is_ok());
    }

    #[test]
    fn video_sessions_need_a_secure_link() {
        assert!(validate_location(LocationKind::Video, "https://meet.example/abc").is_ok());
        assert!(validate_location(LocationKind::Video, "http://meet.example/abc").is_err());
        assert!(validate_location(LocationKind::Video, "").is_err());
        assert!(validate_location(LocationKind::InPerson, "").is_ok());
        assert!(
            validate_location(LocationKind::InPerson, &"x".repeat(LOCATION_MAX_CHARS + 1)).is_err()
        );
        assert_eq!(
            LocationKind::infer(" HTTPS://meet.example"),
            LocationKind::Video
        );
        assert_eq!(
            LocationKind::infer("Room 2, 14 Elm Street"),
            LocationKind::InPerson
        );
        for kind in [LocationKind::InPerson, LocationKind::Video] {
            assert_eq!(LocationKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn reminders_fall_due_once_inside_the_lead_time() {
        let start = NOW + 48 * HOUR;
        assert!(!reminder_due(start, false, 24, NOW), "too early");
        assert!(reminder_due(start, false, 24, start - 24 * HOUR));
        assert!(reminder_due(start, false, 24, start - 1));
        assert!(!reminder_due(start, true, 24, start - HOUR), "already sent");
        assert!(
            !reminder_due(start, false, 24, start),
            "the session has begun"
        );
        assert!(
            !reminder_due(start, false, 0, start - HOUR),
            "reminders off"
        );
        assert!(reminder_due(
            start,
            false,
            10_000,
            start - MAX_REMINDER_HOURS * HOUR
        ));
        assert!(!reminder_due(
            start,
            false,
            10_000,
            start - MAX_REMINDER_HOURS * HOUR - 1
        ));
    }
}
