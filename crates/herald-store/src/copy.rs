//! `herald migrate-store`: a whole store copied into another, SQLite to PostgreSQL
//! (or back), in one transaction on the target, each table's row count and
//! checksum compared between the two before it commits. Nothing half-written:
//! any difference rolls the target back to empty.

use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::{Backend, Store};

/// The tables in the order their rows can be inserted: a row's parents first.
const TABLES: &[&str] = &[
    "meta",
    "customers",
    "customer_changes",
    "contacts",
    "operators",
    "tasks",
    "events",
    "relations",
    "invoices",
    "dunning_progress",
    "payments",
    "planner_runs",
    "notifications",
    "notification_invoices",
    "deliveries",
    "attempts",
    "alerts",
    "audit_log",
    "service_jobs",
    "api_tokens",
    "idempotency_keys",
    "holds",
    "send_allowance",
    "console_users",
    "console_sessions",
    "console_settings",
];

/// Rows read and written at a time.
const CHUNK: i64 = 20_000;

/// A column as the copy needs it: what to cast a value to, and where it stands in
/// the primary key (0: not in it), which orders the rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: String,
    pub kind: Kind,
    pub pk: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Text,
    Bool,
}

/// One table as copied: rows, and the SHA-256 of its rows in key order (the same
/// on both sides, or the copy is refused).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CopiedTable {
    pub table: String,
    pub rows: u64,
    pub checksum: String,
}

/// A connection to the store being read.
enum Reader {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

/// The target's one transaction.
enum Writer {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Calls a function of the backend's `copy` module on the connection.
macro_rules! on {
    ($conn:expr, $f:ident($($arg:expr),*)) => {
        match $conn {
            Side::Sqlite(c) => crate::sqlite::copy::$f(c $(, $arg)*).await,
            Side::Postgres(c) => crate::postgres::copy::$f(c $(, $arg)*).await,
        }
    };
}

/// A connection of either side, borrowed for one call.
enum Side<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

impl Reader {
    fn side(&mut self) -> Side<'_> {
        match self {
            Reader::Sqlite(c) => Side::Sqlite(c),
            Reader::Postgres(c) => Side::Postgres(c),
        }
    }
}

impl Writer {
    fn side(&mut self) -> Side<'_> {
        match self {
            Writer::Sqlite(c) => Side::Sqlite(c),
            Writer::Postgres(c) => Side::Postgres(c),
        }
    }
}

