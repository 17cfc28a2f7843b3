//! The web console's users, sessions and settings, and the document lists it
//! pages through; see `crate::console`.

use herald_core::InvoiceId;
use herald_core::planner::InvoiceView;
use herald_core::status::DeliveryState;
use jiff::Timestamp;
use sqlx::Row;

use super::exec::{dynamic, dynamic_scalar, query, query_scalar};
use super::outbox::insert_audit;
use super::outbox::{DELIVERY_COLS, delivery_row};
use super::records::{INVOICE_COLS, invoice_view};
use super::{Backend, DbRow};
use crate::console::{ConsoleSession, ConsoleSetting, ConsoleUser, Role};
use crate::error::StoreError;
use crate::sql::{self, json_list, ms};
use crate::types::{
    DeliveryListQuery, DeliveryListRow, InvoiceListQuery, InvoiceListRow, InvoiceNotice,
    InvoiceStanding, SubjectListQuery, SubjectListRow,
};

const USER_COLS: &str =
    "u.id, u.login, u.name, u.role, u.password_hash, u.locale, u.created_at, u.disabled_at";

fn user_at(row: &DbRow, first: usize) -> Result<ConsoleUser, StoreError> {
    let role: String = row.try_get(first + 3)?;
    Ok(ConsoleUser {
        id: row.try_get(first)?,
        login: row.try_get(first + 1)?,
        name: row.try_get(first + 2)?,
        role: Role::parse(&role).map_err(StoreError::Corrupt)?,
        password_hash: row.try_get(first + 4)?,
        locale: row.try_get(first + 5)?,
        created_at: sql::ts(row.try_get(first + 6)?)?,
        disabled_at: sql::opt_ts(row.try_get(first + 7)?)?,
    })
}

/// How many match in all, when the first page says so itself: a first page
/// shorter than a page holds every match, and counting them again would cost a
/// second pass over the table (a search by part of a name scans every invoice).
fn short_first_page(offset: u64, limit: u32, got: usize) -> Option<i64> {
    (offset == 0 && got < limit as usize).then(|| i64::try_from(got).unwrap_or(i64::MAX))
}

