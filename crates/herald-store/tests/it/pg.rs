//! A real PostgreSQL 15 for the store's tests (issue 6): a cluster made by
//! `initdb` in a temp dir, started by `pg_ctl` on a free loopback port, stopped
//! and removed when the handle drops. Nothing is mocked, and nothing is skipped:
//! without the binaries a test fails, saying what to install.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running PostgreSQL cluster of one database, `herald`, owned by the role
/// `herald` (trust authentication: it listens on 127.0.0.1 only, for one test).
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

/// Where Debian puts PostgreSQL 15's server programs.
const DEBIAN_BIN: &str = "/usr/lib/postgresql/15/bin";

fn pg_bin() -> PathBuf {
    let bin = PathBuf::from(DEBIAN_BIN);
    assert!(
        bin.join("initdb").is_file() && bin.join("pg_ctl").is_file(),
        "PostgreSQL 15 is not installed ({DEBIAN_BIN}/initdb is missing): \
         apt-get install postgresql-15, or run scripts/test.sh, which installs it"
    );
    bin
}

/// The `postgres` system user's uid and gid: the server refuses to run as root,
/// and Debian's package creates this user for it.
fn postgres_user() -> (u32, u32) {
    let passwd = std::fs::read_to_string("/etc/passwd").expect("cannot read /etc/passwd");
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"postgres") && f.len() > 3)
                .then(|| (f[2].parse().ok(), f[3].parse().ok()))
                .and_then(|(u, g)| Some((u?, g?)))
        })
        .expect("there is no 'postgres' user: apt-get install postgresql-15 creates it")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("no free loopback port")
        .port()
}

/// Every path below `root` handed to the `postgres` user.
fn chown_tree(root: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(root, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {}: {e}", root.display()));
    if root.is_dir() {
        for e in std::fs::read_dir(root).unwrap().flatten() {
            chown_tree(&e.path(), uid, gid);
        }
    }
}

impl PgServer {
    pub fn start() -> PgServer {
        let bin = pg_bin();
        let dir = tempfile::tempdir().expect("no temp dir");
        if is_root() {
            let (uid, gid) = postgres_user();
            chown_tree(dir.path(), uid, gid);
        }
        let server = PgServer {
            dir,
            bin,
            port: free_port(),
        };
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "herald",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
        );
        // fsync off: a test's cluster dies with its temp dir, and the store's
        // behaviour does not depend on the disk flush, only its speed does.
        let settings = format!(
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='' -c fsync=off",
            server.port
        );
        let log = format!("{}/server.log", server.dir.path().display());
        server.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-o", &settings, "-w", "start"],
        );
        server.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &server.port.to_string(),
                "-U",
                "herald",
                "herald",
            ],
        );
        server
    }

    /// `postgres://herald@127.0.0.1:PORT/herald`
    pub fn url(&self) -> String {
        format!("postgres://herald@127.0.0.1:{}/herald", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn data(&self) -> String {
        format!("{}/data", self.dir.path().display())
    }

    /// Runs one of PostgreSQL's programs; a failure panics with its output and
    /// the server's log.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let out = self
            .command(program, args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            panic!(
                "{program} {args:?} failed ({}):\n{}{}\nserver log:\n{log}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out
    }

    /// One of PostgreSQL's programs, run as the `postgres` user when we are root
    /// (the server refuses to run as root).
    fn command(&self, program: &str, args: &[&str]) -> Command {
        let exe = self.bin.join(program);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(args);
        cmd
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}

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
