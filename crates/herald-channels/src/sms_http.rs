//! SMS through a provider's HTTP API: one request per message, described by settings
//! rather than code, so a new provider is configuration; SMSAPI.pl and Twilio come as
//! presets ([`SmsGatewaySettings::smsapi`], [`SmsGatewaySettings::twilio`]).
//!
//! The URL, the headers and the body are templates with placeholders
//! ([`PLACEHOLDERS`]). Each value is encoded for where it lands: percent-encoded in the
//! URL, form-urlencoded in a form, escaped by serde_json in a JSON body, so a text with
//! `&`, quotes or line breaks cannot change the request's shape. Templates are checked
//! when the gateway is made ([`SmsGateway::new`]): a typo such as `{recipent}` stops
//! herald at start-up instead of failing every SMS.
//!
//! Outcomes follow lettre's split, as for SMTP: no answer, a refused connection, HTTP
//! 429 and 5xx are [`Outcome::Transient`] (another try may work); other 4xx, and a 2xx
//! whose JSON says it failed (SMSAPI answers errors with HTTP 200), are
//! [`Outcome::Permanent`] with the provider's code and words. A provider's own codes
//! can override that ([`ProviderCode`]): SMSAPI's "too many requests at once" is worth
//! another try, and its "this idx was already sent" means an earlier try went out.
//!
//! The token never leaves as text: it is held in a [`Secret`], headers that carry it
//! are marked sensitive, errors are reported without their URL, and every detail is
//! scrubbed of the token (as typed and as encoded) before it is returned.

use std::fmt::Write as _;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::sms::{SmsEncoding, SmsMessage, first_non_gsm7, sms_segments};
use crate::{Outcome, Secret, SendFuture, SmsChannel};

/// The placeholders a template may use. `{{` and `}}` stand for literal braces.
///
/// - `{to}`: the number in E.164, with `+` (`+48601234567`)
/// - `{to_digits}`: the same without `+` (`48601234567`)
/// - `{text}`: the message body
/// - `{sender}`: the message's sender, else the gateway's ([`SmsGatewaySettings::sender`])
/// - `{id}`: the delivery id, the same on every try of one delivery: an idempotency key
/// - `{message_id}`: the message's own id ([`SmsMessage::id`])
/// - `{token}`: the secret ([`SmsGatewaySettings::token`])
/// - `{account}`: the account name or id ([`SmsGatewaySettings::account`])
pub const PLACEHOLDERS: &[&str] = &[
    "to",
    "to_digits",
    "text",
    "sender",
    "id",
    "message_id",
    "token",
    "account",
];

/// Messages longer than this many segments are refused unless the settings say
/// otherwise: six UCS-2 segments are about 400 characters, already a letter.
pub const DEFAULT_MAX_SEGMENTS: usize = 6;

/// How long one request may take, from connecting to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// SMSAPI's API for Polish accounts; [`SMSAPI_COM_BASE`] serves the international ones.
pub const SMSAPI_PL_BASE: &str = "https://api.smsapi.pl";
pub const SMSAPI_COM_BASE: &str = "https://api.smsapi.com";
pub const TWILIO_BASE: &str = "https://api.twilio.com";

/// The answer is read up to this size; an SMS API's JSON is a few hundred bytes, and a
/// misdirected URL must not make herald hold a web page in memory.
const MAX_ANSWER: usize = 64 * 1024;

/// The longest piece of an answer quoted in a detail.
const QUOTE_LIMIT: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

/// What the request carries.
#[derive(Debug, Clone, PartialEq)]
pub enum GatewayBody {
    /// Nothing: everything is in the URL (usually with [`HttpMethod::Get`]).
    None,
    /// `application/x-www-form-urlencoded` name/value pairs; each value is a template.
    /// A field whose value comes out empty (an unset `{sender}`) is left out, so the
    /// provider uses its default instead of an empty value.
    Form(Vec<(String, String)>),
    /// `application/json`: every string in the value is a template, filled in and then
    /// escaped by serde_json; numbers, booleans and keys stay as written. An object
    /// member whose string comes out empty is left out, as in a form.
    Json(serde_json::Value),
}

/// HTTP Basic credentials (Twilio's account SID and auth token); both are templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    pub user: String,
    pub password: String,
}

/// What a provider's error code means for the delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMeaning {
    /// Trying again will fail the same way.
    Permanent,
    /// The provider does not accept the credentials: permanent, and the detail says
    /// where the token comes from.
    Credentials,
    /// Trying again later may work (the provider is busy or had a hiccup).
    Transient,
    /// The provider already has a message with this delivery's idempotency key: an
    /// earlier try went out and only its answer was lost. Reported as delivered, so a
    /// re-sent delivery is not marked failed for a message the recipient has.
    AlreadySent,
}

/// One of a provider's error codes, as read at [`ResponseRules::error_code`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderCode {
    /// Compared as text: a JSON number `13` and a string `"13"` both read as `13`.
    pub code: String,
    pub meaning: CodeMeaning,
    /// What the operator should do, added to the detail.
    pub hint: String,
}

impl ProviderCode {
    pub fn new(code: impl Into<String>, meaning: CodeMeaning, hint: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            meaning,
            hint: hint.into(),
        }
    }
}

