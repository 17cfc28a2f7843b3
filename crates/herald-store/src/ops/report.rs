//! Reading what happened: `herald status` and `herald history`.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;

use super::Backend;
use super::exec::{dynamic, dynamic_scalar, query, query_scalar};
use super::outbox::{DELIVERY_COLS, delivery_row, notifications_by_id};
use super::plan::{last_run, planner_state};
use crate::error::StoreError;
use crate::sql::{self, NO_NEXT_STEP, json_list, ms};
use crate::types::{
    AttemptRow, AuditRow, DeliveryHistory, HistoryEntry, HistoryFilter, StatusReport,
};

impl Backend {
    pub(crate) async fn status(&self) -> Result<StatusReport, StoreError> {
        let mut tx = self.pool.begin().await?;
        // One pass over the deliveries gives both the totals and each rule's.
        let mut by_state: BTreeMap<String, i64> = BTreeMap::new();
        let mut by_rule: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        let rows = query("SELECT rule_id, state, COUNT(*) FROM deliveries GROUP BY rule_id, state")
            .fetch_all(&mut *tx)
            .await?;
        for row in rows {
            let (rule, state, n): (String, String, i64) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            *by_state.entry(state.clone()).or_insert(0) += n;
            by_rule.entry(rule).or_default().insert(state, n);
        }
        let mut notifications = BTreeMap::new();
        let mut notifications_by_rule: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
        for row in
            query("SELECT rule_id, verdict, COUNT(*) FROM notifications GROUP BY rule_id, verdict")
                .fetch_all(&mut *tx)
                .await?
        {
            let (rule, verdict, n): (String, String, i64) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            *notifications.entry(verdict.clone()).or_insert(0) += n;
            notifications_by_rule
                .entry(rule)
                .or_default()
                .insert(verdict, n);
        }
        let last_run = last_run(&mut tx).await?;
        let st = planner_state(&mut tx).await?;
        tx.commit().await?;
        Ok(StatusReport {
            by_state,
            by_rule,
            notifications,
            notifications_by_rule,
            last_run,
            watermark: st.watermark,
            last_seq: st.last_seq,
        })
    }

    pub(crate) async fn history(
        &self,
        filter: &HistoryFilter,
    ) -> Result<Vec<HistoryEntry>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut sql = String::from("SELECT n.id FROM notifications n");
        let mut conds = Vec::new();
        if filter.invoice.is_some() {
            sql.push_str(" JOIN notification_invoices ni ON ni.notification_id = n.id");
            conds.push("ni.invoice_id = $2");
        }
        if filter.customer.is_some() {
            conds.push("n.customer_id = $3");
        }
        if filter.subject.is_some() {
            conds.push("n.subject = $4");
        }
        if filter.rule.is_some() {
            conds.push("n.rule_id = $5");
        }
        if filter.state.is_some() {
            conds.push("EXISTS (SELECT 1 FROM deliveries sd WHERE sd.notification_id = n.id AND sd.state = $6)");
        }
        if filter.from.is_some() {
            conds.push("n.fire_at >= $7");
        }
        if filter.until.is_some() {
            conds.push("n.fire_at < $8");
        }
        if filter.after_id.is_some() {
            conds.push("n.id > $9");
        }
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        sql.push_str(if filter.after_id.is_some() {
            " ORDER BY n.id LIMIT $1"
        } else {
            " ORDER BY n.fire_at DESC, n.id DESC LIMIT $1"
        });
        let limit = if filter.limit == 0 {
            i64::MAX
        } else {
            i64::from(filter.limit)
        };
        let ids: Vec<i64> = dynamic_scalar(sql)
            .bind(limit)
            .bind(filter.invoice.as_ref().map(|i| i.as_str().to_owned()))
            .bind(filter.customer.as_ref().map(|c| c.as_str().to_owned()))
            .bind(filter.subject.clone())
            .bind(filter.rule.clone())
            .bind(filter.state.clone())
            .bind(filter.from.map(ms))
            .bind(filter.until.map(ms))
            .bind(filter.after_id)
            .fetch_all(&mut *tx)
            .await?;
        let mut notes = notifications_by_id(&mut tx, &ids).await?;

