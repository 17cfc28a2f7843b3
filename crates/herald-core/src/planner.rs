//! The planner: rules × records × a time window → the notifications that are due.
//!
//! It is a pure function of its inputs, so the same inputs always plan the same
//! notifications with the same `dedupe_key`s, and the store's
//! `INSERT … ON CONFLICT (dedupe_key) DO NOTHING` makes a re-run a no-op.
//!
//! A run looks at the triggers whose fire time falls in `(window.after, window.until]`,
//! plus every trigger, however old, of the records that changed since the last run
//! (an invoice imported late still gets its notices, or a NotApplicable saying why).
//! A missed day is therefore caught up, never skipped.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Unit};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::records::{Contact, Customer, Invoice, Operator};
use crate::rules::{
    Audience, ChannelKind, Condition, InvoiceRule, InvoiceTrigger, RecipientSpec, RuleId, Rules,
};
use crate::values::{CustomerId, InvoiceId, Locale};

/// The stretch of time a planning run is responsible for: `(after, until]`.
/// `after` is the previous run's `until` (the watermark); `None` on the first run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub after: Option<Timestamp>,
    pub until: Timestamp,
}

/// The tenant settings planning depends on.
#[derive(Debug, Clone)]
pub struct PlanSettings {
    pub time_zone: TimeZone,
    pub default_locale: Locale,
    /// Every operator, for recipients by operator role (`operator:ROLE`).
    pub staff: Vec<Operator>,
}

/// An operator in a relation to a customer (`accounting_manager`…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelatedOperator {
    pub relation: String,
    pub operator: Operator,
}

/// An invoice with what the store knows about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceView {
    pub invoice: Invoice,
    /// Sum of payments applied (may exceed the amount: a credit).
    pub paid: Decimal,
    /// Changed (imported, edited, paid) since the last planning run.
    pub changed: bool,
    /// No planning run has seen this invoice before: it arrived since the last one.
    pub first_seen: bool,
    /// How many steps of its customer's dunning ladder are already covered by letters.
    pub dunning_covered: u32,
}

impl InvoiceView {
    /// What is still owed; never negative (an overpayment is a credit, not debt).
    pub fn balance(&self) -> Decimal {
        (self.invoice.amount - self.paid).max(Decimal::ZERO)
    }
}

/// One customer with everything planning needs about it.
#[derive(Debug, Clone)]
pub struct CustomerBook {
    pub customer: Customer,
    pub contacts: Vec<Contact>,
    pub invoices: Vec<InvoiceView>,
    /// The operators in a relation to the customer.
    pub related: Vec<RelatedOperator>,
}

/// Whether a planned notification is to be delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    Deliver,
    /// Recorded with the reason, never delivered: too late, generate-only, nobody to tell.
    NotApplicable(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// About one invoice (new-invoice, due-soon, grace-end…).
    Invoice,
    /// A consolidated dunning letter about a customer's overdue invoices.
    Dunning,
    /// A reminder of one occurrence of a task (`subject` is the task id,
    /// `occurs_at` the occurrence's start).
    Task,
    /// A notice on an event (`subject` is what the event is about, e.g. the
    /// customs declaration; `event_id` the event).
    Event,
    /// Activity counted on a schedule, to an operator or the office (`subject`
    /// is the operator of an operator's own digest, `occurs_at` the start of the
    /// period counted).
    Digest,
}

/// One person on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedDelivery {
    pub channel: ChannelKind,
    pub name: String,
    /// E-mail address or E.164 phone number.
    pub address: String,
    pub locale: Locale,
}

/// The dunning steps of one invoice that a letter covers: steps `from..to` of the
/// ladder. The store records the letter only if the invoice still has `from` steps
/// covered when it writes, so no step is ever covered by two letters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoveredSteps {
    pub invoice_id: InvoiceId,
    /// The invoice's `dunning_covered` when the letter was planned.
    pub from: u32,
    /// The invoice's `dunning_covered` once this letter is stored.
    pub to: u32,
    /// When the invoice's next step falls due, if the ladder goes on.
    pub next_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedNotification {
    pub dedupe_key: String,
    pub rule_id: RuleId,
    pub kind: NoticeKind,
    /// `None`: a notice to the office about no customer (a digest, an absence).
    pub customer_id: Option<CustomerId>,
    /// The invoices the notice is about: one, or every overdue one in a letter.
    pub invoice_ids: Vec<InvoiceId>,
    pub level: Option<u32>,
    pub template: String,
    pub fire_at: Timestamp,
    /// What the notice is about when it is not invoices: a task id, a declaration
    /// number.
    pub subject: Option<String>,
    /// The start of the task occurrence a reminder is about.
    pub occurs_at: Option<Timestamp>,
    /// The event a notice answers.
    pub event_id: Option<crate::values::EventId>,
    pub verdict: Verdict,
    pub deliveries: Vec<PlannedDelivery>,
    pub covers: Vec<CoveredSteps>,
}

