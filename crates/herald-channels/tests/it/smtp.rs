//! The SMTP channel against an SMTP server in process (mailin-embedded) whose
//! replies are scripted: the faults a real server gives now and then, on demand.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_channels::{EmailChannel, Outcome, SmtpChannel, SmtpSecurity, SmtpSettings};
use mailin_embedded::{AuthMechanism, Handler, Response, Server, SslConfig, response};

use crate::sample_email;

/// What the server says at the end of each message, in order; `None`: hang.
#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<VecDeque<Option<Response>>>>,
    rcpt: Arc<Mutex<Option<Response>>>,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    current: Vec<u8>,
}

impl Handler for Script {
    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        if user == "herald" && password == "right-password" {
            response::AUTH_OK
        } else {
            response::INVALID_CREDENTIALS
        }
    }
    fn rcpt(&mut self, _to: &str) -> Response {
        self.rcpt.lock().unwrap().clone().unwrap_or(response::OK)
    }
    fn data_start(&mut self, _: &str, _: &str, _: bool, _: &[String]) -> Response {
        self.current.clear();
        response::START_DATA
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        let next = self.replies.lock().unwrap().pop_front();
        match next {
            Some(None) => {
                std::thread::sleep(Duration::from_secs(3));
                response::OK
            }
            Some(Some(r)) => r,
            None => {
                self.received.lock().unwrap().push(self.current.clone());
                response::OK
            }
        }
    }
}

fn serve(script: &Script) -> u16 {
    serve_with(script, SslConfig::None, false)
}

fn serve_with(script: &Script, ssl: SslConfig, auth: bool) -> u16 {
    // mailin's TLS needs rustls's process-wide provider, which herald's channel
    // installs; a server started before any channel exists must not depend on
    // another test having made one first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut server = Server::new(script.clone());
    server
        .with_name("faults.test")
        .with_ssl(ssl)
        .unwrap()
        .with_num_threads(4)
        .with_tcp_listener(listener);
    if auth {
        server.with_auth(AuthMechanism::Plain);
    }
    // Serves until the test process ends; each test has its own port.
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    port
}

fn channel(port: u16) -> SmtpChannel {
    SmtpChannel::new(SmtpSettings {
        send_timeout: Duration::from_secs(1),
        ..settings_for(port)
    })
}

#[tokio::test]
async fn a_421_is_transient_and_the_next_try_goes_through() {
    let script = Script::default();
    script
        .replies
        .lock()
        .unwrap()
        .push_back(Some(response::NO_SERVICE));
    let ch = channel(serve(&script));
    let msg = sample_email(7);
    let first = ch.send_email(7, &msg).await;
    assert!(
        matches!(&first, Outcome::Transient { detail } if detail.contains("421")),
        "{first:?}"
    );
    let second = ch.send_email(7, &msg).await;
    assert!(second.is_delivered(), "{second:?}");
    let got = script.received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let text = String::from_utf8_lossy(&got[0]);
    assert!(
        text.contains("Message-ID: <herald-delivery-7@przyklad.pl>"),
        "{text}"
    );
}

#[tokio::test]
async fn a_550_is_permanent_and_keeps_the_servers_words() {
    let script = Script::default();
    *script.rcpt.lock().unwrap() = Some(response::NO_MAILBOX);
    let ch = channel(serve(&script));
    let out = ch.send_email(8, &sample_email(8)).await;
    assert!(
        matches!(&out, Outcome::Permanent { detail } if detail.contains("550") && detail.contains("Mailbox unavailable")),
        "{out:?}"
    );
    assert!(script.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_server_that_hangs_times_out_and_is_retried_on_a_new_connection() {
    let script = Script::default();
    script.replies.lock().unwrap().push_back(None);
    let ch = channel(serve(&script));
    let msg = sample_email(9);
    let started = std::time::Instant::now();
    let first = ch.send_email(9, &msg).await;
    assert!(
        matches!(&first, Outcome::Transient { detail } if detail.contains("no answer within 1 s")),
        "{first:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout cut it short"
    );
    let second = ch.send_email(9, &msg).await;
    assert!(second.is_delivered(), "{second:?}");
}

#[tokio::test]
async fn nobody_listening_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = channel(port).send_email(1, &sample_email(1)).await;
    assert!(
        matches!(&out, Outcome::Transient { detail } if detail.contains("cannot reach 127.0.0.1")),
        "{out:?}"
    );
}

/// A self-signed certificate for 127.0.0.1, written as PEM files into `dir`.
fn self_signed(dir: &std::path::Path) -> (String, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    (cert.display().to_string(), key.display().to_string())
}

#[tokio::test]
async fn starttls_with_a_trusted_certificate_then_auth_then_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let script = Script::default();
    let port = serve_with(
        &script,
        SslConfig::SelfSigned {
            cert_path: cert.clone(),
            key_path: key,
        },
        true,
    );
    let var = "TEST_SMTP_PASSWORD";
    let channel = |s: SmtpSettings| {
        SmtpChannel::with_password_lookup(s, |v| {
            (v == "TEST_SMTP_PASSWORD").then(|| "right-password".to_owned())
        })
    };
    let settings = |ca: Option<&str>, user: Option<&str>| SmtpSettings {
        security: SmtpSecurity::StartTls,
        user: user.map(str::to_owned),
        password_env: user.map(|_| var.to_owned()),
        ca_file: ca.map(std::path::PathBuf::from),
        ..settings_for(port)
    };

    // The server's certificate is not signed by anyone herald trusts: no session.
    let ch = channel(settings(None, Some("herald")));
    let mut steps = Vec::new();
    let Err(refused) = ch.open(&mut |s| steps.push(s.to_owned())).await else {
        panic!("a certificate nobody vouches for was accepted: {steps:?}");
    };
    assert_eq!(refused.step, "starttls", "{refused:?}");

    // Trusted through ca_file: TLS, then AUTH, then the message.
    let ch = channel(settings(Some(&cert), Some("herald")));
    let mut steps = Vec::new();
    if let Err(f) = ch.open(&mut |s| steps.push(s.to_owned())).await {
        panic!("{f:?} after {steps:?}");
    }
    assert!(steps.iter().any(|s| s == "TLS started"), "{steps:?}");
    assert!(
        steps.iter().any(|s| s == "authenticated as herald"),
        "{steps:?}"
    );
    let out = ch.send_email(3, &sample_email(3)).await;
    assert!(out.is_delivered(), "{out:?}");
    assert_eq!(script.received.lock().unwrap().len(), 1);

    // A wrong user is refused for good (535), without the password in the reason.
    let ch = channel(settings(Some(&cert), Some("someone-else")));
    let out = ch.send_email(4, &sample_email(4)).await;
    assert!(
        matches!(&out, Outcome::Permanent { detail } if detail.contains("535")),
        "{out:?}"
    );
    assert!(!out.detail().contains("right-password"));
}

