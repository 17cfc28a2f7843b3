//! E-mail over SMTP (seed 003's account settings), one kept connection per channel.
//!
//! The TCP connection is opened here rather than by lettre so `TCP_NODELAY` can be set:
//! lettre 0.11.23 writes a message's body and its final `.` separately, and under
//! Nagle's algorithm every message on a kept connection then waits ~40 ms for an ACK.
//! Each step (connect, greeting, STARTTLS, AUTH, the send itself) runs under a timeout
//! of its own; lettre's covers only connecting.
//!
//! Every failure is sorted the way lettre's errors are: a 4xx reply, a timeout or a
//! dropped connection is [`Outcome::Transient`] (another try may work); a 5xx reply or a
//! message the server refuses to take is [`Outcome::Permanent`], with the server's words.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::commands::{Data, Ehlo, Mail, Rcpt};
use lettre::transport::smtp::extension::{
    ClientId, Extension, MailBodyParameter, MailParameter, RcptParameter,
};
use lettre::transport::smtp::response::Response;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::{DkimSigner, EmailChannel, EmailMessage, Outcome, SendFuture, build_signed_eml};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (port 25 inside a trusted network, or a local relay).
    None,
    /// Plain connect, then `STARTTLS` before anything else; refuses to go on in clear
    /// text when the server does not offer it (no downgrade).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpSecurity {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Self::None),
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            other => Err(format!(
                "'{other}' is not an SMTP security: use \"none\", \"starttls\" or \"tls\""
            )),
        }
    }
}

/// A password that never shows: its `Debug` and `Display` print a mask, so it cannot
/// reach a log line, an error or an API response by accident.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The only way to read it, named so every use is easy to find.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// One SMTP account (seed 003: host, port, user, password, security).
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub user: Option<String>,
    /// The environment variable that holds the password. Read when a connection is
    /// opened, so commands that send nothing do not need it, and a fixed variable
    /// takes effect at the next attempt.
    pub password_env: Option<String>,
    /// The name herald gives itself in `EHLO`.
    pub hello_name: String,
    /// A PEM certificate to trust besides the public roots: a company CA or the
    /// server's own self-signed certificate. Host names are checked all the same.
    pub ca_file: Option<std::path::PathBuf>,
    pub connect_timeout: Duration,
    /// For one whole message: `MAIL FROM` to the reply after the final `.`.
    pub send_timeout: Duration,
    /// Connections kept open at once: messages go out in parallel on this many.
    /// Providers limit it (often to a handful per account); more senders than
    /// connections wait for one to be free.
    pub connections: usize,
    /// At most this many messages a second (a provider's limit); `None`: no limit.
    pub per_second: Option<u32>,
    /// Ask the server for delivery status notifications (DSN, RFC 3461:
    /// `NOTIFY=SUCCESS,FAILURE`, headers only) where it offers DSN.
    pub delivery_receipt: bool,
    /// At most this many messages a day (e.g. a provider's 500/day); the
    /// dispatcher holds the rest until the next day. `None`: no limit.
    pub daily_limit: Option<u32>,
    /// Sign every message with this DKIM key, so receivers can check it came from
    /// the domain (spam filters weigh it). `None`: the server may sign instead.
    pub dkim: Option<Arc<DkimSigner>>,
    /// Write the SMTP conversation to the log (target `herald::smtp`, level info):
    /// every command and reply, the password never (AUTH shows `****`), message
    /// bodies as their size.
    pub debug: bool,
}

/// One line of the conversation, when the account's `debug` is on.
fn talk(s: &SmtpSettings, line: &str) {
    if s.debug {
        tracing::info!(target: "herald::smtp", "{}:{} {}", s.host, s.port, line.trim_end());
    }
}

/// A reply as the log shows it.
fn reply_text(r: &Result<Response, lettre::transport::smtp::Error>) -> String {
    match r {
        Ok(r) => format!(
            "< {} {}",
            r.code(),
            r.message().collect::<Vec<_>>().join(" / ")
        ),
        Err(e) => format!("< {e}"),
    }
}