/// How an answer is read. The pointers are JSON pointers (RFC 6901, `/list/0/id`)
/// into the answer's body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseRules {
    /// A 2xx answer counts as accepted only if this exists (e.g. the message's id).
    pub success_if: Option<String>,
    /// A 2xx answer that has this is a failure (SMSAPI's `/error`, sent with HTTP 200).
    pub failure_if: Option<String>,
    /// The provider's id for the message, kept as [`Outcome::Delivered`]'s
    /// `provider_id`.
    pub provider_id: Option<String>,
    /// The provider's error code, looked up in `codes` and shown in the detail.
    pub error_code: Option<String>,
    /// The provider's error text, shown in the detail.
    pub error_message: Option<String>,
    /// The codes that mean something other than the HTTP status says, or that deserve
    /// a hint.
    pub codes: Vec<ProviderCode>,
}

/// One HTTP SMS gateway: where and how to send, and how to read the answer.
///
/// Plain values: the caller (herald's config) fills them in, reading the token from
/// the environment variable the config names.
#[derive(Debug, Clone)]
pub struct SmsGatewaySettings {
    /// What the gateway is called in every detail ("SMSAPI", "Twilio", a config name).
    pub name: String,
    pub method: HttpMethod,
    /// A template; placeholders are percent-encoded.
    pub url: String,
    /// Name and template of each header; a header whose value comes out empty is left
    /// out. Content-Type follows the body unless set here.
    pub headers: Vec<(String, String)>,
    pub basic_auth: Option<BasicAuth>,
    pub body: GatewayBody,
    pub token: Option<Secret>,
    /// The environment variable the token came from, only to name it in details
    /// ("check the token in SMSAPI_TOKEN").
    pub token_env: Option<String>,
    pub account: Option<String>,
    /// The sender used when a message names none; `None` leaves the choice to the
    /// provider (SMSAPI's default sender name).
    pub sender: Option<String>,
    pub response: ResponseRules,
    /// For the whole request: connecting, sending and reading the answer.
    pub timeout: Duration,
    /// Longer messages are refused before anything is sent.
    pub max_segments: usize,
}

