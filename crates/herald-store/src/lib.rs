//! herald's store: records, the outbox, leasing and history, on SQLite through sqlx.
//!
//! Every write is one transaction, begun `IMMEDIATE` so that SQLite serializes
//! writers up front instead of failing one of them half way (a deferred transaction
//! that later wants to write cannot wait for the lock; an immediate one can, up to
//! the busy timeout). That serialization is also what makes the outbox safe:
//! two planners inserting the same dedupe key, or two dispatchers leasing, take
//! turns, so a notification is stored once and a delivery is leased to one holder.
//!
//! SQL is written with `$N` placeholders and runtime queries so that the PostgreSQL
//! backend can share most of it; the SQLite-only parts are `json_each` (to pass a
//! list as one parameter) and the migrations.

mod alerts;
mod error;
mod holds;
mod outbox;
mod plan;
mod records;
mod report;
mod service;
mod sql;
mod tokens;
mod types;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Sqlite, Transaction};

pub use alerts::{FailedDelivery, Failures, LastAlert};
pub use error::StoreError;
pub use holds::{Hold, HoldOn};
pub use outbox::OutboxWriter;
pub use service::ServiceJob;
pub use tokens::{ApiToken, IdempotentAnswer};
pub use types::*;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// A handle on the database; cheap to clone (it is a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    /// Readers: WAL lets them run beside the writer.
    pool: SqlitePool,
    /// The connections that write: one for most writes, and one a sender's
    /// [`OutboxWriter`] may hold for its run. Writers take turns on SQLite's lock
    /// anyway; keeping them on few connections keeps their page caches warm (a
    /// connection must re-read the pages another one changed).
    writer: SqlitePool,
    path: PathBuf,
}

/// The file a store URL names: `sqlite://herald.db`, `sqlite:herald.db` or a plain path.
fn db_path(url: &str) -> PathBuf {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let rest = rest.split('?').next().unwrap_or(rest);
    PathBuf::from(rest)
}

impl Store {
    /// Opens the database, creating the file (and its directory) when missing, and
    /// brings its schema up to date.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let path = db_path(url);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| StoreError::CreateDir {
                    dir: dir.to_owned(),
                    source,
                })?;
        }
        Self::connect(path, true).await
    }

    /// Opens a database that must already exist: every command but `herald init`
    /// uses this, so a typo in the URL does not silently start an empty database.
    pub async fn open_existing(url: &str) -> Result<Store, StoreError> {
        let path = db_path(url);
        if !path.is_file() {
            return Err(StoreError::Missing { path });
        }
        Self::connect(path, false).await
    }

    async fn connect(path: PathBuf, create: bool) -> Result<Store, StoreError> {
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
        MIGRATOR.run(&writer).await.map_err(|source| match source {
            // The database has a migration this binary does not know: a newer
            // herald wrote it, and this one must not touch it.
            sqlx::migrate::MigrateError::VersionMissing(version) => StoreError::NewerSchema {
                path: path.clone(),
                version,
                known: MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0),
            },
            source => StoreError::Migrate {
                path: path.clone(),
                source,
            },
        })?;
        let pool = open(4).await.map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        Ok(Store { pool, writer, path })
    }

    /// The database file, for messages and `herald status`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for the connections to finish and closes them; the WAL is checkpointed.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }

    /// A write transaction that holds SQLite's write lock from its first statement.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Records who did what, for the console's audit page.
    pub async fn audit(
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
