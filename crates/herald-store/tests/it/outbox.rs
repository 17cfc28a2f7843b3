use std::collections::HashSet;

use herald_core::status::DeliveryState;
use herald_store::{AttemptKind, AttemptOutcome, HistoryFilter, LeaseRequest, Store};
use jiff::{SignedDuration, Timestamp};

use crate::fixtures::*;

fn lease(holder: &str, now: Timestamp, limit: u32) -> LeaseRequest {
    LeaseRequest {
        now,
        limit,
        holder: holder.into(),
        lease_for: SignedDuration::from_secs(60),
        only_customers: None,
    }
}

/// `n` deliverable notices for C1 and C2, firing one minute apart from 08:00.
async fn planned(s: &Store, n: usize) {
    seed(s).await;
    let invoices: Vec<_> = (0..n)
        .map(|i| {
            invoice(
                &format!("I{i}"),
                if i % 2 == 0 { "C1" } else { "C2" },
                "2026-11-01",
                "2026-11-15",
                "10.00",
            )
        })
        .collect();
    s.upsert_invoices(&invoices).await.unwrap();
    let notes: Vec<_> = invoices
        .iter()
        .enumerate()
        .map(|(i, inv)| {
            let fire = t("2026-11-12T08:00:00Z") + SignedDuration::from_mins(i as i64);
            let mut n = notice(
                &format!("due-soon:invoice/{}", inv.id),
                inv.customer_id.as_str(),
                inv.id.as_str(),
                "2026-11-12T08:00:00Z",
            );
            n.fire_at = fire;
            n
        })
        .collect();
    s.record_plan(1, t("2026-11-12T00:00:00Z"), &notes)
        .await
        .unwrap();
}

/// A run's catch-up is due from the day's start and goes in planning order; a
/// notice due later that day keeps its own time.
#[tokio::test]
async fn overdue_notices_are_due_from_the_given_moment_in_the_order_planned() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    let invoices: Vec<_> = ["I1", "I2", "I3"]
        .iter()
        .map(|id| invoice(id, "C1", "2026-11-01", "2026-11-15", "10.00"))
        .collect();
    s.upsert_invoices(&invoices).await.unwrap();
    // Planned in this order: I1 overdue by a day, I2 by five, I3 due at 09:00 today.
    let notes = vec![
        notice("due-soon:invoice/I1", "C1", "I1", "2026-11-11T08:00:00Z"),
        notice("due-soon:invoice/I2", "C1", "I2", "2026-11-07T08:00:00Z"),
        notice("due-soon:invoice/I3", "C1", "I3", "2026-11-12T09:00:00Z"),
    ];
    let day = t("2026-11-12T00:00:00Z");
    s.record_plan_due_from(1, t("2026-11-12T06:00:00Z"), Some(day), &notes)
        .await
        .unwrap();
    let got = s
        .lease_due(&lease("a", t("2026-11-12T10:00:00Z"), 10))
        .await
        .unwrap();
    let order: Vec<(String, Option<Timestamp>)> = got
        .iter()
        .map(|l| (l.invoice_ids[0].to_string(), l.delivery.next_attempt_at))
        .collect();
    assert_eq!(
        order,
        vec![
            ("I1".to_owned(), Some(day)),
            ("I2".to_owned(), Some(day)),
            ("I3".to_owned(), Some(t("2026-11-12T09:00:00Z"))),
        ]
    );
    // The notification keeps its own fire time for the history.
    assert_eq!(got[1].notification.fire_at, t("2026-11-07T08:00:00Z"));
}

#[tokio::test]
async fn concurrent_leasers_never_share_a_delivery() {
    let ts = store().await;
    let s = &ts.store;
    planned(s, 120).await;
    let now = t("2026-11-13T00:00:00Z");
    let mut tasks = Vec::new();
    for k in 0..3 {
        let st = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = st
                    .lease_due(&lease(&format!("sender-{k}"), now, 7))
                    .await
                    .unwrap();
                if batch.is_empty() {
                    break got;
                }
                got.extend(batch.into_iter().map(|l| l.delivery.id));
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 120);
    assert_eq!(unique.len(), 120);
    assert_eq!(s.status().await.unwrap().by_state["sending"], 120);
}

