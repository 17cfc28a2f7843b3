//! herald.toml: strict parsing, env overrides, `herald check`.

use crate::support::*;

#[test]
fn init_writes_a_workspace_that_checks_clean() {
    let ws = Workspace::new();
    for p in [
        "herald.toml",
        "templates/dunning-1/pl.txt",
        "herald.db",
        "outbox",
    ] {
        assert!(ws.path().join(p).exists(), "herald init did not create {p}");
    }
    let out = ws.ok(&["check"]);
    assert!(out.starts_with("ok:"), "{out}");
    // init never overwrites
    let again = ws.herald(&["init", "."]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists"));
}

#[test]
fn an_unknown_key_names_its_path_and_line() {
    let ws = Workspace::new();
    ws.set_config("template = \"due-soon\"", "tempalte = \"due-soon\"");
    let out = ws.herald(&["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    let text = std::fs::read_to_string(ws.path().join("herald.toml")).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("tempalte"))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("herald.toml:{line}:")), "{err}");
    assert!(
        err.contains("rules[1].tempalte") || err.contains("rules[1]"),
        "{err}"
    );
    assert!(err.contains("tempalte"), "{err}");
}

#[test]
fn env_overrides_any_key_and_bad_values_are_refused() {
    let ws = Workspace::new();
    let out = std::process::Command::new(herald_bin())
        .args(["check"])
        .current_dir(ws.path())
        .env("HERALD_TENANT__TIME_ZONE", "Mars/Olympus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("Mars/Olympus"), "{}", stderr(&out));
    // a rule switched off from the environment plans nothing
    ws.import_basics();
    let out = std::process::Command::new(herald_bin())
        .args(["run", "--now", "2026-11-02"])
        .current_dir(ws.path())
        .env("HERALD_RULES__0__ENABLED", "false")
        .output()
        .unwrap();
    assert_ok(&out, "run with HERALD_RULES__0__ENABLED=false");
    assert!(
        ws.emails().is_empty(),
        "new-invoice was disabled from the environment"
    );
}

#[test]
fn check_reports_template_name_locale_and_line() {
    let ws = Workspace::new();
    let p = ws.path().join("templates/due-soon/cs.txt");
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str("\n{{ invoce.number }}\n");
    std::fs::write(&p, &text).unwrap();
    let out = ws.herald(&["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let line = text.lines().count();
    assert!(
        err.contains("due-soon") && err.contains("cs") && err.contains(&format!("line {line}")),
        "{err}"
    );
}

#[test]
fn smtp_settings_that_cannot_work_are_refused_with_the_key_and_what_to_do() {
    let file_kind = "kind = \"file\"                      # writes each e-mail as an .eml file a mail client opens";
    let cases = [
        (
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\ndkim_selector = \"s1\"",
            "dkim_key_file",
        ),
        (
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\ndkim_selector = \"s1\"\ndkim_key_file = \"missing.pem\"",
            "missing.pem",
        ),
        (
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\ndkim_selector = \"s1\"\ndkim_key_file = \"herald.toml\"",
            "openssl genrsa -traditional",
        ),
        (
            "kind = \"smtp\"\nhost = \"127.0.0.1\"\nconnections = 0",
            "channels.email.connections",
        ),
    ];
    for (email, expected) in cases {
        let ws = Workspace::new();
        ws.set_config(file_kind, email);
        let out = ws.herald(&["check"]);
        assert_eq!(out.status.code(), Some(2), "{email}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{email}: {}", stderr(&out));
    }
}

#[test]
fn a_channel_fallback_with_one_channel_is_refused_with_what_to_list() {
    let ws = Workspace::new();
    ws.set_config(
        "channels = [\"email\"]  ",
        "channel_fallback = true\nchannels = [\"email\"]  ",
    );
    let out = ws.herald(&["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("rules[0].channel_fallback")
            && err.contains("channels = [\"sms\", \"email\"]"),
        "{err}"
    );
}
