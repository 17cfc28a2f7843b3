//! herald-store's integration tests: one binary, a fresh SQLite file per test.

mod bench;
mod console;
mod fixtures;
mod open;
mod outbox;
mod pg;
mod pg_schema;
mod pg_statements;
mod planning;
mod records;
mod service;
