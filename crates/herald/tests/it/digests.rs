//! Digests on a schedule and notices to the office (issue 4, points 2 and 3,
//! seed 002): each operator's invoice approvals, everyone's for the managers, and
//! an absence told to every supervisor address. They concern no customer.

use crate::support::*;

fn import_office(ws: &Workspace) {
    ws.import_basics();
    ws.write(
        "operators.csv",
        "id,name,email,locale\n\
         op-ewa,Ewa Nowak,ewa@biuro.example.pl,pl\n\
         op-jan,Jan Wiśniewski,jan@biuro.example.pl,pl\n\
         op-mary,Mary Byrne,mary@biuro.example.ie,en\n",
    );
    ws.ok(&["import", "operators", "operators.csv"]);
    // Monday 2026-11-23 in Warsaw: Ewa approved three invoices today and one last
    // Friday; Jan two at the start of the month; Mary none.
    ws.write(
        "approvals.csv",
        "id,type,customer_id,operator_id,subject,occurred_at\n\
         ap-1,invoice.approved,C1,op-ewa,FV/1,2026-11-23T08:00:00Z\n\
         ap-2,invoice.approved,C2,op-ewa,FV/2,2026-11-23T09:00:00Z\n\
         ap-3,invoice.approved,C3,op-ewa,FV/3,2026-11-23T15:59:00Z\n\
         ap-4,invoice.approved,C1,op-ewa,FV/4,2026-11-20T10:00:00Z\n\
         ap-5,invoice.approved,C4,op-jan,FV/5,2026-11-02T10:00:00Z\n\
         ap-6,invoice.approved,C4,op-jan,FV/6,2026-11-02T11:00:00Z\n",
    );
    ws.ok(&["import", "events", "approvals.csv"]);
}

/// The e-mails sent to `to`, as (subject, text).
fn mail_to(ws: &Workspace, to: &str) -> Vec<(String, String)> {
    ws.emails()
        .iter()
        .map(|p| parse_eml(p))
        .filter(|m| {
            m.to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .is_some_and(|a| a == to)
        })
        .map(|m| {
            (
                m.subject().unwrap_or_default().to_owned(),
                m.body_text(0).unwrap_or_default().into_owned(),
            )
        })
        .collect()
}

/// The numbers in a line of text, in order.
fn numbers(line: &str) -> Vec<u64> {
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .filter_map(|w| w.parse().ok())
        .collect()
}

#[test]
fn each_operator_hears_of_their_own_approvals_and_nobody_of_nothing() {
    let ws = Workspace::new();
    import_office(&ws);
    // 17:30 in Warsaw: the daily digest fired at 17:00.
    ws.ok(&["run", "--now", "2026-11-23T16:30:00Z"]);
    let ewa = mail_to(&ws, "ewa@biuro.example.pl");
    assert_eq!(ewa.len(), 1, "{ewa:?}");
    let (subject, text) = &ewa[0];
    // Since yesterday's 17:00 digest: the three of today; the Friday one counts
    // for the month, not the week.
    assert_eq!(
        subject,
        "Zatwierdzone faktury: 3 od 22.11.2026, godz. 17:00"
    );
    for line in ["- dziś: 3", "- w tym tygodniu: 3", "- w tym miesiącu: 4"] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    // Nothing since yesterday's digest: no letter for Jan or Mary.
    assert!(mail_to(&ws, "jan@biuro.example.pl").is_empty());
    assert!(mail_to(&ws, "mary@biuro.example.ie").is_empty());
    // The summary for the managers fires at 18:00, not yet.
    assert!(mail_to(&ws, "kierownik@biuro.example").is_empty());

    // Never twice: a later run before the next firing writes nothing again.
    ws.ok(&["run", "--now", "2026-11-23T16:45:00Z"]);
    assert_eq!(mail_to(&ws, "ewa@biuro.example.pl").len(), 1);
    let history = ws.ok(&["history", "--rule", "operator-activity"]);
    assert!(history.contains("operator op-ewa"), "{history}");
    assert_eq!(history.matches("operator-activity").count(), 1, "{history}");
}

#[test]
fn the_managers_summary_lists_every_operator_with_day_week_and_month() {
    let ws = Workspace::new();
    import_office(&ws);
    // 18:30 in Warsaw on a Monday: the summary fired at 18:00 for the period
    // since Friday 18:00.
    ws.ok(&["run", "--now", "2026-11-23T17:30:00Z"]);
    let got = mail_to(&ws, "kierownik@biuro.example");
    assert_eq!(got.len(), 1, "{got:?}");
    let text = &got[0].1;
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for {name} in\n{text}"))
            .to_owned()
    };
    // since the last summary, today, this week, this month
    assert_eq!(numbers(&line("Ewa Nowak")), vec![3, 3, 3, 4], "{text}");
    assert_eq!(numbers(&line("Jan Wiśniewski")), vec![0, 0, 0, 2], "{text}");
    assert_eq!(numbers(&line("Mary Byrne")), vec![0, 0, 0, 0], "{text}");
}

