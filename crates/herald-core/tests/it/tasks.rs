//! Task occurrences: one-off and recurring, local times across daylight saving,
//! each occurrence named once.

use herald_core::tasks::{Recurrence, Task};
use herald_core::{CustomerId, TaskId};
use jiff::Timestamp;
use jiff::civil::{DateTime, date};
use jiff::tz::TimeZone;

fn task(starts: DateTime, recurrence: &str) -> Task {
    Task {
        id: TaskId::parse("T1").unwrap(),
        title: "VAT return".into(),
        customer_id: CustomerId::parse("C1").unwrap(),
        operator_id: None,
        starts_at: starts,
        time_zone: None,
        recurrence: Recurrence::parse(recurrence).unwrap(),
        recurrence_text: recurrence.into(),
        template: None,
    }
}

fn warsaw() -> TimeZone {
    TimeZone::get("Europe/Warsaw").unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn keys(t: &Task, after: &str, until: &str) -> Vec<String> {
    t.occurrences(&warsaw(), ts(after), ts(until), 1000)
        .iter()
        .map(|o| o.key())
        .collect()
}

#[test]
fn a_one_off_task_occurs_once_inside_the_window_only() {
    let t = task(date(2026, 11, 23).at(10, 0, 0, 0), "");
    assert_eq!(
        keys(&t, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"),
        ["2026-11-23T10:00"]
    );
    // 10:00 in Warsaw is 09:00 UTC: (after, until] is open on the left.
    assert!(keys(&t, "2026-11-23T09:00:00Z", "2026-12-01T00:00:00Z").is_empty());
    assert_eq!(
        keys(&t, "2026-11-23T08:59:59Z", "2026-11-23T09:00:00Z"),
        ["2026-11-23T10:00"]
    );
}

#[test]
fn a_weekly_task_keeps_its_local_time_across_the_change_to_winter_time() {
    // Mondays at 09:00 from 12 October 2026; clocks go back on 25 October.
    let t = task(date(2026, 10, 12).at(9, 0, 0, 0), "weekly");
    let occ = t.occurrences(
        &warsaw(),
        ts("2026-10-01T00:00:00Z"),
        ts("2026-11-03T00:00:00Z"),
        100,
    );
    let utc: Vec<String> = occ.iter().map(|o| o.at.to_string()).collect();
    assert_eq!(
        utc,
        [
            "2026-10-12T07:00:00Z",
            "2026-10-19T07:00:00Z",
            "2026-10-26T08:00:00Z",
            "2026-11-02T08:00:00Z"
        ]
    );
    assert!(occ.iter().all(|o| o.key().ends_with("T09:00")));
}

#[test]
fn daily_and_monthly_tasks_started_long_ago_list_only_the_window() {
    let daily = task(date(2020, 1, 1).at(8, 30, 0, 0), "daily");
    assert_eq!(
        keys(&daily, "2026-11-22T12:00:00Z", "2026-11-24T12:00:00Z"),
        ["2026-11-23T08:30", "2026-11-24T08:30"]
    );
    // The 31st: the last day of shorter months.
    let monthly = task(date(2026, 1, 31).at(12, 0, 0, 0), "monthly");
    assert_eq!(
        keys(&monthly, "2026-02-01T00:00:00Z", "2026-05-01T00:00:00Z"),
        ["2026-02-28T12:00", "2026-03-31T12:00", "2026-04-30T12:00"]
    );
}

#[test]
fn a_cron_task_starts_at_or_after_its_first_start() {
    // Every weekday at 07:45, from Wednesday 18 November 2026.
    let t = task(date(2026, 11, 18).at(0, 0, 0, 0), "45 7 * * mon-fri");
    assert_eq!(
        keys(&t, "2026-11-01T00:00:00Z", "2026-11-24T00:00:00Z"),
        [
            "2026-11-18T07:45",
            "2026-11-19T07:45",
            "2026-11-20T07:45",
            "2026-11-23T07:45"
        ]
    );
}

#[test]
fn a_recurrence_that_cannot_be_read_says_what_to_write() {
    let err = Recurrence::parse("fortnightly").unwrap_err();
    assert!(
        err.contains("daily, weekly, monthly or a cron expression"),
        "{err}"
    );
    assert_eq!(Recurrence::parse(" Weekly ").unwrap(), Recurrence::Weekly);
    assert_eq!(Recurrence::parse("").unwrap(), Recurrence::Once);
}

mod reminders {
    use herald_core::planner::{CustomerBook, NoticeKind, Verdict, Window};
    use herald_core::records::Operator;
    use herald_core::rules::{ChannelKind, Scope, TaskAudience, TaskRule};
    use herald_core::tasks::plan_task;
    use herald_core::{OperatorId, PhoneNumber};
    use jiff::SignedDuration;
    use jiff::civil::date;

    use super::{task, ts};
    use crate::support::{billing, customer, settings};

    fn rule() -> TaskRule {
        TaskRule {
            id: "task-reminder".into(),
            enabled: true,
            send: true,
            max_delay: SignedDuration::from_hours(1),
            client: Some(TaskAudience {
                before_days: 1,
                before: SignedDuration::ZERO,
                channels: vec![ChannelKind::Sms, ChannelKind::Email],
                template: "task-reminder".into(),
                roles: Vec::new(),
            }),
            operator: Some(TaskAudience {
                before_days: 0,
                before: SignedDuration::from_mins(15),
                channels: vec![ChannelKind::Sms],
                template: "task-reminder-operator".into(),
                roles: Vec::new(),
            }),
            scope: Scope::default(),
        }
    }

    fn ewa() -> Operator {
        Operator {
            id: OperatorId::parse("op-ewa").unwrap(),
            name: "Ewa Nowak".into(),
            email: None,
            phone: Some(PhoneNumber::parse("+48600100200").unwrap()),
            locale: None,
            roles: Vec::new(),
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

    fn window(after: &str, until: &str) -> Window {
        Window {
            after: Some(ts(after)),
            until: ts(until),
        }
    }

    #[test]
    fn the_client_a_day_before_and_the_operator_fifteen_minutes_before_each_once() {
        // Tuesday 24 November 2026, 10:00 in Warsaw (09:00 UTC).
        let t = task(date(2026, 11, 24).at(10, 0, 0, 0), "");
        let op = ewa();
        // The day before at 09:00 UTC: the client's reminder, by e-mail (the
        // billing contact has no phone).
        let a = plan_task(
            &rule(),
            &t,
            &book(),
            Some(&op),
            &settings(),
            window("2026-11-23T08:59:00Z", "2026-11-23T09:00:00Z"),
        );
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(
            a[0].dedupe_key,
            "task-reminder:task/T1/2026-11-24T10:00/client"
        );
        assert_eq!(a[0].kind, NoticeKind::Task);
        assert_eq!(a[0].verdict, Verdict::Deliver);
        assert_eq!(a[0].deliveries[0].channel, ChannelKind::Email);
        assert_eq!(a[0].subject.as_deref(), Some("T1"));
        assert_eq!(a[0].occurs_at, Some(ts("2026-11-24T09:00:00Z")));
        // 08:45 UTC on the day: the operator's, by SMS.
        let b = plan_task(
            &rule(),
            &t,
            &book(),
            Some(&op),
            &settings(),
            window("2026-11-24T08:44:00Z", "2026-11-24T08:45:00Z"),
        );
        assert_eq!(b.len(), 1, "{b:?}");
        assert_eq!(
            b[0].dedupe_key,
            "task-reminder:task/T1/2026-11-24T10:00/operator"
        );
        assert_eq!(b[0].template, "task-reminder-operator");
        assert_eq!(b[0].deliveries[0].address, "+48600100200");
        // Minutes in between: nothing.
        let none = plan_task(
            &rule(),
            &t,
            &book(),
            Some(&op),
            &settings(),
            window("2026-11-23T09:00:00Z", "2026-11-24T08:44:00Z"),
        );
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn a_reminder_missed_for_longer_than_max_delay_is_too_late_and_a_shorter_stop_is_caught_up() {
        let t = task(date(2026, 11, 24).at(10, 0, 0, 0), "");
        let op = ewa();
        // The service stopped at 08:30 UTC and came back at 09:10: the operator's
        // reminder (08:45) is 25 minutes late, within the hour.
        let caught = plan_task(
            &rule(),
            &t,
            &book(),
            Some(&op),
            &settings(),
            window("2026-11-24T08:30:00Z", "2026-11-24T09:10:00Z"),
        );
        assert_eq!(caught.len(), 1);
        assert_eq!(caught[0].verdict, Verdict::Deliver);
        // Back only at 10:00 UTC: 75 minutes late.
        let late = plan_task(
            &rule(),
            &t,
            &book(),
            Some(&op),
            &settings(),
            window("2026-11-24T08:30:00Z", "2026-11-24T10:00:00Z"),
        );
        assert!(
            matches!(&late[0].verdict, Verdict::NotApplicable(r) if r.starts_with("too late")),
            "{late:?}"
        );
        // No operator on the task: recorded, with the reason.
        let nobody = plan_task(
            &rule(),
            &t,
            &book(),
            None,
            &settings(),
            window("2026-11-24T08:44:00Z", "2026-11-24T08:45:00Z"),
        );
        assert!(
            matches!(&nobody[0].verdict, Verdict::NotApplicable(r) if r.contains("names no operator")),
            "{nobody:?}"
        );
    }

    #[test]
    fn a_weekly_task_is_reminded_at_the_same_local_time_after_the_clocks_change() {
        // Mondays 09:00 Warsaw; the operator 15 minutes before, 08:45 local: 06:45
        // UTC in summer time, 07:45 after 25 October.
        let t = task(date(2026, 10, 12).at(9, 0, 0, 0), "weekly");
        let op = ewa();
        let mut rule = rule();
        rule.client = None;
        let all = plan_task(
            &rule,
            &t,
            &book(),
            Some(&op),
            &settings(),
            window("2026-10-10T00:00:00Z", "2026-11-03T00:00:00Z"),
        );
        let fire: Vec<String> = all.iter().map(|n| n.fire_at.to_string()).collect();
        assert_eq!(
            fire,
            [
                "2026-10-12T06:45:00Z",
                "2026-10-19T06:45:00Z",
                "2026-10-26T07:45:00Z",
                "2026-11-02T07:45:00Z"
            ]
        );
        let keys: std::collections::HashSet<_> = all.iter().map(|n| &n.dedupe_key).collect();
        assert_eq!(keys.len(), 4, "each occurrence once");
    }
}
