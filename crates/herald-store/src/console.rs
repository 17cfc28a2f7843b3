//! The web console's users, sessions and settings as the store keeps them.
//!
//! A session is found by the SHA-256 of the secret in the browser's cookie, and a
//! password is kept as an argon2 PHC string: neither the store nor a copy of it
//! can sign anyone in.

use jiff::Timestamp;
use serde::Serialize;

/// What a console user may do. Each role can do what the one before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees everything (but secrets), changes nothing.
    Viewer,
    /// Also resends, pauses, resumes and cancels.
    Operator,
    /// Also changes settings, users and tokens.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Parses `viewer`, `operator` or `admin`; the error says which exist.
    pub fn parse(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("'{s}' is not a role: use viewer, operator or admin"))
    }

    /// Whether this role may do what `need` may.
    pub fn allows(self, need: Role) -> bool {
        self >= need
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Someone who may sign in to the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleUser {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub role: Role,
    /// The argon2 PHC string of the password; never serialized.
    #[serde(skip)]
    pub password_hash: String,
    /// The console's language for this user (`en`, `pl`).
    pub locale: String,
    pub created_at: Timestamp,
    pub disabled_at: Option<Timestamp>,
}

/// A signed-in browser, with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    /// SHA-256 of the cookie's secret, hex.
    pub id_hash: String,
    /// The token every form of the session carries back (CSRF).
    pub csrf: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    pub user: ConsoleUser,
}

/// A setting changed in the console: its JSON value, who changed it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleSetting {
    pub key: String,
    pub value: String,
    pub changed_at: Timestamp,
    pub changed_by: String,
}

/// What to change about a user; `None` leaves it as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub role: Option<Role>,
    /// A new argon2 PHC string; signs the user out everywhere.
    pub password_hash: Option<String>,
    pub locale: Option<String>,
    /// `Some(true)` disables (and signs out), `Some(false)` enables again.
    pub disabled: Option<bool>,
}