#[test]
fn a_digest_with_nothing_to_say_goes_out_only_when_the_rule_says_so() {
    let ws = Workspace::new();
    import_office(&ws);
    ws.set_config(
        "template = \"operator-digest\"",
        "template = \"operator-digest\"\nsend_empty = true",
    );
    ws.ok(&["run", "--now", "2026-11-23T16:30:00Z"]);
    assert_eq!(mail_to(&ws, "ewa@biuro.example.pl").len(), 1);
    let jan = mail_to(&ws, "jan@biuro.example.pl");
    assert_eq!(
        jan.len(),
        1,
        "send_empty: Jan hears that he approved nothing"
    );
    let mary = mail_to(&ws, "mary@biuro.example.ie");
    assert_eq!(mary.len(), 1);
    // send_empty belongs to digests only.
    ws.set_config(
        "id = \"absence-added\"",
        "id = \"absence-added\"\nsend_empty = true",
    );
    let out = ws.herald(&["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(
        stderr(&out).contains("only a digest (on = { digest = … }) has send_empty"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_absence_reaches_every_supervisor_address_once() {
    let ws = Workspace::new();
    import_office(&ws);
    ws.write(
        "absence.csv",
        "id,type,customer_id,operator_id,subject,occurred_at,payload\n\
         abs-1,absence.added,,op-jan,,2026-11-23T09:00:00Z,\"{\"\"from\"\": \"\"2026-11-24\"\", \"\"to\"\": \"\"2026-11-27\"\", \"\"reason\"\": \"\"urlop\"\"}\"\n",
    );
    ws.ok(&["import", "events", "absence.csv"]);
    ws.ok(&["run", "--now", "2026-11-23T09:05:00Z"]);
    for to in ["kierownik@biuro.example", "kadry@biuro.example"] {
        let got = mail_to(&ws, to);
        assert_eq!(got.len(), 1, "{to}: {got:?}");
        let (subject, text) = &got[0];
        assert!(
            subject.contains("Jan Wiśniewski") || text.contains("Jan Wiśniewski"),
            "{subject}\n{text}"
        );
        assert!(
            text.contains("2026-11-24") || text.contains("24.11.2026"),
            "{text}"
        );
    }
    // An event for no customer told to the office is not a broadcast: no
    // customer hears of it.
    let told: Vec<String> = ws
        .emails()
        .iter()
        .map(|p| parse_eml(p))
        .filter(|m| m.subject().is_some_and(|s| s.contains("Jan Wiśniewski")))
        .filter_map(|m| Some(m.to()?.first()?.address()?.to_owned()))
        .collect();
    assert_eq!(told.len(), 2, "{told:?}");
    ws.ok(&["import", "events", "absence.csv"]);
    ws.ok(&["run", "--now", "2026-11-23T09:30:00Z"]);
    assert_eq!(mail_to(&ws, "kadry@biuro.example").len(), 1);
    let history = ws.ok(&["history", "--rule", "absence-added", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&history).unwrap();
    let notes = v.as_array().unwrap();
    assert_eq!(notes.len(), 1, "{history}");
    assert!(
        notes[0]["notification"]["customer_id"].is_null(),
        "{history}"
    );
}

/// A digest previewed before it fires says what it will say when it goes: the
/// same subject and text as the letter sent at 17:00, and nothing for an
/// operator with nothing new.
#[test]
fn a_digest_previewed_before_it_fires_is_the_letter_that_goes() {
    let ws = Workspace::new();
    import_office(&ws);
    let preview = ws.ok(&[
        "preview",
        "operator-activity",
        "--subject",
        "op-ewa",
        "--now",
        "2026-11-23T16:30:00+01:00",
    ]);
    assert!(
        preview.contains("to:        Ewa Nowak <ewa@biuro.example.pl> (email)"),
        "{preview}"
    );
    assert!(
        preview.contains("subject:   Zatwierdzone faktury: 3 od 22.11.2026, godz. 17:00"),
        "{preview}"
    );
    let out = ws.herald(&[
        "preview",
        "operator-activity",
        "--subject",
        "op-mary",
        "--now",
        "2026-11-23T16:30:00+01:00",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("sends operator 'op-mary' nothing at 2026-11-23 17:00"),
        "{}",
        stderr(&out)
    );
    // The office's summary needs no customer either.
    let office = ws.ok(&[
        "preview",
        "operators-summary",
        "--now",
        "2026-11-23T16:30:00+01:00",
    ]);
    assert!(office.contains("kierownik@biuro.example"), "{office}");
    assert!(ws.emails().is_empty(), "a preview sends nothing");
    // Then it fires, and the letter is the preview.
    ws.ok(&["run", "--now", "2026-11-23T16:30:00Z"]);
    let ewa = mail_to(&ws, "ewa@biuro.example.pl");
    assert_eq!(ewa.len(), 1, "{ewa:?}");
    let body = preview.split("---\n").nth(1).unwrap_or_default();
    assert_eq!(
        ewa[0].1.replace("\r\n", "\n").trim(),
        body.trim(),
        "the preview's text is the letter's"
    );
}
