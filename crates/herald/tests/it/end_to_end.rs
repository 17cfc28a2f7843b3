//! import → run → outbox, as a user does it, with the files parsed back.

use crate::support::*;

fn subject(p: &std::path::Path) -> String {
    parse_eml(p).subject().unwrap_or_default().to_owned()
}

#[test]
fn new_invoice_notices_go_out_once_each_in_the_customers_language() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02"]);
    let emails = ws.emails();
    assert_eq!(emails.len(), 4, "{emails:?}");
    let mut by_to = std::collections::BTreeMap::new();
    for p in &emails {
        let m = parse_eml(p);
        let to = m
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap()
            .to_owned();
        let body = m.body_text(0).unwrap().into_owned();
        let html = m.body_html(0).unwrap().into_owned();
        assert!(m.message_id().unwrap().contains('@'));
        assert_eq!(
            m.from().and_then(|a| a.first()).and_then(|a| a.address()),
            Some("naleznosci@example.pl")
        );
        by_to.insert(to, (m.subject().unwrap().to_owned(), body, html));
    }
    let pl = &by_to["anna@kowalski.example.pl"];
    assert!(pl.0.contains("FV/2026/11/001"), "{}", pl.0);
    assert!(
        pl.1.contains("1234,50") && pl.1.contains("zł"),
        "Polish amount, no grouping of 4 digits:\n{}",
        pl.1
    );
    assert!(pl.1.contains("Szanowni"), "Polish letter:\n{}", pl.1);
    let cs = &by_to["jan@novak.example.cz"];
    assert!(cs.1.contains("Kč") && cs.1.contains("345,50"), "{}", cs.1);
    let ro = &by_to["ion@popescu.example.ro"];
    assert!(
        ro.1.contains("12.345,50") && ro.1.contains("lei"),
        "{}",
        ro.1
    );
    let en = &by_to["mary@harbour.example.ie"];
    assert!(en.1.contains("€12,345.50"), "{}", en.1);
    assert!(
        en.2.contains("<html") || en.2.contains("<table") || en.2.contains("<p"),
        "html part present"
    );

    // Never twice: the same run again writes nothing.
    let again = ws.ok(&["run", "--now", "2026-11-02"]);
    assert_eq!(
        ws.emails().len(),
        4,
        "re-run wrote messages again:\n{again}"
    );
    assert!(again.contains("0 new notification"), "{again}");
    // …and it looked only at an empty window, not at everything again.
    let st: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    assert_eq!(
        st["last_run"]["window_after"], st["last_run"]["window_until"],
        "{st}"
    );
    assert_eq!(st["last_run"]["planned"], 0, "{st}");
}

#[test]
fn due_soon_skips_paid_invoices_and_dunning_follows_for_the_unpaid() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02"]);
    ws.write(
        "payments.csv",
        "id,invoice_id,date,amount\nP1,I1,2026-11-10,1234.50\nP2,I2,2026-11-10,345.50\n",
    );
    ws.ok(&["import", "payments", "payments.csv"]);
    for d in 3..=30 {
        ws.ok(&["run", "--now", &format!("2026-11-{d:02}")]);
    }
    let subjects: Vec<(String, String)> = ws
        .emails()
        .iter()
        .map(|p| {
            let m = parse_eml(p);
            (
                m.to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .unwrap()
                    .to_owned(),
                subject(p),
            )
        })
        .collect();
    let to_c1: Vec<_> = subjects
        .iter()
        .filter(|(to, _)| to.contains("kowalski"))
        .collect();
    assert_eq!(
        to_c1.len(),
        1,
        "C1 paid in full: only its new-invoice notice: {to_c1:?}"
    );
    for who in ["novak", "popescu", "harbour"] {
        let n = subjects.iter().filter(|(to, _)| to.contains(who)).count();
        // new-invoice, due-soon (13th), dunning level 1 (23rd), grace-end (26th)
        assert_eq!(n, 4, "{who}: {subjects:#?}");
    }
    // The partly paid Czech invoice is dunned for what remains, not the full amount.
    let hist = ws.ok(&["history", "--invoice", "I2", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&hist).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|e| e["notification"]["rule_id"] == "dunning"),
        "{hist}"
    );
    let letter = ws
        .emails()
        .into_iter()
        .find(|p| {
            let m = parse_eml(p);
            m.to().and_then(|a| a.first()).and_then(|a| a.address()) == Some("jan@novak.example.cz")
                && m.header_raw("X-Herald-Rule")
                    .is_some_and(|r| r.trim() == "dunning")
        })
        .expect("a dunning letter to C2");
    let body = parse_eml(&letter).body_text(0).unwrap().into_owned();
    assert!(
        body.contains("12 000,00")
            || body.contains("12\u{a0}000,00")
            || body.contains("12\u{202f}000,00"),
        "balance 12 000,00 Kč:\n{body}"
    );
}

