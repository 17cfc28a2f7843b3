use std::time::Instant;

use herald_core::records::Operator;
use herald_core::{Locale, OperatorId};
use herald_store::{Store, StoreError};

use crate::fixtures::*;

#[tokio::test]
async fn open_creates_the_directory_and_open_existing_refuses_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.db");
    let err = Store::open_existing(missing.to_str().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Missing { .. }));
    assert!(err.to_string().contains("herald init"), "{err}");
    assert!(err.to_string().contains("nope.db"), "{err}");

    let nested = dir.path().join("a/b/herald.db");
    let s = Store::open(&format!("sqlite://{}", nested.display()))
        .await
        .unwrap();
    s.close().await;
    assert!(nested.is_file());
    // Opening twice runs the migrations once.
    let s = Store::open_existing(&format!("sqlite:{}", nested.display()))
        .await
        .unwrap();
    assert_eq!(s.counts().await.unwrap().customers, 0);
}

#[tokio::test]
async fn an_upsert_is_all_or_nothing() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    let good = invoice("I1", "C1", "2026-11-01", "2026-11-15", "100.00");
    let bad = invoice("I2", "NOBODY", "2026-11-01", "2026-11-15", "50.00");
    let err = s.upsert_invoices(&[good.clone(), bad]).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)), "{err}");
    assert!(err.to_string().contains("nothing was written"), "{err}");
    assert_eq!(s.counts().await.unwrap().invoices, 0);
    let seq_before = s.planner_state().await.unwrap().max_seq;

    // A contact of an unknown customer spoils its whole batch too.
    let err = s
        .upsert_contacts(&[
            contact("C3", "billing", "x@c3.example.com"),
            contact("C9", "billing", "y@c9.example.com"),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::MissingReference(_)));
    assert_eq!(s.counts().await.unwrap().contacts, 2);

    let c = s.upsert_invoices(&[good]).await.unwrap();
    assert_eq!((c.inserted, c.updated, c.unchanged), (1, 0, 0));
    assert!(s.planner_state().await.unwrap().max_seq > seq_before);
}

