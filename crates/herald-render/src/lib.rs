//! Message rendering for herald: minijinja templates in four languages and
//! CLDR-correct money and date formatting.
//!
//! Templates see a serialized [`MessageContext`](herald_core::message::MessageContext)
//! and three filters that read the letter's language from the context's `locale`:
//! `money` (`{{ invoice.balance | money }}`), `date` (`{{ invoice.due_date | date }}`)
//! and `plural_days` (`{{ 5 | plural_days }}` → `5 dni`). Undefined variables are
//! errors, so [`TemplateSet::check`] catches a typo before a customer sees it.

mod builtin;
mod error;
mod format;
mod sample;
mod set;

pub use error::{CheckFailure, RenderError, TemplateError};
pub use format::{format_date, format_money, plural_days};
pub use sample::sample_context;
pub use set::{Parts, RenderedMessage, TemplateSet};
