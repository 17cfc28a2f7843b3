//! A deterministic, realistic dataset for the demo and the benchmark.
//!
//! Everything comes from a small self-written PRNG (SplitMix64), so the same seed gives
//! the same customers, invoices and payments on every machine. Dates are parameters:
//! nothing here reads the clock.
//!
//! The demo imports records day by day (invoices whose `issue_date` ≤ the simulated day,
//! payments whose `date` ≤ that day), so every record carries the date it happens on.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use herald_core::records::{Contact, Customer, Invoice, Operator, Payment, TimeZoneName};
use herald_core::values::{
    Currency, CustomerId, EmailAddress, InvoiceId, Locale, OperatorId, PaymentId, PhoneNumber,
};
use jiff::ToSpan;
use jiff::civil::Date;
use rust_decimal::Decimal;

/// SplitMix64: tiny, fast and the same everywhere.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x5EED_4E7A_1D00_0000)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }
    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The records of the demo, in the order they should be imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoDataset {
    pub customers: Vec<Customer>,
    pub contacts: Vec<Contact>,
    pub operators: Vec<Operator>,
    pub invoices: Vec<Invoice>,
    pub payments: Vec<Payment>,
    pub tasks: Vec<herald_core::tasks::Task>,
    /// Who manages which customer (seed 002).
    pub relations: Vec<herald_core::records::Relation>,
    /// Customs messages and office activity, each on its day. A customs event's
    /// `attachment` is the file name the demo writes it under.
    pub events: Vec<herald_core::events::Event>,
}

struct Country {
    locale: Locale,
    tld: &'static str,
    currency: &'static str,
    zones: &'static [&'static str],
    /// Company patterns: `{S}` and `{T}` are two surnames.
    patterns: &'static [&'static str],
    surnames: &'static [&'static str],
    people: &'static [&'static str],
    /// The shared billing mailbox: local part and the name shown for it.
    mailbox: (&'static str, &'static str),
    phone_prefix: &'static str,
    mobile_leads: &'static [&'static str],
    /// Amount ranges in whole units: small, four-digit, large.
    amounts: [(i64, i64); 3],
    whole_units: bool,
}

const COUNTRIES: [Country; 4] = [
    Country {
        locale: Locale::Pl,
        tld: "pl",
        currency: "PLN",
        zones: &["Europe/Warsaw"],
        patterns: &[
            "{S} i Wspólnicy sp. z o.o.",
            "P.H.U. {S}",
            "{S} Transport sp. z o.o.",
            "Hurtownia {S} sp.j.",
            "{S} Budownictwo S.A.",
            "Biuro Rachunkowe {S}",
        ],
        surnames: &[
            "Kowalski",
            "Nowak",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Woźniak",
            "Dąbrowski",
            "Kozłowski",
            "Jankowski",
            "Mazur",
        ],
        people: &[
            "Anna Nowak",
            "Piotr Zieliński",
            "Katarzyna Wójcik",
            "Tomasz Mazur",
            "Magdalena Krawczyk",
            "Marek Lewandowski",
            "Agnieszka Kamińska",
            "Paweł Szymański",
        ],
        mailbox: ("faktury", "Dział księgowości"),
        phone_prefix: "+48",
        mobile_leads: &["501", "602", "693", "724", "798", "881"],
        amounts: [(150, 999), (1_000, 9_999), (10_000, 64_000)],
        whole_units: false,
    },
    Country {
        locale: Locale::Cs,
        tld: "cz",
        currency: "CZK",
        zones: &["Europe/Prague"],
        patterns: &[
            "{S} & {T} s.r.o.",
            "{S} Stavby a.s.",
            "{S} Logistika s.r.o.",
            "Účetní kancelář {S}",
            "Pekárna {S} s.r.o.",
            "{S} Strojírny a.s.",
        ],
        surnames: &[
            "Novák",
            "Svoboda",
            "Novotný",
            "Dvořák",
            "Černý",
            "Procházka",
            "Kučera",
            "Veselý",
            "Horák",
            "Němec",
            "Marek",
            "Pokorný",
            "Král",
            "Beneš",
        ],
        people: &[
            "Jana Nováková",
            "Petr Svoboda",
            "Lucie Dvořáková",
            "Tomáš Černý",
            "Eva Procházková",
            "Martin Kučera",
            "Veronika Horáková",
            "Jakub Veselý",
        ],
        mailbox: ("fakturace", "Fakturace"),
        phone_prefix: "+420",
        mobile_leads: &["602", "605", "724", "736", "777", "603"],
        amounts: [(1_500, 9_999), (10_000, 99_999), (100_000, 850_000)],
        whole_units: true,
    },
    Country {
        locale: Locale::Ro,
        tld: "ro",
        currency: "RON",
        zones: &["Europe/Bucharest"],
        patterns: &[
            "{S} Construct SRL",
            "{S} Distribuție SRL",
            "Agro {S} SA",
            "{S} & Fiii SRL",
            "Transcarpatic {S} SRL",
            "{S} Consulting SRL",
        ],
        surnames: &[
            "Popescu",
            "Ionescu",
            "Popa",
            "Dumitru",
            "Stan",
            "Stoica",
            "Gheorghe",
            "Rusu",
            "Munteanu",
            "Matei",
            "Constantin",
            "Marin",
            "Tudor",
            "Ciobanu",
        ],
        people: &[
            "Ioana Popescu",
            "Andrei Ionescu",
            "Elena Popa",
            "Mihai Dumitru",
            "Maria Stoica",
            "Radu Gheorghe",
            "Cristina Rusu",
            "Alexandru Matei",
        ],
        mailbox: ("facturare", "Departamentul contabilitate"),
        phone_prefix: "+40",
        mobile_leads: &["721", "722", "744", "755", "766", "788"],
        amounts: [(150, 999), (1_000, 9_999), (10_000, 48_000)],
        whole_units: false,
    },
    Country {
        locale: Locale::En,
        tld: "co.uk",
        currency: "EUR",
        zones: &["Europe/London", "Europe/London", "Europe/Dublin"],
        patterns: &[
            "{S} Logistics Ltd",
            "{S} & Sons Ltd",
            "{S} Engineering plc",
            "{S} Trading Ltd",
            "{S} Consulting LLP",
            "{S} Foods Ltd",
        ],
        surnames: &[
            "Harbour",
            "Thornbury",
            "Ashford",
            "Kingsley",
            "Whitmore",
            "Fenwick",
            "Carrow",
            "Blackwood",
            "Marlow",
            "Redfern",
            "Liffey",
            "Galway",
            "Pembroke",
            "Hawthorn",
        ],
        people: &[
            "Emma Clarke",
            "James Walker",
            "Olivia Hughes",
            "Oliver Bennett",
            "Sophie Turner",
            "Harry Collins",
            "Charlotte Evans",
            "George Price",
        ],
        mailbox: ("accounts", "Accounts Payable"),
        phone_prefix: "+44",
        mobile_leads: &["7700900"],
        amounts: [(50, 999), (1_000, 9_999), (10_000, 30_000)],
        whole_units: false,
    },
];

