//! The Trellis binary's library: command line, configuration, the server's
//! start-up, the demo practice, and the load generator.

pub mod cli;
pub mod config;
pub mod demo;
pub mod loadgen;
pub mod server;