#[tokio::test]
async fn reimporting_identical_rows_changes_nothing_and_a_changed_row_is_marked() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    let invoices = vec![
        invoice("I1", "C1", "2026-11-01", "2026-11-15", "100.00"),
        invoice("I2", "C1", "2026-11-02", "2026-11-16", "200.00"),
        invoice("I3", "C2", "2026-11-03", "2026-11-17", "300.00"),
    ];
    assert_eq!(s.upsert_invoices(&invoices).await.unwrap().inserted, 3);
    let seen = s.planner_state().await.unwrap().max_seq;

    let again = s.upsert_invoices(&invoices).await.unwrap();
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 3));
    let views = s
        .invoices(&[iid("I1"), iid("I2"), iid("I3")])
        .await
        .unwrap();
    assert_eq!(views.len(), 3);
    let q = query(seen, "2026-11-20");
    assert!(
        s.candidate_customers(&q).await.unwrap().is_empty(),
        "identical re-import marked invoices changed"
    );

    let mut changed = invoices.clone();
    changed[2].amount = dec("333.00");
    let c = s.upsert_invoices(&changed).await.unwrap();
    assert_eq!((c.inserted, c.updated, c.unchanged), (0, 1, 2));
    assert_eq!(s.candidate_customers(&q).await.unwrap(), vec![cid("C2")]);
    let books = s.load_books(&[cid("C2")], &q).await.unwrap();
    assert!(books[0].invoices.iter().all(|v| v.changed));
    assert_eq!(
        s.invoice(&iid("I3")).await.unwrap().unwrap().invoice.amount,
        dec("333.00")
    );

    // Customers, contacts and operators count the same way.
    let mut c1 = customer("C1");
    assert_eq!(
        s.upsert_customers(&[c1.clone()]).await.unwrap().unchanged,
        1
    );
    c1.name = "Renamed".into();
    assert_eq!(s.upsert_customers(&[c1]).await.unwrap().updated, 1);
    let ct = contact("C1", "billing", "billing@c1.example.com");
    assert_eq!(
        s.upsert_contacts(std::slice::from_ref(&ct))
            .await
            .unwrap()
            .unchanged,
        1
    );
    let op = Operator {
        id: OperatorId::parse("O1").unwrap(),
        name: "Anna".into(),
        email: None,
        phone: None,
        locale: Some(Locale::Pl),
        roles: vec!["accounting-manager".into()],
    };
    assert_eq!(
        s.upsert_operators(std::slice::from_ref(&op))
            .await
            .unwrap()
            .inserted,
        1
    );
    assert_eq!(
        s.upsert_operators(std::slice::from_ref(&op))
            .await
            .unwrap()
            .unchanged,
        1
    );
    let rel = |o: &str, r: &str| herald_core::records::Relation {
        customer_id: cid("C1"),
        operator_id: OperatorId::parse(o).unwrap(),
        relation: r.into(),
    };
    let rels = [rel("O1", "hr_manager"), rel("O1", "accounting_manager")];
    let counts = s.upsert_relations(&rels).await.unwrap();
    assert_eq!((counts.inserted, counts.unchanged), (2, 0));
    let counts = s.upsert_relations(&rels[..1]).await.unwrap();
    assert_eq!((counts.inserted, counts.unchanged), (0, 1));
    assert_eq!(
        s.relations_of(&cid("C1")).await.unwrap(),
        vec![rels[1].clone(), rels[0].clone()],
        "by relation"
    );
    assert!(s.relations_of(&cid("C2")).await.unwrap().is_empty());
    assert_eq!(s.all_operator_ids().await.unwrap().len(), 1);
    let task = herald_core::tasks::Task {
        id: herald_core::TaskId::parse("T1").unwrap(),
        title: "VAT return".into(),
        customer_id: cid("C1"),
        operator_id: Some(OperatorId::parse("O1").unwrap()),
        starts_at: jiff::civil::date(2026, 11, 25).at(10, 0, 0, 0),
        time_zone: Some(herald_core::records::TimeZoneName::parse("Europe/Warsaw").unwrap()),
        recurrence: herald_core::tasks::Recurrence::parse("0 9 * * mon").unwrap(),
        recurrence_text: "0 9 * * mon".into(),
        template: Some("vat".into()),
    };
    assert_eq!(
        s.upsert_tasks(std::slice::from_ref(&task))
            .await
            .unwrap()
            .inserted,
        1
    );
    assert_eq!(
        s.upsert_tasks(std::slice::from_ref(&task))
            .await
            .unwrap()
            .unchanged,
        1
    );
    assert_eq!(s.tasks_of(&cid("C1")).await.unwrap(), vec![task]);
    let (cust, contacts) = s.customer(&cid("C1")).await.unwrap().unwrap();
    assert_eq!(cust.name, "Renamed");
    assert_eq!(contacts, vec![ct]);
    let counts = s.counts().await.unwrap();
    assert_eq!(
        (
            counts.customers,
            counts.contacts,
            counts.operators,
            counts.invoices
        ),
        (3, 2, 1, 3)
    );
}

pub fn query(since_seq: i64, today: &str) -> herald_store::CandidateQuery {
    herald_store::CandidateQuery {
        since_seq,
        issue_dates: None,
        due_dates: Vec::new(),
        dunning_due_on_or_before: None,
        dunning_first_from: None,
        today: d(today),
    }
}

#[tokio::test]
async fn payments_recompute_paid_bump_seq_and_keep_an_overpayment() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    s.upsert_invoices(&[
        invoice("I1", "C1", "2026-11-01", "2026-11-15", "100.00"),
        invoice("I2", "C2", "2026-11-01", "2026-11-15", "50.00"),
    ])
    .await
    .unwrap();
    let seen = s.planner_state().await.unwrap().max_seq;

    let c = s
        .upsert_payments(&[
            payment("P1", "I1", "2026-11-10", "40.00"),
            payment("P2", "I1", "2026-11-11", "30.50"),
        ])
        .await
        .unwrap();
    assert_eq!(c.inserted, 2);
    let v = s.invoice(&iid("I1")).await.unwrap().unwrap();
    assert_eq!(v.paid, dec("70.50"));
    assert_eq!(v.balance(), dec("29.50"));
    assert_eq!(
        s.candidate_customers(&query(seen, "2026-11-20"))
            .await
            .unwrap(),
        vec![cid("C1")]
    );

    // Identical payments again: nothing changes, nothing is marked.
    let seen = s.planner_state().await.unwrap().max_seq;
    let c = s
        .upsert_payments(&[payment("P1", "I1", "2026-11-10", "40.00")])
        .await
        .unwrap();
    assert_eq!(c.unchanged, 1);
    assert!(
        s.candidate_customers(&query(seen, "2026-11-20"))
            .await
            .unwrap()
            .is_empty()
    );

    // An overpayment is kept: paid exceeds the amount, the balance is zero.
    s.upsert_payments(&[payment("P3", "I2", "2026-11-12", "80.00")])
        .await
        .unwrap();
    let v = s.invoice(&iid("I2")).await.unwrap().unwrap();
    assert_eq!(v.paid, dec("80.00"));
    assert_eq!(v.balance(), dec("0"));

    // Moving a payment to another invoice recomputes both.
    let c = s
        .upsert_payments(&[payment("P2", "I2", "2026-11-11", "30.50")])
        .await
        .unwrap();
    assert_eq!(c.updated, 1);
    assert_eq!(
        s.invoice(&iid("I1")).await.unwrap().unwrap().paid,
        dec("40.00")
    );
    assert_eq!(
        s.invoice(&iid("I2")).await.unwrap().unwrap().paid,
        dec("110.50")
    );

    let balances = s.invoice_balances(&[iid("I2"), iid("NOPE")]).await.unwrap();
    assert_eq!(balances.len(), 1);
    let b = &balances[&iid("I2")];
    assert_eq!(
        (b.amount, b.paid, b.currency),
        (dec("50.00"), dec("110.50"), pln())
    );
    assert_eq!(
        b.payments
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>(),
        ["P2", "P3"]
    );

    let err = s
        .upsert_payments(&[payment("P9", "NOPE", "2026-11-12", "1.00")])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownInvoice { .. }), "{err}");
    assert!(err.to_string().contains("import the invoice first"));
    assert_eq!(s.counts().await.unwrap().payments, 3);
}

