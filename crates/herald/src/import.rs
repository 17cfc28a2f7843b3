//! Import files: parse and validate customers, contacts, operators, invoices and
//! payments from CSV, JSON (an array of objects) or JSON Lines.
//!
//! Invariant 7 (DESIGN.md): bad input is refused whole, with its place. Every problem of
//! a file is collected with its file, line and column ([`RowProblem`]); the caller
//! refuses the file when there is any error, or, with `--skip-invalid`, writes the good
//! rows and reports every skipped one. Whole-file problems (unreadable, unknown
//! extension, a header missing a column, malformed CSV or JSON) are an [`ImportError`].
//!
//! No database access here: the caller runs [`referenced_ids`] first, loads what the
//! database knows about those ids into [`Known`], then calls [`parse_file`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use herald_core::records::{Contact, Customer, Invoice, Operator, Payment, Relation};
use herald_core::values::{Currency, CustomerId, InvoiceId, PaymentId};
use rust_decimal::Decimal;

mod source;
mod validate;

/// FxHash with a final mix: the import's own maps hash millions of short ids, where
/// SipHash's DoS resistance buys nothing (the file is the operator's own).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z ^= z >> 33;
        z = z.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
        z ^ (z >> 33)
    }
}

impl FastHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517C_C1B7_2722_0A95);
    }
}

pub(crate) type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;
pub(crate) type FastSet<K> = HashSet<K, std::hash::BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests;

use source::Cell;

/// Which records a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Customers,
    Contacts,
    Operators,
    Invoices,
    Payments,
    Relations,
    Tasks,
    Events,
}

/// One column of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub required: bool,
}

const fn req(name: &'static str) -> Column {
    Column {
        name,
        required: true,
    }
}
const fn opt(name: &'static str) -> Column {
    Column {
        name,
        required: false,
    }
}

/// The most columns any kind has.
pub(crate) const MAX_COLS: usize = 8;

const CUSTOMER_COLS: &[Column] = &[
    req("id"),
    req("name"),
    opt("group"),
    opt("locale"),
    opt("time_zone"),
];
const CONTACT_COLS: &[Column] = &[
    req("customer_id"),
    req("role"),
    req("name"),
    opt("email"),
    opt("phone"),
    req("email_opt_in"),
    req("sms_opt_in"),
];
const OPERATOR_COLS: &[Column] = &[
    req("id"),
    req("name"),
    opt("email"),
    opt("phone"),
    opt("locale"),
    opt("roles"),
];
const INVOICE_COLS: &[Column] = &[
    req("id"),
    req("number"),
    req("customer_id"),
    req("issue_date"),
    req("due_date"),
    req("currency"),
    req("amount"),
    opt("attachment"),
];
const PAYMENT_COLS: &[Column] = &[req("id"), req("invoice_id"), req("date"), req("amount")];
const RELATION_COLS: &[Column] = &[req("customer_id"), req("operator_id"), req("relation")];
const EVENT_COLS: &[Column] = &[
    req("id"),
    req("type"),
    opt("customer_id"),
    opt("operator_id"),
    opt("subject"),
    req("occurred_at"),
    opt("payload"),
    opt("attachment"),
];
const TASK_COLS: &[Column] = &[
    req("id"),
    req("title"),
    req("customer_id"),
    opt("operator_id"),
    req("starts_at"),
    opt("time_zone"),
    opt("recurrence"),
    opt("template"),
];

