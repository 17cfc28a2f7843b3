//! Databases for tests, herald's own and its users' (feature `testing`).
//!
//! A real PostgreSQL 15: a cluster made by `initdb` in a temp dir, started by
//! `pg_ctl` on a free loopback port. Nothing is mocked, and nothing is skipped:
//! without the binaries a test fails, saying what to install.
//!
//! [`TestDatabase`] is what a test asks for: an empty store of the backend the
//! suite runs on (`HERALD_TEST_BACKEND=postgres`, or SQLite when unset), so the
//! same tests run against both.

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
        Self::start_with(&[])
    }

    /// [`PgServer::start`] with more server settings (`-c name=value` each).
    pub fn start_with(extra: &[&str]) -> PgServer {
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
            "-c listen_addresses=127.0.0.1 -p {} -c unix_socket_directories='' -c fsync=off {}",
            server.port,
            extra.join(" ")
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

/// The PostgreSQL server a test process shares: started on first use, stopped
/// when the process exits (a statically held server is never dropped, so a small
/// shell waits on a pipe from this process and stops the server when it closes).
struct SharedServer {
    port: u16,
    bin: PathBuf,
    _stop_when_closed: std::sync::Mutex<std::process::ChildStdin>,
    /// Never waited for: it outlives this process, which is its purpose.
    _watcher: std::sync::Mutex<std::process::Child>,
}

fn shared_server() -> &'static SharedServer {
    static SERVER: std::sync::OnceLock<SharedServer> = std::sync::OnceLock::new();
    SERVER.get_or_init(|| {
        let server = PgServer::start_with(&["-c max_connections=300"]);
        let data = server.data();
        let pg_ctl = server.bin.join("pg_ctl");
        let stop = format!(
            "read _; {} {} -D '{data}' -m immediate -w stop >/dev/null 2>&1; rm -rf '{}'",
            if is_root() {
                "runuser -u postgres --"
            } else {
                ""
            },
            pg_ctl.display(),
            server.dir.path().display(),
        );
        let mut watcher = Command::new("sh")
            .args(["-c", &stop])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("cannot start the shell that stops the test PostgreSQL");
        let stdin = watcher.stdin.take().expect("piped stdin");
        let port = server.port;
        // The watcher stops it now; the handle must not.
        std::mem::forget(server);
        SharedServer {
            port,
            bin: pg_bin(),
            _stop_when_closed: std::sync::Mutex::new(stdin),
            _watcher: std::sync::Mutex::new(watcher),
        }
    })
}

/// Which backend the suite runs on: `HERALD_TEST_BACKEND=postgres`, or SQLite.
pub fn backend_is_postgres() -> bool {
    match std::env::var("HERALD_TEST_BACKEND").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(_) => false,
        Ok(other) => panic!("HERALD_TEST_BACKEND={other}: use postgres or sqlite"),
    }
}

/// An empty database for one test: a file in a temp dir, or a database of its own
/// on the shared PostgreSQL server.
pub struct TestDatabase {
    url: String,
    /// The SQLite file's directory; kept until the test ends.
    pub dir: tempfile::TempDir,
}

impl TestDatabase {
    /// A new database of the suite's backend; see [`backend_is_postgres`].
    pub fn for_suite() -> TestDatabase {
        if backend_is_postgres() {
            Self::postgres()
        } else {
            Self::sqlite()
        }
    }

    /// A new SQLite file, whatever the suite's backend.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("no temp dir");
        let url = format!("sqlite://{}", dir.path().join("herald.db").display());
        TestDatabase { url, dir }
    }

    /// A new database on the shared PostgreSQL server, whatever the suite's backend.
    /// (Made by `createdb`, so that tests without a runtime can have one.)
    pub fn postgres() -> TestDatabase {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let server = shared_server();
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let out = Command::new(server.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &server.port.to_string(),
                "-U",
                "herald",
                &name,
            ])
            .output()
            .unwrap_or_else(|e| panic!("cannot run createdb: {e}"));
        assert!(
            out.status.success(),
            "createdb {name} on the test PostgreSQL failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        TestDatabase {
            url: format!("postgres://herald@127.0.0.1:{}/{name}", server.port),
            dir: tempfile::tempdir().expect("no temp dir"),
        }
    }

    /// The store URL: `sqlite://…/herald.db` or `postgres://…`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A statement of the store as the PostgreSQL backend runs it, for tests that
/// check every statement against a real server.
pub fn postgres_sql(sqlite_sql: &str) -> String {
    crate::postgres::translate(sqlite_sql)
}
