//! How hard repeated failed sign-ins are slowed down. A few mistakes cost
//! nothing; a guessing run soon waits minutes per try.

use crate::time::{MINUTE, Millis};

/// Failures are counted within this window.
pub const WINDOW: Millis = 15 * MINUTE;
/// The longest lock.
pub const MAX_LOCK: Millis = 15 * MINUTE;
/// Failures allowed for one account before it is locked for a while.
pub const ACCOUNT_FREE_FAILURES: i64 = 5;
/// Failures allowed from one address (many accounts) before it is locked.
pub const ADDRESS_FREE_FAILURES: i64 = 20;

/// How long to lock after `failures` failures when `free` are allowed:
/// one minute at the first failure past the allowance, doubling each time,
/// at most [`MAX_LOCK`].
pub fn lock_after(failures: i64, free: i64) -> Millis {
    if failures < free {
        return 0;
    }
    let doublings = u32::try_from((failures - free).min(10)).unwrap_or(10);
    (MINUTE << doublings).min(MAX_LOCK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_mistakes_cost_nothing() {
        for failures in 0..ACCOUNT_FREE_FAILURES {
            assert_eq!(lock_after(failures, ACCOUNT_FREE_FAILURES), 0);
        }
    }

    #[test]
    fn locks_double_up_to_the_maximum() {
        let free = ACCOUNT_FREE_FAILURES;
        assert_eq!(lock_after(free, free), MINUTE);
        assert_eq!(lock_after(free + 1, free), 2 * MINUTE);
        assert_eq!(lock_after(free + 2, free), 4 * MINUTE);
        assert_eq!(lock_after(free + 3, free), 8 * MINUTE);
        assert_eq!(lock_after(free + 4, free), MAX_LOCK);
        assert_eq!(lock_after(i64::MAX, free), MAX_LOCK);
    }
}
