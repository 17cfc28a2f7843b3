//! herald's store: records, the outbox, leasing and history, on SQLite (embedded,
//! the default) or PostgreSQL (several herald nodes sharing one database) through sqlx.
//!
//! The store's statements are written once, in SQLite's SQL, in `src/ops/`; each
//! backend module (`sqlite`, `postgres`) compiles that code against its own
//! connection types and passes every statement through its dialect: SQLite's runs
//! as written, PostgreSQL's is translated (`json_each` to `json_array_elements`,
//! `INSERT OR IGNORE` to `ON CONFLICT DO NOTHING`, …) once per statement. Where the
//! two databases are best used differently (leasing with `FOR UPDATE SKIP LOCKED`,
//! reserving ids from a sequence) a statement names both forms with `pick!`.
//! [`Store`] hands each call to the backend the URL chose.
//!
//! Why not `sqlx::Any`: it would drop SQLite's pragmas, decode SQLite booleans
//! wrongly and copy every row; the two native drivers keep both fast.

// src/ops is compiled once per backend on purpose (see above).
#![allow(clippy::duplicate_mod)]

mod alerts;
mod console;
mod copy;
mod error;
mod holds;
mod postgres;
mod service;
mod sql;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod tokens;
mod types;

use std::collections::{HashMap, HashSet};

use herald_core::events::Event;
use herald_core::planner::{CustomerBook, InvoiceView, PlannedNotification, Window};
use herald_core::records::{Contact, Customer, Invoice, Operator, Payment, Relation};
use herald_core::tasks::Task;
use herald_core::{CustomerId, EventId, InvoiceId, OperatorId, TaskId};
use jiff::{SignedDuration, Timestamp};

pub use alerts::{FailedDelivery, Failures, LastAlert};
pub use console::{ConsoleSession, ConsoleSetting, ConsoleUser, Role, UserChange};
pub use copy::CopiedTable;
pub use error::StoreError;
pub use holds::{Hold, HoldOn};
pub use service::ServiceJob;
pub use tokens::{ApiToken, IdempotentAnswer};
pub use types::*;

/// A handle on the database; cheap to clone (it holds connection pools).
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// Where the database is, for messages: a file, or a URL without its password.
    location: String,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::Backend),
    Postgres(postgres::Backend),
}

/// Where a store URL points.
enum Target {
    /// `sqlite://herald.db`, `sqlite:herald.db` or a plain path.
    File(std::path::PathBuf),
    /// `postgres://…` or `postgresql://…`.
    Postgres(String),
}

fn target(url: &str) -> Target {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Target::Postgres(url.to_owned());
    }
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let rest = rest.split('?').next().unwrap_or(rest);
    Target::File(std::path::PathBuf::from(rest))
}

/// A PostgreSQL URL as messages may show it: without its password.
pub fn redacted_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((user, host)) => {
                let user = user.split(':').next().unwrap_or(user);
                format!("{scheme}://{user}@{host}")
            }
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The migrator's error in the store's words: a database with a migration this
/// binary does not know was written by a newer herald, and must not be touched.
fn migrate_error(
    migrator: &sqlx::migrate::Migrator,
    at: String,
    source: sqlx::migrate::MigrateError,
) -> StoreError {
    match source {
        sqlx::migrate::MigrateError::VersionMissing(version) => StoreError::NewerSchema {
            at,
            version,
            known: migrator.iter().map(|m| m.version).max().unwrap_or(0),
        },
        source => StoreError::Migrate { at, source },
    }
}

