use herald_core::planner::{Verdict, Window};
use herald_store::{CandidateQuery, DueDates, HistoryFilter, RunStats};

use crate::fixtures::*;
use crate::records::query;

#[tokio::test]
async fn record_plan_twice_inserts_nothing_the_second_time() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    s.upsert_invoices(&[invoice("I1", "C1", "2026-11-01", "2026-11-15", "100.00")])
        .await
        .unwrap();
    let deliver = notice(
        "due-soon:invoice/I1:2026-11-12",
        "C1",
        "I1",
        "2026-11-12T08:00:00Z",
    );
    let mut late = notice("new-invoice:invoice/I1", "C1", "I1", "2026-11-01T08:00:00Z");
    late.verdict = Verdict::NotApplicable("too late".into());
    let mut nobody = notice(
        "grace-end:invoice/I1:2026-11-25",
        "C1",
        "I1",
        "2026-11-25T08:00:00Z",
    );
    nobody.verdict = Verdict::NotApplicable("no recipient".into());
    nobody.deliveries.clear();
    let notes = vec![deliver, late, nobody];

    let run = s
        .begin_run(
            t("2026-11-26T00:00:00Z"),
            Window {
                after: None,
                until: t("2026-11-26T00:00:00Z"),
            },
            0,
            1,
        )
        .await
        .unwrap();
    let first = s
        .record_plan(run, t("2026-11-26T00:00:01Z"), &notes)
        .await
        .unwrap();
    assert_eq!((first.inserted, first.existing), (3, 0));
    let second = s
        .record_plan(run, t("2026-11-26T00:01:00Z"), &notes)
        .await
        .unwrap();
    assert_eq!((second.inserted, second.existing), (0, 3));

    let st = s.status().await.unwrap();
    assert_eq!(st.notifications.get("deliver"), Some(&1));
    assert_eq!(st.notifications.get("not_applicable"), Some(&2));
    assert_eq!(st.by_state.get("pending"), Some(&1));
    assert_eq!(st.by_state.get("not_applicable"), Some(&1));
    assert_eq!(st.by_rule["due-soon"]["pending"], 1);

    let history = invoice_history(s, "I1").await;
    let keys: Vec<_> = history
        .iter()
        .map(|h| h.notification.dedupe_key.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "new-invoice:invoice/I1",
            "due-soon:invoice/I1:2026-11-12",
            "grace-end:invoice/I1:2026-11-25"
        ]
    );
    assert_eq!(
        history[1].deliveries[0].delivery.next_attempt_at,
        Some(t("2026-11-12T08:00:00Z"))
    );
    assert_eq!(
        history[0].deliveries[0].delivery.reason.as_deref(),
        Some("too late")
    );
    assert_eq!(
        history[2].notification.reason.as_deref(),
        Some("no recipient")
    );
    assert!(history[2].deliveries.is_empty());
    assert_eq!(history[0].notification.run_id, Some(run));
    let one = s
        .notification(history[1].notification.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.invoice_ids, vec![iid("I1")]);
    assert_eq!(one, history[1].notification);
}

#[tokio::test]
async fn concurrent_record_plan_stores_each_key_once() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    let invoices: Vec<_> = (0..300)
        .map(|i| invoice(&format!("I{i}"), "C1", "2026-11-01", "2026-11-15", "10.00"))
        .collect();
    s.upsert_invoices(&invoices).await.unwrap();
    let notes: Vec<_> = (0..300)
        .map(|i| {
            notice(
                &format!("due-soon:invoice/I{i}:2026-11-12"),
                "C1",
                &format!("I{i}"),
                "2026-11-12T08:00:00Z",
            )
        })
        .collect();
    let mut tasks = Vec::new();
    for k in 0..4 {
        let (st, n) = (s.clone(), notes.clone());
        tasks.push(tokio::spawn(async move {
            let mut total = 0;
            // Each task records the same notes in its own chunking.
            for chunk in n.chunks(50 + k * 20) {
                total += st
                    .record_plan(k as i64, t("2026-11-26T00:00:00Z"), chunk)
                    .await
                    .unwrap()
                    .inserted;
            }
            total
        }));
    }
    let mut inserted = 0;
    for task in tasks {
        inserted += task.await.unwrap();
    }
    assert_eq!(inserted, 300);
    let st = s.status().await.unwrap();
    assert_eq!(st.notifications["deliver"], 300);
    assert_eq!(st.by_state["pending"], 300);
}