impl RecordKind {
    pub const ALL: [RecordKind; 8] = [
        RecordKind::Customers,
        RecordKind::Contacts,
        RecordKind::Operators,
        RecordKind::Invoices,
        RecordKind::Payments,
        RecordKind::Relations,
        RecordKind::Tasks,
        RecordKind::Events,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Customers => "customers",
            RecordKind::Contacts => "contacts",
            RecordKind::Operators => "operators",
            RecordKind::Invoices => "invoices",
            RecordKind::Payments => "payments",
            RecordKind::Relations => "relations",
            RecordKind::Tasks => "tasks",
            RecordKind::Events => "events",
        }
    }

    /// The columns of this kind, in the canonical order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            RecordKind::Customers => CUSTOMER_COLS,
            RecordKind::Contacts => CONTACT_COLS,
            RecordKind::Operators => OPERATOR_COLS,
            RecordKind::Invoices => INVOICE_COLS,
            RecordKind::Payments => PAYMENT_COLS,
            RecordKind::Relations => RELATION_COLS,
            RecordKind::Tasks => TASK_COLS,
            RecordKind::Events => EVENT_COLS,
        }
    }

    /// The canonical CSV header, e.g. `id,invoice_id,date,amount`.
    pub fn header(self) -> String {
        let names: Vec<&str> = self.columns().iter().map(|c| c.name).collect();
        names.join(",")
    }

    /// The header with the optional columns named, for error messages.
    pub fn expected_header(self) -> String {
        let optional: Vec<&str> = self
            .columns()
            .iter()
            .filter(|c| !c.required)
            .map(|c| c.name)
            .collect();
        if optional.is_empty() {
            self.header()
        } else {
            format!("{} (optional: {})", self.header(), optional.join(", "))
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase();
        RecordKind::ALL.into_iter().find(|k| k.as_str() == t).ok_or_else(|| {
            format!("'{}' is not a record kind: use customers, contacts, operators, invoices, payments, relations, tasks or events", s.trim())
        })
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Accept (and ignore) columns herald does not know, instead of refusing the file.
    pub ignore_unknown_columns: bool,
    /// Keep the good rows and list the bad ones, instead of refusing the file.
    pub skip_invalid: bool,
}

/// What the database already knows, loaded by the caller before validation
/// (for the ids [`referenced_ids`] returned).
#[derive(Debug, Clone, Default)]
pub struct Known {
    pub customers: HashSet<CustomerId>,
    pub invoices: HashMap<InvoiceId, KnownInvoice>,
    /// Every operator (relations name them; there are few).
    pub operators: HashSet<herald_core::OperatorId>,
}

/// An invoice already in the database, with the payments recorded against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownInvoice {
    pub customer_id: CustomerId,
    pub currency: Currency,
    pub amount: Decimal,
    /// The sum of all payments recorded for it.
    pub paid: Decimal,
    /// Each recorded payment and its amount: re-importing one of these ids replaces
    /// it, so its old amount is taken out of the balance before the new one is added.
    pub payments: HashMap<PaymentId, Decimal>,
}

/// The valid records of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Customers(Vec<Customer>),
    Contacts(Vec<Contact>),
    Operators(Vec<Operator>),
    Invoices(Vec<Invoice>),
    Payments(Vec<Payment>),
    Relations(Vec<Relation>),
    Tasks(Vec<herald_core::tasks::Task>),
    Events(Vec<herald_core::events::Event>),
}

impl Parsed {
    fn empty(kind: RecordKind) -> Self {
        match kind {
            RecordKind::Customers => Parsed::Customers(Vec::new()),
            RecordKind::Contacts => Parsed::Contacts(Vec::new()),
            RecordKind::Operators => Parsed::Operators(Vec::new()),
            RecordKind::Invoices => Parsed::Invoices(Vec::new()),
            RecordKind::Payments => Parsed::Payments(Vec::new()),
            RecordKind::Relations => Parsed::Relations(Vec::new()),
            RecordKind::Tasks => Parsed::Tasks(Vec::new()),
            RecordKind::Events => Parsed::Events(Vec::new()),
        }
    }
    pub fn kind(&self) -> RecordKind {
        match self {
            Parsed::Customers(_) => RecordKind::Customers,
            Parsed::Contacts(_) => RecordKind::Contacts,
            Parsed::Operators(_) => RecordKind::Operators,
            Parsed::Invoices(_) => RecordKind::Invoices,
            Parsed::Payments(_) => RecordKind::Payments,
            Parsed::Relations(_) => RecordKind::Relations,
            Parsed::Tasks(_) => RecordKind::Tasks,
            Parsed::Events(_) => RecordKind::Events,
        }
    }
    pub fn len(&self) -> usize {
        match self {
            Parsed::Customers(v) => v.len(),
            Parsed::Contacts(v) => v.len(),
            Parsed::Operators(v) => v.len(),
            Parsed::Invoices(v) => v.len(),
            Parsed::Payments(v) => v.len(),
            Parsed::Relations(v) => v.len(),
            Parsed::Tasks(v) => v.len(),
            Parsed::Events(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A problem with one row, at its place: `FILE:LINE:COLUMN: reason`.
/// `column` is the column's name (for JSON, the field's); it is empty when the problem
/// is the whole row (e.g. a CSV row with too many fields), and then shows as `FILE:LINE: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub file: PathBuf,
    pub line: u64,
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.reason)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file.display(),
                self.line,
                self.column,
                self.reason
            )
        }
    }
}

/// The outcome of [`parse_file`].
#[derive(Debug, Clone)]
pub struct ParseReport {
    /// The valid rows only.
    pub parsed: Parsed,
    /// Every error of the file. Without `skip_invalid`, any error refuses the file.
    pub errors: Vec<RowProblem>,
    /// Kept rows with something to note (an overpayment, a missing attachment, an ignored column).
    pub warnings: Vec<RowProblem>,
    /// With `skip_invalid`: the line of each row left out.
    pub skipped_lines: Vec<u64>,
    /// Data rows read (the header excluded).
    pub rows_read: u64,
}

