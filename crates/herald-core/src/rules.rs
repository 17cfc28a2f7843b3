//! What users configure: which notices exist, when they fire, to whom, with which
//! template. The config file is parsed into these types by the binary; the planner
//! reads nothing else.

use jiff::civil::{Date, Time};
use serde::{Deserialize, Serialize};

use crate::records::{Customer, Invoice};
use crate::values::{CustomerId, EmailAddress};

/// A rule's id as written in the config (`due-soon`, `dunning`); part of every
/// dedupe key, so renaming a rule starts its notices afresh.
pub type RuleId = String;

/// The ways a notice can reach a person, in the order a rule prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Email,
    Sms,
    /// A system, not a person: the notification POSTed as signed JSON.
    Webhook,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Sms => "sms",
            ChannelKind::Webhook => "webhook",
        }
    }
}

/// Who receives a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecipientSpec {
    /// The customer's contacts with this role (`customer:billing`). When no contact
    /// of any listed role can be reached, any contact that can be is used instead.
    CustomerRole(String),
    /// A fixed address (`address:ksiegowosc@biuro.pl`), e.g. the office's own copy.
    Address(EmailAddress),
    /// A configured webhook by name (`webhook:erp`): another system that wants every
    /// notice of the rule, whatever the rule's channels.
    Webhook(String),
    /// The operators in this relation to the customer (`relation:accounting_manager`,
    /// seed 002), from the imported relations.
    Relation(String),
    /// Every operator with this role (`operator:dunning`).
    OperatorRole(String),
    /// Every contact of the customer that can be reached (`customer:*`), e.g. a
    /// utility's announcement to all who opted in.
    AnyContact,
}

impl RecipientSpec {
    /// Whether it names some customer's people (a contact role, any contact, an
    /// operator in a relation to the customer), and so needs a customer to mean
    /// anyone; addresses, operator roles and webhooks do not.
    pub fn needs_customer(&self) -> bool {
        matches!(
            self,
            RecipientSpec::CustomerRole(_) | RecipientSpec::AnyContact | RecipientSpec::Relation(_)
        )
    }
}

/// Which customers a rule applies to. Both lists empty: every customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub groups: Vec<String>,
    pub customers: Vec<CustomerId>,
}

impl Scope {
    pub fn is_all(&self) -> bool {
        self.groups.is_empty() && self.customers.is_empty()
    }
    pub fn contains(&self, c: &Customer) -> bool {
        self.is_all()
            || self.customers.contains(&c.id)
            || c.group.as_ref().is_some_and(|g| self.groups.contains(g))
    }
}

/// What makes a single-invoice notice fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceTrigger {
    /// On the invoice's issue date (the new-invoice notice).
    Issued,
    /// `offset_days` after the due date; negative is before (`due-soon` is -3,
    /// `grace-end` is +10).
    DueDate { offset_days: i32 },
    /// Never by the planner: `herald send-invoices --period` sends every invoice
    /// of a month at once (seed 004's batch sending).
    Batch,
}

/// When a notice about an invoice is still wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Condition {
    Always,
    /// Only while a balance remains; re-checked just before sending.
    Unpaid,
}

/// Delivery settings every rule has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    pub to: Vec<RecipientSpec>,
    /// Preference order: each recipient gets the first channel they can be reached on.
    pub channels: Vec<ChannelKind>,
    pub scope: Scope,
    /// Local time of day (tenant time zone) at which day-based triggers fire.
    pub at: Time,
    /// When a delivery to a contact fails for good, send the notice again on the
    /// contact's next channel of `channels` (an SMS that could not go, by e-mail).
    pub channel_fallback: bool,
    /// When nobody in the named contact roles can be reached, use any contact of
    /// the customer that can be (right for invoice notices; wrong for a customs
    /// message, which goes to the customs contacts or nowhere).
    pub any_contact: bool,
}

