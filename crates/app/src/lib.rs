//! What Trellis does, free of HTTP. The services hold the rules and the
//! order of steps of every feature, once; the web crate's pages and API are
//! thin adapters over them, and the binary's demo and CLI call them too.
//!
//! A service takes the [`AppState`] (the store, the vault, mail, push, the
//! content and the [`Clock`](trellis_core::time::Clock)) and answers with
//! [`AppResult`]: an [`Error`] that says what went wrong in the domain's
//! terms. The web crate maps it to HTTP in one place.
//!
//! The map, by domain (the same names as in `trellis-core` and
//! `trellis-store`): `services::program` (the program and its exercises),
//! `measures`, `accountability` (promises, agreements, appreciation),
//! `talks` and `compromise`, `messages`, `writing` (entries and who reads
//! them), `safety` and `onboarding`, `couples`, `practice`, `intake`,
//! `appointments`, `caseload`, `notes`, `rights` (export, erasure),
//! `accounts` and `two_factor`, `notices` (mail and push), `outbox`.

pub mod calendar;
pub mod content;
pub mod error;
pub mod mail;
pub mod passwords;
pub mod push;
pub mod services;
pub mod sessions;
pub mod state;
pub mod streams;
pub mod vault;
pub mod when;

pub use error::{AppResult, Error};
pub use mail::Mailer;
pub use state::{AppState, WebConfig};