/// SMTP as an [`EmailChannel`]: up to `connections` connections, each opened on
/// first use, kept for the messages after it and opened again when it breaks.
///
/// The conversations run on a thread of their own (a small runtime that does
/// nothing else), while messages are rendered and built on the caller's. A kept
/// connection is then answered the moment the server replies: on runtime threads
/// busy rendering, a connection waited for its turn longer than the server took,
/// and sat idle a third of the time (BENCHMARKS.md).
pub struct SmtpChannel {
    account: Arc<Account>,
    io: OnceLock<Result<IoThread, String>>,
}

/// The account's settings and its kept connections.
struct Account {
    settings: SmtpSettings,
    /// One permit per connection: a send holds one while it uses a connection.
    permits: Semaphore,
    /// Connections not in use right now.
    idle: std::sync::Mutex<Vec<Kept>>,
    /// When the next message may start, under `per_second`.
    next_start: std::sync::Mutex<tokio::time::Instant>,
    /// Where `password_env` is looked up: the process environment, or a test's map.
    lookup: Box<EnvLookup>,
}

/// Finds the value of an environment variable by name; shared with the other
/// channels whose secrets come from the environment.
pub(crate) type EnvLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// A failed step, already sorted into transient or permanent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpFailure {
    pub step: &'static str,
    pub transient: bool,
    pub detail: String,
}

impl SmtpFailure {
    fn into_outcome(self) -> Outcome {
        let detail = format!("SMTP {}: {}", self.step, self.detail);
        if self.transient {
            Outcome::Transient { detail }
        } else {
            Outcome::Permanent { detail }
        }
    }
}

impl fmt::Display for SmtpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.step, self.detail)
    }
}

/// Sorts a lettre error: a reply the server gave keeps its code and text; everything
/// that is not a 5xx reply (4xx, timeouts, broken connections, TLS hiccups) may pass.
fn sorted(step: &'static str, e: &lettre::transport::smtp::Error) -> SmtpFailure {
    SmtpFailure {
        step,
        transient: !e.is_permanent(),
        detail: e.to_string(),
    }
}

fn timed_out(step: &'static str, after: Duration) -> SmtpFailure {
    SmtpFailure {
        step,
        transient: true,
        detail: format!(
            "no answer within {} s; the server may be overloaded or the address wrong",
            after.as_secs_f32()
        ),
    }
}

/// The thread SMTP conversations run on; it ends when the channel is dropped.
struct IoThread {
    handle: tokio::runtime::Handle,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl IoThread {
    fn start() -> Result<IoThread, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the SMTP thread: {e}"))?;
        let handle = rt.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("herald-smtp".into())
            .spawn(move || {
                rt.block_on(async {
                    let _ = stopped.await;
                });
            })
            .map_err(|e| format!("cannot start the SMTP thread: {e}"))?;
        Ok(IoThread {
            handle,
            _stop: stop,
        })
    }
}

impl SmtpChannel {
    pub fn new(settings: SmtpSettings) -> Self {
        Self::with_password_lookup(settings, |var| std::env::var(var).ok())
    }

    /// Reads `password_env` through `lookup` instead of the process environment.
    pub fn with_password_lookup(
        settings: SmtpSettings,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        // rustls needs one process-wide crypto provider; herald uses ring. Installing
        // it twice is harmless (the second call is refused), so every channel asks.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let n = settings.connections.max(1);
        Self {
            account: Arc::new(Account {
                settings,
                permits: Semaphore::new(n),
                idle: std::sync::Mutex::new(Vec::with_capacity(n)),
                next_start: std::sync::Mutex::new(tokio::time::Instant::now()),
                lookup: Box::new(lookup),
            }),
            io: OnceLock::new(),
        }
    }

    pub fn settings(&self) -> &SmtpSettings {
        &self.account.settings
    }

    /// The account's password from its environment variable.
    pub fn password(&self) -> Result<Secret, SmtpFailure> {
        self.account.password()
    }

    /// Opens a connection and takes it as far as a message could be sent: greeting,
    /// STARTTLS when asked for, AUTH when a user is set. `herald smtp test` shows each
    /// step through `on_step`.
    pub async fn open(
        &self,
        on_step: &mut (dyn FnMut(&str) + Send),
    ) -> Result<AsyncSmtpConnection, SmtpFailure> {
        self.account.connect(on_step).await.map(|k| k.conn)
    }

