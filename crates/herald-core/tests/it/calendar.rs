//! The business calendar: holidays computed for any year, and postponement to the
//! next allowed moment in the reader's time zone.

use herald_core::calendar::{BusinessCalendar, Country, orthodox_easter, western_easter};
use jiff::Timestamp;
use jiff::civil::{Time, Weekday, date};
use jiff::tz::TimeZone;

#[test]
fn easter_matches_the_published_dates_2025_to_2030() {
    let western = [
        (2025, 4, 20),
        (2026, 4, 5),
        (2027, 3, 28),
        (2028, 4, 16),
        (2029, 4, 1),
        (2030, 4, 21),
    ];
    for (y, m, d) in western {
        assert_eq!(western_easter(y), date(y, m, d), "western {y}");
    }
    let orthodox = [
        (2025, 4, 20),
        (2026, 4, 12),
        (2027, 5, 2),
        (2028, 4, 16),
        (2029, 4, 8),
        (2030, 4, 28),
    ];
    for (y, m, d) in orthodox {
        assert_eq!(orthodox_easter(y), date(y, m, d), "orthodox {y}");
    }
}

#[test]
fn each_country_has_its_moveable_and_fixed_holidays() {
    let pl = Country::Pl.holidays(2026);
    for d in [
        date(2026, 1, 6),
        date(2026, 4, 6), // Easter Monday
        date(2026, 5, 3),
        date(2026, 6, 4), // Corpus Christi
        date(2026, 11, 11),
        date(2026, 12, 24), // from 2025
    ] {
        assert!(pl.contains(&d), "PL {d}");
    }
    assert!(!Country::Pl.holidays(2024).contains(&date(2024, 12, 24)));
    assert_eq!(pl.len(), 14, "{pl:?}");

    let cz = Country::Cz.holidays(2026);
    for d in [
        date(2026, 4, 3), // Good Friday
        date(2026, 4, 6),
        date(2026, 7, 6),
        date(2026, 9, 28),
        date(2026, 11, 17),
    ] {
        assert!(cz.contains(&d), "CZ {d}");
    }
    assert!(!cz.contains(&date(2026, 6, 4)), "no Corpus Christi in CZ");

    let ro = Country::Ro.holidays(2026);
    for d in [
        date(2026, 1, 7),
        date(2026, 1, 24),
        date(2026, 4, 10), // Orthodox Good Friday
        date(2026, 4, 13), // Orthodox Easter Monday
        date(2026, 5, 31), // Rusalii
        date(2026, 6, 1),  // Rusalii Monday and Children's Day: one day off
        date(2026, 12, 1),
    ] {
        assert!(ro.contains(&d), "RO {d}");
    }
    assert!(
        !ro.contains(&date(2026, 4, 6)),
        "western Easter Monday is not"
    );
    for y in 2025..=2030 {
        for c in [Country::Pl, Country::Cz, Country::Ro] {
            let days = c.holidays(y);
            assert!(days.iter().all(|d| d.year() == y), "{c:?} {y}");
            assert!(days.windows(2).all(|w| w[0] < w[1]), "{c:?} {y} sorted");
        }
    }
    assert!(Country::parse("pl").is_ok());
    assert!(Country::parse("DE").unwrap_err().contains("PL, CZ or RO"));
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn office() -> BusinessCalendar {
    BusinessCalendar {
        countries: vec![Country::Pl],
        extra_holidays: [date(2026, 11, 10)].into_iter().collect(),
        window: Some((Time::constant(8, 0, 0, 0), Time::constant(18, 0, 0, 0))),
        ..BusinessCalendar::default()
    }
}

#[test]
fn a_message_due_outside_the_window_or_on_a_day_off_waits_for_the_next_allowed_moment() {
    let warsaw = TimeZone::get("Europe/Warsaw").unwrap();
    let cal = office();
    // Inside the window of a working day: now.
    let t = ts("2026-11-12T09:30:00Z"); // Thursday 10:30 in Warsaw
    assert_eq!(cal.next_allowed(t, &warsaw), t);
    // Before the window: 08:00 the same day.
    assert_eq!(
        cal.next_allowed(ts("2026-11-12T05:00:00Z"), &warsaw),
        ts("2026-11-12T07:00:00Z")
    );
    // After the window on Friday: Monday 08:00.
    assert_eq!(
        cal.next_allowed(ts("2026-11-13T17:30:00Z"), &warsaw),
        ts("2026-11-16T07:00:00Z")
    );
    // Monday 9 November, then Tuesday 10 (the office's day off) and Wednesday 11
    // (Independence Day): Thursday 08:00.
    assert_eq!(
        cal.next_allowed(ts("2026-11-09T17:00:00Z"), &warsaw),
        ts("2026-11-12T07:00:00Z")
    );
    // Christmas: 24, 25, 26 December 2026 (Thu-Sat), then Sunday: Monday 28.
    assert_eq!(
        cal.next_allowed(ts("2026-12-23T20:00:00Z"), &warsaw),
        ts("2026-12-28T07:00:00Z")
    );
}

#[test]
fn the_window_is_read_in_the_readers_time_zone() {
    let cal = office();
    // 07:30 UTC is 08:30 in Warsaw (inside) but 07:30 in Dublin (before the window).
    let t = ts("2026-11-12T07:30:00Z");
    assert_eq!(
        cal.next_allowed(t, &TimeZone::get("Europe/Warsaw").unwrap()),
        t
    );
    assert_eq!(
        cal.next_allowed(t, &TimeZone::get("Europe/Dublin").unwrap()),
        ts("2026-11-12T08:00:00Z")
    );
    // Bucharest is an hour ahead of Warsaw: 17:30 UTC is 19:30 there, after the
    // window; the next morning 08:00 Bucharest is 06:00 UTC.
    assert_eq!(
        cal.next_allowed(
            ts("2026-11-12T17:30:00Z"),
            &TimeZone::get("Europe/Bucharest").unwrap()
        ),
        ts("2026-11-13T06:00:00Z")
    );
}

#[test]
fn the_window_start_holds_across_daylight_saving_changes() {
    let warsaw = TimeZone::get("Europe/Warsaw").unwrap();
    let cal = BusinessCalendar {
        weekend: vec![Weekday::Saturday],
        window: Some((Time::constant(8, 0, 0, 0), Time::constant(18, 0, 0, 0))),
        ..BusinessCalendar::default()
    };
    // Saturday 28 March 2026 evening (CET); the clocks go forward on Sunday 29:
    // Sunday 08:00 is CEST, 06:00 UTC.
    assert_eq!(
        cal.next_allowed(ts("2026-03-28T19:00:00Z"), &warsaw),
        ts("2026-03-29T06:00:00Z")
    );
    // 24 October 2026, Saturday (CEST); back on Sunday 25: 08:00 CET is 07:00 UTC.
    assert_eq!(
        cal.next_allowed(ts("2026-10-24T12:00:00Z"), &warsaw),
        ts("2026-10-25T07:00:00Z")
    );
}

#[test]
fn without_a_window_any_time_of_a_working_day_is_allowed() {
    let cal = BusinessCalendar::default();
    let utc = TimeZone::UTC;
    let t = ts("2026-11-12T23:59:00Z");
    assert_eq!(cal.next_allowed(t, &utc), t);
    // Saturday: Monday 00:00.
    assert_eq!(
        cal.next_allowed(ts("2026-11-14T10:00:00Z"), &utc),
        ts("2026-11-16T00:00:00Z")
    );
}
