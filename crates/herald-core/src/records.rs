//! The records a business system hands herald. Each is already valid: the import
//! and the API parse raw rows into these and report what they refuse.

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::values::{
    Currency, CustomerId, EmailAddress, InvoiceId, Locale, Money, OperatorId, PaymentId,
    PhoneNumber, ValueError,
};

/// An IANA time zone name that jiff's bundled database knows, e.g. `Europe/Warsaw`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let s = s.trim();
        jiff::tz::TimeZone::get(s).map_err(|_| {
            ValueError(format!(
                "'{s}' is not a known IANA time zone (e.g. Europe/Warsaw, Europe/Prague)"
            ))
        })?;
        Ok(Self(s.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        // Checked in `parse`; the bundled database does not change while we run.
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}
impl TryFrom<String> for TimeZoneName {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}
impl From<TimeZoneName> for String {
    fn from(t: TimeZoneName) -> String {
        t.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: String,
    /// The customer group that rule scopes name (seed 003: "customer group").
    pub group: Option<String>,
    /// `None`: the tenant's default language.
    pub locale: Option<Locale>,
    /// `None`: the tenant's time zone.
    pub time_zone: Option<TimeZoneName>,
}

/// A person at a customer. `role` is free text; `billing` receives invoice notices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub customer_id: CustomerId,
    pub role: String,
    pub name: String,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub email_opt_in: bool,
    pub sms_opt_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    pub id: OperatorId,
    pub name: String,
    pub email: Option<EmailAddress>,
    pub phone: Option<PhoneNumber>,
    pub locale: Option<Locale>,
    pub roles: Vec<String>,
}

/// An operator's standing with a customer (seed 002): `account_manager`,
/// `accounting_manager`, `hr_manager`… Rules reach "the customer's accounting
/// manager" through it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    pub customer_id: CustomerId,
    pub operator_id: OperatorId,
    /// Lower case, as imported.
    pub relation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: InvoiceId,
    /// The printed number, e.g. `FV/2026/11/001`: what the customer knows it by.
    pub number: String,
    pub customer_id: CustomerId,
    pub issue_date: Date,
    pub due_date: Date,
    pub currency: Currency,
    pub amount: Decimal,
    /// A file to attach to the notices about this invoice (its PDF).
    pub attachment: Option<String>,
}

impl Invoice {
    pub fn total(&self) -> Money {
        Money::new(self.amount, self.currency)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub id: PaymentId,
    pub invoice_id: InvoiceId,
    pub date: Date,
    pub amount: Decimal,
}
