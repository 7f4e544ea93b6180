//! Consistency made visible, without streaks that break: how often a promise
//! was kept when it was due, and how often the partner noticed, over a
//! rolling window. Days are calendar days (days since 1970-01-01 in the
//! couple's own calendar), so time zones and daylight saving cannot move an
//! occurrence: a promise for Tuesday is for Tuesday.

use serde::{Deserialize, Serialize};

/// A calendar day: days since 1970-01-01.
pub type Day = i64;

/// The default rolling window: four weeks.
pub const WINDOW_DAYS: i64 = 28;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cadence", rename_all = "snake_case")]
pub enum Cadence {
    /// Once, by this day.
    Once {
        due: Day,
    },
    Daily,
    /// On these weekdays (0 = Monday … 6 = Sunday).
    Weekly {
        days: Vec<u8>,
    },
}

/// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(day: Day) -> u8 {
    u8::try_from((day + 3).rem_euclid(7)).unwrap_or(0)
}

/// Reads the cadence fields of a form or request: `once` with a due day,
/// `daily`, or `weekly` with weekdays (names or 0 = Monday … 6). Errors
/// name the field and say, kindly, what to give instead.
pub fn parse_cadence(
    kind: &str,
    days: &[String],
    due: Option<&str>,
) -> Result<Cadence, crate::ValidationError> {
    use crate::ValidationError;
    match kind {
        "once" => {
            let due = due.and_then(parse_day).ok_or_else(|| {
                ValidationError::new(
                    "due",
                    "For a one-time promise, please give the date as YYYY-MM-DD.",
                )
            })?;
            Ok(Cadence::Once { due })
        }
        "daily" => Ok(Cadence::Daily),
        "weekly" => {
            const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
            let mut chosen: Vec<u8> = Vec::new();
            for day in days {
                let lower = day.trim().to_lowercase();
                let index = NAMES
                    .iter()
                    .position(|n| lower.starts_with(n))
                    .or_else(|| lower.parse::<usize>().ok().filter(|n| *n < 7))
                    .and_then(|i| u8::try_from(i).ok())
                    .ok_or_else(|| {
                        ValidationError::new("days", format!("\"{day}\" is not a weekday."))
                    })?;
                if !chosen.contains(&index) {
                    chosen.push(index);
                }
            }
            if chosen.is_empty() {
                return Err(ValidationError::new(
                    "days",
                    "Please choose at least one day of the week.",
                ));
            }
            chosen.sort_unstable();
            Ok(Cadence::Weekly { days: chosen })
        }
        _ => Err(ValidationError::new(
            "cadence",
            "Please choose once, daily or weekly.",
        )),
    }
}

