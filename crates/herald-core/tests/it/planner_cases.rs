//! Worked examples of the planner, one behaviour each.

use herald_core::planner::{NoticeKind, Verdict};
use jiff::civil::date;
use rust_decimal::Decimal;

use crate::support::*;

#[test]
fn an_unpaid_invoice_gets_every_notice_in_order_and_each_once() {
    let issue = date(2026, 10, 1);
    let due = date(2026, 10, 15);
    let mut sim = Sim::new(
        default_rules(),
        customer("C1"),
        vec![billing("C1")],
        vec![invoice("I1", "C1", issue, due, "1234.50", "PLN")],
        vec![],
    );
    let mut seen = Vec::new();
    for d in 0..90 {
        for n in sim.run(day(issue, d)) {
            seen.push((day(issue, d), n.rule_id.clone(), n.level));
        }
    }
    let got: Vec<(String, Option<u32>)> = seen.iter().map(|(_, r, l)| (r.clone(), *l)).collect();
    assert_eq!(
        got,
        vec![
            ("new-invoice".into(), None),
            ("due-soon".into(), None),
            ("dunning".into(), Some(1)),
            ("grace-end".into(), None),
            ("dunning".into(), Some(2)),
            ("dunning".into(), Some(3)),
            ("dunning".into(), Some(3)),
            ("dunning".into(), Some(3)),
        ],
        "{seen:?}"
    );
    let days: Vec<_> = seen.iter().map(|(d, _, _)| d.to_string()).collect();
    assert_eq!(
        days,
        [
            "2026-10-01",
            "2026-10-12",
            "2026-10-22",
            "2026-10-25",
            "2026-11-05",
            "2026-11-19",
            "2026-12-03",
            "2026-12-17"
        ]
    );
}

#[test]
fn a_paid_invoice_is_never_reminded_and_a_partial_payment_is_not_ignored() {
    let issue = date(2026, 10, 1);
    let due = date(2026, 10, 15);
    let invoices = vec![
        invoice("I1", "C1", issue, due, "1000", "PLN"),
        invoice("I2", "C1", issue, due, "500", "PLN"),
    ];
    let payments = vec![
        SimPayment {
            invoice: 0,
            on: date(2026, 10, 10),
            amount: Decimal::from(1000),
        },
        SimPayment {
            invoice: 1,
            on: date(2026, 10, 10),
            amount: Decimal::from(200),
        },
    ];
    let mut sim = Sim::new(
        default_rules(),
        customer("C1"),
        vec![billing("C1")],
        invoices,
        payments,
    );
    for d in 0..60 {
        sim.run(day(issue, d));
    }
    for (n, _) in sim.recorded.values() {
        if n.rule_id != "new-invoice" {
            assert!(
                !n.invoice_ids.iter().any(|i| i.as_str() == "I1"),
                "paid invoice I1 in {}",
                n.dedupe_key
            );
        }
    }
    assert!(
        sim.recorded
            .keys()
            .any(|k| k.starts_with("due-soon:invoice/I2")),
        "partly paid I2 still gets its due-soon"
    );
}

#[test]
fn an_invoice_imported_long_after_its_dates_is_history_but_its_debt_is_dunned() {
    let issue = date(2026, 8, 1);
    let due = date(2026, 8, 15);
    let mut sim = Sim::new(
        default_rules(),
        customer("C1"),
        vec![billing("C1")],
        vec![invoice("I1", "C1", issue, due, "100", "EUR")],
        vec![],
    );
    // herald first hears of the invoice on 2026-10-01: its new-invoice, due-soon and
    // grace-end times passed before herald knew it. Nothing was missed: no record.
    sim.watermark = Some(end_of(date(2026, 9, 30)));
    let created = sim.run(date(2026, 10, 1));
    let rules: Vec<&str> = created.iter().map(|n| n.rule_id.as_str()).collect();
    assert_eq!(rules, ["dunning"], "{created:?}");
    // 47 days overdue: the letter goes at level 3 directly, covering levels 1 and 2.
    let letter = &created[0];
    assert_eq!(letter.verdict, Verdict::Deliver);
    assert_eq!(letter.level, Some(3));
    assert_eq!(
        (letter.covers[0].from, letter.covers[0].to),
        (0, 3),
        "steps 1, 2 and 3 in one letter"
    );
}

