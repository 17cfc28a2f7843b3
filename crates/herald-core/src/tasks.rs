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

use crate::planner::{
    CustomerBook, NoticeKind, PlanSettings, PlannedDelivery, PlannedNotification, Verdict, Window,
    operator_delivery, reachable,
};
use crate::records::{Operator, TimeZoneName};
use crate::rules::{TaskAudience, TaskRule};
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

/// How far back a planning run looks for task reminders it has not seen: a first
/// run, or one after a long stop, does not fill the history with years of "too
/// late" reminders of a daily task.
pub const LOOKBACK: jiff::SignedDuration = jiff::SignedDuration::from_hours(31 * 24);

/// Who a reminder is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Operator,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Operator => "operator",
        }
    }
}

/// The reminders of `task` under `rule` whose time falls in the window, each
/// occurrence and side once (dedupe key `RULE:task/ID/LOCAL-START/SIDE`). `book`
/// is the task's customer; `doer` the operator the task names, if any. A reminder
/// found later than the rule's `max_delay` is NotApplicable "too late".
pub fn plan_task(
    rule: &TaskRule,
    task: &Task,
    book: &CustomerBook,
    doer: Option<&Operator>,
    settings: &PlanSettings,
    window: Window,
) -> Vec<PlannedNotification> {
    if !rule.enabled || !rule.scope.contains(&book.customer) {
        return Vec::new();
    }
    let tz = task
        .time_zone
        .as_ref()
        .or(book.customer.time_zone.as_ref())
        .map_or_else(|| settings.time_zone.clone(), TimeZoneName::time_zone);
    let oldest = window.until.checked_sub(LOOKBACK).unwrap_or(window.until);
    let after = window.after.map_or(oldest, |a| a.max(oldest));
    let mut out = Vec::new();
    for (side, audience) in [
        (Side::Client, rule.client.as_ref()),
        (Side::Operator, rule.operator.as_ref()),
    ] {
        let Some(audience) = audience else { continue };
        // Reminders in (after, until] are for occurrences about `before` later;
        // two hours either side cover a day that daylight saving made 23 or 25
        // hours long, and the fire time itself decides.
        let lead = jiff::SignedDuration::from_hours(24 * i64::from(audience.before_days))
            .checked_add(audience.before)
            .unwrap_or(audience.before);
        let slack = jiff::SignedDuration::from_hours(2);
        let shift = |t: Timestamp, by: jiff::SignedDuration| {
            t.checked_add(lead)
                .and_then(|t| t.checked_add(by))
                .unwrap_or(t)
        };
        for occ in task.occurrences(
            &tz,
            shift(after, -slack),
            shift(window.until, slack),
            10_000,
        ) {
            let fire_at = occ
                .at
                .to_zoned(tz.clone())
                .checked_sub(i64::from(audience.before_days).days())
                .map(|z| z.timestamp())
                .unwrap_or(occ.at)
                .checked_sub(audience.before)
                .unwrap_or(occ.at);
            if fire_at <= after || fire_at > window.until {
                continue;
            }
            let deliveries = match side {
                Side::Client => client_deliveries(audience, book, settings),
                Side::Operator => doer
                    .and_then(|o| operator_delivery(&audience.channels, o, settings))
                    .into_iter()
                    .collect(),
            };
            let late = window.until.duration_since(fire_at);
            let verdict = if !rule.send {
                Verdict::NotApplicable("generate only: the rule has send = false".into())
            } else if late > rule.max_delay {
                Verdict::NotApplicable(format!(
                    "too late: the reminder was due at {} and is planned {} minutes later; the rule's max_delay is {} minutes",
                    fire_at,
                    late.as_secs() / 60,
                    rule.max_delay.as_secs() / 60
                ))
            } else if deliveries.is_empty() {
                Verdict::NotApplicable(match side {
                    Side::Client => "no recipient: no contact of the client has an address and an opt-in for the rule's channels".into(),
                    Side::Operator if doer.is_none() => "no recipient: the task names no operator, or one herald does not know (import operators)".into(),
                    Side::Operator => "no recipient: the operator has no phone or e-mail for the rule's channels".into(),
                })
            } else {
                Verdict::Deliver
            };
            out.push(PlannedNotification {
                dedupe_key: format!(
                    "{}:task/{}/{}/{}",
                    rule.id,
                    task.id,
                    occ.key(),
                    side.as_str()
                ),
                rule_id: rule.id.clone(),
                kind: NoticeKind::Task,
                customer_id: Some(book.customer.id.clone()),
                invoice_ids: Vec::new(),
                level: None,
                template: task
                    .template
                    .clone()
                    .unwrap_or_else(|| audience.template.clone()),
                fire_at,
                subject: Some(task.id.to_string()),
                occurs_at: Some(occ.at),
                event_id: None,
                verdict,
                deliveries,
                covers: Vec::new(),
            });
        }
    }
    out
}

fn client_deliveries(
    audience: &TaskAudience,
    book: &CustomerBook,
    settings: &PlanSettings,
) -> Vec<PlannedDelivery> {
    let locale = book.customer.locale.unwrap_or(settings.default_locale);
    let mut out: Vec<PlannedDelivery> = Vec::new();
    for c in book.contacts.iter().filter(|c| {
        audience.roles.is_empty()
            || audience
                .roles
                .iter()
                .any(|r| r.eq_ignore_ascii_case(&c.role))
    }) {
        let reach = audience
            .channels
            .iter()
            .find_map(|ch| reachable(c, *ch).map(|a| (*ch, a)));
        if let Some((channel, address)) = reach
            && !out
                .iter()
                .any(|d| d.channel == channel && d.address.eq_ignore_ascii_case(&address))
        {
            out.push(PlannedDelivery {
                channel,
                name: c.name.clone(),
                address,
                locale,
            });
        }
    }
    out
}
