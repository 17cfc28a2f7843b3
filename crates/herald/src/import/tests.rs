use std::str::FromStr;

use super::*;
use herald_core::values::Locale;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn known() -> Known {
    let mut k = Known::default();
    for c in ["C1", "C2"] {
        k.customers.insert(CustomerId::parse(c).unwrap());
    }
    k.operators
        .insert(herald_core::OperatorId::parse("O1").unwrap());
    k.invoices.insert(
        InvoiceId::parse("I1").unwrap(),
        KnownInvoice {
            customer_id: CustomerId::parse("C1").unwrap(),
            currency: Currency::parse("PLN").unwrap(),
            amount: dec("100.00"),
            paid: Decimal::ZERO,
            payments: HashMap::new(),
        },
    );
    k.invoices.insert(
        InvoiceId::parse("I2").unwrap(),
        KnownInvoice {
            customer_id: CustomerId::parse("C2").unwrap(),
            currency: Currency::parse("EUR").unwrap(),
            amount: dec("200"),
            paid: dec("150"),
            payments: HashMap::from([(PaymentId::parse("P1").unwrap(), dec("150"))]),
        },
    );
    k
}

const STRICT: ImportOptions = ImportOptions {
    ignore_unknown_columns: false,
    skip_invalid: false,
};
const SKIP: ImportOptions = ImportOptions {
    ignore_unknown_columns: false,
    skip_invalid: true,
};

fn parse(kind: RecordKind, path: &Path) -> ParseReport {
    parse_file(kind, path, &known(), &STRICT, None).unwrap()
}

/// Errors as `name:LINE:COLUMN: reason`, the file shown by its name only.
fn shown(problems: &[RowProblem]) -> Vec<String> {
    problems
        .iter()
        .map(|p| {
            let name = p.file.file_name().unwrap().to_string_lossy().into_owned();
            RowProblem {
                file: PathBuf::from(name),
                ..p.clone()
            }
            .to_string()
        })
        .collect()
}

fn one_error(kind: RecordKind, name: &str, content: &str) -> String {
    let fx = Fixture::new();
    let report = parse(kind, &fx.file(name, content));
    let errors = shown(&report.errors);
    assert_eq!(errors.len(), 1, "expected one error, got {errors:#?}");
    errors.into_iter().next().unwrap()
}

fn assert_starts(actual: &str, expected_prefix: &str) {
    assert!(
        actual.starts_with(expected_prefix),
        "\n  actual: {actual}\nexpected: {expected_prefix}…"
    );
}

const INV_HEADER: &str = "id,number,customer_id,issue_date,due_date,currency,amount\n";

fn invoices(rows: &str) -> String {
    format!("{INV_HEADER}{rows}")
}

// ---- kinds and formats -------------------------------------------------------------

#[test]
fn record_kind_names_round_trip() {
    for k in RecordKind::ALL {
        assert_eq!(RecordKind::from_str(k.as_str()).unwrap(), k);
    }
    assert_eq!(
        RecordKind::from_str(" Invoices ").unwrap(),
        RecordKind::Invoices
    );
    assert!(
        RecordKind::from_str("bills")
            .unwrap_err()
            .contains("customers, contacts")
    );
}

#[test]
fn unknown_extension_names_the_accepted_ones() {
    let fx = Fixture::new();
    let e = parse_file(
        RecordKind::Invoices,
        &fx.file("x.xlsx", ""),
        &known(),
        &STRICT,
        None,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("'.xlsx' is not a known file type"), "{msg}");
    assert!(
        msg.contains(".csv, .json") && msg.contains(".jsonl or .ndjson"),
        "{msg}"
    );
}

#[test]
fn unreadable_file_says_path_and_os_error() {
    let fx = Fixture::new();
    let path = fx.dir.path().join("missing.csv");
    let e = parse_file(RecordKind::Invoices, &path, &known(), &STRICT, None).unwrap_err();
    assert!(matches!(e, ImportError::Read { .. }));
    let msg = e.to_string();
    assert!(
        msg.starts_with("cannot read ") && msg.contains("missing.csv") && msg.contains("os error"),
        "{msg}"
    );
}