#[tokio::test]
async fn leases_go_in_due_order_and_an_expired_one_is_taken_again() {
    let ts = store().await;
    let s = &ts.store;
    planned(s, 4).await;
    // Only the first two are due at 08:01.
    let first = s
        .lease_due(&lease("a", t("2026-11-12T08:01:00Z"), 10))
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert!(first[0].delivery.next_attempt_at < first[1].delivery.next_attempt_at);
    let l = &first[0];
    assert_eq!(l.delivery.state, DeliveryState::Sending);
    assert_eq!(l.invoice_ids, vec![iid("I0")]);
    assert_eq!(l.notification.dedupe_key, "due-soon:invoice/I0");
    assert_eq!(l.delivery.lease_until, Some(t("2026-11-12T08:02:00Z")));

    // Within the lease nobody else gets them; after it, "b" takes them over.
    let again = s
        .lease_due(&lease("b", t("2026-11-12T08:01:30Z"), 10))
        .await
        .unwrap();
    assert!(
        again.is_empty(),
        "leased to another holder, or not due before 08:02"
    );
    let taken = s
        .lease_due(&lease("b", t("2026-11-12T08:05:00Z"), 10))
        .await
        .unwrap();
    let ids: HashSet<_> = taken.iter().map(|l| l.delivery.id).collect();
    assert!(
        ids.contains(&l.delivery.id),
        "expired lease was not taken again"
    );

    // "a" lost its lease: its outcome is refused and nothing is recorded.
    let sent = AttemptOutcome::Sent {
        provider_id: Some("m-1".into()),
        detail: "250 ok".into(),
        account: Some("ewa".into()),
    };
    assert!(
        !s.record_outcome(l.delivery.id, "a", t("2026-11-12T08:05:01Z"), &sent)
            .await
            .unwrap()
    );
    assert!(
        s.record_outcome(l.delivery.id, "b", t("2026-11-12T08:05:02Z"), &sent)
            .await
            .unwrap()
    );
    // Sent is final: no one leases or records it again.
    assert!(
        !s.record_outcome(l.delivery.id, "b", t("2026-11-12T08:05:03Z"), &sent)
            .await
            .unwrap()
    );
    let h = invoice_history(s, "I0").await;
    let d = &h[0].deliveries[0];
    assert_eq!(d.delivery.state, DeliveryState::Sent);
    assert_eq!(d.delivery.attempts, 1);
    assert_eq!(d.delivery.sent_at, Some(t("2026-11-12T08:05:02Z")));
    assert_eq!(d.delivery.provider_id.as_deref(), Some("m-1"));
    assert_eq!(d.attempt_log.len(), 1);
    // Each account's daily limit counts what went out through it alone.
    let since = t("2026-11-12T00:00:00Z");
    assert_eq!(s.emails_sent_since(Some("ewa"), since).await.unwrap(), 1);
    assert_eq!(s.emails_sent_since(Some("other"), since).await.unwrap(), 0);
    assert_eq!(s.emails_sent_since(None, since).await.unwrap(), 0);
    let later = t("2026-11-12T08:05:03Z");
    assert_eq!(s.emails_sent_since(Some("ewa"), later).await.unwrap(), 0);
}

#[tokio::test]
async fn retry_failure_and_cancel_are_recorded() {
    let ts = store().await;
    let s = &ts.store;
    planned(s, 3).await;
    let now = t("2026-11-13T00:00:00Z");
    let leased = s.lease_due(&lease("a", now, 10)).await.unwrap();
    assert_eq!(leased.len(), 3);
    let (d0, d1, d2) = (
        leased[0].delivery.id,
        leased[1].delivery.id,
        leased[2].delivery.id,
    );
    let retry_at = t("2026-11-13T00:10:00Z");
    let retry = AttemptOutcome::Retry {
        at: retry_at,
        detail: "421 try later".into(),
    };
    assert!(s.record_outcome(d0, "a", now, &retry).await.unwrap());
    let failed = AttemptOutcome::Failed {
        detail: "550 no such user".into(),
    };
    assert!(s.record_outcome(d1, "a", now, &failed).await.unwrap());
    let cancel = AttemptOutcome::Cancelled {
        reason: "paid".into(),
    };
    assert!(s.record_outcome(d2, "a", now, &cancel).await.unwrap());

    assert!(
        s.lease_due(&lease("a", t("2026-11-13T00:09:59Z"), 10))
            .await
            .unwrap()
            .is_empty()
    );
    let again = s.lease_due(&lease("a", retry_at, 10)).await.unwrap();
    assert_eq!(
        again.iter().map(|l| l.delivery.id).collect::<Vec<_>>(),
        vec![d0]
    );
    assert_eq!(again[0].delivery.attempts, 1);
    assert_eq!(again[0].delivery.state, DeliveryState::Sending);

    let st = s.status().await.unwrap();
    assert_eq!(
        (
            st.by_state["failed"],
            st.by_state["cancelled"],
            st.by_state["sending"]
        ),
        (1, 1, 1)
    );
    let h = s.history(&HistoryFilter::default()).await.unwrap();
    let all: Vec<_> = h.iter().flat_map(|e| &e.deliveries).collect();
    let get = |id| all.iter().find(|d| d.delivery.id == id).unwrap();
    assert_eq!(get(d1).delivery.reason.as_deref(), Some("550 no such user"));
    assert_eq!(get(d1).attempt_log[0].outcome, AttemptKind::Permanent);
    assert_eq!(
        get(d2).delivery.attempts,
        0,
        "a cancel is not an attempt to send"
    );
    assert_eq!(get(d2).attempt_log[0].outcome, AttemptKind::Cancelled);
    assert_eq!(get(d0).attempt_log[0].outcome, AttemptKind::Transient);
}