    /// Sends on the SMTP thread, starting it on first use.
    async fn send_bytes(&self, envelope: Envelope, bytes: Vec<u8>) -> Outcome {
        let io = match self.io.get_or_init(IoThread::start) {
            Ok(io) => io,
            Err(detail) => {
                return Outcome::Transient {
                    detail: detail.clone(),
                };
            }
        };
        let account = Arc::clone(&self.account);
        match io
            .handle
            .spawn(async move { account.send_bytes(&envelope, &bytes).await })
            .await
        {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Transient {
                detail: format!("SMTP: the send stopped: {e}"),
            },
        }
    }
}

impl Account {
    fn tls_parameters(&self, step: &'static str) -> Result<TlsParameters, SmtpFailure> {
        let s = &self.settings;
        let mut builder = TlsParameters::builder(s.host.clone());
        if let Some(path) = &s.ca_file {
            let pem = std::fs::read(path).map_err(|e| SmtpFailure {
                step,
                transient: false,
                detail: format!("cannot read ca_file {}: {e}", path.display()),
            })?;
            let cert = Certificate::from_pem(&pem).map_err(|e| SmtpFailure {
                step,
                transient: false,
                detail: format!("ca_file {} is not a PEM certificate: {e}", path.display()),
            })?;
            builder = builder.add_root_certificate(cert);
        }
        builder.build_rustls().map_err(|e| sorted(step, &e))
    }

