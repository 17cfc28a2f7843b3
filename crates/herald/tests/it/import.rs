//! Import through the CLI: refused whole with every error's place, exit code 2,
//! and the database unchanged.

use crate::support::*;

#[test]
fn a_bad_file_is_refused_whole_with_file_line_and_column() {
    let ws = Workspace::new();
    ws.import_basics();
    let f = ws.write(
        "bad.csv",
        "id,number,customer_id,issue_date,due_date,currency,amount,attachment\n\
         I10,FV/10,C1,2026-11-02,2026-11-16,PLN,100.00,\n\
         I11,FV/11,C9,2026-11-02,2026-11-16,PLN,100.00,\n\
         I12,FV/12,C1,2026-02-30,2026-11-16,PLN,100.00,\n\
         I13,FV/13,C1,2026-11-02,2026-11-16,PLN,-5,\n\
         I14,FV/14,C1,2026-11-02,2026-11-16,PNL,5,\n\
         I10,FV/15,C1,2026-11-02,2026-11-16,PLN,5,\n",
    );
    let out = ws.herald(&["import", "invoices", "bad.csv"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let name = f.display().to_string();
    for (line, col) in [
        (3, "customer_id"),
        (4, "issue_date"),
        (5, "amount"),
        (6, "currency"),
        (7, "id"),
    ] {
        let place = format!(":{line}:{col}:");
        assert!(
            err.lines()
                .any(|l| l.contains(&place) && l.contains("bad.csv")),
            "missing {place} in:\n{err}\n({name})"
        );
    }
    assert!(err.contains("nothing was imported"), "{err}");
    // Nothing was written: I10 (a good row) is not there.
    let hist = ws.herald(&[
        "preview",
        "new-invoice",
        "--customer",
        "C1",
        "--invoice",
        "I10",
    ]);
    assert_eq!(
        hist.status.code(),
        Some(2),
        "I10 must not exist after a refused import"
    );

    // --skip-invalid imports the good row and lists the bad ones.
    let out = ws.ok(&["import", "invoices", "bad.csv", "--skip-invalid"]);
    assert!(out.contains("1 new") && out.contains("skipped"), "{out}");
}

#[test]
fn contacts_and_payments_are_validated_too() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "contacts.json",
        r#"[
  {"customer_id": "C1", "role": "billing", "name": "X", "email": "not-an-address", "phone": "", "email_opt_in": true, "sms_opt_in": false},
  {"customer_id": "C1", "role": "billing", "name": "Y", "email": "", "phone": "601234567", "email_opt_in": false, "sms_opt_in": true}
]"#,
    );
    let out = ws.herald(&["import", "contacts", "contacts.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("contacts.json:2:email:"), "{err}");
    assert!(err.contains("contacts.json:3:phone:"), "{err}");

    ws.write(
        "payments.csv",
        "id,invoice_id,date,amount\nP1,I1,2026-11-10,2000.00\n",
    );
    let out = ws.herald(&["import", "payments", "payments.csv"]);
    assert_ok(&out, "import payments (an overpayment is a warning)");
    assert!(
        stderr(&out).contains("warning") && stderr(&out).contains("credit"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn relations_link_operators_to_customers_and_a_second_import_changes_nothing() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "operators.csv",
        "id,name,email,roles\nop-ewa,Ewa Nowak,ewa@biuro.example.pl,accounting\nop-jan,Jan Wiśniewski,jan@biuro.example.pl,hr\n",
    );
    ws.ok(&["import", "operators", "operators.csv"]);
    ws.write(
        "relations.csv",
        "customer_id,operator_id,relation\nC1,op-ewa,accounting_manager\nC1,op-jan,hr_manager\nC2,op-ewa,accounting_manager\n",
    );
    let out = ws.ok(&["import", "relations", "relations.csv"]);
    assert!(out.contains("imported 3 relations: 3 new"), "{out}");
    let out = ws.ok(&["import", "relations", "relations.csv"]);
    assert!(out.contains("0 new, 0 updated, 3 unchanged"), "{out}");

    ws.write(
        "bad.csv",
        "customer_id,operator_id,relation\nC1,op-nobody,account_manager\n",
    );
    let out = ws.herald(&["import", "relations", "bad.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "bad.csv:2:operator_id: operator 'op-nobody' does not exist: import operators first"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn tasks_are_imported_and_a_second_import_changes_nothing() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "tasks.csv",
        "id,title,customer_id,starts_at,recurrence\nT1,VAT return,C1,2026-11-25 10:00,monthly\nT2,Visit,C2,2026-11-23 09:30,\n",
    );
    let out = ws.ok(&["import", "tasks", "tasks.csv"]);
    assert!(out.contains("imported 2 tasks: 2 new"), "{out}");
    let out = ws.ok(&["import", "tasks", "tasks.csv"]);
    assert!(out.contains("0 new, 0 updated, 2 unchanged"), "{out}");
    ws.write(
        "tasks.csv",
        "id,title,customer_id,starts_at,recurrence\nT1,VAT return,C1,2026-11-25 11:00,monthly\n",
    );
    let out = ws.ok(&["import", "tasks", "tasks.csv"]);
    assert!(out.contains("0 new, 1 updated"), "{out}");
}

#[test]
fn unknown_columns_are_refused_unless_asked() {
    let ws = Workspace::new();
    ws.write(
        "customers.csv",
        "id,name,group,locale,time_zone,vat_id\nC1,A,,pl,,PL123\n",
    );
    let out = ws.herald(&["import", "customers", "customers.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("vat_id") && stderr(&out).contains("--ignore-unknown-columns"),
        "{}",
        stderr(&out)
    );
    ws.ok(&[
        "import",
        "customers",
        "customers.csv",
        "--ignore-unknown-columns",
    ]);
}
