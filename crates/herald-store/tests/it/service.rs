//! The service's bookkeeping: a job that stops succeeding is found overdue, and a
//! stopping sender gives back what it leased and did not send.

use herald_store::{AttemptOutcome, LeaseRequest};
use jiff::SignedDuration;

use crate::fixtures::*;

#[tokio::test]
async fn a_job_that_stops_succeeding_is_overdue_with_its_last_error() {
    let ts = store().await;
    let s = &ts.store;
    let every = SignedDuration::from_mins(1);
    s.job_started("planner", every, "herald-1", t("2026-11-23T08:00:00Z"))
        .await
        .unwrap();
    s.job_finished("planner", "herald-1", t("2026-11-23T08:00:02Z"), Ok(()))
        .await
        .unwrap();
    s.job_started("planner", every, "herald-1", t("2026-11-23T08:01:00Z"))
        .await
        .unwrap();
    s.job_finished(
        "planner",
        "herald-1",
        t("2026-11-23T08:01:01Z"),
        Err("disk full"),
    )
    .await
    .unwrap();
    let jobs = s.service_jobs().await.unwrap();
    assert_eq!(jobs.len(), 1);
    let j = &jobs[0];
    assert_eq!((j.runs, j.failures), (2, 1));
    assert_eq!(j.last_ok, Some(t("2026-11-23T08:00:02Z")));
    // Twice its interval and a minute of grace: fresh until 08:03:02.
    assert_eq!(j.overdue(t("2026-11-23T08:03:00Z")), None);
    let late = j.overdue(t("2026-11-23T08:10:00Z")).expect("overdue");
    assert!(
        late.contains("planner has not succeeded for 9 min") && late.contains("disk full"),
        "{late}"
    );
    // The next success clears the error.
    s.job_finished("planner", "herald-1", t("2026-11-23T08:10:01Z"), Ok(()))
        .await
        .unwrap();
    let j = &s.service_jobs().await.unwrap()[0];
    assert_eq!(j.last_error, None);
    assert_eq!(j.overdue(t("2026-11-23T08:10:30Z")), None);
}

/// Several nodes share a store: each keeps its own record of each job, one
/// node's run does not touch another's, and nodes silent for long are forgotten.
#[tokio::test]
async fn each_node_keeps_its_own_job_records_and_silent_nodes_are_forgotten() {
    let ts = store().await;
    let s = &ts.store;
    let every = SignedDuration::from_secs(10);
    for (node, at) in [
        ("herald-1@a", "2026-11-01T08:00:00Z"),
        ("herald-2@b", "2026-11-23T08:00:00Z"),
    ] {
        s.job_started("dispatcher", every, node, t(at))
            .await
            .unwrap();
    }
    s.job_finished(
        "dispatcher",
        "herald-2@b",
        t("2026-11-23T08:00:01Z"),
        Err("smtp down"),
    )
    .await
    .unwrap();
    let jobs = s.service_jobs().await.unwrap();
    let summary: Vec<_> = jobs
        .iter()
        .map(|j| (j.holder.as_str(), j.runs, j.last_error.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            ("herald-1@a", 0, None),
            ("herald-2@b", 1, Some("smtp down"))
        ]
    );
    assert_eq!(s.forget_nodes(t("2026-11-16T00:00:00Z")).await.unwrap(), 1);
    let left: Vec<_> = s
        .service_jobs()
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.holder)
        .collect();
    assert_eq!(left, ["herald-2@b"]);
}

#[tokio::test]
async fn released_leases_are_due_again_at_once_and_sent_ones_stay_sent() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    let invoices: Vec<_> = ["I1", "I2"]
        .iter()
        .map(|id| invoice(id, "C1", "2026-11-01", "2026-11-15", "10.00"))
        .collect();
    s.upsert_invoices(&invoices).await.unwrap();
    let notes = vec![
        notice("due-soon:invoice/I1", "C1", "I1", "2026-11-12T08:00:00Z"),
        notice("due-soon:invoice/I2", "C1", "I2", "2026-11-12T08:00:00Z"),
    ];
    s.record_plan(1, t("2026-11-12T08:00:00Z"), &notes)
        .await
        .unwrap();
    let now = t("2026-11-12T09:00:00Z");
    let leased = s
        .lease_due(&LeaseRequest {
            now,
            limit: 10,
            holder: "herald-7".into(),
            lease_for: SignedDuration::from_mins(5),
            only_customers: None,
        })
        .await
        .unwrap();
    assert_eq!(leased.len(), 2);
    s.record_outcome(
        leased[0].delivery.id,
        "herald-7",
        now,
        &AttemptOutcome::Sent {
            provider_id: None,
            detail: "250 ok".into(),
            account: None,
        },
    )
    .await
    .unwrap();
    assert_eq!(s.release_leases("herald-8", now).await.unwrap(), 0);
    assert_eq!(s.release_leases("herald-7", now).await.unwrap(), 1);
    let st = s.status().await.unwrap();
    assert_eq!(st.by_state.get("sent"), Some(&1));
    assert_eq!(st.by_state.get("pending"), Some(&1));
    assert_eq!(st.by_state.get("sending"), None);
}