/// One notice per invoice: new-invoice, due-soon, grace-end and the like.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRule {
    pub id: RuleId,
    pub enabled: bool,
    pub trigger: InvoiceTrigger,
    pub condition: Condition,
    pub template: String,
    /// Generate only: the notice is recorded but never delivered.
    pub send: bool,
    /// A trigger found more than this many days late is recorded as NotApplicable
    /// ("too late") instead of being sent: an alert three days before the due date
    /// means nothing a week after it.
    pub max_delay_days: u32,
    pub audience: Audience,
}

impl InvoiceRule {
    /// The civil date (tenant time zone) on which this rule fires for an invoice.
    pub fn trigger_date(&self, inv: &Invoice) -> Date {
        match self.trigger {
            InvoiceTrigger::Issued | InvoiceTrigger::Batch => inv.issue_date,
            InvoiceTrigger::DueDate { offset_days } => inv
                .due_date
                .checked_add(jiff::ToSpan::days(i64::from(offset_days)))
                .unwrap_or(inv.due_date),
        }
    }
}

/// One step of a dunning ladder (seed 003: a VYSTAVENI row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DunningLevel {
    /// 1-based; the letter's level is the highest due among its invoices.
    pub level: u32,
    pub after_days: u32,
    pub template: String,
    pub send: bool,
    /// How many more times this level is sent after its first letter (last level only).
    pub repeat: u32,
    pub interval_days: u32,
}

/// A dunning ladder: one consolidated letter per customer per day at most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DunningRule {
    pub id: RuleId,
    pub enabled: bool,
    pub levels: Vec<DunningLevel>,
    pub audience: Audience,
}

/// One reminder step of one invoice: level `level`, the `repeat`-th repetition
/// (0 = the level's first letter), due on `days_after_due` days past the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DunningStep {
    pub index: u32,
    pub level: u32,
    pub repeat: u32,
    pub days_after_due: u32,
}

impl DunningRule {
    /// The ladder unrolled: every step an invoice can go through, in order. The
    /// store remembers how many steps of an invoice are covered; the planner never
    /// goes back down the ladder.
    pub fn steps(&self) -> Vec<DunningStep> {
        let mut out = Vec::new();
        let last = self.levels.len().saturating_sub(1);
        for (i, l) in self.levels.iter().enumerate() {
            let repeats = if i == last { l.repeat } else { 0 };
            for r in 0..=repeats {
                out.push(DunningStep {
                    index: out.len() as u32,
                    level: l.level,
                    repeat: r,
                    days_after_due: l.after_days + r * l.interval_days,
                });
            }
        }
        out
    }

    pub fn level(&self, level: u32) -> Option<&DunningLevel> {
        self.levels.iter().find(|l| l.level == level)
    }

    /// Days after the due date at which the first letter can go.
    pub fn first_after_days(&self) -> u32 {
        self.levels.first().map_or(0, |l| l.after_days)
    }
}

/// One side of a task reminder (seed 001): the client's, or the operator's. Each
/// has its own offset, channels and template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAudience {
    /// How long before the task starts the reminder goes: `before_days` calendar
    /// days (the same local time, whatever daylight saving does) and then
    /// `before` more.
    pub before_days: i32,
    pub before: jiff::SignedDuration,
    /// Preference order (SMS by default).
    pub channels: Vec<ChannelKind>,
    /// One template for every channel: its `.sms` part is the SMS, its `.txt` and
    /// `.html` the e-mail. A task's own template replaces it.
    pub template: String,
    /// For the client: the contact roles reminded (empty: every contact that can
    /// be reached). Not used for the operator.
    pub roles: Vec<String>,
}

/// Reminders of tasks, to the client, to the operator who does the task, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRule {
    pub id: RuleId,
    pub enabled: bool,
    /// Generate only: the reminders are recorded but never delivered.
    pub send: bool,
    /// A reminder found later than this after its time (the service was not
    /// running) is NotApplicable "too late" instead of sent.
    pub max_delay: jiff::SignedDuration,
    pub client: Option<TaskAudience>,
    pub operator: Option<TaskAudience>,
    pub scope: Scope,
}