/// Port 465 as providers run it: TLS from the first byte. A TLS listener in front
/// of the scripted SMTP server, relaying the plain text both ways.
async fn implicit_tls_front(backend: u16, cert_pem: &str, key_pem: &str) -> u16 {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certs = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut plain = tokio::net::TcpStream::connect(("127.0.0.1", backend))
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn implicit_tls_on_its_own_connection() {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let (cert, key) = (ck.cert.pem(), ck.signing_key.serialize_pem());
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &cert).unwrap();
    let script = Script::default();
    let port = implicit_tls_front(serve(&script), &cert, &key).await;
    let settings = |ca_file: Option<std::path::PathBuf>| SmtpSettings {
        security: SmtpSecurity::Tls,
        ca_file,
        ..settings_for(port)
    };
    let untrusted = SmtpChannel::new(settings(None))
        .send_email(5, &sample_email(5))
        .await;
    assert!(
        matches!(&untrusted, Outcome::Transient { detail } if detail.contains("TLS handshake")),
        "{untrusted:?}"
    );
    let ch = SmtpChannel::new(settings(Some(ca)));
    let mut steps = Vec::new();
    if let Err(f) = ch.open(&mut |s| steps.push(s.to_owned())).await {
        panic!("{f:?} after {steps:?}");
    }
    assert_eq!(
        steps[1], "TLS started",
        "TLS before the greeting: {steps:?}"
    );
    let out = ch.send_email(5, &sample_email(5)).await;
    assert!(out.is_delivered(), "{out:?}");
    assert_eq!(script.received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn per_second_paces_concurrent_sends_together() {
    let script = Script::default();
    let port = serve(&script);
    let ch = SmtpChannel::new(SmtpSettings {
        connections: 4,
        per_second: Some(20),
        ..settings_for(port)
    });
    let msg = sample_email(11);
    let started = std::time::Instant::now();
    let sends: Vec<_> = (0..6).map(|_| ch.send_email(11, &msg)).collect();
    for out in futures_util::future::join_all(sends).await {
        assert!(out.is_delivered(), "{out:?}");
    }
    // Six starts at 20 a second: the last one no sooner than 250 ms after the first.
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
}

fn settings_for(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        user: None,
        password_env: None,
        hello_name: "herald.test".into(),
        ca_file: None,
        connect_timeout: Duration::from_secs(2),
        send_timeout: Duration::from_secs(2),
        connections: 1,
        per_second: None,
        daily_limit: None,
        delivery_receipt: false,
        dkim: None,
        debug: false,
    }
}

/// A plain relay in front of the scripted server whose first connection is cut in
/// the middle of a message's data, as a server that crashes or a network that drops
/// does; later connections pass through whole.
async fn cut_first_connection_mid_data(backend: u16) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((mut client, _)) = listener.accept().await {
            let mut server = tokio::net::TcpStream::connect(("127.0.0.1", backend))
                .await
                .unwrap();
            if !std::mem::take(&mut first) {
                tokio::spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
                continue;
            }
            tokio::spawn(async move {
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let back = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                });
                let mut buf = [0u8; 4096];
                let mut seen = Vec::new();
                while let Ok(n) = cr.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if seen.windows(8).any(|w| w == b"Subject:") {
                        break; // inside DATA: cut here
                    }
                    if sw.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
                back.abort();
            });
        }
    });
    port
}

#[tokio::test]
async fn a_server_closing_mid_data_is_transient_and_the_retry_goes_through() {
    let script = Script::default();
    let ch = channel(cut_first_connection_mid_data(serve(&script)).await);
    let msg = sample_email(12);
    let first = ch.send_email(12, &msg).await;
    assert!(matches!(first, Outcome::Transient { .. }), "{first:?}");
    let second = ch.send_email(12, &msg).await;
    assert!(second.is_delivered(), "{second:?}");
    assert_eq!(script.received.lock().unwrap().len(), 1);
}