impl SmsGatewaySettings {
    /// A gateway with nothing but a method and a URL: no headers, no body, 2xx counts
    /// as accepted; the defaults for timeout and size.
    pub fn new(name: impl Into<String>, method: HttpMethod, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            method,
            url: url.into(),
            headers: Vec::new(),
            basic_auth: None,
            body: GatewayBody::None,
            token: None,
            token_env: None,
            account: None,
            sender: None,
            response: ResponseRules::default(),
            timeout: DEFAULT_TIMEOUT,
            max_segments: DEFAULT_MAX_SEGMENTS,
        }
    }

    /// SMSAPI.pl (`POST /sms.do`, OAuth token as a bearer), after SMSAPI's official
    /// clients (smsapi-php-client's `SendSmsBag`, smsapi-go's `Sms`) and its HTTP API
    /// documentation as known when this was written:
    ///
    /// - form fields `to` (digits, country code first), `message`, `from` (a sender
    ///   name registered in the SMSAPI panel; left out when none is set, so the
    ///   account's default is used), `encoding=utf-8`, `format=json`;
    /// - `idx` = the delivery id with `check_idx=1`: SMSAPI refuses a second message
    ///   with the same idx within 24 h, so a try repeated after a lost answer does not
    ///   reach the phone twice. Delivery ids are unique only within one herald store:
    ///   stores that share an SMSAPI account need an idx prefix of letters and digits
    ///   each (set the field to `shop2x{id}`), or one's message could be taken for the
    ///   other's within those 24 h;
    /// - accepted: `{"count":1,"list":[{"id":"…","points":…,"number":"…","status":"QUEUE"}]}`;
    ///   refused: `{"error":13,"message":"…"}`, often with HTTP 200.
    ///
    /// The error codes below are from SMSAPI's published list as known when this was
    /// written (not checked against the live API): 53 is the repeated idx, 201/202
    /// its internal error and "too many requests at once", 52 too many messages to
    /// one number in a minute.
    pub fn smsapi(token: Secret, sender: Option<String>) -> Self {
        let mut s = Self::new(
            "SMSAPI",
            HttpMethod::Post,
            format!("{SMSAPI_PL_BASE}/sms.do"),
        );
        s.headers = vec![("Authorization".into(), "Bearer {token}".into())];
        s.body = GatewayBody::Form(
            [
                ("to", "{to_digits}"),
                ("message", "{text}"),
                ("from", "{sender}"),
                ("encoding", "utf-8"),
                ("format", "json"),
                ("idx", "{id}"),
                ("check_idx", "1"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        );
        s.token = Some(token);
        s.sender = sender;
        use CodeMeaning::{AlreadySent, Credentials, Permanent, Transient};
        let token_hint = "SMSAPI does not accept the token; a token needs the 'sms' scope (SMSAPI panel, API tokens)";
        s.response = ResponseRules {
            success_if: Some("/list/0/id".into()),
            failure_if: Some("/error".into()),
            provider_id: Some("/list/0/id".into()),
            error_code: Some("/error".into()),
            error_message: Some("/message".into()),
            codes: vec![
                ProviderCode::new(
                    "11",
                    Permanent,
                    "the text is too long or has characters SMSAPI will not send; check the template's SMS part",
                ),
                ProviderCode::new(
                    "13",
                    Permanent,
                    "SMSAPI found no valid number: check the contact's phone number",
                ),
                ProviderCode::new(
                    "14",
                    Permanent,
                    "the sender name is not registered for this account: register it in the SMSAPI panel (Sender names) or change the sender",
                ),
                ProviderCode::new(
                    "52",
                    Transient,
                    "too many messages to this number in a short time; herald tries again later",
                ),
                ProviderCode::new(
                    "53",
                    AlreadySent,
                    "SMSAPI already sent a message with this idx (the delivery id) in the last 24 h",
                ),
                ProviderCode::new("101", Credentials, token_hint),
                ProviderCode::new("102", Credentials, token_hint),
                ProviderCode::new("authorization_failed", Credentials, token_hint),
                ProviderCode::new(
                    "103",
                    Permanent,
                    "the SMSAPI account has no points left: top it up, then resend the failed deliveries",
                ),
                ProviderCode::new(
                    "105",
                    Permanent,
                    "SMSAPI refuses requests from this server's IP address: add it to the account's allowed IPs",
                ),
                ProviderCode::new(
                    "201",
                    Transient,
                    "SMSAPI reports an internal error; herald tries again later",
                ),
                ProviderCode::new(
                    "202",
                    Transient,
                    "SMSAPI got too many requests at once; herald tries again later",
                ),
            ],
        };
        s
    }

    /// Twilio Programmable Messaging (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`
    /// with HTTP Basic auth, account SID and auth token), after Twilio's API reference:
    ///
    /// - form fields `To` (E.164, with `+`), `From` (a Twilio number or an alphanumeric
    ///   sender where the country allows it), `Body`;
    /// - accepted: HTTP 201 with the message's `sid`; refused: 4xx with
    ///   `{"code":21211,"message":"…","more_info":"…","status":400}`.
    ///
    /// Twilio takes no idempotency key for new messages, so a try repeated after a lost
    /// answer (a timeout) can send the SMS twice. The codes below are from Twilio's
    /// error dictionary as known when this was written.
    pub fn twilio(account_sid: impl Into<String>, token: Secret, from: impl Into<String>) -> Self {
        let mut s = Self::new(
            "Twilio",
            HttpMethod::Post,
            format!("{TWILIO_BASE}/2010-04-01/Accounts/{{account}}/Messages.json"),
        );
        s.basic_auth = Some(BasicAuth {
            user: "{account}".into(),
            password: "{token}".into(),
        });
        s.body = GatewayBody::Form(
            [("To", "{to}"), ("From", "{sender}"), ("Body", "{text}")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        );
        s.token = Some(token);
        s.account = Some(account_sid.into());
        s.sender = Some(from.into());
        use CodeMeaning::{Credentials, Permanent};
        s.response = ResponseRules {
            success_if: Some("/sid".into()),
            failure_if: None,
            provider_id: Some("/sid".into()),
            error_code: Some("/code".into()),
            error_message: Some("/message".into()),
            codes: vec![
                ProviderCode::new(
                    "20003",
                    Credentials,
                    "Twilio does not accept the account SID and auth token (compare them with the Twilio console)",
                ),
                ProviderCode::new(
                    "21211",
                    Permanent,
                    "Twilio considers the number invalid: check the contact's phone number",
                ),
                ProviderCode::new(
                    "21614",
                    Permanent,
                    "the number is not a mobile number: check the contact's phone number",
                ),
                ProviderCode::new(
                    "21610",
                    Permanent,
                    "the recipient replied STOP to this sender; Twilio will not send to them until they reply START",
                ),
                ProviderCode::new(
                    "21408",
                    Permanent,
                    "sending to this country is not enabled: allow it in the Twilio console (Messaging geographic permissions)",
                ),
                ProviderCode::new(
                    "21606",
                    Permanent,
                    "the From number cannot send SMS for this account: use one of the account's SMS-capable numbers",
                ),
                ProviderCode::new(
                    "21212",
                    Permanent,
                    "the From number or sender name is not valid: check the sender",
                ),
            ],
        };
        s
    }

    /// Points the gateway at another host, keeping the path: `http://127.0.0.1:8080`
    /// in tests, SMSAPI's [`SMSAPI_COM_BASE`] for international accounts, a proxy.
    pub fn with_base_url(mut self, base: &str) -> Self {
        let base = base.trim_end_matches('/');
        let path_start = self
            .url
            .find("://")
            .map(|scheme_end| {
                let host_start = scheme_end + 3;
                self.url[host_start..]
                    .find('/')
                    .map_or(self.url.len(), |p| host_start + p)
            })
            .unwrap_or(0);
        self.url = format!("{base}{}", &self.url[path_start..]);
        self
    }
}

/// Why a gateway cannot be made from its settings. Each is a mistake in the settings,
/// found before any SMS is sent.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(
        "SMS gateway {gateway}: {placeholder} in the {place} is not a placeholder herald fills; use {{to}}, {{to_digits}}, {{text}}, {{sender}}, {{id}}, {{message_id}}, {{token}} or {{account}} (write {{{{ and }}}} for a literal brace)"
    )]
    UnknownPlaceholder {
        gateway: String,
        place: String,
        placeholder: String,
    },
    #[error(
        "SMS gateway {gateway}: the {place} has a '{{' that is not closed; close the placeholder or write {{{{ for a literal brace"
    )]
    Unclosed { gateway: String, place: String },
    #[error("SMS gateway {gateway}: the {place} uses {{{placeholder}}} but {fix}")]
    MissingValue {
        gateway: String,
        place: String,
        placeholder: &'static str,
        fix: &'static str,
    },
    #[error(
        "SMS gateway {gateway}: '{url}' is not usable as an http(s) URL ({reason}); write it like https://api.example.com/sms"
    )]
    Url {
        gateway: String,
        url: String,
        reason: String,
    },
    #[error(
        "SMS gateway {gateway}: '{name}' cannot be an HTTP header name; use letters, digits and '-' (e.g. X-Api-Key)"
    )]
    HeaderName { gateway: String, name: String },
    #[error(
        "SMS gateway {gateway}: max_segments is 0, so every SMS would be refused; set 1 or more"
    )]
    NoSegments { gateway: String },
    #[error("SMS gateway {gateway}: the HTTP client could not be made: {reason}")]
    Client { gateway: String, reason: String },
}

