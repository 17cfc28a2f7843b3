//! The outbox (invariant 4): leasing due deliveries, recording what happened,
//! holding deliveries in pilot mode, and manual resends.

use std::collections::HashMap;

use herald_core::rules::ChannelKind;
use herald_core::{CustomerId, InvoiceId, Locale};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::Row;

use super::exec::{dynamic, query, query_as, query_scalar};
use super::{Backend, Conn, DbRow};
use crate::error::StoreError;
use crate::sql::{self, json_list, ms};
use crate::types::{
    AttemptKind, AttemptOutcome, DeliveryRow, LeaseRequest, LeasedDelivery, NotificationRow,
};

pub(crate) const DELIVERY_COLS: &str = "id, notification_id, channel, name, address, locale, state, reason, attempts, \
     next_attempt_at, lease_until, created_at, updated_at, sent_at, provider_id, template_override, resend_of, actor, account, fallback_of";

pub(crate) fn delivery_row(row: &DbRow) -> Result<DeliveryRow, StoreError> {
    Ok(DeliveryRow {
        id: row.try_get(0)?,
        notification_id: row.try_get(1)?,
        channel: sql::channel(row.try_get(2)?)?,
        name: row.try_get(3)?,
        address: row.try_get(4)?,
        locale: sql::locale(row.try_get(5)?)?,
        state: sql::state(row.try_get(6)?)?,
        reason: row.try_get(7)?,
        attempts: row.try_get(8)?,
        next_attempt_at: sql::opt_ts(row.try_get(9)?)?,
        lease_until: sql::opt_ts(row.try_get(10)?)?,
        created_at: sql::ts(row.try_get(11)?)?,
        updated_at: sql::ts(row.try_get(12)?)?,
        sent_at: sql::opt_ts(row.try_get(13)?)?,
        provider_id: row.try_get(14)?,
        template_override: row.try_get(15)?,
        resend_of: row.try_get(16)?,
        actor: row.try_get(17)?,
        account: row.try_get(18)?,
        fallback_of: row.try_get(19)?,
    })
}

pub(crate) const NOTIFICATION_COLS: &str = "id, dedupe_key, rule_id, kind, customer_id, level, template, fire_at, planned_at, run_id, verdict, reason, subject, occurs_at, event_id";

fn notification_row(row: &DbRow) -> Result<NotificationRow, StoreError> {
    let level: Option<i64> = row.try_get(5)?;
    Ok(NotificationRow {
        id: row.try_get(0)?,
        dedupe_key: row.try_get(1)?,
        rule_id: row.try_get(2)?,
        kind: sql::kind(row.try_get(3)?)?,
        customer_id: row
            .try_get::<Option<&str>, _>(4)?
            .map(sql::customer_id)
            .transpose()?,
        level: level.and_then(|l| u32::try_from(l).ok()),
        template: row.try_get(6)?,
        fire_at: sql::ts(row.try_get(7)?)?,
        planned_at: sql::ts(row.try_get(8)?)?,
        run_id: row.try_get(9)?,
        verdict: sql::verdict(row.try_get(10)?)?,
        reason: row.try_get(11)?,
        subject: row.try_get(12)?,
        occurs_at: sql::opt_ts(row.try_get(13)?)?,
        event_id: row.try_get(14)?,
        invoice_ids: Vec::new(),
    })
}

/// Notifications by id, with their invoices; missing ids are left out.
pub(crate) async fn notifications_by_id(
    conn: &mut Conn,
    ids: &[i64],
) -> Result<HashMap<i64, NotificationRow>, StoreError> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(10_000) {
        let list = json_list(chunk);
        let rows = dynamic(format!(
            "SELECT {NOTIFICATION_COLS} FROM notifications WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($1) AS list)"
        ))
        .bind(&list)
        .fetch_all(&mut *conn)
        .await?;
        for row in &rows {
            let n = notification_row(row)?;
            out.insert(n.id, n);
        }
        let rows = query(
            "SELECT notification_id, invoice_id FROM notification_invoices \
             WHERE notification_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1) AS list) ORDER BY notification_id, invoice_id",
        )
        .bind(&list)
        .fetch_all(&mut *conn)
        .await?;
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            if let Some(n) = out.get_mut(&id) {
                n.invoice_ids.push(sql::invoice_id(row.try_get(1)?)?);
            }
        }
    }
    Ok(out)
}

