//! Digests: the periods a digest counts, in local time across daylight saving,
//! and which digests go out.

use herald_core::digest::{DigestPeriods, OperatorActivity, plan_digest};
use herald_core::events::{Event, is_office_rule, plan_office_event};
use herald_core::message::ActivityCounts;
use herald_core::planner::{NoticeKind, Verdict, Window};
use herald_core::records::Operator;
use herald_core::rules::{DigestFor, DigestRule, EventRule, RecipientSpec};
use herald_core::schedule::Schedule;
use herald_core::{EmailAddress, EventId, OperatorId};
use jiff::{SignedDuration, Timestamp};

use crate::support::{audience, settings, tz};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn local(t: Timestamp) -> String {
    t.to_zoned(tz()).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

fn operator(id: &str, email: Option<&str>) -> Operator {
    Operator {
        id: OperatorId::parse(id).unwrap(),
        name: id.to_uppercase(),
        email: email.map(|e| EmailAddress::parse(e).unwrap()),
        phone: None,
        locale: None,
        roles: Vec::new(),
    }
}

fn activity(op: Operator, period: u64) -> OperatorActivity {
    OperatorActivity {
        operator: op,
        counts: ActivityCounts {
            period,
            day: period,
            week: period,
            month: period,
        },
    }
}

fn rule(digest_for: DigestFor, send_empty: bool) -> DigestRule {
    let mut a = audience();
    a.to = match digest_for {
        DigestFor::EachOperator => Vec::new(),
        DigestFor::Office => vec![RecipientSpec::Address(
            EmailAddress::parse("boss@office.example").unwrap(),
        )],
    };
    DigestRule {
        id: "activity".into(),
        enabled: true,
        schedule: "every 1 day from 17:00".into(),
        event_type: "invoice.approved".into(),
        digest_for,
        send_empty,
        template: "operator-digest".into(),
        send: true,
        audience: a,
    }
}

#[test]
fn a_digest_counts_its_day_week_and_month_from_local_midnights_across_dst() {
    // Monday 2026-03-30 17:00 in Warsaw, the day after clocks went forward: the
    // week began on Monday at 00:00 CEST, the month on 1 March at 00:00 CET.
    let schedule = Schedule::parse("every 1 day from 17:00").unwrap();
    let at = ts("2026-03-30T15:00:00Z");
    let previous = schedule.previous_before(at, &tz()).unwrap();
    assert_eq!(local(previous), "2026-03-29 17:00 CEST");
    let p = DigestPeriods::new(previous, at, &tz());
    assert_eq!(local(p.period_from), "2026-03-29 17:00 CEST");
    assert_eq!(local(p.day_from), "2026-03-30 00:00 CEST");
    assert_eq!(local(p.week_from), "2026-03-30 00:00 CEST");
    assert_eq!(local(p.month_from), "2026-03-01 00:00 CET");
    assert_eq!(p.until, at);
    // The Sunday of the change: the week still starts on the Monday before.
    let sunday = ts("2026-03-29T15:00:00Z");
    let p = DigestPeriods::new(
        schedule.previous_before(sunday, &tz()).unwrap(),
        sunday,
        &tz(),
    );
    assert_eq!(local(p.period_from), "2026-03-28 17:00 CET");
    assert_eq!(local(p.week_from), "2026-03-23 00:00 CET");
    // A weekday cron's firing before Monday's is Friday's.
    let weekdays = Schedule::parse("0 18 * * mon-fri").unwrap();
    let monday = ts("2026-11-23T17:00:00Z");
    assert_eq!(
        local(weekdays.previous_before(monday, &tz()).unwrap()),
        "2026-11-20 18:00 CET"
    );
}

#[test]
fn each_operator_gets_their_own_digest_and_nobody_one_with_nothing_in_it() {
    let p = DigestPeriods::new(
        ts("2026-11-22T16:00:00Z"),
        ts("2026-11-23T16:00:00Z"),
        &tz(),
    );
    let staff = vec![
        activity(operator("op-ewa", Some("ewa@office.example")), 3),
        activity(operator("op-jan", Some("jan@office.example")), 0),
        activity(operator("op-ola", None), 2),
    ];
    let planned = plan_digest(
        &rule(DigestFor::EachOperator, false),
        &p,
        &staff,
        &settings(),
    );
    let keys: Vec<&str> = planned.iter().map(|n| n.dedupe_key.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "activity:digest/2026-11-23T17:00/operator/op-ewa",
            "activity:digest/2026-11-23T17:00/operator/op-ola"
        ]
    );
    assert!(planned.iter().all(|n| n.customer_id.is_none()
        && n.kind == NoticeKind::Digest
        && n.occurs_at == Some(p.period_from)));
    assert_eq!(planned[0].verdict, Verdict::Deliver);
    assert_eq!(planned[0].deliveries[0].address, "ewa@office.example");
    assert_eq!(planned[0].subject.as_deref(), Some("op-ewa"));
    // Ola has no address: recorded, not sent, and the history says why.
    assert!(matches!(&planned[1].verdict, Verdict::NotApplicable(r) if r.contains("no recipient")));

    let all = plan_digest(
        &rule(DigestFor::EachOperator, true),
        &p,
        &staff,
        &settings(),
    );
    assert_eq!(all.len(), 3, "send_empty: Jan's empty digest goes too");
}