#[test]
fn header_missing_columns_names_them_all_and_shows_the_expected_header() {
    let fx = Fixture::new();
    let path = fx.file(
        "invoices.csv",
        "id,number,customer_id,issue_date,amount\nI9,1,C1,2026-11-01,5\n",
    );
    let e = parse_file(RecordKind::Invoices, &path, &known(), &STRICT, None).unwrap_err();
    match &e {
        ImportError::MissingColumns { missing, .. } => {
            assert_eq!(missing, &["due_date", "currency"])
        }
        other => panic!("{other}"),
    }
    let msg = e.to_string();
    assert!(
        msg.contains("invoices.csv:1: the header lacks the required columns due_date, currency"),
        "{msg}"
    );
    assert!(
        msg.contains("expected header: id,number,customer_id,issue_date,due_date,currency,amount,attachment (optional: attachment)"),
        "{msg}"
    );
}

#[test]
fn header_is_case_insensitive_trimmed_in_any_order_and_semicolons_work() {
    let fx = Fixture::new();
    let path = fx.file(
        "invoices.csv",
        "\u{feff} Amount ;CURRENCY;due_date;issue_date;customer_id;number;id\n1234.50;pln;2026-11-30;2026-11-01;C1;FV/2026/11/001;I9\n",
    );
    let report = parse(RecordKind::Invoices, &path);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let Parsed::Invoices(v) = report.parsed else {
        panic!()
    };
    assert_eq!(v[0].number, "FV/2026/11/001");
    assert_eq!(v[0].amount, dec("1234.5"));
    assert_eq!(v[0].currency.code(), "PLN");
    assert_eq!(v[0].attachment, None);
}

#[test]
fn duplicate_header_column_is_refused() {
    let fx = Fixture::new();
    let path = fx.file("payments.csv", "id,invoice_id,date,amount,ID\n");
    let e = parse_file(RecordKind::Payments, &path, &known(), &STRICT, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("payments.csv:1: column 'id' appears twice"),
        "{e}"
    );
}

#[test]
fn unknown_columns_are_refused_without_the_flag() {
    let fx = Fixture::new();
    let path = fx.file(
        "payments.csv",
        "id,invoice_id,date,amount,note,Bank\nP9,I1,2026-11-02,10\n",
    );
    let e = parse_file(RecordKind::Payments, &path, &known(), &STRICT, None).unwrap_err();
    match &e {
        ImportError::UnknownColumns { unknown, .. } => assert_eq!(unknown, &["note", "bank"]),
        other => panic!("{other}"),
    }
    let msg = e.to_string();
    assert!(msg.contains("unknown columns 'note', 'bank'"), "{msg}");
    assert!(msg.contains("--ignore-unknown-columns"), "{msg}");
}

#[test]
fn unknown_columns_are_ignored_with_the_flag_and_noted() {
    let fx = Fixture::new();
    let path = fx.file(
        "payments.csv",
        "id,invoice_id,date,amount,note\nP9,I1,2026-11-02,10,thanks\n",
    );
    let opts = ImportOptions {
        ignore_unknown_columns: true,
        skip_invalid: false,
    };
    let report = parse_file(RecordKind::Payments, &path, &known(), &opts, None).unwrap();
    assert!(report.errors.is_empty());
    assert_eq!(report.parsed.len(), 1);
    assert_eq!(
        shown(&report.warnings),
        ["payments.csv:1:note: column 'note' is not a payments column: ignored"]
    );
}

#[test]
fn empty_csv_needs_a_header() {
    let fx = Fixture::new();
    let e = parse_file(
        RecordKind::Customers,
        &fx.file("c.csv", ""),
        &known(),
        &STRICT,
        None,
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("a header row is required, e.g. id,name,group,locale,time_zone"),
        "{e}"
    );
}

#[test]
fn a_row_with_the_wrong_number_of_fields_is_a_row_error() {
    let err = one_error(
        RecordKind::Invoices,
        "invoices.csv",
        &invoices(
            "I8,1,C1,2026-11-01,2026-11-05,PLN,5\nI9,1,C1,2026-11-01,2026-11-05,PLN,5,x.pdf,extra\n",
        ),
    );
    assert_eq!(err, "invoices.csv:3: has 9 fields but the header has 7");
}

// ---- invoices ------------------------------------------------------------------------

#[test]
fn invoice_impossible_date_is_explained() {
    let err = one_error(
        RecordKind::Invoices,
        "invoices.csv",
        &invoices("I9,FV/1,C1,2026-02-01,2026-02-30,PLN,10\n"),
    );
    assert_eq!(
        err,
        "invoices.csv:2:due_date: '2026-02-30' is not a date: February 2026 has 28 days"
    );
}

#[test]
fn invoice_date_in_another_format_is_explained() {
    let err = one_error(
        RecordKind::Invoices,
        "invoices.csv",
        &invoices("I9,FV/1,C1,22.11.2026,2026-12-01,PLN,10\n"),
    );
    assert_eq!(
        err,
        "invoices.csv:2:issue_date: '22.11.2026' is not a date: write it as YYYY-MM-DD, e.g. 2026-11-22"
    );
}