/// The calendar date of an instant in the tenant's time zone.
pub fn local_date(t: Timestamp, tz: &TimeZone) -> Date {
    t.to_zoned(tz.clone()).date()
}

/// Whole days from `from` to `to` (negative when `to` is earlier).
pub fn days_between(from: Date, to: Date) -> i64 {
    from.until((Unit::Day, to))
        .map_or(0, |s| i64::from(s.get_days()))
}

fn fire_time(date: Date, audience: &Audience, tz: &TimeZone) -> Timestamp {
    // `to_zoned` resolves a time that daylight saving skips or repeats the way
    // RFC 5545 does (later for a gap, earlier for a fold): the day never shifts.
    date.to_datetime(audience.at)
        .to_zoned(tz.clone())
        .map_or_else(|_| Timestamp::UNIX_EPOCH, |z| z.timestamp())
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(n.days()).unwrap_or(d)
}

pub(crate) fn reachable(c: &Contact, ch: ChannelKind) -> Option<String> {
    match ch {
        ChannelKind::Email if c.email_opt_in => c.email.as_ref().map(|e| e.to_string()),
        ChannelKind::Sms if c.sms_opt_in => c.phone.as_ref().map(|p| p.to_string()),
        _ => None,
    }
}

/// Who gets a notice and on which channel. A contact is reached on the first of
/// the rule's channels it has an address and an opt-in for; the same address is
/// never listed twice (one letter, not one per CC).
pub fn recipients(
    audience: &Audience,
    book: &CustomerBook,
    settings: &PlanSettings,
) -> Vec<PlannedDelivery> {
    let locale = book.customer.locale.unwrap_or(settings.default_locale);
    let mut out: Vec<PlannedDelivery> = Vec::new();
    let push = |out: &mut Vec<PlannedDelivery>, d: PlannedDelivery| {
        if !out
            .iter()
            .any(|o| o.channel == d.channel && o.address.eq_ignore_ascii_case(&d.address))
        {
            out.push(d);
        }
    };
    let reach = |c: &Contact| {
        audience
            .channels
            .iter()
            .find_map(|ch| reachable(c, *ch).map(|a| (*ch, a)))
            .map(|(channel, address)| PlannedDelivery {
                channel,
                name: c.name.clone(),
                address,
                locale,
            })
    };
    let mut any_role = false;
    for spec in &audience.to {
        match spec {
            RecipientSpec::CustomerRole(role) => {
                any_role = true;
                for c in book
                    .contacts
                    .iter()
                    .filter(|c| c.role.eq_ignore_ascii_case(role))
                {
                    if let Some(d) = reach(c) {
                        push(&mut out, d);
                    }
                }
            }
            RecipientSpec::Address(a) if audience.channels.contains(&ChannelKind::Email) => push(
                &mut out,
                PlannedDelivery {
                    channel: ChannelKind::Email,
                    name: String::new(),
                    address: a.to_string(),
                    locale,
                },
            ),
            RecipientSpec::Address(_) => {}
            RecipientSpec::Webhook(name) => push(
                &mut out,
                PlannedDelivery {
                    channel: ChannelKind::Webhook,
                    name: String::new(),
                    address: name.clone(),
                    locale,
                },
            ),
            RecipientSpec::AnyContact => {
                for c in &book.contacts {
                    if let Some(d) = reach(c) {
                        push(&mut out, d);
                    }
                }
            }
            RecipientSpec::Relation(relation) => {
                for r in book
                    .related
                    .iter()
                    .filter(|r| r.relation.eq_ignore_ascii_case(relation))
                {
                    if let Some(d) = operator_delivery(&audience.channels, &r.operator, settings) {
                        push(&mut out, d);
                    }
                }
            }
            RecipientSpec::OperatorRole(role) => {
                for d in staff_in_role(audience, role, settings) {
                    push(&mut out, d);
                }
            }
        }
    }
    if any_role
        && audience.any_contact
        && !out.iter().any(|d| !is_fixed(audience, book, settings, d))
    {
        // Nobody in the named roles can be reached: any reachable contact of the
        // customer is better than silence.
        for c in &book.contacts {
            if let Some(d) = reach(c) {
                push(&mut out, d);
            }
        }
    }
    out
}

