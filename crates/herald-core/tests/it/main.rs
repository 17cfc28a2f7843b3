//! herald-core's integration tests: one binary, one module per subject.

mod calendar;
mod digest;
mod events;
mod planner_cases;
mod planner_props;
mod schedule;
mod support;
mod tasks;