pub(crate) async fn insert_audit(
    conn: &mut Conn,
    at: Timestamp,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), StoreError> {
    query("INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(ms(at))
        .bind(actor.to_owned())
        .bind(action.to_owned())
        .bind(target.to_owned())
        .bind(detail.to_owned())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Backend {
    pub(crate) async fn lease_due(
        &self,
        req: &LeaseRequest,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        if req.limit == 0 {
            return Ok(Vec::new());
        }
        let mut tx = self.write_rows().await?;
        let leased = lease_in(&mut tx, req).await?;
        tx.commit().await?;
        Ok(leased)
    }

    pub(crate) async fn record_outcome(
        &self,
        delivery_id: i64,
        holder: &str,
        at: Timestamp,
        outcome: &AttemptOutcome,
    ) -> Result<bool, StoreError> {
        Ok(self
            .record_outcomes(holder, at, &[(delivery_id, outcome.clone())])
            .await?
            .first()
            .copied()
            .unwrap_or(false))
    }

    pub(crate) async fn emails_sent_since(
        &self,
        account: Option<&str>,
        since: Timestamp,
    ) -> Result<u64, StoreError> {
        let n: i64 = query_scalar(
            "SELECT COUNT(*) FROM deliveries WHERE sent_at >= $1 AND channel = 'email' AND account IS NOT DISTINCT FROM $2",
        )
        .bind(ms(since))
        .bind(account)
        .fetch_one(&self.pool)
        .await?;
        Ok(n.max(0) as u64)
    }

    pub(crate) async fn record_outcomes(
        &self,
        holder: &str,
        at: Timestamp,
        outcomes: &[(i64, AttemptOutcome)],
    ) -> Result<Vec<bool>, StoreError> {
        let mut tx = self.write_rows().await?;
        let recorded = record_group(&mut tx, holder, at, outcomes).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    pub(crate) async fn outbox_writer(&self) -> Result<OutboxWriter, StoreError> {
        Ok(OutboxWriter {
            conn: self.writer.acquire().await?,
        })
    }

    pub(crate) async fn hold_reason(
        &self,
        pilot: &[CustomerId],
        reason: &str,
    ) -> Result<u64, StoreError> {
        if pilot.is_empty() {
            self.clear_hold(reason).await?;
            return Ok(0);
        }
        let list = json_list(pilot);
        let mut tx = self.write().await?;
        let held = query(
            "UPDATE deliveries SET reason = $1 WHERE state = 'pending' AND reason IS DISTINCT FROM $1 \
             AND notification_id IN (SELECT id FROM notifications \
               WHERE customer_id NOT IN (SELECT value FROM json_each($2)))",
        )
        .bind(reason.to_owned())
        .bind(&list)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        query(
            "UPDATE deliveries SET reason = NULL WHERE state = 'pending' AND reason = $1 \
             AND notification_id IN (SELECT id FROM notifications \
               WHERE customer_id IN (SELECT value FROM json_each($2)))",
        )
        .bind(reason.to_owned())
        .bind(&list)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(held)
    }

    pub(crate) async fn clear_hold(&self, reason: &str) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let n =
            query("UPDATE deliveries SET reason = NULL WHERE state = 'pending' AND reason = $1")
                .bind(reason.to_owned())
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    pub(crate) async fn resend(
        &self,
        notification_id: i64,
        to: Option<(String, String)>,
        template: Option<String>,
        actor: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let customer: Option<(i64, Option<String>)> = query_as(
            "SELECT n.id, c.locale FROM notifications n LEFT JOIN customers c ON c.id = n.customer_id WHERE n.id = $1",
        )
        .bind(notification_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((_, customer_locale)) = customer else {
            return Err(StoreError::NoSuchNotification(notification_id));
        };
        let first: Option<(i64, String, String, String, String)> = query_as(
            "SELECT id, channel, name, address, locale FROM deliveries WHERE notification_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(notification_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (resend_of, channel, name, address, locale) = match (first, to) {
            (Some((id, ch, _, _, loc)), Some((address, name))) => {
                // A phone number for an e-mail notice (or the reverse) changes the channel.
                let ch = channel_for(&address, sql::channel(&ch)?);
                (Some(id), ch.as_str().to_owned(), name, address, loc)
            }
            (Some((id, ch, name, address, loc)), None) => (Some(id), ch, name, address, loc),
            (None, Some((address, name))) => {
                // Never addressed (NotApplicable: nobody reachable): the customer's
                // language, English when it has none recorded.
                let loc = customer_locale.unwrap_or_else(|| Locale::En.as_str().to_owned());
                (
                    None,
                    channel_for(&address, ChannelKind::Email)
                        .as_str()
                        .to_owned(),
                    name,
                    address,
                    loc,
                )
            }
            (None, None) => return Err(StoreError::NothingToResend(notification_id)),
        };
        let id: i64 = query_scalar(
            "INSERT INTO deliveries (notification_id, rule_id, channel, name, address, locale, state, next_attempt_at, \
             created_at, updated_at, template_override, resend_of, actor) \
             VALUES ($1, (SELECT rule_id FROM notifications WHERE id = $1), $2, $3, $4, $5, 'pending', $6, $6, $6, $7, $8, $9) RETURNING id",
        )
        .bind(notification_id)
        .bind(channel.clone())
        .bind(name)
        .bind(address.clone())
        .bind(locale)
        .bind(ms(at))
        .bind(template.clone())
        .bind(resend_of)
        .bind(actor.to_owned())
        .fetch_one(&mut *tx)
        .await?;
        let detail = match &template {
            Some(t) => format!("delivery {id} by {channel} to {address} with template {t}"),
            None => format!("delivery {id} by {channel} to {address}"),
        };
        insert_audit(
            &mut tx,
            at,
            actor,
            "resend",
            &format!("notification/{notification_id}"),
            &detail,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn notification(
        &self,
        id: i64,
    ) -> Result<Option<NotificationRow>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Ok(notifications_by_id(&mut conn, &[id]).await?.remove(&id))
    }
}

fn channel_for(address: &str, default: ChannelKind) -> ChannelKind {
    if address.contains('@') {
        ChannelKind::Email
    } else if address.starts_with('+') {
        ChannelKind::Sms
    } else {
        default
    }
}

/// The lease statement's work inside a write transaction; see [`Store::lease_due`].
async fn lease_in(tx: &mut Conn, req: &LeaseRequest) -> Result<Vec<LeasedDelivery>, StoreError> {
    let until = req.now.checked_add(req.lease_for).map_err(|e| {
        StoreError::Corrupt(format!(
            "lease of {:?} from {}: {e}",
            req.lease_for, req.now
        ))
    })?;
    let pilot = if req.only_customers.is_some() {
        " AND notification_id IN (SELECT id FROM notifications WHERE customer_id IN (SELECT value FROM json_each($6)))"
    } else {
        ""
    };
    // SQLite: each branch walks its own partial index in order and stops at the
    // limit; only the two short lists are merged. The write lock makes the lease
    // exclusive. PostgreSQL: the rows are locked as they are picked, and rows another
    // node is leasing right now are skipped rather than waited for.
    let sql = pick!(
        format!(
            "UPDATE deliveries SET state = 'sending', lease_until = $1, lease_holder = $2, updated_at = $3 \
             WHERE id IN (SELECT id FROM ( \
               SELECT id, next_attempt_at FROM (SELECT id, next_attempt_at FROM deliveries \
                 WHERE state = 'sending' AND lease_until < $3{pilot} ORDER BY lease_until LIMIT $4) \
               UNION ALL \
               SELECT id, next_attempt_at FROM (SELECT id, next_attempt_at FROM deliveries \
                 WHERE state IN ('pending', 'retrying') AND next_attempt_at <= $5{pilot} \
                 ORDER BY next_attempt_at, id LIMIT $4) \
             ) ORDER BY next_attempt_at, id LIMIT $4) \
             RETURNING {DELIVERY_COLS}"
        ),
        format!(
            "UPDATE deliveries SET state = 'sending', lease_until = $1, lease_holder = $2, updated_at = $3 \
             WHERE id IN (SELECT id FROM deliveries \
               WHERE ((state = 'sending' AND lease_until < $3) \
                 OR (state IN ('pending', 'retrying') AND next_attempt_at <= $5)){pilot} \
               ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             RETURNING {DELIVERY_COLS}"
        ),
    );
    let customers: Vec<&str> = req
        .only_customers
        .iter()
        .flatten()
        .map(CustomerId::as_str)
        .collect();
    let mut q = dynamic(sql)
        .bind(ms(until))
        .bind(req.holder.clone())
        .bind(ms(req.now))
        .bind(i64::from(req.limit))
        .bind(ms(req.now));
    if req.only_customers.is_some() {
        q = q.bind(json_list(&customers));
    }
    let rows = q.fetch_all(&mut *tx).await?;
    let mut deliveries = rows
        .iter()
        .map(delivery_row)
        .collect::<Result<Vec<_>, _>>()?;
    deliveries.sort_by_key(|d| (d.next_attempt_at, d.id));
    let mut ids: Vec<i64> = deliveries.iter().map(|d| d.notification_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let notes = notifications_by_id(&mut *tx, &ids).await?;
    deliveries
        .into_iter()
        .map(|delivery| {
            let notification = notes
                .get(&delivery.notification_id)
                .cloned()
                .ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "delivery {} has no notification {}",
                        delivery.id, delivery.notification_id
                    ))
                })?;
            let invoice_ids: Vec<InvoiceId> = notification.invoice_ids.clone();
            Ok(LeasedDelivery {
                delivery,
                notification,
                invoice_ids,
            })
        })
        .collect()
}

/// Leases and records attempts on a connection it holds; see `Store::outbox_writer`.
pub(crate) struct OutboxWriter {
    conn: sqlx::pool::PoolConnection<super::Engine>,
}

impl OutboxWriter {
    /// As [`Store::lease_due`].
    pub(crate) async fn lease_due(
        &mut self,
        req: &LeaseRequest,
    ) -> Result<Vec<LeasedDelivery>, StoreError> {
        if req.limit == 0 {
            return Ok(Vec::new());
        }
        let mut tx = super::begin_on(&mut self.conn).await?;
        let leased = lease_in(&mut tx, req).await?;
        tx.commit().await?;
        Ok(leased)
    }

    /// As [`Store::record_outcomes`].
    pub(crate) async fn record(
        &mut self,
        holder: &str,
        at: Timestamp,
        outcomes: &[(i64, AttemptOutcome)],
    ) -> Result<Vec<bool>, StoreError> {
        let mut tx = super::begin_on(&mut self.conn).await?;
        let recorded = record_group(&mut tx, holder, at, outcomes).await?;
        tx.commit().await?;
        Ok(recorded)
    }
}

/// One outcome as the store writes it: the delivery's new state and, when it was an
/// attempt, the attempt row.
#[derive(Serialize)]
struct OutcomeRow<'a> {
    id: i64,
    state: &'static str,
    counts: i64,
    reason: Option<&'a str>,
    next: Option<i64>,
    sent_at: Option<i64>,
    provider: Option<&'a str>,
    account: Option<&'a str>,
    kind: Option<&'static str>,
    detail: &'a str,
}

fn outcome_row(delivery_id: i64, at: Timestamp, outcome: &AttemptOutcome) -> OutcomeRow<'_> {
    let row = |state, counts, reason, kind, detail| OutcomeRow {
        id: delivery_id,
        state,
        counts,
        reason,
        next: None,
        sent_at: None,
        provider: None,
        account: None,
        kind,
        detail,
    };
    match outcome {
        AttemptOutcome::Sent {
            provider_id,
            detail,
            account,
        } => OutcomeRow {
            sent_at: Some(ms(at)),
            provider: provider_id.as_deref(),
            account: account.as_deref(),
            ..row("sent", 1, None, Some(AttemptKind::Sent.as_str()), detail)
        },
        AttemptOutcome::Retry { at: when, detail } => OutcomeRow {
            next: Some(ms(*when)),
            ..row(
                "retrying",
                1,
                Some(detail),
                Some(AttemptKind::Transient.as_str()),
                detail,
            )
        },
        AttemptOutcome::Failed { detail } | AttemptOutcome::FailedOver { detail, .. } => row(
            "failed",
            1,
            Some(detail),
            Some(AttemptKind::Permanent.as_str()),
            detail,
        ),
        // Held by a limit, not tried: no attempt counted or logged.
        AttemptOutcome::Deferred { at: when, reason }
        | AttemptOutcome::Postponed { at: when, reason } => OutcomeRow {
            next: Some(ms(*when)),
            ..row("retrying", 0, Some(reason), None, reason)
        },
        AttemptOutcome::Cancelled { reason } => row(
            "cancelled",
            0,
            Some(reason),
            Some(AttemptKind::Cancelled.as_str()),
            reason,
        ),
    }
}

