//! Holds on a customer or an invoice (a dispute, a promise to pay): while one
//! lasts, the dispatcher cancels their notices at send time with its reason
//! (invariant 3), and the planner goes on as usual, so nothing is lost when the
//! hold ends: the next step of the ladder goes out when it falls due.

use jiff::Timestamp;
use serde::Serialize;

/// What a hold is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldOn {
    Customer,
    Invoice,
}

impl HoldOn {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldOn::Customer => "customer",
            HoldOn::Invoice => "invoice",
        }
    }
}

/// One hold, as `herald holds` and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub on: HoldOn,
    pub id: String,
    pub reason: String,
    /// `None`: until resumed.
    pub until: Option<Timestamp>,
    pub actor: String,
    pub created_at: Timestamp,
}

impl Hold {
    /// The reason a notice held by it is cancelled, for the history.
    pub fn cancel_reason(&self) -> String {
        format!(
            "paused: {} {} is on hold ({}){}, set by {}",
            self.on.as_str(),
            self.id,
            self.reason,
            self.until
                .map(|u| format!(" until {u}"))
                .unwrap_or_default(),
            self.actor
        )
    }
}