#[test]
fn the_office_digest_is_one_letter_and_none_when_nobody_did_anything() {
    let p = DigestPeriods::new(
        ts("2026-11-22T16:00:00Z"),
        ts("2026-11-23T16:00:00Z"),
        &tz(),
    );
    let busy = vec![
        activity(operator("op-ewa", Some("ewa@office.example")), 1),
        activity(operator("op-jan", Some("jan@office.example")), 0),
    ];
    let planned = plan_digest(&rule(DigestFor::Office, false), &p, &busy, &settings());
    assert_eq!(planned.len(), 1);
    assert_eq!(planned[0].dedupe_key, "activity:digest/2026-11-23T17:00");
    assert_eq!(planned[0].deliveries.len(), 1);
    assert_eq!(planned[0].deliveries[0].address, "boss@office.example");
    let idle = vec![activity(operator("op-jan", Some("jan@office.example")), 0)];
    assert!(plan_digest(&rule(DigestFor::Office, false), &p, &idle, &settings()).is_empty());
    assert_eq!(
        plan_digest(&rule(DigestFor::Office, true), &p, &idle, &settings()).len(),
        1
    );
}

#[test]
fn an_office_event_rule_is_planned_once_per_event_to_its_addresses() {
    let mut a = audience();
    a.to = vec![
        RecipientSpec::Address(EmailAddress::parse("boss@office.example").unwrap()),
        RecipientSpec::Address(EmailAddress::parse("hr@office.example").unwrap()),
    ];
    let rule = EventRule {
        id: "absence-added".into(),
        enabled: true,
        event_type: "absence.added".into(),
        payload: Vec::new(),
        delay: SignedDuration::ZERO,
        send: true,
        max_delay: SignedDuration::from_hours(24),
        template: "absence-added".into(),
        attach: false,
        audience: a.clone(),
    };
    assert!(is_office_rule(&rule));
    let event = Event {
        id: EventId::parse("abs-1").unwrap(),
        kind: "absence.added".into(),
        customer_id: None,
        operator_id: Some(OperatorId::parse("op-jan").unwrap()),
        subject: None,
        occurred_at: ts("2026-11-23T09:00:00Z"),
        payload: serde_json::Map::new(),
        attachment: None,
    };
    let window = Window {
        after: Some(ts("2026-11-23T08:00:00Z")),
        until: ts("2026-11-23T10:00:00Z"),
    };
    let n = plan_office_event(&rule, &event, true, None, &settings(), window).unwrap();
    assert_eq!(n.dedupe_key, "absence-added:event/abs-1");
    assert!(n.customer_id.is_none());
    let to: Vec<&str> = n.deliveries.iter().map(|d| d.address.as_str()).collect();
    assert_eq!(to, vec!["boss@office.example", "hr@office.example"]);
    // A rule that names a customer's people is not an office rule.
    let mut customer_rule = rule.clone();
    customer_rule
        .audience
        .to
        .push(RecipientSpec::CustomerRole("billing".into()));
    assert!(!is_office_rule(&customer_rule));
    assert!(plan_office_event(&customer_rule, &event, true, None, &settings(), window).is_none());
}