/// A placeholder, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    To,
    ToDigits,
    Text,
    Sender,
    Id,
    MessageId,
    Token,
    Account,
}

impl Field {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "to" => Self::To,
            "to_digits" => Self::ToDigits,
            "text" => Self::Text,
            "sender" => Self::Sender,
            "id" => Self::Id,
            "message_id" => Self::MessageId,
            "token" => Self::Token,
            "account" => Self::Account,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Field(Field),
}

/// A template split into literal text and placeholders once, when the gateway is made.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template(Vec<Piece>);

impl Template {
    fn parse(src: &str, gateway: &str, place: &str) -> Result<Self, GatewayError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = src;
        while let Some(i) = rest.find(['{', '}']) {
            literal.push_str(&rest[..i]);
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                literal.push_str(&tail[..1]);
                rest = &tail[2..];
            } else if let Some(after) = tail.strip_prefix('}') {
                // A lone closing brace cannot start anything: it is text.
                literal.push('}');
                rest = after;
            } else {
                let Some(end) = tail.find('}') else {
                    return Err(GatewayError::Unclosed {
                        gateway: gateway.to_owned(),
                        place: place.to_owned(),
                    });
                };
                let name = &tail[1..end];
                let field = Field::parse(name).ok_or_else(|| GatewayError::UnknownPlaceholder {
                    gateway: gateway.to_owned(),
                    place: place.to_owned(),
                    placeholder: tail[..=end].to_owned(),
                })?;
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Field(field));
                rest = &tail[end + 1..];
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Self(pieces))
    }

    fn uses(&self, field: Field) -> bool {
        self.0.contains(&Piece::Field(field))
    }

    /// Fills the placeholders, passing each value through `encode`; literal text is
    /// kept as written.
    fn render(&self, values: &Values<'_>, encode: fn(&str, &mut String)) -> String {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                Piece::Field(f) => encode(values.get(*f), &mut out),
            }
        }
        out
    }
}

/// The values of one message's placeholders.
struct Values<'a> {
    to: &'a str,
    text: &'a str,
    sender: &'a str,
    id: String,
    message_id: &'a str,
    token: &'a str,
    account: &'a str,
}

impl Values<'_> {
    fn get(&self, field: Field) -> &str {
        match field {
            Field::To => self.to,
            Field::ToDigits => self.to.trim_start_matches('+'),
            Field::Text => self.text,
            Field::Sender => self.sender,
            Field::Id => &self.id,
            Field::MessageId => self.message_id,
            Field::Token => self.token,
            Field::Account => self.account,
        }
    }
}

fn verbatim(s: &str, out: &mut String) {
    out.push_str(s);
}

/// Percent-encoding for a URL: everything but RFC 3986's unreserved characters, so a
/// value stays one path segment or one query value whatever it holds (`+`, `&`, `/`).
fn url_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// `application/x-www-form-urlencoded` as browsers write it (WHATWG URL standard):
/// space as `+`, and everything but letters, digits and `*-._` percent-encoded.
fn form_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') => {
                out.push(char::from(b));
            }
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
}

/// A JSON body template: the strings are templates, everything else stays.
#[derive(Debug, Clone)]
enum JsonTemplate {
    Fixed(serde_json::Value),
    Text(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    fn parse(v: &serde_json::Value, gateway: &str) -> Result<Self, GatewayError> {
        use serde_json::Value;
        Ok(match v {
            Value::String(s) => Self::Text(Template::parse(s, gateway, "JSON body")?),
            Value::Array(items) => Self::Array(
                items
                    .iter()
                    .map(|i| Self::parse(i, gateway))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(members) => Self::Object(
                members
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), Self::parse(v, gateway)?)))
                    .collect::<Result<_, GatewayError>>()?,
            ),
            other => Self::Fixed(other.clone()),
        })
    }

    fn templates<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            Self::Fixed(_) => {}
            Self::Text(t) => out.push(t),
            Self::Array(items) => items.iter().for_each(|i| i.templates(out)),
            Self::Object(members) => members.iter().for_each(|(_, v)| v.templates(out)),
        }
    }

    fn render(&self, values: &Values<'_>) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Self::Fixed(v) => v.clone(),
            Self::Text(t) => Value::String(t.render(values, verbatim)),
            Self::Array(items) => Value::Array(items.iter().map(|i| i.render(values)).collect()),
            Self::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.clone(), v.render(values)))
                    .filter(|(_, v)| v.as_str() != Some(""))
                    .collect(),
            ),
        }
    }
}

