use std::str::FromStr;

use herald_core::planner::{
    CoveredSteps, NoticeKind, PlannedDelivery, PlannedNotification, Verdict,
};
use herald_core::records::{Contact, Customer, Invoice, Payment};
use herald_core::rules::ChannelKind;
use herald_core::{Currency, CustomerId, EmailAddress, InvoiceId, Locale, PaymentId};
use herald_store::Store;
use herald_store::testing::TestDatabase;
use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;

pub struct TestStore {
    pub store: Store,
    pub _db: TestDatabase,
}

/// An empty store of the suite's backend (`HERALD_TEST_BACKEND`).
pub async fn store() -> TestStore {
    let db = TestDatabase::for_suite();
    let store = Store::open(db.url())
        .await
        .unwrap_or_else(|e| panic!("cannot open the test store {}: {e}", db.url()));
    TestStore { store, _db: db }
}

pub fn cid(s: &str) -> CustomerId {
    CustomerId::parse(s).unwrap()
}
pub fn iid(s: &str) -> InvoiceId {
    InvoiceId::parse(s).unwrap()
}
pub fn d(s: &str) -> Date {
    s.parse().unwrap()
}
pub fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}
pub fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}
pub fn pln() -> Currency {
    Currency::parse("PLN").unwrap()
}

pub fn customer(id: &str) -> Customer {
    Customer {
        id: cid(id),
        name: format!("Customer {id}"),
        group: None,
        locale: Some(Locale::Pl),
        time_zone: None,
    }
}

pub fn contact(customer: &str, role: &str, email: &str) -> Contact {
    Contact {
        customer_id: cid(customer),
        role: role.into(),
        name: format!("{role} at {customer}"),
        email: Some(EmailAddress::parse(email).unwrap()),
        phone: None,
        email_opt_in: true,
        sms_opt_in: false,
    }
}

pub fn invoice(id: &str, customer: &str, issue: &str, due: &str, amount: &str) -> Invoice {
    Invoice {
        id: iid(id),
        number: format!("FV/{id}"),
        customer_id: cid(customer),
        issue_date: d(issue),
        due_date: d(due),
        currency: pln(),
        amount: dec(amount),
        attachment: None,
    }
}

pub fn payment(id: &str, invoice: &str, date: &str, amount: &str) -> Payment {
    Payment {
        id: PaymentId::parse(id).unwrap(),
        invoice_id: iid(invoice),
        date: d(date),
        amount: dec(amount),
    }
}

pub fn delivery(address: &str) -> PlannedDelivery {
    PlannedDelivery {
        channel: ChannelKind::Email,
        name: "Billing".into(),
        address: address.into(),
        locale: Locale::Pl,
    }
}

pub fn notice(key: &str, customer: &str, invoice: &str, fire_at: &str) -> PlannedNotification {
    PlannedNotification {
        dedupe_key: key.into(),
        rule_id: key.split(':').next().unwrap().into(),
        kind: NoticeKind::Invoice,
        customer_id: Some(cid(customer)),
        invoice_ids: vec![iid(invoice)],
        level: None,
        template: "due-soon".into(),
        fire_at: t(fire_at),
        subject: None,
        occurs_at: None,
        event_id: None,
        verdict: Verdict::Deliver,
        deliveries: vec![delivery(&format!("billing@{customer}.example.com"))],
        covers: Vec::new(),
    }
}

/// A dunning letter for `customer` on `day` covering `(invoice, level, covered, next_on)`.
pub fn letter(
    customer: &str,
    day: &str,
    steps: &[(&str, u32, u32, Option<&str>)],
) -> PlannedNotification {
    let mut invoice_ids: Vec<InvoiceId> = steps.iter().map(|s| iid(s.0)).collect();
    invoice_ids.sort();
    invoice_ids.dedup();
    PlannedNotification {
        dedupe_key: format!("dunning:customer/{customer}:{day}"),
        rule_id: "dunning".into(),
        kind: NoticeKind::Dunning,
        customer_id: Some(cid(customer)),
        invoice_ids,
        level: steps.iter().map(|s| s.1).max(),
        template: "dunning-1".into(),
        fire_at: t(&format!("{day}T08:00:00Z")),
        subject: None,
        occurs_at: None,
        event_id: None,
        verdict: Verdict::Deliver,
        deliveries: vec![delivery(&format!("billing@{customer}.example.com"))],
        covers: steps
            .iter()
            .map(|(inv, _level, covered, next)| CoveredSteps {
                invoice_id: iid(inv),
                from: covered - 1,
                to: *covered,
                next_on: next.map(d),
            })
            .collect(),
    }
}

/// Two customers with contacts and a few invoices.
pub async fn seed(s: &Store) {
    s.upsert_customers(&[customer("C1"), customer("C2"), customer("C3")])
        .await
        .unwrap();
    s.upsert_contacts(&[
        contact("C1", "billing", "billing@c1.example.com"),
        contact("C2", "billing", "b@c2.example.com"),
    ])
    .await
    .unwrap();
}

/// Everything recorded about one invoice, as `herald history --invoice` shows it.
pub async fn invoice_history(s: &Store, id: &str) -> Vec<herald_store::HistoryEntry> {
    s.history(&herald_store::HistoryFilter {
        invoice: Some(iid(id)),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Everything recorded about one customer, as `herald history --customer` shows it.
pub async fn customer_history(s: &Store, id: &str) -> Vec<herald_store::HistoryEntry> {
    s.history(&herald_store::HistoryFilter {
        customer: Some(cid(id)),
        ..Default::default()
    })
    .await
    .unwrap()
}

/// How many dunning steps of this invoice letters cover so far.
pub async fn covered(s: &Store, id: &str) -> u32 {
    s.invoice(&iid(id)).await.unwrap().unwrap().dunning_covered
}
