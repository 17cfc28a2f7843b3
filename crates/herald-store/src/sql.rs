//! Conversions between herald's types and their stored form, and helpers to build
//! multi-row statements.

use herald_core::planner::NoticeKind;
use herald_core::rules::ChannelKind;
use herald_core::status::DeliveryState;
use herald_core::{Currency, CustomerId, InvoiceId, Locale, PaymentId};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

use crate::error::StoreError;
use crate::types::{AttemptKind, VerdictKind};

/// Rows per multi-row statement: large enough that the per-statement overhead
/// vanishes, small enough to stay far below SQLite's 32766 parameters.
pub(crate) fn rows_per_statement(cols: usize) -> usize {
    (16_000 / cols).clamp(1, 500)
}

/// `(?,?),(?,?)…` for `rows` rows of `cols` columns. Anonymous placeholders on
/// purpose: SQLite looks a named parameter (`$7`) up by walking a list, which makes
/// binding a statement of n parameters cost n², 20 ms for a 500-row chunk.
pub(crate) fn values(rows: usize, cols: usize) -> String {
    let mut row = String::with_capacity(cols * 2 + 1);
    row.push('(');
    for c in 0..cols {
        if c > 0 {
            row.push(',');
        }
        row.push('?');
    }
    row.push(')');
    let mut s = String::with_capacity(rows * (row.len() + 1));
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push_str(&row);
    }
    s
}

/// A list passed as one JSON parameter, read back with `json_each`.
pub(crate) fn json_list<T: Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub(crate) fn ts(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_millisecond(ms).map_err(|e| StoreError::Corrupt(format!("instant {ms}: {e}")))
}

pub(crate) fn opt_ts(ms: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    ms.map(ts).transpose()
}

pub(crate) fn date_text(d: Date) -> String {
    d.to_string()
}

/// Stands for "no further dunning step": sorts after every real date.
pub(crate) const NO_NEXT_STEP: &str = "9999-12-31";

pub(crate) fn date(s: &str) -> Result<Date, StoreError> {
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("date '{s}': {e}")))
}

pub(crate) fn corrupt(what: &str, value: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}': {e}"))
}

pub(crate) fn customer_id(s: &str) -> Result<CustomerId, StoreError> {
    CustomerId::parse(s).map_err(|e| corrupt("customer id", s, e))
}
pub(crate) fn invoice_id(s: &str) -> Result<InvoiceId, StoreError> {
    InvoiceId::parse(s).map_err(|e| corrupt("invoice id", s, e))
}
pub(crate) fn payment_id(s: &str) -> Result<PaymentId, StoreError> {
    PaymentId::parse(s).map_err(|e| corrupt("payment id", s, e))
}
pub(crate) fn currency(s: &str) -> Result<Currency, StoreError> {
    Currency::parse(s).map_err(|e| corrupt("currency", s, e))
}
pub(crate) fn locale(s: &str) -> Result<Locale, StoreError> {
    Locale::parse(s).map_err(|e| corrupt("locale", s, e))
}
pub(crate) fn channel(s: &str) -> Result<ChannelKind, StoreError> {
    match s {
        "email" => Ok(ChannelKind::Email),
        "sms" => Ok(ChannelKind::Sms),
        "webhook" => Ok(ChannelKind::Webhook),
        _ => Err(corrupt("channel", s, "not email, sms or webhook")),
    }
}
pub(crate) fn state(s: &str) -> Result<DeliveryState, StoreError> {
    s.parse().map_err(|e: String| StoreError::Corrupt(e))
}
pub(crate) fn kind_str(k: NoticeKind) -> &'static str {
    match k {
        NoticeKind::Invoice => "invoice",
        NoticeKind::Dunning => "dunning",
        NoticeKind::Task => "task",
        NoticeKind::Event => "event",
        NoticeKind::Digest => "digest",
    }
}
pub(crate) fn kind(s: &str) -> Result<NoticeKind, StoreError> {
    match s {
        "invoice" => Ok(NoticeKind::Invoice),
        "dunning" => Ok(NoticeKind::Dunning),
        "task" => Ok(NoticeKind::Task),
        "event" => Ok(NoticeKind::Event),
        "digest" => Ok(NoticeKind::Digest),
        _ => Err(corrupt(
            "notification kind",
            s,
            "not invoice, dunning, task, event or digest",
        )),
    }
}
pub(crate) fn verdict(s: &str) -> Result<VerdictKind, StoreError> {
    match s {
        "deliver" => Ok(VerdictKind::Deliver),
        "not_applicable" => Ok(VerdictKind::NotApplicable),
        _ => Err(corrupt("verdict", s, "not deliver or not_applicable")),
    }
}
pub(crate) fn attempt_kind(s: &str) -> Result<AttemptKind, StoreError> {
    match s {
        "sent" => Ok(AttemptKind::Sent),
        "transient" => Ok(AttemptKind::Transient),
        "permanent" => Ok(AttemptKind::Permanent),
        "cancelled" => Ok(AttemptKind::Cancelled),
        _ => Err(corrupt("attempt outcome", s, "unknown")),
    }
}

/// A parameter of a statement whose shape is decided at run time.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}
