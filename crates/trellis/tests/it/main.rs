//! One integration binary (one link step): the real server, a real database,
//! real HTTP; and browser journeys in real Chromium when it is installed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;
mod helpers;

mod accountability;
mod accounts;
mod browser;
mod caseload;
mod cli;
mod coach;
mod couples;
mod hardening;
mod helplines;
mod install;
mod intake;
mod loadgen;
mod markup;
mod matrix;
mod measures;
mod observe;
mod operations;
mod outbox;
mod practice;
mod privacy;
mod program;
mod push;
mod quick_exit;
mod regressions;
mod reliability;
mod rights;
mod safety;
mod sealing;
mod security;
mod sharing;
mod situation;
mod talks;
mod today;
mod two_factor;