#[tokio::test]
async fn a_letter_covering_an_already_covered_step_is_dropped_whole() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    s.upsert_invoices(&[
        invoice("I1", "C1", "2026-10-01", "2026-10-15", "100.00"),
        invoice("I2", "C1", "2026-10-05", "2026-10-19", "200.00"),
    ])
    .await
    .unwrap();
    let a = letter("C1", "2026-10-22", &[("I1", 1, 1, Some("2026-11-05"))]);
    assert_eq!(
        s.record_plan(1, t("2026-10-22T00:00:00Z"), &[a])
            .await
            .unwrap()
            .inserted,
        1
    );
    let i1 = s.invoice(&iid("I1")).await.unwrap().unwrap();
    assert_eq!(i1.dunning_covered, 1);

    // B covers I2's first step and, again, I1's: it is not stored at all.
    let b = letter(
        "C1",
        "2026-10-26",
        &[
            ("I1", 1, 1, Some("2026-11-05")),
            ("I2", 1, 1, Some("2026-11-09")),
        ],
    );
    let r = s
        .record_plan(1, t("2026-10-26T00:00:00Z"), &[b])
        .await
        .unwrap();
    assert_eq!((r.inserted, r.existing), (0, 1));
    assert_eq!(covered(s, "I2").await, 0);
    assert_eq!(s.status().await.unwrap().notifications["deliver"], 1);

    // So I2's step is still free for a letter that covers only it; in one batch,
    // two letters claiming the same step store only the first.
    let c = letter("C1", "2026-10-27", &[("I2", 1, 1, None)]);
    let c2 = letter("C1", "2026-10-28", &[("I2", 1, 1, None)]);
    let r = s
        .record_plan(1, t("2026-10-27T00:00:00Z"), &[c, c2])
        .await
        .unwrap();
    assert_eq!((r.inserted, r.existing), (1, 1));
    assert_eq!(covered(s, "I2").await, 1);

    // History of a letter says when the next reminder is due (I1's, I2 has none).
    let h = customer_history(s, "C1").await;
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].next_reminder_on, Some(d("2026-11-05")));
    assert_eq!(h[1].next_reminder_on, None);
    let h = s
        .history(&HistoryFilter {
            invoice: Some(iid("I1")),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].next_reminder_on, Some(d("2026-11-05")));
}

