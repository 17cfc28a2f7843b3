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
