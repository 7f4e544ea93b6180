//! The domain of Trellis: who is who, what input is acceptable, and the rules
//! that decide what happens. Nothing here touches the network, the disk or a
//! clock: callers pass the time in, so every rule is a plain, testable function.

pub mod access;
pub mod account;
pub mod consistency;
pub mod helplines;
pub mod ids;
pub mod intake;
pub mod invitation;
pub mod linking;
pub mod measures;
pub mod privacy;
pub mod program;
pub mod reflect_back;
pub mod role;
pub mod safety;
pub mod schedule;
pub mod screening;
pub mod selfcheck;
pub mod situation;
pub mod talk;
pub mod throttle;
pub mod time;
pub mod writing;

pub use account::{DisplayName, EmailAddress, NewPassword, PracticeName, ValidationError};
pub use ids::{CoupleId, PracticeId, UserId};
pub use invitation::{InvitationKind, InvitationStatus};
pub use privacy::Audience;
pub use role::Role;
pub use time::Millis;
pub use writing::EntryKind;