const CUSTOMERS_PER_COUNTRY: usize = 12;
const MIN_INVOICES: usize = 336;

/// `Łódź` → `lodz`: e-mail local parts and domains are kept ASCII.
fn ascii_slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let mapped = match c {
            'ą' | 'á' | 'ă' | 'â' => 'a',
            'ć' | 'č' => 'c',
            'ď' => 'd',
            'ę' | 'é' | 'ě' => 'e',
            'í' | 'î' => 'i',
            'ł' => 'l',
            'ń' | 'ň' => 'n',
            'ó' => 'o',
            'ř' => 'r',
            'ś' | 'š' | 'ș' | 'ş' => 's',
            'ť' | 'ț' | 'ţ' => 't',
            'ú' | 'ů' => 'u',
            'ý' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            c if c.is_ascii_alphanumeric() => c,
            ' ' | '-' | '.' => '.',
            _ => continue,
        };
        if mapped == '.' && (out.is_empty() || out.ends_with('.')) {
            continue;
        }
        out.push(mapped);
    }
    out.trim_end_matches('.').to_owned()
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(n.days()).unwrap_or(d)
}

fn days_between(from: Date, to: Date) -> i64 {
    i64::from((to - from).get_days())
}

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap_or_else(|e| panic!("demo e-mail {s} must be valid: {e}"))
}

fn phone(rng: &mut Rng, country: &Country) -> PhoneNumber {
    let lead = rng.pick(country.mobile_leads);
    let rest_len = 9usize.saturating_sub(lead.len()).max(3);
    let mut number = format!("{}{lead}", country.phone_prefix);
    for _ in 0..rest_len {
        number.push(char::from(b'0' + rng.below(10) as u8));
    }
    PhoneNumber::parse(&number).unwrap_or_else(|e| panic!("demo phone {number} must be valid: {e}"))
}

fn money(minor: i64) -> Decimal {
    Decimal::new(minor, 2)
}

/// An amount in minor units (2 decimals) for a country's invoices.
fn invoice_amount(rng: &mut Rng, country: &Country, currency: &str) -> i64 {
    let size = match rng.below(100) {
        0..35 => 0,
        35..80 => 1,
        _ => 2,
    };
    let (lo, hi) = if currency == "EUR" {
        COUNTRIES[3].amounts[size]
    } else {
        country.amounts[size]
    };
    let units = rng.range(lo, hi);
    let cents = if country.whole_units && currency != "EUR" || rng.chance(40) {
        0
    } else {
        rng.range(0, 99)
    };
    units * 100 + cents
}

fn operators() -> Vec<Operator> {
    let op =
        |id: &str, name: &str, mail: &str, tel: Option<&str>, locale: Locale, roles: &[&str]| {
            Operator {
                id: OperatorId::parse(id).unwrap_or_else(|e| panic!("{e}")),
                name: name.to_owned(),
                email: Some(email(mail)),
                phone: tel.map(|t| PhoneNumber::parse(t).unwrap_or_else(|e| panic!("{e}"))),
                locale: Some(locale),
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            }
        };
    vec![
        op(
            "op-anna",
            "Anna Kowalczyk",
            "anna.kowalczyk@herald-demo.example.com",
            Some("+48601200300"),
            Locale::Pl,
            &["accounting", "dunning"],
        ),
        op(
            "op-petr",
            "Petr Dvořák",
            "petr.dvorak@herald-demo.example.com",
            None,
            Locale::Cs,
            &["dunning"],
        ),
        op(
            "op-ioana",
            "Ioana Marin",
            "ioana.marin@herald-demo.example.com",
            Some("+40721300400"),
            Locale::Ro,
            &["customs", "support"],
        ),
        op(
            "op-emily",
            "Emily Shaw",
            "emily.shaw@herald-demo.example.com",
            None,
            Locale::En,
            &["admin", "alerts"],
        ),
    ]
}

struct DemoCustomer {
    country: usize,
    /// A second currency (EUR) for some of its invoices.
    second_currency: bool,
}

