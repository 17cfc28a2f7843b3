//! API tokens: what a business system presents to use herald's HTTP API.
//!
//! A token reads `hrd_<id>_<secret>`: the id finds its row, the secret (32 random
//! bytes, hex) proves it. The store keeps only the secret's argon2 hash, so a
//! copy of the database lets nobody in; the token is shown once, when created.
//! argon2 is slow on purpose (tens of milliseconds), so a secret that verified is
//! remembered in memory by its SHA-256 for the life of the process: the API
//! answers in microseconds, and the row is still read on every request, so a
//! revoked token stops working at once.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use herald_store::{ApiToken, Store};
use jiff::Timestamp;
use sha2::{Digest as _, Sha256};

/// What a token may do. `admin` may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Send records and events in (customers, invoices, payments…).
    Ingest,
    /// Read notifications, deliveries, statuses and history.
    Read,
    /// Act: plan now, resend, cancel, pause; manage the service.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Result<Scope, String> {
        match s {
            "ingest" => Ok(Scope::Ingest),
            "read" => Ok(Scope::Read),
            "admin" => Ok(Scope::Admin),
            other => Err(format!(
                "'{other}' is not a scope: use ingest, read or admin"
            )),
        }
    }
}

/// A new token: its text, to show once, and the hash to store.
pub struct NewToken {
    pub text_without_id: String,
    pub hash: String,
}

/// Makes a secret and its argon2 hash. The id is known only once the row is
/// stored: the token's text is `hrd_<id>_<secret>` (see [`token_text`]).
pub fn new_secret() -> anyhow::Result<NewToken> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a token: {e}"))?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let salt = SaltString::generate(&mut OsRng);
    let hash = argon2::Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the token: {e}"))?
        .to_string();
    Ok(NewToken {
        text_without_id: secret,
        hash,
    })
}

pub fn token_text(id: i64, secret: &str) -> String {
    format!("hrd_{id}_{secret}")
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 401: no token, a malformed one, an unknown or revoked one, a wrong secret.
    Unauthenticated(String),
    /// 403: a valid token without the scope.
    Forbidden(String),
}

/// Checks tokens, remembering the secrets that verified (see the module docs).
#[derive(Default)]
pub struct Verifier {
    verified: Mutex<HashMap<i64, [u8; 32]>>,
}

impl Verifier {
    /// The token of an `Authorization: Bearer …` value, if it may do `need`.
    pub async fn check(
        &self,
        store: &Store,
        bearer: Option<&str>,
        need: Scope,
        now: Timestamp,
    ) -> Result<ApiToken, Refusal> {
        let unauth = |m: &str| Refusal::Unauthenticated(m.to_owned());
        let text = bearer.ok_or_else(|| {
            unauth("no API token: send `Authorization: Bearer hrd_…` (create one with `herald token create --scope read`)")
        })?;
        let (id, secret) = text
            .strip_prefix("hrd_")
            .and_then(|r| r.split_once('_'))
            .and_then(|(id, s)| Some((id.parse::<i64>().ok()?, s)))
            .ok_or_else(|| unauth("not an herald API token: it reads hrd_<id>_<secret>"))?;
        let token = store
            .token(id)
            .await
            .map_err(|e| unauth(&format!("the token cannot be checked now: {e}")))?
            .ok_or_else(|| unauth("unknown or revoked API token"))?;
        if token.revoked_at.is_some() {
            return Err(unauth("unknown or revoked API token"));
        }
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let known = self
            .verified
            .lock()
            .map(|m| m.get(&id) == Some(&digest))
            .unwrap_or(false);
        if !known {
            let ok = PasswordHash::new(&token.hash)
                .map(|h| {
                    argon2::Argon2::default()
                        .verify_password(secret.as_bytes(), &h)
                        .is_ok()
                })
                .unwrap_or(false);
            if !ok {
                return Err(unauth("unknown or revoked API token"));
            }
            if let Ok(mut m) = self.verified.lock() {
                m.insert(id, digest);
            }
            // The first use in this process: noted, not on every request.
            let _ = store.token_used(id, now).await;
        }
        let may = token
            .scopes
            .iter()
            .any(|s| s == need.as_str() || s == Scope::Admin.as_str());
        if !may {
            return Err(Refusal::Forbidden(format!(
                "this token ({}) has scopes [{}]; this needs '{}'",
                token.name,
                token.scopes.join(", "),
                need.as_str()
            )));
        }
        Ok(token)
    }
}