    /// A TLS client for port 465: the public roots, plus `ca_file` when set.
    fn implicit_tls(&self) -> Result<tokio_rustls::TlsConnector, SmtpFailure> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = &self.settings.ca_file {
            let bad = |detail: String| SmtpFailure {
                step: "tls",
                transient: false,
                detail,
            };
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| bad(format!("cannot read ca_file {}: {e}", path.display())))?;
            for cert in certs {
                let cert = cert.map_err(|e| {
                    bad(format!(
                        "ca_file {} is not a PEM certificate: {e}",
                        path.display()
                    ))
                })?;
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("ca_file {}: {e}", path.display())))?;
            }
        }
        let config = rustls::ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(tokio_rustls::TlsConnector::from(std::sync::Arc::new(
            config,
        )))
    }

    fn password(&self) -> Result<Secret, SmtpFailure> {
        let var = self.settings.password_env.as_deref().unwrap_or("");
        match (self.lookup)(var) {
            Some(p) if !var.is_empty() => Ok(Secret::new(p)),
            _ => Err(SmtpFailure {
                step: "auth",
                transient: true,
                detail: format!(
                    "the password variable {var} is not set in herald's environment: export it (see channels.email.password_env) and herald tries again"
                ),
            }),
        }
    }

    async fn connect(&self, on_step: &mut (dyn FnMut(&str) + Send)) -> Result<Kept, SmtpFailure> {
        let s = &self.settings;
        let on_step = &mut |step: &str| {
            talk(s, &format!("-- {step}"));
            on_step(step);
        };
        let t = s.connect_timeout;
        let addr = (s.host.as_str(), s.port);
        let stream = match tokio::time::timeout(t, TcpStream::connect(addr)).await {
            Err(_) => return Err(timed_out("connect", t)),
            Ok(Err(e)) => {
                return Err(SmtpFailure {
                    step: "connect",
                    transient: true,
                    detail: format!("cannot reach {}:{}: {e}", s.host, s.port),
                });
            }
            Ok(Ok(stream)) => stream,
        };
        // Whole commands go out at once; see the module docs.
        let _ = stream.set_nodelay(true);
        on_step(&format!("connected to {}:{}", s.host, s.port));
        let transport: Box<dyn AsyncTokioStream> = if s.security == SmtpSecurity::Tls {
            let connector = self.implicit_tls()?;
            let name = ServerName::try_from(s.host.clone()).map_err(|e| SmtpFailure {
                step: "tls",
                transient: false,
                detail: format!("'{}' is not a host name TLS can check: {e}", s.host),
            })?;
            match tokio::time::timeout(t, connector.connect(name, stream)).await {
                Err(_) => return Err(timed_out("tls", t)),
                Ok(Err(e)) => {
                    return Err(SmtpFailure {
                        step: "tls",
                        transient: true,
                        detail: format!("the TLS handshake with {} failed: {e}", s.host),
                    });
                }
                Ok(Ok(tls)) => {
                    on_step("TLS started");
                    Box::new(ImplicitTls(tls))
                }
            }
        } else {
            Box::new(stream)
        };
        let hello = ClientId::Domain(s.hello_name.clone());
        let mut conn = match tokio::time::timeout(
            t,
            AsyncSmtpConnection::connect_with_transport(transport, &hello),
        )
        .await
        {
            Err(_) => return Err(timed_out("greeting", t)),
            Ok(Err(e)) => return Err(sorted("greeting", &e)),
            Ok(Ok(c)) => c,
        };
        on_step(&format!("greeted: {}", conn.server_info()));
        if s.security == SmtpSecurity::StartTls {
            if !conn.can_starttls() {
                return Err(SmtpFailure {
                    step: "starttls",
                    transient: false,
                    detail: format!(
                        "{} does not offer STARTTLS; herald will not send the password or mail in clear text. Set security = \"none\" only for a relay you trust",
                        s.host
                    ),
                });
            }
            let tls = self.tls_parameters("starttls")?;
            match tokio::time::timeout(t, conn.starttls(tls, &hello)).await {
                Err(_) => return Err(timed_out("starttls", t)),
                Ok(Err(e)) => return Err(sorted("starttls", &e)),
                Ok(Ok(())) => {}
            }
            on_step("TLS started");
        }
        // Before AUTH: a server may forget a login at the next EHLO.
        let offers = extensions(&mut conn, s).await;
        if let Some(user) = &s.user {
            talk(s, &format!("> AUTH (PLAIN or LOGIN) {user} ****"));
            let password = self.password()?;
            let creds = Credentials::new(user.clone(), password.expose().to_owned());
            match tokio::time::timeout(t, conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds))
                .await
            {
                Err(_) => return Err(timed_out("auth", t)),
                Ok(Err(e)) => {
                    // The password never appears in lettre's message; the user name may.
                    return Err(sorted("auth", &e));
                }
                Ok(Ok(_)) => {}
            }
            on_step(&format!("authenticated as {user}"));
        }
        Ok(Kept {
            conn,
            dsn: s.delivery_receipt && offers.dsn,
            pipelining: offers.pipelining,
            last_used: std::time::Instant::now(),
        })
    }

    /// A kept connection not in use, if there is one.
    fn take_idle(&self) -> Option<Kept> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop()
    }

    fn put_idle(&self, kept: Kept) {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(kept);
    }

    /// Waits for this message's turn under `per_second`: each send books the next
    /// free start time, so concurrent senders together keep to the rate.
    async fn pace(&self) {
        let Some(rate) = self.settings.per_second.filter(|r| *r > 0) else {
            return;
        };
        let gap = Duration::from_secs(1) / rate;
        let start = {
            let mut next = self
                .next_start
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = tokio::time::Instant::now();
            let start = (*next).max(now);
            *next = start + gap;
            start
        };
        tokio::time::sleep_until(start).await;
    }

    async fn send_bytes(&self, envelope: &Envelope, bytes: &[u8]) -> Outcome {
        self.pace().await;
        let Ok(_permit) = self.permits.acquire().await else {
            return Outcome::Transient {
                detail: "SMTP: the channel is closing".to_owned(),
            };
        };
        // A kept connection the server may have closed meanwhile (idle for a while:
        // servers drop idle clients after a minute or so) is checked with NOOP first,
        // so a message is not sent into a connection that is already gone. One in
        // steady use is not: that would be a round trip per message.
        let mut reusable = self.take_idle();
        if let Some(k) = reusable.as_mut()
            && (k.conn.has_broken()
                || (k.last_used.elapsed() > KEPT_TRUSTED_FOR && !k.conn.test_connected().await))
        {
            reusable = None;
        }
        let mut kept = match reusable {
            Some(k) => k,
            None => match self.connect(&mut |_| {}).await {
                Ok(kept) => kept,
                Err(f) => return f.into_outcome(),
            },
        };
        let t = self.settings.send_timeout;
        let result =
            tokio::time::timeout(t, transaction(&self.settings, &mut kept, envelope, bytes)).await;
        kept.last_used = std::time::Instant::now();
        match result {
            Ok(Ok(response)) => {
                self.put_idle(kept);
                let text = response.message().collect::<Vec<_>>().join(" ");
                Outcome::Delivered {
                    provider_id: Some(format!("{}:{}", self.settings.host, text))
                        .filter(|_| !text.is_empty()),
                    detail: format!(
                        "accepted by {}:{}: {} {}",
                        self.settings.host,
                        self.settings.port,
                        response.code(),
                        text
                    ),
                }
            }
            // After a refused message the connection is in an unknown state: it is
            // dropped, and the next send opens a new one.
            Ok(Err(e)) => sorted("send", &e).into_outcome(),
            Err(_) => timed_out("send", t).into_outcome(),
        }
    }
}

