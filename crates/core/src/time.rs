//! Time as integer epoch milliseconds: portable across SQLite and PostgreSQL
//! and trivially comparable. The clock itself lives at the edges.

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// The UTC calendar date of a moment, as `YYYY-MM-DD`.
/// (Howard Hinnant's days-to-civil algorithm; valid for all i64 millis.)
pub fn utc_date(at: Millis) -> String {
    let days = at.div_euclid(DAY);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_calendar_days() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(DAY - 1), "1970-01-01");
        assert_eq!(utc_date(-1), "1969-12-31");
        assert_eq!(utc_date(951_782_400_000), "2000-02-29");
        assert_eq!(utc_date(1_795_737_600_000), "2026-11-27");
        assert_eq!(utc_date(1_709_164_800_000), "2024-02-29");
    }
}

/// Where "now" comes from. Every service asks the clock in its context,
/// never the system directly, so the demo can write weeks of history as it
/// happened and tests can move time forward without sleeping.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// The machine's clock: production.
    #[default]
    System,
    /// A clock that stands still until it is set or advanced.
    Manual(std::sync::Arc<std::sync::atomic::AtomicI64>),
}

impl Clock {
    /// A clock standing at `at`.
    pub fn manual(at: Millis) -> Self {
        Clock::Manual(std::sync::Arc::new(std::sync::atomic::AtomicI64::new(at)))
    }

    /// The current time in milliseconds since the Unix epoch.
    pub fn now(&self) -> Millis {
        match self {
            Clock::System => system_now(),
            Clock::Manual(at) => at.load(std::sync::atomic::Ordering::SeqCst),
        }
    }

    /// Moves a manual clock to `at` (the system clock cannot be moved:
    /// returns false).
    pub fn set(&self, at: Millis) -> bool {
        match self {
            Clock::System => false,
            Clock::Manual(now) => {
                now.store(at, std::sync::atomic::Ordering::SeqCst);
                true
            }
        }
    }

    /// Moves a manual clock forward by `by` (false for the system clock).
    pub fn advance(&self, by: Millis) -> bool {
        match self {
            Clock::System => false,
            Clock::Manual(now) => {
                now.fetch_add(by, std::sync::atomic::Ordering::SeqCst);
                true
            }
        }
    }
}

/// The machine's clock in milliseconds since the Unix epoch (0 before 1970,
/// saturating far in the future).
pub fn system_now() -> Millis {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_clones_share_it() {
        let clock = Clock::manual(1_000);
        let other = clock.clone();
        assert_eq!(clock.now(), 1_000);
        assert!(clock.advance(DAY));
        assert_eq!(other.now(), 1_000 + DAY);
        assert!(other.set(5));
        assert_eq!(clock.now(), 5);
    }

    #[test]
    fn the_system_clock_cannot_be_moved() {
        let clock = Clock::System;
        let before = clock.now();
        assert!(!clock.set(0));
        assert!(!clock.advance(-DAY));
        assert!(clock.now() >= before);
        assert!(before > 1_700_000_000_000, "after November 2023");
    }
}