/// The demo dataset: ≥ 48 customers over pl/cs/ro/en, their contacts, 4 operators,
/// ≥ 320 invoices issued in `[start - 30 days, start + days]` and their payments
/// (about half paid on time, some late, some partially, a fifth never).
pub fn demo_dataset(seed: u64, start: Date, days: u32) -> DemoDataset {
    let mut rng = Rng::new(seed);
    let first_day = add_days(start, -30);
    let last_day = add_days(start, i64::from(days));

    // Customers and contacts.
    let mut customers = Vec::new();
    let mut contacts = Vec::new();
    let mut meta = Vec::new();
    for (ci, country) in COUNTRIES.iter().enumerate() {
        let offset = rng.below(country.surnames.len() as u64) as usize;
        let pattern_offset = rng.below(country.patterns.len() as u64) as usize;
        for j in 0..CUSTOMERS_PER_COUNTRY {
            let surname = country.surnames[(offset + j) % country.surnames.len()];
            let partner = country.surnames[(offset + j + 5) % country.surnames.len()];
            let pattern = country.patterns[(pattern_offset + j) % country.patterns.len()];
            let name = pattern.replace("{S}", surname).replace("{T}", partner);
            let id = CustomerId::parse(&format!("cust-{}-{:02}", country.locale, j + 1))
                .unwrap_or_else(|e| panic!("{e}"));
            let group = match rng.below(10) {
                0..4 => Some("retail"),
                4..7 => Some("wholesale"),
                7 => Some("vip"),
                _ => None,
            };
            let zone = *rng.pick(country.zones);
            let time_zone = TimeZoneName::parse(zone).unwrap_or_else(|e| panic!("{e}"));
            // Two English customers leave the language to the tenant default.
            let locale = if country.locale == Locale::En && j >= 10 {
                None
            } else {
                Some(country.locale)
            };
            let domain = format!("{}.example.{}", ascii_slug(surname), country.tld);
            contacts.extend(demo_contacts(&mut rng, country, j, &id, &domain));
            meta.push(DemoCustomer {
                country: ci,
                second_currency: country.currency != "EUR" && j % 4 == 1,
            });
            customers.push(Customer {
                id,
                name,
                group: group.map(str::to_owned),
                locale,
                time_zone: Some(time_zone),
            });
        }
    }

    // Invoices: drafts first, numbered in issue order per country style.
    struct Draft {
        customer: usize,
        currency: &'static str,
        issue: Date,
        due: Date,
        minor: i64,
    }
    let span = days_between(first_day, last_day);
    let mut drafts = Vec::new();
    let add_invoice = |rng: &mut Rng, customer: usize, drafts: &mut Vec<Draft>| {
        let m = &meta[customer];
        let country = &COUNTRIES[m.country];
        let currency = if m.second_currency && rng.chance(35) {
            "EUR"
        } else {
            country.currency
        };
        let issue = add_days(first_day, rng.range(0, span));
        let due = add_days(issue, *rng.pick(&[7, 14, 14, 21, 30, 30]));
        let minor = invoice_amount(rng, country, currency);
        drafts.push(Draft {
            customer,
            currency,
            issue,
            due,
            minor,
        });
    };
    let second_currency: Vec<bool> = meta.iter().map(|m| m.second_currency).collect();
    for (customer, second) in second_currency.into_iter().enumerate() {
        for _ in 0..rng.range(4, 10) {
            add_invoice(&mut rng, customer, &mut drafts);
        }
        if second {
            // Make sure the second currency shows up.
            let before = drafts.len();
            add_invoice(&mut rng, customer, &mut drafts);
            if let Some(d) = drafts.get_mut(before) {
                d.currency = "EUR";
                d.minor = invoice_amount(&mut rng, &COUNTRIES[3], "EUR");
            }
        }
    }
    while drafts.len() < MIN_INVOICES {
        let customer = rng.below(customers.len() as u64) as usize;
        add_invoice(&mut rng, customer, &mut drafts);
    }
    drafts.sort_by_key(|d| (d.issue, d.customer, d.minor));

    let mut invoices = Vec::with_capacity(drafts.len());
    let mut pl_month: (i16, i8, u32) = (0, 0, 0);
    let mut cs_month: (i16, i8, u32) = (0, 0, 0);
    let mut ro_seq = 120u32 + rng.below(400) as u32;
    let mut en_year: (i16, u32) = (0, 0);
    for (k, d) in drafts.iter().enumerate() {
        let locale = COUNTRIES[meta[d.customer].country].locale;
        let (y, m) = (d.issue.year(), d.issue.month());
        let number = match locale {
            Locale::Pl => {
                pl_month = if (pl_month.0, pl_month.1) == (y, m) {
                    (y, m, pl_month.2 + 1)
                } else {
                    (y, m, 1)
                };
                format!("FV/{y}/{m:02}/{:03}", pl_month.2)
            }
            Locale::Cs => {
                cs_month = if (cs_month.0, cs_month.1) == (y, m) {
                    (y, m, cs_month.2 + 1)
                } else {
                    (y, m, 1)
                };
                format!("{y}{m:02}{:04}", cs_month.2)
            }
            Locale::Ro => {
                ro_seq += 1;
                format!("EMS-{ro_seq:06}")
            }
            Locale::En => {
                en_year = if en_year.0 == y {
                    (y, en_year.1 + 1)
                } else {
                    (y, 1)
                };
                format!("INV-{y}-{:04}", en_year.1)
            }
        };
        invoices.push(Invoice {
            id: InvoiceId::parse(&format!("inv-{:05}", k + 1)).unwrap_or_else(|e| panic!("{e}")),
            number,
            customer_id: customers[d.customer].id.clone(),
            issue_date: d.issue,
            due_date: d.due,
            currency: Currency::parse(d.currency).unwrap_or_else(|e| panic!("{e}")),
            amount: money(d.minor),
            attachment: None,
        });
    }

    // Payments: ~50% in full by the due date, ~15% late, ~15% partially, ~20% never.
    let mut raw: Vec<(Date, usize, i64)> = Vec::new();
    for (k, d) in drafts.iter().enumerate() {
        let term = days_between(d.issue, d.due);
        match rng.below(100) {
            0..50 => raw.push((add_days(d.issue, rng.range(0, term)), k, d.minor)),
            50..65 => raw.push((add_days(d.due, rng.range(1, 25)), k, d.minor)),
            65..80 => {
                let first = d.minor * rng.range(25, 70) / 100;
                raw.push((add_days(d.issue, rng.range(2, term + 10)), k, first));
                if rng.chance(40) {
                    let second = d.minor * rng.range(5, 25) / 100;
                    raw.push((add_days(d.due, rng.range(5, 30)), k, second));
                }
            }
            _ => {}
        }
    }
    raw.retain(|(date, _, minor)| *date >= first_day && *date <= last_day && *minor > 0);
    raw.sort_by_key(|(date, k, _)| (*date, *k));
    let payments = raw
        .iter()
        .enumerate()
        .map(|(n, (date, k, minor))| Payment {
            id: PaymentId::parse(&format!("pay-{:05}", n + 1)).unwrap_or_else(|e| panic!("{e}")),
            invoice_id: invoices[*k].id.clone(),
            date: *date,
            amount: money(*minor),
        })
        .collect();

    let tasks = demo_tasks(&customers, &meta, start);
    let (relations, mut events) = demo_office(&customers, &meta, &mut contacts, start);
    events.extend(demo_approvals(&customers, start, days));
    events.sort_by(|a, b| a.occurred_at.cmp(&b.occurred_at).then(a.id.cmp(&b.id)));
    DemoDataset {
        customers,
        contacts,
        operators: operators(),
        invoices,
        payments,
        tasks,
        relations,
        events,
    }
}

