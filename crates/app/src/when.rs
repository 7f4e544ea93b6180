//! Times as people type and read them, in their own time zone. The store and
//! the rules work in UTC epoch milliseconds; this is the edge where a wall
//! clock time in a named zone becomes one, and back.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use trellis_core::{Millis, ValidationError};

/// A time zone by its IANA name ("Europe/Berlin"), or a clear refusal.
pub fn time_zone(field: &'static str, name: &str) -> Result<TimeZone, ValidationError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ValidationError::new(field, "Please choose a time zone."));
    }
    TimeZone::get(name).map_err(|_| {
        ValidationError::new(
            field,
            format!("We don't know the time zone \"{name}\". Please use a name like Europe/Berlin or America/New_York."),
        )
    })
}

/// The zone to show someone times in: theirs, else the practice's, else UTC.
pub fn zone_or_utc(name: Option<&str>) -> TimeZone {
    name.and_then(|n| TimeZone::get(n).ok())
        .unwrap_or(TimeZone::UTC)
}

/// Reads a time as typed: an RFC 3339 instant ("2026-12-05T17:00:00Z",
/// "…+01:00") as it is, or a wall-clock time ("2026-12-05T18:00", as a
/// browser's date-time field sends it) in `zone`.
pub fn parse_time(
    field: &'static str,
    input: &str,
    zone: &TimeZone,
) -> Result<Millis, ValidationError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(ValidationError::new(field, "Please give a date and time."));
    }
    if let Ok(instant) = input.parse::<Timestamp>() {
        return Ok(instant.as_millisecond());
    }
    let wall: DateTime = input.parse().map_err(|_| {
        ValidationError::new(field, "Please give a date and time like 2026-12-05T18:00.")
    })?;
    // In a spring-forward gap or an autumn overlap, the compatible choice
    // (the later time in a gap, the earlier in an overlap) is what calendars do.
    wall.to_zoned(zone.clone())
        .map(|zoned| zoned.timestamp().as_millisecond())
        .map_err(|_| ValidationError::new(field, "That date is out of range."))
}

fn zoned(at: Millis, zone: &TimeZone) -> Option<jiff::Zoned> {
    Timestamp::from_millisecond(at)
        .ok()
        .map(|ts| ts.to_zoned(zone.clone()))
}

/// "Friday 5 December 2026, 18:00 CET".
pub fn long(at: Millis, zone: &TimeZone) -> String {
    zoned(at, zone)
        .map(|z| z.strftime("%A %-d %B %Y, %H:%M %Z").to_string())
        .unwrap_or_default()
}

/// The one way a date is written for people: "5 Dec 2026", in their zone.
pub fn short_date(at: Millis, zone: &TimeZone) -> String {
    zoned(at, zone)
        .map(|z| z.strftime("%-d %b %Y").to_string())
        .unwrap_or_default()
}

/// The first `hour` o'clock after `at` on the wall clock of `zone` (today's,
/// or tomorrow's once it has passed): when writing held "until morning" goes.
pub fn next_at_hour(at: Millis, hour: i8, zone: &TimeZone) -> Millis {
    let Some(here) = zoned(at, zone) else {
        return at;
    };
    let on = |day: jiff::civil::Date| day.at(hour, 0, 0, 0).to_zoned(zone.clone()).ok();
    let today = on(here.date()).filter(|t| t.timestamp() > here.timestamp());
    today
        .or_else(|| here.date().tomorrow().ok().and_then(on))
        .map_or(at, |t| t.timestamp().as_millisecond())
}

/// The calendar day `at` falls on in `zone`, counted from 1 January 1970:
/// the day numbers promises are kept on.
pub fn day_number(at: Millis, zone: &TimeZone) -> i64 {
    const EPOCH: jiff::civil::Date = jiff::civil::date(1970, 1, 1);
    zoned(at, zone)
        .and_then(|z| z.date().since((jiff::Unit::Day, EPOCH)).ok())
        .map_or(at.div_euclid(trellis_core::time::DAY), |span| {
            i64::from(span.get_days())
        })
}

