//! Row validation: cells → records, every problem collected with its place.

use std::path::{Path, PathBuf};

use herald_core::records::{Contact, Customer, Invoice, Operator, Payment, Relation, TimeZoneName};
use herald_core::values::{
    Currency, CustomerId, EmailAddress, InvoiceId, Locale, OperatorId, PaymentId, PhoneNumber,
    ValueError, parse_amount,
};
use jiff::civil::Date;
use rust_decimal::Decimal;

use super::source::Cell;
use super::{Column, FastMap, ImportOptions, Known, ParseReport, Parsed, RecordKind, RowProblem};

/// Parses `YYYY-MM-DD`, saying what is wrong with anything else.
pub(crate) fn parse_date(s: &str) -> Result<Date, ValueError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ValueError(
            "is empty: write a date as YYYY-MM-DD, e.g. 2026-11-22".to_owned(),
        ));
    }
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(ValueError(format!(
            "'{s}' is not a date: write it as YYYY-MM-DD, e.g. 2026-11-22"
        )));
    }
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0i16, |n, c| n * 10 + i16::from(c - b'0'));
    let (y, m, d) = (num(0..4), num(5..7) as i8, num(8..10) as i8);
    if !(1..=12).contains(&m) {
        return Err(ValueError(format!(
            "'{s}' is not a date: there is no month {m} (YYYY-MM-DD)"
        )));
    }
    let first = Date::new(y, m, 1).map_err(|e| ValueError(format!("'{s}' is not a date: {e}")))?;
    let days = first.days_in_month();
    if d < 1 || d > days {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        return Err(ValueError(format!(
            "'{s}' is not a date: {} {y} has {days} days",
            MONTHS[(m - 1) as usize]
        )));
    }
    Date::new(y, m, d).map_err(|e| ValueError(format!("'{s}' is not a date: {e}")))
}

/// A local date and time: `2026-11-23 10:00`, `2026-11-23T10:00` or with seconds.
/// The zone is the task's own column, so an offset or zone here is refused rather
/// than silently dropped.
pub(crate) fn parse_local_datetime(s: &str) -> Result<jiff::civil::DateTime, ValueError> {
    let s = s.trim();
    let fail = || {
        ValueError(format!(
            "'{s}' is not a local date and time: write it as YYYY-MM-DD HH:MM, e.g. 2026-11-23 10:00 (the time zone goes in the time_zone column)"
        ))
    };
    // Checked by byte, so a multi-byte character where the separator should be is
    // an error, not a panic.
    if s.len() < 16 || !matches!(s.as_bytes()[10], b' ' | b'T' | b't') {
        return Err(fail());
    }
    let (Some(day), Some(time_text)) = (s.get(..10), s.get(11..)) else {
        return Err(fail());
    };
    let date = parse_date(day).map_err(|_| fail())?;
    if !time_text
        .chars()
        .all(|c| c.is_ascii_digit() || c == ':' || c == '.')
    {
        return Err(fail());
    }
    let time: jiff::civil::Time = time_text.parse().map_err(|_| fail())?;
    Ok(date.to_datetime(time))
}

/// Yes/no as people type it in the four languages herald speaks; empty is no.
pub(crate) fn parse_bool(s: &str) -> Result<bool, ValueError> {
    match s.trim().to_lowercase().as_str() {
        "" | "false" | "no" | "n" | "0" | "nie" | "ne" | "nu" => Ok(false),
        "true" | "yes" | "y" | "1" | "tak" | "ano" | "da" => Ok(true),
        _ => Err(ValueError(format!(
            "'{}' is not a yes/no value: use true/false, yes/no or 1/0 (tak/nie, ano/ne, da/nu also work)",
            s.trim()
        ))),
    }
}

/// `12.5` in PLN → `12.50`.
fn fmt_amount(d: Decimal, c: Currency) -> String {
    let mut d = d;
    d.rescale(c.minor_units());
    d.to_string()
}

/// One row being validated: its problems go straight to the report.
struct Row<'r, 'c> {
    file: &'r Path,
    line: u64,
    cells: &'r [Cell<'c>],
    cols: &'static [Column],
    errors: &'r mut Vec<RowProblem>,
    bad: bool,
}

