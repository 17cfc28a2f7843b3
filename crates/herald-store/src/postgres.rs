//! The shared backend: one PostgreSQL database that any number of herald nodes use
//! at once.
//!
//! SQLite serializes writers; the store's reasoning (a dunning step is checked
//! free, then covered; a batch of records gets the next change number; the planner
//! numbers new notifications) relies on that. PostgreSQL runs writers side by side,
//! so every write transaction here first takes one transaction-scoped advisory
//! lock (`pg_advisory_xact_lock`): the same one-writer-at-a-time, across nodes, for
//! records, plans and acts. The outbox's hot path does not take it: leasing locks
//! the rows it takes (`FOR UPDATE SKIP LOCKED`, so nodes never wait on each other's
//! leases) and recording an outcome is guarded by the lease holder, so deliveries
//! are sent by several nodes in parallel.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Transaction};

use crate::error::StoreError;

pub(crate) type Engine = sqlx::Postgres;
pub(crate) type Conn = sqlx::PgConnection;
pub(crate) type DbRow = sqlx::postgres::PgRow;
pub(crate) type Args = sqlx::postgres::PgArguments;

/// Where the store says how PostgreSQL does a thing best: the second statement.
macro_rules! pick {
    ($sqlite:expr, $postgres:expr $(,)?) => {
        $postgres
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

#[cfg(feature = "testing")]
pub(crate) use dialect::translate;
pub(crate) use outbox::OutboxWriter;

/// The store's SQLite statements in PostgreSQL's SQL.
mod dialect {
    use super::*;

    /// Each fixed statement is translated once; there are a few hundred of them.
    pub(crate) fn fixed(sql: &'static str) -> &'static str {
        static DONE: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
        let done = DONE.get_or_init(Default::default);
        let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
        done.entry(sql)
            .or_insert_with(|| Box::leak(translate(sql).into_boxed_str()))
    }

    pub(crate) fn built(sql: String) -> String {
        translate(&sql)
    }

    /// The rewrites, each of a construct the store's statements use:
    /// - `?` (SQLite numbers them in order) becomes `$n`, counting on from the
    ///   statement's highest `$n`;
    /// - `SELECT value FROM json_each($n)` and `json_each($n) AS list`, lists of
    ///   keys, become `json_array_elements_text`, whose `value` is text (cast a
    ///   number: `CAST(value AS BIGINT)`); any other `json_each`
    ///   (rows as JSON arrays or objects, read with `->>`) becomes
    ///   `json_array_elements`, whose `value` is JSON;
    /// - `json_group_array(x)` becomes `COALESCE(json_agg(x)::text, '[]')` (the
    ///   store parses it; an empty group is `[]` as on SQLite),
    ///   `json_array` becomes `json_build_array`, `json_extract(value, '$[n]')`
    ///   becomes `value ->> n`, `char(31)` becomes `chr(31)`;
    /// - `INSERT OR IGNORE` becomes `INSERT … ON CONFLICT DO NOTHING`.
    pub(crate) fn translate(sql: &str) -> String {
        let out = translate_(sql);
        if std::env::var_os("HERALD_DEBUG_SQL").is_some() {
            eprintln!("SQL: {out}");
        }
        out
    }
    fn translate_(sql: &str) -> String {
        let mut s = sql.replace(
            "SELECT value FROM json_each(",
            "SELECT value FROM json_array_elements_text(",
        );
        s = s.replace("json_each(", "json_array_elements(");
        // A list of keys under another shape: `json_each($n) AS list`.
        while let Some(at) = s.find(" AS list") {
            let Some(open) = s[..at].rfind("json_array_elements(") else {
                break;
            };
            s.replace_range(
                open..open + "json_array_elements(".len(),
                "json_array_elements_text(",
            );
            let at = at + "_text".len();
            s.replace_range(at..at + " AS list".len(), " AS list(value)");
        }
        for f in ["json_array_elements_text(", "json_array_elements("] {
            s = cast_first_argument(&s, f, "::json");
        }
        s = wrap_calls(
            &s,
            "json_group_array(",
            "COALESCE(json_agg(",
            "::text, '[]')",
        );
        s = s.replace("json_array(", "json_build_array(");
        while let Some(at) = s.find("json_extract(value, '$[") {
            let rest = &s[at + "json_extract(value, '$[".len()..];
            let Some(end) = rest.find("]')") else { break };
            let index = rest[..end].to_owned();
            s.replace_range(
                at..at + "json_extract(value, '$[".len() + end + "]')".len(),
                &format!("(value ->> {index})"),
            );
        }
        s = s.replace("char(31)", "chr(31)");
        if s.contains("INSERT OR IGNORE INTO") {
            s = s.replace("INSERT OR IGNORE INTO", "INSERT INTO");
            s.push_str(" ON CONFLICT DO NOTHING");
        }
        if s.contains('?') {
            s = number_placeholders(&s);
        }
        s
    }

    /// `f(x, …)` becomes `f(x<cast>, …)` for every call of `f`.
    fn cast_first_argument(s: &str, f: &str, cast: &str) -> String {
        let mut out = String::with_capacity(s.len() + 16);
        let mut rest = s;
        while let Some(at) = rest.find(f) {
            let (head, tail) = rest.split_at(at + f.len());
            out.push_str(head);
            let end = tail.find([',', ')']).unwrap_or(tail.len());
            out.push_str(&tail[..end]);
            out.push_str(cast);
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }

    /// `from(…)` becomes `to(…)<after>`, matching the call's parentheses.
    fn wrap_calls(s: &str, from: &str, to: &str, after: &str) -> String {
        let mut out = String::with_capacity(s.len() + 16);
        let mut rest = s;
        while let Some(at) = rest.find(from) {
            out.push_str(&rest[..at]);
            out.push_str(to);
            let body = &rest[at + from.len()..];
            let mut depth = 1;
            let mut end = body.len();
            for (i, c) in body.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let inner = wrap_calls(&body[..end], from, to, after);
            out.push_str(&inner);
            out.push(')');
            out.push_str(after);
            rest = body.get(end + 1..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    fn number_placeholders(s: &str) -> String {
        let mut highest = 0u32;
        let bytes = s.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'$' {
                let digits: String = s[i + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(n) = digits.parse::<u32>() {
                    highest = highest.max(n);
                }
            }
            i += 1;
        }
        let mut out = String::with_capacity(s.len() + s.len() / 2);
        for c in s.chars() {
            if c == '?' {
                highest += 1;
                out.push('$');
                out.push_str(&highest.to_string());
            } else {
                out.push(c);
            }
        }
        out
    }
}

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// The advisory lock every write transaction but the outbox's takes (see the
/// module's documentation); a constant, "herald" in ASCII.
const WRITE_LOCK: i64 = 0x6865_7261_6c64;

#[derive(Debug, Clone)]
pub(crate) struct Backend {
    pool: PgPool,
    /// The same pool: PostgreSQL needs no writer of its own; the name keeps the
    /// store's code the same on both backends.
    writer: PgPool,
}

impl Backend {
    pub(crate) async fn connect(url: &str, location: &str) -> Result<Backend, StoreError> {
        let connect_error = |source| StoreError::Connect {
            at: location.to_owned(),
            source,
        };
        let options = PgConnectOptions::from_str(url)
            .map_err(connect_error)?
            .application_name("herald")
            .log_slow_statements(log::LevelFilter::Debug, Duration::from_secs(1));
        // One connection first: a server that is not there, or refuses the
        // user, is said at once (the pool would retry until its timeout).
        let first = options.connect().await.map_err(connect_error)?;
        let _ = sqlx::Connection::close(first).await;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        // sqlx's migrator takes an advisory lock of its own: nodes starting
        // together apply each migration once.
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| crate::migrate_error(&MIGRATOR, location.to_owned(), source))?;
        Ok(Backend {
            writer: pool.clone(),
            pool,
        })
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// A write transaction holding the store's write lock (see the module's
    /// documentation) until it commits or rolls back.
    async fn write(&self) -> Result<Transaction<'static, Engine>, StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(WRITE_LOCK)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }

    /// A transaction that leases or records deliveries: row locks only.
    async fn write_rows(&self) -> Result<Transaction<'static, Engine>, StoreError> {
        Ok(self.writer.begin().await?)
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

/// A job that one node at a time runs (the planner): held for the job's run on
/// a connection of its own, as a session-level advisory lock keyed by the job's name.
pub(crate) struct JobLock {
    conn: sqlx::pool::PoolConnection<Engine>,
    key: i64,
}

impl Backend {
    /// `wait`: wait for the node that holds it; otherwise `None` when one does.
    pub(crate) async fn job_lock(
        &self,
        job: &str,
        wait: bool,
    ) -> Result<Option<JobLock>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        // The key: the name's bytes folded, with the write lock's space left alone.
        let key = job.bytes().fold(0x6a6f_6200_i64, |k, b| {
            k.wrapping_mul(31).wrapping_add(i64::from(b))
        });
        if wait {
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(key)
                .execute(&mut *conn)
                .await?;
            return Ok(Some(JobLock { conn, key }));
        }
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        Ok(got.then_some(JobLock { conn, key }))
    }
}

impl JobLock {
    pub(crate) async fn release(mut self) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.key)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    /// Without [`JobLock::release`] (a panic, a cancelled task) the connection is
    /// closed instead of going back to the pool, which ends the session and its lock.
    pub(crate) fn abandon(self) {
        drop(self.conn.detach());
    }
}

/// A transaction on a connection the caller holds, to lease or record deliveries:
/// row locks only, as [`Backend::write_rows`].
async fn begin_on(conn: &mut Conn) -> Result<Transaction<'_, Engine>, StoreError> {
    Ok(sqlx::Connection::begin(conn).await?)
}
