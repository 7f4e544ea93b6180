//! What Trellis does, independent of whether a page or the API asked.
//! Handlers parse requests and render results; the rules and the order of
//! steps live here, once.

pub mod accountability;
pub mod accounts;
pub mod appointments;
pub mod audit;
pub mod caseload;
pub mod compromise;
pub mod couples;
pub mod help;
pub mod intake;
pub mod measures;
pub mod messages;
pub mod notes;
pub mod notices;
pub mod onboarding;
pub mod outbox;
pub mod practice;
pub mod program;
pub mod review;
pub mod rights;
pub mod safety;
pub mod situation;
pub mod talks;
pub mod throttle;
pub mod timeouts;
pub mod today;
pub mod two_factor;
pub mod writing;
