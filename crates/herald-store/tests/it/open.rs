//! Opening a store (issue 6, point 1): a database written by a newer herald is
//! refused with a message saying so, and left as it was.

use herald_store::Store;
use sqlx::Connection as _;

#[tokio::test]
async fn a_database_from_a_newer_herald_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("herald.db");
    let url = format!("sqlite://{}", file.display());
    let store = Store::open(&url).await.unwrap();
    store.close().await;

    // A newer herald applied a migration this one does not know.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (999, 'from a newer herald', true, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let before = applied(&mut conn).await;
    conn.close().await.unwrap();

    let err = Store::open(&url).await.unwrap_err().to_string();
    assert!(
        err.contains("was written by a newer herald")
            && err.contains("version 999")
            && err.contains("upgrade herald"),
        "{err}"
    );
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    assert_eq!(applied(&mut conn).await, before, "left untouched");
    assert!(before.ends_with(",999"), "{before}");
}

/// The versions of the migrations applied, in order, comma-separated.
async fn applied(conn: &mut sqlx::SqliteConnection) -> String {
    sqlx::query_scalar(
        "SELECT group_concat(version, ',') FROM (SELECT version FROM _sqlx_migrations ORDER BY version)",
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

/// The same on PostgreSQL, and a server that is not there is named without the
/// URL's password.
#[tokio::test]
async fn a_postgres_database_from_a_newer_herald_is_refused_and_left_untouched() {
    let db = herald_store::testing::TestDatabase::postgres();
    Store::open(db.url()).await.unwrap().close().await;
    let mut conn = sqlx::PgConnection::connect(db.url()).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (999, 'from a newer herald', true, '\\x00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let versions = "SELECT string_agg(version::text, ',' ORDER BY version) FROM _sqlx_migrations";
    let before: String = sqlx::query_scalar(versions)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let err = Store::open(db.url()).await.unwrap_err().to_string();
    assert!(
        err.contains("was written by a newer herald") && err.contains("version 999"),
        "{err}"
    );
    let after: String = sqlx::query_scalar(versions)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(after, before, "left untouched");
    conn.close().await.unwrap();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = Store::open(&format!(
        "postgres://herald:s3cret-pw@127.0.0.1:{port}/herald"
    ))
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("cannot connect to the PostgreSQL database")
            && err.contains(&format!("postgres://herald@127.0.0.1:{port}/herald"))
            && !err.contains("s3cret-pw"),
        "{err}"
    );
}