impl<'r> Row<'r, '_> {
    fn fail(&mut self, col: usize, reason: impl Into<String>) {
        self.bad = true;
        self.errors.push(RowProblem {
            file: self.file.to_path_buf(),
            line: self.line,
            column: self.cols[col].name.to_owned(),
            reason: reason.into(),
        });
    }

    /// The trimmed text of a cell; `None` (after reporting) if it is unusable.
    fn text(&mut self, col: usize) -> Option<&'r str> {
        let cells = self.cells;
        match &cells[col] {
            Cell::Text(s) => Some(s.trim()),
            Cell::Absent if self.cols[col].required => {
                self.fail(col, "is missing");
                None
            }
            Cell::Absent => Some(""),
            Cell::Invalid(reason) => {
                self.fail(col, reason.clone());
                None
            }
        }
    }

    fn parse<T>(&mut self, col: usize, f: impl FnOnce(&str) -> Result<T, ValueError>) -> Option<T> {
        let s = self.text(col)?;
        match f(s) {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(col, e.0);
                None
            }
        }
    }

    /// An optional value: `Some(None)` when empty.
    fn optional<T>(
        &mut self,
        col: usize,
        f: impl FnOnce(&str) -> Result<T, ValueError>,
    ) -> Option<Option<T>> {
        let s = self.text(col)?;
        if s.is_empty() {
            return Some(None);
        }
        match f(s) {
            Ok(v) => Some(Some(v)),
            Err(e) => {
                self.fail(col, e.0);
                None
            }
        }
    }

    /// A required, non-empty text without control characters.
    fn name(&mut self, col: usize) -> Option<String> {
        let s = self.text(col)?;
        if s.is_empty() {
            self.fail(col, "is empty");
            None
        } else if s.chars().any(char::is_control) {
            self.fail(col, "contains a control character");
            None
        } else {
            Some(s.to_owned())
        }
    }
}

pub(super) struct Validator<'k> {
    kind: RecordKind,
    file: PathBuf,
    /// The import file's folder, for relative attachment paths.
    base_dir: PathBuf,
    known: &'k Known,
    skip_invalid: bool,
    errors: Vec<RowProblem>,
    warnings: Vec<RowProblem>,
    skipped_lines: Vec<u64>,
    out: Parsed,
    /// First line of each id seen in this file.
    seen: FastMap<String, u64>,
    seen_contacts: FastMap<(CustomerId, String, String), u64>,
    /// Running total paid per invoice, starting from what is known.
    paid: FastMap<InvoiceId, Decimal>,
}

// Column indices, in each kind's column order (see `RecordKind::columns`).
mod col {
    pub const ID: usize = 0;
    pub mod customer {
        pub const NAME: usize = 1;
        pub const GROUP: usize = 2;
        pub const LOCALE: usize = 3;
        pub const TIME_ZONE: usize = 4;
    }
    pub mod contact {
        pub const CUSTOMER_ID: usize = 0;
        pub const ROLE: usize = 1;
        pub const NAME: usize = 2;
        pub const EMAIL: usize = 3;
        pub const PHONE: usize = 4;
        pub const EMAIL_OPT_IN: usize = 5;
        pub const SMS_OPT_IN: usize = 6;
    }
    pub mod operator {
        pub const NAME: usize = 1;
        pub const EMAIL: usize = 2;
        pub const PHONE: usize = 3;
        pub const LOCALE: usize = 4;
        pub const ROLES: usize = 5;
    }
    pub mod invoice {
        pub const NUMBER: usize = 1;
        pub const CUSTOMER_ID: usize = 2;
        pub const ISSUE_DATE: usize = 3;
        pub const DUE_DATE: usize = 4;
        pub const CURRENCY: usize = 5;
        pub const AMOUNT: usize = 6;
        pub const ATTACHMENT: usize = 7;
    }
    pub mod payment {
        pub const INVOICE_ID: usize = 1;
        pub const DATE: usize = 2;
        pub const AMOUNT: usize = 3;
    }
    pub mod task {
        pub const TITLE: usize = 1;
        pub const CUSTOMER_ID: usize = 2;
        pub const OPERATOR_ID: usize = 3;
        pub const STARTS_AT: usize = 4;
        pub const TIME_ZONE: usize = 5;
        pub const RECURRENCE: usize = 6;
        pub const TEMPLATE: usize = 7;
    }
    pub mod event {
        pub const TYPE: usize = 1;
        pub const CUSTOMER_ID: usize = 2;
        pub const OPERATOR_ID: usize = 3;
        pub const SUBJECT: usize = 4;
        pub const OCCURRED_AT: usize = 5;
        pub const PAYLOAD: usize = 6;
        pub const ATTACHMENT: usize = 7;
    }
    pub mod relation {
        pub const CUSTOMER_ID: usize = 0;
        pub const OPERATOR_ID: usize = 1;
        pub const RELATION: usize = 2;
    }
}

