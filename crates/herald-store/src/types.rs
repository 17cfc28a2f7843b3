//! The values the store hands out and takes in besides herald-core's records.
//! Everything a user may see derives `Serialize`, for `--json` output and the API.

use std::collections::BTreeMap;

use herald_core::planner::NoticeKind;
use herald_core::rules::ChannelKind;
use herald_core::status::DeliveryState;
use herald_core::{Currency, CustomerId, InvoiceId, Locale, PaymentId};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde::Serialize;

/// What one upsert call did, so an import can report "12 new, 3 changed, 985 unchanged".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    pub customers: i64,
    pub contacts: i64,
    pub operators: i64,
    pub invoices: i64,
    pub payments: i64,
}

/// An invoice as the payment import needs it: to check currency and overpayment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceBalance {
    pub customer_id: CustomerId,
    pub currency: Currency,
    pub amount: Decimal,
    pub paid: Decimal,
    /// Each recorded payment and its amount: a re-imported payment replaces its
    /// old amount instead of counting twice.
    pub payments: Vec<(PaymentId, Decimal)>,
}

/// Where the last planning run left off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlannerState {
    /// The end of the last window planned; `None` before the first run.
    pub watermark: Option<Timestamp>,
    /// Invoices with a higher `seq` changed since the last run.
    pub last_seq: i64,
    /// The highest `seq` handed out so far: the next run's `last_seq`.
    pub max_seq: i64,
}

/// Which invoices (and so which customers) a planning run must look at. Built by the
/// caller from the rules and the window, so cost follows what is due (invariant 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateQuery {
    /// Invoices with `seq > since_seq` are "changed".
    pub since_seq: i64,
    /// Inclusive range of issue dates whose issued-trigger falls in the window.
    pub issue_dates: Option<(Date, Date)>,
    /// Inclusive ranges of due dates, one per date-relative rule, already shifted by its offset.
    pub due_dates: Vec<DueDates>,
    /// Open invoices due on or before this day whose next dunning step is due by `today`.
    pub dunning_due_on_or_before: Option<Date>,
    /// With it: only invoices due on or after this day are looked at for a FIRST
    /// letter (their first step falls in the window). `None`: every open one
    /// (the first run). Later steps come from the dunning progress, due by `today`.
    pub dunning_first_from: Option<Date>,
    pub today: Date,
}