#[test]
fn invoice_due_before_issue_is_an_error() {
    let err = one_error(
        RecordKind::Invoices,
        "invoices.csv",
        &invoices("I9,FV/1,C1,2026-11-10,2026-11-01,PLN,10\n"),
    );
    assert_eq!(
        err,
        "invoices.csv:2:due_date: due_date 2026-11-01 is before issue_date 2026-11-10"
    );
}

#[test]
fn invoice_amounts_negative_malformed_or_too_precise_are_errors() {
    let fx = Fixture::new();
    let path = fx.file(
        "invoices.csv",
        &invoices(
            "I11,A,C1,2026-11-01,2026-11-05,PLN,-5\nI12,B,C1,2026-11-01,2026-11-05,PLN,\"1,50\"\nI3,C,C1,2026-11-01,2026-11-05,PLN,1.005\nI4,D,C1,2026-11-01,2026-11-05,JPY,10.5\n",
        ),
    );
    let errors = shown(&parse(RecordKind::Invoices, &path).errors);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert_starts(&errors[0], "invoices.csv:2:amount: '-5' is negative");
    assert_starts(&errors[1], "invoices.csv:3:amount: '1,50' is not an amount");
    assert_starts(
        &errors[2],
        "invoices.csv:4:amount: '1.005' has more decimals than PLN allows (2)",
    );
    assert_starts(
        &errors[3],
        "invoices.csv:5:amount: '10.5' has more decimals than JPY allows (0)",
    );
}

#[test]
fn invoice_unknown_currency_is_an_error() {
    let err = one_error(
        RecordKind::Invoices,
        "invoices.csv",
        &invoices("I9,FV/1,C1,2026-11-01,2026-11-05,PNL,10\n"),
    );
    assert_starts(
        &err,
        "invoices.csv:2:currency: 'PNL' is not an ISO 4217 currency code",
    );
}

#[test]
fn invoice_unknown_customer_is_an_error() {
    let err = one_error(
        RecordKind::Invoices,
        "invoices.csv",
        &invoices("I9,FV/1,C9,2026-11-01,2026-11-05,PLN,10\n"),
    );
    assert_eq!(
        err,
        "invoices.csv:2:customer_id: customer 'C9' does not exist: import customers first"
    );
}

#[test]
fn invoice_duplicate_id_names_the_first_line() {
    let err = one_error(
        RecordKind::Invoices,
        "invoices.csv",
        &invoices(
            "I9,A,C1,2026-11-01,2026-11-05,PLN,10\nI10,B,C1,2026-11-01,2026-11-05,PLN,10\nI9,C,C1,2026-11-01,2026-11-05,PLN,10\n",
        ),
    );
    assert_eq!(
        err,
        "invoices.csv:4:id: invoice 'I9' already appears on line 2"
    );
}

#[test]
fn invoice_empty_id_and_number_are_errors() {
    let fx = Fixture::new();
    let path = fx.file(
        "invoices.csv",
        &invoices(" ,,C1,2026-11-01,2026-11-05,PLN,10\n"),
    );
    let errors = shown(&parse(RecordKind::Invoices, &path).errors);
    assert_eq!(
        errors,
        [
            "invoices.csv:2:id: is empty; every record needs an id",
            "invoices.csv:2:number: is empty"
        ]
    );
}

#[test]
fn invoice_attachment_is_resolved_against_the_file_and_a_missing_one_is_a_warning() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.dir.path().join("pdf")).unwrap();
    std::fs::write(fx.dir.path().join("pdf/a.pdf"), b"%PDF").unwrap();
    let path = fx.file(
        "invoices.csv",
        "id,number,customer_id,issue_date,due_date,currency,amount,attachment\nI8,A,C1,2026-11-01,2026-11-05,PLN,10,pdf/a.pdf\nI9,B,C1,2026-11-01,2026-11-05,PLN,10,pdf/missing.pdf\n",
    );
    let report = parse(RecordKind::Invoices, &path);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let Parsed::Invoices(v) = &report.parsed else {
        panic!()
    };
    let expected = fx.dir.path().join("pdf/a.pdf");
    assert_eq!(v[0].attachment.as_deref(), Some(expected.to_str().unwrap()));
    assert!(Path::new(v[1].attachment.as_deref().unwrap()).is_absolute());
    let warnings = shown(&report.warnings);
    assert_eq!(warnings.len(), 1);
    assert_starts(&warnings[0], "invoices.csv:3:attachment: attachment '");
    assert!(
        warnings[0].contains("missing.pdf' does not exist"),
        "{}",
        warnings[0]
    );
}