impl ParseReport {
    /// Whether the caller may write `parsed`: no errors, or `skip_invalid` was given.
    pub fn acceptable(&self, opts: &ImportOptions) -> bool {
        self.errors.is_empty() || opts.skip_invalid
    }
}

/// A problem with a whole file: nothing of it can be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {reason}; herald imports .csv, .json (an array of objects), .jsonl or .ndjson (one object per line)", path.display())]
    UnknownExtension { path: PathBuf, reason: String },
    #[error("{}:1: the header lacks the required column{} {}; expected header: {expected}",
        path.display(), if missing.len() == 1 { "" } else { "s" }, missing.join(", "))]
    MissingColumns {
        path: PathBuf,
        missing: Vec<String>,
        expected: String,
    },
    #[error("{}:{line}: unknown column{} {}; expected: {expected}; pass --ignore-unknown-columns to import the file without {}",
        path.display(), if unknown.len() == 1 { "" } else { "s" },
        unknown.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(", "),
        if unknown.len() == 1 { "it" } else { "them" })]
    UnknownColumns {
        path: PathBuf,
        line: u64,
        unknown: Vec<String>,
        expected: String,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Malformed {
        path: PathBuf,
        line: u64,
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

fn format_of(path: &Path) -> Result<Format, ImportError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv") => Ok(Format::Csv),
        Some("json" | "jsonl" | "ndjson") => Ok(Format::Json),
        Some(other) => Err(ImportError::UnknownExtension {
            path: path.to_path_buf(),
            reason: format!("'.{other}' is not a known file type"),
        }),
        None => Err(ImportError::UnknownExtension {
            path: path.to_path_buf(),
            reason: "the file name has no extension".to_owned(),
        }),
    }
}

/// Where records come from: a file (CSV, JSON, JSON lines), or the JSON objects
/// an API request carried, read in place rather than written out and read back.
#[derive(Debug, Clone, Copy)]
pub enum Records<'a> {
    File(&'a Path),
    /// Record `i` is "line" `i + 1` in every problem; `name` stands for the path
    /// in messages.
    Objects {
        name: &'a Path,
        objects: &'a [serde_json::Map<String, serde_json::Value>],
    },
}

impl<'a> Records<'a> {
    /// The file, or the name that stands for it in messages.
    pub fn path(&self) -> &'a Path {
        match *self {
            Records::File(p) => p,
            Records::Objects { name, .. } => name,
        }
    }
}

/// Reads every row, handing each to `on_row(line, cells, row_problem)`.
fn read_rows(
    kind: RecordKind,
    records: Records<'_>,
    ignore_unknown: bool,
    progress: Option<&indicatif::ProgressBar>,
    ignored: &mut Vec<(u64, String)>,
    on_row: source::OnRow<'_>,
) -> Result<u64, ImportError> {
    let path = match records {
        Records::File(path) => path,
        Records::Objects { name, objects } => {
            return source::read_objects(kind, name, objects, ignore_unknown, ignored, on_row);
        }
    };
    match format_of(path)? {
        Format::Csv => source::read_csv(kind, path, ignore_unknown, progress, ignored, on_row),
        Format::Json => source::read_json(kind, path, ignore_unknown, progress, ignored, on_row),
    }
}

/// Pass 1: the customer and invoice ids the file references, sorted and without
/// repeats, so the caller can load [`Known`] with two cheap queries.
///
/// - customers: nothing (a customers file references nothing);
/// - contacts and invoices: their `customer_id`s;
/// - operators: nothing;
/// - payments: their `invoice_id`s;
/// - relations and tasks: their `customer_id`s (and every operator, which the
///   caller loads whole).
///
/// (A caller re-importing invoices may also put the file's own invoices, if already
/// stored, into `Known::invoices`: then an invoice with payments cannot change its
/// currency, and lowering its amount below what is paid is a warning.)
///
/// Values that are not valid ids are left out here; [`parse_file`] reports them.
pub fn referenced_ids(
    kind: RecordKind,
    records: Records<'_>,
) -> Result<(Vec<CustomerId>, Vec<InvoiceId>), ImportError> {
    let (col, invoice) = match kind {
        RecordKind::Customers | RecordKind::Operators => return Ok((Vec::new(), Vec::new())),
        RecordKind::Contacts
        | RecordKind::Invoices
        | RecordKind::Relations
        | RecordKind::Tasks
        | RecordKind::Events => (
            if matches!(
                kind,
                RecordKind::Invoices | RecordKind::Tasks | RecordKind::Events
            ) {
                2
            } else {
                0
            },
            false,
        ),
        RecordKind::Payments => (1, true),
    };
    let mut seen: FastSet<String> = FastSet::default();
    let mut ignored = Vec::new();
    read_rows(
        kind,
        records,
        true,
        None,
        &mut ignored,
        &mut |_, cells, _| {
            if let Some(Cell::Text(s)) = cells.get(col) {
                let s = s.trim();
                if !seen.contains(s) {
                    seen.insert(s.to_owned());
                }
            }
        },
    )?;
    let mut ids: Vec<String> = seen.into_iter().collect();
    ids.sort_unstable();
    if invoice {
        Ok((
            Vec::new(),
            ids.iter()
                .filter_map(|s| InvoiceId::parse(s).ok())
                .collect(),
        ))
    } else {
        Ok((
            ids.iter()
                .filter_map(|s| CustomerId::parse(s).ok())
                .collect(),
            Vec::new(),
        ))
    }
}

