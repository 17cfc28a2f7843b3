//! The PostgreSQL schema (issue 6) mirrors the SQLite one: every table, every
//! column in the same order with the same nullability, and every index by name.
//! A change to one schema that is not made to the other fails here.

use std::collections::BTreeMap;

use sqlx::Connection as _;

use herald_store::testing::PgServer;

/// Table → its columns in order, each with "NOT NULL" when it is required.
type Tables = BTreeMap<String, Vec<(String, bool)>>;

async fn sqlite_schema() -> (Tables, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("herald.db").display());
    herald_store::Store::open(&url).await.unwrap().close().await;
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut tables = Tables::new();
    for name in names {
        // pk > 0: a key column, never NULL in either database.
        let cols: Vec<(String, bool, i64)> =
            sqlx::query_as("SELECT name, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid")
                .bind(&name)
                .fetch_all(&mut conn)
                .await
                .unwrap();
        tables.insert(
            name,
            cols.into_iter()
                .map(|(c, notnull, pk)| (c, notnull || pk > 0))
                .collect(),
        );
    }
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    (tables, indexes)
}

async fn postgres_schema(server: &PgServer) -> (Tables, Vec<String>) {
    let pool = sqlx::PgPool::connect(&server.url()).await.unwrap();
    sqlx::migrate!("./migrations/postgres")
        .run(&pool)
        .await
        .unwrap_or_else(|e| panic!("the PostgreSQL migrations do not apply: {e}"));
    let cols: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.is_nullable::text \
         FROM information_schema.columns c JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' \
           AND c.table_name <> '_sqlx_migrations' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut tables = Tables::new();
    for (table, column, nullable) in cols {
        tables
            .entry(table)
            .or_default()
            .push((column, nullable == "NO"));
    }
    // Indexes created by name; those PostgreSQL makes for keys and UNIQUE
    // columns stand for SQLite's automatic ones.
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' \
         AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key' \
         AND tablename <> '_sqlx_migrations' ORDER BY indexname",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    (tables, indexes)
}

#[tokio::test]
async fn the_postgres_schema_has_every_table_column_and_index_of_sqlite() {
    let server = PgServer::start();
    let (lite_tables, lite_indexes) = sqlite_schema().await;
    let (pg_tables, pg_indexes) = postgres_schema(&server).await;
    assert_eq!(
        lite_tables.keys().collect::<Vec<_>>(),
        pg_tables.keys().collect::<Vec<_>>(),
        "the same tables"
    );
    for (table, columns) in &lite_tables {
        assert_eq!(
            columns, &pg_tables[table],
            "table {table}: columns (name, NOT NULL) in SQLite, then PostgreSQL"
        );
    }
    assert_eq!(lite_indexes, pg_indexes, "the same indexes by name");
    assert!(lite_tables.len() >= 20, "{lite_tables:?}");
}