/// Whether two moments fall on the same calendar day for the reader.
pub fn same_day(a: Millis, b: Millis, zone: &TimeZone) -> bool {
    match (zoned(a, zone), zoned(b, zone)) {
        (Some(a), Some(b)) => a.date() == b.date(),
        _ => false,
    }
}

/// The time zones people choose from, by their IANA names ("Europe/London"),
/// sorted: the places of the bundled database, without its legacy aliases.
pub fn zone_names() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        const AREAS: [&str; 9] = [
            "Africa/",
            "America/",
            "Antarctica/",
            "Asia/",
            "Atlantic/",
            "Australia/",
            "Europe/",
            "Indian/",
            "Pacific/",
        ];
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|name| name.as_str().to_owned())
            .filter(|name| AREAS.iter().any(|area| name.starts_with(area)))
            .collect();
        names.push("UTC".to_owned());
        names.sort();
        names.dedup();
        names
    })
}

/// "18:00".
pub fn clock(at: Millis, zone: &TimeZone) -> String {
    zoned(at, zone)
        .map(|z| z.strftime("%H:%M").to_string())
        .unwrap_or_default()
}

/// The value of a date-time field: "2026-12-05T18:00".
pub fn input_value(at: Millis, zone: &TimeZone) -> String {
    zoned(at, zone)
        .map(|z| z.strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// A calendar day ("2026-12-08") as people read it: "Tuesday 8 December".
/// Anything that is not a real day comes back as it was.
pub fn day(iso: &str) -> String {
    iso.parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%A %-d %B").to_string())
        .unwrap_or_else(|_| iso.to_owned())
}

/// A calendar day the API writes as ISO ("2026-12-05") written for people
/// the way [`short_date`] writes a moment: "5 Dec 2026". Anything that is
/// not a real day comes back as it was.
pub fn date_label(iso: &str) -> String {
    iso.parse::<jiff::civil::Date>()
        .map(|d| d.strftime("%-d %b %Y").to_string())
        .unwrap_or_else(|_| iso.to_owned())
}

/// RFC 3339 in UTC, for the API.
pub fn rfc3339(at: Millis) -> String {
    Timestamp::from_millisecond(at)
        .map(|ts| ts.to_string())
        .unwrap_or_default()
}

/// The zone's name for people and calendars.
pub fn zone_name(zone: &TimeZone) -> &str {
    zone.iana_name().unwrap_or("UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_number_is_the_local_calendar_day() {
        let zone = |name: &str| time_zone("z", name).unwrap();
        // 23:30 on 5 December 2026 in New York is already the 6th in UTC
        let at = 1_796_531_400_000;
        assert_eq!(day_number(at, &TimeZone::UTC), 20_793);
        assert_eq!(day_number(at, &zone("America/New_York")), 20_792);
        assert_eq!(day_number(at, &zone("Pacific/Kiritimati")), 20_793);
        // midnight UTC on 1 January 1970 is day 0; the last second before, -1
        assert_eq!(day_number(0, &TimeZone::UTC), 0);
        assert_eq!(day_number(-1_000, &TimeZone::UTC), -1);
    }

    #[test]
    fn iso_days_read_like_every_other_date() {
        assert_eq!(date_label("2026-12-05"), "5 Dec 2026");
        // noon UTC on 5 December 2025
        assert_eq!(
            date_label("2025-12-05"),
            short_date(1_764_936_000_000, &TimeZone::UTC)
        );
        assert_eq!(date_label("2026-02-31"), "2026-02-31");
        assert_eq!(date_label(""), "");
    }

    #[test]
    fn days_read_as_words_and_bad_days_come_back_unchanged() {
        assert_eq!(day("2026-12-08"), "Tuesday 8 December");
        assert_eq!(day("2026-02-31"), "2026-02-31");
        assert_eq!(day("soon"), "soon");
    }

    fn berlin() -> TimeZone {
        time_zone("tz", "Europe/Berlin").unwrap()
    }

    #[test]
    fn wall_clock_times_are_read_in_the_zone() {
        // 18:00 in Berlin in December is 17:00 UTC.
        let at = parse_time("start", "2026-12-05T18:00", &berlin()).unwrap();
        assert_eq!(rfc3339(at), "2026-12-05T17:00:00Z");
        // In July (summer time) it is 16:00 UTC.
        let summer = parse_time("start", "2026-07-05T18:00", &berlin()).unwrap();
        assert_eq!(rfc3339(summer), "2026-07-05T16:00:00Z");
    }

    #[test]
    fn instants_with_an_offset_are_taken_as_they_are() {
        let at = parse_time("start", "2026-12-05T18:00:00+01:00", &TimeZone::UTC).unwrap();
        assert_eq!(rfc3339(at), "2026-12-05T17:00:00Z");
        let z = parse_time("start", "2026-12-05T17:00:00Z", &berlin()).unwrap();
        assert_eq!(at, z);
    }

    #[test]
    fn each_person_reads_the_time_in_their_zone() {
        let at = parse_time("start", "2026-12-05T18:00", &berlin()).unwrap();
        assert_eq!(long(at, &berlin()), "Saturday 5 December 2026, 18:00 CET");
        let new_york = time_zone("tz", "America/New_York").unwrap();
        assert_eq!(long(at, &new_york), "Saturday 5 December 2026, 12:00 EST");
        assert_eq!(input_value(at, &new_york), "2026-12-05T12:00");
        assert_eq!(clock(at, &berlin()), "18:00");
    }

    #[test]
    fn a_time_in_the_spring_gap_moves_forward() {
        // 02:30 does not exist in Berlin on 29 March 2026.
        let at = parse_time("start", "2026-03-29T02:30", &berlin()).unwrap();
        assert_eq!(clock(at, &berlin()), "03:30");
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        assert_eq!(parse_time("end", "", &berlin()).unwrap_err().field, "end");
        assert_eq!(
            parse_time("end", "next tuesday", &berlin())
                .unwrap_err()
                .field,
            "end"
        );
        assert!(
            time_zone("tz", "Mars/Olympus")
                .unwrap_err()
                .message
                .contains("Mars/Olympus")
        );
        assert!(time_zone("tz", "").is_err());
        assert_eq!(zone_name(&zone_or_utc(Some("Nowhere/Else"))), "UTC");
        assert_eq!(
            zone_name(&zone_or_utc(Some("Europe/Berlin"))),
            "Europe/Berlin"
        );
    }

    #[test]
    fn people_choose_from_real_places() {
        let names = zone_names();
        assert!(names.iter().any(|n| n == "Europe/London"));
        assert!(names.iter().any(|n| n == "America/Chicago"));
        assert!(names.iter().any(|n| n == "UTC"));
        assert!(
            !names
                .iter()
                .any(|n| n.starts_with("US/") || n.starts_with("Etc/"))
        );
        assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        for name in names {
            assert!(time_zone("time_zone", name).is_ok(), "{name} is accepted");
        }
    }

    #[test]
    fn the_next_morning_is_today_before_it_and_tomorrow_after() {
        let berlin = time_zone("tz", "Europe/Berlin").unwrap();
        let at = |s: &str| s.parse::<Timestamp>().unwrap().as_millisecond();
        // 05:30 in Berlin (UTC+1 in winter): seven o'clock the same day
        assert_eq!(
            next_at_hour(at("2026-12-05T04:30:00Z"), 7, &berlin),
            at("2026-12-05T06:00:00Z")
        );
        // 23:10 in Berlin: seven o'clock the next day
        assert_eq!(
            next_at_hour(at("2026-12-05T22:10:00Z"), 7, &berlin),
            at("2026-12-06T06:00:00Z")
        );
        // exactly seven: the next one, not now
        assert_eq!(
            next_at_hour(at("2026-12-05T06:00:00Z"), 7, &berlin),
            at("2026-12-06T06:00:00Z")
        );
        // across the spring change (29 March 2026: 02:00 becomes 03:00)
        assert_eq!(
            next_at_hour(at("2026-03-28T22:00:00Z"), 7, &berlin),
            at("2026-03-29T05:00:00Z")
        );
    }
}
