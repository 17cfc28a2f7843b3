//! Schedules (seed 002's "every N minutes from HH:MM", and cron) in the tenant's
//! time zone, across midnight and daylight saving.

use herald_core::schedule::Schedule;
use jiff::Timestamp;
use jiff::tz::TimeZone;

fn warsaw() -> TimeZone {
    TimeZone::get("Europe/Warsaw").unwrap()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn local(t: Timestamp) -> String {
    t.to_zoned(warsaw()).strftime("%Y-%m-%d %H:%M").to_string()
}

#[test]
fn every_minute_from_16_00_fires_until_midnight_and_not_after() {
    let s = Schedule::parse("every 1 minute from 16:00").unwrap();
    // From 15:00 local (14:00 UTC in November) to the next day 15:59 local.
    let all = s.firings(
        ts("2026-11-12T14:00:00Z"),
        ts("2026-11-13T14:59:00Z"),
        &warsaw(),
        10_000,
    );
    assert_eq!(all.len(), 8 * 60, "16:00 to 23:59, one a minute");
    assert_eq!(local(all[0]), "2026-11-12 16:00");
    assert_eq!(local(*all.last().unwrap()), "2026-11-12 23:59");
    // After 23:59 the next is 16:00 the next day, not 00:00.
    let next = s.next_after(ts("2026-11-12T22:59:00Z"), &warsaw()).unwrap();
    assert_eq!(local(next), "2026-11-13 16:00");
}

#[test]
fn every_n_minutes_hours_and_days() {
    let tz = warsaw();
    let s = Schedule::parse("every 15 minutes from 08:00").unwrap();
    let f = s.firings(
        ts("2026-11-12T06:00:00Z"),
        ts("2026-11-12T08:00:00Z"),
        &tz,
        100,
    );
    let got: Vec<String> = f.iter().map(|t| local(*t)).collect();
    assert_eq!(
        got,
        [
            "2026-11-12 08:00",
            "2026-11-12 08:15",
            "2026-11-12 08:30",
            "2026-11-12 08:45",
            "2026-11-12 09:00"
        ]
    );
    let s = Schedule::parse("Every 2 hours from 07:30").unwrap();
    let f = s.firings(
        ts("2026-11-12T00:00:00Z"),
        ts("2026-11-13T00:00:00Z"),
        &tz,
        100,
    );
    assert_eq!(f.len(), 9, "07:30, 09:30 … 23:30");
    assert_eq!(local(f[8]), "2026-11-12 23:30");
    let daily = Schedule::parse("every 1 day from 07:00").unwrap();
    let f = daily.firings(
        ts("2026-11-01T00:00:00Z"),
        ts("2026-11-08T00:00:00Z"),
        &tz,
        100,
    );
    assert_eq!(f.len(), 7);
    assert!(f.iter().all(|t| local(*t).ends_with("07:00")));
    let every3 = Schedule::parse("every 3 days from 07:00").unwrap();
    let f = every3.firings(
        ts("2026-11-01T00:00:00Z"),
        ts("2026-11-30T00:00:00Z"),
        &tz,
        100,
    );
    assert_eq!(
        f.len(),
        9,
        "{:?}",
        f.iter().map(|t| local(*t)).collect::<Vec<_>>()
    );
    assert!(
        f.windows(2)
            .all(|w| w[1].as_second() - w[0].as_second() == 72 * 3600)
    );
}

#[test]
fn a_daily_time_stays_local_across_daylight_saving() {
    let tz = warsaw();
    let daily = Schedule::parse("every 1 day from 08:00").unwrap();
    // Spring forward on 29 March 2026, back on 25 October 2026.
    for (from, until) in [
        ("2026-03-27T00:00:00Z", "2026-03-31T00:00:00Z"),
        ("2026-10-23T00:00:00Z", "2026-10-27T00:00:00Z"),
    ] {
        let f = daily.firings(ts(from), ts(until), &tz, 10);
        assert_eq!(f.len(), 4);
        assert!(f.iter().all(|t| local(*t).ends_with("08:00")), "{f:?}");
    }
    // 02:30 does not exist on 29 March: it fires right after the gap, once.
    let s = Schedule::parse("30 2 * * *").unwrap();
    let next = s.next_after(ts("2026-03-28T12:00:00Z"), &tz).unwrap();
    assert_eq!(next, ts("2026-03-29T01:30:00Z"), "{}", local(next));
    // Every hour on 25 October: 02:00 happens twice; the schedule fires once.
    let hourly = Schedule::parse("0 * * * *").unwrap();
    let f = hourly.firings(
        ts("2026-10-24T22:00:00Z"),
        ts("2026-10-25T22:59:00Z"),
        &tz,
        100,
    );
    let got: Vec<String> = f.iter().map(|t| local(*t)).collect();
    assert_eq!(got.len(), 23, "01:00 to 23:00 local: {got:?}");
    assert_eq!(got.iter().filter(|t| t.ends_with("02:00")).count(), 1);
}

#[test]
fn cron_fields_lists_ranges_steps_and_names() {
    let tz = warsaw();
    let s = Schedule::parse("0 8 * * mon-fri").unwrap();
    // Friday 13 November 2026, 09:00 local: next Monday 08:00.
    let next = s.next_after(ts("2026-11-13T08:00:00Z"), &tz).unwrap();
    assert_eq!(local(next), "2026-11-16 08:00");
    let s = Schedule::parse("*/20 9-10 * * *").unwrap();
    let f = s.firings(
        ts("2026-11-12T00:00:00Z"),
        ts("2026-11-12T23:00:00Z"),
        &tz,
        100,
    );
    let got: Vec<String> = f.iter().map(|t| local(*t)[11..].to_owned()).collect();
    assert_eq!(got, ["09:00", "09:20", "09:40", "10:00", "10:20", "10:40"]);
    // Day of month and day of week both given: either matches.
    let s = Schedule::parse("0 12 1 * sun").unwrap();
    let f = s.firings(
        ts("2026-11-01T00:00:00Z"),
        ts("2026-12-02T00:00:00Z"),
        &tz,
        100,
    );
    let got: Vec<String> = f.iter().map(|t| local(*t)[..10].to_owned()).collect();
    assert_eq!(
        got,
        [
            "2026-11-01",
            "2026-11-08",
            "2026-11-15",
            "2026-11-22",
            "2026-11-29",
            "2026-12-01"
        ]
    );
    // 29 February comes.
    let s = Schedule::parse("0 0 29 feb *").unwrap();
    assert_eq!(
        local(s.next_after(ts("2026-03-01T00:00:00Z"), &tz).unwrap()),
        "2028-02-29 00:00"
    );
    assert_eq!(
        Schedule::parse("0 0 31 2 *")
            .unwrap()
            .next_after(ts("2026-01-01T00:00:00Z"), &tz),
        None
    );
}

#[test]
fn a_schedule_that_cannot_be_read_says_what_to_write() {
    for (bad, says) in [
        ("every 0 minutes from 08:00", "1 or more"),
        ("every 5 weeks from 08:00", "minutes, hours or days"),
        ("every 5 minutes from 8am", "not a time"),
        ("61 * * * *", "not a minute (0-59)"),
        ("0 8 * *", "5 fields"),
        ("0 8 * * fri-mon", "runs backwards"),
        ("*/0 * * * *", "not a step"),
    ] {
        let err = Schedule::parse(bad).unwrap_err();
        assert!(err.contains(says), "{bad}: {err}");
    }
}
