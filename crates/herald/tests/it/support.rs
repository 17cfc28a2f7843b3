//! Helpers that fail with context: a failing command prints its arguments, exit
//! code, stdout and stderr.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use herald_store::testing::{TestDatabase, backend_is_postgres};

pub struct Workspace {
    pub dir: tempfile::TempDir,
    /// The store: the workspace's herald.db, or with `HERALD_TEST_BACKEND=postgres`
    /// a database of its own on the suite's PostgreSQL, named in herald.toml.
    pub db: Option<TestDatabase>,
}

impl Workspace {
    /// `herald init` in a fresh temp dir, on the suite's backend.
    pub fn new() -> Self {
        Self::on(backend_is_postgres())
    }

    /// `herald init` in a fresh temp dir, its store a new PostgreSQL database
    /// whatever the suite's backend: for what only a shared store can show.
    pub fn on_postgres() -> Self {
        Self::on(true)
    }

    /// `herald init` in a fresh temp dir with its herald.db, whatever the suite's backend.
    pub fn on_sqlite() -> Self {
        Self::on(false)
    }

    fn on(postgres: bool) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = run_in(dir.path(), &["init", "."]);
        assert_ok(&out, "herald init");
        let mut ws = Workspace { dir, db: None };
        if postgres {
            let db = TestDatabase::postgres();
            ws.set_config(
                "url = \"sqlite://herald.db\"",
                &format!("url = \"{}\"", db.url()),
            );
            ws.db = Some(db);
        }
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).expect("write test file");
        p
    }

    pub fn herald(&self, args: &[&str]) -> Output {
        run_in(self.path(), args)
    }

    /// Runs herald with the secret variable `var` set to `value`, or unset when
    /// `None` (the test process's own environment may have it).
    pub fn herald_with_secret(&self, args: &[&str], var: &str, value: Option<&str>) -> Output {
        let mut cmd = Command::new(herald_bin());
        cmd.args(args)
            .current_dir(self.path())
            .env_remove("HERALD_CONFIG")
            .env_remove("HERALD_NOW");
        match value {
            Some(v) => cmd.env(var, v),
            None => cmd.env_remove(var),
        };
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot run {} {args:?}: {e}", herald_bin()))
    }

    /// Runs and insists on success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.herald(args);
        assert_ok(&out, &args.join(" "));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Every .eml in the outbox, sorted by path.
    pub fn emails(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(&self.path().join("outbox/email"), &mut out);
        out.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        out.sort();
        out
    }

    /// The SMS written to the outbox (JSON files), sorted by path.
    pub fn sms(&self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        walk(&self.path().join("outbox/sms"), &mut out);
        out.retain(|p| p.extension().is_some_and(|e| e == "json"));
        out.sort();
        out.iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }

    pub fn set_config(&self, from: &str, to: &str) {
        let p = self.path().join("herald.toml");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "herald.toml has no {from:?}");
        std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    }

    /// Imports the small standard dataset used by most tests.
    pub fn import_basics(&self) {
        self.write(
            "customers.csv",
            "id,name,group,locale,time_zone\n\
             C1,Kowalski i Wspólnicy sp. z o.o.,retail,pl,Europe/Warsaw\n\
             C2,Novák s.r.o.,wholesale,cs,Europe/Prague\n\
             C3,Popescu Construct SRL,retail,ro,Europe/Bucharest\n\
             C4,Harbour Logistics Ltd,vip,en,Europe/Dublin\n",
        );
        self.write(
            "contacts.csv",
            "customer_id,role,name,email,phone,email_opt_in,sms_opt_in\n\
             C1,billing,Anna Kowalska,anna@kowalski.example.pl,+48601234567,true,true\n\
             C2,billing,Jan Novák,jan@novak.example.cz,,yes,no\n\
             C3,billing,Ion Popescu,ion@popescu.example.ro,,da,nu\n\
             C4,billing,Mary Byrne,mary@harbour.example.ie,,1,0\n",
        );
        self.write(
            "invoices.csv",
            "id,number,customer_id,issue_date,due_date,currency,amount,attachment\n\
             I1,FV/2026/11/001,C1,2026-11-02,2026-11-16,PLN,1234.50,\n\
             I2,2026110002,C2,2026-11-02,2026-11-16,CZK,12345.50,\n\
             I3,EMS-000003,C3,2026-11-02,2026-11-16,RON,12345.50,\n\
             I4,INV-2026-0004,C4,2026-11-02,2026-11-16,EUR,12345.50,\n",
        );
        for kind in ["customers", "contacts", "invoices"] {
            self.ok(&["import", kind, &format!("{kind}.csv")]);
        }
    }
}

pub fn herald_bin() -> &'static str {
    env!("CARGO_BIN_EXE_herald")
}

pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(herald_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("HERALD_CONFIG")
        .env_remove("HERALD_NOW")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} {args:?}: {e}", herald_bin()))
}

pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "`herald {what}` failed with {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Everything a command printed, for checks that a secret shows nowhere.
pub fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

pub fn parse_eml(path: &Path) -> mail_parser::Message<'static> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    mail_parser::MessageParser::default()
        .parse(&bytes)
        .unwrap_or_else(|| panic!("{} is not a parseable e-mail", path.display()))
        .into_owned()
}

/// Postfix's `smtp-sink` on a free loopback port: a real SMTP server that accepts
/// everything and writes each message it receives to a file. Killed on drop.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: std::process::Child,
}

impl SmtpSink {
    pub fn start() -> Self {
        let bin = "/usr/sbin/smtp-sink";
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install postfix (`apt-get install postfix`; scripts/test.sh does it); the daemon need not run"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        // smtp-sink drops to another user when started as root; that user writes here.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let port = free_port();
        let mut cmd = Command::new(bin);
        if is_root() {
            cmd.args(["-u", "nobody"]);
        }
        let child = cmd
            .arg("-d")
            .arg(format!("{}/%M.", dir.path().display()))
            .arg(format!("127.0.0.1:{port}"))
            .arg("64")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "smtp-sink did not listen on 127.0.0.1:{port} within 10 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        SmtpSink { port, dir, child }
    }

    /// Every message received so far, as the files smtp-sink wrote (its own
    /// `X-Client-…`/`X-Rcpt-Args` lines first, then the message as sent).
    pub fn messages(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out.sort();
        out
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A running `herald serve`, killed if the test fails before stopping it.
pub struct Served {
    pub child: Child,
    pub address: String,
}

impl Served {
    pub fn start(ws: &Workspace) -> Served {
        Self::start_with(ws, &[])
    }

    pub fn start_with(ws: &Workspace, extra: &[&str]) -> Served {
        Self::start_env(ws, extra, &[])
    }

    pub fn start_env(ws: &Workspace, extra: &[&str], env: &[(&str, &str)]) -> Served {
        let mut child = Command::new(herald_bin())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .envs(env.iter().copied())
            .current_dir(ws.path())
            .env_remove("HERALD_CONFIG")
            .env_remove("HERALD_NOW")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start herald serve");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| {
                let _ = child.kill();
                let mut err = String::new();
                child.stderr.as_mut().unwrap().read_to_string(&mut err).ok();
                panic!("herald serve printed no address: {line:?}\n{err}")
            })
            .to_owned();
        Served { child, address }
    }

    /// GET `path`: (status code, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        let (code, _, body) = self.get_with(path, None);
        (code, body)
    }

    /// GET `path` with a bearer token: (status code, headers, body).
    pub fn get_with(&self, path: &str, token: Option<&str>) -> (u16, String, String) {
        self.request("GET", path, token, &[], "")
    }

    /// POST a JSON body: (status code, headers, body).
    pub fn post(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String, String) {
        self.request("POST", path, token, headers, body)
    }

    /// POST a form (or any body whose Content-Type `headers` give).
    pub fn form(&self, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
        self.request("POST", path, None, headers, body)
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String, String) {
        let mut s = TcpStream::connect(&self.address)
            .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", self.address));
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut head = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if method == "POST" {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                head.push_str("Content-Type: application/json\r\n");
            }
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{head}Connection: close\r\n\r\n{body}",
            self.address
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let code = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"));
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        (code, head.to_owned(), body.to_owned())
    }

    /// SIGTERM, then the exit status and how long the stop took.
    pub fn stop(mut self) -> (std::process::ExitStatus, Duration, String) {
        let started = Instant::now();
        let kill = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill(1) is needed to stop the service: apt-get install procps");
        assert!(kill.success());
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut out = String::new();
                self.child
                    .stdout
                    .as_mut()
                    .unwrap()
                    .read_to_string(&mut out)
                    .ok();
                // The log (stderr) after what it printed.
                self.child
                    .stderr
                    .as_mut()
                    .unwrap()
                    .read_to_string(&mut out)
                    .ok();
                return (status, started.elapsed(), out);
            }
            assert!(
                started.elapsed() < Duration::from_secs(40),
                "herald serve did not stop within 40 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A new API token `name` with `scope`, as `herald token create` prints it.
pub fn token(ws: &Workspace, name: &str, scope: &str) -> String {
    let out = ws.herald(&["token", "create", "--name", name, "--scope", scope]);
    assert_ok(&out, "token create");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn status_json(ws: &Workspace) -> serde_json::Value {
    serde_json::from_str(&ws.ok(&["status", "--json"])).unwrap()
}

/// Waits until `check` holds, up to 20 s.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
