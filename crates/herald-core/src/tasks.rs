//! Tasks (seed 001): a deadline, a meeting, a visit, once or again and again, and
//! the moments they start.
//!
//! A task's start is a local date and time in its own time zone: a meeting at
//! 10:00 in Warsaw is at 10:00 in summer and in winter. A recurring task has one
//! occurrence per repetition, each reminded once; an occurrence is named by its
//! local start (`2026-11-23T10:00`), which is part of its reminders' dedupe keys.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::records::TimeZoneName;
use crate::schedule::{Cron, Schedule};
use crate::values::{CustomerId, OperatorId, TaskId};

/// How a task repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recurrence {
    Once,
    /// The same local time every day, week or month from the first start (a
    /// monthly task on the 31st falls on the last day of shorter months).
    Daily,
    Weekly,
    Monthly,
    /// A cron expression, read in the task's time zone; the first start is the
    /// first occurrence at or after `starts_at`.
    Cron(Cron),
}

impl Recurrence {
    /// Empty, `daily`, `weekly`, `monthly`, or a five-field cron expression.
    pub fn parse(s: &str) -> Result<Recurrence, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "once" | "none" => Ok(Recurrence::Once),
            "daily" => Ok(Recurrence::Daily),
            "weekly" => Ok(Recurrence::Weekly),
            "monthly" => Ok(Recurrence::Monthly),
            other => match Schedule::parse(other) {
                Ok(Schedule::Cron(c)) => Ok(Recurrence::Cron(c)),
                _ => Err(format!(
                    "'{}' is not a recurrence: leave it empty for a one-off task, or write daily, weekly, monthly or a cron expression such as \"0 9 * * mon\"",
                    s.trim()
                )),
            },
        }
    }
}

/// A task as the business system hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub title: String,
    pub customer_id: CustomerId,
    /// Who does it: the operator reminded, and in whose name reminders go.
    pub operator_id: Option<OperatorId>,
    /// Local, in `time_zone`.
    pub starts_at: DateTime,
    /// `None`: the customer's zone, else the tenant's.
    pub time_zone: Option<TimeZoneName>,
    pub recurrence: Recurrence,
    /// The raw recurrence as imported, kept for the store and for display.
    pub recurrence_text: String,
    /// A template to use instead of the rule's.
    pub template: Option<String>,
}

/// One start of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// The local start, which names the occurrence.
    pub local: DateTime,
    pub at: Timestamp,
}

impl Occurrence {
    /// `2026-11-23T10:00`: part of the dedupe key of the occurrence's reminders.
    pub fn key(&self) -> String {
        self.local.strftime("%Y-%m-%dT%H:%M").to_string()
    }
}

impl Task {
    /// The occurrences that start in `(after, until]`, in order, at most `limit`
    /// (a guard against a cron expression firing every minute for years).
    pub fn occurrences(
        &self,
        tz: &TimeZone,
        after: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> Vec<Occurrence> {
        let at = |local: DateTime| -> Option<Occurrence> {
            // A start that daylight saving skips is at the end of the gap; one it
            // repeats, at the first of the two.
            local.to_zoned(tz.clone()).ok().map(|z| Occurrence {
                local,
                at: z.timestamp(),
            })
        };
        let first = self.starts_at;
        let mut out: Vec<Occurrence> = Vec::new();
        let push = |out: &mut Vec<Occurrence>, o: Occurrence| {
            if o.at > after && o.at <= until {
                out.push(o);
            }
        };
        match &self.recurrence {
            Recurrence::Once => {
                if let Some(o) = at(first) {
                    push(&mut out, o);
                }
            }
            Recurrence::Daily | Recurrence::Weekly | Recurrence::Monthly => {
                // Jump near `after` instead of walking from a start years ago: a
                // day's local time is at most a day off the instant.
                let step_days = match self.recurrence {
                    Recurrence::Daily => 1,
                    Recurrence::Weekly => 7,
                    _ => 0,
                };
                let mut n: i64 = 0;
                if step_days > 0
                    && let Ok(first_at) = first.to_zoned(tz.clone())
                {
                    let behind =
                        (after.as_second() - first_at.timestamp().as_second()) / 86_400 / step_days;
                    n = (behind - 1).max(0);
                }
                if self.recurrence == Recurrence::Monthly
                    && let Ok(first_at) = first.to_zoned(tz.clone())
                {
                    let behind =
                        (after.as_second() - first_at.timestamp().as_second()) / (31 * 86_400);
                    n = (behind - 1).max(0);
                }
                loop {
                    let local = match self.recurrence {
                        Recurrence::Monthly => first.checked_add(n.months()),
                        _ => first.checked_add((n * step_days).days()),
                    };
                    let Ok(local) = local else { break };
                    let Some(o) = at(local) else { break };
                    if o.at > until || out.len() >= limit {
                        break;
                    }
                    push(&mut out, o);
                    n += 1;
                }
            }
            Recurrence::Cron(c) => {
                let schedule = Schedule::Cron(c.clone());
                let Some(first_at) = at(first) else {
                    return out;
                };
                // The first occurrence is at or after the first start.
                let from = after.max(
                    first_at
                        .at
                        .checked_sub(jiff::SignedDuration::from_nanos(1))
                        .unwrap_or(first_at.at),
                );
                for t in schedule.firings(from, until, tz, limit) {
                    let local = t.to_zoned(tz.clone()).datetime();
                    push(&mut out, Occurrence { local, at: t });
                }
            }
        }
        out.truncate(limit);
        out
    }
}