        let mut deliveries: HashMap<i64, Vec<DeliveryHistory>> = HashMap::new();
        let mut delivery_ids = Vec::new();
        let mut owner: HashMap<i64, i64> = HashMap::new();
        for chunk in ids.chunks(10_000) {
            let rows = dynamic(format!(
                "SELECT {DELIVERY_COLS} FROM deliveries WHERE notification_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1) AS list) ORDER BY id"
            ))
            .bind(json_list(chunk))
            .fetch_all(&mut *tx)
            .await?;
            for row in &rows {
                let d = delivery_row(row)?;
                delivery_ids.push(d.id);
                owner.insert(d.id, d.notification_id);
                deliveries
                    .entry(d.notification_id)
                    .or_default()
                    .push(DeliveryHistory {
                        delivery: d,
                        attempt_log: Vec::new(),
                    });
            }
        }
        for chunk in delivery_ids.chunks(10_000) {
            let rows = query(
                "SELECT id, delivery_id, at, outcome, detail FROM attempts \
                 WHERE delivery_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1) AS list) ORDER BY at, id",
            )
            .bind(json_list(chunk))
            .fetch_all(&mut *tx)
            .await?;
            for row in &rows {
                let a = AttemptRow {
                    id: row.try_get(0)?,
                    delivery_id: row.try_get(1)?,
                    at: sql::ts(row.try_get(2)?)?,
                    outcome: sql::attempt_kind(row.try_get(3)?)?,
                    detail: row.try_get(4)?,
                };
                if let Some(list) = owner
                    .get(&a.delivery_id)
                    .and_then(|n| deliveries.get_mut(n))
                    && let Some(d) = list.iter_mut().find(|d| d.delivery.id == a.delivery_id)
                {
                    d.attempt_log.push(a);
                }
            }
        }

        // When the next reminder is due: only open invoices have one.
        let mut next_on: HashMap<i64, String> = HashMap::new();
        let invoice_next: Option<String> = match &filter.invoice {
            Some(inv) => query_scalar(
                "SELECT p.next_on FROM invoices i JOIN dunning_progress p ON p.customer_id = i.customer_id AND p.invoice_id = i.id \
                 WHERE i.id = $1 AND i.paid_minor < i.amount_minor AND p.next_on < $2",
            )
            .bind(inv.as_str().to_owned())
            .bind(NO_NEXT_STEP)
            .fetch_optional(&mut *tx)
            .await?
            .flatten(),
            None => {
                for chunk in ids.chunks(10_000) {
                    let rows = query(
                        "SELECT s.notification_id, MIN(d.next_on) FROM notification_invoices s \
                         JOIN invoices i ON i.id = s.invoice_id JOIN dunning_progress d ON d.customer_id = i.customer_id AND d.invoice_id = i.id \
                         WHERE s.notification_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1) AS list) AND s.covered_to IS NOT NULL \
                         AND i.paid_minor < i.amount_minor AND d.next_on < $2 \
                         GROUP BY s.notification_id",
                    )
                    .bind(json_list(chunk))
                    .bind(NO_NEXT_STEP)
                    .fetch_all(&mut *tx)
                    .await?;
                    for row in &rows {
                        if let Some(d) = row.try_get::<Option<String>, _>(1)? {
                            next_on.insert(row.try_get(0)?, d);
                        }
                    }
                }
                None
            }
        };
        tx.commit().await?;

        let invoice_next = invoice_next.as_deref().map(sql::date).transpose()?;
        let mut out = Vec::with_capacity(ids.len());
        let in_order: Box<dyn Iterator<Item = &i64>> = if filter.after_id.is_some() {
            Box::new(ids.iter())
        } else {
            Box::new(ids.iter().rev())
        };
        for id in in_order {
            let Some(notification) = notes.remove(id) else {
                continue;
            };
            let next_reminder_on = match invoice_next {
                Some(d) => Some(d),
                None => next_on.get(id).map(|d| sql::date(d)).transpose()?,
            };
            out.push(HistoryEntry {
                notification,
                deliveries: deliveries.remove(id).unwrap_or_default(),
                next_reminder_on,
            });
        }
        Ok(out)
    }

    pub(crate) async fn audit_entries(&self, limit: u32) -> Result<Vec<AuditRow>, StoreError> {
        let rows = query(
            "SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    id: r.try_get(0)?,
                    at: sql::ts(r.try_get(1)?)?,
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    target: r.try_get(4)?,
                    detail: r.try_get(5)?,
                })
            })
            .collect()
    }
}
