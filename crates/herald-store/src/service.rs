//! The service's own bookkeeping: one row per job of `herald serve` (the planner,
//! the dispatcher, the heartbeat), written as each run starts and ends. It is what
//! lets `herald status` and `/readyz` tell a running service from one that stopped,
//! and a job that keeps failing from one that succeeds.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::Store;
use crate::error::StoreError;
use crate::sql::{self, ms};

#[derive(sqlx::FromRow)]
struct JobRow {
    job: String,
    every_ms: i64,
    last_started: Option<i64>,
    last_finished: Option<i64>,
    last_ok: Option<i64>,
    last_error: Option<String>,
    runs: i64,
    failures: i64,
    holder: Option<String>,
}

/// A job's record, as `herald status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceJob {
    pub job: String,
    /// The longest a healthy service leaves between two runs of it.
    pub every: SignedDuration,
    pub last_started: Option<Timestamp>,
    pub last_finished: Option<Timestamp>,
    pub last_ok: Option<Timestamp>,
    /// Why the last run failed, when it did (cleared by the next success).
    pub last_error: Option<String>,
    pub runs: i64,
    pub failures: i64,
    pub holder: Option<String>,
}

impl ServiceJob {
    /// Whether the job is overdue at `now`: no success for longer than twice its
    /// interval, with a minute's grace (a planning run that takes a while is not
    /// a stopped service). `None`: fresh; `Some(reason)` otherwise.
    pub fn overdue(&self, now: Timestamp) -> Option<String> {
        let allowed = self
            .every
            .checked_mul(2)
            .and_then(|d| d.checked_add(SignedDuration::from_mins(1)))
            .unwrap_or(SignedDuration::MAX);
        let since = self.last_ok.or(self.last_started)?;
        let late = now.duration_since(since);
        (late > allowed).then(|| {
            format!(
                "{} has not {} for {} min (it runs every {} s){}",
                self.job,
                if self.last_ok.is_some() {
                    "succeeded"
                } else {
                    "run"
                },
                late.as_secs() / 60,
                self.every.as_secs(),
                self.last_error
                    .as_deref()
                    .map(|e| format!("; last error: {e}"))
                    .unwrap_or_default()
            )
        })
    }
}

impl Store {
    /// Records that `job` started at `at`, run by `holder`, meant to run at least
    /// every `every`.
    pub async fn job_started(
        &self,
        job: &str,
        every: SignedDuration,
        holder: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO service_jobs (job, every_ms, last_started, holder) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (job) DO UPDATE SET every_ms = excluded.every_ms, \
             last_started = excluded.last_started, holder = excluded.holder",
        )
        .bind(job)
        .bind(every.as_millis() as i64)
        .bind(ms(at))
        .bind(holder)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records how the run of `job` that started last ended: `Ok` or the error's
    /// text (which the caller keeps free of secrets, as every error of herald's).
    pub async fn job_finished(
        &self,
        job: &str,
        at: Timestamp,
        result: Result<(), &str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        match result {
            Ok(()) => {
                sqlx::query(
                    "UPDATE service_jobs SET last_finished = $2, last_ok = $2, last_error = NULL, \
                     runs = runs + 1 WHERE job = $1",
                )
                .bind(job)
                .bind(ms(at))
                .execute(&mut *tx)
                .await?;
            }
            Err(e) => {
                sqlx::query(
                    "UPDATE service_jobs SET last_finished = $2, last_error = $3, runs = runs + 1, \
                     failures = failures + 1 WHERE job = $1",
                )
                .bind(job)
                .bind(ms(at))
                .bind(e)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every job the service has recorded, by name.
    pub async fn service_jobs(&self) -> Result<Vec<ServiceJob>, StoreError> {
        let rows: Vec<JobRow> = sqlx::query_as(
            "SELECT job, every_ms, last_started, last_finished, last_ok, last_error, runs, failures, holder \
             FROM service_jobs ORDER BY job",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ServiceJob {
                    job: r.job,
                    every: SignedDuration::from_millis(r.every_ms),
                    last_started: sql::opt_ts(r.last_started)?,
                    last_finished: sql::opt_ts(r.last_finished)?,
                    last_ok: sql::opt_ts(r.last_ok)?,
                    last_error: r.last_error,
                    runs: r.runs,
                    failures: r.failures,
                    holder: r.holder,
                })
            })
            .collect()
    }

    /// Gives back the deliveries `holder` leased and did not send (a service that
    /// stops): due again at once, for the next sender, instead of when their
    /// leases run out. Returns how many.
    pub async fn release_leases(&self, holder: &str, at: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let n = sqlx::query(
            "UPDATE deliveries SET state = CASE WHEN attempts > 0 THEN 'retrying' ELSE 'pending' END, \
             lease_until = NULL, lease_holder = NULL, next_attempt_at = $2, updated_at = $2 \
             WHERE state = 'sending' AND lease_holder = $1",
        )
        .bind(holder)
        .bind(ms(at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    /// Deliveries per (channel, state), and how many are due at `now` and not yet
    /// taken (the dispatcher's queue): what `/metrics` reports.
    pub async fn delivery_counts(
        &self,
        now: Timestamp,
    ) -> Result<(Vec<(String, String, i64)>, i64), StoreError> {
        let mut tx = self.pool.begin().await?;
        let counts: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT channel, state, COUNT(*) FROM deliveries GROUP BY channel, state ORDER BY 1, 2",
        )
        .fetch_all(&mut *tx)
        .await?;
        let due: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'retrying') AND next_attempt_at <= $1",
        )
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((counts, due))
    }

    /// How many deliveries are due at `now` and not yet taken: the dispatcher's
    /// queue depth (walks the partial index of waiting deliveries).
    pub async fn queue_depth(&self, now: Timestamp) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'retrying') AND next_attempt_at <= $1",
        )
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?)
    }

    /// Whether the store answers: `/readyz`'s first question.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