/// A notice on an event (seeds 000, 002, 004): a customs message, an audit
/// finished, a reading period started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRule {
    pub id: RuleId,
    pub enabled: bool,
    /// The event type it answers, e.g. `customs.IE529`.
    pub event_type: String,
    /// Payload fields that must have one of these values (`area = ["hr"]`); all
    /// must hold. Empty: every event of the type.
    pub payload: Vec<(String, Vec<String>)>,
    /// How long after the event the notice goes.
    pub delay: jiff::SignedDuration,
    /// "Send automatically" (seed 000): off records the notice and sends nothing.
    pub send: bool,
    /// An event that reaches herald later than this after it is due is recorded
    /// as NotApplicable "too late".
    pub max_delay: jiff::SignedDuration,
    pub template: String,
    /// Send the event's file (a customs message) with the e-mail.
    pub attach: bool,
    pub audience: Audience,
}

/// A letter on a schedule (seed 003's RESEND): to every customer that still owes
/// on reminded invoices, one overview of them all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRule {
    pub id: RuleId,
    pub enabled: bool,
    /// Cron or "every N days from HH:MM", in the tenant's zone.
    pub schedule: String,
    pub template: String,
    pub send: bool,
    pub audience: Audience,
}

/// Who a digest goes to (seed 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DigestFor {
    /// Each operator gets their own activity, on the rule's channels.
    EachOperator,
    /// One summary of every operator to the rule's `to` (fixed addresses,
    /// operator roles, webhooks).
    Office,
}

/// Activity counted from events, on a schedule (seed 002's "invoices approved per
/// day, week and month").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestRule {
    pub id: RuleId,
    pub enabled: bool,
    /// Cron or "every N minutes|hours|days from HH:MM", in the tenant's zone.
    pub schedule: String,
    /// The event type counted, e.g. `invoice.approved`; its `operator_id` says who.
    pub event_type: String,
    pub digest_for: DigestFor,
    /// Whether a digest with nothing since the previous one still goes out.
    pub send_empty: bool,
    pub template: String,
    pub send: bool,
    pub audience: Audience,
}

/// Every rule of a tenant, as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rules {
    pub invoice: Vec<InvoiceRule>,
    pub dunning: Vec<DunningRule>,
    pub task: Vec<TaskRule>,
    pub event: Vec<EventRule>,
    pub summary: Vec<SummaryRule>,
    #[serde(default)]
    pub digest: Vec<DigestRule>,
}

impl Rules {
    /// Every rule's id, of every kind, in the order the kinds are listed above.
    pub fn all_ids(&self) -> impl Iterator<Item = &str> {
        self.invoice
            .iter()
            .map(|r| r.id.as_str())
            .chain(self.dunning.iter().map(|r| r.id.as_str()))
            .chain(self.task.iter().map(|r| r.id.as_str()))
            .chain(self.event.iter().map(|r| r.id.as_str()))
            .chain(self.summary.iter().map(|r| r.id.as_str()))
            .chain(self.digest.iter().map(|r| r.id.as_str()))
    }

    /// The audience of the rule with this id, of either kind.
    pub fn audience(&self, rule_id: &str) -> Option<&Audience> {
        self.invoice
            .iter()
            .find(|r| r.id == rule_id)
            .map(|r| &r.audience)
            .or_else(|| {
                self.dunning
                    .iter()
                    .find(|r| r.id == rule_id)
                    .map(|r| &r.audience)
            })
            .or_else(|| {
                self.event
                    .iter()
                    .find(|r| r.id == rule_id)
                    .map(|r| &r.audience)
            })
            .or_else(|| {
                self.summary
                    .iter()
                    .find(|r| r.id == rule_id)
                    .map(|r| &r.audience)
            })
            .or_else(|| {
                self.digest
                    .iter()
                    .find(|r| r.id == rule_id)
                    .map(|r| &r.audience)
            })
    }

    /// The dunning ladder that applies to a customer: the first enabled one whose
    /// scope contains it, so a customer is never on two ladders at once.
    pub fn dunning_for(&self, c: &Customer) -> Option<&DunningRule> {
        self.dunning
            .iter()
            .find(|d| d.enabled && d.audience.scope.contains(c))
    }
}
