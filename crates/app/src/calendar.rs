//! A person's sessions as an iCalendar feed (RFC 5545), for the calendar app
//! they already use. Times carry the practice's time zone, described in a
//! VTIMEZONE built from the time zone database, so every client shows them
//! right in its own zone, across daylight-saving changes.

use ics::components::Property;
use ics::parameters::TzIDParam;
use ics::properties::{
    Description, DtEnd, DtStart, Location, Sequence, Status, Summary, TzName, URL,
};
use ics::{Daylight, Event, ICalendar, Standard, TimeZone as VTimeZone, escape_text};
use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};
use trellis_core::Millis;
use trellis_core::time::DAY;

/// One session as the feed shows it.
pub struct FeedEvent {
    pub id: String,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub summary: String,
    pub location: String,
    pub video_link: Option<String>,
    pub cancelled: bool,
    pub sequence: i64,
    pub updated_at: Millis,
}

fn utc_stamp(at: Millis) -> String {
    Timestamp::from_millisecond(at)
        .map(|ts| ts.strftime("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default()
}

fn local_stamp(at: Millis, zone: &TimeZone) -> String {
    Timestamp::from_millisecond(at)
        .map(|ts| {
            ts.to_zoned(zone.clone())
                .strftime("%Y%m%dT%H%M%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// "+0100", "-0430".
fn offset_text(offset: Offset) -> String {
    let seconds = offset.seconds();
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    format!("{sign}{:02}{:02}", minutes / 60, minutes % 60)
}

/// The zone's observances from `from` to `to`: the one in force at `from`,
/// then each transition, with the local time it starts at (in the offset
/// before it, as RFC 5545 asks).
fn vtimezone(zone: &TimeZone, tzid: &str, from: Millis, to: Millis) -> Option<VTimeZone<'static>> {
    let start = Timestamp::from_millisecond(from).ok()?;
    let end = Timestamp::from_millisecond(to).ok()?;
    let info = zone.to_offset_info(start);
    let first_offset = info.offset();
    let naive_start = first_offset
        .to_datetime(start)
        .strftime("%Y%m%dT%H%M%S")
        .to_string();
    let mut first = Standard::new(
        naive_start.clone(),
        offset_text(first_offset),
        offset_text(first_offset),
    );
    first.push(TzName::new(info.abbreviation().to_owned()));
    let mut vtz = if info.dst().is_dst() {
        let mut daylight = Daylight::new(
            naive_start,
            offset_text(first_offset),
            offset_text(first_offset),
        );
        daylight.push(TzName::new(info.abbreviation().to_owned()));
        VTimeZone::daylight(tzid.to_owned(), daylight)
    } else {
        VTimeZone::standard(tzid.to_owned(), first)
    };
    let mut previous = first_offset;
    for transition in zone.following(start) {
        if transition.timestamp() > end {
            break;
        }
        let local = previous
            .to_datetime(transition.timestamp())
            .strftime("%Y%m%dT%H%M%S")
            .to_string();
        let from_text = offset_text(previous);
        let to_text = offset_text(transition.offset());
        let name = TzName::new(transition.abbreviation().to_owned());
        if transition.dst().is_dst() {
            let mut daylight = Daylight::new(local, from_text, to_text);
            daylight.push(name);
            vtz.add_daylight(daylight);
        } else {
            let mut standard = Standard::new(local, from_text, to_text);
            standard.push(name);
            vtz.add_standard(standard);
        }
        previous = transition.offset();
    }
    Some(vtz)
}

/// The feed, as text. `zone` is the practice's; `now` stamps it.
pub fn feed(name: &str, events: &[FeedEvent], zone: &TimeZone, now: Millis) -> String {
    let mut calendar = ICalendar::new("2.0", "-//Trellis//Sessions//EN");
    calendar.push(Property::new("CALSCALE", "GREGORIAN"));
    calendar.push(Property::new("X-WR-CALNAME", escape_text(name.to_owned())));
    let tzid = zone.iana_name().filter(|n| *n != "UTC").map(str::to_owned);
    if let Some(tzid) = &tzid {
        let from = events.iter().map(|e| e.starts_at).min().unwrap_or(now) - 366 * DAY;
        let to = events.iter().map(|e| e.ends_at).max().unwrap_or(now) + 366 * DAY;
        if let Some(vtz) = vtimezone(zone, tzid, from, to) {
            calendar.add_timezone(vtz);
        }
    }
    for event in events {
        let mut vevent = Event::new(format!("{}@trellis", event.id), utc_stamp(event.updated_at));
        match &tzid {
            Some(tzid) => {
                let mut start = DtStart::new(local_stamp(event.starts_at, zone));
                start.add(TzIDParam::new(tzid.clone()));
                let mut end = DtEnd::new(local_stamp(event.ends_at, zone));
                end.add(TzIDParam::new(tzid.clone()));
                vevent.push(start);
                vevent.push(end);
            }
            None => {
                vevent.push(DtStart::new(utc_stamp(event.starts_at)));
                vevent.push(DtEnd::new(utc_stamp(event.ends_at)));
            }
        }
        vevent.push(Summary::new(escape_text(event.summary.clone())));
        if !event.location.is_empty() {
            vevent.push(Location::new(escape_text(event.location.clone())));
        }
        if let Some(link) = &event.video_link {
            vevent.push(URL::new(link.clone()));
        }
        vevent.push(Description::new(escape_text(
            "Details and anything to prepare are in Trellis.".to_owned(),
        )));
        vevent.push(Sequence::new(event.sequence.to_string()));
        vevent.push(Status::new(if event.cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        }));
        calendar.add_event(vevent);
    }
    calendar.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_written_as_rfc_5545_wants() {
        assert_eq!(offset_text(Offset::constant(1)), "+0100");
        assert_eq!(offset_text(Offset::constant(-5)), "-0500");
        assert_eq!(
            offset_text(Offset::from_seconds(-(4 * 3600 + 1800)).unwrap()),
            "-0430"
        );
        assert_eq!(offset_text(Offset::UTC), "+0000");
    }

    #[test]
    fn a_berlin_feed_describes_both_daylight_changes() {
        let zone = TimeZone::get("Europe/Berlin").unwrap();
        let start = crate::when::parse_time("s", "2026-12-05T18:00", &zone).unwrap();
        let event = FeedEvent {
            id: "a1".into(),
            starts_at: start,
            ends_at: start + 3_600_000,
            summary: "Session; with Dr. N, in room 2".into(),
            location: "14 Elm Street".into(),
            video_link: None,
            cancelled: false,
            sequence: 2,
            updated_at: start - DAY,
        };
        let text = feed("Trellis", &[event], &zone, start);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.contains("DTSTART;TZID=Europe/Berlin:20261205T180000"));
        assert!(text.contains("BEGIN:DAYLIGHT"));
        assert!(text.contains("TZOFFSETFROM:+0100"));
        assert!(text.contains("TZOFFSETTO:+0200"));
        assert!(text.contains("SUMMARY:Session\\; with Dr. N\\, in room 2"));
        assert!(text.contains("SEQUENCE:2"));
    }

    #[test]
    fn a_utc_practice_writes_utc_times_without_a_zone() {
        let event = FeedEvent {
            id: "a1".into(),
            starts_at: 1_796_493_600_000,
            ends_at: 1_796_497_200_000,
            summary: "Session".into(),
            location: String::new(),
            video_link: Some("https://meet.example/x".into()),
            cancelled: true,
            sequence: 0,
            updated_at: 1_796_493_600_000,
        };
        let text = feed("Trellis", &[event], &TimeZone::UTC, 0);
        assert!(!text.contains("VTIMEZONE"));
        assert!(text.contains("DTSTART:20261205T"));
        assert!(text.contains("STATUS:CANCELLED"));
        assert!(text.contains("URL:https://meet.example/x"));
    }
}