/// The operators with `role`, each on the first of the rule's channels they have
/// an address for.
fn staff_in_role<'a>(
    audience: &'a Audience,
    role: &'a str,
    settings: &'a PlanSettings,
) -> impl Iterator<Item = PlannedDelivery> + 'a {
    settings
        .staff
        .iter()
        .filter(move |o| o.roles.iter().any(|r| r.eq_ignore_ascii_case(role)))
        .filter_map(move |o| operator_delivery(&audience.channels, o, settings))
}

/// Who gets a notice to the office, which concerns no customer's people: the
/// rule's fixed addresses (by e-mail), operators by role and webhooks. Customer
/// roles and relations name nobody here.
pub fn office_recipients(audience: &Audience, settings: &PlanSettings) -> Vec<PlannedDelivery> {
    let mut out: Vec<PlannedDelivery> = Vec::new();
    let mut push = |d: PlannedDelivery| {
        if !out
            .iter()
            .any(|o| o.channel == d.channel && o.address.eq_ignore_ascii_case(&d.address))
        {
            out.push(d);
        }
    };
    for spec in &audience.to {
        match spec {
            RecipientSpec::Address(a) if audience.channels.contains(&ChannelKind::Email) => {
                push(PlannedDelivery {
                    channel: ChannelKind::Email,
                    name: String::new(),
                    address: a.to_string(),
                    locale: settings.default_locale,
                });
            }
            RecipientSpec::Webhook(name) => push(PlannedDelivery {
                channel: ChannelKind::Webhook,
                name: String::new(),
                address: name.clone(),
                locale: settings.default_locale,
            }),
            RecipientSpec::OperatorRole(role) => {
                for d in staff_in_role(audience, role, settings) {
                    push(d);
                }
            }
            RecipientSpec::Address(_)
            | RecipientSpec::CustomerRole(_)
            | RecipientSpec::AnyContact
            | RecipientSpec::Relation(_) => {}
        }
    }
    out
}

/// Where a notice goes on when its delivery `failed` failed for good and the rule
/// has `channel_fallback`: the same contact on the first channel after the failed
/// one in the rule's `channels` that it can be reached on (an address and an
/// opt-in). Only later channels: a fallback that fails too does not go back to
/// the first. `None` for a recipient that is not one of the customer's contacts
/// (a fixed address, a webhook) and for a contact with no other way to reach them.
pub fn channel_fallback(
    audience: &Audience,
    book: &CustomerBook,
    failed: &PlannedDelivery,
) -> Option<PlannedDelivery> {
    if !audience.channel_fallback {
        return None;
    }
    let is_failed_contact = |c: &&Contact| {
        c.name == failed.name
            && match failed.channel {
                ChannelKind::Email => c
                    .email
                    .as_ref()
                    .is_some_and(|e| e.as_str().eq_ignore_ascii_case(&failed.address)),
                ChannelKind::Sms => c
                    .phone
                    .as_ref()
                    .is_some_and(|p| p.as_str() == failed.address),
                ChannelKind::Webhook => false,
            }
    };
    let contact = book.contacts.iter().find(is_failed_contact)?;
    audience
        .channels
        .iter()
        .skip_while(|ch| **ch != failed.channel)
        .skip(1)
        .find_map(|ch| {
            reachable(contact, *ch).map(|address| PlannedDelivery {
                channel: *ch,
                name: contact.name.clone(),
                address,
                locale: failed.locale,
            })
        })
}

