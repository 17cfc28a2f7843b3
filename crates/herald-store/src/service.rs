//! The service's own bookkeeping: one row per job of `herald serve` (the planner,
//! the dispatcher, the heartbeat), written as each run starts and ends. It is what
//! lets `herald status` and `/readyz` tell a running service from one that stopped,
//! and a job that keeps failing from one that succeeds.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// A job's record, as `herald status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceJob {
    pub job: String,
    /// The longest a healthy service leaves between two runs of it.
    pub every: SignedDuration,
    pub last_started: Option<Timestamp>,
    pub last_finished: Option<Timestamp>,
    pub last_ok: Option<Timestamp>,
    /// Why the last run failed, when it did (cleared by the next success).
    pub last_error: Option<String>,
    pub runs: i64,
    pub failures: i64,
    /// The node that runs it: "herald-PID@HOST".
    pub holder: String,
}

impl ServiceJob {
    /// Whether the job is overdue at `now`: no success for longer than twice its
    /// interval, with a minute's grace (a planning run that takes a while is not
    /// a stopped service). `None`: fresh; `Some(reason)` otherwise.
    pub fn overdue(&self, now: Timestamp) -> Option<String> {
        let allowed = self
            .every
            .checked_mul(2)
            .and_then(|d| d.checked_add(SignedDuration::from_mins(1)))
            .unwrap_or(SignedDuration::MAX);
        let since = self.last_ok.or(self.last_started)?;
        let late = now.duration_since(since);
        (late > allowed).then(|| {
            format!(
                "{} has not {} for {} min (it runs every {} s){}",
                self.job,
                if self.last_ok.is_some() {
                    "succeeded"
                } else {
                    "run"
                },
                late.as_secs() / 60,
                self.every.as_secs(),
                self.last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            )
        })
    }
}
