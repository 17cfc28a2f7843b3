//! What the operator alert needs: the failures since the last digest, and a record
//! of each digest so the next one lists only what is new.

use jiff::Timestamp;

/// The last digest that went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastAlert {
    pub at: Timestamp,
    /// Failures recorded up to this moment (`deliveries.updated_at`) were in it.
    pub covered_upto: i64,
}

/// A delivery that failed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedDelivery {
    pub delivery_id: i64,
    pub rule_id: String,
    /// `None`: a notice to the office.
    pub customer_id: Option<String>,
    pub channel: String,
    pub address: String,
    pub reason: String,
    pub failed_at: Timestamp,
}

/// Failures after a moment: how many, per rule, the first few, and up to when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failures {
    pub total: u64,
    pub by_rule: Vec<(String, u64)>,
    pub first: Vec<FailedDelivery>,
    /// The latest `updated_at` among them: what a digest of them covers.
    pub upto: i64,
}