#[tokio::test]
async fn existing_customers_names_only_known_ones() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    let found = s
        .existing_customers(&[cid("C1"), cid("X"), cid("C3")])
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.contains(&cid("C1")) && found.contains(&cid("C3")));
}

#[tokio::test]
async fn speed_smoke_upsert_100k_invoices() {
    let ts = store().await;
    let s = &ts.store;
    let customers: Vec<_> = (0..10_000).map(|i| customer(&format!("C{i:05}"))).collect();
    s.upsert_customers(&customers).await.unwrap();
    let invoices: Vec<_> = (0..100_000)
        .map(|i| {
            let due = if i % 2 == 0 {
                "2026-11-15"
            } else {
                "2026-12-15"
            };
            invoice(
                &format!("FV-{i:06}"),
                &format!("C{:05}", i % 10_000),
                "2026-11-01",
                due,
                "123.45",
            )
        })
        .collect();
    let start = Instant::now();
    let c = s.upsert_invoices(&invoices).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(c.inserted, 100_000);
    eprintln!(
        "upsert_invoices: 100000 new rows in {secs:.2} s = {:.0} rows/s",
        100_000.0 / secs
    );
    let start = Instant::now();
    let c = s.upsert_invoices(&invoices).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(c.unchanged, 100_000);
    eprintln!(
        "upsert_invoices: 100000 unchanged rows in {secs:.2} s = {:.0} rows/s",
        100_000.0 / secs
    );
}

#[tokio::test]
async fn moving_an_invoice_marks_both_customers_and_due_ranges_see_open_or_all() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    let mut i1 = invoice("I1", "C1", "2026-11-01", "2026-11-15", "100.00");
    s.upsert_invoices(&[
        i1.clone(),
        invoice("I2", "C2", "2026-11-01", "2026-11-15", "50.00"),
    ])
    .await
    .unwrap();
    // A dunning letter to C1 covered I1's first step.
    let now = t("2026-11-23T00:00:00Z");
    let window = herald_core::planner::Window {
        after: None,
        until: now,
    };
    let run = s.begin_run(now, window, 0, 1).await.unwrap();
    s.record_plan(
        run,
        now,
        &[letter(
            "C1",
            "2026-11-22",
            &[("I1", 1, 1, Some("2026-12-06"))],
        )],
    )
    .await
    .unwrap();
    let seen = s.planner_state().await.unwrap().max_seq;
    i1.customer_id = cid("C3");
    let c = s.upsert_invoices(std::slice::from_ref(&i1)).await.unwrap();
    assert_eq!(c.updated, 1);
    assert_eq!(
        s.candidate_customers(&query(seen, "2026-11-20"))
            .await
            .unwrap(),
        vec![cid("C1"), cid("C3")],
        "the customer it left and the one it joined are both looked at again"
    );
    let moved = s.invoice(&iid("I1")).await.unwrap().unwrap();
    assert_eq!(moved.invoice.customer_id, cid("C3"));
    assert_eq!(
        moved.dunning_covered, 1,
        "the invoice keeps its place on the dunning ladder"
    );
    let later = herald_store::CandidateQuery {
        dunning_due_on_or_before: Some(d("2026-11-29")),
        dunning_first_from: Some(d("2026-11-29")), // no first letters: I2 is not asked about
        ..query(i64::MAX, "2026-12-06")
    };
    assert_eq!(
        s.candidate_customers(&later).await.unwrap(),
        vec![cid("C3")],
        "its next step is due with its new customer"
    );

    // I2 paid: a due-date range for unpaid-only rules no longer finds it; one for
    // every invoice does.
    s.upsert_payments(&[payment("P1", "I2", "2026-11-10", "50.00")])
        .await
        .unwrap();
    let seen = s.planner_state().await.unwrap().max_seq;
    let due = |open_only| herald_store::CandidateQuery {
        due_dates: vec![herald_store::DueDates {
            from: d("2026-11-15"),
            to: d("2026-11-15"),
            open_only,
        }],
        ..query(seen, "2026-11-20")
    };
    assert_eq!(
        s.candidate_customers(&due(true)).await.unwrap(),
        vec![cid("C3")]
    );
    assert_eq!(
        s.candidate_customers(&due(false)).await.unwrap(),
        vec![cid("C2"), cid("C3")]
    );
}