#[test]
fn invoice_reimport_cannot_change_the_currency_of_a_paid_invoice() {
    let err = one_error(
        RecordKind::Invoices,
        "invoices.csv",
        &invoices("I2,X,C2,2026-11-01,2026-11-05,PLN,200\n"),
    );
    assert_eq!(
        err,
        "invoices.csv:2:currency: invoice 'I2' already has payments in EUR; its currency cannot change to PLN"
    );
}

// ---- payments ------------------------------------------------------------------------

const PAY_HEADER: &str = "id,invoice_id,date,amount\n";

#[test]
fn payment_for_an_unknown_invoice_is_an_error() {
    let err = one_error(
        RecordKind::Payments,
        "payments.csv",
        &format!("{PAY_HEADER}P9,I9,2026-11-02,10\n"),
    );
    assert_eq!(
        err,
        "payments.csv:2:invoice_id: invoice 'I9' does not exist: import invoices first"
    );
}

#[test]
fn payment_amount_must_be_positive() {
    let fx = Fixture::new();
    let path = fx.file(
        "payments.csv",
        &format!("{PAY_HEADER}P8,I1,2026-11-02,0\nP9,I1,2026-11-02,-3\n"),
    );
    let errors = shown(&parse(RecordKind::Payments, &path).errors);
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors[0],
        "payments.csv:2:amount: is zero: a payment must be greater than zero"
    );
    assert_starts(&errors[1], "payments.csv:3:amount: '-3' is negative");
}

#[test]
fn payment_duplicate_id_names_the_first_line() {
    let err = one_error(
        RecordKind::Payments,
        "payments.csv",
        &format!("{PAY_HEADER}P8,I1,2026-11-02,10\nP8,I1,2026-11-03,10\n"),
    );
    assert_eq!(
        err,
        "payments.csv:3:id: payment 'P8' already appears on line 2"
    );
}

#[test]
fn overpayment_is_a_warning_and_kept_as_credit() {
    let fx = Fixture::new();
    let path = fx.file(
        "payments.csv",
        &format!("{PAY_HEADER}P8,I1,2026-11-02,60\nP9,I1,2026-11-03,52.5\n"),
    );
    let report = parse(RecordKind::Payments, &path);
    assert!(report.errors.is_empty());
    assert_eq!(report.parsed.len(), 2);
    assert_eq!(
        shown(&report.warnings),
        [
            "payments.csv:3:amount: payment P9 exceeds the balance of invoice I1 by 12.50 PLN: kept as a credit"
        ]
    );
}

#[test]
fn reimported_payment_replaces_the_recorded_one() {
    let fx = Fixture::new();
    // I2: 200 EUR, P1 = 150 recorded. Re-importing P1 as 180 leaves 20 open: no warning.
    let path = fx.file(
        "payments.csv",
        &format!("{PAY_HEADER}P1,I2,2026-11-02,180\n"),
    );
    let report = parse(RecordKind::Payments, &path);
    assert!(
        report.errors.is_empty() && report.warnings.is_empty(),
        "{:?}",
        report.warnings
    );
    // A new payment of 60 on top of the recorded 150 overpays by 10.
    let path = fx.file(
        "payments2.csv",
        &format!("{PAY_HEADER}P2,I2,2026-11-02,60\n"),
    );
    let report = parse(RecordKind::Payments, &path);
    assert_eq!(
        shown(&report.warnings),
        [
            "payments2.csv:2:amount: payment P2 exceeds the balance of invoice I2 by 10.00 EUR: kept as a credit"
        ]
    );
}

// ---- contacts ------------------------------------------------------------------------

const CONTACT_HEADER: &str = "customer_id,role,name,email,phone,email_opt_in,sms_opt_in\n";

#[test]
fn contact_booleans_in_four_languages() {
    let fx = Fixture::new();
    let path = fx.file(
        "contacts.csv",
        &format!(
            "{CONTACT_HEADER}C1,Billing,Jan,jan@example.pl,+48 601 234 567,TAK,nie\nC1,billing,Eva,eva@example.cz,+420601234567,ano,Ne\nC2,billing,Ion,ion@example.ro,+40721234567,Da,nu\nC2,accounting,Ann,ann@example.co.uk,,1,\n"
        ),
    );
    let report = parse(RecordKind::Contacts, &path);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let Parsed::Contacts(v) = report.parsed else {
        panic!()
    };
    assert_eq!(v.len(), 4);
    assert_eq!(v[0].role, "billing");
    assert_eq!(v[0].phone.as_ref().unwrap().as_str(), "+48601234567");
    assert!(v.iter().all(|c| c.email_opt_in && !c.sms_opt_in));
    assert_eq!(v[3].phone, None);
}