#[test]
fn a_notice_missed_while_herald_knew_the_invoice_is_recorded_too_late() {
    let issue = date(2026, 10, 1);
    let due = date(2026, 10, 15);
    let mut sim = Sim::new(
        default_rules(),
        customer("C1"),
        vec![billing("C1")],
        vec![invoice("I1", "C1", issue, due, "100", "EUR")],
        vec![],
    );
    sim.run(issue);
    // The service is down from 2 to 20 October: due-soon (12 Oct) is found 8 days
    // late, past its max_delay of 3 days. Recorded, with the reason, never sent.
    let created = sim.run(date(2026, 10, 20));
    let due_soon = created
        .iter()
        .find(|n| n.rule_id == "due-soon")
        .expect("due-soon recorded");
    assert!(
        matches!(&due_soon.verdict, Verdict::NotApplicable(r) if r.contains("too late")),
        "{due_soon:?}"
    );
}

#[test]
fn one_letter_lists_every_overdue_invoice_in_every_currency() {
    let issue = date(2026, 9, 1);
    let invoices = vec![
        invoice("I1", "C1", issue, date(2026, 9, 10), "100", "PLN"),
        invoice("I2", "C1", issue, date(2026, 9, 12), "200", "EUR"),
        invoice("I3", "C1", issue, date(2026, 9, 30), "300", "PLN"),
    ];
    let mut sim = Sim::new(
        default_rules(),
        customer("C1"),
        vec![billing("C1")],
        invoices,
        vec![],
    );
    let created = sim.run(date(2026, 9, 20));
    let letters: Vec<_> = created
        .iter()
        .filter(|n| n.kind == NoticeKind::Dunning)
        .collect();
    assert_eq!(letters.len(), 1, "one letter per customer");
    let ids: Vec<&str> = letters[0].invoice_ids.iter().map(|i| i.as_str()).collect();
    assert_eq!(ids, ["I1", "I2"], "I3 is not overdue yet");
    assert_eq!(letters[0].dedupe_key, "dunning:customer/C1:2026-09-20");
}

#[test]
fn nobody_to_tell_is_not_applicable_with_the_reason() {
    let issue = date(2026, 10, 1);
    let mut no_optin = billing("C1");
    no_optin.email_opt_in = false;
    let mut sim = Sim::new(
        default_rules(),
        customer("C1"),
        vec![no_optin],
        vec![invoice("I1", "C1", issue, date(2026, 10, 20), "1", "PLN")],
        vec![],
    );
    let created = sim.run(issue);
    assert!(
        matches!(&created[0].verdict, Verdict::NotApplicable(r) if r.contains("no recipient")),
        "{created:?}"
    );
}

#[test]
fn a_contact_of_another_role_is_the_fallback_when_no_billing_contact_can_be_reached() {
    let issue = date(2026, 10, 1);
    let mut other = billing("C1");
    other.role = "accounting".into();
    let mut sim = Sim::new(
        default_rules(),
        customer("C1"),
        vec![other],
        vec![invoice("I1", "C1", issue, date(2026, 10, 20), "1", "PLN")],
        vec![],
    );
    let created = sim.run(issue);
    assert_eq!(created[0].verdict, Verdict::Deliver);
    assert_eq!(created[0].deliveries[0].address, "anna@example.pl");
}

#[test]
fn daylight_saving_does_not_move_a_reminder_to_another_day() {
    // Due 2026-10-28: due-soon on 2026-10-25, the night clocks go back in Warsaw.
    let mut sim = Sim::new(
        default_rules(),
        customer("C1"),
        vec![billing("C1")],
        vec![invoice(
            "I1",
            "C1",
            date(2026, 10, 20),
            date(2026, 10, 28),
            "1",
            "PLN",
        )],
        vec![],
    );
    let mut when = None;
    for d in 0..10 {
        let today = day(date(2026, 10, 20), d);
        if sim.run(today).iter().any(|n| n.rule_id == "due-soon") {
            when = Some(today);
        }
    }
    assert_eq!(when, Some(date(2026, 10, 25)));
    let (n, _) = sim
        .recorded
        .values()
        .find(|(n, _)| n.rule_id == "due-soon")
        .unwrap();
    assert_eq!(
        n.fire_at.to_zoned(tz()).time(),
        jiff::civil::time(8, 0, 0, 0),
        "08:00 local, after the change"
    );
}