#[tokio::test]
async fn a_first_bulk_import_with_a_repeated_id_is_refused_whole() {
    let ts = store().await;
    let s = &ts.store;
    s.upsert_customers(&[customer("C1"), customer("C2")])
        .await
        .unwrap();
    // Large enough for the bulk path (indexes dropped and rebuilt).
    let mut invoices: Vec<_> = (0..60_000)
        .map(|i| {
            invoice(
                &format!("FV-{i:06}"),
                if i % 2 == 0 { "C1" } else { "C2" },
                "2026-11-01",
                "2026-11-15",
                "10.00",
            )
        })
        .collect();
    invoices.push(invoice(
        "FV-000001",
        "C1",
        "2026-11-01",
        "2026-11-15",
        "10.00",
    ));
    let err = s.upsert_invoices(&invoices).await.unwrap_err();
    // SQLite names the column, PostgreSQL the key.
    let said = err.to_string();
    assert!(
        said.contains("invoices.id") || said.contains("Key (id)=(FV-000001)"),
        "{said}"
    );
    assert_eq!(
        s.counts().await.unwrap().invoices,
        0,
        "nothing half-written"
    );

    invoices.pop();
    assert_eq!(s.upsert_invoices(&invoices).await.unwrap().inserted, 60_000);
    let v = s.invoice(&iid("FV-012345")).await.unwrap().unwrap();
    assert_eq!(v.invoice.customer_id, cid("C2"));
    // The indexes are back: a second identical import is an upsert that changes nothing.
    assert_eq!(
        s.upsert_invoices(&invoices).await.unwrap().unchanged,
        60_000
    );
}

/// `herald migrate-store`'s copy: SQLite into PostgreSQL and back into a new SQLite
/// file, every table with the same rows and checksums at each step, ids going
/// on after the copied ones.
#[tokio::test]
async fn a_store_copies_into_postgres_and_back_with_the_same_checksums() {
    let sqlite = herald_store::testing::TestDatabase::sqlite();
    let s = Store::open(sqlite.url()).await.unwrap();
    seed(&s).await;
    s.upsert_invoices(&[invoice("I1", "C1", "2026-11-01", "2026-11-15", "10.00")])
        .await
        .unwrap();
    let now = t("2026-11-12T08:00:00Z");
    let window = herald_core::planner::Window {
        after: None,
        until: now,
    };
    let run = s.begin_run(now, window, 0, 1).await.unwrap();
    s.record_plan(
        run,
        now,
        &[notice(
            "due-soon:invoice/I1",
            "C1",
            "I1",
            "2026-11-12T08:00:00Z",
        )],
    )
    .await
    .unwrap();

    let pg = herald_store::testing::TestDatabase::postgres();
    let p = Store::open(pg.url()).await.unwrap();
    let there = s.copy_into(&p, |_| {}).await.unwrap();
    let back_db = herald_store::testing::TestDatabase::sqlite();
    let back = Store::open(back_db.url()).await.unwrap();
    let back_again = p.copy_into(&back, |_| {}).await.unwrap();
    assert_eq!(there, back_again, "the same rows and checksums both ways");
    let rows = |t: &str| there.iter().find(|c| c.table == t).unwrap().rows;
    assert_eq!(
        (rows("customers"), rows("notifications"), rows("deliveries")),
        (3, 1, 1)
    );

    // Into a store with rows: refused.
    let err = s.copy_into(&p, |_| {}).await.unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    // New rows on PostgreSQL get ids after the copied ones.
    let run2 = p.begin_run(now, window, 0, 1).await.unwrap();
    assert!(run2 > run, "{run2} after {run}");
}
