//! `herald.toml`: one file that says everything herald does, reviewable in git.
//!
//! Parsing is strict: an unknown key is an error naming its path and line (a typo
//! like `tempalte` must not silently fall back to a default). Every key can be
//! overridden by an environment variable: `HERALD_TENANT__TIME_ZONE` sets
//! `tenant.time_zone`, `HERALD_RULES__1__SEND=false` sets `rules[1].send`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use herald_channels::{SmtpSecurity, SmtpSettings};
use herald_core::records::TimeZoneName;
use herald_core::rules::{
    Audience, ChannelKind, Condition, DigestFor, DunningLevel, DunningRule, InvoiceRule,
    InvoiceTrigger, RecipientSpec, Rules, Scope,
};
use herald_core::values::{CustomerId, EmailAddress, Locale, OperatorId};
use jiff::civil::Time;
use serde::Deserialize;

/// A config problem, with where it is and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read {path}: {source}. Create one with `herald init`, or point --config / HERALD_CONFIG at it."
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("{path}: {key}: {message}")]
    Rule {
        path: PathBuf,
        key: String,
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub tenant: RawTenant,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub templates: RawTemplates,
    #[serde(default)]
    pub channels: RawChannels,
    #[serde(default)]
    pub pilot: RawPilot,
    #[serde(default)]
    pub dispatch: RawDispatch,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    /// Systems that receive notifications as signed JSON (`to = ["webhook:NAME"]`).
    #[serde(default)]
    pub webhooks: Vec<RawWebhook>,
    #[serde(default)]
    pub alerts: RawAlerts,
    /// More SMTP accounts by name, besides [channels.email] (the shared one): a
    /// user's own mailbox for some rules, a fallback.
    #[serde(default)]
    pub accounts: Vec<RawEmailChannel>,
    /// Working days and the send window; none: messages go out whenever due.
    pub calendar: Option<RawCalendar>,
    /// `herald serve`: where it listens and how often its jobs run.
    #[serde(default)]
    pub service: RawService,
    /// The web console `herald serve` shows at /console.
    #[serde(default)]
    pub console: RawConsole,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConsole {
    /// Session cookies only over HTTPS (or to this machine). Turn off only on a
    /// trusted network where herald is reached over plain HTTP.
    #[serde(default = "default_true")]
    pub secure_cookies: bool,
    /// A session unused this long signs out.
    #[serde(default = "default_session_idle")]
    pub session_idle: String,
}
fn default_true() -> bool {
    true
}
fn default_session_idle() -> String {
    "8h".into()
}
impl Default for RawConsole {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            session_idle: default_session_idle(),
        }
    }
}

/// The console's settings, validated.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    pub secure_cookies: bool,
    pub session_idle: std::time::Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    #[serde(default = "default_listen")]
    pub listen: String,
    /// When the planner runs: cron or "every N minutes|hours|days from HH:MM".
    #[serde(default = "default_plan_schedule")]
    pub plan: String,
    /// How often the dispatcher looks for due deliveries (retries, postponed ones).
    #[serde(default = "default_send_every")]
    pub send_every: String,
    /// How long a stop waits for messages in flight before it gives up on them
    /// (their leases expire and the next start sends them).
    #[serde(default = "default_shutdown_timeout")]
    pub shutdown_timeout: String,
    /// API requests per second a token may make (bursts of twice that).
    #[serde(default = "default_rate_limit")]
    pub rate_limit: u32,
    /// An API request that takes longer is answered 503.
    #[serde(default = "default_request_timeout")]
    pub request_timeout: String,
}
fn default_rate_limit() -> u32 {
    100
}
fn default_request_timeout() -> String {
    "60s".into()
}
impl Default for RawService {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            plan: default_plan_schedule(),
            send_every: default_send_every(),
            shutdown_timeout: default_shutdown_timeout(),
            rate_limit: default_rate_limit(),
            request_timeout: default_request_timeout(),
        }
    }
}
fn default_listen() -> String {
    "127.0.0.1:8025".into()
}
fn default_plan_schedule() -> String {
    "* * * * *".into()
}
fn default_send_every() -> String {
    "10s".into()
}
fn default_shutdown_timeout() -> String {
    "30s".into()
}

/// `herald serve`'s settings, validated.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub listen: std::net::SocketAddr,
    pub plan: String,
    pub send_every: std::time::Duration,
    pub shutdown_timeout: std::time::Duration,
    pub rate_limit: u32,
    pub request_timeout: std::time::Duration,
}

/// One side of a task reminder: `client = { before = "1d", channels = ["sms"],
/// template = "task-reminder" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTaskSide {
    pub before: String,
    pub channels: Option<Vec<String>>,
    pub template: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// `[calendar]`: `countries = ["PL"]`, `weekend = ["sat", "sun"]`,
/// `holidays = ["2026-12-31"]`, `window = "08:00-18:00"`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    #[serde(default)]
    pub countries: Vec<String>,
    pub weekend: Option<Vec<String>>,
    #[serde(default)]
    pub holidays: Vec<String>,
    pub window: Option<String>,
}