/// The due dates whose date-relative trigger falls in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueDates {
    pub from: Date,
    pub to: Date,
    /// The rule speaks only while a balance remains (`when = "unpaid"`, the
    /// default): only open invoices are looked at, through the small index of open
    /// invoices. A rule for every invoice has no index of its own and scans the table.
    pub open_only: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecordStats {
    pub inserted: u64,
    pub existing: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunStats {
    pub books: u64,
    pub planned: u64,
    pub inserted: u64,
    pub existing: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRow {
    pub id: i64,
    pub started_at: Timestamp,
    pub now: Timestamp,
    pub window_after: Option<Timestamp>,
    pub window_until: Timestamp,
    pub since_seq: i64,
    pub max_seq: i64,
    pub books: i64,
    pub planned: i64,
    pub inserted: i64,
    pub existing: i64,
    /// `None`: the run did not finish (crashed or still running).
    pub finished_at: Option<Timestamp>,
}

/// Whether a stored notification is to be delivered; the reason is in `NotificationRow::reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    Deliver,
    NotApplicable,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Deliver => "deliver",
            VerdictKind::NotApplicable => "not_applicable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationRow {
    pub id: i64,
    pub dedupe_key: String,
    pub rule_id: String,
    pub kind: NoticeKind,
    /// `None`: to the office, about no customer (a digest, an absence).
    pub customer_id: Option<CustomerId>,
    pub level: Option<u32>,
    pub template: String,
    pub fire_at: Timestamp,
    pub planned_at: Timestamp,
    pub run_id: Option<i64>,
    pub verdict: VerdictKind,
    pub reason: Option<String>,
    /// A task id, a declaration number: what the notice is about when it is not
    /// invoices.
    pub subject: Option<String>,
    /// A task reminder's occurrence start; an event's time; the start of the
    /// period a digest counts.
    pub occurs_at: Option<Timestamp>,
    /// The event a notice answers.
    pub event_id: Option<String>,
    /// Sorted.
    pub invoice_ids: Vec<InvoiceId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub notification_id: i64,
    pub channel: ChannelKind,
    pub name: String,
    pub address: String,
    pub locale: Locale,
    pub state: DeliveryState,
    /// Why it failed, was cancelled, is not applicable, or is held (pilot mode).
    pub reason: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<Timestamp>,
    pub lease_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub provider_id: Option<String>,
    /// A resend with another template than the rule's.
    pub template_override: Option<String>,
    /// The delivery this one resends.
    pub resend_of: Option<i64>,
    /// Who asked for a resend (`fallback`: a channel fallback); `None` for planned
    /// deliveries.
    pub actor: Option<String>,
    /// The named e-mail account it went out through (`None`: the shared one).
    pub account: Option<String>,
    /// The delivery on another channel whose failure this one follows.
    pub fallback_of: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptKind {
    Sent,
    Transient,
    Permanent,
    Cancelled,
}

impl AttemptKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptKind::Sent => "sent",
            AttemptKind::Transient => "transient",
            AttemptKind::Permanent => "permanent",
            AttemptKind::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    pub at: Timestamp,
    pub outcome: AttemptKind,
    pub detail: String,
}

/// A dispatcher's request for work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRequest {
    pub now: Timestamp,
    pub limit: u32,
    /// Who holds the lease (e.g. `node-1/sender-3`); outcomes from anyone else are refused.
    pub holder: String,
    /// How long the holder may take before another takes the delivery over.
    pub lease_for: SignedDuration,
    /// Pilot mode: only deliveries to these customers.
    pub only_customers: Option<Vec<CustomerId>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeasedDelivery {
    pub delivery: DeliveryRow,
    pub notification: NotificationRow,
    pub invoice_ids: Vec<InvoiceId>,
}

/// What happened when a delivery was tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AttemptOutcome {
    Sent {
        provider_id: Option<String>,
        detail: String,
        /// The named e-mail account it went out through; `None` for the shared
        /// account and for other channels.
        account: Option<String>,
    },
    /// A transient error: try again at `at`.
    Retry { at: Timestamp, detail: String },
    /// A permanent error: never retried.
    Failed { detail: String },
    /// Failed for good on this channel, and the notice goes on over another: `next`
    /// is added to the notification, due at once (a rule's `channel_fallback`),
    /// unless it already has a delivery to that address on that channel.
    FailedOver {
        detail: String,
        next: herald_core::planner::PlannedDelivery,
    },
    /// Stopped before sending (invariant 3: paid, paused…).
    Cancelled { reason: String },
    /// Not tried: a limit of the account (e.g. 500 messages a day) holds it until
    /// `at`. Not an attempt, so it does not count towards `max_attempts`.
    Deferred { at: Timestamp, reason: String },
    /// Not tried: outside the business calendar's send window or on a day off; it
    /// goes out at `at`. Stored as [`AttemptOutcome::Deferred`] is.
    Postponed { at: Timestamp, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// Deliveries per state.
    pub by_state: BTreeMap<String, i64>,
    /// Deliveries per rule, then per state.
    pub by_rule: BTreeMap<String, BTreeMap<String, i64>>,
    /// Notifications per verdict.
    pub notifications: BTreeMap<String, i64>,
    /// Notifications per rule, then per verdict: a notice with nobody to tell has
    /// no delivery, so only this count shows it.
    pub notifications_by_rule: BTreeMap<String, BTreeMap<String, i64>>,
    pub last_run: Option<RunRow>,
    pub watermark: Option<Timestamp>,
    pub last_seq: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    pub customer: Option<CustomerId>,
    pub invoice: Option<InvoiceId>,
    /// What the notices are about: a declaration number, a task id.
    pub subject: Option<String>,
    /// The notices of one rule (a digest's, say).
    pub rule: Option<String>,
    /// Notices with at least one delivery in this state (`sent`, `failed`…).
    pub state: Option<String>,
    /// Notices due (`fire_at`) in `[from, until)`.
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Pages in id order instead: the notices after this id (0 for the first
    /// page), at most `limit`, oldest id first. The last id is the next cursor.
    pub after_id: Option<i64>,
    /// The most recent `limit` notifications (by fire time) are returned, oldest first.
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryHistory {
    #[serde(flatten)]
    pub delivery: DeliveryRow,
    /// Every attempt, oldest first (`attempts` in the delivery is their count).
    pub attempt_log: Vec<AttemptRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub notification: NotificationRow,
    pub deliveries: Vec<DeliveryHistory>,
    /// When the next dunning reminder is due: with an invoice filter that invoice's,
    /// for a dunning letter the earliest of the invoices it covered.
    pub next_reminder_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Which invoices a list shows by what is owed on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStanding {
    /// Something is still owed.
    Open,
    /// Paid in full (or more).
    Paid,
    /// Something is owed and the due date has passed.
    Overdue,
}

/// A page of the subjects events are about (declaration numbers): the one
/// most recently heard of first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubjectListQuery {
    /// Events whose type starts with this, e.g. `customs.`.
    pub type_prefix: String,
    /// Part of the subject, the customer's id or name, any case.
    pub search: Option<String>,
    pub limit: u32,
    pub offset: u64,
}

/// One subject of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectListRow {
    pub subject: String,
    pub customer_id: Option<CustomerId>,
    pub customer_name: String,
    /// When its latest event happened.
    pub last_at: Timestamp,
    pub events: i64,
}

/// A page of the invoice list: newest issue date first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceListQuery {
    /// Part of the invoice's id or number, or of its customer's id or name, in
    /// any case.
    pub search: Option<String>,
    pub customer: Option<CustomerId>,
    pub standing: Option<InvoiceStanding>,
    /// The business's date today, for `Overdue`.
    pub today: jiff::civil::Date,
    pub limit: u32,
    pub offset: u64,
}

/// An invoice on a list, with its customer's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceListRow {
    pub view: herald_core::planner::InvoiceView,
    pub customer_name: String,
}