#[test]
fn a_payment_between_planning_and_sending_cancels_the_notice_with_the_reason() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02"]);
    ws.ok(&["plan", "--now", "2026-11-13"]);
    ws.write(
        "payments.csv",
        "id,invoice_id,date,amount\nP1,I4,2026-11-13,12345.50\n",
    );
    ws.ok(&["import", "payments", "payments.csv"]);
    let out = ws.ok(&["send", "--now", "2026-11-13"]);
    assert!(out.contains("cancelled 1"), "{out}");
    let hist = ws.ok(&["history", "--invoice", "I4"]);
    assert!(
        hist.contains("due-soon") && hist.contains("cancelled") && hist.contains("paid"),
        "{hist}"
    );
    assert_eq!(
        ws.emails().len(),
        4 + 3,
        "three due-soon notices, the paid one cancelled"
    );
}

#[test]
fn pilot_mode_holds_everyone_else_and_says_why() {
    let ws = Workspace::new();
    ws.set_config("customers = []\n", "customers = [\"C3\"]\n");
    ws.import_basics();
    let out = ws.ok(&["run", "--now", "2026-11-02"]);
    assert!(out.contains("held by pilot"), "{out}");
    let emails = ws.emails();
    assert_eq!(emails.len(), 1);
    assert!(
        parse_eml(&emails[0])
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .contains("popescu")
    );
    let hist = ws.ok(&["history", "--customer", "C1"]);
    assert!(hist.contains("pending") && hist.contains("pilot"), "{hist}");
    let status = ws.ok(&["status"]);
    assert!(status.contains("PILOT"), "{status}");
    // Pilot ends: the held notices go out.
    ws.set_config("customers = [\"C3\"]\n", "customers = []\n");
    ws.ok(&["send", "--now", "2026-11-02"]);
    assert_eq!(ws.emails().len(), 4);
}

