//! Customers, contacts, operators, invoices and payments: upserts and lookups.
//!
//! Upserts are `INSERT … ON CONFLICT DO UPDATE … WHERE <a column differs>`, so
//! re-importing the same file changes nothing, and in particular does not mark
//! invoices as changed: the planner would otherwise re-examine every invoice after
//! every nightly import.

use std::collections::{HashMap, HashSet};

use herald_core::events::Event;
use herald_core::planner::{CustomerBook, InvoiceView};
use herald_core::records::{Contact, Customer, Invoice, Operator, Payment, Relation, TimeZoneName};
use herald_core::tasks::{Recurrence, Task};
use herald_core::{
    CustomerId, EmailAddress, EventId, InvoiceId, Money, OperatorId, PhoneNumber, TaskId,
};
use jiff::Timestamp;
use sqlx::Row;

use super::exec::{self, dynamic, query, query_as, query_scalar};
use super::exec::{Query, bind_all, dynamic_scalar};
use super::{Backend, Conn, DbRow};
use crate::error::StoreError;
use crate::sql::{self, Param, date_text, json_list, ms, rows_per_statement, values};
use crate::types::{InvoiceBalance, RecordCounts, UpsertCounts};

/// Runs a multi-row upsert in chunks and returns the key of every row it inserted
/// or changed (the statement's `RETURNING` column).
async fn upsert_rows<T>(
    conn: &mut Conn,
    rows: &[T],
    head: &str,
    tail: &str,
    cols: usize,
    bind: impl Fn(Query<'static>, &T) -> Query<'static>,
) -> Result<Vec<String>, StoreError> {
    let mut returned = Vec::new();
    for chunk in rows.chunks(rows_per_statement(cols)) {
        let mut q = dynamic(format!("{head}{}{tail}", values(chunk.len(), cols)));
        for r in chunk {
            q = bind(q, r);
        }
        for row in q.fetch_all(&mut *conn).await? {
            returned.push(row.try_get::<String, _>(0)?);
        }
    }
    Ok(returned)
}

/// A relation with its operator: customer id, relation, then the operator's row.
type RelatedRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

/// An operator row as stored: id, name, email, phone, locale, roles (JSON).
type StoredOperator = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
);

fn operator_from_row(
    (id, name, email, phone, locale, roles): StoredOperator,
) -> Result<Operator, StoreError> {
    let bad = |what: &str, e: String| StoreError::Corrupt(format!("operator {id}: {what}: {e}"));
    Ok(Operator {
        id: OperatorId::parse(&id).map_err(|e| bad("id", e.0))?,
        email: email
            .as_deref()
            .map(EmailAddress::parse)
            .transpose()
            .map_err(|e| bad("email", e.0))?,
        phone: phone
            .as_deref()
            .map(PhoneNumber::parse)
            .transpose()
            .map_err(|e| bad("phone", e.0))?,
        locale: locale.as_deref().map(sql::locale).transpose()?,
        roles: serde_json::from_str(&roles).map_err(|e| bad("roles", e.to_string()))?,
        name,
    })
}

/// An event row as stored, and whether it is new since a planning run's last_seq.
#[derive(sqlx::FromRow)]
struct StoredEvent {
    id: String,
    kind: String,
    customer_id: Option<String>,
    operator_id: Option<String>,
    subject: Option<String>,
    occurred_at: i64,
    payload: String,
    attachment: Option<String>,
    new: bool,
}

impl StoredEvent {
    fn into_event(self) -> Result<Event, StoreError> {
        let bad =
            |what: &str, e: String| StoreError::Corrupt(format!("event {}: {what}: {e}", self.id));
        let payload = match serde_json::from_str::<serde_json::Value>(&self.payload) {
            Ok(serde_json::Value::Object(m)) => m,
            Ok(_) => return Err(bad("payload", "not a JSON object".into())),
            Err(e) => return Err(bad("payload", e.to_string())),
        };
        Ok(Event {
            id: EventId::parse(&self.id).map_err(|e| bad("id", e.0))?,
            kind: self.kind.clone(),
            customer_id: self
                .customer_id
                .as_deref()
                .map(sql::customer_id)
                .transpose()?,
            operator_id: self
                .operator_id
                .as_deref()
                .map(OperatorId::parse)
                .transpose()
                .map_err(|e| bad("operator_id", e.0))?,
            subject: self.subject.clone(),
            occurred_at: sql::ts(self.occurred_at)?,
            payload,
            attachment: self.attachment.clone(),
        })
    }
}

/// A task row as stored.
#[derive(sqlx::FromRow)]
struct StoredTask {
    id: String,
    title: String,
    customer_id: String,
    operator_id: Option<String>,
    starts_at: String,
    time_zone: Option<String>,
    recurrence: String,
    template: Option<String>,
}

impl StoredTask {
    fn into_task(self) -> Result<Task, StoreError> {
        let bad =
            |what: &str, e: String| StoreError::Corrupt(format!("task {}: {what}: {e}", self.id));
        Ok(Task {
            id: TaskId::parse(&self.id).map_err(|e| bad("id", e.0))?,
            title: self.title.clone(),
            customer_id: sql::customer_id(&self.customer_id)?,
            operator_id: self
                .operator_id
                .as_deref()
                .map(OperatorId::parse)
                .transpose()
                .map_err(|e| bad("operator_id", e.0))?,
            starts_at: self
                .starts_at
                .parse()
                .map_err(|e: jiff::Error| bad("starts_at", e.to_string()))?,
            time_zone: self
                .time_zone
                .as_deref()
                .map(TimeZoneName::parse)
                .transpose()
                .map_err(|e| bad("time_zone", e.0))?,
            recurrence: Recurrence::parse(&self.recurrence).map_err(|e| bad("recurrence", e))?,
            recurrence_text: self.recurrence.clone(),
            template: self.template.clone(),
        })
    }
}

/// The keys among `lookup` that already exist; `sql` takes the list as `$1` and
/// returns them as one `json_group_array`.
pub(crate) async fn existing_keys(
    conn: &mut Conn,
    sql: &'static str,
    lookup: &[&str],
) -> Result<HashSet<String>, StoreError> {
    Ok(exec::json_rows::<_, String>(conn, sql, lookup)
        .await?
        .into_iter()
        .collect())
}

fn classify(total: usize, returned: &[String], existing: &HashSet<String>) -> UpsertCounts {
    let updated = returned.iter().filter(|k| existing.contains(*k)).count();
    let inserted = returned.len() - updated;
    UpsertCounts {
        inserted: inserted as u64,
        updated: updated as u64,
        unchanged: total.saturating_sub(returned.len()) as u64,
    }
}