#[derive(Debug, Clone)]
enum BodyTemplate {
    None,
    Form(Vec<(String, Template)>),
    Json(JsonTemplate),
}

/// A header to send: its name, its template, and whether it carries the token (then
/// it is marked sensitive, so it never shows in a Debug print of the request).
#[derive(Debug, Clone)]
struct HeaderTemplate {
    name: HeaderName,
    value: Template,
    secret: bool,
}

/// The settings' templates, parsed.
#[derive(Debug, Clone)]
struct Compiled {
    url: Template,
    headers: Vec<HeaderTemplate>,
    basic_auth: Option<(Template, Template)>,
    body: BodyTemplate,
    /// `{id}` goes to the provider, which can then refuse a repeated message.
    idempotent: bool,
    /// The URL as configured, without its query (which may carry a key): what details
    /// name.
    shown_url: String,
}

impl Compiled {
    fn new(s: &SmsGatewaySettings) -> Result<Self, GatewayError> {
        let g = s.name.as_str();
        let url = Template::parse(&s.url, g, "url")?;
        let headers = s
            .headers
            .iter()
            .map(|(name, value)| {
                let value = Template::parse(value, g, &format!("header {name}"))?;
                let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    GatewayError::HeaderName {
                        gateway: g.to_owned(),
                        name: name.clone(),
                    }
                })?;
                Ok(HeaderTemplate {
                    secret: value.uses(Field::Token) || name == header::AUTHORIZATION,
                    name,
                    value,
                })
            })
            .collect::<Result<Vec<_>, GatewayError>>()?;
        let basic_auth = match &s.basic_auth {
            Some(b) => Some((
                Template::parse(&b.user, g, "basic auth user")?,
                Template::parse(&b.password, g, "basic auth password")?,
            )),
            None => None,
        };
        let body = match &s.body {
            GatewayBody::None => BodyTemplate::None,
            GatewayBody::Form(fields) => BodyTemplate::Form(
                fields
                    .iter()
                    .map(|(k, v)| {
                        Ok((
                            k.clone(),
                            Template::parse(v, g, &format!("form field {k}"))?,
                        ))
                    })
                    .collect::<Result<_, GatewayError>>()?,
            ),
            GatewayBody::Json(v) => BodyTemplate::Json(JsonTemplate::parse(v, g)?),
        };
        let mut all: Vec<(&Template, String)> = vec![(&url, "url".to_owned())];
        for h in &headers {
            all.push((&h.value, format!("header {}", h.name)));
        }
        if let Some((user, password)) = &basic_auth {
            all.push((user, "basic auth user".to_owned()));
            all.push((password, "basic auth password".to_owned()));
        }
        match &body {
            BodyTemplate::None => {}
            BodyTemplate::Form(fields) => {
                for (k, t) in fields {
                    all.push((t, format!("form field {k}")));
                }
            }
            BodyTemplate::Json(j) => {
                let mut ts = Vec::new();
                j.templates(&mut ts);
                all.extend(ts.into_iter().map(|t| (t, "JSON body".to_owned())));
            }
        }
        for (t, place) in &all {
            let missing = |placeholder, fix| GatewayError::MissingValue {
                gateway: g.to_owned(),
                place: place.clone(),
                placeholder,
                fix,
            };
            if t.uses(Field::Token) && s.token.is_none() {
                return Err(missing(
                    "token",
                    "no token was given; set the variable that holds the gateway's token",
                ));
            }
            if t.uses(Field::Account) && s.account.is_none() {
                return Err(missing(
                    "account",
                    "no account was given; set the gateway's account",
                ));
            }
        }
        let idempotent = all.iter().any(|(t, _)| t.uses(Field::Id));
        let shown_url = s.url.split('?').next().unwrap_or_default().to_owned();
        Ok(Self {
            url,
            headers,
            basic_auth,
            body,
            idempotent,
            shown_url,
        })
    }
}

/// An [`SmsChannel`] that sends through one HTTP gateway, with one connection pool
/// (a `reqwest::Client`) kept for all its messages.
#[derive(Debug)]
pub struct SmsGateway {
    settings: SmsGatewaySettings,
    compiled: Compiled,
    client: reqwest::Client,
}

/// A request, ready to send.
struct Prepared {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: HeaderMap,
    basic_auth: Option<(String, String)>,
    body: Option<Vec<u8>>,
}

/// The answer, as far as it was read.
struct Answer {
    status: reqwest::StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl SmsGateway {
    /// Checks the settings (templates, URL, header names, values the templates need)
    /// and makes the HTTP client.
    pub fn new(settings: SmsGatewaySettings) -> Result<Self, GatewayError> {
        // rustls needs one process-wide crypto provider; herald uses ring. Installing
        // it twice is harmless (the second call is refused), so every channel asks.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let g = settings.name.clone();
        if settings.max_segments == 0 {
            return Err(GatewayError::NoSegments { gateway: g });
        }
        let compiled = Compiled::new(&settings)?;
        // The URL must parse whatever the message: check it with sample values.
        let sample = Values {
            to: "+48601234567",
            text: "sample",
            sender: "sender",
            id: "1".to_owned(),
            message_id: "1",
            token: "token",
            account: settings.account.as_deref().unwrap_or(""),
        };
        let url_error = |reason: String| GatewayError::Url {
            gateway: g.clone(),
            url: compiled.shown_url.clone(),
            reason,
        };
        let url = reqwest::Url::parse(&compiled.url.render(&sample, url_encode))
            .map_err(|e| url_error(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(url_error(format!("the scheme is {}", url.scheme())));
        }
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            // An API that moved answers 3xx; following it would turn a POST into a GET
            // and lose the message, so the redirect is reported instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("herald/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GatewayError::Client {
                gateway: g.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            settings,
            compiled,
            client,
        })
    }

