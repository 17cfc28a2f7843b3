//! The business calendar: which days are working days and when in the day a
//! message may go out.
//!
//! A message due outside the send window or on a non-working day is postponed to
//! the next allowed moment, never dropped ([`BusinessCalendar::next_allowed`]). The
//! window is read in the recipient's time zone: 08:00 means 08:00 where the reader
//! is, whatever the office's zone.
//!
//! Public holidays are built in for Poland, Czechia and Romania ([`Country`]),
//! computed for any year: the fixed dates, and the moveable feasts from Easter
//! (Western Easter for Poland and Czechia, Orthodox Easter for Romania). Dates a
//! business adds (a company day off, a bridge day) come from the config.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday, date};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// A country whose public holidays herald knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Country {
    Pl,
    Cz,
    Ro,
}

impl Country {
    /// `PL`, `CZ` or `RO` (ISO 3166-1 alpha-2, either case).
    pub fn parse(s: &str) -> Result<Country, String> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PL" => Ok(Country::Pl),
            "CZ" => Ok(Country::Cz),
            "RO" => Ok(Country::Ro),
            other => Err(format!(
                "'{other}' is not a country herald has holidays for: use PL, CZ or RO, and list other days off under holidays"
            )),
        }
    }

    /// The country's public holidays in `year`, in date order.
    pub fn holidays(self, year: i16) -> Vec<Date> {
        let d = |m: i8, day: i8| date(year, m, day);
        let mut days = match self {
            Country::Pl => {
                let easter = western_easter(year);
                vec![
                    d(1, 1),
                    d(1, 6),
                    easter,
                    plus(easter, 1), // Easter Monday
                    d(5, 1),
                    d(5, 3),
                    plus(easter, 49), // Pentecost Sunday (Zielone Świątki)
                    plus(easter, 60), // Corpus Christi (Boże Ciało)
                    d(8, 15),
                    d(11, 1),
                    d(11, 11),
                    d(12, 25),
                    d(12, 26),
                ]
                .into_iter()
                // Christmas Eve is a public holiday from 2025.
                .chain((year >= 2025).then(|| d(12, 24)))
                .collect::<Vec<_>>()
            }
            Country::Cz => {
                let easter = western_easter(year);
                vec![
                    d(1, 1),
                    plus(easter, -2), // Good Friday
                    plus(easter, 1),  // Easter Monday
                    d(5, 1),
                    d(5, 8),
                    d(7, 5),
                    d(7, 6),
                    d(9, 28),
                    d(10, 28),
                    d(11, 17),
                    d(12, 24),
                    d(12, 25),
                    d(12, 26),
                ]
            }
            Country::Ro => {
                let easter = orthodox_easter(year);
                vec![
                    d(1, 1),
                    d(1, 2),
                    d(1, 24),
                    plus(easter, -2), // Orthodox Good Friday
                    easter,
                    plus(easter, 1), // Orthodox Easter Monday
                    d(5, 1),
                    d(6, 1),
                    plus(easter, 49), // Rusalii (Pentecost)
                    plus(easter, 50),
                    d(8, 15),
                    d(11, 30),
                    d(12, 1),
                    d(12, 25),
                    d(12, 26),
                ]
                .into_iter()
                // Epiphany and St John the Baptist are public holidays from 2024.
                .chain((year >= 2024).then(|| d(1, 6)))
                .chain((year >= 2024).then(|| d(1, 7)))
                .collect()
            }
        };
        days.sort();
        days.dedup();
        days
    }
}

fn plus(d: Date, days: i64) -> Date {
    d.checked_add(days.days()).unwrap_or(d)
}

/// Western (Gregorian) Easter Sunday: the anonymous Gregorian algorithm (Meeus).
pub fn western_easter(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    date(year, month as i8, day as i8)
}

/// Orthodox Easter Sunday as a Gregorian date: the Julian computation (Meeus), plus
/// the 13 days between the calendars, which holds from 1900 to 2099.
pub fn orthodox_easter(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 4;
    let b = y % 7;
    let c = y % 19;
    let d = (19 * c + 15) % 30;
    let e = (2 * a + 4 * b - d + 34) % 7;
    let month = (d + e + 114) / 31;
    let day = (d + e + 114) % 31 + 1;
    plus(date(year, month as i8, day as i8), 13)
}

/// When messages may go out: working days (not a weekend day, not a holiday) within
/// the send window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    pub weekend: Vec<Weekday>,
    /// Countries whose public holidays are days off.
    pub countries: Vec<Country>,
    /// More days off, from the config.
    pub extra_holidays: BTreeSet<Date>,
    /// The send window, local time of the recipient: `[start, end)`. `None`: any
    /// time of a working day.
    pub window: Option<(Time, Time)>,
}

impl Default for BusinessCalendar {
    /// Saturday and Sunday off, no holidays, no window: every weekday, all day.
    fn default() -> Self {
        BusinessCalendar {
            weekend: vec![Weekday::Saturday, Weekday::Sunday],
            countries: Vec::new(),
            extra_holidays: BTreeSet::new(),
            window: None,
        }
    }
}

impl BusinessCalendar {
    /// Whether nobody works on `d`: a weekend day, a public holiday of one of the
    /// countries, or a day off from the config.
    pub fn is_day_off(&self, d: Date) -> bool {
        self.weekend.contains(&d.weekday())
            || self.extra_holidays.contains(&d)
            || self
                .countries
                .iter()
                .any(|c| c.holidays(d.year()).contains(&d))
    }

    /// The first working day on or after `d`. Gives up after ten years of days off
    /// (a calendar with every weekday a weekend day) and returns `d`.
    pub fn next_working_day(&self, d: Date) -> Date {
        let mut day = d;
        for _ in 0..3660 {
            if !self.is_day_off(day) {
                return day;
            }
            day = plus(day, 1);
        }
        d
    }

    /// The first moment at or after `at` when a message may go out to a reader in
    /// `tz`: `at` itself when it is inside the window of a working day, else the
    /// start of the next window of a working day. Never earlier than `at`.
    pub fn next_allowed(&self, at: Timestamp, tz: &TimeZone) -> Timestamp {
        let local = at.to_zoned(tz.clone());
        let (start, end) = self.window.unwrap_or((Time::MIN, Time::MAX));
        let today = local.date();
        let time = local.time();
        let first_day = if self.is_day_off(today) || time >= end {
            self.next_working_day(plus(today, 1))
        } else if time >= start {
            return at;
        } else {
            today
        };
        // A window start that daylight saving skips (02:30 on the spring-forward
        // night) resolves later, as RFC 5545 does: the day never shifts.
        first_day
            .to_datetime(start)
            .to_zoned(tz.clone())
            .map_or(at, |z| z.timestamp().max(at))
    }
}
