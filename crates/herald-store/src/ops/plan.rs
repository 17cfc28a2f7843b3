//! Planning: which customers a run must look at, their books, and recording what
//! the planner decided (invariants 1 and 2).

use std::collections::{HashMap, HashSet};
use std::fmt::Write;

use herald_core::CustomerId;
use herald_core::planner::{CustomerBook, PlannedNotification, Verdict, Window};
use jiff::Timestamp;
use sqlx::Row;

use super::exec::{self, bind_all, dynamic, query, query_scalar};
use super::records::InvoiceFilter;
use super::{Backend, Conn, DbRow};
use crate::error::StoreError;
use crate::sql::{self, Param, date_text, json_list, ms};
use crate::types::{CandidateQuery, PlannerState, RecordStats, RunRow, RunStats};

/// The invoice conditions of a candidate query (to be OR-ed), their parameters
/// numbered from `first`, and the values to bind in order.
fn candidate_filter(q: &CandidateQuery, first: usize, open: bool) -> (Vec<String>, Vec<Param>) {
    let mut n = first;
    let mut params = Vec::new();
    let mut terms = Vec::new();
    let mut p = |v: Param, params: &mut Vec<Param>| {
        params.push(v);
        let s = format!("${n}");
        n += 1;
        s
    };
    if open {
        // Every open invoice: a dunning letter lists the whole debt.
        terms.push("paid_minor < amount_minor".to_owned());
        terms.push(format!("seq > {}", p(Param::Int(q.since_seq), &mut params)));
    } else if q.since_seq == 0 {
        // No run has finished yet, so every invoice is changed and every customer
        // with one is found through `customer_changes`: the date ranges, which reach
        // back to the first invoice ever, would only find the same customers again.
        return (terms, params);
    }
    if let Some((from, to)) = q.issue_dates {
        let a = p(Param::Text(date_text(from)), &mut params);
        let b = p(Param::Text(date_text(to)), &mut params);
        terms.push(format!("issue_date BETWEEN {a} AND {b}"));
    }
    for range in &q.due_dates {
        if open && range.open_only {
            continue; // a book has every open invoice already
        }
        let a = p(Param::Text(date_text(range.from)), &mut params);
        let b = p(Param::Text(date_text(range.to)), &mut params);
        terms.push(if range.open_only {
            format!("(paid_minor < amount_minor AND due_date BETWEEN {a} AND {b})")
        } else {
            format!("due_date BETWEEN {a} AND {b}")
        });
    }
    if !open && let Some(last) = q.dunning_due_on_or_before {
        // Open invoices whose first dunning step falls in the window (none yet)…
        let b = p(Param::Text(date_text(last)), &mut params);
        let range = match q.dunning_first_from {
            Some(from) => format!(
                "due_date BETWEEN {} AND {b}",
                p(Param::Text(date_text(from)), &mut params)
            ),
            None => format!("due_date <= {b}"),
        };
        terms.push(format!(
            "(paid_minor < amount_minor AND {range} \
             AND NOT EXISTS (SELECT 1 FROM dunning_progress p \
             WHERE p.customer_id = invoices.customer_id AND p.invoice_id = invoices.id))"
        ));
        // …and those whose next step is due.
        let t = p(Param::Text(date_text(q.today)), &mut params);
        terms.push(format!(
            "((customer_id, id) IN (SELECT customer_id, invoice_id FROM dunning_progress WHERE next_on <= {t}) \
             AND paid_minor < amount_minor)"
        ));
    }
    (terms, params)
}

const RUN_COLS: &str = "id, started_at, now, window_after, window_until, since_seq, max_seq, books, planned, inserted, existing, finished_at";

pub(crate) fn run_row(row: &DbRow) -> Result<RunRow, StoreError> {
    Ok(RunRow {
        id: row.try_get(0)?,
        started_at: sql::ts(row.try_get(1)?)?,
        now: sql::ts(row.try_get(2)?)?,
        window_after: sql::opt_ts(row.try_get(3)?)?,
        window_until: sql::ts(row.try_get(4)?)?,
        since_seq: row.try_get(5)?,
        max_seq: row.try_get(6)?,
        books: row.try_get(7)?,
        planned: row.try_get(8)?,
        inserted: row.try_get(9)?,
        existing: row.try_get(10)?,
        finished_at: sql::opt_ts(row.try_get(11)?)?,
    })
}