/// An operator is reached on whatever the business system gave for them, in the
/// rule's order: an employee, not a customer, so no opt-in is asked for.
pub fn operator_delivery(
    channels: &[ChannelKind],
    o: &Operator,
    settings: &PlanSettings,
) -> Option<PlannedDelivery> {
    channels.iter().find_map(|ch| {
        let address = match ch {
            ChannelKind::Email => o.email.as_ref().map(|e| e.to_string()),
            ChannelKind::Sms => o.phone.as_ref().map(|p| p.to_string()),
            ChannelKind::Webhook => None,
        }?;
        Some(PlannedDelivery {
            channel: *ch,
            name: o.name.clone(),
            address,
            locale: o.locale.unwrap_or(settings.default_locale),
        })
    })
}

/// A recipient that is not one of the customer's contacts: an address or webhook
/// the rule names, or an operator.
fn is_fixed(
    audience: &Audience,
    book: &CustomerBook,
    settings: &PlanSettings,
    d: &PlannedDelivery,
) -> bool {
    let is_operator = |o: &Operator| match d.channel {
        ChannelKind::Email => o
            .email
            .as_ref()
            .is_some_and(|e| e.as_str().eq_ignore_ascii_case(&d.address)),
        ChannelKind::Sms => o.phone.as_ref().is_some_and(|p| p.as_str() == d.address),
        ChannelKind::Webhook => false,
    };
    audience.to.iter().any(|s| match s {
        RecipientSpec::Address(a) => a.as_str().eq_ignore_ascii_case(&d.address),
        RecipientSpec::Webhook(name) => d.channel == ChannelKind::Webhook && *name == d.address,
        RecipientSpec::CustomerRole(_) | RecipientSpec::AnyContact => false,
        RecipientSpec::Relation(_) => book.related.iter().any(|r| is_operator(&r.operator)),
        RecipientSpec::OperatorRole(_) => settings.staff.iter().any(is_operator),
    })
}

fn nobody_reason(audience: &Audience) -> String {
    let roles: Vec<&str> = audience
        .to
        .iter()
        .filter_map(|s| match s {
            RecipientSpec::CustomerRole(r) => Some(r.as_str()),
            RecipientSpec::AnyContact => Some("any"),
            RecipientSpec::Address(_)
            | RecipientSpec::Webhook(_)
            | RecipientSpec::Relation(_)
            | RecipientSpec::OperatorRole(_) => None,
        })
        .collect();
    let channels: Vec<&str> = audience.channels.iter().map(|c| c.as_str()).collect();
    if roles.is_empty() {
        return format!(
            "no recipient: none of the rule's addresses, operators or webhooks can be reached by {}; check its `to` and the operators' addresses",
            channels.join(" or ")
        );
    }
    format!(
        "no recipient: no contact (role {}, or any other) has an address and an opt-in for {}",
        if roles.is_empty() {
            "-".to_owned()
        } else {
            roles.join(", ")
        },
        channels.join(" or ")
    )
}

pub(crate) fn verdict_for(
    send: bool,
    deliveries: &[PlannedDelivery],
    audience: &Audience,
    late: Option<String>,
) -> Verdict {
    if let Some(reason) = late {
        Verdict::NotApplicable(reason)
    } else if !send {
        Verdict::NotApplicable("generate only: the rule has send = false".to_owned())
    } else if deliveries.is_empty() {
        Verdict::NotApplicable(nobody_reason(audience))
    } else {
        Verdict::Deliver
    }
}