/// Who hears about failed deliveries, and how often at most.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    #[serde(default)]
    pub to: Vec<String>,
    pub every: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    pub name: String,
    pub url: String,
    /// The environment variable that holds the signing secret (HMAC-SHA256).
    pub secret_env: String,
    pub timeout: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    pub name: String,
    #[serde(default = "default_tz")]
    pub time_zone: String,
    #[serde(default = "default_locale")]
    pub locale: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub bank_account: Option<String>,
}
fn default_tz() -> String {
    "Europe/Warsaw".into()
}
fn default_locale() -> String {
    "en".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    /// Also `database = "…"`, as the issue that brought PostgreSQL names it.
    #[serde(default = "default_db", alias = "database")]
    pub url: String,
}
impl Default for RawStore {
    fn default() -> Self {
        Self { url: default_db() }
    }
}
fn default_db() -> String {
    "sqlite://herald.db".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTemplates {
    #[serde(default = "default_templates")]
    pub dir: String,
}
impl Default for RawTemplates {
    fn default() -> Self {
        Self {
            dir: default_templates(),
        }
    }
}
fn default_templates() -> String {
    "templates".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannels {
    #[serde(default)]
    pub email: RawEmailChannel,
    #[serde(default)]
    pub sms: RawSmsChannel,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEmailChannel {
    #[serde(default = "default_file")]
    pub kind: String,
    #[serde(default = "default_outbox")]
    pub dir: String,
    #[serde(default = "default_from")]
    pub from: String,
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    /// Ask for a read receipt (to reply_to, else from) in every e-mail.
    #[serde(default)]
    pub read_receipt: bool,
    // kind = "smtp" (seed 003's account settings)
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Option<String>,
    pub user: Option<String>,
    /// The environment variable that holds the password: never the password itself,
    /// so the config file can be shared and committed.
    pub password_env: Option<String>,
    pub hello_name: Option<String>,
    pub ca_file: Option<String>,
    pub per_second: Option<u32>,
    pub daily_limit: Option<u32>,
    /// Ask the server for delivery status notifications (DSN) where it offers them.
    #[serde(default)]
    pub delivery_receipt: bool,
    pub connect_timeout: Option<String>,
    pub send_timeout: Option<String>,
    /// Connections kept open to the server (providers limit them per account).
    pub connections: Option<u32>,
    /// DKIM: the selector whose public key is published at
    /// `SELECTOR._domainkey.DOMAIN`, and the private key file (RSA, PKCS#1 PEM).
    pub dkim_selector: Option<String>,
    pub dkim_key_file: Option<String>,
    /// The signing domain; the from address's domain when left out.
    pub dkim_domain: Option<String>,
    /// Write the SMTP conversation to the log, the password masked.
    #[serde(default)]
    pub debug: bool,
    /// [[accounts]] only: the account's name, for rules' `account` and `fallback`.
    pub name: Option<String>,
    /// Another account (by name) that takes a message when this one cannot
    /// (unreachable, timing out, 4xx).
    pub fallback: Option<String>,
    /// [[accounts]] only: the operators (ids) whose own mailbox this is: what goes
    /// out in their name goes through it (seed 000: "user / shared").
    #[serde(default)]
    pub operators: Vec<String>,
}
impl Default for RawEmailChannel {
    fn default() -> Self {
        Self {
            kind: default_file(),
            dir: default_outbox(),
            from: default_from(),
            from_name: None,
            reply_to: None,
            read_receipt: false,
            host: None,
            port: None,
            security: None,
            user: None,
            password_env: None,
            hello_name: None,
            ca_file: None,
            per_second: None,
            daily_limit: None,
            delivery_receipt: false,
            connect_timeout: None,
            send_timeout: None,
            connections: None,
            dkim_selector: None,
            dkim_key_file: None,
            dkim_domain: None,
            debug: false,
            name: None,
            fallback: None,
            operators: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmsChannel {
    #[serde(default = "default_file")]
    pub kind: String,
    #[serde(default = "default_outbox")]
    pub dir: String,
    pub sender: Option<String>,
    // kind = "http": a provider's HTTP API
    /// "smsapi" (SMSAPI.pl) or "twilio".
    pub preset: Option<String>,
    /// The environment variable that holds the API token (Twilio: the auth token).
    pub token_env: Option<String>,
    /// Twilio's account SID.
    pub account: Option<String>,
    /// Another host for the preset's API (SMSAPI.com instead of .pl, a proxy, a test).
    pub base_url: Option<String>,
    pub timeout: Option<String>,
    pub max_segments: Option<usize>,
    // Without a preset: any gateway, described by its request and its answer.
    /// "POST" (default) or "GET".
    pub method: Option<String>,
    pub url: Option<String>,
    /// Header name → value template (`{token}`, `{account}`, …).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// A form body: field → value template (`{to}`, `{text}`, `{sender}`, `{id}`, …).
    #[serde(default)]
    pub form: std::collections::BTreeMap<String, String>,
    /// A JSON body: a JSON text whose strings are templates.
    pub json: Option<String>,
    /// JSON pointers into the answer: present when it worked, present when it
    /// failed, the provider's message id, its error code and message.
    pub success_if: Option<String>,
    pub failure_if: Option<String>,
    pub provider_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}
impl Default for RawSmsChannel {
    fn default() -> Self {
        Self {
            kind: default_file(),
            dir: default_outbox(),
            sender: None,
            preset: None,
            token_env: None,
            account: None,
            base_url: None,
            timeout: None,
            max_segments: None,
            method: None,
            url: None,
            headers: Default::default(),
            form: Default::default(),
            json: None,
            success_if: None,
            failure_if: None,
            provider_id: None,
            error_code: None,
            error_message: None,
        }
    }
}
fn default_file() -> String {
    "file".into()
}
fn default_outbox() -> String {
    "outbox".into()
}
fn default_from() -> String {
    "notifications@herald.invalid".into()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPilot {
    /// Empty: the console may set pilot mode; a list is the file's word, and the
    /// console shows it read-only.
    #[serde(default)]
    pub customers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDispatch {
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    #[serde(default = "default_backoff")]
    pub retry_after: String,
    #[serde(default = "default_batch")]
    pub batch: u32,
    /// Deliveries in flight at once: being sent, or sent and waiting for their
    /// outcome to be stored. A crash re-sends at most this many.
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
    /// How long a node holds the deliveries it took before another node may take
    /// them over: the longest a killed node's messages wait.
    #[serde(default = "default_lease")]
    pub lease: String,
}
impl Default for RawDispatch {
    fn default() -> Self {
        Self {
            max_attempts: default_attempts(),
            retry_after: default_backoff(),
            batch: default_batch(),
            concurrency: default_concurrency(),
            lease: default_lease(),
        }
    }
}
fn default_lease() -> String {
    "5m".into()
}
/// 128: outcomes are stored in groups, one transaction for all that finished
/// together, and a group can be no larger than what is in flight. The delivery
/// benchmark's ratio to smtp-source went from a median of 49 % at 64 to 58 % at
/// 128 (BENCHMARKS.md); a crash re-sends at most this many, each with the same
/// Message-ID.
fn default_concurrency() -> u32 {
    128
}
fn default_attempts() -> u32 {
    5
}
fn default_backoff() -> String {
    "1m".into()
}
fn default_batch() -> u32 {
    500
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub on: RawTrigger,
    pub template: Option<String>,
    #[serde(default)]
    pub when: Option<String>,
    #[serde(default = "yes")]
    pub send: bool,
    pub max_delay: Option<String>,
    /// Who is told; `["customer:billing"]` when not given (nobody extra for an
    /// operator's own digest).
    pub to: Option<Vec<String>>,
    #[serde(default = "default_channels")]
    pub channels: Vec<String>,
    #[serde(default)]
    pub scope: RawScope,
    #[serde(default = "default_at")]
    pub at: String,
    #[serde(default)]
    pub levels: Vec<RawLevel>,
    /// The SMTP account (an [[accounts]] name) this rule's e-mail goes through;
    /// none: the account of the operator it goes out in the name of, else
    /// [channels.email].
    pub account: Option<String>,
    /// The operator (id) in whose name the rule's notices go out (seed 001): their
    /// own account ([[accounts]] operators) sends them.
    pub in_name_of: Option<String>,
    /// Task reminders (`on = "task.starts_at"`): the client's side and the
    /// operator's, each with its own offset, channels and template.
    pub client: Option<RawTaskSide>,
    pub operator: Option<RawTaskSide>,
    /// Event rules: payload fields that must match (`payload = { area = "hr" }`).
    #[serde(default)]
    pub payload: BTreeMap<String, RawOneOrMany>,
    /// Event rules: how long after the event the notice goes (`"0m"`).
    pub delay: Option<String>,
    /// Event rules: send the event's file with the e-mail.
    #[serde(default)]
    pub attach: bool,
    /// Batch rules (`on = "invoice.batch"`): when to queue the previous month's
    /// invoices by themselves (seed 004's "send on a schedule").
    pub schedule: Option<String>,
    /// A contact whose delivery failed for good gets the notice on their next
    /// channel of `channels`.
    #[serde(default)]
    pub channel_fallback: bool,
    /// With nobody reachable in the rule's contact roles, use any contact that is.
    #[serde(default = "yes")]
    pub any_contact: bool,
    /// Whether the rule's messages wait for the [calendar]'s working days and send
    /// window (yes by default, when there is a calendar).
    #[serde(default = "yes")]
    pub calendar: bool,
    /// Digests (`on = { digest = … }`): whether one with nothing since the previous
    /// one still goes out.
    #[serde(default)]
    pub send_empty: bool,
}
fn yes() -> bool {
    true
}
fn default_to() -> Vec<String> {
    vec!["customer:billing".into()]
}
fn default_channels() -> Vec<String> {
    vec!["email".into()]
}
fn default_at() -> String {
    "08:00".into()
}

/// `on = "invoice.issued"`, `on = { before = "invoice.due_date", offset = "3d" }`,
/// `on = { after = "invoice.due_date", offset = "10d" }`, `on = { dunning = "invoice.due_date" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawTrigger {
    Named(String),
    Table(RawTriggerTable),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTriggerTable {
    pub before: Option<String>,
    pub after: Option<String>,
    pub dunning: Option<String>,
    pub offset: Option<String>,
    /// `on = { event = "customs.IE529" }`.
    pub event: Option<String>,
    /// `on = { schedule = "0 8 1 * *" }`: seed 003's RESEND overview on a schedule.
    pub schedule: Option<String>,
    /// `on = { digest = "each-operator" | "office", schedule = "…" }`: activity
    /// counted from events (`event`, `invoice.approved` when not given).
    pub digest: Option<String>,
}

/// A payload condition's value: one, or any of several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RawOneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScope {
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub customers: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLevel {
    pub after: String,
    pub template: String,
    #[serde(default = "yes")]
    pub send: bool,
    #[serde(default)]
    pub repeat: u32,
    pub interval: Option<String>,
}

/// Tenant identity and defaults, validated.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub name: String,
    pub time_zone: TimeZoneName,
    pub locale: Locale,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub bank_account: Option<String>,
}

/// The whole configuration, validated, with paths resolved against the config
/// file's directory (so `herald --config /srv/x/herald.toml` works from anywhere).
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub tenant: Tenant,
    pub store_url: String,
    pub templates_dir: PathBuf,
    /// Where e-mail goes: the file outbox or an SMTP account.
    pub email: EmailChannelConfig,
    pub outbox_dir: PathBuf,
    pub sms_dir: PathBuf,
    pub from: EmailAddress,
    pub from_name: Option<String>,
    pub reply_to: Option<EmailAddress>,
    pub read_receipt: bool,
    pub sms_sender: Option<String>,
    /// Where SMS go: the file outbox or an HTTP gateway.
    pub sms: SmsChannelConfig,
    /// Pilot mode's customers as the config file names them; what applies is
    /// `App::live` (the console may set them when the file does not).
    pub pilot: Vec<CustomerId>,
    /// Whether the file names pilot customers: then the console cannot change them.
    pub pilot_in_file: bool,
    pub max_attempts: u32,
    pub retry_after: jiff::SignedDuration,
    pub lease: jiff::SignedDuration,
    pub batch: u32,
    pub concurrency: u32,
    pub rules: Rules,
    pub webhooks: Vec<WebhookSettings>,
    pub alerts: Alerts,
    /// Named SMTP accounts ([[accounts]]).
    pub accounts: Vec<EmailAccount>,
    /// The account [channels.email] falls back to, by name.
    pub email_fallback: Option<String>,
    /// Rules whose e-mail goes through a named account, by rule id.
    pub rule_accounts: std::collections::BTreeMap<String, String>,
    /// The operator each rule's notices go out in the name of, by rule id.
    pub rule_operators: std::collections::BTreeMap<String, OperatorId>,
    /// Operators' own accounts: account name by operator id.
    pub operator_accounts: std::collections::BTreeMap<OperatorId, String>,
    /// Working days and the send window ([calendar]); `None`: no calendar.
    pub calendar: Option<herald_core::calendar::BusinessCalendar>,
    /// Batch rules that queue the previous month's invoices on a schedule, by id.
    pub batch_schedules: std::collections::BTreeMap<String, String>,
    /// Rules that send whenever due, calendar or not (`calendar = false`).
    pub rules_off_calendar: std::collections::BTreeSet<String>,
    pub service: ServiceSettings,
    pub console: ConsoleSettings,
}

impl Config {
    /// The named account an e-mail of `rule` goes through: the rule's own, else the
    /// account of the operator it goes out in the name of (`operator`, else the
    /// rule's), else none (the shared account).
    pub fn account_for(&self, rule: &str, operator: Option<&OperatorId>) -> Option<&str> {
        if let Some(a) = self.rule_accounts.get(rule) {
            return Some(a);
        }
        operator
            .or_else(|| self.rule_operators.get(rule))
            .and_then(|o| self.operator_accounts.get(o))
            .map(String::as_str)
    }
}

/// A named SMTP account with the sender it writes as.
#[derive(Debug, Clone)]
pub struct EmailAccount {
    pub name: String,
    pub settings: SmtpSettings,
    pub from: EmailAddress,
    pub from_name: Option<String>,
    pub reply_to: Option<EmailAddress>,
    pub fallback: Option<String>,
}

/// The operator alert: one digest of failed deliveries to these addresses, at most
/// once per `every`. No addresses: no alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alerts {
    pub to: Vec<EmailAddress>,
    pub every: jiff::SignedDuration,
}

/// A webhook: where notifications are POSTed and how they are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    pub name: String,
    pub url: String,
    pub secret_env: String,
    pub timeout: std::time::Duration,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

/// Parses TOML text strictly into `T`, reporting the key path and the line.
fn parse_strict<T: for<'de> Deserialize<'de>>(text: &str, path: &Path) -> Result<T, ConfigError> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| ConfigError::Invalid {
        path: path.to_owned(),
        line: e.span().map_or(1, |s| line_of(text, s.start)),
        key: "(syntax)".into(),
        message: e.message().to_owned(),
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        ConfigError::Invalid {
            path: path.to_owned(),
            line: inner.span().map_or(1, |s| line_of(text, s.start)),
            key: if key == "." {
                "(top level)".into()
            } else {
                key
            },
            message: inner.message().replace('`', "'"),
        }
    })
}

/// Applies `HERALD_A__B__C=value` overrides onto the parsed TOML table. Values are
/// read as TOML when they parse as such (`false`, `3`, `["a"]`), else as strings.
fn apply_env(
    table: &mut toml::Table,
    vars: &BTreeMap<String, String>,
) -> Result<Vec<String>, ConfigError> {
    let mut applied = Vec::new();
    for (var, raw) in vars {
        let Some(rest) = var.strip_prefix("HERALD_") else {
            continue;
        };
        if !rest.contains("__") && matches!(rest, "CONFIG" | "LOG" | "NOW") {
            continue; // the binary's own variables, not config keys
        }
        if !rest.contains("__") && !matches!(rest, "STORE" | "TENANT") {
            continue;
        }
        let segments: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(raw.clone()));
        set_path(table, &segments, value).map_err(|message| ConfigError::Env {
            var: var.clone(),
            message,
        })?;
        applied.push(var.clone());
    }
    Ok(applied)
}

fn set_path(table: &mut toml::Table, segs: &[String], value: toml::Value) -> Result<(), String> {
    let (first, rest) = segs.split_first().ok_or("empty key")?;
    if rest.is_empty() {
        table.insert(first.clone(), value);
        return Ok(());
    }
    let entry = table
        .entry(first.clone())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    set_value_path(entry, rest, value, first)
}

fn set_value_path(
    v: &mut toml::Value,
    segs: &[String],
    value: toml::Value,
    at: &str,
) -> Result<(), String> {
    match v {
        toml::Value::Table(t) => set_path(t, segs, value),
        toml::Value::Array(a) => {
            let (idx, rest) = segs.split_first().ok_or("empty key")?;
            let i: usize = idx.parse().map_err(|_| {
                format!("'{at}' is a list: the next part must be an index, not '{idx}'")
            })?;
            let len = a.len();
            let item = a
                .get_mut(i)
                .ok_or_else(|| format!("'{at}' has {len} entries; index {i} does not exist"))?;
            if rest.is_empty() {
                *item = value;
                Ok(())
            } else {
                set_value_path(item, rest, value, idx)
            }
        }
        _ => Err(format!(
            "'{at}' is a single value, it has no '{}'",
            segs.join(".")
        )),
    }
}

fn parse_days(s: &str, key: &str, path: &Path) -> Result<u32, ConfigError> {
    let bad = |m: String| ConfigError::Rule {
        path: path.to_owned(),
        key: key.to_owned(),
        message: m,
    };
    let span: jiff::Span = s.trim().parse().map_err(|e| {
        bad(format!(
            "'{s}' is not a duration like \"3d\" or \"14 days\": {e}"
        ))
    })?;
    if span.get_hours() != 0
        || span.get_minutes() != 0
        || span.get_seconds() != 0
        || span.get_months() != 0
        || span.get_years() != 0
    {
        return Err(bad(format!(
            "'{s}': this setting counts whole days; write it as e.g. \"3d\""
        )));
    }
    let days = i64::from(span.get_days()) + i64::from(span.get_weeks()) * 7;
    u32::try_from(days).map_err(|_| bad(format!("'{s}' must not be negative")))
}

/// Where SMS go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsChannelConfig {
    /// JSON files in the outbox folder (the embedded default).
    File,
    /// A provider's HTTP API through one of the presets.
    Http(SmsGatewayConfig),
}

/// An SMS gateway as configured; the token is read from `token_env` when herald
/// starts sending, so commands that send nothing do not need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsGatewayConfig {
    pub preset: SmsPreset,
    pub token_env: String,
    pub account: Option<String>,
    pub sender: Option<String>,
    pub base_url: Option<String>,
    pub timeout: Option<std::time::Duration>,
    pub max_segments: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsPreset {
    Smsapi,
    Twilio,
    /// Any gateway: the request and how to read its answer, from the config.
    Generic(Box<GenericGateway>),
}

impl SmsPreset {
    /// How messages name the gateway: the provider, or the generic gateway's URL.
    pub fn name(&self) -> String {
        match self {
            SmsPreset::Smsapi => "SMSAPI".into(),
            SmsPreset::Twilio => "Twilio".into(),
            SmsPreset::Generic(g) => g.url.split('?').next().unwrap_or_default().to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericGateway {
    pub post: bool,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    /// The JSON body as written (checked to be JSON).
    pub json: Option<String>,
    pub success_if: Option<String>,
    pub failure_if: Option<String>,
    pub provider_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

fn sms_channel(
    raw: &RawSmsChannel,
    bad: &dyn Fn(&str, String) -> ConfigError,
) -> Result<SmsChannelConfig, ConfigError> {
    match raw.kind.as_str() {
        "file" => return Ok(SmsChannelConfig::File),
        "http" => {}
        other => {
            return Err(bad(
                "channels.sms.kind",
                format!("'{other}' is not an SMS channel: use \"file\" or \"http\""),
            ));
        }
    }
    let preset = match raw.preset.as_deref() {
        Some("smsapi") => SmsPreset::Smsapi,
        Some("twilio") => SmsPreset::Twilio,
        Some(other) => {
            return Err(bad(
                "channels.sms.preset",
                format!(
                    "'{other}' is not a gateway herald knows: use \"smsapi\" (SMSAPI.pl) or \"twilio\""
                ),
            ));
        }
        None => {
            let url = raw.url.clone().ok_or_else(|| {
                bad(
                    "channels.sms.preset",
                    "kind = \"http\" needs preset = \"smsapi\" or \"twilio\", or a url (and form or json) for another gateway".into(),
                )
            })?;
            let post = match raw.method.as_deref().unwrap_or("POST") {
                m if m.eq_ignore_ascii_case("post") => true,
                m if m.eq_ignore_ascii_case("get") => false,
                other => {
                    return Err(bad(
                        "channels.sms.method",
                        format!("'{other}': use \"POST\" or \"GET\""),
                    ));
                }
            };
            if let Some(j) = &raw.json {
                serde_json::from_str::<serde_json::Value>(j)
                    .map_err(|e| bad("channels.sms.json", format!("not JSON: {e}")))?;
                if !raw.form.is_empty() {
                    return Err(bad(
                        "channels.sms.json",
                        "a request has one body: set form or json, not both".into(),
                    ));
                }
            }
            for (k, p) in [
                ("success_if", &raw.success_if),
                ("failure_if", &raw.failure_if),
                ("provider_id", &raw.provider_id),
                ("error_code", &raw.error_code),
                ("error_message", &raw.error_message),
            ] {
                if let Some(p) = p
                    && !p.starts_with('/')
                {
                    return Err(bad(
                        &format!("channels.sms.{k}"),
                        format!("'{p}' is not a JSON pointer: write it like \"/list/0/id\""),
                    ));
                }
            }
            SmsPreset::Generic(Box::new(GenericGateway {
                post,
                url,
                headers: raw.headers.clone().into_iter().collect(),
                form: raw.form.clone().into_iter().collect(),
                json: raw.json.clone(),
                success_if: raw.success_if.clone(),
                failure_if: raw.failure_if.clone(),
                provider_id: raw.provider_id.clone(),
                error_code: raw.error_code.clone(),
                error_message: raw.error_message.clone(),
            }))
        }
    };
    let token_env = raw
        .token_env
        .clone()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            bad(
                "channels.sms.token_env",
                "name the environment variable that holds the gateway's API token, e.g. token_env = \"HERALD_SMS_TOKEN\"".into(),
            )
        })?;
    if preset == SmsPreset::Twilio {
        if raw.account.as_deref().is_none_or(|a| a.trim().is_empty()) {
            return Err(bad(
                "channels.sms.account",
                "Twilio needs the account SID, e.g. account = \"ACxxxxxxxx\"".into(),
            ));
        }
        if raw.sender.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return Err(bad(
                "channels.sms.sender",
                "Twilio needs the number (E.164) or sender id messages come from, e.g. sender = \"+48221234567\"".into(),
            ));
        }
    }
    if let Some(0) = raw.max_segments {
        return Err(bad(
            "channels.sms.max_segments",
            "at least 1: the most segments (billed messages) one SMS may take".into(),
        ));
    }
    let timeout = raw
        .timeout
        .as_deref()
        .map(parse_duration)
        .transpose()
        .map_err(|e| bad("channels.sms.timeout", e))?;
    Ok(SmsChannelConfig::Http(SmsGatewayConfig {
        preset,
        token_env,
        account: raw.account.clone(),
        sender: raw.sender.clone(),
        base_url: raw.base_url.clone(),
        timeout,
        max_segments: raw.max_segments,
    }))
}

/// Where e-mail goes.
#[derive(Debug, Clone)]
pub enum EmailChannelConfig {
    /// `.eml` files in the outbox folder (the embedded default).
    File,
    Smtp(SmtpSettings),
}

/// A duration setting such as `"10s"` or `"2m"`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let span: jiff::Span = s
        .trim()
        .parse()
        .map_err(|e| format!("'{s}' is not a duration like \"10s\" or \"2m\": {e}"))?;
    let d = jiff::SignedDuration::try_from(span)
        .map_err(|e| format!("'{s}': use hours, minutes or seconds: {e}"))?;
    std::time::Duration::try_from(d).map_err(|_| format!("'{s}' must not be negative"))
}

fn email_channel(
    raw: &RawEmailChannel,
    prefix: &str,
    from: &EmailAddress,
    connections: u32,
    resolve: &dyn Fn(&str) -> PathBuf,
    bad: &dyn Fn(&str, String) -> ConfigError,
) -> Result<EmailChannelConfig, ConfigError> {
    let key = |k: &str| format!("{prefix}.{k}");
    match raw.kind.as_str() {
        "file" => return Ok(EmailChannelConfig::File),
        "smtp" => {}
        other => {
            return Err(bad(
                &key("kind"),
                format!("'{other}' is not an e-mail channel: use \"file\" or \"smtp\""),
            ));
        }
    }
    let host = raw
        .host
        .clone()
        .filter(|h| !h.trim().is_empty())
        .ok_or_else(|| {
            bad(
                &key("host"),
                "kind = \"smtp\" needs the server's host name, e.g. host = \"smtp.example.pl\""
                    .into(),
            )
        })?;
    let security = SmtpSecurity::parse(raw.security.as_deref().unwrap_or("starttls"))
        .map_err(|e| bad(&key("security"), e))?;
    if raw.user.is_some() != raw.password_env.is_some() {
        return Err(bad(
            &key("user"),
            "set both user and password_env for an account that logs in, or neither".into(),
        ));
    }
    let timeout = |key: &str, v: &Option<String>, default: u64| match v {
        None => Ok(std::time::Duration::from_secs(default)),
        Some(v) => parse_duration(v).map_err(|e| bad(key, e)),
    };
    let sender = herald_channels::Mailbox::new(None, from.clone());
    let dkim = match (&raw.dkim_selector, &raw.dkim_key_file) {
        (None, None) => None,
        (Some(selector), Some(file)) => {
            let path = resolve(file);
            let pem = std::fs::read_to_string(&path).map_err(|e| {
                bad(
                    &key("dkim_key_file"),
                    format!(
                        "cannot read the DKIM key {}: {e}; check the path (relative to herald.toml)",
                        path.display()
                    ),
                )
            })?;
            let domain = raw
                .dkim_domain
                .clone()
                .unwrap_or_else(|| sender.domain().to_owned());
            let signer = herald_channels::DkimSigner::rsa_pem(selector, &domain, &pem)
                .map_err(|e| bad(&key("dkim_key_file"), format!("{}: {e}", path.display())))?;
            Some(std::sync::Arc::new(signer))
        }
        _ => {
            return Err(bad(
                &key("dkim_selector"),
                "DKIM needs both dkim_selector and dkim_key_file (and the public key published at SELECTOR._domainkey.DOMAIN)".into(),
            ));
        }
    };
    Ok(EmailChannelConfig::Smtp(SmtpSettings {
        host,
        port: raw.port.unwrap_or(25),
        security,
        user: raw.user.clone(),
        password_env: raw.password_env.clone(),
        hello_name: raw
            .hello_name
            .clone()
            .unwrap_or_else(|| sender.domain().to_owned()),
        ca_file: raw.ca_file.as_deref().map(resolve),
        connect_timeout: timeout(&key("connect_timeout"), &raw.connect_timeout, 10)?,
        send_timeout: timeout(&key("send_timeout"), &raw.send_timeout, 60)?,
        connections: raw.connections.map_or(Ok(connections), |n| {
            if (1..=64).contains(&n) {
                Ok(n)
            } else {
                Err(bad(
                    &key("connections"),
                    format!("{n} connections: use 1 to 64 (providers allow a handful)"),
                ))
            }
        })? as usize,
        per_second: raw.per_second,
        daily_limit: raw.daily_limit,
        delivery_receipt: raw.delivery_receipt,
        dkim,
        debug: raw.debug,
    }))
}

impl Config {
    /// Reads and validates the config at `path`, then applies `HERALD_…` overrides
    /// from `env`.
    pub fn load(path: &Path, env: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_text(&text, path, env)
    }

    pub fn from_text(
        text: &str,
        path: &Path,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        // First pass on the text itself, so problems carry line numbers.
        let _: RawConfig = parse_strict(text, path)?;
        let mut table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            line: 1,
            key: "(syntax)".into(),
            message: e.to_string(),
        })?;
        let applied = apply_env(&mut table, env)?;
        let raw: RawConfig = if applied.is_empty() {
            parse_strict(text, path)?
        } else {
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                ConfigError::Env {
                    var: applied.join(", "),
                    message: format!("{}: {}", e.path(), e.inner()),
                }
            })?
        };
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::validate(raw, path, &base)
    }

    fn validate(raw: RawConfig, path: &Path, base: &Path) -> Result<Config, ConfigError> {
        let bad = |key: &str, message: String| ConfigError::Rule {
            path: path.to_owned(),
            key: key.to_owned(),
            message,
        };
        let resolve = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };
        let tenant = Tenant {
            time_zone: TimeZoneName::parse(&raw.tenant.time_zone)
                .map_err(|e| bad("tenant.time_zone", e.0))?,
            locale: Locale::parse(&raw.tenant.locale).map_err(|e| bad("tenant.locale", e.0))?,
            name: raw.tenant.name,
            email: raw.tenant.email,
            phone: raw.tenant.phone,
            bank_account: raw.tenant.bank_account,
        };
        let store_url = match raw.store.url.strip_prefix("sqlite://") {
            Some(p) if !p.starts_with(':') => format!("sqlite://{}", resolve(p).display()),
            Some(_) => raw.store.url.clone(),
            None if raw.store.url.starts_with("postgres://")
                || raw.store.url.starts_with("postgresql://") =>
            {
                raw.store.url.clone()
            }
            None if raw.store.url.contains("://") => {
                return Err(bad(
                    "store.url",
                    format!(
                        "'{}' is not a database herald knows: use sqlite://PATH (one machine) or postgres://USER@HOST/DATABASE (several nodes; the password in PGPASSWORD or HERALD_STORE__URL, not in this file)",
                        herald_store::redacted_url(&raw.store.url)
                    ),
                ));
            }
            None => format!("sqlite://{}", resolve(&raw.store.url).display()),
        };
        let from = EmailAddress::parse(&raw.channels.email.from)
            .map_err(|e| bad("channels.email.from", e.0))?;
        let email = email_channel(
            &raw.channels.email,
            "channels.email",
            &from,
            raw.dispatch.concurrency.clamp(1, 8),
            &resolve,
            &bad,
        )?;
        let reply_to = raw
            .channels
            .email
            .reply_to
            .as_deref()
            .map(EmailAddress::parse)
            .transpose()
            .map_err(|e| bad("channels.email.reply_to", e.0))?;
        let pilot_in_file = !raw.pilot.customers.is_empty();
        let pilot = raw
            .pilot
            .customers
            .iter()
            .map(|c| {
                CustomerId::parse(c).map_err(|e| bad("pilot.customers", format!("'{c}' {}", e.0)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let retry: jiff::Span = raw.dispatch.retry_after.parse().map_err(|e| {
            bad(
                "dispatch.retry_after",
                format!(
                    "'{}' is not a duration like \"1m\": {e}",
                    raw.dispatch.retry_after
                ),
            )
        })?;
        let retry_after = jiff::SignedDuration::try_from(retry).map_err(|e| {
            bad(
                "dispatch.retry_after",
                format!("use hours, minutes or seconds: {e}"),
            )
        })?;
        let lease = raw
            .dispatch
            .lease
            .parse::<jiff::Span>()
            .map_err(|e| e.to_string())
            .and_then(|s| jiff::SignedDuration::try_from(s).map_err(|e| e.to_string()))
            .map_err(|e| {
                bad(
                    "dispatch.lease",
                    format!(
                        "'{}' is not a duration in hours, minutes or seconds like \"5m\": {e}",
                        raw.dispatch.lease
                    ),
                )
            })?;
        if lease < jiff::SignedDuration::from_secs(1) {
            return Err(bad(
                "dispatch.lease",
                "must be at least 1s: a delivery is leased for the time it takes to send it".into(),
            ));
        }
        if raw.dispatch.max_attempts == 0 {
            return Err(bad("dispatch.max_attempts", "must be at least 1".into()));
        }

        let mut webhooks: Vec<WebhookSettings> = Vec::new();
        for (i, w) in raw.webhooks.iter().enumerate() {
            let key = |k: &str| format!("webhooks[{i}].{k}");
            if !is_name(&w.name) {
                return Err(bad(
                    &key("name"),
                    format!("'{}': use letters, digits, '-' and '_' only", w.name),
                ));
            }
            if webhooks.iter().any(|o| o.name == w.name) {
                return Err(bad(
                    &key("name"),
                    format!("'{}' is used by two webhooks; names must be unique", w.name),
                ));
            }
            if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
                return Err(bad(
                    &key("url"),
                    format!(
                        "'{}' is not an http(s) URL, e.g. \"https://erp.example.pl/herald\"",
                        w.url
                    ),
                ));
            }
            if w.secret_env.trim().is_empty() {
                return Err(bad(
                    &key("secret_env"),
                    "name the environment variable that holds the signing secret, e.g. \"HERALD_WEBHOOK_SECRET\"".into(),
                ));
            }
            let timeout = match &w.timeout {
                None => std::time::Duration::from_secs(10),
                Some(t) => parse_duration(t).map_err(|e| bad(&key("timeout"), e))?,
            };
            webhooks.push(WebhookSettings {
                name: w.name.clone(),
                url: w.url.clone(),
                secret_env: w.secret_env.clone(),
                timeout,
            });
        }

        let mut accounts: Vec<EmailAccount> = Vec::new();
        for (i, a) in raw.accounts.iter().enumerate() {
            let prefix = format!("accounts[{i}]");
            let key = |k: &str| format!("{prefix}.{k}");
            let name = a.name.clone().unwrap_or_default();
            if !is_name(&name) {
                return Err(bad(
                    &key("name"),
                    format!(
                        "'{name}': an account needs a name of letters, digits, '-' and '_', e.g. name = \"ewa\""
                    ),
                ));
            }
            if accounts.iter().any(|o| o.name == name) {
                return Err(bad(
                    &key("name"),
                    format!("'{name}' is used by two accounts; names must be unique"),
                ));
            }
            let from = EmailAddress::parse(&a.from).map_err(|e| bad(&key("from"), e.0))?;
            // An account is SMTP whatever `kind` says: the file outbox needs no account.
            let smtp = RawEmailChannel {
                kind: "smtp".into(),
                ..a.clone()
            };
            let EmailChannelConfig::Smtp(settings) = email_channel(
                &smtp,
                &prefix,
                &from,
                raw.dispatch.concurrency.clamp(1, 8),
                &resolve,
                &bad,
            )?
            else {
                unreachable!("kind is smtp")
            };
            let reply_to = a
                .reply_to
                .as_deref()
                .map(EmailAddress::parse)
                .transpose()
                .map_err(|e| bad(&key("reply_to"), e.0))?;
            accounts.push(EmailAccount {
                name,
                settings,
                from,
                from_name: a.from_name.clone(),
                reply_to,
                fallback: a.fallback.clone(),
            });
        }
        let known = |name: &str| accounts.iter().any(|a| a.name == name);
        let unknown = |name: &str| {
            format!(
                "there is no account '{name}': add [[accounts]] name = \"{name}\" with its host, or use one of: {}",
                if accounts.is_empty() {
                    "(none yet)".to_owned()
                } else {
                    accounts
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )
        };
        for (i, a) in accounts.iter().enumerate() {
            if let Some(f) = &a.fallback
                && (!known(f) || *f == a.name)
            {
                return Err(bad(&format!("accounts[{i}].fallback"), unknown(f)));
            }
        }
        let email_fallback = raw.channels.email.fallback.clone();
        if let Some(f) = &email_fallback {
            if !known(f) {
                return Err(bad("channels.email.fallback", unknown(f)));
            }
            if matches!(email, EmailChannelConfig::File) {
                return Err(bad(
                    "channels.email.fallback",
                    "the file outbox does not fail over; a fallback is for kind = \"smtp\"".into(),
                ));
            }
        }
        let mut rule_accounts = std::collections::BTreeMap::new();
        let mut rule_operators = std::collections::BTreeMap::new();
        for (i, r) in raw.rules.iter().enumerate() {
            if let Some(a) = &r.account {
                if !known(a) {
                    return Err(bad(&format!("rules[{i}].account"), unknown(a)));
                }
                rule_accounts.insert(r.id.clone(), a.clone());
            }
            if let Some(o) = &r.in_name_of {
                let o = OperatorId::parse(o)
                    .map_err(|e| bad(&format!("rules[{i}].in_name_of"), e.0))?;
                rule_operators.insert(r.id.clone(), o);
            }
        }
        if !raw.channels.email.operators.is_empty() {
            return Err(bad(
                "channels.email.operators",
                "the shared account sends for every operator without its own; list operators under the [[accounts]] that is theirs".into(),
            ));
        }
        let mut operator_accounts = std::collections::BTreeMap::new();
        for (i, a) in raw.accounts.iter().enumerate() {
            for (j, o) in a.operators.iter().enumerate() {
                let key = format!("accounts[{i}].operators[{j}]");
                let o = OperatorId::parse(o).map_err(|e| bad(&key, e.0))?;
                let name = a.name.clone().unwrap_or_default();
                if let Some(other) = operator_accounts.insert(o.clone(), name) {
                    return Err(bad(
                        &key,
                        format!(
                            "operator {o} already sends through account '{other}'; an operator has one account of their own"
                        ),
                    ));
                }
            }
        }

        let console = ConsoleSettings {
            secure_cookies: raw.console.secure_cookies,
            session_idle: parse_duration(&raw.console.session_idle)
                .and_then(|d| {
                    (d >= std::time::Duration::from_secs(60))
                        .then_some(d)
                        .ok_or_else(|| format!("'{}': at least \"1m\"", raw.console.session_idle))
                })
                .map_err(|e| bad("console.session_idle", e))?,
        };
        let service = ServiceSettings {
            listen: raw.service.listen.parse().map_err(|e| {
                bad(
                    "service.listen",
                    format!(
                        "'{}' is not an address and port like \"127.0.0.1:8025\": {e}",
                        raw.service.listen
                    ),
                )
            })?,
            plan: {
                herald_core::schedule::Schedule::parse(&raw.service.plan)
                    .map_err(|e| bad("service.plan", e))?;
                raw.service.plan.clone()
            },
            send_every: parse_duration(&raw.service.send_every)
                .and_then(|d| {
                    (d >= std::time::Duration::from_secs(1))
                        .then_some(d)
                        .ok_or_else(|| format!("'{}': at least \"1s\"", raw.service.send_every))
                })
                .map_err(|e| bad("service.send_every", e))?,
            shutdown_timeout: parse_duration(&raw.service.shutdown_timeout)
                .map_err(|e| bad("service.shutdown_timeout", e))?,
            rate_limit: match raw.service.rate_limit {
                0 => {
                    return Err(bad(
                        "service.rate_limit",
                        "0 would refuse every request: give requests per second per token, e.g. 100".into(),
                    ));
                }
                n => n,
            },
            request_timeout: parse_duration(&raw.service.request_timeout)
                .map_err(|e| bad("service.request_timeout", e))?,
        };
        let alerts = Alerts {
            to: raw
                .alerts
                .to
                .iter()
                .map(|a| EmailAddress::parse(a).map_err(|e| bad("alerts.to", e.0)))
                .collect::<Result<_, _>>()?,
            every: match &raw.alerts.every {
                None => jiff::SignedDuration::from_hours(1),
                Some(e) => parse_duration(e)
                    .and_then(|d| jiff::SignedDuration::try_from(d).map_err(|e| format!("'{e}'")))
                    .map_err(|e| bad("alerts.every", e))?,
            },
        };

        let calendar = raw
            .calendar
            .as_ref()
            .map(|c| parse_calendar(c, &bad))
            .transpose()?;
        let mut batch_schedules = std::collections::BTreeMap::new();
        for (i, r) in raw.rules.iter().enumerate() {
            let Some(schedule) = &r.schedule else {
                continue;
            };
            if !matches!(&r.on, RawTrigger::Named(n) if n == "invoice.batch") {
                return Err(bad(
                    &format!("rules[{i}].schedule"),
                    "only a batch rule (on = \"invoice.batch\") has a schedule; a scheduled overview is on = { schedule = \"…\" }".into(),
                ));
            }
            herald_core::schedule::Schedule::parse(schedule)
                .map_err(|e| bad(&format!("rules[{i}].schedule"), e))?;
            batch_schedules.insert(r.id.clone(), schedule.clone());
        }
        let rules_off_calendar = raw
            .rules
            .iter()
            .filter(|r| !r.calendar)
            .map(|r| r.id.clone())
            .collect();

        let mut rules = Rules::default();
        let mut seen = std::collections::HashSet::new();
        for (i, r) in raw.rules.into_iter().enumerate() {
            let key = |k: &str| format!("rules[{i}].{k}");
            if !seen.insert(r.id.clone()) {
                return Err(bad(
                    &key("id"),
                    format!("'{}' is used by two rules; rule ids must be unique", r.id),
                ));
            }
            if !is_name(&r.id) {
                return Err(bad(
                    &key("id"),
                    format!("'{}': use letters, digits, '-' and '_' only", r.id),
                ));
            }
            let digest_for = match &r.on {
                RawTrigger::Table(RawTriggerTable {
                    digest: Some(d), ..
                }) => Some(match d.as_str() {
                    "each-operator" => DigestFor::EachOperator,
                    "office" => DigestFor::Office,
                    other => {
                        return Err(bad(
                            &key("on.digest"),
                            format!(
                                "'{other}' is not a digest: use \"each-operator\" (each operator their own activity) or \"office\" (everyone's, to the rule's `to`)"
                            ),
                        ));
                    }
                }),
                _ => None,
            };
            let to = match (&r.to, digest_for) {
                (Some(to), _) => to.clone(),
                (None, Some(DigestFor::EachOperator)) => Vec::new(),
                (None, Some(DigestFor::Office)) => {
                    return Err(bad(
                        &key("to"),
                        "an office digest needs someone to tell: e.g. to = [\"boss@office.example\"] or [\"operator:manager\"]".into(),
                    ));
                }
                (None, None) => default_to(),
            };
            let audience = Audience {
                to: to
                    .iter()
                    .map(|t| parse_recipient(t, &webhooks).map_err(|m| bad(&key("to"), m)))
                    .collect::<Result<_, _>>()?,
                channels: r
                    .channels
                    .iter()
                    .map(|c| match c.as_str() {
                        "email" => Ok(ChannelKind::Email),
                        "sms" => Ok(ChannelKind::Sms),
                        other => Err(bad(
                            &key("channels"),
                            format!("'{other}' is not a channel: use \"email\" or \"sms\""),
                        )),
                    })
                    .collect::<Result<_, _>>()?,
                scope: Scope {
                    groups: r.scope.groups.clone(),
                    customers: r
                        .scope
                        .customers
                        .iter()
                        .map(|c| {
                            CustomerId::parse(c).map_err(|e| bad(&key("scope.customers"), e.0))
                        })
                        .collect::<Result<_, _>>()?,
                },
                at: r.at.parse::<Time>().map_err(|e| {
                    bad(
                        &key("at"),
                        format!("'{}' is not a time like \"08:00\": {e}", r.at),
                    )
                })?,
                channel_fallback: r.channel_fallback,
                any_contact: r.any_contact,
            };
            if audience.channels.is_empty() {
                return Err(bad(&key("channels"), "name at least one channel".into()));
            }
            if audience.channel_fallback && audience.channels.len() < 2 {
                return Err(bad(
                    &key("channel_fallback"),
                    "a fallback needs a second channel to fall back to: list both, e.g. channels = [\"sms\", \"email\"]".into(),
                ));
            }
            let condition = match r.when.as_deref() {
                None | Some("always") => None,
                Some("unpaid") => Some(Condition::Unpaid),
                Some(other) => {
                    return Err(bad(
                        &key("when"),
                        format!("'{other}' is not a condition: use \"unpaid\" or \"always\""),
                    ));
                }
            };
            if r.send_empty && digest_for.is_none() {
                return Err(bad(
                    &key("send_empty"),
                    "only a digest (on = { digest = … }) has send_empty".into(),
                ));
            }
            if let (
                Some(digest_for),
                RawTrigger::Table(RawTriggerTable {
                    schedule, event, ..
                }),
            ) = (digest_for, &r.on)
            {
                let Some(schedule) = schedule.as_deref() else {
                    return Err(bad(
                        &key("on.schedule"),
                        "a digest goes out on a schedule: add e.g. schedule = \"every 1 day from 17:00\" to `on`".into(),
                    ));
                };
                herald_core::schedule::Schedule::parse(schedule)
                    .map_err(|e| bad(&key("on.schedule"), e))?;
                if let Some((text, _)) = to
                    .iter()
                    .zip(&audience.to)
                    .find(|(_, s)| s.needs_customer())
                {
                    return Err(bad(
                        &key("to"),
                        format!(
                            "a digest concerns no customer, so '{text}' names nobody: use addresses, \"operator:ROLE\" or \"webhook:NAME\""
                        ),
                    ));
                }
                rules.digest.push(herald_core::rules::DigestRule {
                    id: r.id.clone(),
                    enabled: r.enabled,
                    schedule: schedule.to_owned(),
                    event_type: event.clone().unwrap_or_else(|| "invoice.approved".into()),
                    digest_for,
                    send_empty: r.send_empty,
                    template: r.template.clone().unwrap_or_else(|| r.id.clone()),
                    send: r.send,
                    audience: audience.clone(),
                });
                continue;
            }
            if let RawTrigger::Table(RawTriggerTable {
                schedule: Some(schedule),
                ..
            }) = &r.on
            {
                herald_core::schedule::Schedule::parse(schedule)
                    .map_err(|e| bad(&key("on.schedule"), e))?;
                rules.summary.push(herald_core::rules::SummaryRule {
                    id: r.id.clone(),
                    enabled: r.enabled,
                    schedule: schedule.clone(),
                    template: r.template.clone().unwrap_or_else(|| r.id.clone()),
                    send: r.send,
                    audience: audience.clone(),
                });
                continue;
            }
            if let RawTrigger::Table(RawTriggerTable {
                event: Some(event_type),
                ..
            }) = &r.on
            {
                rules
                    .event
                    .push(event_rule(&r, event_type, &audience, &key, &bad)?);
                continue;
            }
            if !r.payload.is_empty() || r.delay.is_some() || r.attach {
                return Err(bad(
                    &key(if !r.payload.is_empty() {
                        "payload"
                    } else if r.delay.is_some() {
                        "delay"
                    } else {
                        "attach"
                    }),
                    "only an event rule (on = { event = \"TYPE\" }) has payload, delay and attach"
                        .into(),
                ));
            }
            if matches!(&r.on, RawTrigger::Named(n) if n == "task.starts_at") {
                rules.task.push(task_rule(&r, &audience, &key, &bad)?);
                continue;
            }
            if r.client.is_some() || r.operator.is_some() {
                return Err(bad(
                    &key(if r.client.is_some() {
                        "client"
                    } else {
                        "operator"
                    }),
                    "only a task reminder (on = \"task.starts_at\") has client and operator sides"
                        .into(),
                ));
            }
            let trigger = match &r.on {
                RawTrigger::Named(n) if n == "invoice.issued" => Some(InvoiceTrigger::Issued),
                RawTrigger::Named(n) if n == "invoice.batch" => Some(InvoiceTrigger::Batch),
                RawTrigger::Named(n) => {
                    return Err(bad(
                        &key("on"),
                        format!(
                            "'{n}' is not a trigger: use \"invoice.issued\", \"invoice.batch\", \"task.starts_at\", {{ before|after = \"invoice.due_date\", offset = \"3d\" }} or {{ dunning = \"invoice.due_date\" }}"
                        ),
                    ));
                }
                RawTrigger::Table(t) => match (&t.before, &t.after, &t.dunning) {
                    (Some(anchor), None, None) | (None, Some(anchor), None) => {
                        if anchor != "invoice.due_date" {
                            return Err(bad(
                                &key("on"),
                                format!(
                                    "'{anchor}': the date a rule can count from is \"invoice.due_date\""
                                ),
                            ));
                        }
                        let days = parse_days(
                            t.offset.as_deref().unwrap_or("0d"),
                            &key("on.offset"),
                            path,
                        )? as i32;
                        Some(InvoiceTrigger::DueDate {
                            offset_days: if t.before.is_some() { -days } else { days },
                        })
                    }
                    (None, None, Some(anchor)) => {
                        if anchor != "invoice.due_date" {
                            return Err(bad(
                                &key("on"),
                                format!(
                                    "'{anchor}': a dunning ladder counts from \"invoice.due_date\""
                                ),
                            ));
                        }
                        None
                    }
                    _ => {
                        return Err(bad(
                            &key("on"),
                            "give exactly one of before, after or dunning".into(),
                        ));
                    }
                },
            };
            match trigger {
                Some(trigger) => {
                    if !r.levels.is_empty() {
                        return Err(bad(&key("levels"), "only a dunning rule has levels".into()));
                    }
                    let default_delay = match trigger {
                        InvoiceTrigger::Issued | InvoiceTrigger::Batch => 7,
                        InvoiceTrigger::DueDate { .. } => 3,
                    };
                    rules.invoice.push(InvoiceRule {
                        template: r.template.clone().unwrap_or_else(|| r.id.clone()),
                        enabled: r.enabled,
                        trigger,
                        condition: condition.unwrap_or(match trigger {
                            InvoiceTrigger::Issued | InvoiceTrigger::Batch => Condition::Always,
                            InvoiceTrigger::DueDate { .. } => Condition::Unpaid,
                        }),
                        send: r.send,
                        max_delay_days: match &r.max_delay {
                            Some(d) => parse_days(d, &key("max_delay"), path)?,
                            None => default_delay,
                        },
                        audience,
                        id: r.id,
                    });
                }
                None => {
                    if r.levels.is_empty() {
                        return Err(bad(
                            &key("levels"),
                            "a dunning rule needs at least one level".into(),
                        ));
                    }
                    let mut levels = Vec::new();
                    let last = r.levels.len() - 1;
                    let mut prev = None;
                    for (j, l) in r.levels.iter().enumerate() {
                        let lk = format!("rules[{i}].levels[{j}]");
                        let after_days = parse_days(&l.after, &format!("{lk}.after"), path)?;
                        if prev.is_some_and(|p| after_days <= p) {
                            return Err(bad(
                                &format!("{lk}.after"),
                                "levels must come later one after another".into(),
                            ));
                        }
                        prev = Some(after_days);
                        if l.repeat > 0 && j != last {
                            return Err(bad(
                                &format!("{lk}.repeat"),
                                "only the last level repeats".into(),
                            ));
                        }
                        let interval_days = match (&l.interval, l.repeat) {
                            (Some(iv), _) => parse_days(iv, &format!("{lk}.interval"), path)?,
                            (None, 0) => 0,
                            (None, _) => {
                                return Err(bad(
                                    &format!("{lk}.interval"),
                                    "a repeated level needs an interval, e.g. \"14d\"".into(),
                                ));
                            }
                        };
                        if l.repeat > 0 && interval_days == 0 {
                            return Err(bad(
                                &format!("{lk}.interval"),
                                "must be at least one day".into(),
                            ));
                        }
                        levels.push(DunningLevel {
                            level: j as u32 + 1,
                            after_days,
                            template: l.template.clone(),
                            send: l.send && r.send,
                            repeat: l.repeat,
                            interval_days,
                        });
                    }
                    rules.dunning.push(DunningRule {
                        id: r.id,
                        enabled: r.enabled,
                        levels,
                        audience,
                    });
                }
            }
        }

        Ok(Config {
            path: path.to_owned(),
            tenant,
            store_url,
            templates_dir: resolve(&raw.templates.dir),
            email,
            outbox_dir: resolve(&raw.channels.email.dir),
            sms_dir: resolve(&raw.channels.sms.dir),
            from,
            from_name: raw.channels.email.from_name,
            reply_to,
            read_receipt: raw.channels.email.read_receipt,
            sms: sms_channel(&raw.channels.sms, &bad)?,
            sms_sender: raw.channels.sms.sender,
            pilot,
            pilot_in_file,
            max_attempts: raw.dispatch.max_attempts,
            retry_after,
            lease,
            batch: raw.dispatch.batch.max(1),
            concurrency: raw.dispatch.concurrency.clamp(1, 256),
            rules,
            webhooks,
            alerts,
            accounts,
            email_fallback,
            rule_accounts,
            rule_operators,
            operator_accounts,
            calendar,
            batch_schedules,
            service,
            console,
            rules_off_calendar,
        })
    }

    /// Every template name the rules use, for `herald check`.
    pub fn templates_used(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for r in &self.rules.invoice {
            out.push((r.id.clone(), r.template.clone()));
        }
        for d in &self.rules.dunning {
            for l in &d.levels {
                out.push((d.id.clone(), l.template.clone()));
            }
        }
        out
    }

    pub fn rule_exists(&self, id: &str) -> bool {
        self.rules.invoice.iter().any(|r| r.id == id)
            || self.rules.dunning.iter().any(|r| r.id == id)
    }
}

/// A name other settings refer to (a rule id, a webhook, an account): letters,
/// digits, '-' and '_', so it reads the same in keys, dedupe keys and messages.
/// A duration like `"1h"` or `"15m"` as jiff's signed duration.
fn signed_duration(text: &str) -> Result<jiff::SignedDuration, String> {
    parse_duration(text).and_then(|d| jiff::SignedDuration::try_from(d).map_err(|e| e.to_string()))
}

/// An event rule: the type it answers, payload conditions, a delay (none by
/// default), and whether the event's file goes with the e-mail.
fn event_rule(
    r: &RawRule,
    event_type: &str,
    audience: &Audience,
    key: &dyn Fn(&str) -> String,
    bad: &dyn Fn(&str, String) -> ConfigError,
) -> Result<herald_core::rules::EventRule, ConfigError> {
    if event_type.trim().is_empty() {
        return Err(bad(
            &key("on.event"),
            "name the event type, e.g. on = { event = \"customs.IE529\" }".into(),
        ));
    }
    let duration = |text: &str, k: &str| signed_duration(text).map_err(|e| bad(&key(k), e));
    Ok(herald_core::rules::EventRule {
        id: r.id.clone(),
        enabled: r.enabled,
        event_type: event_type.trim().to_owned(),
        payload: r
            .payload
            .iter()
            .map(|(k, v)| {
                let values = match v {
                    RawOneOrMany::One(s) => vec![s.clone()],
                    RawOneOrMany::Many(list) => list.clone(),
                };
                (k.clone(), values)
            })
            .collect(),
        delay: match &r.delay {
            Some(d) => duration(d, "delay")?,
            None => jiff::SignedDuration::ZERO,
        },
        send: r.send,
        max_delay: match &r.max_delay {
            Some(d) => duration(d, "max_delay")?,
            None => jiff::SignedDuration::from_hours(24),
        },
        template: r.template.clone().unwrap_or_else(|| r.id.clone()),
        attach: r.attach,
        audience: audience.clone(),
    })
}

/// A task-reminder rule: at least one side, each with an offset before the start
/// (SMS by default, as seed 001 has it).
fn task_rule(
    r: &RawRule,
    audience: &Audience,
    key: &dyn Fn(&str) -> String,
    bad: &dyn Fn(&str, String) -> ConfigError,
) -> Result<herald_core::rules::TaskRule, ConfigError> {
    use herald_core::rules::{TaskAudience, TaskRule};
    let duration = |text: &str, k: &str| signed_duration(text).map_err(|e| bad(&key(k), e));
    let side = |raw: &Option<RawTaskSide>, name: &str, default_template: String| {
        raw.as_ref()
            .map(|s| -> Result<TaskAudience, ConfigError> {
                let channels = match &s.channels {
                    None => vec![ChannelKind::Sms],
                    Some(list) => list
                        .iter()
                        .map(|c| match c.as_str() {
                            "email" => Ok(ChannelKind::Email),
                            "sms" => Ok(ChannelKind::Sms),
                            other => Err(bad(
                                &key(&format!("{name}.channels")),
                                format!("'{other}' is not a channel: use \"sms\" or \"email\""),
                            )),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                };
                if channels.is_empty() {
                    return Err(bad(
                        &key(&format!("{name}.channels")),
                        "name at least one channel".into(),
                    ));
                }
                let (before_days, before) = days_and_duration(&s.before)
                    .map_err(|e| bad(&key(&format!("{name}.before")), e))?;
                Ok(TaskAudience {
                    before_days,
                    before,
                    channels,
                    template: s.template.clone().unwrap_or(default_template),
                    roles: s.roles.iter().map(|r| r.to_lowercase()).collect(),
                })
            })
            .transpose()
    };
    let client = side(
        &r.client,
        "client",
        r.template.clone().unwrap_or_else(|| r.id.clone()),
    )?;
    let operator = side(&r.operator, "operator", format!("{}-operator", r.id))?;
    if client.is_none() && operator.is_none() {
        return Err(bad(
            &key("client"),
            "a task reminder goes to the client, the operator or both: add client = { before = \"1d\" } and/or operator = { before = \"15m\" }".into(),
        ));
    }
    Ok(TaskRule {
        id: r.id.clone(),
        enabled: r.enabled,
        send: r.send,
        max_delay: match &r.max_delay {
            Some(d) => duration(d, "max_delay")?,
            None => jiff::SignedDuration::from_hours(1),
        },
        client,
        operator,
        scope: audience.scope.clone(),
    })
}

/// `"1d"`, `"15m"`, `"1d 2h"`: whole calendar days (and weeks) apart from the
/// rest, so "a day before" keeps the local time across daylight saving.
fn days_and_duration(s: &str) -> Result<(i32, jiff::SignedDuration), String> {
    let span: jiff::Span = s
        .trim()
        .parse()
        .map_err(|e| format!("'{s}' is not a duration like \"1d\" or \"15m\": {e}"))?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err(format!(
            "'{s}': use days, hours or minutes, not months or years"
        ));
    }
    if span.is_negative() {
        return Err(format!(
            "'{s}' is negative: write how long before the start, e.g. \"1d\""
        ));
    }
    let days = span.get_days() + 7 * span.get_weeks();
    let rest = span.days(0).weeks(0);
    let rest = jiff::SignedDuration::try_from(rest).map_err(|e| format!("'{s}': {e}"))?;
    Ok((days, rest))
}

fn parse_calendar(
    c: &RawCalendar,
    bad: &dyn Fn(&str, String) -> ConfigError,
) -> Result<herald_core::calendar::BusinessCalendar, ConfigError> {
    use herald_core::calendar::{BusinessCalendar, Country};
    use jiff::civil::Weekday;
    let countries = c
        .countries
        .iter()
        .map(|x| Country::parse(x).map_err(|e| bad("calendar.countries", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let weekend = match &c.weekend {
        None => vec![Weekday::Saturday, Weekday::Sunday],
        Some(days) => days
            .iter()
            .map(|d| match d.trim().to_ascii_lowercase().get(..3) {
                Some("mon") => Ok(Weekday::Monday),
                Some("tue") => Ok(Weekday::Tuesday),
                Some("wed") => Ok(Weekday::Wednesday),
                Some("thu") => Ok(Weekday::Thursday),
                Some("fri") => Ok(Weekday::Friday),
                Some("sat") => Ok(Weekday::Saturday),
                Some("sun") => Ok(Weekday::Sunday),
                _ => Err(bad(
                    "calendar.weekend",
                    format!(
                        "'{d}' is not a day of the week: use mon, tue, wed, thu, fri, sat or sun"
                    ),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let extra_holidays = c
        .holidays
        .iter()
        .map(|d| {
            d.trim().parse::<jiff::civil::Date>().map_err(|e| {
                bad(
                    "calendar.holidays",
                    format!("'{d}' is not a date like \"2026-12-31\": {e}"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let window = match &c.window {
        None => None,
        Some(w) => {
            let fail = |why: String| {
                bad(
                    "calendar.window",
                    format!(
                        "'{w}' {why}; write the local hours messages may go out, e.g. \"08:00-18:00\""
                    ),
                )
            };
            let (a, b) = w
                .split_once('-')
                .ok_or_else(|| fail("has no '-' between its start and end".into()))?;
            let start: Time = a
                .trim()
                .parse()
                .map_err(|e| fail(format!("does not start with a time ({e})")))?;
            let end: Time = b
                .trim()
                .parse()
                .map_err(|e| fail(format!("does not end with a time ({e})")))?;
            if start >= end {
                return Err(fail("ends before it starts".into()));
            }
            Some((start, end))
        }
    };
    if weekend.len() >= 7 {
        return Err(bad(
            "calendar.weekend",
            "every day of the week is a weekend day: nothing would ever be sent".into(),
        ));
    }
    Ok(BusinessCalendar {
        weekend,
        countries,
        extra_holidays,
        window,
    })
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn parse_recipient(s: &str, webhooks: &[WebhookSettings]) -> Result<RecipientSpec, String> {
    match s.split_once(':') {
        Some(("customer", "*")) => Ok(RecipientSpec::AnyContact),
        Some(("customer", role)) if !role.is_empty() => {
            Ok(RecipientSpec::CustomerRole(role.to_owned()))
        }
        Some(("address", a)) => EmailAddress::parse(a)
            .map(RecipientSpec::Address)
            .map_err(|e| e.0),
        Some(("webhook", name)) if webhooks.iter().any(|w| w.name == name) => {
            Ok(RecipientSpec::Webhook(name.to_owned()))
        }
        Some(("webhook", name)) => Err(format!(
            "there is no webhook '{name}': add [[webhooks]] name = \"{name}\" with its url and secret_env"
        )),
        Some(("relation", r)) if !r.is_empty() => Ok(RecipientSpec::Relation(r.to_lowercase())),
        Some(("operator", role)) if !role.is_empty() => {
            Ok(RecipientSpec::OperatorRole(role.to_owned()))
        }
        // A bare e-mail address is the address itself (`address:` may be left out).
        None if s.contains('@') => EmailAddress::parse(s)
            .map(RecipientSpec::Address)
            .map_err(|e| e.0),
        _ => Err(format!(
            "'{s}' is not a recipient: use \"customer:ROLE\" (e.g. customer:billing), \"relation:NAME\" (e.g. relation:accounting_manager), \"operator:ROLE\", an e-mail address or \"webhook:NAME\""
        )),
    }
}

/// The starter config `herald init` writes: the four invoice rules of the
/// foundation, every setting shown with its default so users see what exists.
pub const STARTER_CONFIG: &str = include_str!("starter.toml");
