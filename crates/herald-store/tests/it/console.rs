//! The console's users, sessions and settings, and its invoice list with a status
//! per rule.

use herald_core::status::DeliveryState;
use herald_store::{
    ConsoleUser, DeliveryListQuery, InvoiceListQuery, InvoiceStanding, Role, StoreError, UserChange,
};

use crate::fixtures::*;

fn user(login: &str, role: Role) -> ConsoleUser {
    ConsoleUser {
        id: 0,
        login: login.into(),
        name: format!("{login} the user"),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        locale: "pl".into(),
        created_at: t("2026-11-20T09:00:00Z"),
        disabled_at: None,
    }
}

#[tokio::test]
async fn a_session_lives_until_it_runs_out_or_its_user_is_disabled() {
    let ts = store().await;
    let s = &ts.store;
    let anna = s
        .create_console_user(&user("anna", Role::Operator), "cli")
        .await
        .unwrap();
    let taken = s
        .create_console_user(&user("anna", Role::Viewer), "cli")
        .await
        .unwrap_err();
    assert!(matches!(taken, StoreError::Constraint(_)), "{taken:?}");

    let at = t("2026-11-23T10:00:00Z");
    s.create_console_session("h1", anna, "csrf-1", at, t("2026-11-23T18:00:00Z"))
        .await
        .unwrap();
    let live = s
        .console_session("h1", t("2026-11-23T11:00:00Z"))
        .await
        .unwrap()
        .expect("a live session");
    assert_eq!(
        (live.user.login.as_str(), live.user.role),
        ("anna", Role::Operator)
    );
    assert_eq!(live.csrf, "csrf-1");
    assert!(s.console_session("h2", at).await.unwrap().is_none());
    // Run out.
    assert!(
        s.console_session("h1", t("2026-11-23T18:00:00Z"))
            .await
            .unwrap()
            .is_none()
    );
    // Kept alive, it lives on.
    s.touch_console_session("h1", t("2026-11-23T17:00:00Z"), t("2026-11-24T01:00:00Z"))
        .await
        .unwrap();
    assert!(
        s.console_session("h1", t("2026-11-23T19:00:00Z"))
            .await
            .unwrap()
            .is_some()
    );
    // Disabled: signed out everywhere, and the audit log says who did it.
    let change = UserChange {
        disabled: Some(true),
        ..Default::default()
    };
    assert!(
        s.change_console_user("anna", &change, "console:root", at)
            .await
            .unwrap()
    );
    assert!(
        !s.change_console_user("nobody", &change, "console:root", at)
            .await
            .unwrap()
    );
    assert!(s.console_session("h1", at).await.unwrap().is_none());
    let enable = UserChange {
        disabled: Some(false),
        ..Default::default()
    };
    s.change_console_user("anna", &enable, "console:root", at)
        .await
        .unwrap();
    assert!(
        s.console_session("h1", at).await.unwrap().is_none(),
        "enabling again does not bring the old sessions back"
    );
    let audit = s.audit_entries(10).await.unwrap();
    let said: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|a| (a.actor.as_str(), a.action.as_str(), a.detail.as_str()))
        .collect();
    assert_eq!(
        said,
        [
            ("console:root", "user.change", "enabled"),
            ("console:root", "user.change", "disabled"),
            ("cli", "user.create", "role operator"),
        ]
    );
    let users = s.console_users().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].disabled_at, None);
}

#[tokio::test]
async fn a_setting_changed_in_the_console_says_who_and_when_and_is_audited() {
    let ts = store().await;
    let s = &ts.store;
    s.set_console_setting(
        "pilot.customers",
        Some("[\"C1\"]"),
        "console:anna",
        t("2026-11-23T10:00:00Z"),
        "C1",
    )
    .await
    .unwrap();
    s.set_console_setting(
        "pilot.customers",
        Some("[\"C1\",\"C2\"]"),
        "console:ola",
        t("2026-11-23T11:00:00Z"),
        "C1, C2",
    )
    .await
    .unwrap();
    let all = s.console_settings().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].value, "[\"C1\",\"C2\"]");
    assert_eq!(all[0].changed_by, "console:ola");
    assert_eq!(all[0].changed_at, t("2026-11-23T11:00:00Z"));
    s.set_console_setting(
        "pilot.customers",
        None,
        "console:anna",
        t("2026-11-23T12:00:00Z"),
        "back to the config file",
    )
    .await
    .unwrap();
    assert!(s.console_settings().await.unwrap().is_empty());
    let audit = s.audit_entries(10).await.unwrap();
    assert_eq!(audit.len(), 3);
    assert_eq!(audit[0].target, "pilot.customers");
    assert_eq!(audit[0].detail, "back to the config file");
}

