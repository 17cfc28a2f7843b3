//! Delivery channels: the last step of the outbox (DESIGN.md, invariant 4).
//!
//! A channel takes one delivery (its id and a fully rendered message) and reports an
//! [`Outcome`]. The dispatcher turns that outcome into the next delivery state, so a
//! channel never retries on its own and never decides when to try again: it only says
//! whether trying again could help ([`Outcome::Transient`]) or not
//! ([`Outcome::Permanent`]).
//!
//! Messages carry a Message-ID derived from the delivery id ([`message_id_for`]), so a
//! delivery that is re-leased after a crash produces the same message and receivers can
//! fold the duplicate.
//!
//! - [`email`]: the e-mail value ([`EmailMessage`]) and its RFC 5322 form ([`build_eml`])
//! - [`sms`]: the SMS value ([`SmsMessage`]) and its GSM-7/UCS-2 size ([`sms_segments`])
//! - [`file`]: [`FileOutbox`], which writes `.eml` and SMS JSON files atomically
//! - [`smtp`]: [`SmtpChannel`], e-mail to an SMTP server on a kept connection
//! - [`sms_http`]: [`SmsGateway`], SMS through a provider's HTTP API (SMSAPI.pl and
//!   Twilio as presets, any other described by [`SmsGatewaySettings`])
//!
//! SMTP, SMS gateways and webhooks implement the same [`EmailChannel`] / [`SmsChannel`]
//! traits, so the dispatcher holds `Box<dyn EmailChannel>` and does not care which.

pub mod email;
pub mod file;
mod rfc5322;
pub mod sms;
pub mod sms_http;
pub mod smtp;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

pub use email::{
    Attachment, DkimSigner, EmailMessage, Mailbox, build_eml, build_signed_eml, content_type_for,
    load_attachment, message_id_for,
};
pub use file::FileOutbox;
pub use sms::{SmsEncoding, SmsMessage, SmsSize, sms_segments};
pub use sms_http::{
    BasicAuth, CodeMeaning, GatewayBody, GatewayError, HttpMethod, ProviderCode, ResponseRules,
    SmsGateway, SmsGatewaySettings,
};
pub use smtp::{Secret, SmtpChannel, SmtpSecurity, SmtpSettings};
pub use webhook::Webhook;

/// What one attempt to deliver came to (lettre's transient vs permanent split).
///
/// `detail` is shown to the operator in the delivery's history, so it says what
/// happened and, for failures, what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// The channel accepted the message. `provider_id` is whatever lets someone find
    /// it again on the other side (a file path, an SMTP queue id, a gateway's id).
    Delivered {
        provider_id: Option<String>,
        detail: String,
    },
    /// Trying again later may work (SMTP 4xx, timeouts, HTTP 429/5xx, a full disk).
    Transient { detail: String },
    /// Trying again will fail the same way (SMTP 5xx, HTTP 4xx, a message that cannot
    /// be built), so the delivery fails at once with this detail.
    Permanent { detail: String },
}

impl Outcome {
    pub fn is_delivered(&self) -> bool {
        matches!(self, Outcome::Delivered { .. })
    }

    /// The operator-facing text, whatever the kind.
    pub fn detail(&self) -> &str {
        match self {
            Outcome::Delivered { detail, .. }
            | Outcome::Transient { detail }
            | Outcome::Permanent { detail } => detail,
        }
    }
}

/// Why a message could not be built or an attachment loaded. Each of these is a
/// property of the input, not of the moment, so a send that hits one is
/// [`Outcome::Permanent`].
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error(
        "header name '{name}' is not allowed: {reason}; extra headers must start with 'X-' and use only letters, digits and '-' (e.g. X-Herald-Rule)"
    )]
    HeaderName { name: String, reason: &'static str },
    #[error(
        "header {name} has a line break in its value; headers are one line, put the text in the body instead"
    )]
    HeaderValue { name: String },
    #[error("'{address}' cannot be used as an e-mail address: {reason}")]
    Address { address: String, reason: String },
    #[error(
        "Message-ID '{message_id}' is not valid: {reason}; derive it with message_id_for(delivery_id, domain)"
    )]
    MessageId {
        message_id: String,
        reason: &'static str,
    },
    #[error(
        "attachment '{filename}' has content type '{content_type}', which is not a MIME type like application/pdf"
    )]
    ContentType {
        filename: String,
        content_type: String,
    },
    #[error("attachment file name '{filename}' is not usable: {reason}")]
    AttachmentName {
        filename: String,
        reason: &'static str,
    },
    #[error("cannot attach {path}: {reason}; {fix}")]
    AttachmentFile {
        path: std::path::PathBuf,
        reason: String,
        fix: &'static str,
    },
    #[error("the message has no recipient; add at least one To address")]
    NoRecipient,
    #[error("the message could not be built: {0}")]
    Build(String),
}

/// The future a channel returns. Boxed so channels can be held as trait objects:
/// which channel serves a rule is configuration, known only at run time.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// Something that delivers e-mail: the file outbox today, SMTP next.
///
/// `delivery_id` is passed separately from the message so a channel can name what it
/// writes or sends after the delivery (one file per delivery, an idempotency key for an
/// API) without parsing the Message-ID back.
pub trait EmailChannel: Send + Sync {
    fn send_email<'a>(&'a self, delivery_id: i64, msg: &'a EmailMessage) -> SendFuture<'a>;
}

/// Something that delivers SMS: the file outbox, or a provider's HTTP API
/// ([`SmsGateway`]).
pub trait SmsChannel: Send + Sync {
    fn send_sms<'a>(&'a self, delivery_id: i64, msg: &'a SmsMessage) -> SendFuture<'a>;
}