/// Plans one customer. The store hands the planner the customers that have
/// something in the window (see `herald-store`), one book at a time, so memory
/// stays flat however large the database grows.
pub fn plan_customer(
    rules: &Rules,
    settings: &PlanSettings,
    window: Window,
    book: &CustomerBook,
) -> Vec<PlannedNotification> {
    let tz = &settings.time_zone;
    let today = local_date(window.until, tz);
    let mut out = Vec::new();

    for rule in rules.invoice.iter().filter(|r| {
        r.enabled && r.trigger != InvoiceTrigger::Batch && r.audience.scope.contains(&book.customer)
    }) {
        for view in &book.invoices {
            let inv = &view.invoice;
            let date = rule.trigger_date(inv);
            let fire_at = fire_time(date, &rule.audience, tz);
            if fire_at > window.until {
                continue; // not yet: a later window will see it
            }
            let in_window = window.after.is_none_or(|a| fire_at > a);
            if !in_window && !view.changed {
                continue; // an earlier run already decided this trigger
            }
            if rule.condition == Condition::Unpaid && view.balance() <= Decimal::ZERO {
                continue; // paid: nothing to say
            }
            let dedupe_key = match rule.trigger {
                InvoiceTrigger::Issued | InvoiceTrigger::Batch => {
                    format!("{}:invoice/{}", rule.id, inv.id)
                }
                InvoiceTrigger::DueDate { .. } => format!("{}:invoice/{}:{date}", rule.id, inv.id),
            };
            let late_days = days_between(date, today);
            if late_days > i64::from(rule.max_delay_days) && (view.first_seen || !in_window) {
                // History, not a miss: the notice's time passed before herald ever
                // saw the invoice (a first import of a ledger), or before a change
                // that brings it up again (a payment, a moved due date). Nothing is
                // recorded. A trigger that fell in this run's window while herald
                // knew the invoice was missed (the service was down): that is
                // recorded below as NotApplicable "too late", never silently dropped.
                continue;
            }
            let late = (late_days > i64::from(rule.max_delay_days)).then(|| {
                format!(
                    "too late: it was due on {date} and is planned on {today}, {late_days} days later; the rule's max_delay is {} days",
                    rule.max_delay_days
                )
            });
            let deliveries = recipients(&rule.audience, book, settings);
            out.push(PlannedNotification {
                dedupe_key,
                rule_id: rule.id.clone(),
                kind: NoticeKind::Invoice,
                customer_id: Some(book.customer.id.clone()),
                invoice_ids: vec![inv.id.clone()],
                level: None,
                template: rule.template.clone(),
                fire_at,
                subject: None,
                occurs_at: None,
                event_id: None,
                verdict: verdict_for(rule.send, &deliveries, &rule.audience, late),
                deliveries,
                covers: Vec::new(),
            });
        }
    }

    if let Some(letter) = plan_dunning(rules, settings, window, book, today) {
        out.push(letter);
    }
    out
}

/// One consolidated letter for the customer when any of its unpaid invoices has a
/// dunning step due and not yet covered. The letter's level is the highest due;
/// lower steps that were missed are covered by it (never sent afterwards), so a
/// catch-up sends each level at most once and never climbs back down.
fn plan_dunning(
    rules: &Rules,
    settings: &PlanSettings,
    window: Window,
    book: &CustomerBook,
    today: Date,
) -> Option<PlannedNotification> {
    let rule = rules.dunning_for(&book.customer)?;
    let steps = rule.steps();
    let tz = &settings.time_zone;
    let mut covers = Vec::new();
    let mut level = 0u32;
    let mut fire_at = Timestamp::UNIX_EPOCH;
    for view in book.invoices.iter().filter(|v| v.balance() > Decimal::ZERO) {
        let inv = &view.invoice;
        let due_steps: Vec<_> = steps
            .iter()
            .skip(view.dunning_covered as usize)
            .take_while(|s| {
                fire_time(
                    add_days(inv.due_date, i64::from(s.days_after_due)),
                    &rule.audience,
                    tz,
                ) <= window.until
            })
            .collect();
        let Some(last) = due_steps.last() else {
            continue;
        };
        level = level.max(last.level);
        fire_at = fire_at.max(fire_time(
            add_days(inv.due_date, i64::from(last.days_after_due)),
            &rule.audience,
            tz,
        ));
        let next_on = steps
            .get(last.index as usize + 1)
            .map(|s| add_days(inv.due_date, i64::from(s.days_after_due)));
        covers.push(CoveredSteps {
            invoice_id: inv.id.clone(),
            from: view.dunning_covered,
            to: last.index + 1,
            next_on,
        });
    }
    if covers.is_empty() {
        return None;
    }
    let lvl = rule.level(level)?;
    // The letter lists every overdue invoice with a balance, not only those whose
    // step fell due today: the customer sees the whole debt in one letter.
    let mut invoice_ids: Vec<InvoiceId> = book
        .invoices
        .iter()
        .filter(|v| v.balance() > Decimal::ZERO && v.invoice.due_date < today)
        .map(|v| v.invoice.id.clone())
        .collect();
    invoice_ids.sort();
    let deliveries = recipients(&rule.audience, book, settings);
    Some(PlannedNotification {
        dedupe_key: format!("{}:customer/{}:{today}", rule.id, book.customer.id),
        rule_id: rule.id.clone(),
        kind: NoticeKind::Dunning,
        customer_id: Some(book.customer.id.clone()),
        invoice_ids,
        level: Some(level),
        template: lvl.template.clone(),
        fire_at,
        subject: None,
        occurs_at: None,
        event_id: None,
        verdict: verdict_for(lvl.send, &deliveries, &rule.audience, None),
        deliveries,
        covers,
    })
}

