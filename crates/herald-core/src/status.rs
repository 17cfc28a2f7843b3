//! Delivery states and how a notification's or a document's status follows from
//! its deliveries (seed 000: NotApplicable, Pending, Sent, Failed, PartiallySent).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The state of one delivery: one message to one recipient on one channel.
///
/// `Pending → Sending (leased) → Sent | Retrying | Failed`, plus `NotApplicable`
/// (never to be sent, with the reason) and `Cancelled` (stopped before sending,
/// e.g. the invoice was paid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Sending,
    Retrying,
    Sent,
    Failed,
    NotApplicable,
    Cancelled,
}

impl DeliveryState {
    pub const ALL: [DeliveryState; 7] = [
        DeliveryState::Pending,
        DeliveryState::Sending,
        DeliveryState::Retrying,
        DeliveryState::Sent,
        DeliveryState::Failed,
        DeliveryState::NotApplicable,
        DeliveryState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sending => "sending",
            DeliveryState::Retrying => "retrying",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
            DeliveryState::NotApplicable => "not_applicable",
            DeliveryState::Cancelled => "cancelled",
        }
    }

    /// Still on its way: the dispatcher will take it (again).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            DeliveryState::Pending | DeliveryState::Sending | DeliveryState::Retrying
        )
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("'{s}' is not a delivery state"))
    }
}

/// The status of a notification, or of a document for one rule, from its deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateStatus {
    NotApplicable,
    Pending,
    Sent,
    PartiallySent,
    Failed,
    Cancelled,
}

impl AggregateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AggregateStatus::NotApplicable => "not_applicable",
            AggregateStatus::Pending => "pending",
            AggregateStatus::Sent => "sent",
            AggregateStatus::PartiallySent => "partially_sent",
            AggregateStatus::Failed => "failed",
            AggregateStatus::Cancelled => "cancelled",
        }
    }

    /// NotApplicable and Cancelled deliveries only decide when nothing else is
    /// there; otherwise: all sent → Sent, all failed → Failed, some sent and some
    /// not → PartiallySent, nothing sent yet and something on its way → Pending.
    pub fn of(states: impl IntoIterator<Item = DeliveryState>) -> Self {
        let (mut sent, mut failed, mut open, mut cancelled, mut na) = (0, 0, 0, 0, 0);
        for s in states {
            match s {
                DeliveryState::Sent => sent += 1,
                DeliveryState::Failed => failed += 1,
                DeliveryState::Pending | DeliveryState::Sending | DeliveryState::Retrying => {
                    open += 1
                }
                DeliveryState::Cancelled => cancelled += 1,
                DeliveryState::NotApplicable => na += 1,
            }
        }
        match (sent, failed, open) {
            (0, 0, 0) if cancelled > 0 => AggregateStatus::Cancelled,
            (0, 0, 0) => {
                let _ = na;
                AggregateStatus::NotApplicable
            }
            (s, 0, 0) if s > 0 => AggregateStatus::Sent,
            (0, f, 0) if f > 0 => AggregateStatus::Failed,
            (0, _, o) if o > 0 => AggregateStatus::Pending,
            _ => AggregateStatus::PartiallySent,
        }
    }
}

impl fmt::Display for AggregateStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryState::*;
    use super::*;

    #[test]
    fn aggregate_follows_seed_000() {
        assert_eq!(AggregateStatus::of([]), AggregateStatus::NotApplicable);
        assert_eq!(AggregateStatus::of([Sent, Sent]), AggregateStatus::Sent);
        assert_eq!(
            AggregateStatus::of([Sent, Failed]),
            AggregateStatus::PartiallySent
        );
        assert_eq!(
            AggregateStatus::of([Sent, Pending]),
            AggregateStatus::PartiallySent
        );
        assert_eq!(
            AggregateStatus::of([Failed, Failed]),
            AggregateStatus::Failed
        );
        assert_eq!(
            AggregateStatus::of([Pending, Retrying]),
            AggregateStatus::Pending
        );
        assert_eq!(AggregateStatus::of([Cancelled]), AggregateStatus::Cancelled);
        assert_eq!(
            AggregateStatus::of([Sent, Cancelled]),
            AggregateStatus::Sent
        );
        assert_eq!(
            AggregateStatus::of([NotApplicable]),
            AggregateStatus::NotApplicable
        );
    }
}