#[test]
fn a_failed_delivery_falls_back_to_the_contacts_next_channel_only_when_asked_and_reachable() {
    use herald_core::planner::{CustomerBook, PlannedDelivery, channel_fallback};
    use herald_core::rules::ChannelKind;
    use herald_core::values::{Locale, PhoneNumber};

    let mut anna = billing("C1");
    anna.phone = Some(PhoneNumber::parse("+48601234567").unwrap());
    anna.sms_opt_in = true;
    let book = |contacts: Vec<_>| CustomerBook {
        customer: customer("C1"),
        contacts,
        invoices: Vec::new(),
        related: Vec::new(),
    };
    let mut audience = audience();
    audience.channels = vec![ChannelKind::Sms, ChannelKind::Email];
    audience.channel_fallback = true;
    let failed_sms = PlannedDelivery {
        channel: ChannelKind::Sms,
        name: "Anna Nowak".into(),
        address: "+48601234567".into(),
        locale: Locale::Pl,
    };

    let next = channel_fallback(&audience, &book(vec![anna.clone()]), &failed_sms).unwrap();
    assert_eq!(next.channel, ChannelKind::Email);
    assert_eq!(next.address, "anna@example.pl");
    assert_eq!(next.locale, Locale::Pl);

    // Not asked for.
    let mut off = audience.clone();
    off.channel_fallback = false;
    assert_eq!(
        channel_fallback(&off, &book(vec![anna.clone()]), &failed_sms),
        None
    );
    // No opt-in for e-mail: consent holds over the fallback.
    let mut no_email = anna.clone();
    no_email.email_opt_in = false;
    assert_eq!(
        channel_fallback(&audience, &book(vec![no_email]), &failed_sms),
        None
    );
    // Not a contact (a fixed address), or a contact no longer there.
    let mut stranger = failed_sms.clone();
    stranger.name = "Someone Else".into();
    assert_eq!(
        channel_fallback(&audience, &book(vec![anna.clone()]), &stranger),
        None
    );
    // Only later channels: a failed e-mail does not go back to SMS.
    let failed_email = PlannedDelivery {
        channel: ChannelKind::Email,
        address: "ANNA@example.pl".into(),
        ..failed_sms.clone()
    };
    assert_eq!(
        channel_fallback(&audience, &book(vec![anna.clone()]), &failed_email),
        None
    );
    audience.channels = vec![ChannelKind::Email, ChannelKind::Sms];
    let next = channel_fallback(&audience, &book(vec![anna]), &failed_email).unwrap();
    assert_eq!(next.channel, ChannelKind::Sms);
    assert_eq!(next.address, "+48601234567");
}

#[test]
fn operators_are_reached_by_relation_and_by_role_without_an_opt_in() {
    use herald_core::planner::{CustomerBook, RelatedOperator, recipients};
    use herald_core::records::Operator;
    use herald_core::rules::{ChannelKind, RecipientSpec};
    use herald_core::values::{EmailAddress, OperatorId, PhoneNumber};

    let op = |id: &str, mail: Option<&str>, tel: Option<&str>, roles: &[&str]| Operator {
        id: OperatorId::parse(id).unwrap(),
        name: id.to_uppercase(),
        email: mail.map(|m| EmailAddress::parse(m).unwrap()),
        phone: tel.map(|t| PhoneNumber::parse(t).unwrap()),
        locale: None,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    };
    let ewa = op(
        "ewa",
        Some("ewa@biuro.pl"),
        Some("+48600100200"),
        &["accounting"],
    );
    let jan = op("jan", None, Some("+48600300400"), &["hr", "dunning"]);
    let book = CustomerBook {
        customer: customer("C1"),
        contacts: vec![billing("C1")],
        invoices: Vec::new(),
        related: vec![
            RelatedOperator {
                relation: "accounting_manager".into(),
                operator: ewa.clone(),
            },
            RelatedOperator {
                relation: "hr_manager".into(),
                operator: jan.clone(),
            },
        ],
    };
    let mut s = settings();
    s.staff = vec![ewa, jan];
    let mut a = audience();
    a.to = vec![
        RecipientSpec::Relation("accounting_manager".into()),
        RecipientSpec::OperatorRole("dunning".into()),
    ];
    a.channels = vec![ChannelKind::Email, ChannelKind::Sms];
    let got: Vec<(ChannelKind, String)> = recipients(&a, &book, &s)
        .into_iter()
        .map(|d| (d.channel, d.address))
        .collect();
    assert_eq!(
        got,
        [
            (ChannelKind::Email, "ewa@biuro.pl".to_owned()),
            (ChannelKind::Sms, "+48600300400".to_owned()),
        ],
        "Ewa by e-mail (first channel), Jan by SMS (he has no e-mail)"
    );
    // Operators are not contacts: naming them does not stop the fallback to any
    // contact when no billing contact can be reached.
    a.to = vec![
        RecipientSpec::CustomerRole("nobody".into()),
        RecipientSpec::Relation("hr_manager".into()),
    ];
    let got: Vec<String> = recipients(&a, &book, &s)
        .into_iter()
        .map(|d| d.address)
        .collect();
    assert_eq!(got, ["+48600300400", "anna@example.pl"]);
}
