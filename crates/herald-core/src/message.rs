//! What a template sees. The binary builds a `MessageContext` from the store at send
//! time (so balances are current) and `herald-render` turns it into a message.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::records::Invoice;
use crate::values::{Locale, Money, Totals};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantInfo {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Where to pay; printed in payment reminders when set.
    pub bank_account: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerInfo {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientInfo {
    pub name: String,
    /// The e-mail address or phone number the message goes to.
    pub address: String,
}

/// One invoice as a letter shows it: what was billed, what is still owed, how late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub id: String,
    pub number: String,
    pub issue_date: Date,
    pub due_date: Date,
    pub amount: Money,
    pub paid: Money,
    pub balance: Money,
    /// Days past the due date on `today` (negative: days left).
    pub days_overdue: i64,
    pub attachment: Option<String>,
}

impl InvoiceLine {
    pub fn new(inv: &Invoice, paid: rust_decimal::Decimal, today: Date) -> Self {
        let balance = (inv.amount - paid).max(rust_decimal::Decimal::ZERO);
        Self {
            id: inv.id.to_string(),
            number: inv.number.clone(),
            issue_date: inv.issue_date,
            due_date: inv.due_date,
            amount: inv.total(),
            paid: Money::new(paid, inv.currency),
            balance: Money::new(balance, inv.currency),
            days_overdue: crate::planner::days_between(inv.due_date, today),
            attachment: inv.attachment.clone(),
        }
    }
}

/// The task a reminder is about, at the occurrence reminded: its local date and
/// time in the task's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInfo {
    pub id: String,
    pub title: String,
    pub date: Date,
    /// `10:00`: the local time, 24-hour, as every locale herald speaks writes it.
    pub time: String,
    pub time_zone: String,
    /// Who does it (the operator's name), when the task names one.
    pub operator: Option<String>,
}

/// The event a notice answers, as its template sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventInfo {
    pub id: String,
    /// `customs.IE529`…
    pub kind: String,
    pub subject: Option<String>,
    /// When it happened, in the tenant's zone.
    pub date: Date,
    pub time: String,
    pub payload: serde_json::Map<String, serde_json::Value>,
    /// The name of the operator the event names (who is absent, who approved).
    #[serde(default)]
    pub operator: Option<String>,
}

/// How much one operator did, counted from events of one type (seed 002's
/// "invoices approved per day, week and month").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityCounts {
    /// Since the previous digest of the same rule.
    pub period: u64,
    /// Today, this week (from Monday) and this month, up to the digest, in the
    /// tenant's time zone.
    pub day: u64,
    pub week: u64,
    pub month: u64,
}

/// One operator's line in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityLine {
    pub id: String,
    pub name: String,
    #[serde(flatten)]
    pub counts: ActivityCounts,
}

/// What a digest on a schedule tells: an operator their own activity, or the
/// office everyone's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestInfo {
    /// The event type counted, e.g. `invoice.approved`.
    pub kind: String,
    /// The period since the previous digest, local (tenant's zone).
    pub from_date: Date,
    pub from_time: String,
    pub to_date: Date,
    pub to_time: String,
    /// One line per operator, by name; an operator's own digest has only theirs.
    pub operators: Vec<ActivityLine>,
    /// The sums over `operators`.
    pub total: ActivityCounts,
}

/// Everything a template may use. Single-invoice notices fill `invoice`; dunning
/// letters fill `invoices` and `totals` (one entry per currency, never converted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageContext {
    pub rule: String,
    pub template: String,
    pub locale: Locale,
    pub today: Date,
    pub tenant: TenantInfo,
    /// The customer the notice is about; `None` for notices to the office that
    /// concern no customer (a digest, an absence).
    pub customer: Option<CustomerInfo>,
    pub recipient: RecipientInfo,
    pub invoice: Option<InvoiceLine>,
    pub invoices: Vec<InvoiceLine>,
    pub totals: Totals,
    /// The dunning level of the letter (1, 2, 3…), `None` for other notices.
    pub level: Option<u32>,
    /// A task reminder's task; `None` for other notices.
    #[serde(default)]
    pub task: Option<TaskInfo>,
    /// The event a notice answers; `None` for other notices.
    #[serde(default)]
    pub event: Option<EventInfo>,
    /// A digest's counts; `None` for other notices.
    #[serde(default)]
    pub digest: Option<DigestInfo>,
}