/// Pass 2: parses and validates every row against `known`. Whole-file problems are an
/// `Err`; row problems are in the report, every one of them, each with its place.
///
/// `progress`, if given, advances by bytes read (its length is set to the file size
/// when it has none) every few thousand rows.
pub fn parse_file(
    kind: RecordKind,
    path: &Path,
    known: &Known,
    opts: &ImportOptions,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<ParseReport, ImportError> {
    parse_records(kind, Records::File(path), known, opts, progress)
}

/// [`parse_file`] for records from anywhere.
pub fn parse_records(
    kind: RecordKind,
    records: Records<'_>,
    known: &Known,
    opts: &ImportOptions,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<ParseReport, ImportError> {
    let path = records.path();
    let mut v = validate::Validator::new(kind, path, known, opts);
    let mut ignored = Vec::new();
    let rows_read = read_rows(
        kind,
        records,
        opts.ignore_unknown_columns,
        progress,
        &mut ignored,
        &mut |line, cells, problem| v.row(line, cells, problem),
    )?;
    let mut report = v.finish(rows_read);
    let ignored_warnings = ignored.into_iter().map(|(line, column)| RowProblem {
        file: path.to_path_buf(),
        line,
        reason: format!(
            "column '{column}' is not a {} column: ignored",
            kind.as_str()
        ),
        column,
    });
    report.warnings.splice(0..0, ignored_warnings);
    Ok(report)
}

/// What the store already knows that a file of `kind` needs checked against:
/// the customers and invoices it names (or every customer id, see [`KnownScope`]),
/// and every operator.
/// How [`load_known`] learns which customers exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KnownScope {
    /// Every customer id at once, when there are at most a million: one read,
    /// where a file of a million invoices would otherwise look up each id.
    Everything,
    /// Only the ids the file names: an API batch of 10,000 records names at most
    /// that many, and reading all 100,000 customers for it cost more than the batch.
    Referenced,
}

pub async fn load_known(
    store: &herald_store::Store,
    kind: RecordKind,
    records: Records<'_>,
    scope: KnownScope,
) -> anyhow::Result<Known> {
    let all_customers = match (kind, scope) {
        (_, KnownScope::Referenced) => None,
        (
            RecordKind::Contacts
            | RecordKind::Invoices
            | RecordKind::Relations
            | RecordKind::Tasks
            | RecordKind::Events,
            KnownScope::Everything,
        ) => store.all_customer_ids(1_000_000).await?,
        _ => None,
    };
    let (customer_ids, invoice_ids) = match all_customers {
        Some(_) => (Vec::new(), Vec::new()),
        None => referenced_ids(kind, records).map_err(|e| crate::cli::InputError(e.to_string()))?,
    };
    let mut known = Known {
        customers: match all_customers {
            Some(all) => all,
            None => store.existing_customers(&customer_ids).await?,
        },
        invoices: Default::default(),
        operators: if matches!(
            kind,
            RecordKind::Relations | RecordKind::Tasks | RecordKind::Events
        ) {
            store.all_operator_ids().await?
        } else {
            Default::default()
        },
    };
    for (id, b) in store.invoice_balances(&invoice_ids).await? {
        known.invoices.insert(
            id,
            KnownInvoice {
                customer_id: b.customer_id,
                currency: b.currency,
                amount: b.amount,
                paid: b.paid,
                payments: b.payments.into_iter().collect(),
            },
        );
    }
    Ok(known)
}

/// Writes validated records, each kind by its upsert: one transaction each.
pub async fn write(
    store: &herald_store::Store,
    parsed: &Parsed,
) -> anyhow::Result<herald_store::UpsertCounts> {
    Ok(match parsed {
        Parsed::Customers(v) => store.upsert_customers(v).await?,
        Parsed::Contacts(v) => store.upsert_contacts(v).await?,
        Parsed::Operators(v) => store.upsert_operators(v).await?,
        Parsed::Invoices(v) => store.upsert_invoices(v).await?,
        Parsed::Payments(v) => store.upsert_payments(v).await?,
        Parsed::Relations(v) => store.upsert_relations(v).await?,
        Parsed::Tasks(v) => store.upsert_tasks(v).await?,
        Parsed::Events(v) => store.upsert_events(v).await?,
    })
}