#[test]
fn contact_bad_boolean_is_an_error() {
    let err = one_error(
        RecordKind::Contacts,
        "contacts.csv",
        &format!("{CONTACT_HEADER}C1,billing,Jan,jan@example.pl,,maybe,no\n"),
    );
    assert_starts(
        &err,
        "contacts.csv:2:email_opt_in: 'maybe' is not a yes/no value",
    );
}

#[test]
fn contact_needs_an_email_or_a_phone() {
    let err = one_error(
        RecordKind::Contacts,
        "contacts.csv",
        &format!("{CONTACT_HEADER}C1,billing,Jan,,,no,no\n"),
    );
    assert_eq!(
        err,
        "contacts.csv:2:email: a contact needs an email or a phone; both are empty"
    );
}

#[test]
fn contact_opt_in_without_the_address_is_an_error() {
    let err = one_error(
        RecordKind::Contacts,
        "contacts.csv",
        &format!("{CONTACT_HEADER}C1,billing,Jan,,+48601234567,yes,yes\n"),
    );
    assert_eq!(
        err,
        "contacts.csv:2:email_opt_in: email_opt_in is true but email is empty"
    );
    let err = one_error(
        RecordKind::Contacts,
        "contacts.csv",
        &format!("{CONTACT_HEADER}C1,billing,Jan,jan@example.pl,,yes,yes\n"),
    );
    assert_eq!(
        err,
        "contacts.csv:2:sms_opt_in: sms_opt_in is true but phone is empty"
    );
}

#[test]
fn contact_bad_email_and_phone_are_errors() {
    let fx = Fixture::new();
    let path = fx.file(
        "contacts.csv",
        &format!("{CONTACT_HEADER}C1,billing,Jan,jan@@example.pl,601234567,yes,yes\n"),
    );
    let errors = shown(&parse(RecordKind::Contacts, &path).errors);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert_starts(
        &errors[0],
        "contacts.csv:2:email: 'jan@@example.pl' is not an e-mail address",
    );
    assert_starts(
        &errors[1],
        "contacts.csv:2:phone: '601234567' is not in E.164 form",
    );
}

#[test]
fn contact_unknown_customer_is_an_error() {
    let err = one_error(
        RecordKind::Contacts,
        "contacts.csv",
        &format!("{CONTACT_HEADER}C9,billing,Jan,jan@example.pl,,yes,no\n"),
    );
    assert_eq!(
        err,
        "contacts.csv:2:customer_id: customer 'C9' does not exist: import customers first"
    );
}

#[test]
fn contact_duplicate_names_the_first_line() {
    let err = one_error(
        RecordKind::Contacts,
        "contacts.csv",
        &format!(
            "{CONTACT_HEADER}C1,billing,Jan,jan@example.pl,,yes,no\nC1,Billing,Jan,jan2@example.pl,,yes,no\n"
        ),
    );
    assert_eq!(
        err,
        "contacts.csv:3:name: contact (C1, billing, 'Jan') already appears on line 2"
    );
}

// ---- customers and operators ---------------------------------------------------------

#[test]
fn customers_locale_and_time_zone_are_checked_and_empty_means_default() {
    let fx = Fixture::new();
    let path = fx.file(
        "customers.csv",
        "id,name,group,locale,time_zone\nC1,Kowalski sp. z o.o.,vip,pl-PL,Europe/Warsaw\nC2,Harbour Ltd,,,\nC3,X,,de,Europe/Berlin\nC4,Y,,en,Europe/Londn\nC1,Z,,,\n",
    );
    let report = parse(RecordKind::Customers, &path);
    let errors = shown(&report.errors);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_starts(
        &errors[0],
        "customers.csv:4:locale: 'de' is not a supported locale",
    );
    assert_starts(
        &errors[1],
        "customers.csv:5:time_zone: 'Europe/Londn' is not a known IANA time zone",
    );
    assert_eq!(
        errors[2],
        "customers.csv:6:id: customer 'C1' already appears on line 2"
    );
    let Parsed::Customers(v) = report.parsed else {
        panic!()
    };
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].locale, Some(Locale::Pl));
    assert_eq!(v[0].group.as_deref(), Some("vip"));
    assert_eq!(v[0].time_zone.as_ref().unwrap().as_str(), "Europe/Warsaw");
    assert_eq!(
        (v[1].locale, &v[1].time_zone, &v[1].group),
        (None, &None, &None)
    );
}

