//! The operator alert's queries: the failures since the last digest, and a record
//! of each digest so the next one lists only what is new.

use jiff::Timestamp;
use sqlx::Row;

use super::Backend;
use super::exec::{query, query_scalar};
use crate::alerts::{FailedDelivery, Failures, LastAlert};
use crate::error::StoreError;
use crate::sql::{self, ms};

impl Backend {
    pub(crate) async fn last_alert(&self) -> Result<Option<LastAlert>, StoreError> {
        let row = query("SELECT at, covered_upto FROM alerts WHERE sent ORDER BY id DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(LastAlert {
                at: sql::ts(r.try_get(0)?)?,
                covered_upto: r.try_get(1)?,
            })
        })
        .transpose()
    }

    pub(crate) async fn failures_after(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Failures, StoreError> {
        let mut tx = self.pool.begin().await?;
        let by_rule = query(
            "SELECT n.rule_id, COUNT(*), MAX(d.updated_at) FROM deliveries d \
             JOIN notifications n ON n.id = d.notification_id \
             WHERE d.state = 'failed' AND d.updated_at > $1 GROUP BY n.rule_id ORDER BY n.rule_id",
        )
        .bind(after)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Failures::default();
        for r in &by_rule {
            let n: i64 = r.try_get(1)?;
            out.total += n.max(0) as u64;
            out.upto = out.upto.max(r.try_get(2)?);
            out.by_rule.push((r.try_get(0)?, n.max(0) as u64));
        }
        let rows = query(
            "SELECT d.id, n.rule_id, n.customer_id, d.channel, d.address, COALESCE(d.reason, ''), d.updated_at \
             FROM deliveries d JOIN notifications n ON n.id = d.notification_id \
             WHERE d.state = 'failed' AND d.updated_at > $1 ORDER BY d.updated_at, d.id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            out.first.push(FailedDelivery {
                delivery_id: r.try_get(0)?,
                rule_id: r.try_get(1)?,
                customer_id: r.try_get(2)?,
                channel: r.try_get(3)?,
                address: r.try_get(4)?,
                reason: r.try_get(5)?,
                failed_at: sql::ts(r.try_get(6)?)?,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn record_alert(
        &self,
        at: Timestamp,
        covered_upto: i64,
        failures: u64,
        sent: bool,
        detail: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id: i64 = query_scalar(
            "INSERT INTO alerts (at, covered_upto, failures, sent, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(ms(at))
        .bind(covered_upto)
        .bind(failures as i64)
        .bind(sent)
        .bind(detail.to_owned())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn next_alert_id(&self) -> Result<i64, StoreError> {
        let n: Option<i64> = query_scalar("SELECT MAX(id) FROM alerts")
            .fetch_one(&self.pool)
            .await?;
        Ok(n.unwrap_or(0) + 1)
    }
}
