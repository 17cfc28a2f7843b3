//! API tokens as the store keeps them: a name, scopes and the hash of the secret,
//! never the secret itself (it is shown once, when created).

use jiff::Timestamp;
use serde::Serialize;

/// A token's record, without anything that would let one use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<String>,
    /// The argon2 PHC string of the secret; not serialized.
    #[serde(skip)]
    pub hash: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A stored answer to a request made with an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentAnswer {
    /// SHA-256 of the request (method, path, body), hex.
    pub request: String,
    pub status: u16,
    pub body: String,
}