#[test]
fn customer_without_a_name_is_an_error() {
    let err = one_error(RecordKind::Customers, "customers.csv", "id,name\nC1,  \n");
    assert_eq!(err, "customers.csv:2:name: is empty");
}

#[test]
fn operator_roles_split_on_semicolon_or_bar_and_from_json_arrays() {
    let fx = Fixture::new();
    let path = fx.file("operators.csv", "id,name,email,roles\nO1,Anna,anna@example.pl,dunning; admin|dunning\nO2,Petr,,\nO1,Dup,,\n");
    let report = parse(RecordKind::Operators, &path);
    assert_eq!(
        shown(&report.errors),
        ["operators.csv:4:id: operator 'O1' already appears on line 2"]
    );
    let Parsed::Operators(v) = report.parsed else {
        panic!()
    };
    assert_eq!(v[0].roles, ["dunning", "admin"]);
    assert!(v[1].roles.is_empty());

    let path = fx.file(
        "operators.json",
        r#"[{"id": "O3", "name": "Ion", "roles": ["customs", "admin"], "locale": "ro"}]"#,
    );
    let report = parse(RecordKind::Operators, &path);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let Parsed::Operators(v) = report.parsed else {
        panic!()
    };
    assert_eq!(v[0].roles, ["customs", "admin"]);
    assert_eq!(v[0].locale, Some(Locale::Ro));
}

#[test]
fn relations_name_a_known_customer_and_operator_once_each() {
    let fx = Fixture::new();
    let path = fx.file(
        "relations.csv",
        "customer_id,operator_id,relation\n\
         C1,O1,Accounting_Manager\n\
         C9,O1,account_manager\n\
         C2,O7,hr_manager\n\
         C1,O1,accounting_manager\n\
         C2,O1,account manager\n\
         C2,O1,hr_manager\n",
    );
    let report = parse(RecordKind::Relations, &path);
    assert_eq!(
        shown(&report.errors),
        [
            "relations.csv:3:customer_id: customer 'C9' does not exist: import customers first",
            "relations.csv:4:operator_id: operator 'O7' does not exist: import operators first",
            "relations.csv:5:relation: relation (C1, O1, accounting_manager) already appears on line 2",
            "relations.csv:6:relation: 'account manager' is not a relation name: use letters, digits, '_' and '-', e.g. accounting_manager",
        ]
    );
    let Parsed::Relations(v) = report.parsed else {
        panic!()
    };
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].relation, "accounting_manager", "lower case");
    assert_eq!(v[1].operator_id.as_str(), "O1");
}

#[test]
fn tasks_start_at_a_local_time_and_repeat_as_written() {
    let fx = Fixture::new();
    let path = fx.file(
        "tasks.csv",
        "id,title,customer_id,operator_id,starts_at,time_zone,recurrence,template\n\
         T1,VAT return,C1,O1,2026-11-25 10:00,,monthly,\n\
         T2,Visit,C2,,2026-11-23T09:30:00,Europe/Prague,,visit-reminder\n\
         T3,Payroll,C1,O7,2026-11-23 10:00,,,\n\
         T4,Audit,C1,,23.11.2026 10:00,,,\n\
         T5,Call,C1,,2026-11-23 10:00+01:00,,,\n\
         T6,Report,C1,,2026-11-23 10:00,Mars/Olympus,fortnightly,\n\
         T7,Zażółć,C1,,2026-11-2ą 10:00,,,\n",
    );
    let report = parse(RecordKind::Tasks, &path);
    let errors = shown(&report.errors);
    assert_eq!(errors.len(), 6, "{errors:?}");
    assert!(
        errors[5].starts_with("tasks.csv:8:starts_at:"),
        "{errors:?}"
    );
    assert!(
        errors[0].starts_with("tasks.csv:4:operator_id: operator 'O7' does not exist"),
        "{errors:?}"
    );
    assert!(
        errors[1]
            .starts_with("tasks.csv:5:starts_at: '23.11.2026 10:00' is not a local date and time"),
        "{errors:?}"
    );
    assert!(
        errors[2].starts_with("tasks.csv:6:starts_at:"),
        "{errors:?}"
    );
    assert!(
        errors[3].starts_with("tasks.csv:7:time_zone:"),
        "{errors:?}"
    );
    assert!(
        errors[4].starts_with("tasks.csv:7:recurrence: 'fortnightly' is not a recurrence"),
        "{errors:?}"
    );
    let Parsed::Tasks(v) = report.parsed else {
        panic!()
    };
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].starts_at.to_string(), "2026-11-25T10:00:00");
    assert_eq!(v[0].recurrence, herald_core::tasks::Recurrence::Monthly);
    assert_eq!(
        v[1].time_zone.as_ref().map(|z| z.as_str()),
        Some("Europe/Prague")
    );
    assert_eq!(v[1].template.as_deref(), Some("visit-reminder"));
    assert_eq!(v[1].operator_id, None);
}

