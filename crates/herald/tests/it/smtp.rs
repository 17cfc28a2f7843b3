//! E-mail through a real SMTP server (postfix's smtp-sink on 127.0.0.1).

use crate::support::*;

const FILE_KIND: &str =
    "kind = \"file\"                      # writes each e-mail as an .eml file a mail client opens";

fn use_smtp(ws: &Workspace, port: u16, extra: &str) {
    ws.set_config(
        FILE_KIND,
        &format!(
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nsend_timeout = \"10s\"\n{extra}"
        ),
    );
}

#[test]
fn notices_reach_a_real_smtp_server_once_each_and_the_password_never_shows() {
    let sink = SmtpSink::start();
    let ws = Workspace::new();
    use_smtp(
        &ws,
        sink.port,
        "user = \"herald\"\npassword_env = \"TEST_SMTP_PASSWORD\"",
    );
    ws.import_basics();
    let out = std::process::Command::new(herald_bin())
        .args(["run", "--now", "2026-11-02"])
        .current_dir(ws.path())
        .env("TEST_SMTP_PASSWORD", "s3cr3t-Pa55")
        .env("HERALD_LOG", "debug")
        .output()
        .unwrap();
    assert_ok(&out, "run --now 2026-11-02");
    let all = all_output(&out);
    assert!(!all.contains("s3cr3t-Pa55"), "the password leaked:\n{all}");

    let received = sink.messages();
    assert_eq!(received.len(), 4, "{received:?}\n{all}");
    let mut to: Vec<String> = Vec::new();
    for p in &received {
        let m = parse_eml(p);
        assert!(
            m.message_id().unwrap().starts_with("herald-delivery-"),
            "{:?}",
            m.message_id()
        );
        assert!(m.subject().is_some_and(|s| !s.is_empty()));
        assert!(m.body_text(0).is_some() && m.body_html(0).is_some());
        to.push(
            m.to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap()
                .to_owned(),
        );
    }
    to.sort();
    assert_eq!(
        to,
        [
            "anna@kowalski.example.pl",
            "ion@popescu.example.ro",
            "jan@novak.example.cz",
            "mary@harbour.example.ie"
        ]
    );
    assert!(ws.emails().is_empty(), "nothing goes to the file outbox");

    // Never twice: the same run again sends nothing.
    let again = std::process::Command::new(herald_bin())
        .args(["run", "--now", "2026-11-02"])
        .current_dir(ws.path())
        .env("TEST_SMTP_PASSWORD", "s3cr3t-Pa55")
        .output()
        .unwrap();
    assert_ok(&again, "run again");
    assert_eq!(sink.messages().len(), 4);
    let status = ws.ok(&["status", "--json"]);
    assert!(status.contains("\"sent\""), "{status}");
}

#[test]
fn an_unreachable_server_is_a_transient_failure_that_is_retried() {
    let ws = Workspace::new();
    // Nothing listens on this port.
    use_smtp(&ws, free_port(), "connect_timeout = \"2s\"");
    ws.import_basics();
    let out = ws.ok(&["run", "--now", "2026-11-02"]);
    assert!(out.contains("retrying 4"), "{out}");
    let history = ws.ok(&["history", "--customer", "C1"]);
    assert!(history.contains("cannot reach 127.0.0.1"), "{history}");
}