#[test]
fn resend_to_another_address_is_a_new_delivery_with_an_audit_trail() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02"]);
    let hist: serde_json::Value =
        serde_json::from_str(&ws.ok(&["history", "--customer", "C2", "--json"])).unwrap();
    let id = hist[0]["notification"]["id"].as_i64().unwrap();
    ws.ok(&[
        "resend",
        &id.to_string(),
        "--to",
        "ucetni@novak.example.cz",
        "--template",
        "due-soon",
        "--now",
        "2026-11-03",
    ]);
    let emails = ws.emails();
    assert_eq!(emails.len(), 5);
    let resent = emails
        .iter()
        .find(|p| {
            parse_eml(p).to().unwrap().first().unwrap().address() == Some("ucetni@novak.example.cz")
        })
        .expect("the resent message");
    assert!(!subject(resent).is_empty());
    let hist = ws.ok(&["history", "--customer", "C2"]);
    assert!(hist.contains("ucetni@novak.example.cz"), "{hist}");
    let bad = ws.herald(&["resend", "999999"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn preview_renders_without_sending_and_status_counts() {
    let ws = Workspace::new();
    ws.import_basics();
    let out = ws.ok(&[
        "preview",
        "dunning",
        "--customer",
        "C2",
        "--now",
        "2026-11-30",
    ]);
    assert!(out.contains("Kč") && out.contains("2026110002"), "{out}");
    let out = ws.ok(&[
        "preview",
        "due-soon",
        "--customer",
        "C3",
        "--locale",
        "en",
        "--now",
        "2026-11-13",
    ]);
    assert!(out.contains("EMS-000003"), "{out}");
    assert!(ws.emails().is_empty(), "preview must not send");
    ws.ok(&["run", "--now", "2026-11-02"]);
    let st: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    assert_eq!(st["by_state"]["sent"], 4, "{st}");
    assert_eq!(st["by_rule"]["new-invoice"]["sent"], 4, "{st}");
}

#[test]
fn dry_run_lists_what_would_be_sent_and_changes_nothing() {
    let ws = Workspace::new();
    ws.import_basics();
    let out = ws.ok(&["run", "--now", "2026-11-02", "--dry-run"]);
    assert!(out.contains("new-invoice:invoice/I1"), "{out}");
    assert!(ws.emails().is_empty());
    let st: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    assert!(st["by_state"].as_object().unwrap().is_empty(), "{st}");
}

#[test]
fn the_invoice_pdf_is_attached_to_its_notice() {
    let ws = Workspace::new();
    ws.import_basics();
    let pdf = b"%PDF-1.4\n% herald test invoice\n";
    std::fs::write(ws.path().join("fv-001.pdf"), pdf).unwrap();
    ws.write(
        "with-pdf.csv",
        "id,number,customer_id,issue_date,due_date,currency,amount,attachment\n\
         I9,FV/2026/11/009,C1,2026-11-02,2026-11-16,PLN,99.00,fv-001.pdf\n",
    );
    ws.ok(&["import", "invoices", "with-pdf.csv"]);
    ws.ok(&["run", "--now", "2026-11-02"]);
    let with_pdf: Vec<_> = ws
        .emails()
        .into_iter()
        .filter(|p| subject(p).contains("FV/2026/11/009"))
        .collect();
    assert_eq!(with_pdf.len(), 1);
    let m = parse_eml(&with_pdf[0]);
    let att = m.attachment(0).expect("the invoice PDF is attached");
    assert_eq!(att.attachment_name(), Some("fv-001.pdf"));
    assert_eq!(att.contents(), pdf);
    use mail_parser::MimeHeaders as _;
    assert_eq!(att.content_type().map(|c| c.ctype()), Some("application"));
}

#[test]
fn a_rule_that_prefers_sms_writes_an_sms_and_falls_back_to_email() {
    let ws = Workspace::new();
    ws.set_config("channels = [\"email\"]", "channels = [\"sms\", \"email\"]");
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02"]);
    let mut sms = Vec::new();
    let mut stack = vec![ws.path().join("outbox/sms")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                sms.push(e.path());
            }
        }
    }
    assert_eq!(
        sms.len(),
        1,
        "only C1's contact has a phone with SMS opt-in: {sms:?}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sms[0]).unwrap()).unwrap();
    assert_eq!(v["to"], "+48601234567");
    assert!(
        v["body"].as_str().unwrap().contains("FV/2026/11/001"),
        "{v}"
    );
    assert_eq!(v["encoding"], "ucs2", "Polish diacritics need UCS-2: {v}");
    assert_eq!(ws.emails().len(), 3, "the three others by e-mail");
}

#[test]
fn an_old_invoice_gets_no_history_notices_but_its_debt_is_dunned_and_history_says_why() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "old.csv",
        "id,number,customer_id,issue_date,due_date,currency,amount,attachment\n\
         I8,FV/2026/09/008,C1,2026-09-01,2026-09-15,PLN,10.00,\n",
    );
    ws.ok(&["import", "invoices", "old.csv"]);
    ws.ok(&["run", "--now", "2026-11-02"]);
    let h = ws.ok(&["history", "--invoice", "I8"]);
    assert!(
        h.contains("new-invoice I8 — not applicable: history"),
        "{h}"
    );
    assert!(h.contains("due-soon I8 — not applicable: history"), "{h}");
    // 48 days overdue on first sight: straight to the level that is due.
    assert!(h.contains("dunning level 3"), "{h}");
    let st: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    assert_eq!(
        st["notifications_by_rule"]["new-invoice"]["deliver"], 4,
        "{st}"
    );
    assert!(
        st["notifications_by_rule"]["new-invoice"]
            .get("not_applicable")
            .is_none(),
        "history is not stored: {st}"
    );
}