// ---- JSON ----------------------------------------------------------------------------

#[test]
fn json_array_happy_path_and_errors_on_the_objects_line() {
    let fx = Fixture::new();
    let path = fx.file(
        "invoices.json",
        r#"[
  {"id": "I8", "number": "FV/2026/11/001", "customer_id": "C1", "issue_date": "2026-11-01",
   "due_date": "2026-11-15", "currency": "PLN", "amount": 1234.5},
  {
    "id": "I9", "number": "FV/2026/11/002", "customer_id": "C1", "issue_date": "2026-11-01",
    "due_date": "2026-11-31", "currency": "PLN", "amount": "99.99"
  },
  {"id": "I10", "number": "FV/2026/11/003", "customer_id": "C1", "issue_date": "2026-11-01",
   "currency": "PLN", "amount": {"x": 1}}
]
"#,
    );
    let report = parse(RecordKind::Invoices, &path);
    assert_eq!(report.rows_read, 3);
    assert_eq!(
        shown(&report.errors),
        [
            "invoices.json:4:due_date: '2026-11-31' is not a date: November 2026 has 30 days",
            "invoices.json:8:due_date: is missing",
            "invoices.json:8:amount: expected a single value, found an object",
        ]
    );
    let Parsed::Invoices(v) = report.parsed else {
        panic!()
    };
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].amount, dec("1234.5"));
}

#[test]
fn jsonl_happy_path_and_errors_with_lines() {
    let fx = Fixture::new();
    let content = "{\"id\":\"P8\",\"invoice_id\":\"I1\",\"date\":\"2026-11-02\",\"amount\":\"10\"}\n\n{\"id\":\"P9\",\"invoice_id\":\"I7\",\"date\":\"2026-11-02\",\"amount\":5}\n";
    for name in ["payments.jsonl", "payments.ndjson", "payments.json"] {
        let report = parse(RecordKind::Payments, &fx.file(name, content));
        assert_eq!(
            shown(&report.errors),
            [format!(
                "{name}:3:invoice_id: invoice 'I7' does not exist: import invoices first"
            )]
        );
        assert_eq!(report.parsed.len(), 1);
    }
}

#[test]
fn malformed_json_is_refused_with_its_line() {
    let fx = Fixture::new();
    let path = fx.file("payments.jsonl", "{\"id\":\"P8\",\"invoice_id\":\"I1\",\"date\":\"2026-11-02\",\"amount\":\"10\"}\n{\"id\": \"P9\",\n \"amount\" 5}\n");
    let e = parse_file(RecordKind::Payments, &path, &known(), &STRICT, None).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("payments.jsonl:3: malformed JSON: expected `:`"),
        "{msg}"
    );

    let path = fx.file("payments.json", "[{\"id\":\"P8\"} {\"id\":\"P9\"}]");
    let e = parse_file(RecordKind::Payments, &path, &known(), &STRICT, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("payments.json:1: expected ',' or ']' after an object"),
        "{e}"
    );

    let path = fx.file("payments2.json", "[1, 2]");
    let e = parse_file(RecordKind::Payments, &path, &known(), &STRICT, None).unwrap_err();
    assert!(e.to_string().contains("expected an object"), "{e}");
}

#[test]
fn json_unknown_fields_follow_the_flag() {
    let fx = Fixture::new();
    let path = fx.file(
        "payments.jsonl",
        "{\"id\":\"P8\",\"invoice_id\":\"I1\",\"date\":\"2026-11-02\",\"amount\":\"10\"}\n{\"id\":\"P9\",\"invoice_id\":\"I1\",\"date\":\"2026-11-02\",\"amount\":\"10\",\"memo\":\"x\"}\n",
    );
    let e = parse_file(RecordKind::Payments, &path, &known(), &STRICT, None).unwrap_err();
    assert!(
        e.to_string()
            .contains("payments.jsonl:2: unknown column 'memo'"),
        "{e}"
    );
    let opts = ImportOptions {
        ignore_unknown_columns: true,
        skip_invalid: false,
    };
    let report = parse_file(RecordKind::Payments, &path, &known(), &opts, None).unwrap();
    assert_eq!(report.parsed.len(), 2);
    assert_eq!(report.warnings.len(), 1);
}

