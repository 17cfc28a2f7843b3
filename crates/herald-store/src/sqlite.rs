//! The embedded backend: one SQLite file in WAL mode.
//!
//! Every write is one transaction, begun `IMMEDIATE` so that SQLite serializes
//! writers up front instead of failing one of them half way (a deferred transaction
//! that later wants to write cannot wait for the lock; an immediate one can, up to
//! the busy timeout). That serialization is also what makes the outbox safe:
//! two planners inserting the same dedupe key, or two dispatchers leasing, take
//! turns, so a notification is stored once and a delivery is leased to one holder.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Transaction};

use crate::error::StoreError;

pub(crate) type Engine = sqlx::Sqlite;
pub(crate) type Conn = sqlx::SqliteConnection;
pub(crate) type DbRow = sqlx::sqlite::SqliteRow;
pub(crate) type Args = sqlx::sqlite::SqliteArguments;

/// The store's SQL is SQLite's: this backend's statement is the first.
macro_rules! pick {
    ($sqlite:expr, $postgres:expr $(,)?) => {
        $sqlite
    };
}

#[path = "ops/alerts.rs"]
mod alerts;
#[path = "ops/allowance.rs"]
mod allowance;
#[path = "ops/console.rs"]
mod console;
#[path = "ops/copy.rs"]
pub(crate) mod copy;
#[path = "ops/exec.rs"]
mod exec;
#[path = "ops/holds.rs"]
mod holds;
#[path = "ops/outbox.rs"]
mod outbox;
#[path = "ops/plan.rs"]
mod plan;
#[path = "ops/records.rs"]
mod records;
#[path = "ops/report.rs"]
mod report;
#[path = "ops/service.rs"]
mod service;
#[path = "ops/tokens.rs"]
mod tokens;

pub(crate) use outbox::OutboxWriter;

/// The statements as written.
mod dialect {
    pub(crate) fn fixed(sql: &'static str) -> &'static str {
        sql
    }
    pub(crate) fn built(sql: String) -> String {
        sql
    }
}

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

#[derive(Debug, Clone)]
pub(crate) struct Backend {
    /// Readers: WAL lets them run beside the writer.
    pool: SqlitePool,
    /// The connections that write: one for most writes, and one a sender's
    /// [`OutboxWriter`] may hold for its run. Writers take turns on SQLite's lock
    /// anyway; keeping them on few connections keeps their page caches warm (a
    /// connection must re-read the pages another one changed).
    writer: SqlitePool,
}

impl Backend {
    pub(crate) async fn connect(path: PathBuf, create: bool) -> Result<Backend, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?
            .filename(&path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Page cache per connection (64 MiB; SQLite allocates it only as pages
            // are used). Bulk invoice loads rebuild their indexes instead of
            // inserting into them (see `upsert_invoices`), so they need no more.
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory")
            // Let the sorter use a second thread: index builds after a bulk import.
            .pragma("threads", "2")
            // Checkpoint the WAL every 256 MiB instead of every 4 MiB: a planning
            // run's transactions rewrite the same invoice pages, and so do API
            // batches of invoices; each checkpoint copies a page into the database
            // once, however often it changed since the last. (64 MiB -> 256 MiB:
            // 1,000,000 invoices through the API, 46,306 and 52,829 -> 52,192 and
            // 56,406 records/s, runs taken in turns.)
            .pragma("wal_autocheckpoint", "65536")
            // Rows cross from SQLite's worker thread to ours through this buffer;
            // with sqlx's default of 50 the worker stops every 50 rows of a big read.
            .row_buffer_size(4096)
            // A first import builds indexes for seconds on purpose; that is not
            // worth a warning on the user's console, so slow statements go to debug.
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
        let open = |connections| {
            SqlitePoolOptions::new()
                .max_connections(connections)
                // A ping before every use is a round trip to the connection's
                // thread; a local file does not go away between two statements.
                .test_before_acquire(false)
                .connect_with(options.clone())
        };
        let writer = open(2).await.map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        MIGRATOR.run(&writer).await.map_err(|source| {
            crate::migrate_error(&MIGRATOR, path.display().to_string(), source)
        })?;
        let pool = open(4).await.map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Ok(Backend { pool, writer })
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// A write transaction that holds SQLite's write lock from its first statement.
    async fn write(&self) -> Result<Transaction<'static, Engine>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// A transaction that leases or records deliveries: on SQLite, as any write.
    async fn write_rows(&self) -> Result<Transaction<'static, Engine>, StoreError> {
        self.write().await
    }

    /// A write transaction for `herald migrate-store`'s target.
    pub(crate) async fn begin_copy(&self) -> Result<Transaction<'static, Engine>, StoreError> {
        self.write().await
    }

    /// A connection to read a store being copied.
    pub(crate) async fn reader(&self) -> Result<sqlx::pool::PoolConnection<Engine>, StoreError> {
        Ok(self.pool.acquire().await?)
    }

    pub(crate) async fn audit(
        &self,
        at: jiff::Timestamp,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        outbox::insert_audit(&mut tx, at, actor, action, target, detail).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A write transaction on a connection the caller holds.
async fn begin_on(conn: &mut Conn) -> Result<Transaction<'_, Engine>, StoreError> {
    Ok(sqlx::Connection::begin_with(conn, "BEGIN IMMEDIATE").await?)
}