/// Seeds 000 and 002: the first customers of each country have a customs contact
/// and their country's operator as account and accounting manager; export
/// declarations of two Polish and one Romanian customer get their customs
/// messages (IE529 released, IE599 exit confirmed two days later); a few audits,
/// document deliveries and HR activity are reported.
fn demo_office(
    customers: &[Customer],
    meta: &[DemoCustomer],
    contacts: &mut Vec<Contact>,
    start: Date,
) -> (
    Vec<herald_core::records::Relation>,
    Vec<herald_core::events::Event>,
) {
    use herald_core::EventId;
    use herald_core::events::Event;
    use herald_core::records::Relation;
    const OPERATORS: [&str; 4] = ["op-anna", "op-petr", "op-ioana", "op-emily"];
    const CUSTOMS: [(&str, &str); 4] = [
        ("Dział celny", "clo"),
        ("Celní oddělení", "clo"),
        ("Departament vamal", "vama"),
        ("Customs desk", "customs"),
    ];
    let mut relations = Vec::new();
    let mut events = Vec::new();
    let mut seen = [0usize; 4];
    let at = |day: i64, hour: i8, minute: i8| {
        add_days(start, day)
            .at(hour, minute, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let event = |id: String,
                 kind: &str,
                 c: &Customer,
                 subject: Option<String>,
                 when,
                 payload: Option<(&str, &str)>,
                 file: Option<String>| Event {
        id: EventId::parse(&id).unwrap_or_else(|e| panic!("{e}")),
        kind: kind.to_owned(),
        customer_id: Some(c.id.clone()),
        operator_id: None,
        subject,
        occurred_at: when,
        payload: payload
            .map(|(k, v)| {
                let mut m = serde_json::Map::new();
                m.insert(k.to_owned(), v.into());
                m
            })
            .unwrap_or_default(),
        attachment: file,
    };
    for (c, m) in customers.iter().zip(meta) {
        let n = seen[m.country];
        seen[m.country] += 1;
        if n < 3 {
            for relation in ["account_manager", "accounting_manager", "hr_manager"] {
                relations.push(Relation {
                    customer_id: c.id.clone(),
                    operator_id: OperatorId::parse(OPERATORS[m.country])
                        .unwrap_or_else(|e| panic!("{e}")),
                    relation: relation.to_owned(),
                });
            }
        }
        let exporter = matches!((m.country, n), (0, 0) | (0, 1) | (2, 0));
        if exporter {
            let (name, local) = CUSTOMS[m.country];
            let domain = contacts
                .iter()
                .find(|k| k.customer_id == c.id)
                .and_then(|k| k.email.as_ref())
                .and_then(|e| e.as_str().split_once('@').map(|(_, d)| d.to_owned()))
                .unwrap_or_else(|| "example.com".to_owned());
            contacts.push(Contact {
                customer_id: c.id.clone(),
                role: "customs".to_owned(),
                name: name.to_owned(),
                email: Some(email(&format!("{local}@{domain}"))),
                phone: None,
                email_opt_in: true,
                sms_opt_in: false,
            });
            let k = (m.country * 10 + n) as i64;
            let mrn = format!(
                "26{}4430200{:07}",
                if m.country == 0 { "PL" } else { "RO" },
                1000 + k
            );
            let day = 4 + k % 7;
            for (code, offset) in [("IE529", 0), ("IE599", 2)] {
                events.push(event(
                    format!("ev-{code}-{mrn}"),
                    &format!("customs.{code}"),
                    c,
                    Some(mrn.clone()),
                    at(day + offset, 8, 40 + offset as i8),
                    None,
                    Some(format!("{code}-{mrn}.xml")),
                ));
            }
        }
        match (m.country, n) {
            (1, 0) => events.push(event(
                format!("ev-audit-{}", c.id),
                "audit.finished",
                c,
                Some("Audit 2026".into()),
                at(12, 13, 5),
                None,
                None,
            )),
            (0, 0) | (2, 1) => events.push(event(
                format!("ev-docs-{}", c.id),
                "documents.delivered",
                c,
                Some("10/2026".into()),
                at(3 + m.country as i64, 10, 30),
                None,
                None,
            )),
            (3, 0) => events.push(event(
                format!("ev-hr-{}", c.id),
                "client.activity",
                c,
                None,
                at(15, 11, 0),
                Some(("area", "hr")),
                None,
            )),
            _ => {}
        }
    }
    events.sort_by(|a, b| a.occurred_at.cmp(&b.occurred_at).then(a.id.cmp(&b.id)));
    (relations, events)
}

/// Seed 002's office activity: on working days the three accountants approve up to
/// three invoices each (`invoice.approved`, counted by the digests), and one of
/// them records an absence (`absence.added`, told to the supervisors).
fn demo_approvals(
    customers: &[Customer],
    start: Date,
    days: u32,
) -> Vec<herald_core::events::Event> {
    use herald_core::EventId;
    use herald_core::events::Event;
    const APPROVERS: [&str; 3] = ["op-anna", "op-petr", "op-ioana"];
    let at = |day: i64, hour: i8, minute: i8| {
        add_days(start, day)
            .at(hour, minute, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let mut events = Vec::new();
    for day in 0..i64::from(days) {
        if add_days(start, day).weekday().to_monday_one_offset() > 5 {
            continue;
        }
        for (i, op) in APPROVERS.iter().enumerate() {
            let n = (day + 2 * i as i64) % 4;
            for k in 0..n {
                let c = &customers[((day * 3 + i as i64 * 7 + k) as usize) % customers.len()];
                events.push(Event {
                    id: EventId::parse(&format!("ap-{day:02}-{op}-{k}"))
                        .unwrap_or_else(|e| panic!("{e}")),
                    kind: "invoice.approved".to_owned(),
                    customer_id: Some(c.id.clone()),
                    operator_id: Some(OperatorId::parse(op).unwrap_or_else(|e| panic!("{e}"))),
                    subject: Some(format!("FV/{day:02}/{i}{k}")),
                    occurred_at: at(day, 8 + 2 * k as i8, 10 + 5 * i as i8),
                    payload: serde_json::Map::new(),
                    attachment: None,
                });
            }
        }
    }
    let mut payload = serde_json::Map::new();
    payload.insert("from".into(), add_days(start, 8).to_string().into());
    payload.insert("to".into(), add_days(start, 9).to_string().into());
    payload.insert("reason".into(), "urlop wypoczynkowy".into());
    events.push(Event {
        id: EventId::parse("abs-op-petr-1").unwrap_or_else(|e| panic!("{e}")),
        kind: "absence.added".to_owned(),
        customer_id: None,
        operator_id: Some(OperatorId::parse("op-petr").unwrap_or_else(|e| panic!("{e}"))),
        subject: None,
        occurred_at: at(4, 7, 15),
        payload,
        attachment: None,
    });
    events
}

/// Seed 001's office tasks: for the first two customers of each country a monthly
/// VAT review on the 20th at 10:00 with the country's operator; for the first of
/// each a weekly call on Mondays at 09:00; for the third a one-off visit in the
/// second week at 11:00. Local times in the customer's zone.
fn demo_tasks(
    customers: &[Customer],
    meta: &[DemoCustomer],
    start: Date,
) -> Vec<herald_core::tasks::Task> {
    use herald_core::tasks::{Recurrence, Task};
    const TITLES: [(&str, &str, &str); 4] = [
        (
            "Przegląd deklaracji VAT",
            "Cotygodniowe spotkanie",
            "Wizyta w biurze",
        ),
        (
            "Kontrola přiznání k DPH",
            "Týdenní schůzka",
            "Návštěva v kanceláři",
        ),
        (
            "Verificarea decontului de TVA",
            "Ședința săptămânală",
            "Vizită la birou",
        ),
        ("VAT return review", "Weekly call", "Office visit"),
    ];
    const OPERATORS: [&str; 4] = ["op-anna", "op-petr", "op-ioana", "op-emily"];
    let mut tasks = Vec::new();
    let mut seen = [0usize; 4];
    for (c, m) in customers.iter().zip(meta) {
        let n = seen[m.country];
        seen[m.country] += 1;
        let (vat, call, visit) = TITLES[m.country];
        let task = |id: String, title: &str, starts: jiff::civil::DateTime, rec: &str| Task {
            id: herald_core::TaskId::parse(&id).unwrap_or_else(|e| panic!("{e}")),
            title: title.to_owned(),
            customer_id: c.id.clone(),
            operator_id: Some(
                OperatorId::parse(OPERATORS[m.country]).unwrap_or_else(|e| panic!("{e}")),
            ),
            starts_at: starts,
            time_zone: None,
            recurrence: Recurrence::parse(rec).unwrap_or_else(|e| panic!("{e}")),
            recurrence_text: rec.to_owned(),
            template: None,
        };
        let twentieth = jiff::civil::date(start.year(), start.month(), 20);
        if n < 2 {
            tasks.push(task(
                format!("task-vat-{}", c.id),
                vat,
                twentieth.at(10, 0, 0, 0),
                "monthly",
            ));
        }
        if n == 0 {
            let monday = (0..7)
                .map(|k| add_days(start, k))
                .find(|d| d.weekday() == jiff::civil::Weekday::Monday)
                .unwrap_or(start);
            tasks.push(task(
                format!("task-call-{}", c.id),
                call,
                monday.at(9, 0, 0, 0),
                "weekly",
            ));
        }
        if n == 2 {
            tasks.push(task(
                format!("task-visit-{}", c.id),
                visit,
                add_days(start, 9).at(11, 0, 0, 0),
                "",
            ));
        }
    }
    tasks
}

/// 1–3 contacts for the `j`-th customer of a country. A few customers are set up to
/// show herald's routing: one has only an accounting contact, one a billing contact
/// who opted out of e-mail and has no phone (no reachable billing contact), one a
/// billing contact reachable by SMS only, one only a management contact.
fn demo_contacts(
    rng: &mut Rng,
    country: &Country,
    j: usize,
    customer: &CustomerId,
    domain: &str,
) -> Vec<Contact> {
    let mut people: Vec<&str> = country.people.to_vec();
    // Deterministic shuffle (Fisher–Yates) so each customer gets distinct people.
    for i in (1..people.len()).rev() {
        let k = rng.below(i as u64 + 1) as usize;
        people.swap(i, k);
    }
    let person =
        |name: &str, role: &str, email_opt_in: bool, phone: Option<PhoneNumber>, sms: bool| {
            Contact {
                customer_id: customer.clone(),
                role: role.to_owned(),
                name: name.to_owned(),
                email: Some(email(&format!("{}@{domain}", ascii_slug(name)))),
                sms_opt_in: sms && phone.is_some(),
                phone,
                email_opt_in,
            }
        };
    let special = match (country.locale, j) {
        (Locale::Pl, 4) | (Locale::Ro, 4) => Some("accounting-only"),
        (Locale::Cs, 7) => Some("unreachable"),
        (Locale::En, 9) => Some("sms-only"),
        (Locale::Cs, 10) => Some("management-only"),
        _ => None,
    };
    match special {
        Some("accounting-only") => return vec![person(people[0], "accounting", true, None, false)],
        Some("management-only") => {
            let p = phone(rng, country);
            return vec![person(people[0], "management", true, Some(p), true)];
        }
        Some("unreachable") => {
            return vec![
                person(people[0], "billing", false, None, false),
                person(people[1], "sales", true, None, false),
            ];
        }
        Some("sms-only") => {
            let p = phone(rng, country);
            return vec![person(people[0], "billing", false, Some(p), true)];
        }
        _ => {}
    }
    let mut out = Vec::new();
    if rng.chance(30) {
        let (local, shown) = country.mailbox;
        out.push(Contact {
            customer_id: customer.clone(),
            role: "billing".to_owned(),
            name: shown.to_owned(),
            email: Some(email(&format!("{local}@{domain}"))),
            phone: None,
            email_opt_in: true,
            sms_opt_in: false,
        });
    } else {
        let p = rng.chance(40).then(|| phone(rng, country));
        let sms = rng.chance(60);
        out.push(person(people[0], "billing", true, p, sms));
    }
    if rng.chance(35) {
        out.push(person(people[1], "accounting", true, None, false));
    }
    if rng.chance(15) {
        let p = phone(rng, country);
        out.push(person(people[2], "management", true, Some(p), false));
    }
    out
}

/// The files [`write_bench_csv`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchFiles {
    pub customers: PathBuf,
    pub contacts: PathBuf,
    pub invoices: PathBuf,
    pub payments: PathBuf,
}

/// Writes `customers.csv`, `contacts.csv`, `invoices.csv` and `payments.csv` into `dir`
/// for the import and planning benchmark (e.g. 100,000 customers, 1,000,000 invoices).
/// Rows are streamed, so memory stays flat. Invoices are issued in the 120 days up to
/// `today`, due 14 days later; about half are paid in full, a tenth partially, and no
/// payment is dated after `today`. The files import without errors.
pub fn write_bench_csv(
    dir: &Path,
    seed: u64,
    customers: u32,
    invoices: u32,
    today: Date,
) -> std::io::Result<BenchFiles> {
    std::fs::create_dir_all(dir)?;
    let files = BenchFiles {
        customers: dir.join("customers.csv"),
        contacts: dir.join("contacts.csv"),
        invoices: dir.join("invoices.csv"),
        payments: dir.join("payments.csv"),
    };
    let mut rng = Rng::new(seed);
    let customers = customers.max(1);
    let open = |p: &Path| File::create(p).map(|f| BufWriter::with_capacity(1 << 20, f));

    let mut cw = open(&files.customers)?;
    let mut kw = open(&files.contacts)?;
    writeln!(cw, "id,name,group,locale,time_zone")?;
    writeln!(
        kw,
        "customer_id,role,name,email,phone,email_opt_in,sms_opt_in"
    )?;
    const GROUPS: [&str; 4] = ["retail", "wholesale", "vip", ""];
    for c in 0..customers {
        let country = &COUNTRIES[(c % 4) as usize];
        let surname = rng.pick(country.surnames);
        let pattern = rng.pick(country.patterns);
        let partner = *rng.pick::<&str>(country.surnames);
        let name = pattern.replace("{S}", surname).replace("{T}", partner);
        let name = if name.contains(',') {
            format!("\"{name}\"")
        } else {
            name
        };
        writeln!(
            cw,
            "c{c:07},{name} {c},{},{},{}",
            GROUPS[rng.below(4) as usize],
            country.locale,
            country.zones[0]
        )?;
        let person = rng.pick(country.people);
        writeln!(
            kw,
            "c{c:07},billing,{person},{}.{c}@{}.example.{},,yes,no",
            ascii_slug(person),
            ascii_slug(surname),
            country.tld
        )?;
    }
    cw.flush()?;
    kw.flush()?;

    // Dates as text, computed once: the last 120 days and 14 more for due dates.
    const HISTORY: i64 = 120;
    let first = add_days(today, -HISTORY);
    let dates: Vec<String> = (0..=HISTORY + 14)
        .map(|n| add_days(first, n).to_string())
        .collect();
    let mut iw = open(&files.invoices)?;
    let mut pw = open(&files.payments)?;
    writeln!(
        iw,
        "id,number,customer_id,issue_date,due_date,currency,amount"
    )?;
    writeln!(pw, "id,invoice_id,date,amount")?;
    let mut payment_no = 0u64;
    for i in 0..invoices {
        let c = rng.below(u64::from(customers)) as u32;
        let country = &COUNTRIES[(c % 4) as usize];
        let issue = rng.range(0, HISTORY) as usize;
        let due = issue + 14;
        let minor = invoice_amount(&mut rng, country, country.currency);
        writeln!(
            iw,
            "i{i:08},B/{i},c{c:07},{},{},{},{}.{:02}",
            dates[issue],
            dates[due],
            country.currency,
            minor / 100,
            minor % 100
        )?;
        let roll = rng.below(100);
        let paid = match roll {
            0..50 => minor,
            50..60 => minor / 3,
            _ => 0,
        };
        if paid > 0 {
            let day = (issue + rng.below(21) as usize).min(HISTORY as usize);
            payment_no += 1;
            writeln!(
                pw,
                "p{payment_no:08},i{i:08},{},{}.{:02}",
                dates[day],
                paid / 100,
                paid % 100
            )?;
        }
    }
    iw.flush()?;
    pw.flush()?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::import::{ImportOptions, Known, KnownInvoice, RecordKind, parse_file};

    fn start() -> Date {
        Date::new(2026, 11, 16).unwrap()
    }

    #[test]
    fn same_seed_same_dataset_other_seed_other_dataset() {
        let a = demo_dataset(7, start(), 30);
        assert_eq!(a, demo_dataset(7, start(), 30));
        let b = demo_dataset(8, start(), 30);
        assert_ne!(a.invoices, b.invoices);
        assert_ne!(a.contacts, b.contacts);
    }

    #[test]
    fn the_minimum_counts_are_met_and_ids_are_unique() {
        let d = demo_dataset(1, start(), 30);
        assert!(d.customers.len() >= 48);
        assert!(d.invoices.len() >= 320);
        assert!((3..=4).contains(&d.operators.len()));
        assert!(
            d.payments.len() >= d.invoices.len() / 2,
            "{} payments",
            d.payments.len()
        );
        let ids: HashSet<_> = d.customers.iter().map(|c| &c.id).collect();
        assert_eq!(ids.len(), d.customers.len());
        let ids: HashSet<_> = d.invoices.iter().map(|i| &i.id).collect();
        assert_eq!(ids.len(), d.invoices.len());
        let numbers: HashSet<_> = d.invoices.iter().map(|i| &i.number).collect();
        assert_eq!(numbers.len(), d.invoices.len());
        let ids: HashSet<_> = d.payments.iter().map(|p| &p.id).collect();
        assert_eq!(ids.len(), d.payments.len());
        let names: HashSet<_> = d.customers.iter().map(|c| &c.name).collect();
        assert_eq!(names.len(), d.customers.len());
        for c in &d.customers {
            let n = d.contacts.iter().filter(|k| k.customer_id == c.id).count();
            // 1–3, and a customs contact more for the exporters.
            assert!((1..=4).contains(&n), "{} has {n} contacts", c.id);
        }
        let keys: HashSet<_> = d
            .contacts
            .iter()
            .map(|k| (&k.customer_id, &k.role, &k.name))
            .collect();
        assert_eq!(keys.len(), d.contacts.len());
    }

    #[test]
    fn every_locale_currency_and_number_style_is_present() {
        let d = demo_dataset(3, start(), 30);
        for l in Locale::ALL {
            assert!(d.customers.iter().any(|c| c.locale == Some(l)), "{l}");
        }
        let zones: HashSet<_> = d
            .customers
            .iter()
            .filter_map(|c| c.time_zone.as_ref())
            .map(|z| z.as_str())
            .collect();
        for z in [
            "Europe/Warsaw",
            "Europe/Prague",
            "Europe/Bucharest",
            "Europe/London",
        ] {
            assert!(zones.contains(z), "{z}");
        }
        for c in ["PLN", "CZK", "RON", "EUR"] {
            assert!(d.invoices.iter().any(|i| i.currency.code() == c), "{c}");
        }
        let n = |p: fn(&str) -> bool| d.invoices.iter().any(|i| p(&i.number));
        assert!(n(|s| s.starts_with("FV/2026/")));
        assert!(n(|s| s.len() == 10 && s.chars().all(|c| c.is_ascii_digit())));
        assert!(n(|s| s.starts_with("EMS-")));
        assert!(n(|s| s.starts_with("INV-2026-")));
        assert!(d.invoices.iter().any(|i| i.amount >= Decimal::from(10_000)));
        assert!(
            d.invoices
                .iter()
                .any(|i| (Decimal::from(1_000)..Decimal::from(10_000)).contains(&i.amount))
        );
        let groups: HashSet<_> = d
            .customers
            .iter()
            .filter_map(|c| c.group.as_deref())
            .collect();
        assert!(groups.is_superset(&HashSet::from(["retail", "wholesale", "vip"])));
    }

    #[test]
    fn dates_are_in_the_window_and_payments_follow_their_invoices() {
        let (s, days) = (start(), 30);
        let d = demo_dataset(11, s, days);
        let (lo, hi) = (add_days(s, -30), add_days(s, i64::from(days)));
        let by_id: HashMap<_, _> = d.invoices.iter().map(|i| (&i.id, i)).collect();
        let customers: HashSet<_> = d.customers.iter().map(|c| &c.id).collect();
        for i in &d.invoices {
            assert!(customers.contains(&i.customer_id));
            assert!(i.issue_date >= lo && i.issue_date <= hi);
            let term = days_between(i.issue_date, i.due_date);
            assert!((7..=30).contains(&term), "{term}");
        }
        for p in &d.payments {
            let inv = by_id[&p.invoice_id];
            assert!(p.date >= inv.issue_date, "{} before {}", p.id, inv.id);
            assert!(p.date >= lo && p.date <= hi);
            assert!(p.amount > Decimal::ZERO);
        }
        // Payments never exceed the invoice.
        let mut paid: HashMap<&InvoiceId, Decimal> = HashMap::new();
        for p in &d.payments {
            *paid.entry(&p.invoice_id).or_default() += p.amount;
        }
        assert!(paid.iter().all(|(id, sum)| *sum <= by_id[id].amount));
    }

    #[test]
    fn the_interesting_cases_exist() {
        let d = demo_dataset(5, start(), 30);
        // A customer with invoices in two currencies.
        let mut currencies: HashMap<&CustomerId, HashSet<&str>> = HashMap::new();
        for i in &d.invoices {
            currencies
                .entry(&i.customer_id)
                .or_default()
                .insert(i.currency.code());
        }
        assert!(currencies.values().any(|c| c.len() >= 2));
        // Partial payments, late payments and unpaid invoices.
        let by_id: HashMap<_, _> = d.invoices.iter().map(|i| (&i.id, i)).collect();
        let mut paid: HashMap<&InvoiceId, Decimal> = HashMap::new();
        for p in &d.payments {
            *paid.entry(&p.invoice_id).or_default() += p.amount;
        }
        assert!(
            paid.iter().any(|(id, sum)| *sum < by_id[id].amount),
            "a partial payment"
        );
        assert!(
            d.payments
                .iter()
                .any(|p| p.date > by_id[&p.invoice_id].due_date),
            "a late payment"
        );
        let unpaid = d
            .invoices
            .iter()
            .filter(|i| !paid.contains_key(&i.id))
            .count();
        assert!(unpaid >= d.invoices.len() / 10, "{unpaid} unpaid");
        // A customer no billing notice can reach, one without a billing contact at all.
        let reachable = |c: &Customer| {
            d.contacts.iter().any(|k| {
                k.customer_id == c.id
                    && k.role == "billing"
                    && ((k.email.is_some() && k.email_opt_in)
                        || (k.phone.is_some() && k.sms_opt_in))
            })
        };
        assert!(d.customers.iter().any(|c| !reachable(c)));
        assert!(d.customers.iter().any(|c| {
            !d.contacts
                .iter()
                .any(|k| k.customer_id == c.id && k.role == "billing")
        }));
        assert!(
            d.contacts
                .iter()
                .any(|k| k.role == "billing" && !k.email_opt_in)
        );
        assert!(d.contacts.iter().any(|k| k.role == "accounting"));
        assert!(d.contacts.iter().any(|k| k.sms_opt_in));
        for k in &d.contacts {
            let mail = k.email.as_ref().map(|e| e.as_str()).unwrap_or("");
            assert!(mail.contains(".example."), "{mail}");
        }
    }

    #[test]
    fn bench_files_import_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let today = start();
        let files = write_bench_csv(dir.path(), 42, 200, 3_000, today).unwrap();
        let opts = ImportOptions::default();
        let report = parse_file(
            RecordKind::Customers,
            &files.customers,
            &Known::default(),
            &opts,
            None,
        )
        .unwrap();
        assert!(report.errors.is_empty(), "{:?}", &report.errors[..1]);
        assert_eq!(report.rows_read, 200);
        let crate::import::Parsed::Customers(customers) = report.parsed else {
            panic!()
        };
        let known = Known {
            customers: customers.iter().map(|c| c.id.clone()).collect(),
            ..Known::default()
        };
        let report =
            parse_file(RecordKind::Contacts, &files.contacts, &known, &opts, None).unwrap();
        assert!(report.errors.is_empty(), "{:?}", &report.errors[..1]);
        let report =
            parse_file(RecordKind::Invoices, &files.invoices, &known, &opts, None).unwrap();
        assert!(report.errors.is_empty(), "{:?}", &report.errors[..1]);
        assert_eq!(report.rows_read, 3_000);
        let crate::import::Parsed::Invoices(invoices) = report.parsed else {
            panic!()
        };
        assert!(invoices.iter().all(|i| i.issue_date <= today));
        let known = Known {
            invoices: invoices
                .iter()
                .map(|i| {
                    let k = KnownInvoice {
                        customer_id: i.customer_id.clone(),
                        currency: i.currency,
                        amount: i.amount,
                        paid: Decimal::ZERO,
                        payments: HashMap::new(),
                    };
                    (i.id.clone(), k)
                })
                .collect(),
            ..known
        };
        let report =
            parse_file(RecordKind::Payments, &files.payments, &known, &opts, None).unwrap();
        assert!(
            report.errors.is_empty() && report.warnings.is_empty(),
            "{:?}",
            report.errors.first()
        );
        let crate::import::Parsed::Payments(payments) = report.parsed else {
            panic!()
        };
        assert!(payments.len() > 1_000);
        assert!(payments.iter().all(|p| p.date <= today));
        // Streaming output is deterministic too.
        let again = tempfile::tempdir().unwrap();
        let files2 = write_bench_csv(again.path(), 42, 200, 3_000, today).unwrap();
        assert_eq!(
            std::fs::read(&files.invoices).unwrap(),
            std::fs::read(&files2.invoices).unwrap()
        );
    }
}