/// For a batch that is large next to the table, drops the table's secondary
/// indexes and returns their SQL so the caller re-creates them before committing:
/// building an index by one sort is far cheaper than a million random inserts into
/// it (1,000,000 invoices: 40 s with the indexes in place). DDL is transactional in
/// SQLite, so a failed import leaves the indexes as they were. The SQL is read from
/// the schema itself, so it cannot drift from the migrations.
async fn drop_indexes_for_bulk(
    conn: &mut Conn,
    table: &'static str,
    batch: usize,
) -> Result<Vec<String>, StoreError> {
    if batch < 50_000 {
        return Ok(Vec::new());
    }
    let have: i64 = dynamic_scalar(format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&mut *conn)
        .await?;
    if (batch as i64) < have / 2 {
        return Ok(Vec::new());
    }
    // The indexes the schema created, not those behind a key or a constraint.
    let indexes: Vec<(String, String)> = query_as(pick!(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL ORDER BY name",
        "SELECT i.relname::text, pg_get_indexdef(i.oid) FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
         WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace \
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) ORDER BY 1",
    ))
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    for (name, _) in &indexes {
        dynamic(format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))
            .execute(&mut *conn)
            .await?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

/// An invoice's balance as stored: id, customer, currency, amount and paid in
/// minor units, and each payment (id, minor units).
type StoredBalance = (String, String, String, i64, i64, Vec<(String, i64)>);

/// A payment as stored: id, invoice id, date, amount in minor units.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct StoredPayment(String, String, String, i64);

/// A payment of the batch in its stored form, its ids borrowed from the batch.
#[derive(Debug, serde::Serialize)]
struct NewPayment<'a>(&'a str, &'a str, String, i64);

/// The invoices in the table's key order, (customer, id), so a batch goes in at
/// the end of the table's pages rather than all over them.
fn in_key_order(rows: &[Invoice]) -> Vec<&Invoice> {
    let mut keys: Vec<(&str, &str, usize)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.customer_id.as_str(), r.id.as_str(), i))
        .collect();
    keys.sort_unstable();
    keys.into_iter().map(|(_, _, i)| &rows[i]).collect()
}

/// Invoices as a JSON array of rows, in the column order of the bulk upsert.
fn invoices_json(rows: &[&Invoice]) -> String {
    // Borrowed tuples straight into the text: building a `serde_json::Value` per
    // row cost ten allocations a row.
    let rows: Vec<_> = rows
        .iter()
        .map(|i| {
            (
                i.id.as_str(),
                i.number.as_str(),
                i.customer_id.as_str(),
                date_text(i.issue_date),
                date_text(i.due_date),
                i.currency.code(),
                i.total().to_minor(),
                i.attachment.as_deref(),
            )
        })
        .collect();
    serde_json::to_string(&rows).unwrap_or_else(|_| "[]".to_owned())
}

/// An invoice upsert from one JSON parameter of rows (`$1`) with this batch's seq
/// (`$2`). A row that differs in nothing is left alone, so its seq stays.
const UPSERT_INVOICES: &str = "INSERT INTO invoices (id, number, customer_id, issue_date, due_date, currency, amount_minor, attachment, seq, created_seq) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, CAST(value ->> 6 AS BIGINT), \
                 value ->> 7, $2, $2 FROM json_each($1) WHERE true \
                 ON CONFLICT (id) DO UPDATE SET number = excluded.number, customer_id = excluded.customer_id, \
                 issue_date = excluded.issue_date, due_date = excluded.due_date, currency = excluded.currency, \
                 amount_minor = excluded.amount_minor, attachment = excluded.attachment, seq = excluded.seq \
                 WHERE invoices.number IS DISTINCT FROM excluded.number \
                 OR invoices.customer_id IS DISTINCT FROM excluded.customer_id \
                 OR invoices.issue_date IS DISTINCT FROM excluded.issue_date \
                 OR invoices.due_date IS DISTINCT FROM excluded.due_date \
                 OR invoices.currency IS DISTINCT FROM excluded.currency \
                 OR invoices.amount_minor IS DISTINCT FROM excluded.amount_minor \
                 OR invoices.attachment IS DISTINCT FROM excluded.attachment";

