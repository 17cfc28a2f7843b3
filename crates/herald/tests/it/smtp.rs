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
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
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