/// How long a kept connection is used without checking it is still there.
const KEPT_TRUSTED_FOR: Duration = Duration::from_secs(2);

/// A TLS stream lettre can talk SMTP over: lettre opens implicit TLS only on
/// connections it makes itself, and herald makes its own (for `TCP_NODELAY`).
#[derive(Debug)]
struct ImplicitTls(tokio_rustls::client::TlsStream<TcpStream>);

impl tokio::io::AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// A kept connection and what its server offers.
struct Kept {
    conn: AsyncSmtpConnection,
    /// The server announced DSN and a receipt is wanted.
    dsn: bool,
    /// The server announced PIPELINING (RFC 2920).
    pipelining: bool,
    last_used: std::time::Instant,
}

/// The extensions lettre does not keep.
#[derive(Debug, Default, Clone, Copy)]
struct Offers {
    dsn: bool,
    pipelining: bool,
}

/// What the server offers beyond what lettre keeps (it keeps only the extensions it
/// knows), read from a second EHLO once per connection, before logging in.
async fn extensions(conn: &mut AsyncSmtpConnection, s: &SmtpSettings) -> Offers {
    let hello = ClientId::Domain(s.hello_name.clone());
    talk(s, &format!("> {}", Ehlo::new(hello.clone())));
    let answer = tokio::time::timeout(s.connect_timeout, conn.command(Ehlo::new(hello))).await;
    if let Ok(r) = &answer {
        talk(s, &reply_text(r));
    }
    match answer {
        Ok(Ok(r)) => {
            let mut offers = Offers::default();
            for word in r.message().filter_map(|l| l.split_whitespace().next()) {
                offers.dsn |= word.eq_ignore_ascii_case("DSN");
                offers.pipelining |= word.eq_ignore_ascii_case("PIPELINING");
            }
            offers
        }
        _ => Offers::default(),
    }
}

/// Text written to the server as it is: several commands at once, or a message body
/// with its final dot. lettre's `command` writes any `Display` in one write and reads
/// one reply; the other replies are read with `read_response`.
struct Raw<'a>(&'a str);

impl fmt::Display for Raw<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// SMTP transparency (RFC 5321 4.5.2): a line that starts with a dot gets a second
/// one, and the message ends with `CRLF . CRLF`, as lettre's `message` writes it.
fn data_block(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut copied = 0;
    if bytes.first() == Some(&b'.') {
        out.push(b'.');
    }
    // Lines that start with a dot are rare: find them, copy the runs between.
    for at in memchr::memmem::find_iter(bytes, b"\r\n.") {
        out.extend_from_slice(&bytes[copied..at + 2]);
        out.push(b'.');
        copied = at + 2;
    }
    out.extend_from_slice(&bytes[copied..]);
    out.extend_from_slice(b"\r\n.\r\n");
    out
}

