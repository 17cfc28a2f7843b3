//! When a scheduled job fires: digests, summaries, the planner itself.
//!
//! Two ways to write it, both read in the tenant's time zone:
//! - the form seed 002's users know: `every N minutes|hours|days from HH:MM`.
//!   Minutes and hours repeat from HH:MM to the end of each day and start again at
//!   HH:MM the next (`every 1 minute from 16:00` fires 16:00, 16:01 … 23:59, and
//!   nothing after midnight until 16:00); `every 1 day from 08:00` is daily at
//!   08:00, `every N days` every N-th day counted from 1970-01-01;
//! - a cron expression, five fields (`minute hour day-of-month month
//!   day-of-week`) with `*`, lists, ranges, steps and names (`0 8 * * mon-fri`).
//!
//! Times are local: a schedule at 08:00 fires at 08:00 in winter and in summer. A
//! local time that daylight saving skips fires at the first moment after the gap;
//! one it repeats fires once, at the first.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

/// A parsed schedule; see the module documentation for the two forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Every { n: u32, unit: Unit, from: Time },
    Cron(Cron),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Minutes,
    Hours,
    Days,
}

/// A five-field cron expression as sets of allowed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<u8>,
    hours: Vec<u8>,
    days_of_month: Vec<u8>,
    months: Vec<u8>,
    /// 0 = Sunday … 6 = Saturday (7 is read as 0).
    days_of_week: Vec<u8>,
    /// Whether day-of-month / day-of-week were restricted (not `*`): when both are,
    /// a day matching either fires, as in every cron since Vixie's.
    dom_restricted: bool,
    dow_restricted: bool,
}

impl Schedule {
    pub fn parse(s: &str) -> Result<Schedule, String> {
        let text = s.trim();
        let lower = text.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("every ") {
            return parse_every(rest).map_err(|e| {
                format!("'{text}': {e}; write e.g. \"every 15 minutes from 08:00\" or \"every 1 day from 07:30\"")
            });
        }
        Cron::parse(&lower).map(Schedule::Cron).map_err(|e| {
            format!("'{text}' is not a schedule: {e}; write a cron expression such as \"0 8 * * mon-fri\", or \"every N minutes|hours|days from HH:MM\"")
        })
    }

    /// The first firing strictly after `after`, in `tz`. `None` only for a cron
    /// expression that never matches (`0 0 31 2 *`).
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let start = after.to_zoned(tz.clone()).date();
        // A day before, so a time repeated by daylight saving is not missed; five
        // years, so a 29 February expression still finds its day.
        let mut day = start.yesterday().unwrap_or(start);
        for _ in 0..(366 * 5) {
            if let Some(t) = self
                .times_on(day)
                .into_iter()
                .filter_map(|time| resolve(day, time, tz))
                .find(|t| *t > after)
            {
                return Some(t);
            }
            day = day.tomorrow().ok()?;
        }
        None
    }

    /// The last firing strictly before `before`, in `tz`: where the period of a
    /// digest sent at `before` starts. `None` for a cron expression that never
    /// matches, or none in the five years before.
    pub fn previous_before(&self, before: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let start = before.to_zoned(tz.clone()).date();
        // A day after, for the same reason `next_after` starts a day before.
        let mut day = start.tomorrow().unwrap_or(start);
        for _ in 0..(366 * 5) {
            if let Some(t) = self
                .times_on(day)
                .into_iter()
                .filter_map(|time| resolve(day, time, tz))
                .filter(|t| *t < before)
                .max()
            {
                return Some(t);
            }
            day = day.yesterday().ok()?;
        }
        None
    }

    /// Every firing in `(after, until]`, in order: what a service that was down
    /// for a while has missed. At most `limit`, the earliest.
    pub fn firings(
        &self,
        after: Timestamp,
        until: Timestamp,
        tz: &TimeZone,
        limit: usize,
    ) -> Vec<Timestamp> {
        let mut out = Vec::new();
        let mut t = after;
        while out.len() < limit {
            match self.next_after(t, tz) {
                Some(next) if next <= until => {
                    out.push(next);
                    t = next;
                }
                _ => break,
            }
        }
        out
    }

    /// The local times of `day` at which it fires, in order.
    fn times_on(&self, day: Date) -> Vec<Time> {
        match self {
            Schedule::Every { n, unit, from } => {
                let step = match unit {
                    Unit::Minutes => i64::from(*n),
                    Unit::Hours => i64::from(*n) * 60,
                    Unit::Days => {
                        let epoch = jiff::civil::date(1970, 1, 1);
                        let days = i64::from(epoch.until(day).map_or(0, |s| s.get_days()));
                        return if days.rem_euclid(i64::from(*n)) == 0 {
                            vec![*from]
                        } else {
                            Vec::new()
                        };
                    }
                };
                let first = i64::from(from.hour()) * 60 + i64::from(from.minute());
                (first..24 * 60)
                    .step_by(step as usize)
                    .map(|m| Time::constant((m / 60) as i8, (m % 60) as i8, 0, 0))
                    .collect()
            }
            Schedule::Cron(c) => {
                if !c.matches_day(day) {
                    return Vec::new();
                }
                let mut out = Vec::with_capacity(c.hours.len() * c.minutes.len());
                for h in &c.hours {
                    for m in &c.minutes {
                        out.push(Time::constant(*h as i8, *m as i8, 0, 0));
                    }
                }
                out
            }
        }
    }
}

