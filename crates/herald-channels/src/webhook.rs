//! Webhooks: a notification POSTed as JSON to another system (an ERP, a CRM, a chat
//! bridge) that wants the notice rather than a person.
//!
//! Each request is signed so the receiver can tell it came from herald and was not
//! changed or replayed: `X-Herald-Signature: sha256=HEX`, the HMAC-SHA256 of
//! `TIMESTAMP.BODY` under the webhook's secret, with the timestamp (unix seconds)
//! in `X-Herald-Timestamp`. The scheme is the one Stripe and GitHub made familiar,
//! so receivers have code for it. `X-Herald-Delivery` carries the delivery id: a
//! delivery re-sent after a crash has the same one, and the receiver can drop the
//! duplicate.
//!
//! Outcomes follow HTTP: 2xx is delivered; 408, 429, 5xx, timeouts and refused
//! connections may pass later ([`Outcome::Transient`]); any other 4xx will not
//! ([`Outcome::Permanent`]), and the receiver's answer is kept.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Outcome;
use crate::smtp::{EnvLookup, Secret};

/// The headers herald signs with.
pub const SIGNATURE_HEADER: &str = "X-Herald-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Herald-Timestamp";
pub const DELIVERY_HEADER: &str = "X-Herald-Delivery";

/// `sha256=HEX`: the HMAC-SHA256 of `TIMESTAMP.BODY` under `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        unreachable!("HMAC takes a key of any length")
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + digest.len() * 2);
    out.push_str("sha256=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// One configured webhook.
pub struct Webhook {
    name: String,
    url: String,
    secret_env: String,
    timeout: Duration,
    client: reqwest::Client,
    lookup: Box<EnvLookup>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret_env", &self.secret_env)
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// The secret is read from the variable `secret_env` names at each send, so a
    /// fixed variable takes effect at the next attempt.
    pub fn new(name: &str, url: &str, secret_env: &str, timeout: Duration) -> Webhook {
        Self::with_secret_lookup(name, url, secret_env, timeout, |v| std::env::var(v).ok())
    }

    /// Reads `secret_env` through `lookup` instead of the process environment.
    pub fn with_secret_lookup(
        name: &str,
        url: &str,
        secret_env: &str,
        timeout: Duration,
        lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Webhook {
        // rustls needs one process-wide crypto provider; herald uses ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Webhook {
            name: name.to_owned(),
            url: url.to_owned(),
            secret_env: secret_env.to_owned(),
            timeout,
            client,
            lookup: Box::new(lookup),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn secret(&self) -> Option<Secret> {
        (self.lookup)(&self.secret_env)
            .filter(|s| !s.is_empty())
            .map(Secret::new)
    }

    /// POSTs `body` (JSON text) for `delivery_id`, signed with the time `timestamp`
    /// (unix seconds).
    pub async fn post(&self, delivery_id: i64, body: &str, timestamp: i64) -> Outcome {
        let Some(secret) = self.secret() else {
            return Outcome::Transient {
                detail: format!(
                    "webhook {}: the secret variable {} is not set in herald's environment: export it (see webhooks.secret_env) and herald tries again",
                    self.name, self.secret_env
                ),
            };
        };
        let sig = signature(secret.expose().as_bytes(), timestamp, body.as_bytes());
        let sent = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(DELIVERY_HEADER, delivery_id.to_string())
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, sig)
            .body(body.to_owned())
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return Outcome::Transient {
                    detail: format!(
                        "webhook {}: no answer from {} within {} s",
                        self.name,
                        self.url,
                        self.timeout.as_secs_f32()
                    ),
                };
            }
            Err(e) => {
                return Outcome::Transient {
                    detail: format!(
                        "webhook {}: cannot reach {}: {}",
                        self.name,
                        self.url,
                        without_url(&e)
                    ),
                };
            }
        };
        let status = response.status();
        // The receiver's words, shortened: enough for the history, not a page.
        let text = response.text().await.unwrap_or_default();
        let text: String = text.trim().chars().take(300).collect();
        let said = if text.is_empty() {
            String::new()
        } else {
            format!(": {text}")
        };
        if status.is_success() {
            Outcome::Delivered {
                provider_id: None,
                detail: format!("webhook {}: accepted by {} ({status})", self.name, self.url),
            }
        } else if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
            Outcome::Transient {
                detail: format!(
                    "webhook {}: {} answered {status}{said}",
                    self.name, self.url
                ),
            }
        } else {
            Outcome::Permanent {
                detail: format!(
                    "webhook {}: {} refused it with {status}{said}; check the webhook's url and what the receiver expects",
                    self.name, self.url
                ),
            }
        }
    }
}

/// A reqwest error's text without the URL repeated (the caller names it).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(&format!(" ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently:
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac Jefe
        assert_eq!(
            signature(b"Jefe", 1_700_000_000, br#"{"a":1}"#),
            "sha256=fa5f6481efc59da48b19c9dc10196c9953e5651f8304b3a318b6b87d70272e0a"
        );
    }
}