/// The business calendar (issue 4, point 5): a message due outside the send window
/// or on a holiday waits for the next allowed moment in the reader's time zone,
/// never dropped; a rule with `calendar = false` does not wait.
#[test]
fn the_calendar_postpones_to_the_next_window_in_the_readers_time_zone() {
    let ws = Workspace::new();
    ws.set_config(
        "[dispatch]",
        "[calendar]\ncountries = [\"PL\"]\nwindow = \"09:00-17:00\"\n\n[dispatch]",
    );
    ws.import_basics();
    ws.ok(&["plan", "--now", "2026-11-02"]);
    // Monday 2 November, 07:30 UTC: 08:30 in Warsaw and Prague, 07:30 in Dublin
    // (before 09:00), 09:30 in Bucharest (inside): only Ion Popescu's goes.
    let out = ws.ok(&["send", "--now", "2026-11-02T07:30:00Z"]);
    assert!(
        out.contains("sent 1,") && out.contains("3 postponed by the business calendar"),
        "{out}"
    );
    let to = |ws: &Workspace| -> Vec<String> {
        let mut v: Vec<String> = ws
            .emails()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert!(to(&ws)[0].contains("ion_at_popescu"), "{:?}", to(&ws));
    let history = ws.ok(&["history", "--customer", "C4"]);
    assert!(
        history.contains("outside the send window or on a day off (Europe/Dublin); it goes out at 2026-11-02 09:00 GMT"),
        "{history}"
    );
    // 08:00 UTC is 09:00 in Warsaw and Prague.
    let out = ws.ok(&["send", "--now", "2026-11-02T08:00:00Z"]);
    assert!(out.contains("sent 2,"), "{out}");
    // Nothing is lost and nothing counted as an attempt: Dublin's at 09:00 UTC.
    let out = ws.ok(&["send", "--now", "2026-11-02T09:00:00Z"]);
    assert!(out.contains("sent 1,"), "{out}");
    assert_eq!(ws.emails().len(), 4);
    let history = ws.ok(&["history", "--customer", "C4", "--json"]);
    assert!(history.contains("\"attempts\": 1"), "{history}");
}

#[test]
fn a_public_holiday_postpones_to_the_next_working_day_unless_the_rule_ignores_the_calendar() {
    for ignores in [false, true] {
        let ws = Workspace::new();
        ws.set_config(
            "[dispatch]",
            "[calendar]\ncountries = [\"PL\"]\nwindow = \"09:00-17:00\"\n\n[dispatch]",
        );
        if ignores {
            ws.set_config(
                "on = \"invoice.issued\"",
                "on = \"invoice.issued\"\ncalendar = false",
            );
        }
        ws.import_basics();
        ws.ok(&["plan", "--now", "2026-11-02"]);
        // Wednesday 11 November (Independence Day in Poland), 10:00 UTC.
        let out = ws.ok(&["send", "--now", "2026-11-11T10:00:00Z"]);
        if ignores {
            assert!(out.contains("sent 4,"), "{out}");
            continue;
        }
        assert!(
            out.contains("sent 0,") && out.contains("4 postponed"),
            "{out}"
        );
        // Thursday 08:00 UTC: 09:00 in Warsaw and Prague, 10:00 in Bucharest; Mary
        // Byrne's waits for 09:00 in Dublin, as the holiday's postponement said.
        let out = ws.ok(&["send", "--now", "2026-11-12T08:00:00Z"]);
        assert!(out.contains("sent 3,"), "{out}");
        let out = ws.ok(&["send", "--now", "2026-11-12T09:00:00Z"]);
        assert!(out.contains("sent 1,"), "{out}");
        assert_eq!(ws.emails().len(), 4);
    }
}

#[test]
fn a_calendar_that_cannot_work_is_refused_with_the_key() {
    for (calendar, key) in [
        ("countries = [\"DE\"]", "calendar.countries"),
        ("window = \"18:00-08:00\"", "calendar.window"),
        ("window = \"9am\"", "calendar.window"),
        ("holidays = [\"31.12.2026\"]", "calendar.holidays"),
        ("weekend = [\"saturday\", \"sonntag\"]", "calendar.weekend"),
    ] {
        let ws = Workspace::new();
        ws.set_config(
            "[dispatch]",
            &format!("[calendar]\n{calendar}\n\n[dispatch]"),
        );
        let out = ws.herald(&["check"]);
        assert_eq!(out.status.code(), Some(2), "{calendar}: {}", stderr(&out));
        assert!(stderr(&out).contains(key), "{calendar}: {}", stderr(&out));
    }
}

/// Seed 004's batch sending: every invoice of a month queued at once, sent by the
/// next `send`, never twice.
#[test]
fn send_invoices_queues_a_month_once_and_send_delivers_it() {
    let ws = Workspace::new();
    // The starter's batch rule, switched off: it says so.
    ws.set_config(
        "on = \"invoice.batch\"",
        "on = \"invoice.batch\"\nenabled = false",
    );
    let out = ws.herald(&["send-invoices", "--period", "2026-11"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("rule invoice-batch is disabled"),
        "{}",
        stderr(&out)
    );
    ws.set_config(
        "on = \"invoice.batch\"\nenabled = false",
        "on = \"invoice.batch\"",
    );
    ws.import_basics();
    let out = ws.ok(&[
        "send-invoices",
        "--period",
        "2026-11",
        "--now",
        "2026-11-20T10:00:00Z",
    ]);
    assert!(
        out.contains(
            "queued 4 invoice notice(s) of 2026-11 by rule invoice-batch (4 deliveries); 0 already"
        ),
        "{out}"
    );
    assert!(ws.emails().is_empty(), "queued, not sent");
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    assert_eq!(status["by_rule"]["invoice-batch"]["pending"], 4, "{status}");
    // Again, or an overlapping run: nothing more.
    let out = ws.ok(&[
        "send-invoices",
        "--period",
        "2026-11",
        "--now",
        "2026-11-20T10:01:00Z",
    ]);
    assert!(
        out.contains("queued 0") && out.contains("4 already"),
        "{out}"
    );
    // October has no invoices.
    let out = ws.ok(&[
        "send-invoices",
        "--period",
        "2026-10",
        "--now",
        "2026-11-20T10:01:00Z",
    ]);
    assert!(out.contains("queued 0"), "{out}");
    let out = ws.ok(&["send", "--now", "2026-11-20T10:02:00Z"]);
    assert!(out.contains("sent 4,"), "{out}");
    let subjects: Vec<String> = ws
        .emails()
        .iter()
        .map(|p| parse_eml(p).subject().unwrap_or_default().to_owned())
        .collect();
    assert!(
        subjects.iter().any(|s| s.contains("FV/2026/11/001")),
        "{subjects:?}"
    );

    let out = ws.herald(&["send-invoices", "--period", "11/2026"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("YYYY-MM"), "{}", stderr(&out));
}

/// Seed 002's routing: a rule reaches the customer's accounting manager (a
/// relation) and every operator with a role, besides the customer's contacts.
#[test]
fn a_rule_reaches_operators_by_relation_and_by_role() {
    let ws = Workspace::new();
    ws.set_config(
        "to = [\"customer:billing\"]          # contacts with role billing",
        "to = [\"customer:billing\", \"relation:accounting_manager\", \"operator:dunning\"] #",
    );
    ws.import_basics();
    ws.write(
        "operators.csv",
        "id,name,email,roles\nop-ewa,Ewa Nowak,ewa@biuro.example.pl,accounting\nop-jan,Jan Wiśniewski,jan@biuro.example.pl,dunning\n",
    );
    ws.ok(&["import", "operators", "operators.csv"]);
    ws.write(
        "relations.csv",
        "customer_id,operator_id,relation\nC1,op-ewa,accounting_manager\n",
    );
    ws.ok(&["import", "relations", "relations.csv"]);
    ws.ok(&["run", "--now", "2026-11-02"]);
    let to = |who: &str| {
        ws.emails()
            .iter()
            .filter(|p| p.to_string_lossy().contains(who))
            .count()
    };
    assert_eq!(to("ewa_at_biuro"), 1, "Ewa manages C1's accounts only");
    assert_eq!(
        to("jan_at_biuro"),
        4,
        "Jan has the dunning role: every notice"
    );
    assert_eq!(to("anna_at_kowalski"), 1);

    let out = ws.herald(&["check"]);
    assert_ok(&out, "check");
    ws.set_config("\"operator:dunning\"", "\"staff:dunning\"");
    let out = ws.herald(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("relation:NAME"), "{}", stderr(&out));
}

/// Seed 003's RESEND: on its schedule, one overview to each customer that still
/// owes on reminded invoices; a customer who paid gets none; once per firing.
#[test]
fn the_resend_overview_goes_on_its_schedule_to_customers_still_owing_on_reminded_invoices() {
    let ws = Workspace::new();
    ws.import_basics();
    // Due on 16 November: the first dunning letters go on the 23rd.
    ws.ok(&["run", "--now", "2026-11-23"]);
    ws.write(
        "payments.csv",
        "id,invoice_id,date,amount\nP1,I1,2026-11-25,1234.50\n",
    );
    ws.ok(&["import", "payments", "payments.csv"]);
    // The 1st of December, 08:00 in Warsaw.
    ws.ok(&["run", "--now", "2026-12-01T07:00:00Z"]);
    let overview = |ws: &Workspace| -> Vec<String> {
        ws.emails()
            .iter()
            .map(|p| parse_eml(p))
            .filter(|m| {
                m.subject().is_some_and(|s| {
                    ["Zestawienie", "Přehled", "Situația", "Overview"]
                        .iter()
                        .any(|w| s.starts_with(w))
                })
            })
            .map(|m| {
                m.to()
                    .unwrap()
                    .first()
                    .unwrap()
                    .address()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    let got = overview(&ws);
    assert_eq!(got.len(), 3, "C1 paid: {got:?}");
    assert!(!got.iter().any(|a| a.contains("kowalski")), "{got:?}");
    ws.ok(&["run", "--now", "2026-12-01T09:00:00Z"]);
    assert_eq!(overview(&ws).len(), 3, "once per firing");
}

/// Seed 004's batch on a schedule: on the 1st, the previous month's invoices are
/// queued and sent by the run itself, once.
#[test]
fn a_scheduled_batch_sends_the_previous_months_invoices_once() {
    let ws = Workspace::new();
    ws.set_config(
        "on = \"invoice.batch\"",
        "on = \"invoice.batch\"\nschedule = \"0 6 1 * *\"",
    );
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-30"]);
    let batch = |ws: &Workspace| {
        let status: serde_json::Value =
            serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
        status["by_rule"]["invoice-batch"]["sent"]
            .as_i64()
            .unwrap_or(0)
    };
    assert_eq!(batch(&ws), 0, "not before the 1st");
    // 1 December, 06:00 in Warsaw: November's four invoices.
    ws.ok(&["run", "--now", "2026-12-01T05:00:00Z"]);
    assert_eq!(batch(&ws), 4);
    ws.ok(&["run", "--now", "2026-12-01T09:00:00Z"]);
    assert_eq!(batch(&ws), 4, "once");

    let ws = Workspace::new();
    ws.set_config(
        "id = \"due-soon\"",
        "id = \"due-soon\"\nschedule = \"0 6 1 * *\"",
    );
    let out = ws.herald(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("only a batch rule"),
        "{}",
        stderr(&out)
    );
}

/// Seed 003's RESEND previewed: the overview of a customer's reminded unpaid
/// invoices, as the rule's next firing would send it; nothing for a customer
/// no dunning letter has reminded.
#[test]
fn the_overview_of_reminded_invoices_previews_before_it_goes() {
    let ws = Workspace::new();
    ws.import_basics();
    for day in ["2026-11-02", "2026-11-20", "2026-11-28"] {
        ws.ok(&["run", "--now", day]);
    }
    let preview = |customer: &str| {
        ws.herald(&[
            "preview",
            "dunning-resend",
            "--customer",
            customer,
            "--locale",
            "en",
            "--now",
            "2026-11-28",
        ])
    };
    // C1's I1 was reminded on the 23rd and is still unpaid.
    let out = preview("C1");
    assert_ok(&out, "preview dunning-resend --customer C1");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("to:        Anna Kowalska <anna@kowalski.example.pl> (email)"),
        "{text}"
    );
    assert!(text.contains("Overview of your unpaid invoices"), "{text}");
    assert!(
        text.contains("FV/2026/11/001") && text.contains("1,234.50"),
        "{text}"
    );
    // Paid: nothing left to overview, and the preview says why.
    ws.write(
        "payments.csv",
        "id,invoice_id,date,amount\nP1,I1,2026-11-27,1234.50\n",
    );
    ws.ok(&["import", "payments", "payments.csv"]);
    let out = preview("C1");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("owes nothing a dunning letter has reminded"),
        "{}",
        stderr(&out)
    );
}