#[tokio::test]
async fn the_invoice_list_searches_filters_pages_and_carries_each_notice_s_states() {
    let ts = store().await;
    let s = &ts.store;
    seed(s).await;
    let mut acme = customer("C2");
    acme.name = "ACME Sp. z o.o.".into();
    s.upsert_customers(&[acme]).await.unwrap();
    s.upsert_invoices(&[
        invoice("I1", "C1", "2026-11-01", "2026-11-15", "100.00"),
        invoice("I2", "C2", "2026-11-02", "2026-11-30", "200.00"),
        invoice("I3", "C2", "2026-11-03", "2026-11-10", "300.00"),
    ])
    .await
    .unwrap();
    s.upsert_payments(&[payment("P1", "I3", "2026-11-05", "300.00")])
        .await
        .unwrap();
    let q = |search: Option<&str>, standing, limit, offset| InvoiceListQuery {
        search: search.map(Into::into),
        customer: None,
        standing,
        today: d("2026-11-20"),
        limit,
        offset,
    };
    let ids = |page: &(Vec<herald_store::InvoiceListRow>, u64)| {
        (
            page.0
                .iter()
                .map(|r| r.view.invoice.id.to_string())
                .collect::<Vec<_>>(),
            page.1,
        )
    };
    let all = s.invoice_list(&q(None, None, 2, 0)).await.unwrap();
    assert_eq!(ids(&all), (vec!["I3".into(), "I2".into()], 3));
    assert_eq!(all.0[0].customer_name, "ACME Sp. z o.o.");
    let rest = s.invoice_list(&q(None, None, 2, 2)).await.unwrap();
    assert_eq!(ids(&rest), (vec!["I1".into()], 3));
    // Past the end: nothing on the page, and still the whole count.
    let past = s.invoice_list(&q(None, None, 2, 4)).await.unwrap();
    assert_eq!(ids(&past), (vec![], 3));
    let acme = s.invoice_list(&q(Some("acme"), None, 50, 0)).await.unwrap();
    assert_eq!(ids(&acme), (vec!["I3".into(), "I2".into()], 2));
    let by_number = s
        .invoice_list(&q(Some("fv/i1"), None, 50, 0))
        .await
        .unwrap();
    assert_eq!(ids(&by_number), (vec!["I1".into()], 1));
    let open = s
        .invoice_list(&q(None, Some(InvoiceStanding::Open), 50, 0))
        .await
        .unwrap();
    assert_eq!(ids(&open), (vec!["I2".into(), "I1".into()], 2));
    let paid = s
        .invoice_list(&q(None, Some(InvoiceStanding::Paid), 50, 0))
        .await
        .unwrap();
    assert_eq!(ids(&paid), (vec!["I3".into()], 1));
    let overdue = s
        .invoice_list(&q(Some("c"), Some(InvoiceStanding::Overdue), 50, 0))
        .await
        .unwrap();
    assert_eq!(ids(&overdue), (vec!["I1".into()], 1));

    s.record_plan(
        1,
        t("2026-11-12T00:00:00Z"),
        &[
            notice("due-soon:I1", "C1", "I1", "2026-11-12T08:00:00Z"),
            notice("overdue:I1", "C1", "I1", "2026-11-16T08:00:00Z"),
        ],
    )
    .await
    .unwrap();
    let notices = s.invoice_notices(&[iid("I1"), iid("I2")]).await.unwrap();
    let seen: Vec<(&str, &str, Vec<DeliveryState>)> = notices
        .iter()
        .map(|n| (n.invoice.as_str(), n.rule.as_str(), n.states.clone()))
        .collect();
    assert_eq!(
        seen,
        [
            ("I1", "due-soon", vec![DeliveryState::Pending]),
            ("I1", "overdue", vec![DeliveryState::Pending]),
        ]
    );

    // The history: every delivery, newest first, filtered and paged.
    let all = s
        .delivery_list(&DeliveryListQuery {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.1, 2);
    assert_eq!(all.0.len(), 1);
    let newest = &all.0[0];
    assert_eq!(newest.rule_id, "overdue");
    assert_eq!(newest.invoice_id, Some(iid("I1")));
    assert_eq!(
        (newest.invoices, newest.last_response.as_deref()),
        (1, None)
    );
    let by_rule = s
        .delivery_list(&DeliveryListQuery {
            rule: Some("due-soon".into()),
            state: Some(DeliveryState::Pending),
            customer: Some(cid("C1")),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_rule.1, 1);
    assert_eq!(by_rule.0[0].rule_id, "due-soon");
    let none = s
        .delivery_list(&DeliveryListQuery {
            state: Some(DeliveryState::Sent),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((none.0.len(), none.1), (0, 0));
    let older = s
        .delivery_list(&DeliveryListQuery {
            before_id: Some(newest.delivery.id),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(older.0.len(), 1);
    assert_eq!(older.0[0].rule_id, "due-soon");
}