/// Seed 004's batch sending: one notice by `rule` for every invoice of `book`
/// issued in `[from, to]`, due at `now`, paid or not (it is the invoice itself that
/// goes out). The dedupe key is the invoice's, so a second batch over the same
/// period, or an overlapping one, sends nothing twice.
pub fn plan_batch(
    rule: &InvoiceRule,
    book: &CustomerBook,
    settings: &PlanSettings,
    from: Date,
    to: Date,
    now: Timestamp,
) -> Vec<PlannedNotification> {
    if !rule.enabled || !rule.audience.scope.contains(&book.customer) {
        return Vec::new();
    }
    book.invoices
        .iter()
        .filter(|v| v.invoice.issue_date >= from && v.invoice.issue_date <= to)
        .map(|v| {
            let deliveries = recipients(&rule.audience, book, settings);
            PlannedNotification {
                dedupe_key: format!("{}:invoice/{}", rule.id, v.invoice.id),
                rule_id: rule.id.clone(),
                kind: NoticeKind::Invoice,
                customer_id: Some(book.customer.id.clone()),
                invoice_ids: vec![v.invoice.id.clone()],
                level: None,
                template: rule.template.clone(),
                fire_at: now,
                subject: None,
                occurs_at: None,
                event_id: None,
                verdict: verdict_for(rule.send, &deliveries, &rule.audience, None),
                deliveries,
                covers: Vec::new(),
            }
        })
        .collect()
}

/// Seed 003's RESEND: at the schedule's firing `at`, one letter to the customer
/// listing every unpaid invoice that a dunning letter has already reminded.
/// Nothing to list, no letter. The key names the firing, so each is written once.
pub fn plan_summary(
    rule: &crate::rules::SummaryRule,
    book: &CustomerBook,
    settings: &PlanSettings,
    at: Timestamp,
) -> Option<PlannedNotification> {
    if !rule.enabled || !rule.audience.scope.contains(&book.customer) {
        return None;
    }
    let mut invoice_ids: Vec<InvoiceId> = book
        .invoices
        .iter()
        .filter(|v| v.dunning_covered > 0 && v.balance() > Decimal::ZERO)
        .map(|v| v.invoice.id.clone())
        .collect();
    if invoice_ids.is_empty() {
        return None;
    }
    invoice_ids.sort();
    let deliveries = recipients(&rule.audience, book, settings);
    let local = at.to_zoned(settings.time_zone.clone());
    Some(PlannedNotification {
        dedupe_key: format!(
            "{}:customer/{}:{}",
            rule.id,
            book.customer.id,
            local.strftime("%Y-%m-%dT%H:%M")
        ),
        rule_id: rule.id.clone(),
        kind: NoticeKind::Dunning,
        customer_id: Some(book.customer.id.clone()),
        invoice_ids,
        level: None,
        template: rule.template.clone(),
        fire_at: at,
        subject: None,
        occurs_at: None,
        event_id: None,
        verdict: verdict_for(rule.send, &deliveries, &rule.audience, None),
        deliveries,
        covers: Vec::new(),
    })
}

/// Checked again just before sending (invariant 3): is the notice still wanted?
/// Returns the reason to cancel it. A letter whose invoices were all paid since it
/// was planned is cancelled; one with some still owing goes out listing only those.
pub fn cancel_reason(
    condition: Condition,
    kind: NoticeKind,
    balances: &[(InvoiceId, Decimal)],
) -> Option<String> {
    let open = balances.iter().filter(|(_, b)| *b > Decimal::ZERO).count();
    match (kind, condition) {
        (NoticeKind::Dunning, _) if open == 0 => {
            Some("paid: every invoice in this letter was paid before it was sent".to_owned())
        }
        (NoticeKind::Invoice, Condition::Unpaid) if open == 0 => {
            Some("paid: the invoice was paid in full before the notice was sent".to_owned())
        }
        _ => None,
    }
}