#[test]
fn empty_json_array_is_zero_rows() {
    let fx = Fixture::new();
    let report = parse(RecordKind::Payments, &fx.file("p.json", " [ ] \n"));
    assert_eq!((report.rows_read, report.parsed.len()), (0, 0));
}

// ---- whole file behaviour ------------------------------------------------------------

#[test]
fn every_error_is_collected_and_skip_invalid_keeps_the_good_rows() {
    let fx = Fixture::new();
    let path = fx.file(
        "invoices.csv",
        &invoices(
            "I1,A,C1,2026-11-01,2026-11-05,PLN,10\nI12,B,C9,2026-13-01,2026-11-05,PLN,10\nI3,C,C2,2026-11-01,2026-11-05,EUR,20\nI4,D,C1,2026-11-01,2026-11-05,XXY,10\n",
        ),
    );
    let strict = parse_file(RecordKind::Invoices, &path, &known(), &STRICT, None).unwrap();
    assert_eq!(
        shown(&strict.errors),
        [
            "invoices.csv:3:customer_id: customer 'C9' does not exist: import customers first",
            "invoices.csv:3:issue_date: '2026-13-01' is not a date: there is no month 13 (YYYY-MM-DD)",
            "invoices.csv:5:currency: 'XXY' is not an ISO 4217 currency code (e.g. PLN, CZK, RON, EUR)",
        ]
    );
    assert!(!strict.acceptable(&STRICT));
    assert!(strict.skipped_lines.is_empty());
    assert_eq!(strict.rows_read, 4);

    let lenient = parse_file(RecordKind::Invoices, &path, &known(), &SKIP, None).unwrap();
    assert!(lenient.acceptable(&SKIP));
    assert_eq!(lenient.errors.len(), 3);
    assert_eq!(lenient.skipped_lines, [3, 5]);
    let Parsed::Invoices(v) = lenient.parsed else {
        panic!()
    };
    let ids: Vec<&str> = v.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["I1", "I3"]);
}

#[test]
fn quoted_multiline_fields_keep_the_line_of_the_row_start() {
    let fx = Fixture::new();
    let path = fx.file(
        "customers.csv",
        "id,group,name\nC1,\"two\nlines\",X\nC2,,\n",
    );
    let report = parse(RecordKind::Customers, &path);
    assert_eq!(shown(&report.errors), ["customers.csv:4:name: is empty"]);
}

#[test]
fn referenced_ids_lists_the_referenced_customers_and_invoices_once() {
    let fx = Fixture::new();
    let path = fx.file(
        "invoices.csv",
        &invoices("I2,A,C2,x,y,PLN,1\nI1,B,C1,x,y,PLN,1\nI3,B,C1,x,y,PLN,1\n,B,,x,y,PLN,1\n"),
    );
    let (c, i) = referenced_ids(RecordKind::Invoices, Records::File(&path)).unwrap();
    assert_eq!(
        c.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        ["C1", "C2"]
    );
    assert!(i.is_empty());

    let path = fx.file(
        "payments.jsonl",
        "{\"id\":\"P1\",\"invoice_id\":\"I5\",\"extra\":1}\n",
    );
    let (c, i) = referenced_ids(RecordKind::Payments, Records::File(&path)).unwrap();
    assert!(c.is_empty());
    assert_eq!(i[0].as_str(), "I5");
}

#[test]
fn progress_advances_to_the_file_size() {
    let fx = Fixture::new();
    let mut rows = String::from(INV_HEADER);
    for n in 0..40_000 {
        rows.push_str(&format!(
            "N{n},FV/{n},C1,2026-11-01,2026-11-05,PLN,{n}.50\n"
        ));
    }
    let path = fx.file("invoices.csv", &rows);
    let pb = indicatif::ProgressBar::hidden();
    let report = parse_file(RecordKind::Invoices, &path, &known(), &STRICT, Some(&pb)).unwrap();
    assert_eq!(report.rows_read, 40_000);
    assert_eq!(report.parsed.len(), 40_000);
    assert_eq!(pb.position(), rows.len() as u64);
    assert_eq!(pb.length(), Some(rows.len() as u64));
}
