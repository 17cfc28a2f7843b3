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

/// Seed 000's status columns: per declaration and message type, PartiallySent when
/// one of the two recipients got the message and the other did not; NotApplicable
/// for a message that never came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_by_declaration_shows_each_message_types_status() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let gateway = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": 13, "message": "No correct phone numbers"
        })))
        .mount(&gateway)
        .await;
    let ws = Workspace::new();
    ws.set_config(
        "kind = \"file\"                      # writes each SMS as a JSON file",
        &format!(
            "kind = \"http\"\npreset = \"smsapi\"\ntoken_env = \"TEST_SMSAPI_TOKEN\"\nbase_url = \"{}\"\ntimeout = \"2s\"",
            gateway.uri()
        ),
    );
    ws.set_config(
        "on = { event = \"customs.IE529\" }",
        "on = { event = \"customs.IE529\" }\nchannels = [\"sms\", \"email\"]",
    );
    ws.import_basics();
    ws.write(
        "customs.csv",
        "customer_id,role,name,email,phone,email_opt_in,sms_opt_in\n\
         C1,customs,Dział celny,clo@kowalski.example.pl,,true,false\n\
         C1,customs,Piotr Zieliński,,+48601999888,false,true\n",
    );
    ws.ok(&["import", "contacts", "customs.csv"]);
    ws.write(
        "events.csv",
        "id,type,customer_id,subject,occurred_at\n\
         ev-1,customs.IE529,C1,26PL44302000012345,2026-11-23T08:42:00Z\n\
         ev-2,customs.IE599,C1,26PL44302000012345,2026-11-24T13:05:00Z\n",
    );
    ws.ok(&["import", "events", "events.csv"]);
    let run = |now: &str| {
        let out = ws.herald_with_secret(&["run", "--now", now], "TEST_SMSAPI_TOKEN", Some("tok"));
        assert_ok(&out, "run");
    };
    run("2026-11-23T08:45:00Z");
    let out = ws.ok(&["history", "--subject", "26PL44302000012345"]);
    let lines: Vec<&str> = out.lines().take(3).collect();
    assert_eq!(lines[0], "26PL44302000012345", "{out}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["IE529", "IE509", "IE599"],
        "{out}"
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["PartiallySent", "NotApplicable", "NotApplicable"],
        "the exit (IE599) has not happened yet: {out}"
    );
    run("2026-11-24T13:10:00Z");
    let out = ws.ok(&["history", "--subject", "26PL44302000012345"]);
    let statuses: Vec<&str> = out.lines().nth(2).unwrap().split_whitespace().collect();
    // IE599 goes by e-mail only (its rule's channels), to the one contact with an
    // address for it: Sent.
    assert_eq!(
        statuses,
        ["PartiallySent", "NotApplicable", "Sent"],
        "{out}"
    );
}