pub(crate) async fn last_run(conn: &mut Conn) -> Result<Option<RunRow>, StoreError> {
    let row = dynamic(format!(
        "SELECT {RUN_COLS} FROM planner_runs ORDER BY id DESC LIMIT 1"
    ))
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(run_row).transpose()
}

pub(crate) async fn planner_state(conn: &mut Conn) -> Result<PlannerState, StoreError> {
    let rows = query("SELECT key, value FROM meta")
        .fetch_all(&mut *conn)
        .await?;
    let mut st = PlannerState {
        watermark: None,
        last_seq: 0,
        max_seq: 0,
    };
    for row in rows {
        let key: &str = row.try_get(0)?;
        let value: i64 = row.try_get(1)?;
        match key {
            "watermark" => st.watermark = Some(sql::ts(value)?),
            "last_seq" => st.last_seq = value,
            "seq" => st.max_seq = value,
            _ => {}
        }
    }
    Ok(st)
}

/// One dunning letter's effect on an invoice, merged over the steps it covers.
struct Coverage {
    covered: u32,
    next_on: String,
}

impl Backend {
    pub(crate) async fn planner_state(&self) -> Result<PlannerState, StoreError> {
        let mut conn = self.pool.acquire().await?;
        planner_state(&mut conn).await
    }

    pub(crate) async fn candidate_customers(
        &self,
        q: &CandidateQuery,
    ) -> Result<Vec<CustomerId>, StoreError> {
        let (terms, mut params) = candidate_filter(q, 2, false);
        params.insert(0, Param::Int(q.since_seq));
        let sql = terms.iter().fold(
            "SELECT customer_id FROM customer_changes WHERE seq > $1".to_owned(),
            |mut s, term| {
                let _ = write!(
                    s,
                    " UNION ALL SELECT customer_id FROM invoices WHERE {term}"
                );
                s
            },
        );
        // Each branch walks its own covering index over its range only. Written as
        // DISTINCT over UNION ALL because SQLite plans a plain UNION (or a DISTINCT
        // branch) as a scan of the whole customer index.
        let rows = bind_all(
            dynamic(format!(
                "SELECT DISTINCT customer_id FROM ({sql}) AS changed ORDER BY 1"
            )),
            &params,
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| sql::customer_id(r.try_get(0)?))
            .collect()
    }

    pub(crate) async fn load_books(
        &self,
        customers: &[CustomerId],
        q: &CandidateQuery,
    ) -> Result<Vec<CustomerBook>, StoreError> {
        let (terms, params) = candidate_filter(q, 2, true);
        let filter = InvoiceFilter {
            sql: terms.join(" OR "),
            params,
            since_seq: q.since_seq,
        };
        self.books(customers, Some(filter)).await
    }

    pub(crate) async fn existing_keys(
        &self,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let mut conn = self.pool.acquire().await?;
        super::records::existing_keys(
            &mut conn,
            "SELECT json_group_array(dedupe_key) FROM notifications WHERE dedupe_key IN (SELECT value FROM json_each($1))",
            &keys,
        )
        .await
    }

