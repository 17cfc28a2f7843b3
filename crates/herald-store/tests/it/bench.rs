//! The planner's store path at benchmark scale. Ignored by default (it takes a
//! minute in a debug build); run it with
//! `cargo test --release -p herald-store bench -- --ignored --nocapture`.

use std::time::Instant;

use herald_core::planner::{CustomerBook, Verdict};
use herald_store::{CandidateQuery, DueDates, RunStats};

use crate::fixtures::*;

#[tokio::test]
#[ignore = "benchmark: run in release with --ignored"]
async fn bench_planning_path_at_scale() {
    let n_invoices: usize = std::env::var("HERALD_BENCH_INVOICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let n_customers = (n_invoices / 10).max(1);
    let ts = store().await;
    let s = &ts.store;

    let start = Instant::now();
    let customers: Vec<_> = (0..n_customers)
        .map(|i| customer(&format!("C{i:06}")))
        .collect();
    s.upsert_customers(&customers).await.unwrap();
    let contacts: Vec<_> = (0..n_customers)
        .map(|i| contact(&format!("C{i:06}"), "billing", &format!("b{i}@example.com")))
        .collect();
    s.upsert_contacts(&contacts).await.unwrap();
    for chunk in (0..n_invoices).collect::<Vec<_>>().chunks(100_000) {
        let invoices: Vec<_> = chunk
            .iter()
            .map(|i| {
                let due = ["2026-10-15", "2026-11-15", "2026-12-15"][i % 3];
                invoice(
                    &format!("FV-{i:07}"),
                    &format!("C{:06}", i % n_customers),
                    "2026-10-01",
                    due,
                    "123.45",
                )
            })
            .collect();
        s.upsert_invoices(&invoices).await.unwrap();
    }
    eprintln!(
        "import: {n_customers} customers, {n_invoices} invoices in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    for pass in 1..=2 {
        let start = Instant::now();
        let st = s.planner_state().await.unwrap();
        let q = CandidateQuery {
            since_seq: st.last_seq,
            issue_dates: Some((d("2026-11-20"), d("2026-11-20"))),
            due_dates: vec![DueDates {
                from: d("2026-11-23"),
                to: d("2026-11-23"),
                open_only: true,
            }],
            dunning_due_on_or_before: None,
            dunning_first_from: None,
            today: d("2026-11-20"),
        };
        let now = t("2026-11-20T12:00:00Z");
        let window = herald_core::planner::Window {
            after: st.watermark,
            until: now,
        };
        let run = s
            .begin_run(now, window, st.last_seq, st.max_seq)
            .await
            .unwrap();
        let candidates = s.candidate_customers(&q).await.unwrap();
        let t_candidates = start.elapsed();
        let (mut books_n, mut invoices_n, mut inserted, mut existing) = (0u64, 0u64, 0u64, 0u64);
        let mut t_load = std::time::Duration::ZERO;
        let mut t_record = std::time::Duration::ZERO;
        for chunk in candidates.chunks(1000) {
            let t0 = Instant::now();
            let books: Vec<CustomerBook> = s.load_books(chunk, &q).await.unwrap();
            t_load += t0.elapsed();
            books_n += books.len() as u64;
            // Stand-in for the planner: one notice per changed invoice, every other one NotApplicable.
            let notes: Vec<_> = books
                .iter()
                .flat_map(|b| b.invoices.iter().filter(|v| v.changed))
                .map(|v| {
                    invoices_n += 1;
                    let id = v.invoice.id.as_str();
                    let mut n = notice(
                        &format!("new-invoice:invoice/{id}"),
                        v.invoice.customer_id.as_str(),
                        id,
                        "2026-10-01T08:00:00Z",
                    );
                    if id.ends_with(['1', '3', '5', '7', '9']) {
                        n.verdict = Verdict::NotApplicable("too late".into());
                    }
                    n
                })
                .collect();
            let t0 = Instant::now();
            let r = s.record_plan(run, now, &notes).await.unwrap();
            t_record += t0.elapsed();
            inserted += r.inserted;
            existing += r.existing;
        }
        let stats = RunStats {
            books: books_n,
            planned: inserted + existing,
            inserted,
            existing,
        };
        s.finish_run(run, now, stats, Some(now), st.max_seq)
            .await
            .unwrap();
        eprintln!(
            "pass {pass}: {} candidates in {:.2} s; load_books {books_n} books / {invoices_n} changed invoices in {:.2} s; \
             record_plan {inserted} new, {existing} existing in {:.2} s; total {:.2} s",
            candidates.len(),
            t_candidates.as_secs_f64(),
            t_load.as_secs_f64(),
            t_record.as_secs_f64(),
            start.elapsed().as_secs_f64()
        );
    }
}