/// Marks these customers changed at `seq`: the next planning run looks at them again.
async fn mark_customers_changed(
    conn: &mut Conn,
    customers: &[&str],
    seq: i64,
) -> Result<(), StoreError> {
    for chunk in customers.chunks(10_000) {
        query(
            "INSERT OR IGNORE INTO customer_changes (seq, customer_id) SELECT $2, value FROM json_each($1) AS list",
        )
        .bind(json_list(chunk))
        .bind(seq)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Allocates the next change number. Writers are serialized, so numbers become
/// visible in the order they are handed out and a planner that read `max_seq`
/// never misses a change committed later.
pub(crate) async fn next_seq(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(
        query_scalar("UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value")
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Which invoices of a book to load: an SQL condition whose parameters start at
/// `$2` (`$1` is the customer list).
pub(crate) struct InvoiceFilter {
    pub sql: String,
    pub params: Vec<Param>,
    pub since_seq: i64,
}

pub(crate) const INVOICE_COLS: &str = "id, number, customer_id, issue_date, due_date, currency, amount_minor, paid_minor, attachment, seq, \
     COALESCE((SELECT p.covered FROM dunning_progress p WHERE p.customer_id = invoices.customer_id AND p.invoice_id = invoices.id), 0), created_seq";

pub(crate) fn invoice_view(row: &DbRow, since_seq: i64) -> Result<InvoiceView, StoreError> {
    let currency = sql::currency(row.try_get(5)?)?;
    let invoice = Invoice {
        id: sql::invoice_id(row.try_get(0)?)?,
        number: row.try_get(1)?,
        customer_id: sql::customer_id(row.try_get(2)?)?,
        issue_date: sql::date(row.try_get(3)?)?,
        due_date: sql::date(row.try_get(4)?)?,
        currency,
        amount: Money::from_minor(row.try_get(6)?, currency).amount,
        attachment: row.try_get(8)?,
    };
    let seq: i64 = row.try_get(9)?;
    let covered: i64 = row.try_get(10)?;
    let created_seq: i64 = row.try_get(11)?;
    Ok(InvoiceView {
        invoice,
        paid: Money::from_minor(row.try_get(7)?, currency).amount,
        changed: seq > since_seq,
        first_seen: created_seq > since_seq,
        dunning_covered: u32::try_from(covered).unwrap_or(0),
    })
}

/// An invoice as `json_array(id, number, issue_date, due_date, currency,
/// amount_minor, paid_minor, attachment, seq, dunning_covered, created_seq)`.
#[derive(serde::Deserialize)]
struct PackedInvoice(
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    i64,
    i64,
    i64,
);

impl PackedInvoice {
    fn into_view(self, customer: &CustomerId, since_seq: i64) -> Result<InvoiceView, StoreError> {
        let PackedInvoice(
            id,
            number,
            issue,
            due,
            currency,
            amount,
            paid,
            attachment,
            seq,
            covered,
            created_seq,
        ) = self;
        let currency = sql::currency(&currency)?;
        Ok(InvoiceView {
            invoice: Invoice {
                id: sql::invoice_id(&id)?,
                number,
                customer_id: customer.clone(),
                issue_date: sql::date(&issue)?,
                due_date: sql::date(&due)?,
                currency,
                amount: Money::from_minor(amount, currency).amount,
                attachment,
            },
            paid: Money::from_minor(paid, currency).amount,
            changed: seq > since_seq,
            first_seen: created_seq > since_seq,
            dunning_covered: u32::try_from(covered).unwrap_or(0),
        })
    }
}

pub(crate) const CUSTOMER_COLS: &str = "id, name, grp, locale, time_zone";

pub(crate) fn customer_row(row: &DbRow) -> Result<Customer, StoreError> {
    let locale: Option<&str> = row.try_get(3)?;
    let tz: Option<&str> = row.try_get(4)?;
    Ok(Customer {
        id: sql::customer_id(row.try_get(0)?)?,
        name: row.try_get(1)?,
        group: row.try_get(2)?,
        locale: locale.map(sql::locale).transpose()?,
        time_zone: tz
            .map(|t| {
                TimeZoneName::parse(t)
                    .map_err(|e| StoreError::Corrupt(format!("time zone '{t}': {e}")))
            })
            .transpose()?,
    })
}

pub(crate) const CONTACT_COLS: &str =
    "customer_id, role, name, email, phone, email_opt_in, sms_opt_in";

pub(crate) fn contact_row(row: &DbRow) -> Result<Contact, StoreError> {
    let email: Option<&str> = row.try_get(3)?;
    let phone: Option<&str> = row.try_get(4)?;
    Ok(Contact {
        customer_id: sql::customer_id(row.try_get(0)?)?,
        role: row.try_get(1)?,
        name: row.try_get(2)?,
        email: email
            .map(|e| {
                EmailAddress::parse(e)
                    .map_err(|err| StoreError::Corrupt(format!("e-mail '{e}': {err}")))
            })
            .transpose()?,
        phone: phone
            .map(|p| {
                PhoneNumber::parse(p)
                    .map_err(|err| StoreError::Corrupt(format!("phone '{p}': {err}")))
            })
            .transpose()?,
        email_opt_in: row.try_get(5)?,
        sms_opt_in: row.try_get(6)?,
    })
}

impl Backend {
    pub(crate) async fn upsert_customers(
        &self,
        rows: &[Customer],
    ) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.write().await?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let existing = existing_keys(
            &mut tx,
            "SELECT json_group_array(id) FROM customers WHERE id IN (SELECT value FROM json_each($1))",
            &ids,
        )
        .await?;
        let returned = upsert_rows(
            &mut tx,
            rows,
            "INSERT INTO customers (id, name, grp, locale, time_zone) VALUES ",
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, grp = excluded.grp, \
             locale = excluded.locale, time_zone = excluded.time_zone \
             WHERE customers.name IS DISTINCT FROM excluded.name OR customers.grp IS DISTINCT FROM excluded.grp \
             OR customers.locale IS DISTINCT FROM excluded.locale OR customers.time_zone IS DISTINCT FROM excluded.time_zone \
             RETURNING id",
            5,
            |q, c| {
                q.bind(c.id.as_str().to_owned())
                    .bind(c.name.clone())
                    .bind(c.group.clone())
                    .bind(c.locale.map(|l| l.as_str()))
                    .bind(c.time_zone.as_ref().map(|t| t.as_str().to_owned()))
            },
        )
        .await?;
        tx.commit().await?;
        Ok(classify(rows.len(), &returned, &existing))
    }

    pub(crate) async fn upsert_contacts(
        &self,
        rows: &[Contact],
    ) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.write().await?;
        let mut ids: Vec<&str> = rows.iter().map(|r| r.customer_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let existing = existing_keys(
            &mut tx,
            "SELECT json_group_array(customer_id || char(31) || role || char(31) || name) FROM contacts \
             WHERE customer_id IN (SELECT value FROM json_each($1))",
            &ids,
        )
        .await?;
        let returned = upsert_rows(
            &mut tx,
            rows,
            "INSERT INTO contacts (customer_id, role, name, email, phone, email_opt_in, sms_opt_in) VALUES ",
            " ON CONFLICT (customer_id, role, name) DO UPDATE SET email = excluded.email, phone = excluded.phone, \
             email_opt_in = excluded.email_opt_in, sms_opt_in = excluded.sms_opt_in \
             WHERE contacts.email IS DISTINCT FROM excluded.email OR contacts.phone IS DISTINCT FROM excluded.phone \
             OR contacts.email_opt_in IS DISTINCT FROM excluded.email_opt_in \
             OR contacts.sms_opt_in IS DISTINCT FROM excluded.sms_opt_in \
             RETURNING customer_id || char(31) || role || char(31) || name",
            7,
            |q, c| {
                q.bind(c.customer_id.as_str().to_owned())
                    .bind(c.role.clone())
                    .bind(c.name.clone())
                    .bind(c.email.as_ref().map(|e| e.as_str().to_owned()))
                    .bind(c.phone.as_ref().map(|p| p.as_str().to_owned()))
                    .bind(c.email_opt_in)
                    .bind(c.sms_opt_in)
            },
        )
        .await?;
        tx.commit().await?;
        Ok(classify(rows.len(), &returned, &existing))
    }

    pub(crate) async fn upsert_operators(
        &self,
        rows: &[Operator],
    ) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.write().await?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let existing = existing_keys(
            &mut tx,
            "SELECT json_group_array(id) FROM operators WHERE id IN (SELECT value FROM json_each($1))",
            &ids,
        )
        .await?;
        let returned = upsert_rows(
            &mut tx,
            rows,
            "INSERT INTO operators (id, name, email, phone, locale, roles) VALUES ",
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name, email = excluded.email, phone = excluded.phone, \
             locale = excluded.locale, roles = excluded.roles \
             WHERE operators.name IS DISTINCT FROM excluded.name OR operators.email IS DISTINCT FROM excluded.email \
             OR operators.phone IS DISTINCT FROM excluded.phone OR operators.locale IS DISTINCT FROM excluded.locale \
             OR operators.roles IS DISTINCT FROM excluded.roles \
             RETURNING id",
            6,
            |q, o| {
                q.bind(o.id.as_str().to_owned())
                    .bind(o.name.clone())
                    .bind(o.email.as_ref().map(|e| e.as_str().to_owned()))
                    .bind(o.phone.as_ref().map(|p| p.as_str().to_owned()))
                    .bind(o.locale.map(|l| l.as_str()))
                    .bind(json_list(&o.roles))
            },
        )
        .await?;
        tx.commit().await?;
        Ok(classify(rows.len(), &returned, &existing))
    }

    pub(crate) async fn upsert_events(&self, rows: &[Event]) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.write().await?;
        let seq = next_seq(&mut tx).await?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let existing = existing_keys(
            &mut tx,
            "SELECT json_group_array(id) FROM events WHERE id IN (SELECT value FROM json_each($1))",
            &ids,
        )
        .await?;
        let returned = upsert_rows(
            &mut tx,
            rows,
            "INSERT INTO events (id, type, customer_id, operator_id, subject, occurred_at, payload, attachment, seq) VALUES ",
            " ON CONFLICT (id) DO UPDATE SET type = excluded.type, customer_id = excluded.customer_id, \
             operator_id = excluded.operator_id, subject = excluded.subject, occurred_at = excluded.occurred_at, \
             payload = excluded.payload, attachment = excluded.attachment, seq = excluded.seq \
             WHERE events.type IS DISTINCT FROM excluded.type OR events.customer_id IS DISTINCT FROM excluded.customer_id \
             OR events.operator_id IS DISTINCT FROM excluded.operator_id OR events.subject IS DISTINCT FROM excluded.subject \
             OR events.occurred_at IS DISTINCT FROM excluded.occurred_at OR events.payload IS DISTINCT FROM excluded.payload \
             OR events.attachment IS DISTINCT FROM excluded.attachment \
             RETURNING id",
            9,
            |q, e| {
                q.bind(e.id.as_str().to_owned())
                    .bind(e.kind.clone())
                    .bind(e.customer_id.as_ref().map(|c| c.as_str().to_owned()))
                    .bind(e.operator_id.as_ref().map(|o| o.as_str().to_owned()))
                    .bind(e.subject.clone())
                    .bind(ms(e.occurred_at))
                    .bind(serde_json::Value::Object(e.payload.clone()).to_string())
                    .bind(e.attachment.clone())
                    .bind(seq)
            },
        )
        .await?;
        tx.commit().await?;
        Ok(classify(rows.len(), &returned, &existing))
    }

    pub(crate) async fn events_to_plan(
        &self,
        since_seq: i64,
        after: Timestamp,
        until: Timestamp,
        types: &[&str],
    ) -> Result<Vec<(Event, bool)>, StoreError> {
        let rows: Vec<StoredEvent> = query_as(
            "SELECT id, type AS kind, customer_id, operator_id, subject, occurred_at, payload, attachment, \
             (seq > $1) AS new FROM events WHERE seq > $1 AND type IN (SELECT value FROM json_each($4)) \
             UNION SELECT id, type AS kind, customer_id, operator_id, subject, occurred_at, payload, attachment, \
             (seq > $1) AS new FROM events WHERE occurred_at > $2 AND occurred_at <= $3 \
             AND type IN (SELECT value FROM json_each($4)) ORDER BY 6, 1",
        )
        .bind(since_seq)
        .bind(ms(after))
        .bind(ms(until))
        .bind(json_list(types))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let new = r.new;
                r.into_event().map(|e| (e, new))
            })
            .collect()
    }

    pub(crate) async fn activity(
        &self,
        event_type: &str,
        periods: &herald_core::digest::DigestPeriods,
    ) -> Result<HashMap<OperatorId, herald_core::message::ActivityCounts>, StoreError> {
        let from = [
            periods.period_from,
            periods.day_from,
            periods.week_from,
            periods.month_from,
        ]
        .into_iter()
        .min()
        .unwrap_or(periods.until);
        let rows: Vec<(String, i64, i64, i64, i64)> = query_as(
            "SELECT operator_id, COUNT(*) FILTER (WHERE occurred_at >= $3), COUNT(*) FILTER (WHERE occurred_at >= $4), \
             COUNT(*) FILTER (WHERE occurred_at >= $5), COUNT(*) FILTER (WHERE occurred_at >= $6) FROM events \
             WHERE type = $1 AND operator_id IS NOT NULL AND occurred_at >= $2 AND occurred_at < $7 \
             GROUP BY operator_id",
        )
        .bind(event_type)
        .bind(ms(from))
        .bind(ms(periods.period_from))
        .bind(ms(periods.day_from))
        .bind(ms(periods.week_from))
        .bind(ms(periods.month_from))
        .bind(ms(periods.until))
        .fetch_all(&self.pool)
        .await?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        rows.into_iter()
            .map(|(id, period, day, week, month)| {
                let id = OperatorId::parse(&id).map_err(|e| sql::corrupt("operator id", &id, e))?;
                Ok((
                    id,
                    herald_core::message::ActivityCounts {
                        period: count(period),
                        day: count(day),
                        week: count(week),
                        month: count(month),
                    },
                ))
            })
            .collect()
    }

    pub(crate) async fn events(
        &self,
        ids: &[EventId],
    ) -> Result<HashMap<EventId, Event>, StoreError> {
        let rows: Vec<StoredEvent> = query_as(
            "SELECT id, type AS kind, customer_id, operator_id, subject, occurred_at, payload, attachment, \
             false AS new FROM events WHERE id IN (SELECT value FROM json_each($1))",
        )
        .bind(json_list(ids))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| r.into_event().map(|e| (e.id.clone(), e)))
            .collect()
    }

    pub(crate) async fn recent_events(
        &self,
        kind: &str,
        customer: Option<&str>,
        subject: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Event>, StoreError> {
        let rows: Vec<StoredEvent> = query_as(
            "SELECT id, type AS kind, customer_id, operator_id, subject, occurred_at, payload, attachment, \
             false AS new FROM events WHERE type = $1 AND (CAST($2 AS TEXT) IS NULL OR customer_id = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR subject = $3) ORDER BY occurred_at DESC, id DESC LIMIT $4",
        )
        .bind(kind)
        .bind(customer)
        .bind(subject)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredEvent::into_event).collect()
    }

    pub(crate) async fn upsert_tasks(&self, rows: &[Task]) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.write().await?;
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let existing = existing_keys(
            &mut tx,
            "SELECT json_group_array(id) FROM tasks WHERE id IN (SELECT value FROM json_each($1))",
            &ids,
        )
        .await?;
        let returned = upsert_rows(
            &mut tx,
            rows,
            "INSERT INTO tasks (id, title, customer_id, operator_id, starts_at, time_zone, recurrence, template) VALUES ",
            " ON CONFLICT (id) DO UPDATE SET title = excluded.title, customer_id = excluded.customer_id, \
             operator_id = excluded.operator_id, starts_at = excluded.starts_at, time_zone = excluded.time_zone, \
             recurrence = excluded.recurrence, template = excluded.template \
             WHERE tasks.title IS DISTINCT FROM excluded.title OR tasks.customer_id IS DISTINCT FROM excluded.customer_id \
             OR tasks.operator_id IS DISTINCT FROM excluded.operator_id OR tasks.starts_at IS DISTINCT FROM excluded.starts_at \
             OR tasks.time_zone IS DISTINCT FROM excluded.time_zone OR tasks.recurrence IS DISTINCT FROM excluded.recurrence \
             OR tasks.template IS DISTINCT FROM excluded.template \
             RETURNING id",
            8,
            |q, t| {
                q.bind(t.id.as_str().to_owned())
                    .bind(t.title.clone())
                    .bind(t.customer_id.as_str().to_owned())
                    .bind(t.operator_id.as_ref().map(|o| o.as_str().to_owned()))
                    .bind(t.starts_at.strftime("%Y-%m-%dT%H:%M:%S").to_string())
                    .bind(t.time_zone.as_ref().map(|z| z.as_str().to_owned()))
                    .bind(t.recurrence_text.clone())
                    .bind(t.template.clone())
            },
        )
        .await?;
        tx.commit().await?;
        Ok(classify(rows.len(), &returned, &existing))
    }

    pub(crate) async fn tasks_of(&self, customer: &CustomerId) -> Result<Vec<Task>, StoreError> {
        let rows: Vec<StoredTask> = query_as(
            "SELECT id, title, customer_id, operator_id, starts_at, time_zone, recurrence, template \
             FROM tasks WHERE customer_id = $1 ORDER BY id",
        )
        .bind(customer.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredTask::into_task).collect()
    }

    pub(crate) async fn upsert_relations(
        &self,
        rows: &[Relation],
    ) -> Result<UpsertCounts, StoreError> {
        let mut tx = self.write().await?;
        let mut inserted = 0u64;
        // Few rows (one per customer and role): a JSON statement per thousand.
        for chunk in rows.chunks(1000) {
            let list: Vec<(&str, &str, &str)> = chunk
                .iter()
                .map(|r| {
                    (
                        r.customer_id.as_str(),
                        r.relation.as_str(),
                        r.operator_id.as_str(),
                    )
                })
                .collect();
            let done = query(
                "INSERT INTO relations (customer_id, relation, operator_id) \
                 SELECT value->>0, value->>1, value->>2 FROM json_each($1) WHERE true \
                 ON CONFLICT DO NOTHING",
            )
            .bind(json_list(&list))
            .execute(&mut *tx)
            .await?;
            inserted += done.rows_affected();
        }
        tx.commit().await?;
        Ok(UpsertCounts {
            inserted,
            updated: 0,
            unchanged: rows.len() as u64 - inserted,
        })
    }

    pub(crate) async fn relations_of(
        &self,
        customer: &CustomerId,
    ) -> Result<Vec<Relation>, StoreError> {
        let rows: Vec<(String, String, String)> = query_as(
            "SELECT customer_id, operator_id, relation FROM relations WHERE customer_id = $1 \
             ORDER BY relation, operator_id",
        )
        .bind(customer.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(c, o, r)| {
                Ok(Relation {
                    customer_id: sql::customer_id(&c)?,
                    operator_id: OperatorId::parse(&o)
                        .map_err(|e| StoreError::Corrupt(format!("relation of {c}: {}", e.0)))?,
                    relation: r,
                })
            })
            .collect()
    }

    pub(crate) async fn all_operator_ids(&self) -> Result<HashSet<OperatorId>, StoreError> {
        let ids: Vec<String> = query_scalar("SELECT id FROM operators")
            .fetch_all(&self.pool)
            .await?;
        ids.iter()
            .map(|id| {
                OperatorId::parse(id)
                    .map_err(|e| StoreError::Corrupt(format!("operator id '{id}': {}", e.0)))
            })
            .collect()
    }

    pub(crate) async fn upsert_invoices(
        &self,
        rows: &[Invoice],
    ) -> Result<UpsertCounts, StoreError> {
        if rows.is_empty() {
            return Ok(UpsertCounts::default());
        }
        let t0 = std::time::Instant::now();
        let mut tx = self.write().await?;
        let seq = next_seq(&mut tx).await?;
        let empty_before: bool = query_scalar("SELECT NOT EXISTS (SELECT 1 FROM invoices)")
            .fetch_one(&mut *tx)
            .await?;
        let rebuilt = if empty_before {
            drop_indexes_for_bulk(&mut tx, "invoices", rows.len()).await?
        } else {
            Vec::new()
        };
        let (mut existing, mut affected) = (0u64, 0u64);
        // Bulk path: each chunk travels as ONE JSON parameter that SQLite unpacks
        // itself. Binding nine values per row through sqlx copied every text value
        // and cost more than the inserts (perf: a quarter of the time in malloc).
        // In key order, so the rows go in at the end of the table rather than
        // all over it (a first import: the whole file, appended).
        tracing::trace!(elapsed = ?t0.elapsed(), "upsert_invoices: indexes dropped");
        let sorted = in_key_order(rows);
        tracing::trace!(elapsed = ?t0.elapsed(), "upsert_invoices: sorted");
        // With the id index dropped there is nothing to conflict on: the table was
        // empty and the batch's ids are unique, which building the index checks.
        let insert = if rebuilt.is_empty() {
            UPSERT_INVOICES
        } else {
            "INSERT INTO invoices (id, number, customer_id, issue_date, due_date, currency, amount_minor, attachment, seq, created_seq) \
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), \
             json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]'), \
             CAST(json_extract(value, '$[6]') AS BIGINT), json_extract(value, '$[7]'), $2, $2 FROM json_each($1)"
        };
        let mut chunks = sorted.chunks(10_000);
        let mut next_json = chunks.next().map(|c| (c, invoices_json(c)));
        while let Some((chunk, json)) = next_json.take() {
            // A first import knows every row is new; otherwise count what exists,
            // and mark the customers that invoices move away from as changed.
            let mut known: i64 = 0;
            if !empty_before {
                known = query_scalar(
                    "SELECT COUNT(*) FROM invoices WHERE id IN (SELECT value ->> 0 FROM json_each($1))",
                )
                .bind(&json)
                .fetch_one(&mut *tx)
                .await?;
                existing += known as u64;
            }
            // Only an invoice herald has can move to another customer.
            if known > 0 {
                // Invoices moving to another customer: (old customer, id, new customer).
                let moved: String = query_scalar(
                    "SELECT json_group_array(json_array(i.customer_id, i.id, j.value ->> 2)) \
                     FROM json_each($1) j JOIN invoices i ON i.id = j.value ->> 0 \
                     WHERE i.customer_id IS DISTINCT FROM j.value ->> 2",
                )
                .bind(&json)
                .fetch_one(&mut *tx)
                .await?;
                if moved != "[]" {
                    // The customer left behind is looked at again, and the invoice
                    // keeps its place on the dunning ladder: no level twice.
                    query(
                        "INSERT OR IGNORE INTO customer_changes (seq, customer_id) \
                         SELECT $2, value ->> 0 FROM json_each($1)",
                    )
                    .bind(&moved)
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
                    query(
                        "UPDATE dunning_progress SET customer_id = j.value ->> 2 FROM json_each($1) AS j \
                         WHERE dunning_progress.customer_id = j.value ->> 0 AND dunning_progress.invoice_id = j.value ->> 1",
                    )
                    .bind(&moved)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            // SQLite inserts this chunk on its own thread while ours writes the
            // next one's JSON: on two cores the two take turns no more.
            let (done, following) = tokio::join!(
                query(insert).bind(&json).bind(seq).execute(&mut *tx),
                async { chunks.next().map(|c| (c, invoices_json(c))) }
            );
            let done = done?;
            next_json = following;
            affected += done.rows_affected();
            if known == 0 && !empty_before {
                // Every row of the chunk was new: each of its customers changed
                // (the rows are in customer order, so dedup names each once).
                let mut customers: Vec<&str> =
                    chunk.iter().map(|i| i.customer_id.as_str()).collect();
                customers.dedup();
                mark_customers_changed(&mut tx, &customers, seq).await?;
            } else if !empty_before {
                // The customers whose invoices this chunk changed (those rows now
                // carry this seq; unchanged ones kept theirs).
                query(
                    "INSERT OR IGNORE INTO customer_changes (seq, customer_id) \
                     SELECT $2, i.customer_id FROM json_each($1) j JOIN invoices i ON i.id = j.value ->> 0 WHERE i.seq = $2",
                )
                .bind(&json)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            }
        }
        if empty_before {
            // Every row is new: every customer of the batch changed, each named once.
            let mut customers: Vec<&str> = sorted.iter().map(|i| i.customer_id.as_str()).collect();
            customers.dedup();
            mark_customers_changed(&mut tx, &customers, seq).await?;
        }
        tracing::trace!(elapsed = ?t0.elapsed(), "upsert_invoices: all written");
        for ddl in &rebuilt {
            dynamic(ddl.clone()).execute(&mut *tx).await?;
        }
        tracing::trace!(elapsed = ?t0.elapsed(), "upsert_invoices: indexes built");
        tx.commit().await?;
        tracing::trace!(elapsed = ?t0.elapsed(), "upsert_invoices: committed");
        // A row that changed nothing is not counted by SQLite; every new row is.
        let inserted = rows.len() as u64 - existing;
        Ok(UpsertCounts {
            inserted,
            updated: affected.saturating_sub(inserted),
            unchanged: existing.saturating_sub(affected.saturating_sub(inserted)),
        })
    }

    pub(crate) async fn upsert_payments(
        &self,
        rows: &[Payment],
    ) -> Result<UpsertCounts, StoreError> {
        if rows.is_empty() {
            return Ok(UpsertCounts::default());
        }
        let t0 = std::time::Instant::now();
        let mut tx = self.write().await?;
        // A payment named twice counts once, as its last row says.
        let mut last: HashMap<&str, usize> = HashMap::with_capacity(rows.len());
        for (i, p) in rows.iter().enumerate() {
            last.insert(p.id.as_str(), i);
        }
        let rows: Vec<&Payment> = rows
            .iter()
            .enumerate()
            .filter(|(i, p)| last[p.id.as_str()] == *i)
            .map(|(_, p)| p)
            .collect();
        let empty_before: bool = query_scalar("SELECT NOT EXISTS (SELECT 1 FROM payments)")
            .fetch_one(&mut *tx)
            .await?;
        // The stored form of every payment of the batch that exists already: moving
        // a payment to another invoice changes both invoices.
        let before: HashMap<String, StoredPayment> = if empty_before {
            HashMap::new()
        } else {
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            exec::json_rows::<_, StoredPayment>(
                &mut tx,
                "SELECT json_group_array(json_array(id, invoice_id, date, amount_minor)) FROM payments \
                 WHERE id IN (SELECT value FROM json_each($1))",
                &ids,
            )
            .await?
            .into_iter()
            .map(|p| (p.0.clone(), p))
            .collect()
        };
        // Every invoice involved, with its customer (the table's key) and currency.
        let mut invoice_ids: Vec<&str> = rows
            .iter()
            .map(|r| r.invoice_id.as_str())
            .chain(before.values().map(|p| p.1.as_str()))
            .collect();
        invoice_ids.sort_unstable();
        invoice_ids.dedup();
        let invoices: HashMap<String, (String, String)> =
            exec::json_rows::<_, (String, String, String)>(
                &mut tx,
                "SELECT json_group_array(json_array(id, customer_id, currency)) FROM invoices \
                 WHERE id IN (SELECT value FROM json_each($1))",
                &invoice_ids,
            )
            .await?
            .into_iter()
            .map(|(id, customer, currency)| (id, (customer, currency)))
            .collect();
        tracing::trace!(elapsed = ?t0.elapsed(), "upsert_payments: stored rows read");
        // Borrowing the ids from the batch: a million owned copies were 100 MB.
        let mut stored_rows: Vec<NewPayment<'_>> = Vec::with_capacity(rows.len());
        for p in &rows {
            let Some((_, code)) = invoices.get(p.invoice_id.as_str()) else {
                return Err(StoreError::UnknownInvoice {
                    payment: p.id.to_string(),
                    invoice: p.invoice_id.to_string(),
                });
            };
            let currency = sql::currency(code)?;
            stored_rows.push(NewPayment(
                p.id.as_str(),
                p.invoice_id.as_str(),
                date_text(p.date),
                Money::new(p.amount, currency).to_minor(),
            ));
        }
        // What each invoice's paid amount moves by. Kept as a running sum rather
        // than summed again from the payments table: that read every payment of
        // every touched invoice back, at random places.
        let mut counts = UpsertCounts::default();
        let mut delta: HashMap<&str, i64> = HashMap::new();
        let mut to_write: Vec<&NewPayment<'_>> = Vec::new();
        for p in &stored_rows {
            match before.get(p.0) {
                None => counts.inserted += 1,
                Some(old) if old.1 == p.1 && old.2 == p.2 && old.3 == p.3 => {
                    counts.unchanged += 1;
                    continue;
                }
                Some(old) => {
                    counts.updated += 1;
                    *delta.entry(&old.1).or_default() -= old.3;
                }
            }
            *delta.entry(p.1).or_default() += p.3;
            to_write.push(p);
        }
        let rebuilt = if empty_before {
            drop_indexes_for_bulk(&mut tx, "payments", to_write.len()).await?
        } else {
            Vec::new()
        };
        for chunk in to_write.chunks(10_000) {
            query(
                "INSERT INTO payments (id, invoice_id, date, amount_minor) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, CAST(value ->> 3 AS BIGINT) FROM json_each($1) WHERE true \
                 ON CONFLICT (id) DO UPDATE SET invoice_id = excluded.invoice_id, date = excluded.date, \
                 amount_minor = excluded.amount_minor",
            )
            .bind(json_list(chunk))
            .execute(&mut *tx)
            .await?;
        }
        for ddl in &rebuilt {
            dynamic(ddl.clone()).execute(&mut *tx).await?;
        }
        tracing::trace!(elapsed = ?t0.elapsed(), rows = to_write.len(), "upsert_payments: written");
        // In the invoices table's key order, so the updates walk it front to back.
        let mut changes: Vec<(&str, &str, i64)> = delta
            .into_iter()
            .filter_map(|(inv, d)| invoices.get(inv).map(|(c, _)| (c.as_str(), inv, d)))
            .collect();
        changes.sort_unstable();
        if !changes.is_empty() {
            let seq = next_seq(&mut tx).await?;
            for chunk in changes.chunks(10_000) {
                query(
                    "UPDATE invoices SET seq = $2, paid_minor = paid_minor + CAST(j.value ->> 2 AS BIGINT) \
                     FROM json_each($1) AS j \
                     WHERE invoices.customer_id = j.value ->> 0 AND invoices.id = j.value ->> 1",
                )
                .bind(json_list(chunk))
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            }
            let mut customers: Vec<&str> = changes.iter().map(|c| c.0).collect();
            customers.dedup();
            mark_customers_changed(&mut tx, &customers, seq).await?;
        }
        tracing::trace!(elapsed = ?t0.elapsed(), invoices = changes.len(), "upsert_payments: balances");
        tx.commit().await?;
        Ok(counts)
    }

    pub(crate) async fn existing_customers(
        &self,
        ids: &[CustomerId],
    ) -> Result<HashSet<CustomerId>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let found: Vec<String> = exec::json_rows(
            &mut conn,
            "SELECT json_group_array(id) FROM customers WHERE id IN (SELECT value FROM json_each($1))",
            ids,
        )
        .await?;
        found.iter().map(|id| sql::customer_id(id)).collect()
    }

    pub(crate) async fn all_customer_ids(
        &self,
        limit: u64,
    ) -> Result<Option<HashSet<CustomerId>>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let count: i64 = query_scalar("SELECT COUNT(*) FROM customers")
            .fetch_one(&mut *conn)
            .await?;
        if count as u64 > limit {
            return Ok(None);
        }
        let text: String = query_scalar("SELECT json_group_array(id) FROM customers")
            .fetch_one(&mut *conn)
            .await?;
        let ids: Vec<String> = serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("customer ids do not read back: {e}")))?;
        ids.iter()
            .map(|id| sql::customer_id(id))
            .collect::<Result<_, _>>()
            .map(Some)
    }

    pub(crate) async fn invoice_balances(
        &self,
        ids: &[InvoiceId],
    ) -> Result<HashMap<InvoiceId, InvoiceBalance>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<StoredBalance> = exec::json_rows(
            &mut conn,
            pick!(
                "SELECT json_group_array(json_array(i.id, i.customer_id, i.currency, i.amount_minor, i.paid_minor, \
                 json((SELECT json_group_array(json_array(p.id, p.amount_minor)) FROM payments p WHERE p.invoice_id = i.id)))) \
                 FROM invoices i WHERE i.id IN (SELECT value FROM json_each($1))",
                "SELECT json_agg(json_build_array(i.id, i.customer_id, i.currency, i.amount_minor, i.paid_minor, \
                 COALESCE((SELECT json_agg(json_build_array(p.id, p.amount_minor)) FROM payments p \
                 WHERE p.invoice_id = i.id), '[]'::json)))::text \
                 FROM invoices i WHERE i.id IN (SELECT value FROM json_array_elements_text($1::json))",
            ),
            ids,
        )
        .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for (id, customer_id, currency, amount, paid, payments) in rows {
            let currency = sql::currency(&currency)?;
            let payments = payments
                .into_iter()
                .map(|(pid, minor)| {
                    Ok((
                        sql::payment_id(&pid)?,
                        Money::from_minor(minor, currency).amount,
                    ))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let mut payments = payments;
            payments.sort_by(|a, b| a.0.cmp(&b.0));
            out.insert(
                sql::invoice_id(&id)?,
                InvoiceBalance {
                    customer_id: sql::customer_id(&customer_id)?,
                    currency,
                    amount: Money::from_minor(amount, currency).amount,
                    paid: Money::from_minor(paid, currency).amount,
                    payments,
                },
            );
        }
        Ok(out)
    }

    pub(crate) async fn customer(
        &self,
        id: &CustomerId,
    ) -> Result<Option<(Customer, Vec<Contact>)>, StoreError> {
        let mut books = self.books(std::slice::from_ref(id), None).await?;
        Ok(books.pop().map(|b| (b.customer, b.contacts)))
    }

    pub(crate) async fn contact_books(
        &self,
        ids: &[CustomerId],
    ) -> Result<HashMap<CustomerId, CustomerBook>, StoreError> {
        Ok(self
            .books(ids, None)
            .await?
            .into_iter()
            .map(|b| (b.customer.id.clone(), b))
            .collect())
    }

    pub(crate) async fn operators(&self) -> Result<HashMap<OperatorId, Operator>, StoreError> {
        let rows: Vec<StoredOperator> =
            query_as("SELECT id, name, email, phone, locale, roles FROM operators")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|row| {
                let o = operator_from_row(row)?;
                Ok((o.id.clone(), o))
            })
            .collect()
    }

    pub(crate) async fn all_tasks(&self) -> Result<Vec<Task>, StoreError> {
        let rows: Vec<StoredTask> = query_as(
            "SELECT id, title, customer_id, operator_id, starts_at, time_zone, recurrence, template \
             FROM tasks ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StoredTask::into_task).collect()
    }

    pub(crate) async fn tasks(&self, ids: &[TaskId]) -> Result<HashMap<TaskId, Task>, StoreError> {
        let rows: Vec<StoredTask> = query_as(
            "SELECT id, title, customer_id, operator_id, starts_at, time_zone, recurrence, template \
             FROM tasks WHERE id IN (SELECT value FROM json_each($1))",
        )
        .bind(json_list(ids))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| r.into_task().map(|t| (t.id.clone(), t)))
            .collect()
    }

    pub(crate) async fn customers(
        &self,
        ids: &[CustomerId],
    ) -> Result<HashMap<CustomerId, Customer>, StoreError> {
        Ok(self
            .books(ids, None)
            .await?
            .into_iter()
            .map(|b| (b.customer.id.clone(), b.customer))
            .collect())
    }

    pub(crate) async fn invoice(&self, id: &InvoiceId) -> Result<Option<InvoiceView>, StoreError> {
        Ok(self.invoices(std::slice::from_ref(id)).await?.pop())
    }

    pub(crate) async fn invoices(&self, ids: &[InvoiceId]) -> Result<Vec<InvoiceView>, StoreError> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(10_000) {
            let rows = dynamic(format!(
                "SELECT {INVOICE_COLS} FROM invoices WHERE id IN (SELECT value FROM json_each($1))"
            ))
            .bind(json_list(chunk))
            .fetch_all(&self.pool)
            .await?;
            for row in rows {
                let v = invoice_view(&row, i64::MAX)?;
                found.insert(v.invoice.id.clone(), v);
            }
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    pub(crate) async fn counts(&self) -> Result<RecordCounts, StoreError> {
        let row = query(
            "SELECT (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM contacts), \
             (SELECT COUNT(*) FROM operators), (SELECT COUNT(*) FROM invoices), (SELECT COUNT(*) FROM payments)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(RecordCounts {
            customers: row.try_get(0)?,
            contacts: row.try_get(1)?,
            operators: row.try_get(2)?,
            invoices: row.try_get(3)?,
            payments: row.try_get(4)?,
        })
    }

    pub(crate) async fn customers_with_reminded_debt(&self) -> Result<Vec<CustomerId>, StoreError> {
        let ids: Vec<String> = query_scalar(
            "SELECT DISTINCT p.customer_id FROM dunning_progress p \
             JOIN invoices i ON i.customer_id = p.customer_id AND i.id = p.invoice_id \
             WHERE p.covered > 0 AND i.paid_minor < i.amount_minor ORDER BY p.customer_id",
        )
        .fetch_all(&self.pool)
        .await?;
        ids.iter().map(|id| sql::customer_id(id)).collect()
    }

    pub(crate) async fn books_with_open_invoices(
        &self,
        customers: &[CustomerId],
    ) -> Result<Vec<CustomerBook>, StoreError> {
        let open = InvoiceFilter {
            sql: "paid_minor < amount_minor".into(),
            params: Vec::new(),
            since_seq: i64::MAX,
        };
        self.books(customers, Some(open)).await
    }

    pub(crate) async fn book(&self, id: &CustomerId) -> Result<Option<CustomerBook>, StoreError> {
        let all = InvoiceFilter {
            sql: "1 = 1".into(),
            params: Vec::new(),
            since_seq: i64::MAX,
        };
        Ok(self.books(std::slice::from_ref(id), Some(all)).await?.pop())
    }

    /// Customers with their contacts, in the order asked; with `invoices`, also the
    /// invoices that filter selects.
    pub(crate) async fn books(
        &self,
        customers: &[CustomerId],
        invoices: Option<InvoiceFilter>,
    ) -> Result<Vec<CustomerBook>, StoreError> {
        if customers.is_empty() {
            return Ok(Vec::new());
        }
        let list = json_list(customers);
        // One read transaction: customers, contacts and invoices from one snapshot.
        let mut tx = self.pool.begin().await?;
        let rows = dynamic(format!(
            "SELECT {CUSTOMER_COLS} FROM customers WHERE id IN (SELECT value FROM json_each($1))"
        ))
        .bind(&list)
        .fetch_all(&mut *tx)
        .await?;
        let mut index: HashMap<CustomerId, usize> = HashMap::with_capacity(rows.len());
        let mut books: Vec<CustomerBook> = Vec::with_capacity(rows.len());
        for row in &rows {
            let customer = customer_row(row)?;
            index.insert(customer.id.clone(), books.len());
            books.push(CustomerBook {
                customer,
                contacts: Vec::new(),
                invoices: Vec::new(),
                related: Vec::new(),
            });
        }
        drop(rows);
        let rows = dynamic(format!(
            "SELECT {CONTACT_COLS} FROM contacts WHERE customer_id IN (SELECT value FROM json_each($1)) \
             ORDER BY customer_id, role, name"
        ))
        .bind(&list)
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let c = contact_row(row)?;
            if let Some(&i) = index.get(&c.customer_id) {
                books[i].contacts.push(c);
            }
        }
        drop(rows);
        let related: Vec<RelatedRow> =
            query_as(
                "SELECT r.customer_id, r.relation, o.id, o.name, o.email, o.phone, o.locale, o.roles \
                 FROM relations r JOIN operators o ON o.id = r.operator_id \
                 WHERE r.customer_id IN (SELECT value FROM json_each($1)) ORDER BY r.customer_id, r.relation, o.id",
            )
            .bind(&list)
            .fetch_all(&mut *tx)
            .await?;
        for (customer, relation, id, name, email, phone, locale, roles) in related {
            let Some(&i) = index.get(&sql::customer_id(&customer)?) else {
                continue;
            };
            let operator = operator_from_row((id, name, email, phone, locale, roles))?;
            books[i]
                .related
                .push(herald_core::planner::RelatedOperator { relation, operator });
        }
        if let Some(filter) = invoices {
            // One row per customer with its invoices as JSON: sqlx copies every
            // column of every row it hands over, which made a row per invoice the
            // planner's most expensive step.
            let q = dynamic(format!(
                "SELECT customer_id, json_group_array(json_array(id, number, issue_date, due_date, currency, \
                 amount_minor, paid_minor, attachment, seq, \
                 COALESCE((SELECT p.covered FROM dunning_progress p WHERE p.customer_id = invoices.customer_id AND p.invoice_id = invoices.id), 0), created_seq)) \
                 FROM invoices WHERE customer_id IN (SELECT value FROM json_each($1)) AND ({}) \
                 GROUP BY customer_id",
                filter.sql
            ))
            .bind(&list);
            let rows = bind_all(q, &filter.params).fetch_all(&mut *tx).await?;
            for row in &rows {
                let customer = sql::customer_id(row.try_get(0)?)?;
                let Some(&i) = index.get(&customer) else {
                    continue;
                };
                let json: &str = row.try_get(1)?;
                let list: Vec<PackedInvoice> = serde_json::from_str(json)
                    .map_err(|e| StoreError::Corrupt(format!("invoices of {customer}: {e}")))?;
                let book = &mut books[i];
                book.invoices.reserve(list.len());
                for p in list {
                    book.invoices
                        .push(p.into_view(&customer, filter.since_seq)?);
                }
            }
        }
        tx.commit().await?;
        // Sorted here rather than in SQL: a sort per book is cheaper than SQLite's
        // temporary b-tree over the whole chunk.
        for b in &mut books {
            b.invoices.sort_unstable_by(|x, y| {
                (x.invoice.due_date, &x.invoice.id).cmp(&(y.invoice.due_date, &y.invoice.id))
            });
        }
        let mut ordered = Vec::with_capacity(books.len());
        let mut slots: Vec<Option<CustomerBook>> = books.into_iter().map(Some).collect();
        for id in customers {
            if let Some(b) = index.get(id).and_then(|&i| slots[i].take()) {
                ordered.push(b);
            }
        }
        Ok(ordered)
    }
}
