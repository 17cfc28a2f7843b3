//! Event notices: which events a rule answers, and when a late event is still
//! worth a notice.

use herald_core::events::{Event, matches, plan_event};
use herald_core::planner::{CustomerBook, NoticeKind, Verdict, Window};
use herald_core::rules::{EventRule, RecipientSpec};
use herald_core::{CustomerId, EventId};
use jiff::{SignedDuration, Timestamp};

use crate::support::{audience, billing, customer, settings};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn rule() -> EventRule {
    let mut a = audience();
    a.to = vec![RecipientSpec::CustomerRole("billing".into())];
    EventRule {
        id: "client-activity-hr".into(),
        enabled: true,
        event_type: "client.activity".into(),
        payload: vec![("area".into(), vec!["hr".into(), "payroll".into()])],
        delay: SignedDuration::ZERO,
        send: true,
        max_delay: SignedDuration::from_hours(24),
        template: "client-activity".into(),
        attach: false,
        audience: a,
    }
}

fn event(area: serde_json::Value, at: &str) -> Event {
    let mut payload = serde_json::Map::new();
    payload.insert("area".into(), area);
    Event {
        id: EventId::parse("ev-1").unwrap(),
        kind: "client.activity".into(),
        customer_id: Some(CustomerId::parse("C1").unwrap()),
        operator_id: None,
        subject: None,
        occurred_at: ts(at),
        payload,
        attachment: None,
    }
}

fn book() -> CustomerBook {
    CustomerBook {
        customer: customer("C1"),
        contacts: vec![billing("C1")],
        invoices: Vec::new(),
        related: Vec::new(),
    }
}

#[test]
fn a_rule_answers_its_type_and_payload_values_only() {
    let r = rule();
    assert!(matches(&r, &event("hr".into(), "2026-11-23T09:00:00Z")));
    assert!(matches(
        &r,
        &event("PAYROLL".into(), "2026-11-23T09:00:00Z")
    ));
    assert!(!matches(
        &r,
        &event("accounting".into(), "2026-11-23T09:00:00Z")
    ));
    assert!(!matches(
        &r,
        &event(serde_json::Value::Null, "2026-11-23T09:00:00Z")
    ));
    let mut other = event("hr".into(), "2026-11-23T09:00:00Z");
    other.kind = "audit.finished".into();
    assert!(!matches(&r, &other));
}

#[test]
fn a_new_event_is_planned_whenever_it_happened_and_an_old_one_only_in_its_window() {
    let r = rule();
    let e = event("hr".into(), "2026-11-23T09:00:00Z");
    // It happened before the window, but reached herald since the last run.
    let w = Window {
        after: Some(ts("2026-11-23T09:05:00Z")),
        until: ts("2026-11-23T09:10:00Z"),
    };
    let n = plan_event(&r, &e, true, &book(), &settings(), w).unwrap();
    assert_eq!(n.dedupe_key, "client-activity-hr:event/ev-1");
    assert_eq!(n.kind, NoticeKind::Event);
    assert_eq!(n.verdict, Verdict::Deliver);
    assert_eq!(n.event_id.as_ref().map(|e| e.as_str()), Some("ev-1"));
    // Not new, and before the window: an earlier run decided it.
    assert!(plan_event(&r, &e, false, &book(), &settings(), w).is_none());
    // Two days late: recorded as too late.
    let late = Window {
        after: Some(ts("2026-11-25T09:05:00Z")),
        until: ts("2026-11-25T09:10:00Z"),
    };
    let n = plan_event(&r, &e, true, &book(), &settings(), late).unwrap();
    assert!(
        matches!(&n.verdict, Verdict::NotApplicable(r) if r.starts_with("too late")),
        "{n:?}"
    );
    // With a delay, the notice waits for its window.
    let mut delayed = rule();
    delayed.delay = SignedDuration::from_hours(2);
    assert!(plan_event(&delayed, &e, true, &book(), &settings(), w).is_none());
    let later = Window {
        after: Some(ts("2026-11-23T10:55:00Z")),
        until: ts("2026-11-23T11:00:00Z"),
    };
    let n = plan_event(&delayed, &e, false, &book(), &settings(), later).unwrap();
    assert_eq!(n.fire_at, ts("2026-11-23T11:00:00Z"));
}
