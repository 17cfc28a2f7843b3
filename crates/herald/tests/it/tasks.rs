//! Task reminders (seed 001) through the CLI: imported tasks, reminded to the
//! client and to the operator at their own offsets, each occurrence once.

use crate::support::*;

fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "operators.csv",
        "id,name,email,phone,locale\nop-ewa,Ewa Nowak,ewa@biuro.example.pl,+48600100200,pl\n",
    );
    ws.ok(&["import", "operators", "operators.csv"]);
    ws.write(
        "tasks.csv",
        "id,title,customer_id,operator_id,starts_at,time_zone,recurrence\n\
         T1,Przegląd deklaracji VAT,C1,op-ewa,2026-11-24 10:00,,\n\
         T2,Weekly call,C4,,2026-11-23 09:00,Europe/Dublin,weekly\n",
    );
    ws.ok(&["import", "tasks", "tasks.csv"]);
    ws
}

#[test]
fn the_client_is_reminded_a_day_before_and_the_operator_fifteen_minutes_before_once() {
    let ws = workspace();
    // A day before T1 (10:00 Warsaw on the 24th is 09:00 UTC): Anna Kowalska has a
    // phone and SMS opt-in, so an SMS.
    ws.ok(&["run", "--now", "2026-11-23T09:00:00Z"]);
    let sms = ws.sms();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert_eq!(sms[0]["to"], "+48601234567");
    let text = sms[0]["body"].as_str().unwrap();
    assert!(
        text.contains("Przegląd deklaracji VAT")
            && text.contains("10:00")
            && text.contains("24.11.2026"),
        "{text}"
    );
    // Mary Byrne's weekly call on Monday 23rd at 09:00 Dublin: its reminder was due
    // on Sunday at 09:00 UTC, a day before herald first ran: too late, recorded.
    let history = ws.ok(&["history", "--customer", "C4"]);
    assert!(history.contains("too late"), "{history}");

    // 08:45 UTC on the 24th: Ewa, 15 minutes before, by SMS, in Polish.
    ws.ok(&["run", "--now", "2026-11-24T08:45:00Z"]);
    let sms = ws.sms();
    assert_eq!(sms.len(), 2, "{sms:?}");
    let ewa = sms
        .iter()
        .find(|s| s["to"] == "+48600100200")
        .expect("Ewa's SMS");
    assert!(
        ewa["body"]
            .as_str()
            .unwrap()
            .starts_with("10:00 Przegląd deklaracji VAT"),
        "{ewa}"
    );
    // Never twice.
    ws.ok(&["run", "--now", "2026-11-24T08:46:00Z"]);
    assert_eq!(ws.sms().len(), 2);

    // The weekly call's next occurrence (30 November, 09:00 Dublin): reminded on
    // the 29th at 09:00 UTC, by e-mail (no phone), once.
    ws.ok(&["run", "--now", "2026-11-29T09:00:00Z"]);
    let calls = |ws: &Workspace| -> Vec<String> {
        ws.emails()
            .iter()
            .map(|p| parse_eml(p).subject().unwrap_or_default().to_owned())
            .filter(|s| s.contains("Weekly call"))
            .collect()
    };
    let got = calls(&ws);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("09:00"), "{got:?}");
    ws.ok(&["run", "--now", "2026-11-29T09:30:00Z"]);
    assert_eq!(calls(&ws).len(), 1);
}

#[test]
fn a_moved_task_cancels_the_old_reminder_and_gets_its_own() {
    let ws = workspace();
    // Planned at 08:59 for 09:00, not sent yet.
    ws.ok(&["plan", "--now", "2026-11-23T09:00:00Z"]);
    // The meeting moves to 12:00 before anything is sent.
    ws.write(
        "tasks.csv",
        "id,title,customer_id,operator_id,starts_at\nT1,Przegląd deklaracji VAT,C1,op-ewa,2026-11-24 12:00\n",
    );
    ws.ok(&["import", "tasks", "tasks.csv"]);
    let out = ws.ok(&["send", "--now", "2026-11-23T09:00:30Z"]);
    assert!(out.contains("cancelled 1"), "{out}");
    let history = ws.ok(&["history", "--customer", "C1"]);
    assert!(history.contains("was moved"), "{history}");
    // The moved occurrence is reminded a day before its new time.
    ws.ok(&["run", "--now", "2026-11-23T11:00:00Z"]);
    let sms = ws.sms();
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(
        sms[0]["body"].as_str().unwrap().contains("12:00"),
        "{sms:?}"
    );
}

/// A task rule's preview is its next reminder, planned as the planner would: the
/// client's a day before, then the operator's, each in its own words and language.
#[test]
fn a_task_reminder_previews_as_the_next_one_to_go() {
    let ws = workspace();
    let client = ws.ok(&[
        "preview",
        "task-reminder",
        "--subject",
        "T1",
        "--now",
        "2026-11-23T08:00:00Z",
    ]);
    assert!(
        client.contains("to:        Anna Kowalska <+48601234567> (sms)"),
        "{client}"
    );
    assert!(
        client.contains("Przegląd deklaracji VAT, 24.11.2026 o 10:00"),
        "{client}"
    );
    // After the client's reminder time, the operator's is next.
    let operator = ws.ok(&[
        "preview",
        "task-reminder",
        "--subject",
        "T1",
        "--now",
        "2026-11-23T12:00:00Z",
    ]);
    assert!(
        operator.contains("Ewa Nowak <+48600100200> (sms)"),
        "{operator}"
    );
    assert!(
        operator.contains("template:  task-reminder-operator"),
        "{operator}"
    );
    // Once the task is over there is nothing to preview, and it says why.
    let out = ws.herald(&[
        "preview",
        "task-reminder",
        "--subject",
        "T1",
        "--now",
        "2026-11-25T12:00:00Z",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no reminder to send in the coming year for task 'T1'"),
        "{}",
        stderr(&out)
    );
    // Nothing was recorded or sent by any of it.
    assert!(ws.sms().is_empty() && ws.emails().is_empty());
}