impl Backend {
    pub(crate) async fn create_console_user(
        &self,
        user: &ConsoleUser,
        actor: &str,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id: i64 = query_scalar(
            "INSERT INTO console_users (login, name, role, password_hash, locale, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user.login.clone())
        .bind(user.name.clone())
        .bind(user.role.as_str())
        .bind(user.password_hash.clone())
        .bind(user.locale.clone())
        .bind(ms(user.created_at))
        .fetch_one(&mut *tx)
        .await?;
        insert_audit(
            &mut tx,
            user.created_at,
            actor,
            "user.create",
            &format!("user:{}", user.login),
            &format!("role {}", user.role),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn console_user(
        &self,
        login: &str,
    ) -> Result<Option<ConsoleUser>, StoreError> {
        let row = dynamic(format!(
            "SELECT {USER_COLS} FROM console_users u WHERE u.login = $1"
        ))
        .bind(login.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| user_at(&r, 0)).transpose()
    }

    pub(crate) async fn console_users(&self) -> Result<Vec<ConsoleUser>, StoreError> {
        let rows = dynamic(format!(
            "SELECT {USER_COLS} FROM console_users u ORDER BY u.login"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| user_at(r, 0)).collect()
    }

    pub(crate) async fn change_console_user(
        &self,
        login: &str,
        change: &crate::console::UserChange,
        actor: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let id: Option<i64> = query_scalar("SELECT id FROM console_users WHERE login = $1")
            .bind(login.to_owned())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else {
            return Ok(false);
        };
        let mut said = Vec::new();
        if let Some(role) = change.role {
            query("UPDATE console_users SET role = $1 WHERE id = $2")
                .bind(role.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            said.push(format!("role {role}"));
        }
        if let Some(hash) = &change.password_hash {
            query("UPDATE console_users SET password_hash = $1 WHERE id = $2")
                .bind(hash.clone())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            said.push("password changed".to_owned());
        }
        if let Some(locale) = &change.locale {
            query("UPDATE console_users SET locale = $1 WHERE id = $2")
                .bind(locale.clone())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            said.push(format!("language {locale}"));
        }
        if let Some(disabled) = change.disabled {
            query("UPDATE console_users SET disabled_at = $1 WHERE id = $2")
                .bind(disabled.then(|| ms(at)))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            said.push(if disabled { "disabled" } else { "enabled" }.to_owned());
        }
        // A new password or a disabled account signs every browser out.
        if change.password_hash.is_some() || change.disabled == Some(true) {
            query("DELETE FROM console_sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        // The language is the user's own preference, not worth an audit entry.
        if change.role.is_some() || change.password_hash.is_some() || change.disabled.is_some() {
            insert_audit(
                &mut tx,
                at,
                actor,
                "user.change",
                &format!("user:{login}"),
                &said.join(", "),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn create_console_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        // Sessions that ran out go as new ones come: the table stays small.
        query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
        query(
            "INSERT INTO console_sessions (id_hash, user_id, csrf, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(id_hash.to_owned())
        .bind(user_id)
        .bind(csrf.to_owned())
        .bind(ms(at))
        .bind(ms(expires_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn console_session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let row = dynamic(format!(
            "SELECT s.id_hash, s.csrf, s.created_at, s.last_seen_at, s.expires_at, {USER_COLS} \
             FROM console_sessions s JOIN console_users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL"
        ))
        .bind(id_hash.to_owned())
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(ConsoleSession {
            id_hash: row.try_get(0)?,
            csrf: row.try_get(1)?,
            created_at: sql::ts(row.try_get(2)?)?,
            last_seen_at: sql::ts(row.try_get(3)?)?,
            expires_at: sql::ts(row.try_get(4)?)?,
            user: user_at(&row, 5)?,
        }))
    }

    pub(crate) async fn touch_console_session(
        &self,
        id_hash: &str,
        at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        query("UPDATE console_sessions SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3")
            .bind(ms(at))
            .bind(ms(expires_at))
            .bind(id_hash.to_owned())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn end_console_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash.to_owned())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn console_settings(&self) -> Result<Vec<ConsoleSetting>, StoreError> {
        let rows =
            query("SELECT key, value, changed_at, changed_by FROM console_settings ORDER BY key")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(ConsoleSetting {
                    key: r.try_get(0)?,
                    value: r.try_get(1)?,
                    changed_at: sql::ts(r.try_get(2)?)?,
                    changed_by: r.try_get(3)?,
                })
            })
            .collect()
    }

    pub(crate) async fn set_console_setting(
        &self,
        key: &str,
        value: Option<&str>,
        actor: &str,
        at: Timestamp,
        detail: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        match value {
            Some(v) => {
                query(
                    "INSERT INTO console_settings (key, value, changed_at, changed_by) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, changed_at = excluded.changed_at, changed_by = excluded.changed_by",
                )
                .bind(key.to_owned())
                .bind(v.to_owned())
                .bind(ms(at))
                .bind(actor.to_owned())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                query("DELETE FROM console_settings WHERE key = $1")
                    .bind(key.to_owned())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        insert_audit(&mut tx, at, actor, "setting.change", key, detail).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn event_subjects(
        &self,
        q: &SubjectListQuery,
    ) -> Result<(Vec<SubjectListRow>, u64), StoreError> {
        let pattern = q
            .search
            .as_deref()
            .map(|s| format!("%{}%", s.trim().to_lowercase()));
        let (search, limit_at, offset_at) = if pattern.is_some() {
            (
                " AND (lower(e.subject) LIKE $2 OR lower(COALESCE(e.customer_id, '')) LIKE $2 \
                 OR e.customer_id IN (SELECT c.id FROM customers c WHERE lower(c.name) LIKE $2))",
                3,
                4,
            )
        } else {
            ("", 2, 3)
        };
        let filter = format!("e.subject IS NOT NULL AND e.type LIKE $1{search}");
        let mut count = dynamic_scalar::<i64>(format!(
            "SELECT COUNT(DISTINCT e.subject) FROM events e WHERE {filter}"
        ));
        let mut page = dynamic(format!(
            "SELECT s.subject, s.customer_id, s.last_at, s.n, \
             (SELECT c.name FROM customers c WHERE c.id = s.customer_id) FROM \
             (SELECT e.subject AS subject, MAX(e.customer_id) AS customer_id, MAX(e.occurred_at) AS last_at, \
              COUNT(*) AS n FROM events e WHERE {filter} GROUP BY e.subject) s \
             ORDER BY s.last_at DESC, s.subject LIMIT ${limit_at} OFFSET ${offset_at}"
        ));
        let prefix = format!("{}%", q.type_prefix);
        count = count.bind(prefix.clone());
        page = page.bind(prefix);
        if let Some(p) = &pattern {
            count = count.bind(p.clone());
            page = page.bind(p.clone());
        }
        let rows = page
            .bind(i64::from(q.limit))
            .bind(i64::try_from(q.offset).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let total = match short_first_page(q.offset, q.limit, rows.len()) {
            Some(n) => n,
            None => count.fetch_one(&self.pool).await?,
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let customer: Option<String> = row.try_get(1)?;
            out.push(SubjectListRow {
                subject: row.try_get(0)?,
                customer_id: customer
                    .map(|c| {
                        herald_core::CustomerId::parse(&c)
                            .map_err(|e| StoreError::Corrupt(format!("customer id {c:?}: {}", e.0)))
                    })
                    .transpose()?,
                last_at: sql::ts(row.try_get(2)?)?,
                events: row.try_get(3)?,
                customer_name: row.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
            });
        }
        Ok((out, u64::try_from(total).unwrap_or(0)))
    }

    pub(crate) async fn invoice_list(
        &self,
        q: &InvoiceListQuery,
    ) -> Result<(Vec<InvoiceListRow>, u64), StoreError> {
        // Conditions from fixed fragments; every value is bound.
        let mut conds = Vec::new();
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        let pattern = q
            .search
            .as_deref()
            .map(|s| format!("%{}%", s.trim().to_lowercase()));
        let (search_at, customer_at, due_at) = (
            pattern.as_ref().map(|_| next()),
            q.customer.as_ref().map(|_| next()),
            q.standing
                .and_then(|s| (s == InvoiceStanding::Overdue).then(&mut next)),
        );
        if let Some(p) = search_at {
            conds.push(format!(
                "(lower(invoices.id) LIKE ${p} OR lower(invoices.number) LIKE ${p} OR lower(invoices.customer_id) LIKE ${p} \
                 OR invoices.customer_id IN (SELECT c.id FROM customers c WHERE lower(c.name) LIKE ${p}))"
            ));
        }
        if let Some(p) = customer_at {
            conds.push(format!("invoices.customer_id = ${p}"));
        }
        match q.standing {
            Some(InvoiceStanding::Open) => {
                conds.push("invoices.paid_minor < invoices.amount_minor".to_owned())
            }
            Some(InvoiceStanding::Paid) => {
                conds.push("invoices.paid_minor >= invoices.amount_minor".to_owned())
            }
            Some(InvoiceStanding::Overdue) => conds.push(format!(
                "invoices.paid_minor < invoices.amount_minor AND invoices.due_date < ${}",
                due_at.unwrap_or_default()
            )),
            None => {}
        }
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let (limit_at, offset_at) = (next(), next());
        // A search by part of a word matches few invoices, and no index finds
        // them: reading the table in order and sorting the few is faster than
        // walking the issue-date index and fetching every row it names (at a
        // million invoices, 0.5 s against 2.5 s). A search matching nearly
        // everything (one letter) pays the other way, 0.65 s against 0.04 s.
        // `|| ''` keeps the index out of it on SQLite and PostgreSQL alike.
        // Without a search, the index is right.
        let by_issue = if pattern.is_some() {
            "(invoices.issue_date || '')"
        } else {
            "invoices.issue_date"
        };
        let mut count = dynamic_scalar::<i64>(format!("SELECT COUNT(*) FROM invoices {filter}"));
        let mut page = dynamic(format!(
            "SELECT {INVOICE_COLS}, (SELECT c.name FROM customers c WHERE c.id = invoices.customer_id) \
             FROM invoices {filter} ORDER BY {by_issue} DESC, invoices.id DESC LIMIT ${limit_at} OFFSET ${offset_at}"
        ));
        if let Some(p) = &pattern {
            count = count.bind(p.clone());
            page = page.bind(p.clone());
        }
        if let Some(c) = &q.customer {
            count = count.bind(c.to_string());
            page = page.bind(c.to_string());
        }
        if q.standing == Some(InvoiceStanding::Overdue) {
            let today = sql::date_text(q.today);
            count = count.bind(today.clone());
            page = page.bind(today);
        }
        let rows = page
            .bind(i64::from(q.limit))
            .bind(i64::try_from(q.offset).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let total = match short_first_page(q.offset, q.limit, rows.len()) {
            Some(n) => n,
            None => count.fetch_one(&self.pool).await?,
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let view: InvoiceView = invoice_view(row, i64::MAX)?;
            out.push(InvoiceListRow {
                customer_name: row.try_get::<Option<String>, _>(12)?.unwrap_or_default(),
                view,
            });
        }
        Ok((out, u64::try_from(total).unwrap_or(0)))
    }

    pub(crate) async fn invoice_notices(
        &self,
        ids: &[InvoiceId],
    ) -> Result<Vec<InvoiceNotice>, StoreError> {
        let rows = query(
            "SELECT ni.invoice_id, n.rule_id, n.id, n.level, n.fire_at, n.verdict, \
             (SELECT json_group_array(d.state) FROM deliveries d WHERE d.notification_id = n.id) \
             FROM notification_invoices ni JOIN notifications n ON n.id = ni.notification_id \
             WHERE ni.invoice_id IN (SELECT value FROM json_each($1)) ORDER BY n.fire_at, n.id",
        )
        .bind(json_list(ids))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let states: String = r.try_get::<Option<String>, _>(6)?.unwrap_or_default();
                let states: Vec<String> = if states.is_empty() {
                    Vec::new()
                } else {
                    serde_json::from_str(&states).map_err(|e| {
                        StoreError::Corrupt(format!("delivery states {states:?}: {e}"))
                    })?
                };
                Ok(InvoiceNotice {
                    invoice: sql::invoice_id(r.try_get(0)?)?,
                    rule: r.try_get(1)?,
                    notification: r.try_get(2)?,
                    level: r
                        .try_get::<Option<i64>, _>(3)?
                        .and_then(|l| u32::try_from(l).ok()),
                    fire_at: sql::ts(r.try_get(4)?)?,
                    verdict: r.try_get(5)?,
                    states: states
                        .iter()
                        .map(|s| s.parse::<DeliveryState>().map_err(StoreError::Corrupt))
                        .collect::<Result<_, _>>()?,
                })
            })
            .collect()
    }

    pub(crate) async fn delivery_list(
        &self,
        q: &DeliveryListQuery,
    ) -> Result<(Vec<DeliveryListRow>, u64), StoreError> {
        let mut conds = Vec::new();
        let mut n = 0;
        let mut arg = |cond: &str, present: bool| {
            if present {
                n += 1;
                conds.push(cond.replace('?', &format!("${n}")));
            }
        };
        arg("d.rule_id = ?", q.rule.is_some());
        arg("d.channel = ?", q.channel.is_some());
        arg("d.state = ?", q.state.is_some());
        arg("n.customer_id = ?", q.customer.is_some());
        arg("COALESCE(d.sent_at, d.updated_at) >= ?", q.from.is_some());
        arg("COALESCE(d.sent_at, d.updated_at) < ?", q.until.is_some());
        arg("d.id < ?", q.before_id.is_some());
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let cols: Vec<String> = DELIVERY_COLS
            .split(',')
            .map(|c| format!("d.{}", c.trim()))
            .collect();
        let from = "FROM deliveries d JOIN notifications n ON n.id = d.notification_id";
        let mut count = dynamic_scalar::<i64>(format!("SELECT COUNT(*) {from} {filter}"));
        let mut page = dynamic(format!(
            "SELECT {}, n.rule_id, n.customer_id, n.subject, n.fire_at, \
             (SELECT MIN(ni.invoice_id) FROM notification_invoices ni WHERE ni.notification_id = n.id), \
             (SELECT COUNT(*) FROM notification_invoices ni WHERE ni.notification_id = n.id), \
             (SELECT a.detail FROM attempts a WHERE a.delivery_id = d.id ORDER BY a.at DESC, a.id DESC LIMIT 1) \
             {from} {filter} ORDER BY d.id DESC LIMIT ${} OFFSET ${}",
            cols.join(", "),
            n + 1,
            n + 2
        ));
        macro_rules! bind_both {
            ($v:expr) => {
                if let Some(v) = $v {
                    count = count.bind(v.clone());
                    page = page.bind(v);
                }
            };
        }
        bind_both!(q.rule.clone());
        bind_both!(q.channel.map(|c| c.as_str().to_owned()));
        bind_both!(q.state.map(|s| s.as_str().to_owned()));
        bind_both!(q.customer.as_ref().map(|c| c.as_str().to_owned()));
        bind_both!(q.from.map(ms));
        bind_both!(q.until.map(ms));
        bind_both!(q.before_id);
        // An export asks for every row (before_id pages it) and needs no count.
        let total = if q.before_id.is_some() {
            0
        } else {
            count.fetch_one(&self.pool).await?
        };
        let limit = if q.limit == 0 {
            i64::MAX
        } else {
            i64::from(q.limit)
        };
        let rows = page
            .bind(limit)
            .bind(i64::try_from(q.offset).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
        let k = cols.len();
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(DeliveryListRow {
                delivery: delivery_row(row)?,
                rule_id: row.try_get(k)?,
                customer_id: row
                    .try_get::<Option<&str>, _>(k + 1)?
                    .map(sql::customer_id)
                    .transpose()?,
                subject: row.try_get(k + 2)?,
                fire_at: sql::ts(row.try_get(k + 3)?)?,
                invoice_id: row
                    .try_get::<Option<&str>, _>(k + 4)?
                    .map(sql::invoice_id)
                    .transpose()?,
                invoices: row.try_get(k + 5)?,
                last_response: row.try_get(k + 6)?,
            });
        }
        Ok((out, u64::try_from(total).unwrap_or(0)))
    }

    pub(crate) async fn delivery_states_since(
        &self,
        since: Timestamp,
    ) -> Result<Vec<(DeliveryState, i64)>, StoreError> {
        let rows = query(
            "SELECT state, COUNT(*) FROM deliveries WHERE COALESCE(sent_at, updated_at) >= $1 GROUP BY state ORDER BY state",
        )
        .bind(ms(since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((sql::state(r.try_get(0)?)?, r.try_get(1)?)))
            .collect()
    }
}