    pub(crate) async fn begin_run(
        &self,
        now: Timestamp,
        window: Window,
        since_seq: i64,
        max_seq: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id: i64 = query_scalar(
            "INSERT INTO planner_runs (started_at, now, window_after, window_until, since_seq, max_seq) \
             VALUES ($1, $1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(ms(now))
        .bind(window.after.map(ms))
        .bind(ms(window.until))
        .bind(since_seq)
        .bind(max_seq)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn finish_run(
        &self,
        run_id: i64,
        finished_at: Timestamp,
        stats: RunStats,
        advance_watermark_to: Option<Timestamp>,
        last_seq: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        query(
            "UPDATE planner_runs SET finished_at = $1, books = $2, planned = $3, inserted = $4, existing = $5 WHERE id = $6",
        )
        .bind(ms(finished_at))
        .bind(stats.books as i64)
        .bind(stats.planned as i64)
        .bind(stats.inserted as i64)
        .bind(stats.existing as i64)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        let raise = "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE \
                     SET value = CASE WHEN excluded.value > meta.value THEN excluded.value ELSE meta.value END";
        if let Some(w) = advance_watermark_to {
            query(raise)
                .bind("watermark")
                .bind(ms(w))
                .execute(&mut *tx)
                .await?;
        }
        query(raise)
            .bind("last_seq")
            .bind(last_seq)
            .execute(&mut *tx)
            .await?;
        // What every run from now on has seen already: from the front of the log,
        // so the pages freed are whole ones.
        query(
            "DELETE FROM customer_changes WHERE seq <= (SELECT value FROM meta WHERE key = 'last_seq')",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn record_plan(
        &self,
        run_id: i64,
        planned_at: Timestamp,
        notes: &[PlannedNotification],
    ) -> Result<RecordStats, StoreError> {
        self.record_plan_due_from(run_id, planned_at, None, notes)
            .await
    }

    pub(crate) async fn record_plan_due_from(
        &self,
        run_id: i64,
        planned_at: Timestamp,
        due_from: Option<Timestamp>,
        notes: &[PlannedNotification],
    ) -> Result<RecordStats, StoreError> {
        if notes.is_empty() {
            return Ok(RecordStats::default());
        }
        let t0 = std::time::Instant::now();
        let mut tx = self.write().await?;
        tracing::trace!(elapsed = ?t0.elapsed(), "record_plan: write lock");

        // A letter is stored only if every invoice it covers still has the
        // coverage it was planned from: under the write lock nobody else can
        // change it until commit, so no dunning step is ever covered twice.
        let covered_ids: Vec<(&str, &str)> = notes
            .iter()
            .flat_map(|n| {
                n.covers
                    .iter()
                    .map(|c| (customer_of(n), c.invoice_id.as_str()))
            })
            .collect();
        let mut coverage_now: HashMap<String, u32> = exec::json_rows::<_, (String, i64)>(
            &mut tx,
            "SELECT json_group_array(json_array(p.invoice_id, p.covered)) FROM json_each($1) j \
             JOIN dunning_progress p ON p.customer_id = j.value ->> 0 AND p.invoice_id = j.value ->> 1",
            &covered_ids,
        )
        .await?
        .into_iter()
        .map(|(id, covered)| (id, u32::try_from(covered).unwrap_or(0)))
        .collect();
        let mut eligible: Vec<&PlannedNotification> = Vec::with_capacity(notes.len());
        for n in notes {
            let current = |c: &herald_core::planner::CoveredSteps| {
                coverage_now
                    .get(c.invoice_id.as_str())
                    .copied()
                    .unwrap_or(0)
            };
            if n.covers.iter().any(|c| current(c) != c.from) {
                continue;
            }
            for c in &n.covers {
                coverage_now.insert(c.invoice_id.to_string(), c.to);
            }
            eligible.push(n);
        }
        tracing::trace!(elapsed = ?t0.elapsed(), "record_plan: steps checked");

        // Which are new, decided here rather than by RETURNING: sqlx would hand
        // every returned row over on its own. Under the write lock the answer
        // cannot change before commit, and new rows get the next ids in order.
        let keys: Vec<&str> = eligible.iter().map(|n| n.dedupe_key.as_str()).collect();
        let existing: HashSet<String> = exec::json_rows::<_, String>(
            &mut tx,
            "SELECT json_group_array(dedupe_key) FROM notifications \
             WHERE dedupe_key IN (SELECT value FROM json_each($1))",
            &keys,
        )
        .await?
        .into_iter()
        .collect();
        let mut seen: HashSet<&str> = HashSet::with_capacity(eligible.len());
        let new: Vec<&PlannedNotification> = eligible
            .iter()
            .copied()
            .filter(|n| !existing.contains(&n.dedupe_key) && seen.insert(&n.dedupe_key))
            .collect();
        let first_id = reserve_notification_ids(&mut tx, new.len() as i64).await?;
        let inserted: Vec<(i64, &PlannedNotification)> =
            (first_id..).zip(new.iter().copied()).collect();
        for chunk in inserted.chunks(10_000) {
            let rows: Vec<_> = chunk
                .iter()
                .map(|(id, n)| {
                    let (verdict, reason) = match &n.verdict {
                        Verdict::Deliver => ("deliver", None),
                        Verdict::NotApplicable(r) => ("not_applicable", Some(r.as_str())),
                    };
                    (
                        id,
                        &n.dedupe_key,
                        &n.rule_id,
                        sql::kind_str(n.kind),
                        n.customer_id.as_ref().map(|c| c.as_str()),
                        n.level,
                        &n.template,
                        ms(n.fire_at),
                        verdict,
                        reason,
                        n.subject.as_deref(),
                        n.occurs_at.map(ms),
                        n.event_id.as_ref().map(|e| e.as_str()),
                    )
                })
                .collect();
            query(
                "INSERT INTO notifications (id, dedupe_key, rule_id, kind, customer_id, level, template, fire_at, \
                 planned_at, run_id, verdict, reason, subject, occurs_at, event_id) \
                 SELECT CAST(value ->> 0 AS BIGINT), value ->> 1, value ->> 2, value ->> 3, value ->> 4, CAST(value ->> 5 AS BIGINT), \
                 value ->> 6, CAST(value ->> 7 AS BIGINT), $2, $3, value ->> 8, value ->> 9, value ->> 10, \
                 CAST(value ->> 11 AS BIGINT), value ->> 12 FROM json_each($1)",
            )
            .bind(json_list(&rows))
            .bind(ms(planned_at))
            .bind(run_id)
            .execute(&mut *tx)
            .await?;
        }

        tracing::trace!(elapsed = ?t0.elapsed(), "record_plan: notifications");
        // What hangs off each new notification: its invoices (for a letter, with
        // the ladder steps it covers of each) and the invoices' new coverage.
        let mut links: Vec<(i64, &str, Option<u32>, Option<u32>)> = Vec::new();
        // Per invoice the furthest step wins: two letters of one batch may cover
        // the same invoice one after the other.
        let mut coverage: HashMap<(&str, &str), Coverage> = HashMap::new();
        for (id, n) in &inserted {
            let mut inv: Vec<&str> = n.invoice_ids.iter().map(|i| i.as_str()).collect();
            inv.extend(n.covers.iter().map(|c| c.invoice_id.as_str()));
            inv.sort_unstable();
            inv.dedup();
            for i in inv {
                let steps = n.covers.iter().find(|c| c.invoice_id.as_str() == i);
                links.push((*id, i, steps.map(|c| c.from), steps.map(|c| c.to)));
            }
            for c in &n.covers {
                let next_on = c
                    .next_on
                    .map_or_else(|| sql::NO_NEXT_STEP.to_owned(), date_text);
                let e = coverage
                    .entry((customer_of(n), c.invoice_id.as_str()))
                    .or_insert(Coverage {
                        covered: c.to,
                        next_on: next_on.clone(),
                    });
                if c.to >= e.covered {
                    *e = Coverage {
                        covered: c.to,
                        next_on,
                    };
                }
            }
        }
        for chunk in links.chunks(10_000) {
            query(
                "INSERT INTO notification_invoices (notification_id, invoice_id, covered_from, covered_to) \
                 SELECT CAST(value ->> 0 AS BIGINT), value ->> 1, CAST(value ->> 2 AS BIGINT), CAST(value ->> 3 AS BIGINT) \
                 FROM json_each($1)",
            )
            .bind(json_list(chunk))
            .execute(&mut *tx)
            .await?;
        }
        tracing::trace!(elapsed = ?t0.elapsed(), "record_plan: links");
        insert_planned_deliveries(&mut tx, &inserted, planned_at, due_from).await?;
        tracing::trace!(elapsed = ?t0.elapsed(), "record_plan: deliveries");
        // In the table's key order: the run goes through customers in order.
        let mut coverage: Vec<(&str, &str, u32, &str)> = coverage
            .iter()
            .map(|((customer, inv), c)| (*customer, *inv, c.covered, c.next_on.as_str()))
            .collect();
        coverage.sort_unstable();
        for chunk in coverage.chunks(10_000) {
            query(
                "INSERT INTO dunning_progress (customer_id, invoice_id, covered, next_on) \
                 SELECT value ->> 0, value ->> 1, CAST(value ->> 2 AS BIGINT), value ->> 3 FROM json_each($1) WHERE true \
                 ON CONFLICT (customer_id, invoice_id) DO UPDATE SET \
                 covered = CASE WHEN excluded.covered > dunning_progress.covered \
                   THEN excluded.covered ELSE dunning_progress.covered END, next_on = excluded.next_on",
            )
            .bind(json_list(chunk))
            .execute(&mut *tx)
            .await?;
        }
        tracing::trace!(elapsed = ?t0.elapsed(), "record_plan: coverage");
        tx.commit().await?;
        tracing::trace!(elapsed = ?t0.elapsed(), "record_plan: committed");
        let n_inserted = inserted.len() as u64;
        Ok(RecordStats {
            inserted: n_inserted,
            existing: notes.len() as u64 - n_inserted,
        })
    }
}

/// The first of `n` consecutive notification ids no one else will use; the caller
/// holds the write lock. SQLite: after the highest id ever handed out (the table is
/// `AUTOINCREMENT`, so a deleted one's id is not reused either). PostgreSQL: the
/// identity's sequence moved on by `n` at once.
async fn reserve_notification_ids(conn: &mut Conn, n: i64) -> Result<i64, StoreError> {
    if n == 0 {
        return Ok(0);
    }
    let first: i64 = query_scalar(pick!(
        "SELECT 1 + MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'notifications'), 0), \
         COALESCE((SELECT MAX(id) FROM notifications), 0)) + 0 * $1",
        "SELECT setval(pg_get_serial_sequence('notifications', 'id'), \
         nextval(pg_get_serial_sequence('notifications', 'id')) + $1 - 1) - $1 + 1",
    ))
    .bind(n)
    .fetch_one(&mut *conn)
    .await?;
    Ok(first)
}

/// A deliverable notification's deliveries wait for their fire time; a
/// NotApplicable one's are stored as such with the reason, so status shows who
/// would have been told and why they were not.
async fn insert_planned_deliveries(
    conn: &mut Conn,
    inserted: &[(i64, &PlannedNotification)],
    planned_at: Timestamp,
    due_from: Option<Timestamp>,
) -> Result<(), StoreError> {
    let rows: Vec<_> = inserted
        .iter()
        .flat_map(|(id, n)| {
            let (state, reason, next) = match &n.verdict {
                Verdict::Deliver => (
                    "pending",
                    None,
                    Some(ms(due_from.map_or(n.fire_at, |f| n.fire_at.max(f)))),
                ),
                Verdict::NotApplicable(r) => ("not_applicable", Some(r.as_str()), None),
            };
            n.deliveries.iter().map(move |d| {
                (
                    *id,
                    n.rule_id.as_str(),
                    d.channel.as_str(),
                    &d.name,
                    &d.address,
                    d.locale.as_str(),
                    state,
                    reason,
                    next,
                )
            })
        })
        .collect();
    for chunk in rows.chunks(10_000) {
        query(
            "INSERT INTO deliveries (notification_id, rule_id, channel, name, address, locale, state, reason, \
             next_attempt_at, created_at, updated_at) \
             SELECT CAST(value ->> 0 AS BIGINT), value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, \
             value ->> 7, CAST(value ->> 8 AS BIGINT), $2, $2 FROM json_each($1)",
        )
        .bind(json_list(chunk))
        .bind(ms(planned_at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The customer of a letter that covers dunning steps: every such letter has one
/// (only dunning letters cover steps, and they go to a customer).
fn customer_of(n: &PlannedNotification) -> &str {
    n.customer_id.as_ref().map_or("", |c| c.as_str())
}
