//! Events (issue 4, point 2) through the CLI: imported events, forwarded by the
//! customs rules with their message file, once each.

use mail_parser::MimeHeaders;

use crate::support::*;

#[test]
fn customs_messages_reach_the_clients_customs_contacts_with_the_file_once() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "customs.csv",
        "customer_id,role,name,email,phone,email_opt_in,sms_opt_in\n\
         C1,customs,Dział celny,clo@kowalski.example.pl,,true,false\n\
         C1,customs,Piotr Zieliński,piotr@kowalski.example.pl,,true,false\n",
    );
    ws.ok(&["import", "contacts", "customs.csv"]);
    ws.write(
        "IE529-26PL443.xml",
        "<IE529><MRN>26PL44302000012345</MRN></IE529>\n",
    );
    ws.write(
        "events.json",
        r#"[
  {"id": "ev-1", "type": "customs.IE529", "customer_id": "C1", "subject": "26PL44302000012345",
   "occurred_at": "2026-11-23T09:42:00+01:00", "payload": {"office": "PL443020"}, "attachment": "IE529-26PL443.xml"}
]"#,
    );
    ws.ok(&["import", "events", "events.json"]);
    // The message reached herald three minutes after customs sent it; the run
    // that follows forwards it at once, to both customs contacts, not to billing.
    ws.ok(&["run", "--now", "2026-11-23T08:45:00Z"]);
    let forwarded: Vec<_> = ws
        .emails()
        .into_iter()
        .filter(|p| {
            let m = parse_eml(p);
            m.subject().is_some_and(|s| s.contains("IE529"))
        })
        .collect();
    assert_eq!(forwarded.len(), 2, "{forwarded:?}");
    for p in &forwarded {
        let m = parse_eml(p);
        let to = m
            .to()
            .unwrap()
            .first()
            .unwrap()
            .address()
            .unwrap()
            .to_owned();
        assert!(
            to == "clo@kowalski.example.pl" || to == "piotr@kowalski.example.pl",
            "{to}"
        );
        assert!(
            m.subject().unwrap().contains("26PL44302000012345"),
            "{:?}",
            m.subject()
        );
        let att = m
            .attachments()
            .next()
            .expect("the customs message is attached");
        assert_eq!(att.attachment_name(), Some("IE529-26PL443.xml"));
        assert!(String::from_utf8_lossy(att.contents()).contains("<MRN>26PL44302000012345</MRN>"));
    }
    // Never twice, also when the same event is imported again.
    ws.ok(&["import", "events", "events.json"]);
    ws.ok(&["run", "--now", "2026-11-23T09:00:00Z"]);
    let again = ws
        .emails()
        .into_iter()
        .filter(|p| parse_eml(p).subject().is_some_and(|s| s.contains("IE529")))
        .count();
    assert_eq!(again, 2);
}

#[test]
fn an_event_that_arrives_too_late_is_recorded_and_a_bad_event_file_is_refused() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "events.csv",
        "id,type,customer_id,subject,occurred_at\n\
         ev-9,customs.IE599,C1,26PL1,2026-11-20T10:00:00Z\n",
    );
    ws.ok(&["import", "events", "events.csv"]);
    // Three days later (the rules' max_delay is a day): recorded as too late.
    ws.ok(&["run", "--now", "2026-11-23T10:00:00Z"]);
    let history = ws.ok(&["history", "--customer", "C1"]);
    assert!(history.contains("too late"), "{history}");

    ws.write(
        "bad.csv",
        "id,type,customer_id,subject,occurred_at,payload\n\
         ev-10,customs.IE599,C1,26PL1,2026-11-20 10:00,\n\
         ev-11,customs IE599,C1,26PL1,2026-11-20T10:00:00Z,[1]\n",
    );
    let out = ws.herald(&["import", "events", "bad.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("bad.csv:2:occurred_at: '2026-11-20 10:00' is not an instant"),
        "{err}"
    );
    assert!(err.contains("bad.csv:3:type:"), "{err}");
    assert!(
        err.contains("bad.csv:3:payload: must be a JSON object"),
        "{err}"
    );
}