/// One mail transaction, as lettre's `send` does it, plus the DSN parameters and,
/// where the server offers it, pipelining: MAIL, RCPT and DATA go out in one write
/// and the body with its final dot in another, two round trips instead of five.
async fn transaction(
    s: &SmtpSettings,
    kept: &mut Kept,
    envelope: &Envelope,
    bytes: &[u8],
) -> Result<Response, lettre::transport::smtp::Error> {
    let logged = |r: Result<Response, lettre::transport::smtp::Error>| {
        talk(s, &reply_text(&r));
        r
    };
    let conn = &mut kept.conn;
    let mut mail = Vec::new();
    if !bytes.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        mail.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    if kept.dsn {
        mail.push(MailParameter::Other {
            keyword: "RET".into(),
            value: Some("HDRS".into()),
        });
    }
    let mail = Mail::new(envelope.from().cloned(), mail);
    let rcpts: Vec<Rcpt> = envelope
        .to()
        .iter()
        .map(|to| {
            let params = if kept.dsn {
                vec![RcptParameter::Other {
                    keyword: "NOTIFY".into(),
                    value: Some("SUCCESS,FAILURE".into()),
                }]
            } else {
                Vec::new()
            };
            Rcpt::new(to.clone(), params)
        })
        .collect();
    let body = format!("> (message, {} bytes)\r\n> .", bytes.len());
    // Pipelined, the body goes out as text through `command`; lettre's own path
    // takes bytes that are not UTF-8 (8BITMIME).
    let block = if kept.pipelining {
        data_block(bytes)
    } else {
        Vec::new()
    };
    let (true, Ok(block)) = (kept.pipelining, std::str::from_utf8(&block)) else {
        talk(s, &format!("> {mail}"));
        logged(conn.command(mail).await)?;
        for rcpt in rcpts {
            talk(s, &format!("> {rcpt}"));
            logged(conn.command(rcpt).await)?;
        }
        talk(s, &format!("> {Data}"));
        logged(conn.command(Data).await)?;
        talk(s, &body);
        return logged(conn.message(bytes).await);
    };
    let mut commands = mail.to_string();
    for rcpt in &rcpts {
        commands.push_str(&rcpt.to_string());
    }
    commands.push_str(&Data.to_string());
    // Every reply is read even after a refusal, so none is left behind; the first
    // refusal is the one reported (the connection is then closed by the caller).
    if s.debug {
        let lines: Vec<String> = commands.lines().map(|l| format!("> {l}")).collect();
        talk(s, &format!("(pipelined)\n{}", lines.join("\n")));
    }
    let mut first_error = logged(conn.command(Raw(&commands)).await).err();
    for _ in 0..rcpts.len() + 1 {
        if let Err(e) = logged(conn.read_response().await)
            && first_error.is_none()
        {
            first_error = Some(e);
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    talk(s, &body);
    logged(conn.command(Raw(block)).await)
}

/// The SMTP envelope of a message: its From and every To.
fn envelope_of(msg: &EmailMessage) -> Result<Envelope, String> {
    let parse = |a: &str| {
        a.parse::<lettre::Address>()
            .map_err(|e| format!("'{a}' is not an SMTP address: {e}"))
    };
    let to = msg
        .to
        .iter()
        .map(|m| parse(m.address.as_str()))
        .collect::<Result<Vec<_>, _>>()?;
    Envelope::new(Some(parse(msg.from.address.as_str())?), to).map_err(|e| e.to_string())
}

impl EmailChannel for SmtpChannel {
    fn send_email<'a>(&'a self, _delivery_id: i64, msg: &'a EmailMessage) -> SendFuture<'a> {
        Box::pin(async move {
            let bytes = match build_signed_eml(msg, self.settings().dkim.as_deref()) {
                Ok(b) => b,
                Err(e) => {
                    return Outcome::Permanent {
                        detail: format!("the e-mail could not be built: {e}"),
                    };
                }
            };
            let envelope = match envelope_of(msg) {
                Ok(e) => e,
                Err(detail) => return Outcome::Permanent { detail },
            };
            self.send_bytes(envelope, bytes).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_that_starts_with_a_dot_gets_a_second_one_and_the_data_ends_with_a_lone_dot() {
        let body = b".hidden\r\nkeep . here\r\n..two\r\nend.";
        assert_eq!(
            data_block(body),
            b"..hidden\r\nkeep . here\r\n...two\r\nend.\r\n.\r\n".to_vec()
        );
        // A bare LF does not start a line in SMTP; lettre's codec agrees.
        assert_eq!(data_block(b"a\n.b"), b"a\n.b\r\n.\r\n".to_vec());
    }

    #[test]
    fn a_secret_never_prints() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), "****");
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn security_names_are_checked() {
        assert_eq!(SmtpSecurity::parse("starttls"), Ok(SmtpSecurity::StartTls));
        assert!(
            SmtpSecurity::parse("ssl")
                .unwrap_err()
                .contains("\"starttls\"")
        );
    }
}
