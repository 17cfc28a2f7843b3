//! Holds as stored; see `crate::holds` for what they mean.

use jiff::Timestamp;

use super::Backend;
use super::exec::{query, query_as, query_scalar};
use crate::error::StoreError;
use crate::holds::{Hold, HoldOn};
use crate::sql::{self, json_list, ms};

#[derive(sqlx::FromRow)]
struct HoldRow {
    subject_kind: String,
    subject_id: String,
    reason: String,
    until: Option<i64>,
    actor: String,
    created_at: i64,
}

impl HoldRow {
    fn into_hold(self) -> Result<Hold, StoreError> {
        Ok(Hold {
            on: if self.subject_kind == "invoice" {
                HoldOn::Invoice
            } else {
                HoldOn::Customer
            },
            id: self.subject_id,
            reason: self.reason,
            until: sql::opt_ts(self.until)?,
            actor: self.actor,
            created_at: sql::ts(self.created_at)?,
        })
    }
}

impl Backend {
    pub(crate) async fn pause(
        &self,
        on: HoldOn,
        id: &str,
        reason: &str,
        until: Option<Timestamp>,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let exists: Option<String> = match on {
            HoldOn::Customer => query_scalar("SELECT id FROM customers WHERE id = $1"),
            HoldOn::Invoice => query_scalar("SELECT id FROM invoices WHERE id = $1"),
        }
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Ok(false);
        }
        query(
            "INSERT INTO holds (subject_kind, subject_id, reason, until, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject_kind, subject_id) DO UPDATE SET \
             reason = excluded.reason, until = excluded.until, actor = excluded.actor, created_at = excluded.created_at",
        )
        .bind(on.as_str())
        .bind(id)
        .bind(reason)
        .bind(until.map(ms))
        .bind(actor)
        .bind(ms(at))
        .execute(&mut *tx)
        .await?;
        query(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, 'pause', $3, $4)",
        )
        .bind(ms(at))
        .bind(actor)
        .bind(format!("{} {id}", on.as_str()))
        .bind(format!(
            "{reason}{}",
            until.map(|u| format!(" until {u}")).unwrap_or_default()
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn resume(
        &self,
        on: HoldOn,
        id: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let n = query("DELETE FROM holds WHERE subject_kind = $1 AND subject_id = $2")
            .bind(on.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n > 0 {
            query(
                "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, 'resume', $3, '')",
            )
            .bind(ms(at))
            .bind(actor)
            .bind(format!("{} {id}", on.as_str()))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    pub(crate) async fn holds_on(
        &self,
        customers: &[&str],
        invoices: &[&str],
        now: Timestamp,
    ) -> Result<Vec<Hold>, StoreError> {
        let rows: Vec<HoldRow> = query_as(
            "SELECT subject_kind, subject_id, reason, until, actor, created_at FROM holds \
             WHERE (until IS NULL OR until > $3) AND ( \
               (subject_kind = 'customer' AND subject_id IN (SELECT value FROM json_each($1))) \
               OR (subject_kind = 'invoice' AND subject_id IN (SELECT value FROM json_each($2))))",
        )
        .bind(json_list(customers))
        .bind(json_list(invoices))
        .bind(ms(now))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(HoldRow::into_hold).collect()
    }

    pub(crate) async fn holds(&self) -> Result<Vec<Hold>, StoreError> {
        let rows: Vec<HoldRow> = query_as(
            "SELECT subject_kind, subject_id, reason, until, actor, created_at FROM holds ORDER BY created_at DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(HoldRow::into_hold).collect()
    }
}

impl Backend {
    pub(crate) async fn cancel_notification(
        &self,
        id: i64,
        reason: &str,
        actor: &str,
        at: Timestamp,
    ) -> Result<Option<u64>, StoreError> {
        let mut tx = self.write().await?;
        let exists: Option<i64> = query_scalar("SELECT id FROM notifications WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let text = format!("cancelled by {actor}: {reason}");
        let ids: Vec<i64> = query_scalar(
            "UPDATE deliveries SET state = 'cancelled', reason = $2, next_attempt_at = NULL, updated_at = $3 \
             WHERE notification_id = $1 AND state IN ('pending', 'retrying') RETURNING id",
        )
        .bind(id)
        .bind(&text)
        .bind(ms(at))
        .fetch_all(&mut *tx)
        .await?;
        query(
            "INSERT INTO attempts (delivery_id, at, outcome, detail) \
             SELECT CAST(value AS BIGINT), $2, 'cancelled', $3 FROM json_each($1) AS list",
        )
        .bind(json_list(&ids))
        .bind(ms(at))
        .bind(&text)
        .execute(&mut *tx)
        .await?;
        query(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, 'cancel', $3, $4)",
        )
        .bind(ms(at))
        .bind(actor)
        .bind(format!("notification {id}"))
        .bind(format!("{reason} ({} deliveries)", ids.len()))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(ids.len() as u64))
    }
}
