//! A tiny in-memory stand-in for the store, enough to run the pure planner day
//! after day the way `herald run` does: record with ON CONFLICT DO NOTHING
//! semantics, covered dunning steps, a watermark, and a change flag per invoice.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use herald_core::planner::{
    CustomerBook, InvoiceView, NoticeKind, PlanSettings, PlannedNotification, Verdict, Window,
    plan_customer,
};
use herald_core::records::{Contact, Customer, Invoice};
use herald_core::rules::*;
use herald_core::values::*;
use jiff::civil::{Date, Time};
use jiff::{Timestamp, ToSpan};
use rust_decimal::Decimal;

pub fn tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Warsaw").unwrap()
}

pub fn settings() -> PlanSettings {
    PlanSettings {
        time_zone: tz(),
        default_locale: Locale::Pl,
        staff: Vec::new(),
    }
}

/// The end of a civil day in Warsaw, as `--now YYYY-MM-DD` means it.
pub fn end_of(d: Date) -> Timestamp {
    d.at(23, 59, 59, 0).to_zoned(tz()).unwrap().timestamp()
}

pub fn audience() -> Audience {
    Audience {
        to: vec![RecipientSpec::CustomerRole("billing".into())],
        channels: vec![ChannelKind::Email],
        scope: Scope::default(),
        at: Time::constant(8, 0, 0, 0),
        channel_fallback: false,
        any_contact: true,
    }
}

/// The four default rules of `herald init`.
pub fn default_rules() -> Rules {
    let inv = |id: &str, trigger, condition, max_delay_days| InvoiceRule {
        id: id.into(),
        enabled: true,
        trigger,
        condition,
        template: id.into(),
        send: true,
        max_delay_days,
        audience: audience(),
    };
    let lvl = |level, after_days, repeat, interval_days| DunningLevel {
        level,
        after_days,
        template: format!("dunning-{level}"),
        send: true,
        repeat,
        interval_days,
    };
    Rules {
        invoice: vec![
            inv("new-invoice", InvoiceTrigger::Issued, Condition::Always, 7),
            inv(
                "due-soon",
                InvoiceTrigger::DueDate { offset_days: -3 },
                Condition::Unpaid,
                3,
            ),
            inv(
                "grace-end",
                InvoiceTrigger::DueDate { offset_days: 10 },
                Condition::Unpaid,
                5,
            ),
        ],
        dunning: vec![DunningRule {
            id: "dunning".into(),
            enabled: true,
            levels: vec![lvl(1, 7, 0, 0), lvl(2, 21, 0, 0), lvl(3, 35, 2, 14)],
            audience: audience(),
        }],
        task: Vec::new(),
        event: Vec::new(),
        summary: Vec::new(),
        digest: Vec::new(),
    }
}

pub fn customer(id: &str) -> Customer {
    Customer {
        id: CustomerId::parse(id).unwrap(),
        name: format!("Customer {id}"),
        group: None,
        locale: None,
        time_zone: None,
    }
}

pub fn billing(customer: &str) -> Contact {
    Contact {
        customer_id: CustomerId::parse(customer).unwrap(),
        role: "billing".into(),
        name: "Anna Nowak".into(),
        email: Some(EmailAddress::parse("anna@example.pl").unwrap()),
        phone: None,
        email_opt_in: true,
        sms_opt_in: false,
    }
}

pub fn invoice(
    id: &str,
    customer: &str,
    issue: Date,
    due: Date,
    amount: &str,
    currency: &str,
) -> Invoice {
    Invoice {
        id: InvoiceId::parse(id).unwrap(),
        number: format!("FV/{id}"),
        customer_id: CustomerId::parse(customer).unwrap(),
        issue_date: issue,
        due_date: due,
        currency: Currency::parse(currency).unwrap(),
        amount: Decimal::from_str(amount).unwrap(),
        attachment: None,
    }
}