#[tokio::test]
async fn pilot_mode_leases_and_holds_by_customer() {
    let ts = store().await;
    let s = &ts.store;
    planned(s, 6).await;
    let now = t("2026-11-13T00:00:00Z");
    assert_eq!(
        s.hold_reason(&[cid("C2")], "pilot: C1 is not in [pilot] customers")
            .await
            .unwrap(),
        3
    );
    let mut req = lease("a", now, 10);
    req.only_customers = Some(vec![cid("C2")]);
    let got = s.lease_due(&req).await.unwrap();
    assert_eq!(got.len(), 3);
    assert!(
        got.iter()
            .all(|l| l.notification.customer_id == Some(cid("C2")))
    );
    let h = customer_history(s, "C1").await;
    assert!(h.iter().all(|e| e.deliveries[0].delivery.reason.as_deref()
        == Some("pilot: C1 is not in [pilot] customers")));
    assert_eq!(
        s.hold_reason(&[], "pilot: C1 is not in [pilot] customers")
            .await
            .unwrap(),
        0
    );
    let h = customer_history(s, "C1").await;
    assert!(h.iter().all(|e| e.deliveries[0].delivery.reason.is_none()));
}

#[tokio::test]
async fn resend_adds_a_delivery_and_an_audit_row() {
    let ts = store().await;
    let s = &ts.store;
    planned(s, 1).await;
    let now = t("2026-11-13T00:00:00Z");
    let leased = s.lease_due(&lease("a", now, 10)).await.unwrap();
    let first = &leased[0];
    let sent = AttemptOutcome::Sent {
        provider_id: None,
        detail: "250 ok".into(),
        account: None,
    };
    s.record_outcome(first.delivery.id, "a", now, &sent)
        .await
        .unwrap();

    let at = t("2026-11-14T09:00:00Z");
    let id = s
        .resend(
            first.notification.id,
            None,
            Some("due-soon-v2".into()),
            "anna",
            at,
        )
        .await
        .unwrap();
    let other = s
        .resend(
            first.notification.id,
            Some(("+48601234567".into(), "Jan".into())),
            None,
            "anna",
            at,
        )
        .await
        .unwrap();
    let h = invoice_history(s, "I0").await;
    assert_eq!(h.len(), 1);
    let ds: Vec<_> = h[0].deliveries.iter().map(|d| &d.delivery).collect();
    assert_eq!(ds.len(), 3);
    assert_eq!(
        (ds[1].id, ds[1].state, ds[1].resend_of),
        (id, DeliveryState::Pending, Some(first.delivery.id))
    );
    assert_eq!(ds[1].address, first.delivery.address);
    assert_eq!(ds[1].template_override.as_deref(), Some("due-soon-v2"));
    assert_eq!(ds[1].actor.as_deref(), Some("anna"));
    assert_eq!(ds[1].next_attempt_at, Some(at));
    assert_eq!((ds[2].id, ds[2].address.as_str()), (other, "+48601234567"));
    assert_eq!(ds[2].channel, herald_core::rules::ChannelKind::Sms);
    assert_eq!(h[0].deliveries[0].attempt_log.len(), 1);

    let audit = s.audit_entries(10).await.unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].action, "resend");
    assert_eq!(audit[1].actor, "anna");
    assert_eq!(
        audit[1].target,
        format!("notification/{}", first.notification.id)
    );
    assert!(audit[1].detail.contains(&format!("delivery {id}")));

    // The resent delivery is leased like any other.
    let next = s.lease_due(&lease("a", at, 10)).await.unwrap();
    assert_eq!(next.len(), 2);
    assert_eq!(
        next[0].delivery.template_override.as_deref(),
        Some("due-soon-v2")
    );

    assert!(matches!(
        s.resend(9999, None, None, "anna", at).await,
        Err(herald_store::StoreError::NoSuchNotification(9999))
    ));
    s.audit(at, "anna", "pause", "customer/C1", "holiday")
        .await
        .unwrap();
    assert_eq!(s.audit_entries(1).await.unwrap()[0].action, "pause");
}