impl Store {
    /// Copies every row of this store into `target`, which must be empty (just
    /// created by `herald migrate`, or by this call). `on_table` hears of each
    /// table as it is done. Stop every herald using this store first: rows written
    /// during the copy may be missed.
    pub async fn copy_into(
        &self,
        target: &Store,
        mut on_table: impl FnMut(&CopiedTable),
    ) -> Result<Vec<CopiedTable>, StoreError> {
        let mut reader = match &self.backend {
            Backend::Sqlite(b) => Reader::Sqlite(b.reader().await?),
            Backend::Postgres(b) => Reader::Postgres(b.reader().await?),
        };
        let mut writer = match &target.backend {
            Backend::Sqlite(b) => Writer::Sqlite(b.begin_copy().await?),
            Backend::Postgres(b) => Writer::Postgres(b.begin_copy().await?),
        };
        // Both hold exactly herald's tables: a table this list misses would be
        // left behind without a word.
        for (side, tables) in [
            ("source", on!(reader.side(), tables())?),
            ("target", on!(writer.side(), tables())?),
        ] {
            let mut known: Vec<&str> = TABLES.to_vec();
            known.sort_unstable();
            if tables != known {
                return Err(StoreError::Copy(format!(
                    "the {side} store's tables are {tables:?}, not herald's {known:?}; \
                     is it a herald store of this version? Run `herald migrate` on it first"
                )));
            }
        }
        for table in TABLES.iter().filter(|t| **t != "meta") {
            let n = on!(writer.side(), count(table))?;
            if n > 0 {
                return Err(StoreError::Copy(format!(
                    "the target store is not empty ({table} has {n} rows): copy into a new, empty database, nothing was written"
                )));
            }
        }
        let mut done = Vec::new();
        for table in TABLES {
            let from = on!(reader.side(), columns(table))?;
            let to = on!(writer.side(), columns(table))?;
            let names = |c: &[Column]| c.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
            if names(&from) != names(&to) {
                return Err(StoreError::Copy(format!(
                    "{table} has the columns {:?} in the source and {:?} in the target: run `herald migrate` on both with this herald",
                    names(&from),
                    names(&to)
                )));
            }
            on!(writer.side(), clear(table))?;
            let mut source = Checksum::default();
            let mut offset = 0;
            loop {
                let rows = on!(reader.side(), read_chunk(table, &from, CHUNK, offset))?;
                let n = source.add(&rows)?;
                if n == 0 {
                    break;
                }
                on!(writer.side(), insert_chunk(table, &to, &rows))?;
                offset += CHUNK;
            }
            if to.iter().any(|c| c.name == "id" && c.kind == Kind::Int) {
                on!(writer.side(), ids_follow(table))?;
            }
            // Read back as the target stores it.
            let mut copied = Checksum::default();
            let mut offset = 0;
            loop {
                let rows = on!(writer.side(), read_chunk(table, &to, CHUNK, offset))?;
                if copied.add(&rows)? == 0 {
                    break;
                }
                offset += CHUNK;
            }
            let (rows, checksum) = source.finish();
            let (rows_there, checksum_there) = copied.finish();
            if (rows, &checksum) != (rows_there, &checksum_there) {
                // Name the first row that differs, so the cause can be found.
                let mut first = String::new();
                let mut offset = 0;
                while first.is_empty() {
                    let a = on!(reader.side(), read_chunk(table, &from, CHUNK, offset))?;
                    let b = on!(writer.side(), read_chunk(table, &to, CHUNK, offset))?;
                    let (a, b) = (canonical_rows(&a)?, canonical_rows(&b)?);
                    if a.is_empty() && b.is_empty() {
                        break;
                    }
                    if let Some((x, y)) = a.iter().zip(&b).find(|(x, y)| x != y) {
                        first = format!("; first difference: {x} read, {y} stored");
                    } else if a.len() != b.len() {
                        first = format!("; {} rows read, {} stored", a.len(), b.len());
                    }
                    offset += CHUNK;
                }
                return Err(StoreError::Copy(format!(
                    "{table}: {rows} rows (SHA-256 {checksum}) read, but {rows_there} rows (SHA-256 {checksum_there}) in the target{first}; nothing was written"
                )));
            }
            let t = CopiedTable {
                table: (*table).to_owned(),
                rows,
                checksum,
            };
            on_table(&t);
            done.push(t);
        }
        match writer {
            Writer::Sqlite(tx) => tx.commit().await?,
            Writer::Postgres(tx) => tx.commit().await?,
        }
        Ok(done)
    }
}

/// A running SHA-256 of rows, each as canonical JSON: a flag is 0 or 1 whichever
/// database it came from, so the two sides hash alike.
#[derive(Default)]
struct Checksum {
    hash: Sha256,
    rows: u64,
}

/// Each row of a chunk as canonical JSON text.
fn canonical_rows(chunk: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(chunk)
        .map_err(|e| StoreError::Corrupt(format!("a row read for copying: {e}")))?;
    Ok(rows
        .iter()
        .map(|row| {
            let row: Vec<serde_json::Value> = row
                .iter()
                .map(|v| match v {
                    serde_json::Value::Bool(b) => serde_json::Value::from(i64::from(*b)),
                    v => v.clone(),
                })
                .collect();
            serde_json::to_string(&row).unwrap_or_default()
        })
        .collect())
}

impl Checksum {
    /// Adds a chunk (a JSON array of rows); returns how many rows it held.
    fn add(&mut self, chunk: &str) -> Result<u64, StoreError> {
        let rows = canonical_rows(chunk)?;
        for text in &rows {
            self.hash.update(text.as_bytes());
            self.hash.update(b"\n");
        }
        self.rows += rows.len() as u64;
        Ok(rows.len() as u64)
    }

    fn finish(self) -> (u64, String) {
        let digest = self.hash.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        (self.rows, hex)
    }
}