    pub fn settings(&self) -> &SmsGatewaySettings {
        &self.settings
    }

    /// Sends one SMS and says what came of it.
    pub async fn send(&self, delivery_id: i64, msg: &SmsMessage) -> Outcome {
        let outcome = self.attempt(delivery_id, msg).await;
        self.scrubbed(outcome)
    }

    async fn attempt(&self, delivery_id: i64, msg: &SmsMessage) -> Outcome {
        let size = sms_segments(&msg.body);
        if size.segments > self.settings.max_segments {
            return Outcome::Permanent {
                detail: too_long(&msg.body, size, self.settings.max_segments),
            };
        }
        let prepared = match self.prepare(delivery_id, msg) {
            Ok(p) => p,
            Err(detail) => return Outcome::Permanent { detail },
        };
        let answer = match self.exchange(prepared).await {
            Ok(a) => a,
            Err(outcome) => return outcome,
        };
        self.judge(&answer, msg, size)
    }

    fn prepare(&self, delivery_id: i64, msg: &SmsMessage) -> Result<Prepared, String> {
        let s = &self.settings;
        let c = &self.compiled;
        let values = Values {
            to: msg.to.as_str(),
            text: &msg.body,
            sender: msg.sender.as_deref().or(s.sender.as_deref()).unwrap_or(""),
            id: delivery_id.to_string(),
            message_id: &msg.id,
            token: s.token.as_ref().map_or("", Secret::expose),
            account: s.account.as_deref().unwrap_or(""),
        };
        let url = reqwest::Url::parse(&c.url.render(&values, url_encode)).map_err(|e| {
            format!(
                "the {} URL {} does not come out as a URL for this message ({e}); check the url template",
                s.name, c.shown_url
            )
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let body = match &c.body {
            BodyTemplate::None => None,
            BodyTemplate::Form(fields) => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                let mut out = String::new();
                for (name, t) in fields {
                    let value = t.render(&values, verbatim);
                    if value.is_empty() {
                        continue;
                    }
                    if !out.is_empty() {
                        out.push('&');
                    }
                    form_encode(name, &mut out);
                    out.push('=');
                    form_encode(&value, &mut out);
                }
                Some(out.into_bytes())
            }
            BodyTemplate::Json(j) => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                Some(serde_json::to_vec(&j.render(&values)).unwrap_or_default())
            }
        };
        for h in &c.headers {
            let value = h.value.render(&values, verbatim);
            if value.is_empty() {
                continue;
            }
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                format!(
                    "header {} of the {} request would hold a line break or another control character (from the message's text?); headers are one line: move the placeholder to the body",
                    h.name, s.name
                )
            })?;
            value.set_sensitive(h.secret);
            headers.insert(h.name.clone(), value);
        }
        let basic_auth = c.basic_auth.as_ref().map(|(user, password)| {
            (
                user.render(&values, verbatim),
                password.render(&values, verbatim),
            )
        });
        Ok(Prepared {
            method: match s.method {
                HttpMethod::Get => reqwest::Method::GET,
                HttpMethod::Post => reqwest::Method::POST,
            },
            url,
            headers,
            basic_auth,
            body,
        })
    }

    /// Sends the request and reads the answer (up to [`MAX_ANSWER`] bytes); a failure
    /// on the way is already an outcome.
    async fn exchange(&self, p: Prepared) -> Result<Answer, Outcome> {
        let mut request = self.client.request(p.method, p.url).headers(p.headers);
        if let Some((user, password)) = p.basic_auth {
            request = request.basic_auth(user, Some(password));
        }
        if let Some(body) = p.body {
            request = request.body(body);
        }
        let mut response = request.send().await.map_err(|e| self.failed(e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while body.len() < MAX_ANSWER {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return Err(self.failed(e)),
            }
        }
        body.truncate(MAX_ANSWER);
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// A request that got no (whole) answer: always worth another try.
    fn failed(&self, e: reqwest::Error) -> Outcome {
        let s = &self.settings;
        let again = if self.compiled.idempotent {
            format!(
                "herald tries again later; if {} did get the message, it refuses the repeat by its id",
                s.name
            )
        } else {
            format!(
                "herald tries again later; if {} did get the message, the next try sends it a second time",
                s.name
            )
        };
        let detail = if e.is_timeout() {
            format!(
                "{} did not answer within {} s ({}); {again}",
                s.name,
                s.timeout.as_secs_f32(),
                self.compiled.shown_url
            )
        } else if e.is_connect() {
            format!(
                "cannot reach {} at {}: {}; check the network and the url, herald tries again later",
                s.name,
                self.compiled.shown_url,
                error_chain(e)
            )
        } else {
            format!(
                "the request to {} ({}) broke off: {}; {again}",
                s.name,
                self.compiled.shown_url,
                error_chain(e)
            )
        };
        Outcome::Transient { detail }
    }

    /// Reads the answer into an outcome.
    fn judge(&self, a: &Answer, msg: &SmsMessage, size: crate::SmsSize) -> Outcome {
        let s = &self.settings;
        let rules = &s.response;
        let json: Option<serde_json::Value> = serde_json::from_slice(&a.body).ok();
        let at = |pointer: &Option<String>| -> Option<String> {
            let v = json.as_ref()?.pointer(pointer.as_deref()?)?;
            Some(match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => return None,
                other => other.to_string(),
            })
        };
        let code = at(&rules.error_code);
        let message = at(&rules.error_message);
        let status = a.status;
        let http = match status.canonical_reason() {
            Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
            None => format!("HTTP {}", status.as_u16()),
        };
        // What the provider said, for failure details: its code and message, else
        // the start of the answer.
        let said = {
            let mut said = http.clone();
            match (&code, &message) {
                (Some(c), Some(m)) => {
                    let _ = write!(said, ", code {c}: {m}");
                }
                (Some(c), None) => {
                    let _ = write!(said, ", code {c}");
                }
                (None, Some(m)) => {
                    let _ = write!(said, ": {m}");
                }
                (None, None) if !a.body.is_empty() => {
                    let _ = write!(said, ": {}", quote(&a.body));
                }
                (None, None) => {}
            }
            said
        };
        let known = code
            .as_deref()
            .and_then(|c| rules.codes.iter().find(|pc| pc.code == c));
        let failed_in_body = status.is_success()
            && rules
                .failure_if
                .as_deref()
                .is_some_and(|p| json.as_ref().and_then(|j| j.pointer(p)).is_some());

        if status.is_success() && !failed_in_body {
            if let Some(p) = &rules.success_if
                && json.as_ref().and_then(|j| j.pointer(p)).is_none()
            {
                return Outcome::Permanent {
                    detail: format!(
                        "{} answered ({said}) without {p}, which an accepted SMS has, so herald cannot tell whether it went out; the url may point at something other than the SMS API: check it, and the provider's message log before resending",
                        s.name
                    ),
                };
            }
            let provider_id = at(&rules.provider_id);
            let mut detail = format!("accepted by {} ({http})", s.name);
            if let Some(id) = &provider_id {
                let _ = write!(detail, " as {id}");
            }
            let _ = write!(detail, ": {}", describe(size));
            return Outcome::Delivered {
                provider_id,
                detail,
            };
        }

        if let Some(pc) = known {
            match pc.meaning {
                CodeMeaning::AlreadySent => {
                    return Outcome::Delivered {
                        provider_id: None,
                        detail: format!(
                            "{} answered ({said}): {}; an earlier try went out and its answer was lost, so it is not sent again",
                            s.name, pc.hint
                        ),
                    };
                }
                CodeMeaning::Transient => {
                    return Outcome::Transient {
                        detail: format!("{} answered ({said}): {}", s.name, pc.hint),
                    };
                }
                CodeMeaning::Permanent => {
                    return Outcome::Permanent {
                        detail: format!(
                            "{} refused the SMS to {} ({said}): {}",
                            s.name, msg.to, pc.hint
                        ),
                    };
                }
                CodeMeaning::Credentials => {
                    return Outcome::Permanent {
                        detail: format!(
                            "{} refused the credentials ({said}): {}; {}",
                            s.name,
                            pc.hint,
                            self.check_credentials()
                        ),
                    };
                }
            }
        }

        if failed_in_body {
            return Outcome::Permanent {
                detail: format!(
                    "{} refused the SMS to {} ({said}); see the provider's documentation of the code, fix the cause and resend",
                    s.name, msg.to
                ),
            };
        }
        match status.as_u16() {
            429 => {
                let wait = a
                    .headers
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| format!(" (it asks to wait {v} s)"))
                    .unwrap_or_default();
                Outcome::Transient {
                    detail: format!(
                        "{} answered ({said}){wait}: herald sends faster than the account allows; it tries again later (lower the sending rate if this keeps happening)",
                        s.name
                    ),
                }
            }
            500..=599 => Outcome::Transient {
                detail: format!(
                    "{} answered ({said}): the gateway has trouble of its own; herald tries again later",
                    s.name
                ),
            },
            401 | 403 => Outcome::Permanent {
                detail: format!(
                    "{} refused the credentials ({said}): {}",
                    s.name,
                    self.check_credentials()
                ),
            },
            300..=399 => {
                let to = a
                    .headers
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("?");
                Outcome::Permanent {
                    detail: format!(
                        "{} answered {http} and points elsewhere ({to}); set the url to the API's current address",
                        s.name
                    ),
                }
            }
            404 | 405 => Outcome::Permanent {
                detail: format!(
                    "{} answered ({said}): {} is not the SMS API here; check the url and the method",
                    s.name, self.compiled.shown_url
                ),
            },
            _ => Outcome::Permanent {
                detail: format!(
                    "{} refused the SMS to {} ({said}); fix the cause and resend",
                    s.name, msg.to
                ),
            },
        }
    }

    fn check_credentials(&self) -> String {
        let what = if self.settings.account.is_some() {
            "the account and the token"
        } else {
            "the token"
        };
        match &self.settings.token_env {
            Some(var) => {
                format!("check {what} (in the variable {var}), then resend")
            }
            None => format!("check {what}, then resend"),
        }
    }

    /// The outcome with every trace of the token replaced by `****`, whatever put it
    /// there (a provider echoing the request, an error quoting a URL).
    fn scrubbed(&self, outcome: Outcome) -> Outcome {
        let Some(token) = self.settings.token.as_ref().map(Secret::expose) else {
            return outcome;
        };
        if token.is_empty() {
            return outcome;
        }
        let mut forms = vec![token.to_owned()];
        for encode in [url_encode, form_encode] {
            let mut s = String::new();
            encode(token, &mut s);
            forms.push(s);
        }
        let escaped = serde_json::to_string(token).unwrap_or_default();
        forms.push(escaped.trim_matches('"').to_owned());
        let scrub = |mut detail: String| {
            for f in &forms {
                if !f.is_empty() && detail.contains(f.as_str()) {
                    detail = detail.replace(f.as_str(), "****");
                }
            }
            detail
        };
        match outcome {
            Outcome::Delivered {
                provider_id,
                detail,
            } => Outcome::Delivered {
                provider_id: provider_id.map(scrub),
                detail: scrub(detail),
            },
            Outcome::Transient { detail } => Outcome::Transient {
                detail: scrub(detail),
            },
            Outcome::Permanent { detail } => Outcome::Permanent {
                detail: scrub(detail),
            },
        }
    }
}

