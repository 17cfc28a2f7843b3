//! Events the business system reports (seeds 000, 002, 004) and the notices rules
//! send on them: a customs message forwarded to the client, an audit finished told
//! to the account manager, a reading period announced to every customer.
//!
//! Events arrive after they happen, often minutes later. A planning run therefore
//! looks at every event that reached herald since the last run, whenever it
//! happened, as well as at the events whose notice (after the rule's delay) falls
//! in its window; each event's notice is planned once (`RULE:event/ID`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::planner::{
    CustomerBook, NoticeKind, PlanSettings, PlannedNotification, Window, office_recipients,
    recipients, verdict_for,
};
use crate::records::Customer;
use crate::rules::{EventRule, RecipientSpec};
use crate::values::{CustomerId, EventId, OperatorId};

/// One event as the business system reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    /// `customs.IE529`, `audit.finished`, `reading.period_started`…
    pub kind: String,
    /// The customer it concerns; `None`: every customer (a reading period
    /// started, seed 004), each planned a notice of its own.
    pub customer_id: Option<CustomerId>,
    pub operator_id: Option<OperatorId>,
    /// What it is about: a declaration number, a document.
    pub subject: Option<String>,
    pub occurred_at: Timestamp,
    /// The event's details, a JSON object.
    pub payload: serde_json::Map<String, serde_json::Value>,
    /// A file that belongs to it (the customs message).
    pub attachment: Option<String>,
}

impl Event {
    /// A payload field as text: strings as they are, numbers and booleans written
    /// out; `None` for a missing field, null, an array or an object.
    pub fn field(&self, name: &str) -> Option<String> {
        match self.payload.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Whether `rule` answers `event`: its type, and every payload condition.
pub fn matches(rule: &EventRule, event: &Event) -> bool {
    rule.enabled
        && rule.event_type == event.kind
        && rule.payload.iter().all(|(field, values)| {
            event
                .field(field)
                .is_some_and(|v| values.iter().any(|w| w.eq_ignore_ascii_case(&v)))
        })
}

/// The notice `rule` sends on `event` to the customer of `book`, if it is for this
/// run: the event is new since the last run (`new`), or its notice time falls in
/// the window. A notice later than the rule's `max_delay` is NotApplicable "too
/// late". An event for every customer is planned once per customer.
pub fn plan_event(
    rule: &EventRule,
    event: &Event,
    new: bool,
    book: &CustomerBook,
    settings: &PlanSettings,
    window: Window,
) -> Option<PlannedNotification> {
    if !matches(rule, event) || !rule.audience.scope.contains(&book.customer) {
        return None;
    }
    let (fire_at, too_late) = timing(rule, event, new, window)?;
    let dedupe_key = match event.customer_id {
        Some(_) => format!("{}:event/{}", rule.id, event.id),
        None => format!(
            "{}:event/{}/customer/{}",
            rule.id, event.id, book.customer.id
        ),
    };
    let deliveries = recipients(&rule.audience, book, settings);
    Some(notice(
        rule,
        event,
        dedupe_key,
        Some(book.customer.id.clone()),
        fire_at,
        deliveries,
        too_late,
    ))
}

/// The notice `rule` plans on `event`, to `deliveries`, due at `fire_at`.
fn notice(
    rule: &EventRule,
    event: &Event,
    dedupe_key: String,
    customer_id: Option<crate::values::CustomerId>,
    fire_at: Timestamp,
    deliveries: Vec<crate::planner::PlannedDelivery>,
    too_late: Option<String>,
) -> PlannedNotification {
    let verdict = verdict_for(rule.send, &deliveries, &rule.audience, too_late);
    PlannedNotification {
        dedupe_key,
        rule_id: rule.id.clone(),
        kind: NoticeKind::Event,
        customer_id,
        invoice_ids: Vec::new(),
        level: None,
        template: rule.template.clone(),
        fire_at,
        subject: event.subject.clone(),
        occurs_at: Some(event.occurred_at),
        event_id: Some(event.id.clone()),
        deliveries,
        verdict,
        covers: Vec::new(),
    }
}

/// When the notice on `event` is due, and whether it is too late, if this run
/// plans it: its time falls in the window, or the event is new since the last run.
fn timing(
    rule: &EventRule,
    event: &Event,
    new: bool,
    window: Window,
) -> Option<(Timestamp, Option<String>)> {
    let fire_at = event
        .occurred_at
        .checked_add(rule.delay)
        .unwrap_or(event.occurred_at);
    if fire_at > window.until {
        return None; // a later run sends it
    }
    let in_window = window.after.is_none_or(|a| fire_at > a);
    if !in_window && !new {
        return None; // an earlier run decided it
    }
    let late = window.until.duration_since(fire_at);
    let too_late = (late > rule.max_delay).then(|| {
        format!(
            "too late: the notice was due at {fire_at} and herald learned of it {} minutes later; the rule's max_delay is {} minutes",
            late.as_secs() / 60,
            rule.max_delay.as_secs() / 60
        )
    });
    Some((fire_at, too_late))
}

/// Whether a rule writes to the office only (fixed addresses, operator roles,
/// webhooks) and to none of a customer's people: such a rule is planned once per
/// event, whether the event names a customer or not (seed 002's `absence.added`
/// to the supervisors), never once per customer.
pub fn is_office_rule(rule: &EventRule) -> bool {
    !rule.audience.to.iter().any(RecipientSpec::needs_customer)
}

/// The one notice an office rule sends on `event` (see [`is_office_rule`]).
/// `customer` is the event's customer, when it names one: a rule limited to some
/// customers or groups answers only their events.
pub fn plan_office_event(
    rule: &EventRule,
    event: &Event,
    new: bool,
    customer: Option<&Customer>,
    settings: &PlanSettings,
    window: Window,
) -> Option<PlannedNotification> {
    if !matches(rule, event) || !is_office_rule(rule) {
        return None;
    }
    let in_scope = match customer {
        Some(c) => rule.audience.scope.contains(c),
        None => rule.audience.scope.is_all(),
    };
    if !in_scope {
        return None;
    }
    let (fire_at, too_late) = timing(rule, event, new, window)?;
    let deliveries = office_recipients(&rule.audience, settings);
    Some(notice(
        rule,
        event,
        format!("{}:event/{}", rule.id, event.id),
        customer.map(|c| c.id.clone()),
        fire_at,
        deliveries,
        too_late,
    ))
}