#[tokio::test]
async fn candidates_follow_changes_date_ranges_and_dunning() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    s.upsert_customers(&[customer("C4")]).await.unwrap();
    s.upsert_invoices(&[
        invoice("I1", "C1", "2026-10-01", "2026-10-15", "100.00"), // overdue, open: dunning
        invoice("I2", "C1", "2026-09-01", "2026-09-15", "10.00"),  // paid, old
        invoice("I3", "C2", "2026-11-20", "2026-12-20", "300.00"), // issued today
        invoice("I4", "C3", "2026-09-01", "2026-11-23", "40.00"),  // due-soon range (due in 3 days)
        invoice("I5", "C4", "2026-09-01", "2026-09-15", "40.00"),  // paid: nothing to do
    ])
    .await
    .unwrap();
    s.upsert_payments(&[
        payment("P1", "I2", "2026-09-10", "10.00"),
        payment("P2", "I5", "2026-09-10", "40.00"),
    ])
    .await
    .unwrap();

    // First run: everything changed.
    let st = s.planner_state().await.unwrap();
    assert_eq!((st.watermark, st.last_seq), (None, 0));
    let all = s
        .candidate_customers(&query(st.last_seq, "2026-11-20"))
        .await
        .unwrap();
    assert_eq!(all, vec![cid("C1"), cid("C2"), cid("C3"), cid("C4")]);
    let now = t("2026-11-20T12:00:00Z");
    let run = s
        .begin_run(
            now,
            Window {
                after: None,
                until: now,
            },
            st.last_seq,
            st.max_seq,
        )
        .await
        .unwrap();
    let stats = RunStats {
        books: 4,
        planned: 0,
        inserted: 0,
        existing: 0,
    };
    s.finish_run(run, now, stats, Some(now), st.max_seq)
        .await
        .unwrap();

    let st = s.planner_state().await.unwrap();
    assert_eq!((st.watermark, st.last_seq), (Some(now), st.max_seq));
    let q = CandidateQuery {
        since_seq: st.last_seq,
        issue_dates: Some((d("2026-11-20"), d("2026-11-20"))),
        due_dates: vec![DueDates {
            from: d("2026-11-23"),
            to: d("2026-11-23"),
            open_only: false,
        }],
        dunning_due_on_or_before: Some(d("2026-11-13")),
        dunning_first_from: None,
        today: d("2026-11-20"),
    };
    assert_eq!(
        s.candidate_customers(&q).await.unwrap(),
        vec![cid("C1"), cid("C2"), cid("C3")]
    );
    let books = s
        .load_books(&[cid("C3"), cid("C1"), cid("C2"), cid("NOBODY")], &q)
        .await
        .unwrap();
    let ids: Vec<_> = books.iter().map(|b| b.customer.id.as_str()).collect();
    assert_eq!(ids, ["C3", "C1", "C2"], "books come in the order asked");
    let inv = |i: usize| {
        books[i]
            .invoices
            .iter()
            .map(|v| v.invoice.id.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(inv(0), ["I4"]);
    assert_eq!(inv(1), ["I1"], "the paid invoice is not loaded");
    assert_eq!(inv(2), ["I3"]);
    assert!(books.iter().flat_map(|b| &b.invoices).all(|v| !v.changed));
    assert_eq!(books[1].contacts.len(), 1);

    // A letter covering I1 until 2026-12-01: no dunning candidate before then.
    s.record_plan(
        run,
        now,
        &[letter(
            "C1",
            "2026-11-20",
            &[("I1", 1, 1, Some("2026-12-01"))],
        )],
    )
    .await
    .unwrap();
    let dunning_only = CandidateQuery {
        issue_dates: None,
        due_dates: Vec::new(),
        ..q.clone()
    };
    assert!(
        s.candidate_customers(&dunning_only)
            .await
            .unwrap()
            .is_empty()
    );
    let later = CandidateQuery {
        today: d("2026-12-01"),
        ..dunning_only.clone()
    };
    assert_eq!(
        s.candidate_customers(&later).await.unwrap(),
        vec![cid("C1")]
    );

    // Nothing new, no range hits: nobody to plan.
    let quiet = CandidateQuery {
        dunning_due_on_or_before: None,
        dunning_first_from: None,
        ..dunning_only
    };
    assert!(s.candidate_customers(&quiet).await.unwrap().is_empty());

    // The watermark and last_seq never move back.
    let run2 = s
        .begin_run(
            now,
            Window {
                after: Some(now),
                until: now,
            },
            st.last_seq,
            st.max_seq,
        )
        .await
        .unwrap();
    s.finish_run(
        run2,
        now,
        RunStats::default(),
        Some(t("2026-11-01T00:00:00Z")),
        0,
    )
    .await
    .unwrap();
    let st2 = s.planner_state().await.unwrap();
    assert_eq!((st2.watermark, st2.last_seq), (Some(now), st.last_seq));
    let last = s.status().await.unwrap().last_run.unwrap();
    assert_eq!(
        (last.id, last.window_after, last.finished_at),
        (run2, Some(now), Some(now))
    );
}