impl SmsChannel for SmsGateway {
    fn send_sms<'a>(&'a self, delivery_id: i64, msg: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(self.send(delivery_id, msg))
    }
}

/// An error and its causes, on one line ("error sending request: client error
/// (Connect): tcp connect error: Connection refused"), without the URL.
fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// The start of an answer that is not what was expected, on one line.
fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one_line = one_line.trim();
    match one_line.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line.to_owned(),
    }
}

fn encoding_name(e: SmsEncoding) -> &'static str {
    match e {
        SmsEncoding::Gsm7 => "GSM-7",
        SmsEncoding::Ucs2 => "UCS-2",
    }
}

/// "2 segments, UCS-2 (134 units)", as the Delivered detail says it.
fn describe(size: crate::SmsSize) -> String {
    format!(
        "{} segment{}, {} ({} {})",
        size.segments,
        if size.segments == 1 { "" } else { "s" },
        encoding_name(size.encoding),
        size.units,
        match size.encoding {
            SmsEncoding::Gsm7 => "septets",
            SmsEncoding::Ucs2 => "units",
        }
    )
}

fn too_long(body: &str, size: crate::SmsSize, max: usize) -> String {
    let why = match (size.encoding, first_non_gsm7(body)) {
        (SmsEncoding::Ucs2, Some(c)) => format!(
            "it is {} UCS-2 units: '{c}' and every other character outside GSM-7 (Polish, Czech and Romanian diacritics, emoji) switch the whole message to UCS-2, 67 characters a segment instead of 153; write the SMS part without diacritics, shorten it",
            size.units
        ),
        _ => format!(
            "it is {} GSM-7 septets, 153 a segment; shorten the template's SMS part",
            size.units
        ),
    };
    format!(
        "the SMS needs {} segments, more than max_segments = {max}, so it was not sent: {why}, or raise max_segments",
        size.segments
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values<'static> {
        Values {
            to: "+48601234567",
            text: "a&b c+d/ł\"\n",
            sender: "",
            id: "9".to_owned(),
            message_id: "m-9",
            token: "tok",
            account: "AC1",
        }
    }

    #[test]
    fn templates_fill_placeholders_and_keep_escaped_braces() {
        let t = Template::parse("{{x}} {to_digits}/{id}}", "g", "url").unwrap();
        assert_eq!(t.render(&values(), verbatim), "{x} 48601234567/9}");
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_refused_with_the_place() {
        let e = Template::parse("/x/{recipent}", "G", "url").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("{recipent} in the url"), "{text}");
        assert!(text.contains("{to_digits}"), "{text}");
        let e = Template::parse("/x/{to", "G", "header X").unwrap_err();
        assert!(e.to_string().contains("header X"), "{e}");
    }

    #[test]
    fn url_and_form_encodings_differ_where_the_standards_do() {
        let mut u = String::new();
        url_encode("+48 a&b/ł~", &mut u);
        assert_eq!(u, "%2B48%20a%26b%2F%C5%82~");
        let mut f = String::new();
        form_encode("+48 a&b/ł*", &mut f);
        assert_eq!(f, "%2B48+a%26b%2F%C5%82*");
    }

    #[test]
    fn base_url_replaces_scheme_and_host_only() {
        let s = SmsGatewaySettings::twilio("AC1", Secret::new("t"), "+15005550006")
            .with_base_url("http://127.0.0.1:9/");
        assert_eq!(
            s.url,
            "http://127.0.0.1:9/2010-04-01/Accounts/{account}/Messages.json"
        );
        let s = SmsGatewaySettings::new("g", HttpMethod::Get, "https://h.example")
            .with_base_url("http://127.0.0.1:9");
        assert_eq!(s.url, "http://127.0.0.1:9");
    }

    #[test]
    fn a_long_answer_is_quoted_short_and_on_one_line() {
        let q = quote(format!("<html>\n{}", "x".repeat(1000)).as_bytes());
        assert!(!q.contains('\n'));
        assert_eq!(q.chars().count(), QUOTE_LIMIT + 1);
    }
}
