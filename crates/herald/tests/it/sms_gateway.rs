//! SMS through a provider's HTTP API (the SMSAPI.pl preset, against wiremock on
//! 127.0.0.1 standing in for api.smsapi.pl).

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const TOKEN: &str = "smsapi-tok-9f8e7d";

fn with_gateway(url: &str) -> Workspace {
    let ws = Workspace::new();
    ws.set_config(
        "kind = \"file\"                      # writes each SMS as a JSON file",
        &format!(
            "kind = \"http\"\npreset = \"smsapi\"\ntoken_env = \"TEST_SMSAPI_TOKEN\"\nbase_url = \"{url}\"\ntimeout = \"2s\""
        ),
    );
    // New invoices by SMS where the contact has a phone and opted in, else e-mail.
    ws.set_config(
        "channels = [\"email\"]  ",
        "channels = [\"sms\", \"email\"]  ",
    );
    ws.import_basics();
    ws
}

fn run(ws: &Workspace, token: Option<&str>) -> std::process::Output {
    ws.herald_with_secret(&["run", "--now", "2026-11-02"], "TEST_SMSAPI_TOKEN", token)
}

fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    String::from_utf8(body.to_vec())
        .unwrap()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let decode = |s: &str| {
                let s = s.replace('+', " ");
                let mut out = Vec::new();
                let b = s.as_bytes();
                let mut i = 0;
                while i < b.len() {
                    if b[i] == b'%' && i + 2 < b.len() {
                        out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                        i += 3;
                    } else {
                        out.push(b[i]);
                        i += 1;
                    }
                }
                String::from_utf8(out).unwrap()
            };
            (decode(k), decode(v))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_goes_out_by_sms_through_the_smsapi_preset_and_keeps_the_gateways_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms.do"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "count": 1,
            "list": [{ "id": "6151F2B43433396D9E9F2A1A", "points": 0.16,
                       "number": "48601234567", "status": "QUEUE" }]
        })))
        .mount(&server)
        .await;
    let ws = with_gateway(&server.uri());
    let out = run(&ws, Some(TOKEN));
    assert_ok(&out, "run");
    let all = all_output(&out);
    assert!(!all.contains(TOKEN), "the token leaked: {all}");
    assert!(all.contains("SMS through"), "{all}");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests.len(),
        1,
        "only C1's contact has a phone and SMS opt-in"
    );
    let r = &requests[0];
    assert_eq!(
        r.headers.get("authorization").unwrap().to_str().unwrap(),
        format!("Bearer {TOKEN}")
    );
    let f = form(&r.body);
    assert_eq!(f["to"], "48601234567");
    assert_eq!(f["from"], "BIURO", "the starter's sender name");
    assert!(f["message"].contains("FV/2026/11/001"), "{f:?}");
    assert_eq!(f["format"], "json");

    // The other three customers got e-mail; everything is sent, and the history
    // keeps the gateway's id.
    assert_eq!(ws.emails().len(), 3);
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    assert_eq!(status["by_state"]["sent"], 4, "{status}");
    let history = ws.ok(&["history", "--customer", "C1", "--json"]);
    assert!(history.contains("6151F2B43433396D9E9F2A1A"), "{history}");

    // Never twice.
    assert_ok(&run(&ws, Some(TOKEN)), "second run");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_token_the_sms_waits_and_check_names_the_variable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let ws = with_gateway(&server.uri());
    assert_ok(&run(&ws, None), "run without the token");
    assert!(server.received_requests().await.unwrap().is_empty());
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    assert_eq!(status["by_state"]["retrying"], 1, "{status}");
    let history = ws.ok(&["history", "--customer", "C1"]);
    assert!(history.contains("TEST_SMSAPI_TOKEN"), "{history}");

    let out = ws.herald_with_secret(&["check"], "TEST_SMSAPI_TOKEN", None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("TEST_SMSAPI_TOKEN"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_sms_gateway_without_what_it_needs_is_refused() {
    let sms_kind = "kind = \"file\"                      # writes each SMS as a JSON file";
    for (sms, expected) in [
        ("kind = \"http\"\ntoken_env = \"X\"", "channels.sms.preset"),
        (
            "kind = \"http\"\npreset = \"acme\"\ntoken_env = \"X\"",
            "smsapi",
        ),
        (
            "kind = \"http\"\npreset = \"smsapi\"",
            "channels.sms.token_env",
        ),
        (
            "kind = \"http\"\npreset = \"twilio\"\ntoken_env = \"X\"",
            "channels.sms.account",
        ),
        ("kind = \"pigeon\"", "\"http\""),
    ] {
        let ws = Workspace::new();
        ws.set_config(sms_kind, sms);
        let out = ws.herald(&["check"]);
        assert_eq!(out.status.code(), Some(2), "{sms}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{sms}: {}", stderr(&out));
    }
}

/// A gateway herald has no preset for, described in herald.toml: its request (JSON
/// body, a header with the token) and how to read its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_gateway_can_be_described_in_the_config() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/messages"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({ "data": { "message_id": "gw-77" } })),
        )
        .mount(&server)
        .await;
    let ws = Workspace::new();
    ws.set_config(
        "kind = \"file\"                      # writes each SMS as a JSON file",
        &format!(
            "kind = \"http\"\nurl = \"{}/v2/messages\"\ntoken_env = \"TEST_SMSAPI_TOKEN\"\n\
             headers = {{ \"X-Api-Key\" = \"{{token}}\" }}\n\
             json = '{{\"recipient\": \"{{to}}\", \"body\": \"{{text}}\", \"ref\": \"{{id}}\"}}'\n\
             success_if = \"/data/message_id\"\nprovider_id = \"/data/message_id\"\nerror_message = \"/error\"",
            server.uri()
        ),
    );
    ws.set_config(
        "channels = [\"email\"]  ",
        "channels = [\"sms\", \"email\"]  ",
    );
    ws.import_basics();
    assert_ok(&run(&ws, Some(TOKEN)), "run");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.headers.get("x-api-key").unwrap().to_str().unwrap(), TOKEN);
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["recipient"], "+48601234567");
    assert!(
        body["body"].as_str().unwrap().contains("FV/2026/11/001"),
        "{body}"
    );
    assert!(
        body["ref"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    let history = ws.ok(&["history", "--customer", "C1", "--json"]);
    assert!(history.contains("gw-77"), "{history}");

    // A pointer that is not one is refused with the key.
    ws.set_config(
        "success_if = \"/data/message_id\"",
        "success_if = \"data.message_id\"",
    );
    let out = ws.herald(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("channels.sms.success_if"),
        "{}",
        stderr(&out)
    );
}

/// Channel fallback: an SMS the gateway refuses for good (a 4xx) sends the notice
/// to the same contact by e-mail, once, and the history says so. Without
/// `channel_fallback` the failure stays a failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sms_goes_on_by_e_mail_when_the_rule_falls_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sms.do"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": 13, "message": "No correct phone numbers"
        })))
        .mount(&server)
        .await;
    let ws = with_gateway(&server.uri());
    ws.set_config(
        "channels = [\"sms\", \"email\"]  ",
        "channel_fallback = true\nchannels = [\"sms\", \"email\"]  ",
    );
    let out = run(&ws, Some(TOKEN));
    assert_ok(&out, "run");
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        printed.contains("failed 1 (1 to go on by another channel)"),
        "{printed}"
    );
    // The e-mail is due at once: the same run or the next send takes it.
    ws.ok(&["send", "--now", "2026-11-02"]);
    let emails = ws.emails();
    assert_eq!(
        emails.len(),
        4,
        "three by e-mail anyway, and Anna's instead of her SMS"
    );
    let anna: Vec<_> = emails
        .iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("anna@kowalski.example.pl")
        })
        .collect();
    assert_eq!(anna.len(), 1, "{emails:?}");
    let history = ws.ok(&["history", "--customer", "C1", "--json"]);
    let h: serde_json::Value = serde_json::from_str(&history).unwrap();
    let deliveries = h[0]["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 2, "{history}");
    assert_eq!(deliveries[0]["state"], "failed", "{history}");
    assert!(
        history.contains("No correct phone numbers")
            && history.contains("the notice goes on by e-mail to anna@kowalski.example.pl"),
        "{history}"
    );
    assert_eq!(deliveries[1]["channel"], "email", "{history}");
    assert_eq!(deliveries[1]["state"], "sent", "{history}");
    assert_eq!(
        deliveries[1]["fallback_of"], deliveries[0]["id"],
        "{history}"
    );

    // Never twice: nothing more is sent or added.
    assert_ok(&run(&ws, Some(TOKEN)), "second run");
    assert_eq!(ws.emails().len(), 4);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // Without the fallback, the refused SMS is just failed.
    let plain = with_gateway(&server.uri());
    let out = run(&plain, Some(TOKEN));
    assert_ok(&out, "run without fallback");
    assert_eq!(plain.emails().len(), 3);
    let status: serde_json::Value = serde_json::from_str(&plain.ok(&["status", "--json"])).unwrap();
    assert_eq!(status["by_state"]["failed"], 1, "{status}");
}