impl Store {
    /// Opens the database, creating the file (and its directory) when missing, and
    /// brings its schema up to date. A PostgreSQL database must exist; its tables
    /// are created here.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        match target(url) {
            Target::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                    && !dir.exists()
                {
                    tokio::fs::create_dir_all(dir).await.map_err(|source| {
                        StoreError::CreateDir {
                            dir: dir.to_owned(),
                            source,
                        }
                    })?;
                }
                Self::open_file(path, true).await
            }
            Target::Postgres(url) => Self::open_postgres(&url).await,
        }
    }

    /// Opens a database that must already exist: every command but `herald init`
    /// uses this, so a typo in the URL does not silently start an empty database.
    pub async fn open_existing(url: &str) -> Result<Store, StoreError> {
        match target(url) {
            Target::File(path) => {
                if !path.is_file() {
                    return Err(StoreError::Missing { path });
                }
                Self::open_file(path, false).await
            }
            Target::Postgres(url) => Self::open_postgres(&url).await,
        }
    }

    async fn open_file(path: std::path::PathBuf, create: bool) -> Result<Store, StoreError> {
        let location = path.display().to_string();
        Ok(Store {
            backend: Backend::Sqlite(sqlite::Backend::connect(path, create).await?),
            location,
        })
    }

    async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let location = redacted_url(url);
        Ok(Store {
            backend: Backend::Postgres(postgres::Backend::connect(url, &location).await?),
            location,
        })
    }

    /// Where the database is, for messages and `herald status`: the file, or the
    /// URL without its password.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Whether this is a PostgreSQL store (several nodes may share it).
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Waits for the connections to finish and closes them; SQLite's WAL is checkpointed.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(b) => b.close().await,
            Backend::Postgres(b) => b.close().await,
        }
    }

    /// A writer that keeps a connection of its own, for a send run's leases and
    /// group commits. Through the pool, every commit would also wait for the
    /// connection to come back (sqlx returns it from a task of its own, after a
    /// ping: two trips across threads that took longer than the commit itself), and
    /// a lease on another connection would wait on SQLite's lock in sleeps.
    pub async fn outbox_writer(&self) -> Result<OutboxWriter, StoreError> {
        Ok(OutboxWriter(match &self.backend {
            Backend::Sqlite(b) => WriterOn::Sqlite(b.outbox_writer().await?),
            Backend::Postgres(b) => WriterOn::Postgres(b.outbox_writer().await?),
        }))
    }
}

impl Store {
    /// The right to run `job` (the planner) while no other node of a shared store
    /// does: `None` when another node holds it now. Several nodes planning at once
    /// would store each notification once all the same (dedupe keys); the lock
    /// saves them the work. On SQLite, which one machine uses, always granted.
    pub async fn try_job_lock(&self, job: &str) -> Result<Option<JobLock>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Some(JobLock(None))),
            Backend::Postgres(b) => Ok(b.job_lock(job, false).await?.map(|l| JobLock(Some(l)))),
        }
    }

    /// As [`Store::try_job_lock`], waiting for the node that holds it to finish.
    pub async fn job_lock(&self, job: &str) -> Result<JobLock, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(JobLock(None)),
            Backend::Postgres(b) => Ok(JobLock(b.job_lock(job, true).await?)),
        }
    }
}

/// Held while a job runs; see [`Store::try_job_lock`]. Give it back with
/// [`JobLock::release`]; dropped without it, the lock ends with its connection.
pub struct JobLock(Option<postgres::JobLock>);

impl JobLock {
    pub async fn release(mut self) -> Result<(), StoreError> {
        match self.0.take() {
            Some(lock) => lock.release().await,
            None => Ok(()),
        }
    }
}

impl Drop for JobLock {
    fn drop(&mut self) {
        if let Some(lock) = self.0.take() {
            lock.abandon();
        }
    }
}

/// Leases and records attempts on a connection it holds; see [`Store::outbox_writer`].
pub struct OutboxWriter(WriterOn);

enum WriterOn {
    Sqlite(sqlite::OutboxWriter),
    Postgres(postgres::OutboxWriter),
}

impl OutboxWriter {
    /// As [`Store::lease_due`].
    pub async fn lease_due(
        &mut self,
        req: &LeaseRequest,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        match &mut self.0 {
            WriterOn::Sqlite(w) => w.lease_due(req).await,
            WriterOn::Postgres(w) => w.lease_due(req).await,
        }
    }

    /// As [`Store::record_outcomes`].
    pub async fn record(
        &mut self,
        holder: &str,
        at: Timestamp,
        outcomes: &[(i64, AttemptOutcome)],
    ) -> Result<Vec<bool>, StoreError> {
        match &mut self.0 {
            WriterOn::Sqlite(w) => w.record(holder, at, outcomes).await,
            WriterOn::Postgres(w) => w.record(holder, at, outcomes).await,
        }
    }
}