/// Writes a group of outcomes with two statements, whatever its size: each
/// statement is a trip to SQLite's worker thread, and a statement per row made the
/// store, not the mail server, the slowest part of sending.
async fn record_group(
    tx: &mut Conn,
    holder: &str,
    at: Timestamp,
    outcomes: &[(i64, AttemptOutcome)],
) -> Result<Vec<bool>, StoreError> {
    let rows: Vec<OutcomeRow<'_>> = outcomes
        .iter()
        .map(|(id, o)| outcome_row(*id, at, o))
        .collect();
    let rows = json_list(&rows);
    // Only the holder of the lease records: a delivery another sender took over
    // keeps that sender's outcome.
    let done: Vec<i64> = query_scalar(
        "UPDATE deliveries SET state = j.state, attempts = deliveries.attempts + j.counts, reason = j.reason, \
         next_attempt_at = COALESCE(j.next, deliveries.next_attempt_at), \
         sent_at = COALESCE(j.sent_at, deliveries.sent_at), \
         provider_id = COALESCE(j.provider, deliveries.provider_id), \
         account = COALESCE(j.account, deliveries.account), lease_until = NULL, lease_holder = NULL, updated_at = $2 \
         FROM (SELECT CAST(value->>'id' AS BIGINT) AS id, value->>'state' AS state, CAST(value->>'counts' AS BIGINT) AS counts, \
                      value->>'reason' AS reason, CAST(value->>'next' AS BIGINT) AS next, CAST(value->>'sent_at' AS BIGINT) AS sent_at, \
                      value->>'provider' AS provider, value->>'account' AS account FROM json_each($1)) AS j \
         WHERE deliveries.id = j.id AND deliveries.state = 'sending' AND deliveries.lease_holder = $3 \
         RETURNING deliveries.id",
    )
    .bind(&rows)
    .bind(ms(at))
    .bind(holder.to_owned())
    .fetch_all(&mut *tx)
    .await?;
    if !done.is_empty() {
        // In the group's order, so attempt ids follow it.
        query(pick!(
            "INSERT INTO attempts (delivery_id, at, outcome, detail) \
             SELECT value->>'id', $2, value->>'kind', value->>'detail' FROM json_each($1) \
             WHERE value->>'kind' IS NOT NULL AND value->>'id' IN (SELECT value FROM json_each($3)) \
             ORDER BY key",
            "INSERT INTO attempts (delivery_id, at, outcome, detail) \
             SELECT CAST(j.value->>'id' AS BIGINT), $2, j.value->>'kind', j.value->>'detail' \
             FROM json_array_elements($1::json) WITH ORDINALITY AS j(value, key) \
             WHERE j.value->>'kind' IS NOT NULL \
             AND CAST(j.value->>'id' AS BIGINT) IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text($3::json)) \
             ORDER BY j.key",
        ))
        .bind(&rows)
        .bind(ms(at))
        .bind(json_list(&done))
        .execute(&mut *tx)
        .await?;
    }
    let done: std::collections::HashSet<i64> = done.into_iter().collect();
    // Rare (a failure on a rule with a channel fallback): a statement each.
    for (id, outcome) in outcomes {
        if let AttemptOutcome::FailedOver { next, .. } = outcome
            && done.contains(id)
        {
            query(
                "INSERT INTO deliveries (notification_id, rule_id, channel, name, address, locale, state, \
                 next_attempt_at, created_at, updated_at, fallback_of, actor) \
                 SELECT f.notification_id, f.rule_id, $2, $3, $4, $5, 'pending', $6, $6, $6, f.id, 'fallback' \
                 FROM deliveries f WHERE f.id = $1 AND NOT EXISTS (SELECT 1 FROM deliveries o \
                 WHERE o.notification_id = f.notification_id AND o.channel = $2 AND o.address = $4)",
            )
            .bind(id)
            .bind(next.channel.as_str())
            .bind(&next.name)
            .bind(&next.address)
            .bind(next.locale.as_str())
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(outcomes.iter().map(|(id, _)| done.contains(id)).collect())
}
