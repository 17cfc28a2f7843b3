//! The one source of "now". Everything that evaluates time takes a `Clock`, so
//! tests and `--now` time travel see exactly the instant they ask for.

use jiff::Timestamp;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// A clock that always says the same instant: tests, `--now`, and the demo's
/// simulated days.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}
