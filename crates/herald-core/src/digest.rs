//! Digests on a schedule (seed 002): how many invoices each operator approved
//! since the previous digest, today, this week and this month, told to each
//! operator about themselves or to the office about everyone.
//!
//! The counts come from events (`invoice.approved`, one per approval, naming the
//! operator). A digest is planned at its schedule's firing; its period runs from
//! the firing before. A digest with nothing in its period is not sent unless the
//! rule says `send_empty`.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::message::ActivityCounts;
use crate::planner::{
    NoticeKind, PlanSettings, PlannedDelivery, PlannedNotification, office_recipients,
    operator_delivery, verdict_for,
};
use crate::records::Operator;
use crate::rules::{DigestFor, DigestRule};

/// The moments a digest at `at` counts from: its period (from the previous
/// firing), and the start of its local day, week (Monday) and month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestPeriods {
    pub period_from: Timestamp,
    pub day_from: Timestamp,
    pub week_from: Timestamp,
    pub month_from: Timestamp,
    pub until: Timestamp,
}

impl DigestPeriods {
    /// A digest at `at` whose previous firing was `previous`, in `tz`. Midnight
    /// is the day's first moment even where daylight saving skips it.
    pub fn new(previous: Timestamp, at: Timestamp, tz: &TimeZone) -> DigestPeriods {
        let local = at.to_zoned(tz.clone());
        let date = local.date();
        let start =
            |d: jiff::civil::Date| d.to_zoned(tz.clone()).map_or(at, |z| z.timestamp()).min(at);
        let monday = date
            .checked_sub(jiff::Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
            .unwrap_or(date);
        DigestPeriods {
            period_from: previous.min(at),
            day_from: start(date),
            week_from: start(monday),
            month_from: start(date.first_of_month()),
            until: at,
        }
    }
}

/// One operator's counts at a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorActivity {
    pub operator: Operator,
    pub counts: ActivityCounts,
}

/// The digests `rule` sends at its firing `at` (the periods of `periods`):
/// one per operator in `activity` for [`DigestFor::EachOperator`], one to the
/// office otherwise. The dedupe key names the firing, so a re-run writes none
/// again; `activity` lists every operator, counted or not.
pub fn plan_digest(
    rule: &DigestRule,
    periods: &DigestPeriods,
    activity: &[OperatorActivity],
    settings: &PlanSettings,
) -> Vec<PlannedNotification> {
    if !rule.enabled {
        return Vec::new();
    }
    let firing = periods
        .until
        .to_zoned(settings.time_zone.clone())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let notice = |dedupe_key: String, subject: Option<String>, deliveries: Vec<PlannedDelivery>| {
        let verdict = verdict_for(rule.send, &deliveries, &rule.audience, None);
        PlannedNotification {
            dedupe_key,
            rule_id: rule.id.clone(),
            kind: NoticeKind::Digest,
            customer_id: None,
            invoice_ids: Vec::new(),
            level: None,
            template: rule.template.clone(),
            fire_at: periods.until,
            subject,
            occurs_at: Some(periods.period_from),
            event_id: None,
            verdict,
            deliveries,
            covers: Vec::new(),
        }
    };
    match rule.digest_for {
        DigestFor::EachOperator => activity
            .iter()
            .filter(|a| rule.send_empty || a.counts.period > 0)
            .map(|a| {
                let deliveries = operator_delivery(&rule.audience.channels, &a.operator, settings)
                    .into_iter()
                    .collect();
                notice(
                    format!("{}:digest/{firing}/operator/{}", rule.id, a.operator.id),
                    Some(a.operator.id.to_string()),
                    deliveries,
                )
            })
            .collect(),
        DigestFor::Office => {
            if !rule.send_empty && activity.iter().all(|a| a.counts.period == 0) {
                return Vec::new();
            }
            let deliveries = office_recipients(&rule.audience, settings);
            vec![notice(
                format!("{}:digest/{firing}", rule.id),
                None,
                deliveries,
            )]
        }
    }
}
