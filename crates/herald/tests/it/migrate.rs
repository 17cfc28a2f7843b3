//! Moving a store (issue 6): `herald migrate` brings a database's tables up to
//! date, and `herald migrate-store` copies a SQLite store into PostgreSQL with
//! every row, after which herald answers the same and carries on where it was.

use crate::support::*;

/// `status --json` without what changes by itself between two calls.
fn status(ws: &Workspace) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap();
    for k in ["service", "store", "now"] {
        v.as_object_mut().unwrap().remove(k);
    }
    v
}

/// The schema version herald should report: one per migration file, so a new
/// migration moves the expectation with it instead of breaking this test.
fn latest_schema_version() -> usize {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../herald-store/migrations/sqlite");
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
        })
        .count()
}

#[test]
fn migrate_creates_the_tables_and_says_the_schema_version() {
    let ws = Workspace::new();
    let out = ws.ok(&["migrate"]);
    let want = format!("schema version {}, up to date", latest_schema_version());
    assert!(out.contains(&want), "{out}\nexpected: {want}");
    // Again: nothing to do, the same answer.
    assert_eq!(ws.ok(&["migrate"]), out);
}

/// `[store] database = …` says the same as `url = …`.
#[test]
fn the_store_may_be_named_database_as_well_as_url() {
    let ws = Workspace::on_sqlite();
    ws.set_config(
        "url = \"sqlite://herald.db\"",
        "database = \"sqlite://other.db\"",
    );
    let out = ws.ok(&["migrate"]);
    assert!(
        out.contains("other.db")
            && out.contains(&format!("schema version {}", latest_schema_version())),
        "{out}"
    );
    assert!(ws.path().join("other.db").is_file());
}

#[test]
fn a_sqlite_store_moves_to_postgres_with_every_row_and_the_same_answers() {
    let ws = Workspace::on_sqlite();
    ws.import_basics();
    ws.ok(&["run", "--now", "2026-11-02T10:00:00Z"]);
    ws.ok(&["pause", "--customer", "C2", "--reason", "spór"]);
    ws.ok(&["token", "create", "--name", "erp", "--scope", "read"]);
    let before = status(&ws);
    let history = ws.ok(&["history", "--customer", "C1", "--json"]);
    assert!(before["by_state"]["sent"].as_u64().unwrap() > 0, "{before}");

    let target = TestDatabase::postgres();
    let out = ws.ok(&[
        "migrate-store",
        "--from",
        "sqlite://herald.db",
        "--to",
        target.url(),
    ]);
    assert!(
        out.contains("every table's row count and checksum match"),
        "{out}"
    );
    for table in [
        "customers",
        "invoices",
        "notifications",
        "deliveries",
        "attempts",
        "holds",
        "api_tokens",
    ] {
        let line = out
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{table} ")))
            .unwrap_or_else(|| panic!("no line for {table} in\n{out}"));
        let rows: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert!(rows > 0, "{line}");
    }
    // Into a store that has rows: refused, and nothing changes there.
    let again = ws.herald(&[
        "migrate-store",
        "--from",
        "sqlite://herald.db",
        "--to",
        target.url(),
    ]);
    assert_eq!(again.status.code(), Some(1), "{}", all_output(&again));
    assert!(stderr(&again).contains("not empty"), "{}", stderr(&again));

    ws.set_config(
        "url = \"sqlite://herald.db\"",
        &format!("url = \"{}\"", target.url()),
    );
    assert_eq!(status(&ws), before, "the same counts on PostgreSQL");
    assert_eq!(ws.ok(&["history", "--customer", "C1", "--json"]), history);
    // It carries on where it was: the same day again sends nothing, the next
    // reminders get new ids after the copied ones, and the token still works.
    let rerun = ws.ok(&["run", "--now", "2026-11-02T10:00:00Z"]);
    assert!(rerun.contains("sent 0,"), "{rerun}");
    let later = ws.ok(&["run", "--now", "2026-11-13T10:00:00Z"]);
    assert!(!later.contains("sent 0,"), "{later}");
    let tokens = ws.ok(&["token", "list"]);
    assert!(tokens.contains("erp"), "{tokens}");
}
