//! The PostgreSQL harness itself (see `herald_store::testing`).

use herald_store::testing::PgServer;

/// The harness itself: a real PostgreSQL 15 answers on its loopback port, for
/// the role and database the store will use, and is gone once dropped.
#[tokio::test]
async fn postgres_15_starts_on_a_loopback_port_and_answers() {
    use sqlx::Connection as _;
    let server = PgServer::start();
    let mut conn = sqlx::PgConnection::connect(&server.url())
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", server.url()));
    let version: String = sqlx::query_scalar("SELECT version()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(version.starts_with("PostgreSQL 15."), "{version}");
    let (user, db, listen): (String, String, String) = sqlx::query_as(
        "SELECT current_user::text, current_database()::text, current_setting('listen_addresses')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        (user.as_str(), db.as_str(), listen.as_str()),
        ("herald", "herald", "127.0.0.1")
    );
    conn.close().await.unwrap();
    let port = server.port();
    drop(server);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the server still answers on {port} after the handle dropped"
    );
}