/// A local time on a day as an instant: after a gap for a skipped time, the first
/// of two for a repeated one.
fn resolve(day: Date, time: Time, tz: &TimeZone) -> Option<Timestamp> {
    day.to_datetime(time)
        .to_zoned(tz.clone())
        .ok()
        .map(|z| z.timestamp())
}

fn parse_every(rest: &str) -> Result<Schedule, String> {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let (n, unit, from) = match words.as_slice() {
        [n, unit, "from", at] => (*n, *unit, *at),
        [n, unit] => (*n, *unit, "00:00"),
        _ => return Err("expected \"every N minutes|hours|days from HH:MM\"".into()),
    };
    let n: u32 = n
        .parse()
        .map_err(|_| format!("'{n}' is not a whole number"))?;
    if n == 0 {
        return Err("every 0 would never end; use 1 or more".into());
    }
    let unit = match unit.trim_end_matches('s') {
        "minute" | "min" => Unit::Minutes,
        "hour" | "h" => Unit::Hours,
        "day" => Unit::Days,
        other => {
            return Err(format!(
                "'{other}' is not a unit here: use minutes, hours or days"
            ));
        }
    };
    let from: Time = from
        .parse()
        .map_err(|_| format!("'{from}' is not a time like 08:00"))?;
    Ok(Schedule::Every { n, unit, from })
}

impl Cron {
    pub fn parse(s: &str) -> Result<Cron, String> {
        let fields: Vec<&str> = s.split_whitespace().collect();
        let [min, hour, dom, mon, dow] = fields.as_slice() else {
            return Err(format!(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), this has {}",
                fields.len()
            ));
        };
        const MONTHS: &[&str] = &[
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
        let mut days_of_week = field(dow, 0, 7, DAYS, 0, "day of week")?;
        for d in &mut days_of_week {
            if *d == 7 {
                *d = 0;
            }
        }
        days_of_week.sort_unstable();
        days_of_week.dedup();
        Ok(Cron {
            minutes: field(min, 0, 59, &[], 0, "minute")?,
            hours: field(hour, 0, 23, &[], 0, "hour")?,
            days_of_month: field(dom, 1, 31, &[], 1, "day of month")?,
            months: field(mon, 1, 12, MONTHS, 1, "month")?,
            days_of_week,
            dom_restricted: *dom != "*",
            dow_restricted: *dow != "*",
        })
    }

    fn matches_day(&self, d: Date) -> bool {
        if !self.months.contains(&(d.month() as u8)) {
            return false;
        }
        let dom = self.days_of_month.contains(&(d.day() as u8));
        let dow = self
            .days_of_week
            .contains(&(d.weekday().to_sunday_zero_offset() as u8));
        match (self.dom_restricted, self.dow_restricted) {
            (true, true) => dom || dow,
            _ => dom && dow,
        }
    }
}

/// One cron field: `*`, `*/s`, `a`, `a-b`, `a-b/s`, comma lists of those; `names`
/// stand for `base`, `base + 1`, ….
fn field(
    text: &str,
    lo: u8,
    hi: u8,
    names: &[&str],
    base: u8,
    what: &str,
) -> Result<Vec<u8>, String> {
    let value = |v: &str| -> Result<u8, String> {
        if let Some(i) = names.iter().position(|n| *n == v) {
            return Ok(base + i as u8);
        }
        match v.parse::<u8>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(n),
            _ => Err(format!("'{v}' is not a {what} ({lo}-{hi})")),
        }
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u8>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("'{s}' is not a step for {what}"))?,
            ),
            None => (part, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let v = value(range)?;
            (v, if part.contains('/') { hi } else { v })
        };
        if a > b {
            return Err(format!("'{range}' runs backwards"));
        }
        out.extend((a..=b).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}
