//! Every fixed statement of the store, as the PostgreSQL backend translates it,
//! is prepared on a real PostgreSQL 15 with herald's schema: a statement that
//! does not parse or does not type-check there fails here, naming it, before any
//! behaviour test reaches it. (Statements built at run time are covered by the
//! behaviour tests, which the suite runs on both backends.)

use sqlx::{Connection as _, Executor as _};

use herald_store::testing::{TestDatabase, postgres_sql};

/// The SQL string literals of `src/ops`, each with its file and line; the first
/// statement of a `pick!(sqlite, postgres)` is left out (SQLite's own).
fn fixed_statements() -> Vec<(String, usize, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ops");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < bytes.len() {
            // Skip comments, so an apostrophe or a quote in one is no literal.
            if bytes[i] == '/' && bytes.get(i + 1) == Some(&'/') {
                while i < bytes.len() && bytes[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            if bytes[i] == '\'' {
                // A char literal ('"' among them), or a lifetime.
                if bytes.get(i + 2) == Some(&'\'') {
                    i += 3;
                    continue;
                }
                if bytes.get(i + 1) == Some(&'\\') && bytes.get(i + 3) == Some(&'\'') {
                    i += 4;
                    continue;
                }
                i += 1;
                continue;
            }
            if bytes[i] != '"' {
                i += 1;
                continue;
            }
            let start = i;
            let before: String = bytes[..start].iter().collect();
            let mut lit = String::new();
            i += 1;
            while i < bytes.len() && bytes[i] != '"' {
                if bytes[i] == '\\' {
                    match bytes.get(i + 1) {
                        Some('\n') => {
                            i += 2;
                            while i < bytes.len() && bytes[i].is_whitespace() {
                                i += 1;
                            }
                            continue;
                        }
                        Some('"') => lit.push('"'),
                        Some('\\') => lit.push('\\'),
                        Some('n') => lit.push('\n'),
                        Some(c) => lit.push(*c),
                        None => {}
                    }
                    i += 2;
                    continue;
                }
                lit.push(bytes[i]);
                i += 1;
            }
            i += 1;
            let line = before.matches('\n').count() + 1;
            let is_sql = ["SELECT ", "INSERT ", "UPDATE ", "DELETE ", "WITH "]
                .iter()
                .any(|k| lit.starts_with(k));
            let sqlite_only = before.trim_end().ends_with("pick!(");
            // A fragment ("INSERT … VALUES " before a run-time list of rows) is left out too.
            let fragment = lit.ends_with("VALUES ");
            if is_sql && !lit.contains('{') && !sqlite_only && !fragment {
                out.push((name.clone(), line, lit));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_fixed_statement_prepares_on_postgres() {
    let db = TestDatabase::postgres();
    herald_store::Store::open(db.url())
        .await
        .unwrap()
        .close()
        .await;
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    let statements = fixed_statements();
    assert!(
        statements.len() > 80,
        "found only {} statements in src/ops: is the scanner broken?",
        statements.len()
    );
    let mut failures = Vec::new();
    for (file, line, sql) in &statements {
        let pg = postgres_sql(sql);
        if let Err(e) = conn
            .prepare(sqlx::SqlSafeStr::into_sql_str(sqlx::AssertSqlSafe(
                pg.clone(),
            )))
            .await
        {
            failures.push(format!("{file}:{line}: {e}\n    {pg}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} statements do not prepare on PostgreSQL:\n{}",
        failures.len(),
        statements.len(),
        failures.join("\n")
    );
}