/// Every call of [`Store`] but opening and closing: the same on both backends.
macro_rules! dispatch {
    ($( $(#[$m:meta])* pub async fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        impl Store {
            $(
                $(#[$m])*
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match &self.backend {
                        Backend::Sqlite(b) => b.$name($($arg),*).await,
                        Backend::Postgres(b) => b.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

dispatch! {
    /// Records who did what, for the console's audit page.
    pub async fn audit(&self, at: Timestamp, actor: &str, action: &str, target: &str, detail: &str) -> Result<(), StoreError>;
    pub async fn upsert_customers(&self, rows: &[Customer]) -> Result<UpsertCounts, StoreError>;
    pub async fn upsert_contacts(&self, rows: &[Contact]) -> Result<UpsertCounts, StoreError>;
    pub async fn upsert_operators(&self, rows: &[Operator]) -> Result<UpsertCounts, StoreError>;
    /// Inserts or updates events; a new or changed one gets this batch's `seq`, so
    /// the next planning run looks at it whenever it happened.
    pub async fn upsert_events(&self, rows: &[Event]) -> Result<UpsertCounts, StoreError>;
    /// What a planning run looks at: every event of `types` (those some rule
    /// answers) changed since `since_seq` (new: `true`), and every one that
    /// happened in `(after, until]`.
    pub async fn events_to_plan(&self, since_seq: i64, after: Timestamp, until: Timestamp, types: &[&str]) -> Result<Vec<(Event, bool)>, StoreError>;
    /// How many events of `event_type` each operator is named in over the periods
    /// of a digest, each period from its start up to (not including) `until`, so
    /// an event falls in one digest's period and never in two.
    pub async fn activity(&self, event_type: &str, periods: &herald_core::digest::DigestPeriods) -> Result<HashMap<OperatorId, herald_core::message::ActivityCounts>, StoreError>;
    /// Events by id; missing ones are left out.
    pub async fn events(&self, ids: &[EventId]) -> Result<HashMap<EventId, Event>, StoreError>;
    /// The latest `limit` events of a type, of a customer or about a subject (each
    /// when given), newest first: what a preview of an event rule picks from.
    pub async fn recent_events(&self, kind: &str, customer: Option<&str>, subject: Option<&str>, limit: u32) -> Result<Vec<Event>, StoreError>;
    /// Inserts or updates tasks.
    pub async fn upsert_tasks(&self, rows: &[Task]) -> Result<UpsertCounts, StoreError>;
    /// A customer's tasks, by id.
    pub async fn tasks_of(&self, customer: &CustomerId) -> Result<Vec<Task>, StoreError>;
    /// Adds relations; one already stored is unchanged (every column is its key).
    pub async fn upsert_relations(&self, rows: &[Relation]) -> Result<UpsertCounts, StoreError>;
    /// A customer's relations: who its account manager, accounting manager… is.
    pub async fn relations_of(&self, customer: &CustomerId) -> Result<Vec<Relation>, StoreError>;
    /// Every operator id; relations are checked against them.
    pub async fn all_operator_ids(&self) -> Result<HashSet<OperatorId>, StoreError>;
    /// Inserts or updates invoices; every inserted or changed one gets this batch's
    /// `seq`, so the next planning run looks at it again.
    pub async fn upsert_invoices(&self, rows: &[Invoice]) -> Result<UpsertCounts, StoreError>;
    /// Inserts or updates payments, then moves `paid` of every invoice a changed
    /// payment belongs (or belonged) to by the difference, and marks those
    /// invoices (and their customers) changed.
    /// An overpayment is kept as it is: the balance is floored at zero where it is read.
    ///
    /// Which rows are new, changed or the same is decided here, against the stored
    /// rows, so only what differs is written and re-importing a file writes nothing.
    pub async fn upsert_payments(&self, rows: &[Payment]) -> Result<UpsertCounts, StoreError>;
    /// Which of these customers the store knows (an import checks its references).
    pub async fn existing_customers(&self, ids: &[CustomerId]) -> Result<HashSet<CustomerId>, StoreError>;
    /// Every customer id, when there are at most `limit` customers; `None` when
    /// there are more. An import of invoices checks its references against these
    /// instead of reading its file twice to learn which ids to ask for.
    pub async fn all_customer_ids(&self, limit: u64) -> Result<Option<HashSet<CustomerId>>, StoreError>;
    /// What the payment import checks against: currency, amount, what is paid and by which payments.
    pub async fn invoice_balances(&self, ids: &[InvoiceId]) -> Result<HashMap<InvoiceId, InvoiceBalance>, StoreError>;
    pub async fn customer(&self, id: &CustomerId) -> Result<Option<(Customer, Vec<Contact>)>, StoreError>;
    /// Customers with their contacts (no invoices), by id: what task reminders are
    /// planned against.
    pub async fn contact_books(&self, ids: &[CustomerId]) -> Result<HashMap<CustomerId, CustomerBook>, StoreError>;
    /// Every operator, by id.
    pub async fn operators(&self) -> Result<HashMap<OperatorId, Operator>, StoreError>;
    /// Every task, by id.
    pub async fn all_tasks(&self) -> Result<Vec<Task>, StoreError>;
    /// Tasks by id; missing ones are left out.
    pub async fn tasks(&self, ids: &[TaskId]) -> Result<HashMap<TaskId, Task>, StoreError>;
    /// Several customers at once, by id (the dispatcher reads a chunk's at a time).
    pub async fn customers(&self, ids: &[CustomerId]) -> Result<HashMap<CustomerId, Customer>, StoreError>;
    /// One invoice as the dispatcher re-checks it before sending (invariant 3).
    pub async fn invoice(&self, id: &InvoiceId) -> Result<Option<InvoiceView>, StoreError>;
    /// The invoices that exist among `ids`, in the order asked; `changed` is false.
    pub async fn invoices(&self, ids: &[InvoiceId]) -> Result<Vec<InvoiceView>, StoreError>;
    pub async fn counts(&self) -> Result<RecordCounts, StoreError>;
    /// The customers owing on invoices that dunning letters have reminded: who a
    /// RESEND summary (seed 003) writes to.
    pub async fn customers_with_reminded_debt(&self) -> Result<Vec<CustomerId>, StoreError>;
    /// Customers with their contacts and their open invoices only.
    pub async fn books_with_open_invoices(&self, customers: &[CustomerId]) -> Result<Vec<CustomerBook>, StoreError>;
    /// One customer with its contacts and every invoice, paid or not: what a
    /// preview of any rule for that customer may need.
    pub async fn book(&self, id: &CustomerId) -> Result<Option<CustomerBook>, StoreError>;
    pub async fn planner_state(&self) -> Result<PlannerState, StoreError>;
    /// The customers a run must plan, sorted: those with a changed invoice or an
    /// invoice whose trigger dates fall in the query's ranges. Cost follows what is
    /// due, not the size of the database.
    pub async fn candidate_customers(&self, q: &CandidateQuery) -> Result<Vec<CustomerId>, StoreError>;
    /// The books of these customers: each one's contacts, every open invoice and
    /// every invoice the query selects, `changed` when its `seq > since_seq`.
    /// Meant to be called with a chunk of `candidate_customers` at a time.
    pub async fn load_books(&self, customers: &[CustomerId], q: &CandidateQuery) -> Result<Vec<CustomerBook>, StoreError>;
    /// Which of these dedupe keys are already recorded: a dry run lists only what
    /// a real run would create.
    pub async fn existing_keys(&self, keys: &[String]) -> Result<std::collections::HashSet<String>, StoreError>;
    pub async fn begin_run(&self, now: Timestamp, window: Window, since_seq: i64, max_seq: i64) -> Result<i64, StoreError>;
    /// Closes a run and moves the planner's marks forward, never back: a slow run
    /// finishing after a newer one must not make the next run plan an old window again.
    pub async fn finish_run(&self, run_id: i64, finished_at: Timestamp, stats: RunStats, advance_watermark_to: Option<Timestamp>, last_seq: i64) -> Result<(), StoreError>;
    /// Stores planned notifications, each at most once (by `dedupe_key`), with their
    /// invoices and deliveries, in one transaction. A dunning letter that would
    /// cover a step another letter already covers is not stored at all and counts
    /// as existing: each step is covered by exactly one letter (invariant 1).
    ///
    /// The covered steps are checked before inserting, which is exact because the
    /// transaction holds SQLite's write lock; a concurrent writer cannot slip in.
    /// Each delivery is due at its notification's fire time.
    pub async fn record_plan(&self, run_id: i64, planned_at: Timestamp, notes: &[PlannedNotification]) -> Result<RecordStats, StoreError>;
    /// [`Store::record_plan`], with the deliveries of notifications whose fire
    /// time is before `due_from` due at `due_from` instead: a run's catch-up (the
    /// day's start, say) then goes out in the order it was planned, customer by
    /// customer, rather than ordered by how late each is. The dispatcher takes
    /// due deliveries in (due, id) order, so a send's writes then land on
    /// neighbouring pages instead of all over the table (21,552 deliveries
    /// planned over 20 days: a send took 2.1 s before, 1.7 s after).
    pub async fn record_plan_due_from(&self, run_id: i64, planned_at: Timestamp, due_from: Option<Timestamp>, notes: &[PlannedNotification]) -> Result<RecordStats, StoreError>;
    /// Hands out up to `limit` due deliveries to `holder`: pending or retrying ones
    /// whose time has come, and ones whose sender's lease ran out (it crashed), in
    /// the order they fell due. Writers take turns, so no delivery goes to two holders.
    pub async fn lease_due(&self, req: &LeaseRequest) -> Result<Vec<LeasedDelivery>, StoreError>;
    /// Records one attempt. Returns `false`, writing nothing, when `holder` no
    /// longer holds the lease: another sender took the delivery over and its
    /// outcome is the one that counts.
    pub async fn record_outcome(&self, delivery_id: i64, holder: &str, at: Timestamp, outcome: &AttemptOutcome) -> Result<bool, StoreError>;
    /// How many e-mails went out through `account` (`None`: the shared account) at or
    /// after `since`.
    pub async fn emails_sent_since(&self, account: Option<&str>, since: Timestamp) -> Result<u64, StoreError>;
    /// Records several attempts in one transaction (a group commit: senders that
    /// finish together share one write). One `bool` per attempt, as
    /// [`Store::record_outcome`] returns it.
    pub async fn record_outcomes(&self, holder: &str, at: Timestamp, outcomes: &[(i64, AttemptOutcome)]) -> Result<Vec<bool>, StoreError>;
    /// Pilot mode: marks the pending deliveries of every customer not in `pilot`
    /// with `reason`, so `herald status` says why they wait, and clears that mark
    /// from the pilot customers. An empty list means no pilot: see [`Store::clear_hold`].
    /// Returns how many deliveries were newly marked.
    pub async fn hold_reason(&self, pilot: &[CustomerId], reason: &str) -> Result<u64, StoreError>;
    /// Removes the pilot-mode mark `reason` from pending deliveries; returns how many.
    pub async fn clear_hold(&self, reason: &str) -> Result<u64, StoreError>;
    /// A new copy of a notification: a new pending delivery due at `at`, to the
    /// first delivery's recipient unless `to` (address, name) says otherwise, with
    /// an audit row naming `actor`. The notification itself, and so its dedupe
    /// key, stays the same (invariant 1: a resend is asked for, never planned).
    pub async fn resend(&self, notification_id: i64, to: Option<(String, String)>, template: Option<String>, actor: &str, at: Timestamp) -> Result<i64, StoreError>;
    pub async fn notification(&self, id: i64) -> Result<Option<NotificationRow>, StoreError>;
    /// Holds a customer's or an invoice's notices (replacing an earlier hold on
    /// it), audit-logged. `Ok(false)`: no such customer or invoice.
    pub async fn pause(&self, on: HoldOn, id: &str, reason: &str, until: Option<Timestamp>, actor: &str, at: Timestamp) -> Result<bool, StoreError>;
    /// Ends a hold, audit-logged; `false` when there was none.
    pub async fn resume(&self, on: HoldOn, id: &str, actor: &str, at: Timestamp) -> Result<bool, StoreError>;
    /// The holds in force at `now` on any of these customers or invoices.
    pub async fn holds_on(&self, customers: &[&str], invoices: &[&str], now: Timestamp) -> Result<Vec<Hold>, StoreError>;
    /// Every hold, ended or not, newest first.
    pub async fn holds(&self) -> Result<Vec<Hold>, StoreError>;
    /// Cancels what of a notification still waits to be sent (pending or retrying
    /// deliveries; one being sent right now is left to finish), with the reason in
    /// its history and an audit row. Returns how many deliveries it cancelled;
    /// `None` when there is no such notification.
    pub async fn cancel_notification(&self, id: i64, reason: &str, actor: &str, at: Timestamp) -> Result<Option<u64>, StoreError>;
    pub async fn status(&self) -> Result<StatusReport, StoreError>;
    /// The most recent `limit` notifications (0: all) matching the filter, oldest
    /// first, each with its deliveries and their attempts.
    pub async fn history(&self, filter: &HistoryFilter) -> Result<Vec<HistoryEntry>, StoreError>;
    /// The most recent `limit` audit entries, newest first: who resent, paused or changed what.
    pub async fn audit_entries(&self, limit: u32) -> Result<Vec<AuditRow>, StoreError>;
    pub async fn last_alert(&self) -> Result<Option<LastAlert>, StoreError>;
    /// Deliveries that failed after `after` (ms, `deliveries.updated_at`), the
    /// first `limit` of them in full.
    pub async fn failures_after(&self, after: i64, limit: u32) -> Result<Failures, StoreError>;
    /// Records a digest; a sent one covers the failures up to `covered_upto`.
    pub async fn record_alert(&self, at: Timestamp, covered_upto: i64, failures: u64, sent: bool, detail: &str) -> Result<i64, StoreError>;
    /// The id the next digest will get, for its Message-ID.
    pub async fn next_alert_id(&self) -> Result<i64, StoreError>;
    /// Records that `job` started at `at`, run by `holder`, meant to run at least
    /// every `every`.
    pub async fn job_started(&self, job: &str, every: SignedDuration, holder: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Records how the run of `job` that started last ended: `Ok` or the error's
    /// text (which the caller keeps free of secrets, as every error of herald's).
    pub async fn job_finished(&self, job: &str, holder: &str, at: Timestamp, result: Result<(), &str>) -> Result<(), StoreError>;
    /// The version of the newest migration applied to the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError>;
    /// Reserves up to `want` messages of an e-mail account's (`None`: the shared
    /// one) allowance of `limit` for the period (`"day"` or `"second"`) that starts
    /// at `starts`; returns how many it got, 0 when the period's limit is used up.
    /// Kept in the store, so nodes sharing it keep to the limit together.
    pub async fn reserve_allowance(&self, account: Option<&str>, period: &str, starts: Timestamp, limit: u32, want: u32) -> Result<u32, StoreError>;
    /// Gives back what [`Store::reserve_allowance`] granted and was not used.
    pub async fn return_allowance(&self, account: Option<&str>, period: &str, starts: Timestamp, unused: u32) -> Result<(), StoreError>;
    /// Forgets the nodes that have not run any job since `before`: a node's rows
    /// stay after it stopped, so `herald status` can say so, for a while.
    pub async fn forget_nodes(&self, before: Timestamp) -> Result<u64, StoreError>;
    /// Every job the service has recorded, by name.
    pub async fn service_jobs(&self) -> Result<Vec<ServiceJob>, StoreError>;
    /// Gives back the deliveries `holder` leased and did not send (a service that
    /// stops): due again at once, for the next sender, instead of when their
    /// leases run out. Returns how many.
    pub async fn release_leases(&self, holder: &str, at: Timestamp) -> Result<u64, StoreError>;
    /// Deliveries per (channel, state), and how many are due at `now` and not yet
    /// taken (the dispatcher's queue): what `/metrics` reports.
    pub async fn delivery_counts(&self, now: Timestamp) -> Result<(Vec<(String, String, i64)>, i64), StoreError>;
    /// How many deliveries are due at `now` and not yet taken: the dispatcher's
    /// queue depth (walks the partial index of waiting deliveries).
    pub async fn queue_depth(&self, now: Timestamp) -> Result<i64, StoreError>;
    /// Whether the store answers: `/readyz`'s first question.
    pub async fn ping(&self) -> Result<(), StoreError>;
    /// Stores a new token's hash; returns its id, which the token text carries.
    pub async fn create_token(&self, name: &str, scopes: &[String], hash: &str, at: Timestamp) -> Result<i64, StoreError>;
    /// One token by id, revoked or not.
    pub async fn token(&self, id: i64) -> Result<Option<ApiToken>, StoreError>;
    /// Every token, newest first.
    pub async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError>;
    /// Revokes a token; `false` when there is no such token or it already was.
    pub async fn revoke_token(&self, id: i64, at: Timestamp) -> Result<bool, StoreError>;
    /// Notes that a token was used (at most a write a minute per token: the
    /// caller decides when).
    pub async fn token_used(&self, id: i64, at: Timestamp) -> Result<(), StoreError>;
    /// The answer stored for `key` of this token, if any.
    pub async fn idempotent_answer(&self, token_id: i64, key: &str) -> Result<Option<IdempotentAnswer>, StoreError>;
    /// Keeps the answer to a request made with `key`; the first one stays.
    pub async fn keep_idempotent_answer(&self, token_id: i64, key: &str, answer: &IdempotentAnswer, at: Timestamp) -> Result<(), StoreError>;
    /// Adds a console user (its `id` is ignored); audit-logged as `actor`. A login
    /// taken already is a `Constraint` error.
    pub async fn create_console_user(&self, user: &ConsoleUser, actor: &str) -> Result<i64, StoreError>;
    /// One console user by login, disabled or not.
    pub async fn console_user(&self, login: &str) -> Result<Option<ConsoleUser>, StoreError>;
    /// Every console user, by login.
    pub async fn console_users(&self) -> Result<Vec<ConsoleUser>, StoreError>;
    /// Changes a user (`false`: no such login). A new password or disabling signs
    /// the user out of every browser; audit-logged as `actor`, but for the language.
    pub async fn change_console_user(&self, login: &str, change: &UserChange, actor: &str, at: Timestamp) -> Result<bool, StoreError>;
    /// Starts a session (and drops the ones that ran out).
    pub async fn create_console_session(&self, id_hash: &str, user_id: i64, csrf: &str, at: Timestamp, expires_at: Timestamp) -> Result<(), StoreError>;
    /// The live session with this hash, with its user, unless it ran out or the
    /// user is disabled.
    pub async fn console_session(&self, id_hash: &str, now: Timestamp) -> Result<Option<ConsoleSession>, StoreError>;
    /// Keeps a session alive (the caller writes at most once a minute).
    pub async fn touch_console_session(&self, id_hash: &str, at: Timestamp, expires_at: Timestamp) -> Result<(), StoreError>;
    /// Signs a browser out.
    pub async fn end_console_session(&self, id_hash: &str) -> Result<(), StoreError>;
    /// The settings changed in the console, by key.
    pub async fn console_settings(&self) -> Result<Vec<ConsoleSetting>, StoreError>;
    /// Sets (or with `None` removes) a console setting, with an audit entry saying
    /// `detail`, in one transaction.
    pub async fn set_console_setting(&self, key: &str, value: Option<&str>, actor: &str, at: Timestamp, detail: &str) -> Result<(), StoreError>;
    /// A page of invoices, newest issue date first, and how many match in all.
    pub async fn invoice_list(&self, q: &InvoiceListQuery) -> Result<(Vec<InvoiceListRow>, u64), StoreError>;
    /// A page of the subjects events are about, and how many match in all.
    pub async fn event_subjects(&self, q: &SubjectListQuery) -> Result<(Vec<SubjectListRow>, u64), StoreError>;
    /// Every notification about these invoices, with its deliveries' states, by
    /// fire time.
    pub async fn invoice_notices(&self, ids: &[InvoiceId]) -> Result<Vec<InvoiceNotice>, StoreError>;
    /// A page of deliveries, newest first, with their notifications' rule, customer
    /// and invoice, and how many match in all (0 when paging by `before_id`).
    pub async fn delivery_list(&self, q: &DeliveryListQuery) -> Result<(Vec<DeliveryListRow>, u64), StoreError>;
    /// Deliveries per state that were sent, or last changed, since `since`: the
    /// console's "today".
    pub async fn delivery_states_since(&self, since: Timestamp) -> Result<Vec<(herald_core::status::DeliveryState, i64)>, StoreError>;
}
