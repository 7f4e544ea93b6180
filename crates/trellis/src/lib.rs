//! The Trellis binary's library: command line, configuration, the server's
//! start-up, and the demo practice.

pub mod cli;
pub mod config;
pub mod demo;
pub mod server;