/// One notification about an invoice, with the states of its deliveries: what a
/// list's status column per rule is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceNotice {
    pub invoice: InvoiceId,
    pub rule: String,
    pub notification: i64,
    pub level: Option<u32>,
    pub fire_at: Timestamp,
    pub verdict: String,
    pub states: Vec<herald_core::status::DeliveryState>,
}

/// A page of deliveries, newest first: the console's history and its CSV export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryListQuery {
    pub rule: Option<String>,
    pub channel: Option<ChannelKind>,
    pub state: Option<DeliveryState>,
    pub customer: Option<CustomerId>,
    /// Sent (or, not sent, last changed) in `[from, until)`.
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    /// Only deliveries with a smaller id: an export pages with this, not `offset`.
    pub before_id: Option<i64>,
    pub limit: u32,
    pub offset: u64,
}

/// A delivery with what its notification says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryListRow {
    #[serde(flatten)]
    pub delivery: DeliveryRow,
    pub rule_id: String,
    pub customer_id: Option<CustomerId>,
    pub subject: Option<String>,
    pub fire_at: Timestamp,
    /// The smallest id of the invoices the notice is about, and how many there are.
    pub invoice_id: Option<InvoiceId>,
    pub invoices: i64,
    /// What the server said at the last attempt.
    pub last_response: Option<String>,
}