#[derive(Debug, Clone)]
pub struct SimPayment {
    pub invoice: usize,
    pub on: Date,
    pub amount: Decimal,
}

/// What the store would hold after each run.
pub struct Sim {
    pub rules: Rules,
    pub customer: Customer,
    pub contacts: Vec<Contact>,
    pub invoices: Vec<Invoice>,
    pub payments: Vec<SimPayment>,
    pub recorded: BTreeMap<String, (PlannedNotification, Date)>,
    pub covered: HashMap<usize, u32>,
    pub watermark: Option<Timestamp>,
    /// Invoice and paid-amount as of the last run: a difference is a change.
    seen: HashMap<usize, Decimal>,
}

impl Sim {
    pub fn new(
        rules: Rules,
        customer: Customer,
        contacts: Vec<Contact>,
        invoices: Vec<Invoice>,
        payments: Vec<SimPayment>,
    ) -> Self {
        Self {
            rules,
            customer,
            contacts,
            invoices,
            payments,
            recorded: BTreeMap::new(),
            covered: HashMap::new(),
            watermark: None,
            seen: HashMap::new(),
        }
    }

    pub fn paid(&self, i: usize, on: Date) -> Decimal {
        self.payments
            .iter()
            .filter(|p| p.invoice == i && p.on <= on)
            .map(|p| p.amount)
            .sum()
    }

    /// One `herald plan --now <day>`: returns the notifications it created.
    pub fn run(&mut self, day: Date) -> Vec<PlannedNotification> {
        let now = end_of(day);
        let window = Window {
            after: self.watermark.map(|w| w.min(now)),
            until: now,
        };
        let mut views = Vec::new();
        let mut idx = Vec::new();
        for (i, inv) in self.invoices.iter().enumerate() {
            if inv.issue_date > day {
                continue; // the business system has not sent it yet
            }
            let paid = self.paid(i, day);
            let changed = self.seen.get(&i) != Some(&paid);
            views.push(InvoiceView {
                invoice: inv.clone(),
                paid,
                changed,
                first_seen: !self.seen.contains_key(&i),
                dunning_covered: *self.covered.get(&i).unwrap_or(&0),
            });
            idx.push(i);
        }
        let book = CustomerBook {
            customer: self.customer.clone(),
            contacts: self.contacts.clone(),
            invoices: views,
            related: Vec::new(),
        };
        let notes = plan_customer(&self.rules, &settings(), window, &book);
        let mut created = Vec::new();
        for n in notes {
            if self.recorded.contains_key(&n.dedupe_key) {
                continue; // ON CONFLICT DO NOTHING
            }
            let index_of = |c: &herald_core::planner::CoveredSteps| {
                idx[book
                    .invoices
                    .iter()
                    .position(|v| v.invoice.id == c.invoice_id)
                    .unwrap()]
            };
            if n.covers
                .iter()
                .any(|c| *self.covered.get(&index_of(c)).unwrap_or(&0) != c.from)
            {
                continue; // the store skips a letter planned from a stale coverage
            }
            for c in &n.covers {
                self.covered.insert(index_of(c), c.to);
            }
            self.recorded.insert(n.dedupe_key.clone(), (n.clone(), day));
            created.push(n);
        }
        for (pos, i) in idx.iter().enumerate() {
            self.seen.insert(*i, book.invoices[pos].paid);
        }
        if self.watermark.is_none_or(|w| w < now) {
            self.watermark = Some(now);
        }
        created
    }

    pub fn letters(&self) -> Vec<(&PlannedNotification, Date)> {
        self.recorded
            .values()
            .filter(|(n, _)| n.kind == NoticeKind::Dunning)
            .map(|(n, d)| (n, *d))
            .collect()
    }
}

pub fn delivers(n: &PlannedNotification) -> bool {
    n.verdict == Verdict::Deliver
}

pub fn day(d: Date, n: i64) -> Date {
    d.checked_add(n.days()).unwrap()
}
