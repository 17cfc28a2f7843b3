//! The wall clock, read here and nowhere else (clippy.toml forbids it elsewhere),
//! and `--now` parsing for time travel.

use herald_core::Clock;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that read `start` when the process began and runs at the real rate
/// from there: `herald serve --now` replays a service on another day (a demo, a
/// test of catching up after a stop) with its timers working as they would.
pub struct ShiftedClock {
    start: Timestamp,
    began: std::time::Instant,
}

impl ShiftedClock {
    pub fn starting_at(start: Timestamp) -> ShiftedClock {
        ShiftedClock {
            start,
            began: std::time::Instant::now(),
        }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        let run = jiff::SignedDuration::try_from(self.began.elapsed())
            .unwrap_or(jiff::SignedDuration::ZERO);
        self.start.checked_add(run).unwrap_or(self.start)
    }
}

/// Parses `--now`: an RFC 3339 instant (`2026-11-22T09:30:00+01:00`), or a date
/// (`2026-11-22`) meaning the last second of that day in the tenant's time zone:
/// "run as if that day is over", so everything due that day is due.
pub fn parse_now(s: &str, tz: &TimeZone) -> Result<Timestamp, String> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = s.parse::<Date>() {
        return d
            .at(23, 59, 59, 0)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| format!("'{s}': {e}"));
    }
    Err(format!(
        "'{s}' is not a time: give an RFC 3339 instant like 2026-11-22T09:30:00+01:00, or a date like 2026-11-22 (the end of that day)"
    ))
}

/// `--now` when given, the wall clock otherwise.
pub fn now_or(given: Option<&str>, tz: &TimeZone) -> Result<Timestamp, String> {
    match given {
        Some(s) => parse_now(s, tz),
        None => Ok(SystemClock.now()),
    }
}