#[test]
fn a_missing_password_variable_is_a_config_error_that_says_what_to_do() {
    let ws = Workspace::new();
    use_smtp(
        &ws,
        2525,
        "user = \"u\"\npassword_env = \"NO_SUCH_HERALD_TEST_VAR\"",
    );
    let out = ws.herald(&["check"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("NO_SUCH_HERALD_TEST_VAR") && err.contains("export it"),
        "{err}"
    );
}

#[test]
fn smtp_test_shows_each_step_and_sends_a_test_message() {
    let sink = SmtpSink::start();
    let ws = Workspace::new();
    use_smtp(&ws, sink.port, "");
    let out = ws.ok(&["smtp", "test"]);
    assert!(
        out.contains("ok    connected to 127.0.0.1") && out.contains("ok    greeted"),
        "{out}"
    );
    assert!(sink.messages().is_empty(), "no --to, no message");

    let out = ws.ok(&["smtp", "test", "--to", "check@example.pl"]);
    assert!(
        out.contains("ok    test message to check@example.pl"),
        "{out}"
    );
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(parse_eml(&got[0]).subject(), Some("herald: SMTP test"));

    // A refused step says which one and why, and the exit code says it failed.
    drop(sink);
    let out = ws.herald(&["smtp", "test"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("FAIL  connect: cannot reach 127.0.0.1"),
        "{text}"
    );
}

#[test]
fn smtp_test_on_the_file_outbox_says_there_is_nothing_to_test() {
    let ws = Workspace::new();
    let out = ws.herald(&["smtp", "test"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("kind = \"smtp\""), "{}", stderr(&out));
}

fn by_state(ws: &Workspace) -> serde_json::Map<String, serde_json::Value> {
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    status["by_state"].as_object().cloned().unwrap_or_default()
}

fn count(states: &serde_json::Map<String, serde_json::Value>, state: &str) -> u64 {
    states.get(state).and_then(|v| v.as_u64()).unwrap_or(0)
}

/// DESIGN.md invariant 4 under a real crash: `kill -9` while 10,000 deliveries go
/// out, then a new sender after the leases expire.
#[test]
fn a_sender_killed_mid_run_resends_at_most_concurrency_and_each_delivery_ends_sent_once() {
    let sink = SmtpSink::start();
    let ws = Workspace::new();
    // Fewer connections than deliveries in flight: senders waiting for their
    // outcome to be stored do not hold a connection, and still count.
    use_smtp(&ws, sink.port, "connections = 4");
    ws.set_config("concurrency = 128 ", "concurrency = 8 ");
    ws.ok(&[
        "bench-data",
        "--dir",
        "data",
        "--customers",
        "5000",
        "--invoices",
        "50000",
        "--today",
        "2026-11-22",
    ]);
    for kind in ["customers", "contacts", "invoices", "payments"] {
        ws.ok(&["import", kind, &format!("data/{kind}.csv")]);
    }
    ws.ok(&["plan", "--now", "2026-11-22"]);
    let total = count(&by_state(&ws), "pending");
    assert!(total >= 10_000, "{total} deliveries planned");

    let mut sender = std::process::Command::new(herald_bin())
        .args(["send", "--now", "2026-11-22"])
        .current_dir(ws.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while (sink.messages().len() as u64) < total / 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the sender sent {} of {total} in 120 s",
            sink.messages().len()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    sender.kill().unwrap(); // SIGKILL: no cleanup, leases left as they were
    sender.wait().unwrap();
    let at_kill = sink.messages().len() as u64;
    assert!(at_kill < total, "killed too late to prove anything");
    let states = by_state(&ws);
    assert!(count(&states, "sent") < total, "{states:?}");

    // Leases last 5 minutes; a sender started after that takes them over.
    ws.ok(&["send", "--now", "2026-11-23T00:10:00Z"]);
    let states = by_state(&ws);
    assert_eq!(
        count(&states, "sent"),
        total,
        "every delivery ends sent: {states:?}"
    );
    for other in ["pending", "sending", "retrying", "failed"] {
        assert_eq!(count(&states, other), 0, "{other}: {states:?}");
    }

    let mut per_id: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for p in sink.messages() {
        let text = std::fs::read_to_string(&p).unwrap();
        let id = text
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .unwrap_or_else(|| panic!("{} has no Message-ID", p.display()))
            .to_owned();
        *per_id.entry(id).or_default() += 1;
    }
    assert_eq!(
        per_id.len() as u64,
        total,
        "every delivery reached the server"
    );
    let duplicates: u32 = per_id.values().map(|n| n - 1).sum();
    eprintln!("killed after {at_kill} of {total} messages; {duplicates} sent twice");
    assert!(
        duplicates <= 8,
        "{duplicates} messages were sent twice; at most dispatch.concurrency (8) may be"
    );
    assert!(per_id.values().all(|n| *n <= 2));
}

#[test]
fn a_daily_limit_holds_the_rest_until_the_next_day_without_counting_an_attempt() {
    let sink = SmtpSink::start();
    let ws = Workspace::new();
    use_smtp(&ws, sink.port, "daily_limit = 3\nper_second = 50");
    ws.import_basics();
    let out = ws.ok(&["run", "--now", "2026-11-02"]);
    assert!(
        out.contains("sent 3,") && out.contains("1 held by the account's daily limit"),
        "{out}"
    );
    assert_eq!(sink.messages().len(), 3);
    // Later the same day: still held.
    let out = ws.ok(&["send", "--now", "2026-11-02T22:00:00Z"]);
    assert!(out.contains("sent 0,"), "{out}");
    assert_eq!(sink.messages().len(), 3);
    let states = by_state(&ws);
    assert_eq!(count(&states, "retrying"), 1, "{states:?}");
    // The next day it goes out, on its first attempt.
    let out = ws.ok(&["send", "--now", "2026-11-03"]);
    assert!(out.contains("sent 1,"), "{out}");
    assert_eq!(sink.messages().len(), 4);
    // Held is not tried: every delivery went out on its first attempt.
    for c in ["C1", "C2", "C3", "C4"] {
        let history = ws.ok(&["history", "--customer", c, "--json"]);
        assert!(
            history.contains("\"attempts\": 1") && !history.contains("\"attempts\": 2"),
            "{c}: {history}"
        );
    }
}

#[test]
fn read_and_delivery_receipts_are_asked_for_when_configured() {
    let sink = SmtpSink::start();
    let ws = Workspace::new();
    use_smtp(
        &ws,
        sink.port,
        "read_receipt = true\ndelivery_receipt = true",
    );
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02"]);
    let got = sink.messages();
    assert_eq!(got.len(), 4);
    for p in &got {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(
            text.contains("Disposition-Notification-To: naleznosci@example.pl"),
            "{text}"
        );
        // smtp-sink announces DSN and writes down the parameters it was given.
        assert!(text.contains("NOTIFY=SUCCESS,FAILURE"), "{text}");
        assert!(text.contains("RET=HDRS"), "{text}");
    }
}

#[test]
fn no_dsn_parameters_unless_asked() {
    let sink = SmtpSink::start();
    let ws = Workspace::new();
    use_smtp(&ws, sink.port, "");
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02"]);
    for p in sink.messages() {
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            !text.contains("NOTIFY=") && !text.contains("Disposition-Notification-To"),
            "{text}"
        );
    }
}

/// DKIM checked by an independent verifier: Debian's dkimpy (python3-dkim), with
/// the public key served from a stand-in for DNS. A message changed on the way
/// must fail, so the check is not a formality.
#[test]
fn dkim_signed_messages_pass_an_independent_verifier_and_a_changed_one_fails() {
    for tool in ["/usr/bin/openssl", "/usr/bin/python3"] {
        assert!(
            std::path::Path::new(tool).exists(),
            "{tool} is missing: apt-get install openssl python3-dkim (scripts/test.sh does it)"
        );
    }
    let has_dkimpy = std::process::Command::new("/usr/bin/python3")
        .args(["-c", "import dkim"])
        .status()
        .unwrap()
        .success();
    assert!(
        has_dkimpy,
        "python3-dkim is missing: apt-get install python3-dkim (scripts/test.sh does it)"
    );
    let sink = SmtpSink::start();
    let ws = Workspace::new();
    let key = ws.path().join("dkim.pem");
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("/usr/bin/openssl")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
        out.stdout
    };
    openssl(&[
        "genrsa",
        "-traditional",
        "-out",
        key.to_str().unwrap(),
        "2048",
    ]);
    // The public key as DNS publishes it (base64 of the DER), for the verifier.
    let public = openssl(&[
        "rsa",
        "-in",
        key.to_str().unwrap(),
        "-pubout",
        "-outform",
        "DER",
    ]);
    std::fs::write(ws.path().join("dkim.der"), &public).unwrap();
    use_smtp(
        &ws,
        sink.port,
        "dkim_selector = \"herald2026\"\ndkim_key_file = \"dkim.pem\"",
    );
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02"]);
    let received = sink.messages();
    assert_eq!(received.len(), 4, "{received:?}");

    let verify = |message: &std::path::Path| -> String {
        let script = r#"
import base64, sys, dkim
der = open(sys.argv[1], "rb").read()
record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)
def dns(name, timeout=5):
    assert name == b"herald2026._domainkey.example.pl.", name
    return record
msg = open(sys.argv[2], "rb").read()
msg = msg.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
if len(sys.argv) > 3:
    # One character of the text part changed on the way.
    i = msg.index(b"quoted-printable\r\n\r\n") + 22
    msg = msg[:i] + (b"X" if msg[i:i+1] != b"X" else b"Y") + msg[i+1:]
print("pass" if dkim.verify(msg, dnsfunc=dns) else "fail")
"#;
        let mut args = vec![
            "-c".to_owned(),
            script.to_owned(),
            ws.path().join("dkim.der").display().to_string(),
            message.display().to_string(),
        ];
        if message.extension().is_some_and(|e| e == "changed") {
            args.push("change".into());
        }
        let out = std::process::Command::new("/usr/bin/python3")
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "dkimpy: {}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    for p in &received {
        let text = std::fs::read_to_string(p).unwrap();
        assert!(text.contains("DKIM-Signature:"), "{text}");
        assert!(text.contains("s=herald2026"), "{text}");
        assert_eq!(verify(p), "pass", "{}", p.display());
    }
    let changed = ws.path().join("message.changed");
    std::fs::copy(&received[0], &changed).unwrap();
    assert_eq!(verify(&changed), "fail", "a changed body must not verify");
}

/// Seed 003's debug mode: the conversation in the log, the password never.
#[test]
fn debug_mode_logs_the_smtp_conversation_with_the_password_masked() {
    let sink = SmtpSink::start();
    let ws = Workspace::new();
    use_smtp(
        &ws,
        sink.port,
        "user = \"herald\"\npassword_env = \"TEST_SMTP_PASSWORD\"\ndebug = true",
    );
    ws.import_basics();
    let out = std::process::Command::new(herald_bin())
        .args(["run", "--now", "2026-11-02"])
        .current_dir(ws.path())
        .env("TEST_SMTP_PASSWORD", "s3cr3t-Pa55")
        .env_remove("HERALD_LOG")
        .output()
        .unwrap();
    assert_ok(&out, "run --now 2026-11-02");
    let log = stderr(&out);
    for expected in [
        "> EHLO",
        "****",
        "> MAIL FROM:<naleznosci@example.pl>",
        "> RCPT TO:<anna@kowalski.example.pl>",
        "> DATA",
        "< 354",
        "bytes)",
        "< 250",
    ] {
        assert!(log.contains(expected), "no {expected:?} in the log:\n{log}");
    }
    assert!(!log.contains("s3cr3t-Pa55"), "the password leaked:\n{log}");
    // AUTH PLAIN sends the password base64-encoded; that must not show either.
    let plain = "AGhlcmFsZABzM2NyM3QtUGE1NQ"; // base64("\0herald\0s3cr3t-Pa55"), unpadded prefix
    assert!(!log.contains(plain), "the encoded password leaked:\n{log}");

    // Without debug, a run logs none of it.
    let quiet = Workspace::new();
    use_smtp(&quiet, sink.port, "");
    quiet.import_basics();
    let out = quiet.herald(&["run", "--now", "2026-11-02"]);
    assert_ok(&out, "run without debug");
    assert!(!stderr(&out).contains("MAIL FROM"), "{}", stderr(&out));
}

/// Accounts (seed 000: "user / shared"): a rule sends through its own account as
/// its own sender; the shared account falls back to another when it cannot send.
#[test]
fn a_rule_sends_through_its_own_account_and_an_unreachable_account_falls_back() {
    let shared = SmtpSink::start();
    let ewa = SmtpSink::start();
    let ws = Workspace::new();
    // The shared account's server is down (nothing listens on that port); it falls
    // back to `backup`, which is the shared sink.
    let down = free_port();
    use_smtp(&ws, down, "fallback = \"backup\"\nconnect_timeout = \"2s\"");
    ws.set_config(
        "template = \"due-soon\"",
        "template = \"due-soon\"\naccount = \"ewa\"",
    );
    let text = std::fs::read_to_string(ws.path().join("herald.toml")).unwrap();
    std::fs::write(
        ws.path().join("herald.toml"),
        format!(
            "{text}\n[[accounts]]\nname = \"backup\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"naleznosci@example.pl\"\n\n[[accounts]]\nname = \"ewa\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"ewa.nowak@example.pl\"\nfrom_name = \"Ewa Nowak\"\n",
            shared.port, ewa.port
        ),
    )
    .unwrap();
    ws.import_basics();
    // New invoices (shared account, through the fallback), then due-soon notices
    // three days before the due date (Ewa's account).
    ws.ok(&["run", "--now", "2026-11-02"]);
    ws.ok(&["run", "--now", "2026-11-13"]);
    let status: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    assert_eq!(status["by_state"]["sent"], 8, "{status}");

    let through_shared = shared.messages();
    assert_eq!(
        through_shared.len(),
        4,
        "new-invoice notices, through the fallback"
    );
    for p in &through_shared {
        let m = parse_eml(p);
        assert_eq!(
            m.from().unwrap().first().unwrap().address(),
            Some("naleznosci@example.pl")
        );
    }
    let history = ws.ok(&["history", "--customer", "C1"]);
    assert!(history.contains("through account backup"), "{history}");
    assert!(
        history.contains("cannot reach"),
        "the first account's failure is kept: {history}"
    );

    let through_ewa = ewa.messages();
    assert_eq!(
        through_ewa.len(),
        4,
        "due-soon notices, through Ewa's account"
    );
    for p in &through_ewa {
        let m = parse_eml(p);
        let from = m.from().unwrap().first().unwrap();
        assert_eq!(from.address(), Some("ewa.nowak@example.pl"));
        assert_eq!(from.name(), Some("Ewa Nowak"));
    }

    // `smtp test --account` checks one account; an unknown name says which exist.
    let out = ws.herald(&["smtp", "test", "--account", "ewa"]);
    assert_ok(&out, "smtp test --account ewa");
    let out = ws.herald(&["smtp", "test", "--account", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("backup, ewa"), "{}", stderr(&out));
}

/// Seed 000's "user / shared": what goes out in an operator's name goes through the
/// operator's own account; when that account has used up its daily limit, its
/// fallback sends the rest, each counted against its own account.
#[test]
fn an_operators_own_account_sends_in_their_name_and_a_full_account_passes_to_its_fallback() {
    let shared = SmtpSink::start();
    let ewa = SmtpSink::start();
    let office = SmtpSink::start();
    let ws = Workspace::new();
    use_smtp(&ws, shared.port, "");
    ws.set_config(
        "template = \"due-soon\"",
        "template = \"due-soon\"\nin_name_of = \"op-ewa\"",
    );
    let text = std::fs::read_to_string(ws.path().join("herald.toml")).unwrap();
    std::fs::write(
        ws.path().join("herald.toml"),
        format!(
            "{text}\n[[accounts]]\nname = \"ewa\"\noperators = [\"op-ewa\"]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"ewa.nowak@example.pl\"\ndaily_limit = 2\nfallback = \"office\"\n\n[[accounts]]\nname = \"office\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\nfrom = \"biuro@example.pl\"\n",
            ewa.port, office.port
        ),
    )
    .unwrap();
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02"]);
    assert_eq!(shared.messages().len(), 4, "new-invoice notices: shared");
    let out = ws.ok(&["run", "--now", "2026-11-13"]);
    assert!(out.contains("sent 4,"), "{out}");
    assert_eq!(shared.messages().len(), 4, "nothing more through shared");
    let froms = |sink: &SmtpSink| -> Vec<String> {
        sink.messages()
            .iter()
            .map(|p| {
                parse_eml(p)
                    .from()
                    .unwrap()
                    .first()
                    .unwrap()
                    .address()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        froms(&ewa),
        vec!["ewa.nowak@example.pl"; 2],
        "Ewa's limit is 2"
    );
    assert_eq!(
        froms(&office),
        vec!["biuro@example.pl"; 2],
        "the rest through her fallback, as the office"
    );
    let mut histories = String::new();
    for c in ["C1", "C2", "C3", "C4"] {
        histories.push_str(&ws.ok(&["history", "--customer", c]));
    }
    assert_eq!(
        histories
            .matches("account ewa reached its daily limit of 2 messages")
            .count(),
        2,
        "{histories}"
    );
    assert_eq!(
        histories.matches("through account office").count(),
        2,
        "{histories}"
    );

    // A rule's own account wins over the operator's.
    ws.set_config(
        "in_name_of = \"op-ewa\"",
        "in_name_of = \"op-ewa\"\naccount = \"office\"",
    );
    let out = ws.herald(&["check"]);
    assert_ok(&out, "check with both account and operator");
}

/// An operator has one account of their own, and only [[accounts]] name operators.
#[test]
fn an_operator_listed_on_two_accounts_or_on_the_shared_one_is_refused() {
    let ws = Workspace::new();
    let text = std::fs::read_to_string(ws.path().join("herald.toml")).unwrap();
    std::fs::write(
        ws.path().join("herald.toml"),
        format!(
            "{text}\n[[accounts]]\nname = \"a\"\noperators = [\"op-1\"]\nhost = \"127.0.0.1\"\nfrom = \"a@example.pl\"\n\n[[accounts]]\nname = \"b\"\noperators = [\"op-2\", \"op-1\"]\nhost = \"127.0.0.1\"\nfrom = \"b@example.pl\"\n"
        ),
    )
    .unwrap();
    let out = ws.herald(&["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("accounts[1].operators[1]")
            && stderr(&out).contains("already sends through account 'a'"),
        "{}",
        stderr(&out)
    );

    let ws = Workspace::new();
    ws.set_config(FILE_KIND, &format!("{FILE_KIND}\noperators = [\"op-1\"]"));
    let out = ws.herald(&["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("channels.email.operators"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_unknown_account_named_by_a_rule_or_a_fallback_is_refused() {
    for (from, to, expected) in [
        (
            "template = \"due-soon\"",
            "template = \"due-soon\"\naccount = \"ewa\"",
            "rules[1].account",
        ),
        (
            FILE_KIND,
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\nfallback = \"spare\"",
            "channels.email.fallback",
        ),
    ] {
        let ws = Workspace::new();
        ws.set_config(from, to);
        let out = ws.herald(&["check"]);
        assert_eq!(out.status.code(), Some(2), "{to}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{to}: {}", stderr(&out));
        assert!(stderr(&out).contains("[[accounts]]"), "{}", stderr(&out));
    }
}
