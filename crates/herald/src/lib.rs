//! herald, the binary's library: configuration, the CLI, the plan and send jobs,
//! and the demo. `main.rs` only starts the runtime; integration tests drive the
//! same code through the built binary.

pub mod app;
pub mod auth;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod demo;
pub mod demo_data;
pub mod documents;
pub mod import;
pub mod jobs;
pub mod metrics;
pub mod service;
pub mod settings;
pub mod users;