impl<'k> Validator<'k> {
    pub(super) fn new(
        kind: RecordKind,
        path: &Path,
        known: &'k Known,
        opts: &ImportOptions,
    ) -> Self {
        let parent = path.parent().unwrap_or(Path::new(""));
        let base_dir = if parent.as_os_str().is_empty() {
            std::path::absolute(".").unwrap_or_else(|_| PathBuf::from("."))
        } else {
            std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf())
        };
        Self {
            kind,
            file: path.to_path_buf(),
            base_dir,
            known,
            skip_invalid: opts.skip_invalid,
            errors: Vec::new(),
            warnings: Vec::new(),
            skipped_lines: Vec::new(),
            out: Parsed::empty(kind),
            seen: FastMap::default(),
            seen_contacts: FastMap::default(),
            paid: FastMap::default(),
        }
    }

    pub(super) fn finish(self, rows_read: u64) -> ParseReport {
        ParseReport {
            parsed: self.out,
            errors: self.errors,
            warnings: self.warnings,
            skipped_lines: self.skipped_lines,
            rows_read,
        }
    }

    fn warn(&mut self, line: u64, column: &str, reason: String) {
        self.warnings.push(RowProblem {
            file: self.file.clone(),
            line,
            column: column.to_owned(),
            reason,
        });
    }

    pub(super) fn row(&mut self, line: u64, cells: &[Cell<'_>], problem: Option<String>) {
        let ok = match problem {
            Some(reason) => {
                self.errors.push(RowProblem {
                    file: self.file.clone(),
                    line,
                    column: String::new(),
                    reason,
                });
                false
            }
            None => match self.kind {
                RecordKind::Customers => self.customer(line, cells),
                RecordKind::Contacts => self.contact(line, cells),
                RecordKind::Operators => self.operator(line, cells),
                RecordKind::Invoices => self.invoice(line, cells),
                RecordKind::Payments => self.payment(line, cells),
                RecordKind::Relations => self.relation(line, cells),
                RecordKind::Tasks => self.task(line, cells),
                RecordKind::Events => self.event(line, cells),
            },
        };
        if !ok && self.skip_invalid {
            self.skipped_lines.push(line);
        }
    }

    /// Reports a repeated id, naming the line it first appeared on.
    fn first_seen(seen: &mut FastMap<String, u64>, id: &str, line: u64) -> Option<u64> {
        if let Some(&first) = seen.get(id) {
            return Some(first);
        }
        seen.insert(id.to_owned(), line);
        None
    }

    fn check_customer(
        known: &Known,
        row: &mut Row<'_, '_>,
        col: usize,
        id: Option<CustomerId>,
    ) -> Option<CustomerId> {
        let id = id?;
        if known.customers.contains(&id) {
            Some(id)
        } else {
            row.fail(
                col,
                format!("customer '{id}' does not exist: import customers first"),
            );
            None
        }
    }

    fn check_operator(known: &Known, row: &mut Row<'_, '_>, col: usize, id: &OperatorId) {
        if !known.operators.contains(id) {
            row.fail(
                col,
                format!("operator '{id}' does not exist: import operators first"),
            );
        }
    }

    fn customer(&mut self, line: u64, cells: &[Cell<'_>]) -> bool {
        use col::customer::*;
        let mut row = Row {
            file: &self.file,
            line,
            cells,
            cols: self.kind.columns(),
            errors: &mut self.errors,
            bad: false,
        };
        let id = row.parse(col::ID, CustomerId::parse);
        let name = row.name(NAME);
        let group = row
            .text(GROUP)
            .map(|g| (!g.is_empty()).then(|| g.to_owned()));
        let locale = row.optional(LOCALE, Locale::parse);
        let time_zone = row.optional(TIME_ZONE, TimeZoneName::parse);
        if let Some(id) = &id
            && let Some(first) = Self::first_seen(&mut self.seen, id.as_str(), line)
        {
            row.fail(
                col::ID,
                format!("customer '{id}' already appears on line {first}"),
            );
        }
        if row.bad {
            return false;
        }
        let (Some(id), Some(name), Some(group), Some(locale), Some(time_zone)) =
            (id, name, group, locale, time_zone)
        else {
            return false;
        };
        if let Parsed::Customers(v) = &mut self.out {
            v.push(Customer {
                id,
                name,
                group,
                locale,
                time_zone,
            });
        }
        true
    }

    fn contact(&mut self, line: u64, cells: &[Cell<'_>]) -> bool {
        use col::contact::*;
        let mut row = Row {
            file: &self.file,
            line,
            cells,
            cols: self.kind.columns(),
            errors: &mut self.errors,
            bad: false,
        };
        let customer_id = row.parse(CUSTOMER_ID, CustomerId::parse);
        let customer_id = Self::check_customer(self.known, &mut row, CUSTOMER_ID, customer_id);
        let role = row.name(ROLE).map(|r| r.to_lowercase());
        let name = row.text(NAME).map(str::to_owned);
        let email = row.optional(EMAIL, EmailAddress::parse);
        let phone = row.optional(PHONE, PhoneNumber::parse);
        let email_opt_in = row.parse(EMAIL_OPT_IN, parse_bool);
        let sms_opt_in = row.parse(SMS_OPT_IN, parse_bool);
        if let (Some(None), Some(None)) = (&email, &phone) {
            row.fail(EMAIL, "a contact needs an email or a phone; both are empty");
        }
        if let (Some(true), Some(None)) = (email_opt_in, &email) {
            row.fail(EMAIL_OPT_IN, "email_opt_in is true but email is empty");
        }
        if let (Some(true), Some(None)) = (sms_opt_in, &phone) {
            row.fail(SMS_OPT_IN, "sms_opt_in is true but phone is empty");
        }
        if let (Some(c), Some(r), Some(n)) = (&customer_id, &role, &name) {
            let key = (c.clone(), r.clone(), n.clone());
            if let Some(&first) = self.seen_contacts.get(&key) {
                row.fail(
                    NAME,
                    format!("contact ({c}, {r}, '{n}') already appears on line {first}"),
                );
            } else {
                self.seen_contacts.insert(key, line);
            }
        }
        if row.bad {
            return false;
        }
        let (
            Some(customer_id),
            Some(role),
            Some(name),
            Some(email),
            Some(phone),
            Some(email_opt_in),
            Some(sms_opt_in),
        ) = (
            customer_id,
            role,
            name,
            email,
            phone,
            email_opt_in,
            sms_opt_in,
        )
        else {
            return false;
        };
        if let Parsed::Contacts(v) = &mut self.out {
            v.push(Contact {
                customer_id,
                role,
                name,
                email,
                phone,
                email_opt_in,
                sms_opt_in,
            });
        }
        true
    }

    fn event(&mut self, line: u64, cells: &[Cell<'_>]) -> bool {
        use col::event::*;
        let mut row = Row {
            file: &self.file,
            line,
            cells,
            cols: self.kind.columns(),
            errors: &mut self.errors,
            bad: false,
        };
        let id = row.parse(col::ID, herald_core::EventId::parse);
        let kind = row.name(TYPE);
        if let Some(k) = &kind
            && !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            row.fail(
                TYPE,
                format!("'{k}' is not an event type: use letters, digits, '.', '_' and '-', e.g. customs.IE529"),
            );
        }
        // Empty: an event for every customer (a reading period started).
        let customer_id = match row.optional(CUSTOMER_ID, CustomerId::parse) {
            Some(Some(c)) => {
                Self::check_customer(self.known, &mut row, CUSTOMER_ID, Some(c)).map(Some)
            }
            other => other,
        };
        let operator_id = row.optional(OPERATOR_ID, OperatorId::parse);
        if let Some(Some(o)) = &operator_id {
            Self::check_operator(self.known, &mut row, OPERATOR_ID, o);
        }
        let subject = row
            .text(SUBJECT)
            .map(|s| (!s.is_empty()).then(|| s.to_owned()));
        let occurred_at = row.parse(OCCURRED_AT, |s| {
            s.parse::<jiff::Timestamp>().map_err(|_| {
                ValueError(format!(
                    "'{s}' is not an instant: write it with its offset, e.g. 2026-11-23T10:15:00+01:00 or 2026-11-23T09:15:00Z"
                ))
            })
        });
        let payload = row.text(PAYLOAD).and_then(|p| {
            if p.is_empty() {
                return Some(serde_json::Map::new());
            }
            match serde_json::from_str::<serde_json::Value>(p) {
                Ok(serde_json::Value::Object(m)) => Some(m),
                Ok(_) => {
                    row.fail(PAYLOAD, "must be a JSON object, e.g. {\"area\": \"hr\"}");
                    None
                }
                Err(e) => {
                    row.fail(PAYLOAD, format!("is not JSON: {e}"));
                    None
                }
            }
        });
        let attachment = row
            .text(ATTACHMENT)
            .map(|a| (!a.is_empty()).then(|| a.to_owned()));
        if let Some(id) = &id
            && let Some(first) = Self::first_seen(&mut self.seen, id.as_str(), line)
        {
            row.fail(
                col::ID,
                format!("event '{id}' already appears on line {first}"),
            );
        }
        if row.bad {
            return false;
        }
        let (
            Some(id),
            Some(kind),
            Some(customer_id),
            Some(operator_id),
            Some(subject),
            Some(occurred_at),
            Some(payload),
            Some(attachment),
        ) = (
            id,
            kind,
            customer_id,
            operator_id,
            subject,
            occurred_at,
            payload,
            attachment,
        )
        else {
            return false;
        };
        if let Parsed::Events(v) = &mut self.out {
            v.push(herald_core::events::Event {
                id,
                kind,
                customer_id,
                operator_id,
                subject,
                occurred_at,
                payload,
                attachment,
            });
        }
        true
    }

    fn task(&mut self, line: u64, cells: &[Cell<'_>]) -> bool {
        use col::task::*;
        let mut row = Row {
            file: &self.file,
            line,
            cells,
            cols: self.kind.columns(),
            errors: &mut self.errors,
            bad: false,
        };
        let id = row.parse(col::ID, herald_core::TaskId::parse);
        let title = row.name(TITLE);
        let customer_id = row.parse(CUSTOMER_ID, CustomerId::parse);
        let customer_id = Self::check_customer(self.known, &mut row, CUSTOMER_ID, customer_id);
        let operator_id = row.optional(OPERATOR_ID, OperatorId::parse);
        if let Some(Some(o)) = &operator_id {
            Self::check_operator(self.known, &mut row, OPERATOR_ID, o);
        }
        let starts_at = row.parse(STARTS_AT, parse_local_datetime);
        let time_zone = row.optional(TIME_ZONE, TimeZoneName::parse);
        let recurrence_text = row.text(RECURRENCE).map(str::to_owned);
        let recurrence = match &recurrence_text {
            Some(r) => match herald_core::tasks::Recurrence::parse(r) {
                Ok(r) => Some(r),
                Err(e) => {
                    row.fail(RECURRENCE, e);
                    None
                }
            },
            None => None,
        };
        let template = row
            .text(TEMPLATE)
            .map(|t| (!t.is_empty()).then(|| t.to_owned()));
        if let Some(id) = &id
            && let Some(first) = Self::first_seen(&mut self.seen, id.as_str(), line)
        {
            row.fail(
                col::ID,
                format!("task '{id}' already appears on line {first}"),
            );
        }
        if row.bad {
            return false;
        }
        let (
            Some(id),
            Some(title),
            Some(customer_id),
            Some(operator_id),
            Some(starts_at),
            Some(time_zone),
            Some(recurrence),
            Some(recurrence_text),
            Some(template),
        ) = (
            id,
            title,
            customer_id,
            operator_id,
            starts_at,
            time_zone,
            recurrence,
            recurrence_text,
            template,
        )
        else {
            return false;
        };
        if let Parsed::Tasks(v) = &mut self.out {
            v.push(herald_core::tasks::Task {
                id,
                title,
                customer_id,
                operator_id,
                starts_at,
                time_zone,
                recurrence,
                recurrence_text: recurrence_text.trim().to_lowercase(),
                template,
            });
        }
        true
    }

    fn relation(&mut self, line: u64, cells: &[Cell<'_>]) -> bool {
        use col::relation::*;
        let mut row = Row {
            file: &self.file,
            line,
            cells,
            cols: self.kind.columns(),
            errors: &mut self.errors,
            bad: false,
        };
        let customer_id = row.parse(CUSTOMER_ID, CustomerId::parse);
        let customer_id = Self::check_customer(self.known, &mut row, CUSTOMER_ID, customer_id);
        let operator_id = row.parse(OPERATOR_ID, OperatorId::parse);
        if let Some(o) = &operator_id {
            Self::check_operator(self.known, &mut row, OPERATOR_ID, o);
        }
        let relation = row.name(RELATION).map(|r| r.to_lowercase());
        if let Some(r) = &relation
            && !r
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            row.fail(
                RELATION,
                format!("'{r}' is not a relation name: use letters, digits, '_' and '-', e.g. accounting_manager"),
            );
        }
        if let (Some(c), Some(o), Some(r)) = (&customer_id, &operator_id, &relation) {
            let key = format!("{c}\u{0}{o}\u{0}{r}");
            if let Some(first) = Self::first_seen(&mut self.seen, &key, line) {
                row.fail(
                    RELATION,
                    format!("relation ({c}, {o}, {r}) already appears on line {first}"),
                );
            }
        }
        if row.bad {
            return false;
        }
        let (Some(customer_id), Some(operator_id), Some(relation)) =
            (customer_id, operator_id, relation)
        else {
            return false;
        };
        if let Parsed::Relations(v) = &mut self.out {
            v.push(Relation {
                customer_id,
                operator_id,
                relation,
            });
        }
        true
    }

    fn operator(&mut self, line: u64, cells: &[Cell<'_>]) -> bool {
        use col::operator::*;
        let mut row = Row {
            file: &self.file,
            line,
            cells,
            cols: self.kind.columns(),
            errors: &mut self.errors,
            bad: false,
        };
        let id = row.parse(col::ID, OperatorId::parse);
        let name = row.name(NAME);
        let email = row.optional(EMAIL, EmailAddress::parse);
        let phone = row.optional(PHONE, PhoneNumber::parse);
        let locale = row.optional(LOCALE, Locale::parse);
        let roles = row.text(ROLES).map(|s| {
            let mut roles: Vec<String> = Vec::new();
            for r in s.split([';', '|']).map(str::trim).filter(|r| !r.is_empty()) {
                if !roles.iter().any(|x| x == r) {
                    roles.push(r.to_owned());
                }
            }
            roles
        });
        if let Some(id) = &id
            && let Some(first) = Self::first_seen(&mut self.seen, id.as_str(), line)
        {
            row.fail(
                col::ID,
                format!("operator '{id}' already appears on line {first}"),
            );
        }
        if row.bad {
            return false;
        }
        let (Some(id), Some(name), Some(email), Some(phone), Some(locale), Some(roles)) =
            (id, name, email, phone, locale, roles)
        else {
            return false;
        };
        if let Parsed::Operators(v) = &mut self.out {
            v.push(Operator {
                id,
                name,
                email,
                phone,
                locale,
                roles,
            });
        }
        true
    }

    fn invoice(&mut self, line: u64, cells: &[Cell<'_>]) -> bool {
        use col::invoice::*;
        let mut row = Row {
            file: &self.file,
            line,
            cells,
            cols: self.kind.columns(),
            errors: &mut self.errors,
            bad: false,
        };
        let id = row.parse(col::ID, InvoiceId::parse);
        let number = row.name(NUMBER);
        let customer_id = row.parse(CUSTOMER_ID, CustomerId::parse);
        let customer_id = Self::check_customer(self.known, &mut row, CUSTOMER_ID, customer_id);
        let issue_date = row.parse(ISSUE_DATE, parse_date);
        let due_date = row.parse(DUE_DATE, parse_date);
        let currency = row.parse(CURRENCY, Currency::parse);
        let amount = row.parse(AMOUNT, |s| parse_amount(s, currency));
        let attachment = row.text(ATTACHMENT).map(|s| {
            if s.is_empty() {
                return None;
            }
            let p = Path::new(s);
            let joined = if p.is_absolute() {
                p.to_path_buf()
            } else {
                self.base_dir.join(p)
            };
            Some(std::path::absolute(&joined).unwrap_or(joined))
        });
        if let (Some(issue), Some(due)) = (issue_date, due_date)
            && due < issue
        {
            row.fail(
                DUE_DATE,
                format!("due_date {due} is before issue_date {issue}"),
            );
        }
        let mut warnings = Vec::new();
        if let Some(id) = &id {
            if let Some(first) = Self::first_seen(&mut self.seen, id.as_str(), line) {
                row.fail(
                    col::ID,
                    format!("invoice '{id}' already appears on line {first}"),
                );
            }
            if let Some(k) = self.known.invoices.get(id) {
                if let Some(c) = currency
                    && c != k.currency
                    && k.paid > Decimal::ZERO
                {
                    row.fail(
                        CURRENCY,
                        format!(
                            "invoice '{id}' already has payments in {}; its currency cannot change to {c}",
                            k.currency
                        ),
                    );
                } else if let Some(a) = amount
                    && a < k.paid
                {
                    warnings.push((
                        AMOUNT,
                        format!(
                            "invoice '{id}' is now for {} {} but {} {} is already paid: the difference is kept as a credit",
                            fmt_amount(a, k.currency),
                            k.currency,
                            fmt_amount(k.paid, k.currency),
                            k.currency
                        ),
                    ));
                }
            }
        }
        if let Some(Some(p)) = &attachment
            && !p.is_file()
        {
            warnings.push((
                ATTACHMENT,
                format!(
                    "attachment '{}' does not exist (relative paths are read from the import file's folder)",
                    p.display()
                ),
            ));
        }
        if row.bad {
            return false;
        }
        let (
            Some(id),
            Some(number),
            Some(customer_id),
            Some(issue_date),
            Some(due_date),
            Some(currency),
            Some(amount),
            Some(attachment),
        ) = (
            id,
            number,
            customer_id,
            issue_date,
            due_date,
            currency,
            amount,
            attachment,
        )
        else {
            return false;
        };
        for (c, reason) in warnings {
            self.warn(line, INVOICE_COLS_NAMES[c], reason);
        }
        let attachment = attachment.map(|p| p.to_string_lossy().into_owned());
        if let Parsed::Invoices(v) = &mut self.out {
            v.push(Invoice {
                id,
                number,
                customer_id,
                issue_date,
                due_date,
                currency,
                amount,
                attachment,
            });
        }
        true
    }

    fn payment(&mut self, line: u64, cells: &[Cell<'_>]) -> bool {
        use col::payment::*;
        let known = self.known;
        let mut row = Row {
            file: &self.file,
            line,
            cells,
            cols: self.kind.columns(),
            errors: &mut self.errors,
            bad: false,
        };
        let id = row.parse(col::ID, PaymentId::parse);
        let invoice_id = row.parse(INVOICE_ID, InvoiceId::parse);
        let invoice = invoice_id
            .as_ref()
            .and_then(|i| match known.invoices.get(i) {
                Some(k) => Some(k),
                None => {
                    row.fail(
                        INVOICE_ID,
                        format!("invoice '{i}' does not exist: import invoices first"),
                    );
                    None
                }
            });
        let date = row.parse(DATE, parse_date);
        let amount = row.parse(AMOUNT, |s| parse_amount(s, invoice.map(|k| k.currency)));
        if amount == Some(Decimal::ZERO) {
            row.fail(AMOUNT, "is zero: a payment must be greater than zero");
        }
        if let Some(id) = &id
            && let Some(first) = Self::first_seen(&mut self.seen, id.as_str(), line)
        {
            row.fail(
                col::ID,
                format!("payment '{id}' already appears on line {first}"),
            );
        }
        if row.bad {
            return false;
        }
        let (Some(id), Some(invoice_id), Some(invoice), Some(date), Some(amount)) =
            (id, invoice_id, invoice, date, amount)
        else {
            return false;
        };
        let paid = self.paid.entry(invoice_id.clone()).or_insert(invoice.paid);
        if let Some(old) = invoice.payments.get(&id) {
            // A re-import of a recorded payment replaces it: no double counting.
            *paid -= *old;
        }
        *paid += amount;
        if *paid > invoice.amount {
            let over = (*paid - invoice.amount).min(amount);
            let cur = invoice.currency;
            let reason = format!(
                "payment {id} exceeds the balance of invoice {invoice_id} by {} {cur}: kept as a credit",
                fmt_amount(over, cur)
            );
            self.warn(line, "amount", reason);
        }
        if let Parsed::Payments(v) = &mut self.out {
            v.push(Payment {
                id,
                invoice_id,
                date,
                amount,
            });
        }
        true
    }
}

const INVOICE_COLS_NAMES: [&str; 8] = [
    "id",
    "number",
    "customer_id",
    "issue_date",
    "due_date",
    "currency",
    "amount",
    "attachment",
];