/// `YYYY-MM-DD` to a day, if it is a real date.
pub fn parse_day(text: &str) -> Option<Day> {
    let mut parts = text.trim().splitn(3, '-');
    let (y, m, d) = (
        parts.next()?.parse::<i64>().ok()?,
        parts.next()?.parse::<i64>().ok()?,
        parts.next()?.parse::<i64>().ok()?,
    );
    if !(1..=12).contains(&m) || d < 1 || text.trim().len() != 10 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > month_days[usize::try_from(m - 1).ok()?] {
        return None;
    }
    // Howard Hinnant's days-from-civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The days in `from..=to` on which the promise was due. `paused` holds
/// ranges (inclusive) when it was paused; `start` is when it began.
pub fn occurrences(
    cadence: &Cadence,
    start: Day,
    from: Day,
    to: Day,
    paused: &[(Day, Day)],
) -> Vec<Day> {
    let from = from.max(start);
    if to < from {
        return Vec::new();
    }
    let active = |day: Day| !paused.iter().any(|(a, b)| (*a..=*b).contains(&day));
    match cadence {
        Cadence::Once { due } => ((from..=to).contains(due) && active(*due))
            .then_some(*due)
            .into_iter()
            .collect(),
        Cadence::Daily => (from..=to).filter(|d| active(*d)).collect(),
        Cadence::Weekly { days } => (from..=to)
            .filter(|d| days.contains(&weekday(*d)) && active(*d))
            .collect(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub due: usize,
    pub kept: usize,
    pub noticed: usize,
    /// Kept ÷ due; `None` when nothing was due yet (not zero: nothing was missed).
    pub follow_through_rate: Option<f64>,
    /// Noticed ÷ kept; `None` when nothing was kept yet.
    pub noticed_rate: Option<f64>,
}

/// Rates over the due days; marks on days that were not due do not count.
pub fn rates(due_days: &[Day], kept: &[Day], noticed: &[Day]) -> Rates {
    let kept_due: Vec<Day> = due_days
        .iter()
        .copied()
        .filter(|d| kept.contains(d))
        .collect();
    let noticed_count = kept_due.iter().filter(|d| noticed.contains(d)).count();
    let ratio = |a: usize, b: usize| (b > 0).then(|| a as f64 / b as f64);
    Rates {
        due: due_days.len(),
        kept: kept_due.len(),
        noticed: noticed_count,
        follow_through_rate: ratio(kept_due.len(), due_days.len()),
        noticed_rate: ratio(noticed_count, kept_due.len()),
    }
}

/// Totals over several promises.
pub fn combine(all: &[Rates]) -> Rates {
    let due = all.iter().map(|r| r.due).sum();
    let kept = all.iter().map(|r| r.kept).sum();
    let noticed = all.iter().map(|r| r.noticed).sum();
    Rates {
        due,
        kept,
        noticed,
        follow_through_rate: (due > 0).then(|| kept as f64 / due as f64),
        noticed_rate: (kept > 0).then(|| noticed as f64 / kept as f64),
    }
}

/// Milestone: at least 80 % of at least four due occurrences kept over the window.
pub fn steady_follow_through(rates: &Rates) -> bool {
    rates.due >= 4 && rates.follow_through_rate.is_some_and(|r| r >= 0.8)
}

/// Milestone: a first month of appreciations — the first was written at least
/// four weeks ago, and there have been at least four since.
pub fn month_of_appreciations(
    first_written: Option<crate::time::Millis>,
    count: usize,
    now: crate::time::Millis,
) -> bool {
    first_written.is_some_and(|first| now - first >= WINDOW_DAYS * crate::time::DAY) && count >= 4
}

/// A sharp drop in follow-through, for the therapist: from at least 60 %
/// over the previous four weeks to at least 30 points lower now.
pub fn sharp_drop(previous: Option<f64>, current: Option<f64>) -> bool {
    matches!((previous, current), (Some(before), Some(now)) if before >= 0.6 && before - now >= 0.3)
}

/// Gentle words for a rate, never shaming.
pub fn describe(rate: Option<f64>) -> &'static str {
    match rate {
        None => "nothing due yet",
        Some(r) if r >= 0.8 => "very steady",
        Some(r) if r >= 0.5 => "growing steadier",
        Some(_) => "a start: small steps count",
    }
}

/// A promise's words, checked for being small and concrete: a gentle hint
/// when it sounds vague.
pub fn vagueness_hint(text: &str) -> Option<&'static str> {
    let lower = text.to_lowercase();
    let vague = [
        "be better",
        "try harder",
        "be nicer",
        "more present",
        "change",
        "improve",
        "always",
        "never again",
        "be more",
    ];
    let words = lower.split_whitespace().count();
    if words < 3 || vague.iter().any(|v| lower.contains(v)) {
        Some(
            "Small and concrete works best: what exactly will you do, and when? For example: \"I'll text you when I leave work.\"",
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_parse_and_know_their_weekday() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        assert_eq!(weekday(0), 3, "a Thursday");
        let day = parse_day("2026-11-27").unwrap();
        assert_eq!(weekday(day), 4, "a Friday");
        assert_eq!(parse_day("2024-02-29").map(weekday), Some(3));
        assert_eq!(parse_day("2025-02-29"), None);
        assert_eq!(parse_day("2026-13-01"), None);
        assert_eq!(parse_day("26-1-1"), None);
        // Across a daylight-saving change the calendar does not skip a day.
        assert_eq!(
            parse_day("2026-03-30").unwrap() - parse_day("2026-03-28").unwrap(),
            2
        );
        assert_eq!(parse_day("1969-12-31"), Some(-1));
        assert_eq!(weekday(-1), 2);
    }

    #[test]
    fn occurrences_follow_the_cadence_and_skip_pauses() {
        let monday = parse_day("2026-11-23").unwrap();
        let weekly = Cadence::Weekly { days: vec![0, 3] };
        let due = occurrences(&weekly, monday, monday, monday + 13, &[]);
        assert_eq!(due, vec![monday, monday + 3, monday + 7, monday + 10]);
        assert_eq!(
            occurrences(&Cadence::Daily, monday + 2, monday, monday + 4, &[]),
            vec![monday + 2, monday + 3, monday + 4]
        );
        let paused = occurrences(
            &Cadence::Daily,
            monday,
            monday,
            monday + 4,
            &[(monday + 1, monday + 2)],
        );
        assert_eq!(paused, vec![monday, monday + 3, monday + 4]);
        assert_eq!(
            occurrences(
                &Cadence::Once { due: monday + 5 },
                monday,
                monday,
                monday + 4,
                &[]
            ),
            Vec::<Day>::new()
        );
        assert_eq!(
            occurrences(
                &Cadence::Once { due: monday + 5 },
                monday,
                monday,
                monday + 9,
                &[]
            ),
            vec![monday + 5]
        );
        assert!(
            occurrences(&Cadence::Daily, monday + 10, monday, monday + 4, &[]).is_empty(),
            "not started yet"
        );
    }

    #[test]
    fn rates_count_only_due_days_and_nothing_due_is_not_a_failure() {
        let none = rates(&[], &[], &[]);
        assert_eq!((none.follow_through_rate, none.noticed_rate), (None, None));
        assert_eq!(describe(none.follow_through_rate), "nothing due yet");
        let r = rates(&[1, 2, 3, 4], &[1, 2, 3, 9], &[2, 9]);
        assert_eq!((r.due, r.kept, r.noticed), (4, 3, 1));
        assert_eq!(r.follow_through_rate, Some(0.75));
        assert!((r.noticed_rate.unwrap() - 1.0 / 3.0).abs() < 1e-9);
        let all = combine(&[r, rates(&[5], &[5], &[5])]);
        assert_eq!(all.follow_through_rate, Some(0.8));
        assert_eq!(describe(all.follow_through_rate), "very steady");
    }

    #[test]
    fn milestones_need_enough_to_celebrate() {
        assert!(
            !steady_follow_through(&rates(&[1, 2, 3], &[1, 2, 3], &[])),
            "three is too few"
        );
        assert!(steady_follow_through(&rates(
            &[1, 2, 3, 4, 5],
            &[1, 2, 3, 4],
            &[]
        )));
        assert!(!steady_follow_through(&rates(
            &[1, 2, 3, 4, 5],
            &[1, 2, 3],
            &[]
        )));
        // A renegotiated promise starts again: the old version's days are its own.
        let old = rates(
            &occurrences(&Cadence::Daily, 0, 0, 9, &[]),
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            &[],
        );
        let new = rates(
            &occurrences(&Cadence::Daily, 10, 0, 12, &[]),
            &[10, 11, 12],
            &[],
        );
        assert_eq!((old.due, new.due), (10, 3));
        assert!(steady_follow_through(&combine(&[old, new])));
        let day = crate::time::DAY;
        assert!(month_of_appreciations(Some(0), 4, 28 * day));
        assert!(!month_of_appreciations(Some(0), 3, 40 * day));
        assert!(!month_of_appreciations(Some(10 * day), 9, 28 * day));
        assert!(!month_of_appreciations(None, 0, 28 * day));
    }

    #[test]
    fn only_a_sharp_drop_from_a_steady_start_alerts() {
        assert!(sharp_drop(Some(0.9), Some(0.5)));
        assert!(!sharp_drop(Some(0.9), Some(0.7)), "a dip is not a drop");
        assert!(!sharp_drop(Some(0.5), Some(0.1)), "not steady before");
        assert!(!sharp_drop(None, Some(0.1)));
        assert!(
            !sharp_drop(Some(0.9), None),
            "nothing due now is not a drop"
        );
    }

    #[test]
    fn vague_promises_get_a_gentle_hint() {
        assert!(vagueness_hint("I will be better").is_some());
        assert!(vagueness_hint("Try harder").is_some());
        assert!(vagueness_hint("I'll text you when I leave work").is_none());
    }

    #[test]
    fn cadences_are_read_from_form_fields() {
        let days = |d: &[&str]| d.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(parse_cadence("daily", &[], None), Ok(Cadence::Daily));
        assert_eq!(
            parse_cadence("weekly", &days(&["Friday", "mon", "0"]), None),
            Ok(Cadence::Weekly { days: vec![0, 4] })
        );
        assert_eq!(
            parse_cadence("once", &[], Some("2026-12-24")),
            Ok(Cadence::Once {
                due: parse_day("2026-12-24").unwrap()
            })
        );
        let field = |r: Result<Cadence, crate::ValidationError>| r.unwrap_err().field;
        assert_eq!(field(parse_cadence("once", &[], Some("2026-02-31"))), "due");
        assert_eq!(field(parse_cadence("once", &[], None)), "due");
        assert_eq!(field(parse_cadence("weekly", &[], None)), "days");
        assert_eq!(
            field(parse_cadence("weekly", &days(&["someday"]), None)),
            "days"
        );
        assert_eq!(field(parse_cadence("weekly", &days(&["7"]), None)), "days");
        assert_eq!(field(parse_cadence("hourly", &[], None)), "cadence");
    }
}
