//! herald's pure domain: what a notification is, when it is due and to whom.
//!
//! Nothing here does I/O or reads the wall clock, which is what makes the planner's
//! promise testable: the same records, rules and window always plan the same
//! notifications with the same dedupe keys (see [`planner`]).
//!
//! - [`values`]: typed values parsed at the edge (`EmailAddress`, `Currency`, `Money`…)
//! - [`records`]: customers, contacts, operators, invoices, payments
//! - [`rules`]: what users configure (invoice notices, dunning ladders)
//! - [`planner`]: rules × records × window → planned notifications
//! - [`schedule`]: cron and "every N minutes from HH:MM" schedules, DST-correct
//! - [`tasks`]: tasks and their occurrences (one-off, daily, weekly, monthly, cron)
//! - [`status`]: delivery states and the aggregate status of a document
//! - [`message`]: what a template sees
//! - [`calendar`]: working days, public holidays (PL, CZ, RO) and the send window
//! - [`events`]: events from the business system and the notices they trigger
//! - [`digest`]: activity digests on a schedule, per operator or for the office
//! - [`clock`]: the one source of "now"

pub mod calendar;
pub mod clock;
pub mod digest;
pub mod events;
pub mod message;
pub mod planner;
pub mod records;
pub mod rules;
pub mod schedule;
pub mod status;
pub mod tasks;
pub mod values;

pub use clock::{Clock, FixedClock};
pub use values::{
    Currency, CustomerId, EmailAddress, EventId, InvoiceId, Locale, Money, OperatorId, PaymentId,
    PhoneNumber, TaskId,
};
