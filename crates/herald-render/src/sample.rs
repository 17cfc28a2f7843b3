//! Realistic sample data for `herald check` and for previewing templates.

use herald_core::message::{
    ActivityCounts, ActivityLine, CustomerInfo, DigestInfo, InvoiceLine, MessageContext,
    RecipientInfo, TenantInfo,
};
use herald_core::values::Totals;
use herald_core::{Currency, Locale, Money};
use jiff::civil::{Date, date};
use rust_decimal::Decimal;

/// A fixed "today", so previews and snapshots do not change from day to day.
const TODAY: Date = date(2026, 11, 22);

struct People {
    tenant: &'static str,
    tenant_email: &'static str,
    phone: &'static str,
    bank: &'static str,
    customer: &'static str,
    recipient: &'static str,
    address: &'static str,
    home: &'static str,
    foreign: &'static str,
    task: &'static str,
    operator: &'static str,
    operator_address: &'static str,
    /// Two more operators of the office, for the summary of everyone's activity.
    colleagues: [&'static str; 2],
    /// The office's own address (managers, supervisors), which has no name.
    office: &'static str,
    absence_reason: &'static str,
}

fn people(locale: Locale) -> People {
    match locale {
        Locale::En => People {
            tenant: "Northwind Accounting Ltd",
            tenant_email: "billing@northwind.example",
            phone: "+44 20 7946 0000",
            bank: "GB33 BUKB 2020 1555 5555 55",
            customer: "Fabrikam Trading Ltd",
            recipient: "Jane Smith",
            address: "jane.smith@fabrikam.example",
            home: "EUR",
            foreign: "GBP",
            task: "Quarterly VAT return review",
            operator: "Anna Nowak",
            operator_address: "anna.nowak@northwind.example",
            colleagues: ["Tom Baker", "Grace Hill"],
            office: "managers@northwind.example",
            absence_reason: "annual leave",
        },
        Locale::Pl => People {
            tenant: "Biuro Rachunkowe Przykład sp. z o.o.",
            tenant_email: "faktury@przyklad.example",
            phone: "+48 22 123 45 67",
            bank: "PL61 1090 1014 0000 0712 1981 2874",
            customer: "Kowalski i Syn sp.j.",
            recipient: "Jan Kowalski",
            address: "jan.kowalski@kowalski.example",
            home: "PLN",
            foreign: "EUR",
            task: "Przegląd deklaracji VAT za kwartał",
            operator: "Ewa Wiśniewska",
            operator_address: "ewa.wisniewska@przyklad.example",
            colleagues: ["Marek Zieliński", "Agnieszka Wójcik"],
            office: "kierownictwo@przyklad.example",
            absence_reason: "urlop wypoczynkowy",
        },
        Locale::Cs => People {
            tenant: "Účetní kancelář Příklad s.r.o.",
            tenant_email: "fakturace@priklad.example",
            phone: "+420 221 123 456",
            bank: "CZ65 0800 0000 1920 0014 5399",
            customer: "Novák a syn s.r.o.",
            recipient: "Jana Nováková",
            address: "jana.novakova@novak.example",
            home: "CZK",
            foreign: "EUR",
            task: "Kontrola čtvrtletního přiznání k DPH",
            operator: "Petra Dvořáková",
            operator_address: "petra.dvorakova@priklad.example",
            colleagues: ["Tomáš Černý", "Lucie Svobodová"],
            office: "vedeni@priklad.example",
            absence_reason: "dovolená",
        },
        Locale::Ro => People {
            tenant: "Cabinet Contabil Exemplu S.R.L.",
            tenant_email: "facturare@exemplu.example",
            phone: "+40 21 123 4567",
            bank: "RO49 AAAA 1B31 0075 9384 0000",
            customer: "Popescu și Fiii S.R.L.",
            recipient: "Andrei Popescu",
            address: "andrei.popescu@popescu.example",
            home: "RON",
            foreign: "EUR",
            task: "Verificarea decontului de TVA trimestrial",
            operator: "Ioana Popa",
            operator_address: "ioana.popa@exemplu.example",
            colleagues: ["Mihai Ionescu", "Elena Dumitrescu"],
            office: "conducere@exemplu.example",
            absence_reason: "concediu de odihnă",
        },
    }
}

fn money(amount: &str, currency: &str) -> Money {
    Money::new(
        amount.parse().unwrap_or(Decimal::ZERO),
        Currency::parse(currency)
            .unwrap_or_else(|_| unreachable!("sample currencies are ISO codes")),
    )
}

fn line(
    number: &str,
    issued: Date,
    due: Date,
    amount: &str,
    paid: &str,
    currency: &str,
    attachment: Option<&str>,
) -> InvoiceLine {
    let amount = money(amount, currency);
    let paid = money(paid, currency);
    InvoiceLine {
        id: format!("inv-{}", number.replace('/', "-")),
        number: number.to_owned(),
        issue_date: issued,
        due_date: due,
        amount,
        paid,
        balance: Money::new(amount.amount - paid.amount, amount.currency),
        days_overdue: herald_core::planner::days_between(due, TODAY),
        attachment: attachment.map(str::to_owned),
    }
}

fn days(n: i64) -> Date {
    TODAY
        .checked_add(jiff::Span::new().days(n))
        .unwrap_or(TODAY)
}

/// A digest of approved invoices from Thursday 17:00 to Friday 17:00 (the sample
/// "today" is a Sunday): one line per operator, by name, and their sums.
fn digest(lines: &[(&str, [u64; 4])]) -> DigestInfo {
    let mut operators: Vec<ActivityLine> = lines
        .iter()
        .enumerate()
        .map(|(i, &(name, [period, day, week, month]))| ActivityLine {
            id: format!("OP-{}", i + 1),
            name: name.to_owned(),
            counts: ActivityCounts {
                period,
                day,
                week,
                month,
            },
        })
        .collect();
    operators.sort_by(|a, b| a.name.cmp(&b.name));
    let mut total = ActivityCounts::default();
    for line in &operators {
        total.period += line.counts.period;
        total.day += line.counts.day;
        total.week += line.counts.week;
        total.month += line.counts.month;
    }
    DigestInfo {
        kind: "invoice.approved".to_owned(),
        from_date: days(-3),
        from_time: "17:00".to_owned(),
        to_date: days(-2),
        to_time: "17:00".to_owned(),
        operators,
        total,
    }
}

/// Sample data shaped like what the dispatcher passes for `template`: one invoice
/// (issued, due in 3 days, or 7 days past due by name), or, for names starting
/// with `dunning`, a letter over three invoices in two currencies, one partly paid.
/// Notices to the office (`operator-digest`, `operators-summary`, `absence-added`)
/// concern no customer.
pub fn sample_context(template: &str, locale: Locale) -> MessageContext {
    let p = people(locale);
    let mut ctx = MessageContext {
        rule: "sample".to_owned(),
        template: template.to_owned(),
        locale,
        today: TODAY,
        tenant: TenantInfo {
            name: p.tenant.to_owned(),
            email: Some(p.tenant_email.to_owned()),
            phone: Some(p.phone.to_owned()),
            bank_account: Some(p.bank.to_owned()),
        },
        customer: Some(CustomerInfo {
            id: "C-1042".to_owned(),
            name: p.customer.to_owned(),
        }),
        recipient: RecipientInfo {
            name: p.recipient.to_owned(),
            address: p.address.to_owned(),
        },
        invoice: None,
        invoices: Vec::new(),
        totals: Totals::default(),
        level: None,
        task: None,
        event: None,
        digest: None,
    };
    match template {
        "operator-digest" => {
            ctx.customer = None;
            ctx.recipient = RecipientInfo {
                name: p.operator.to_owned(),
                address: p.operator_address.to_owned(),
            };
            ctx.digest = Some(digest(&[(p.operator, [14, 9, 52, 187])]));
            return ctx;
        }
        "operators-summary" => {
            ctx.customer = None;
            ctx.recipient = RecipientInfo {
                name: String::new(),
                address: p.office.to_owned(),
            };
            ctx.digest = Some(digest(&[
                (p.operator, [14, 9, 52, 187]),
                (p.colleagues[0], [0, 0, 11, 64]),
                (p.colleagues[1], [8, 6, 37, 142]),
            ]));
            return ctx;
        }
        "absence-added" => {
            ctx.customer = None;
            ctx.recipient = RecipientInfo {
                name: String::new(),
                address: p.office.to_owned(),
            };
            let mut payload = serde_json::Map::new();
            payload.insert("from".to_owned(), "2026-11-23".into());
            payload.insert("to".to_owned(), "2026-11-27".into());
            payload.insert("reason".to_owned(), p.absence_reason.into());
            ctx.event = Some(herald_core::message::EventInfo {
                id: "EV-4004".to_owned(),
                kind: "absence.added".to_owned(),
                subject: None,
                date: days(-2),
                time: "08:15".to_owned(),
                payload,
                operator: Some(p.operator.to_owned()),
            });
            return ctx;
        }
        _ => {}
    }
    if template.starts_with("customs") {
        let code = template
            .rsplit('-')
            .next()
            .unwrap_or("ie529")
            .to_uppercase();
        ctx.event = Some(herald_core::message::EventInfo {
            id: "EV-1001".to_owned(),
            kind: format!("customs.{code}"),
            subject: Some("26PL44302000012345".to_owned()),
            date: TODAY,
            time: "09:42".to_owned(),
            payload: serde_json::Map::new(),
            operator: None,
        });
        return ctx;
    }
    if template == "reading-period-started" {
        let mut payload = serde_json::Map::new();
        payload.insert("until".to_owned(), "2026-11-30".into());
        ctx.event = Some(herald_core::message::EventInfo {
            id: "EV-3003".to_owned(),
            kind: "reading.period_started".to_owned(),
            subject: None,
            date: TODAY,
            time: "06:00".to_owned(),
            payload,
            operator: None,
        });
        return ctx;
    }
    if matches!(
        template,
        "audit-finished" | "documents-delivered" | "client-activity"
    ) {
        let mut payload = serde_json::Map::new();
        payload.insert("area".to_owned(), "hr".into());
        ctx.recipient.name = p.operator.to_owned();
        ctx.event = Some(herald_core::message::EventInfo {
            id: "EV-2002".to_owned(),
            kind: template.replace('-', "."),
            subject: Some("2026/11/0042".to_owned()),
            date: TODAY,
            time: "14:20".to_owned(),
            payload,
            operator: None,
        });
        return ctx;
    }
    if template.starts_with("task") {
        ctx.task = Some(herald_core::message::TaskInfo {
            id: "T-77".to_owned(),
            title: p.task.to_owned(),
            date: days(1),
            time: "10:00".to_owned(),
            time_zone: "Europe/Warsaw".to_owned(),
            operator: Some(p.operator.to_owned()),
        });
        return ctx;
    }
    if template.starts_with("dunning") {
        ctx.level = Some(
            template
                .rsplit('-')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1),
        );
        ctx.invoices = vec![
            line(
                "FV/2026/09/114",
                days(-74),
                days(-60),
                "12345.00",
                "5000.00",
                p.home,
                None,
            ),
            line(
                "FV/2026/10/087",
                days(-44),
                days(-30),
                "1234.50",
                "0",
                p.home,
                None,
            ),
            line(
                "FV/2026/10/091",
                days(-40),
                days(-26),
                "860.00",
                "0",
                p.foreign,
                None,
            ),
        ];
        for inv in &ctx.invoices {
            ctx.totals.add(inv.balance);
        }
    } else {
        let (issued, due) = match template {
            "new-invoice" => (TODAY, days(14)),
            "grace-end" => (days(-21), days(-7)),
            _ => (days(-11), days(3)),
        };
        ctx.invoice = Some(line(
            "FV/2026/11/052",
            issued,
            due,
            "1234.50",
            "0",
            p.home,
            Some("FV_2026_11_052.pdf"),
        ));
    }
    ctx
}
