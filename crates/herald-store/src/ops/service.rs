//! The service's job records as stored; see `crate::service`.

use jiff::{SignedDuration, Timestamp};

use super::Backend;
use super::exec::{query, query_as, query_scalar};
use crate::error::StoreError;
use crate::service::ServiceJob;
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
    holder: String,
}

impl Backend {
    pub(crate) async fn job_started(
        &self,
        job: &str,
        every: SignedDuration,
        holder: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        query(
            "INSERT INTO service_jobs (job, every_ms, last_started, holder) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (job, holder) DO UPDATE SET every_ms = excluded.every_ms, \
             last_started = excluded.last_started",
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

    pub(crate) async fn job_finished(
        &self,
        job: &str,
        holder: &str,
        at: Timestamp,
        result: Result<(), &str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        match result {
            Ok(()) => {
                query(
                    "UPDATE service_jobs SET last_finished = $2, last_ok = $2, last_error = NULL, \
                     runs = runs + 1 WHERE job = $1 AND holder = $3",
                )
                .bind(job)
                .bind(ms(at))
                .bind(holder)
                .execute(&mut *tx)
                .await?;
            }
            Err(e) => {
                query(
                    "UPDATE service_jobs SET last_finished = $2, last_error = $3, runs = runs + 1, \
                     failures = failures + 1 WHERE job = $1 AND holder = $4",
                )
                .bind(job)
                .bind(ms(at))
                .bind(e)
                .bind(holder)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn service_jobs(&self) -> Result<Vec<ServiceJob>, StoreError> {
        let rows: Vec<JobRow> = query_as(
            "SELECT job, every_ms, last_started, last_finished, last_ok, last_error, runs, failures, holder \
             FROM service_jobs ORDER BY holder, job",
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

    pub(crate) async fn forget_nodes(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let n = query(
            "DELETE FROM service_jobs WHERE holder IN (SELECT holder FROM service_jobs \
             GROUP BY holder HAVING MAX(COALESCE(last_finished, last_started, 0)) < $1)",
        )
        .bind(ms(before))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    pub(crate) async fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(
            query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub(crate) async fn release_leases(
        &self,
        holder: &str,
        at: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let n = query(
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

    pub(crate) async fn delivery_counts(
        &self,
        now: Timestamp,
    ) -> Result<(Vec<(String, String, i64)>, i64), StoreError> {
        let mut tx = self.pool.begin().await?;
        let counts: Vec<(String, String, i64)> = query_as(
            "SELECT channel, state, COUNT(*) FROM deliveries GROUP BY channel, state ORDER BY 1, 2",
        )
        .fetch_all(&mut *tx)
        .await?;
        let due: i64 = query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'retrying') AND next_attempt_at <= $1",
        )
        .bind(ms(now))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((counts, due))
    }

    pub(crate) async fn queue_depth(&self, now: Timestamp) -> Result<i64, StoreError> {
        Ok(query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE state IN ('pending', 'retrying') AND next_attempt_at <= $1",
        )
        .bind(ms(now))
        .fetch_one(&self.pool)
        .await?)
    }

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
