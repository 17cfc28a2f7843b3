//! Webhooks: notices POSTed as signed JSON to a receiver (wiremock on 127.0.0.1).

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const SECRET: &str = "whsec-7Qm2-test";

/// A workspace whose new-invoice rule also goes to the webhook `erp` at `url`.
fn with_webhook(url: &str) -> Workspace {
    let ws = Workspace::new();
    ws.set_config(
        "to = [\"customer:billing\"]          # contacts with role billing",
        "to = [\"customer:billing\", \"webhook:erp\"]  # contacts with role billing",
    );
    let text = std::fs::read_to_string(ws.path().join("herald.toml")).unwrap();
    std::fs::write(
        ws.path().join("herald.toml"),
        format!(
            "{text}\n[[webhooks]]\nname = \"erp\"\nurl = \"{url}\"\nsecret_env = \"ERP_WEBHOOK_SECRET\"\ntimeout = \"2s\"\n"
        ),
    )
    .unwrap();
    ws.import_basics();
    ws
}

fn run(ws: &Workspace, now: &str, secret: Option<&str>) -> std::process::Output {
    ws.herald_with_secret(&["run", "--now", now], "ERP_WEBHOOK_SECRET", secret)
}

/// `sha256=HEX` of `TIMESTAMP.BODY`, computed by openssl: an implementation that
/// is not herald's.
fn openssl_signature(timestamp: &str, body: &[u8]) -> String {
    let openssl = "/usr/bin/openssl";
    assert!(
        std::path::Path::new(openssl).exists(),
        "{openssl} is missing: apt-get install openssl (scripts/test.sh does it)"
    );
    let mut input = format!("{timestamp}.").into_bytes();
    input.extend_from_slice(body);
    let mut child = std::process::Command::new(openssl)
        .args(["dgst", "-sha256", "-hmac", SECRET])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let hex = text.rsplit(' ').next().unwrap().trim();
    format!("sha256={hex}")
}