/// Seed 002: office activity reaches the operator in charge of the client, by
/// relation, in the operator's language; HR activity the HR manager only.
#[test]
fn office_activity_reaches_the_operator_in_charge_of_the_client() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "operators.csv",
        "id,name,email,locale\n\
         op-ewa,Ewa Nowak,ewa@biuro.example.pl,pl\n\
         op-jan,Jan Wiśniewski,jan@biuro.example.pl,pl\n\
         op-mary,Mary Byrne,mary@biuro.example.ie,en\n",
    );
    ws.ok(&["import", "operators", "operators.csv"]);
    ws.write(
        "relations.csv",
        "customer_id,operator_id,relation\n\
         C1,op-ewa,accounting_manager\n\
         C1,op-jan,hr_manager\n\
         C1,op-mary,account_manager\n",
    );
    ws.ok(&["import", "relations", "relations.csv"]);
    ws.write(
        "events.csv",
        "id,type,customer_id,subject,occurred_at,payload\n\
         ev-1,audit.finished,C1,Audyt 2026,2026-11-23T09:00:00Z,\n\
         ev-2,documents.delivered,C1,Wyciągi 10/2026,2026-11-23T09:10:00Z,\n\
         ev-3,client.activity,C1,,2026-11-23T09:20:00Z,\"{\"\"area\"\": \"\"hr\"\"}\"\n",
    );
    ws.ok(&["import", "events", "events.csv"]);
    ws.ok(&["run", "--now", "2026-11-23T09:30:00Z"]);
    let got: Vec<(String, String)> = ws
        .emails()
        .iter()
        .map(|p| {
            let m = parse_eml(p);
            (
                m.to()
                    .unwrap()
                    .first()
                    .unwrap()
                    .address()
                    .unwrap()
                    .to_owned(),
                m.subject().unwrap_or_default().to_owned(),
            )
        })
        .filter(|(to, _)| to.contains("biuro"))
        .collect();
    assert!(
        got.contains(&(
            "mary@biuro.example.ie".into(),
            "Audit finished: Kowalski i Wspólnicy sp. z o.o.".into()
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "ewa@biuro.example.pl".into(),
            "Dokumenty dostarczone: Kowalski i Wspólnicy sp. z o.o.".into()
        )),
        "{got:?}"
    );
    assert!(
        got.contains(&(
            "jan@biuro.example.pl".into(),
            "Aktywność klienta: Kowalski i Wspólnicy sp. z o.o.".into()
        )),
        "{got:?}"
    );
    assert_eq!(
        got.len(),
        3,
        "HR activity goes to the HR manager only: {got:?}"
    );
}

/// Seed 004: an event for every customer (no customer_id) reaches each contact
/// that opted in, on the first channel they opted in to, once.
#[test]
fn a_reading_period_is_announced_to_every_customer_once() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "events.csv",
        "id,type,customer_id,occurred_at,payload\n\
         ev-r1,reading.period_started,,2026-11-23T06:00:00Z,\"{\"\"until\"\": \"\"2026-11-30\"\"}\"\n",
    );
    ws.ok(&["import", "events", "events.csv"]);
    ws.ok(&["run", "--now", "2026-11-23T06:05:00Z"]);
    let sms = ws.sms();
    assert_eq!(sms.len(), 1, "Anna Kowalska opted in to SMS: {sms:?}");
    assert!(
        sms[0]["body"].as_str().unwrap().contains("2026-11-30"),
        "{sms:?}"
    );
    let reading: Vec<String> = ws
        .emails()
        .iter()
        .map(|p| parse_eml(p))
        .filter(|m| {
            m.subject().is_some_and(|s| {
                s.contains("licznika")
                    || s.contains("Meter")
                    || s.contains("měřidla")
                    || s.contains("contorului")
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
        .collect();
    assert_eq!(reading.len(), 3, "the other three by e-mail: {reading:?}");
    ws.ok(&["run", "--now", "2026-11-23T07:00:00Z"]);
    assert_eq!(ws.sms().len(), 1, "once");
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    assert_eq!(status["by_rule"]["reading-period"]["sent"], 4, "{status}");
}

/// A customs message is for the customs contacts: a customer without one gets it
/// recorded as NotApplicable, not sent to the billing contact.
#[test]
fn a_customs_message_without_a_customs_contact_is_not_sent_to_billing() {
    let ws = Workspace::new();
    ws.import_basics();
    ws.write(
        "events.csv",
        "id,type,customer_id,subject,occurred_at\nev-1,customs.IE529,C2,26CZ1,2026-11-23T09:00:00Z\n",
    );
    ws.ok(&["import", "events", "events.csv"]);
    ws.ok(&["run", "--now", "2026-11-23T09:05:00Z"]);
    assert!(
        !ws.emails()
            .iter()
            .any(|p| parse_eml(p).subject().is_some_and(|s| s.contains("IE529"))),
        "nothing forwarded"
    );
    let out = ws.ok(&["history", "--subject", "26CZ1"]);
    assert!(out.contains("no recipient"), "{out}");
    assert_eq!(
        out.lines()
            .nth(2)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["NotApplicable", "NotApplicable", "NotApplicable"],
        "{out}"
    );
}