fn by_state(ws: &Workspace) -> serde_json::Value {
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    status["by_state"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_posts_signed_json_to_a_webhook_once_and_the_receiver_can_check_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/herald"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let ws = with_webhook(&format!("{}/herald", server.uri()));
    let out = run(&ws, "2026-11-02", Some(SECRET));
    assert_ok(&out, "run --now 2026-11-02");
    let all = all_output(&out);
    assert!(!all.contains(SECRET), "the secret leaked: {all}");

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 4, "one POST per customer's new invoice");
    let mut customers = Vec::new();
    for r in &requests {
        let header = |name: &str| {
            r.headers
                .get(name)
                .unwrap_or_else(|| panic!("no {name} header"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(header("content-type"), "application/json");
        let timestamp = header("x-herald-timestamp");
        assert_eq!(
            header("x-herald-signature"),
            openssl_signature(&timestamp, &r.body),
            "the signature does not verify"
        );
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["event"], "notification");
        assert_eq!(body["rule"], "new-invoice");
        assert_eq!(
            body["delivery_id"].to_string(),
            header("x-herald-delivery"),
            "{body}"
        );
        assert!(body["subject"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(body["data"]["invoice"]["number"].is_string(), "{body}");
        customers.push(body["customer_id"].as_str().unwrap().to_owned());
    }
    customers.sort();
    assert_eq!(customers, ["C1", "C2", "C3", "C4"]);
    // The e-mails went out as well: the webhook is one more recipient.
    assert_eq!(ws.emails().len(), 4);
    assert_eq!(by_state(&ws)["sent"], 8);

    // Never twice.
    assert_ok(&run(&ws, "2026-11-02", Some(SECRET)), "second run");
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_receiver_is_retried_a_refusing_one_fails_with_its_words_and_a_missing_secret_waits()
{
    let busy = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&busy)
        .await;
    let ws = with_webhook(&busy.uri());
    assert_ok(&run(&ws, "2026-11-02", Some(SECRET)), "run");
    assert_eq!(by_state(&ws)["retrying"], 4, "{}", by_state(&ws));

    let refusing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_string("unknown customer C1"))
        .mount(&refusing)
        .await;
    let ws = with_webhook(&refusing.uri());
    assert_ok(&run(&ws, "2026-11-02", Some(SECRET)), "run");
    assert_eq!(by_state(&ws)["failed"], 4, "{}", by_state(&ws));
    let history = ws.ok(&["history", "--customer", "C1"]);
    assert!(history.contains("unknown customer C1"), "{history}");

    let ok = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&ok)
        .await;
    let ws = with_webhook(&ok.uri());
    assert_ok(&run(&ws, "2026-11-02", None), "run without the secret");
    assert_eq!(by_state(&ws)["retrying"], 4, "{}", by_state(&ws));
    assert!(ok.received_requests().await.unwrap().is_empty());
    let history = ws.ok(&["history", "--customer", "C2"]);
    assert!(history.contains("ERP_WEBHOOK_SECRET"), "{history}");
}

#[test]
fn a_rule_naming_an_unknown_webhook_is_refused() {
    let ws = Workspace::new();
    ws.set_config(
        "to = [\"customer:billing\"]          # contacts with role billing",
        "to = [\"webhook:crm\"]  # contacts with role billing",
    );
    let out = ws.herald(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no webhook 'crm'"),
        "{}",
        stderr(&out)
    );
}

/// The operator alert (issue 3): one digest of failures to the admin addresses,
/// not one e-mail per failure, at most once per `alerts.every`, each failure once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_reach_the_admins_as_one_digest_and_each_failure_only_once() {
    let refusing = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_string("unknown customer"))
        .mount(&refusing)
        .await;
    let ws = with_webhook(&refusing.uri());
    let text = std::fs::read_to_string(ws.path().join("herald.toml")).unwrap();
    std::fs::write(
        ws.path().join("herald.toml"),
        format!("{text}\n[alerts]\nto = [\"admin@biuro.example.pl\", \"it@biuro.example.pl\"]\nevery = \"36h\"\n"),
    )
    .unwrap();
    let alerts = |ws: &Workspace| -> Vec<std::path::PathBuf> {
        let mut found: Vec<_> = ws
            .emails()
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .contains("admin_at_biuro")
            })
            .collect();
        found.sort();
        found
    };

    let out = run(&ws, "2026-11-02", Some(SECRET));
    assert_ok(&out, "run");
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("4 failed deliveries reported to admin@biuro.example.pl")
    );
    let first = alerts(&ws);
    assert_eq!(
        first.len(),
        1,
        "one digest, not one e-mail per failure: {first:?}"
    );
    let m = parse_eml(&first[0]);
    assert!(
        m.subject().unwrap().contains("4 deliveries failed"),
        "{:?}",
        m.subject()
    );
    let to: Vec<&str> = m.to().unwrap().iter().filter_map(|a| a.address()).collect();
    assert_eq!(to, ["admin@biuro.example.pl", "it@biuro.example.pl"]);
    let body = m.body_text(0).unwrap();
    assert!(body.contains("new-invoice"), "{body}");
    for c in ["C1", "C2", "C3", "C4"] {
        assert!(body.contains(&format!("customer {c}")), "{body}");
    }
    assert!(body.contains("unknown customer"), "{body}");

    // Nothing new: no second digest.
    assert_ok(&run(&ws, "2026-11-02", Some(SECRET)), "again");
    assert_eq!(alerts(&ws).len(), 1);

    // A new failure a day later waits for `every` (36 h) to pass, then comes alone.
    ws.write(
        "more.csv",
        "id,number,customer_id,issue_date,due_date,currency,amount,attachment\n\
         I5,FV/2026/11/005,C1,2026-11-03,2026-11-17,PLN,99.00,\n",
    );
    ws.ok(&["import", "invoices", "more.csv"]);
    assert_ok(&run(&ws, "2026-11-03", Some(SECRET)), "next day");
    assert_eq!(alerts(&ws).len(), 1, "within 36 h of the last digest");
    assert_ok(&run(&ws, "2026-11-04", Some(SECRET)), "two days later");
    let all = alerts(&ws);
    assert_eq!(all.len(), 2, "{all:?}");
    let second = all
        .iter()
        .map(|p| parse_eml(p))
        .find(|m| m.subject().unwrap().contains("1 delivery failed"))
        .expect("a digest of the one new failure");
    let body = second.body_text(0).unwrap();
    assert!(body.contains("customer C1"), "{body}");
    assert!(
        !body.contains("customer C2"),
        "only the new failure: {body}"
    );
}
