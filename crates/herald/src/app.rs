//! Everything a command needs, opened once: config, store, templates, outbox.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use herald_channels::sms_http::{
    GatewayBody, HttpMethod, ResponseRules, SmsGateway, SmsGatewaySettings,
};
use herald_channels::{
    EmailChannel, FileOutbox, Mailbox, Outcome, Secret, SendFuture, SmsChannel, SmsMessage,
    SmtpChannel, Webhook,
};
use herald_render::TemplateSet;
use herald_store::Store;

use crate::config::{Config, EmailChannelConfig, SmsChannelConfig, SmsGatewayConfig, SmsPreset};
use crate::settings::Live;

pub struct App {
    pub config: Config,
    pub store: Store,
    /// The templates folder's templates (or the built-in ones), before the
    /// console's edits; what applies is [`App::templates`].
    pub file_templates: TemplateSet,
    /// The file's settings with the console's over them (see `settings`),
    /// swapped whole when they change.
    live: std::sync::RwLock<Arc<Live>>,
    /// When `live` was last read from the store.
    live_read: std::sync::Mutex<Option<std::time::Instant>>,
    /// The shared e-mail account ([channels.email]): the file outbox or an SMTP
    /// server.
    pub shared: Account,
    /// The named accounts ([[accounts]]) rules and operators send through, by name.
    pub accounts: std::collections::HashMap<String, Account>,
    /// The configured SMS channel: the file outbox or an HTTP gateway.
    pub sms: Box<dyn SmsChannel>,
    /// The configured webhooks by name (`to = ["webhook:NAME"]`).
    pub webhooks: std::collections::HashMap<String, Webhook>,
    /// Set when `herald serve` is stopping: a send leases nothing more and its
    /// senders take no new delivery (see `jobs::send`).
    pub stopping: std::sync::atomic::AtomicBool,
}

impl App {
    /// Shared (`Arc`) because `send` runs its senders as tasks of their own, on every
    /// core, and each holds the app.
    pub async fn open(config: Config) -> anyhow::Result<Arc<App>> {
        let store = Store::open_existing(&config.store_url)
            .await
            .with_context(|| {
                format!(
                    "opening the store {} (from {})",
                    herald_store::redacted_url(&config.store_url),
                    config.path.display()
                )
            })?;
        let templates = load_templates(&config.templates_dir)?;
        let stored = store.console_settings().await.with_context(
            || "reading the settings changed in the console (table console_settings)",
        )?;
        let live = Live::build(&config, &templates, stored);
        let shared = Account {
            name: None,
            channel: match &config.email {
                EmailChannelConfig::File => Arc::new(FileOutbox::new(config.outbox_dir.clone())),
                EmailChannelConfig::Smtp(settings) => Arc::new(SmtpChannel::new(settings.clone())),
            },
            from: Mailbox::new(config.from_name.clone(), config.from.clone()),
            reply_to: config.reply_to.clone(),
            daily_limit: match &config.email {
                EmailChannelConfig::File => None,
                EmailChannelConfig::Smtp(settings) => settings.daily_limit,
            },
            per_second: match &config.email {
                EmailChannelConfig::File => None,
                EmailChannelConfig::Smtp(settings) => settings.per_second,
            },
            fallback: config.email_fallback.clone(),
        };
        let accounts = config
            .accounts
            .iter()
            .map(|a| {
                let account = Account {
                    name: Some(a.name.clone()),
                    channel: Arc::new(SmtpChannel::new(a.settings.clone())),
                    from: Mailbox::new(a.from_name.clone(), a.from.clone()),
                    reply_to: a.reply_to.clone(),
                    daily_limit: a.settings.daily_limit,
                    per_second: a.settings.per_second,
                    fallback: a.fallback.clone(),
                };
                (a.name.clone(), account)
            })
            .collect();
        let webhooks = config
            .webhooks
            .iter()
            .map(|w| {
                (
                    w.name.clone(),
                    Webhook::new(&w.name, &w.url, &w.secret_env, w.timeout),
                )
            })
            .collect();
        Ok(Arc::new(App {
            webhooks,
            stopping: std::sync::atomic::AtomicBool::new(false),
            accounts,
            shared,
            sms: sms_channel(&config)?,
            store,
            file_templates: templates,
            live: std::sync::RwLock::new(Arc::new(live)),
            live_read: std::sync::Mutex::new(Some(std::time::Instant::now())),
            config,
        }))
    }
}

impl App {
    /// The settings that apply now.
    pub fn live(&self) -> Arc<Live> {
        match self.live.read() {
            Ok(l) => Arc::clone(&l),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The templates that apply now: the folder's with the console's edits.
    pub fn templates(&self) -> Arc<TemplateSet> {
        Arc::clone(&self.live().templates)
    }

    /// Reads the console's settings from the store again and applies them.
    pub async fn reload_settings(&self) -> anyhow::Result<()> {
        let stored = self.store.console_settings().await?;
        let live = Live::build(&self.config, &self.file_templates, stored);
        match self.live.write() {
            Ok(mut l) => *l = Arc::new(live),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(live),
        }
        if let Ok(mut at) = self.live_read.lock() {
            *at = Some(std::time::Instant::now());
        }
        Ok(())
    }

    /// As `reload_settings`, when they were last read more than
    /// `settings::REFRESH` ago: how another node's console change arrives here.
    pub async fn refresh_settings(&self) -> anyhow::Result<()> {
        let stale = self
            .live_read
            .lock()
            .map(|at| at.is_none_or(|t| t.elapsed() >= crate::settings::REFRESH))
            .unwrap_or(true);
        if stale {
            self.reload_settings().await?;
        }
        Ok(())
    }
}

fn sms_channel(config: &Config) -> anyhow::Result<Box<dyn SmsChannel>> {
    let g = match &config.sms {
        SmsChannelConfig::File => return Ok(Box::new(FileOutbox::new(config.sms_dir.clone()))),
        SmsChannelConfig::Http(g) => g,
    };
    let Some(token) = std::env::var(&g.token_env).ok().filter(|t| !t.is_empty()) else {
        return Ok(Box::new(NotReady(format!(
            "the SMS gateway's token variable {} is not set in herald's environment: export it (see channels.sms.token_env) and herald tries again",
            g.token_env
        ))));
    };
    let gateway = SmsGateway::new(gateway_settings(g, Secret::new(token)))
        .map_err(|e| anyhow::anyhow!("channels.sms: {e}"))?;
    Ok(Box::new(gateway))
}

/// The preset's settings with what the config changes about them.
fn gateway_settings(g: &SmsGatewayConfig, token: Secret) -> SmsGatewaySettings {
    let mut s = match &g.preset {
        SmsPreset::Smsapi => SmsGatewaySettings::smsapi(token, g.sender.clone()),
        SmsPreset::Twilio => SmsGatewaySettings::twilio(
            g.account.clone().unwrap_or_default(),
            token,
            g.sender.clone().unwrap_or_default(),
        ),
        SmsPreset::Generic(gw) => {
            let method = if gw.post {
                HttpMethod::Post
            } else {
                HttpMethod::Get
            };
            let mut s = SmsGatewaySettings::new("SMS gateway", method, gw.url.clone());
            s.token = Some(token);
            s.account = g.account.clone();
            s.sender = g.sender.clone();
            s.headers = gw.headers.clone();
            s.body = match (&gw.json, gw.form.is_empty()) {
                (Some(j), _) => GatewayBody::Json(serde_json::from_str(j).unwrap_or_default()),
                (None, false) => GatewayBody::Form(gw.form.clone()),
                (None, true) => GatewayBody::None,
            };
            s.response = ResponseRules {
                success_if: gw.success_if.clone(),
                failure_if: gw.failure_if.clone(),
                provider_id: gw.provider_id.clone(),
                error_code: gw.error_code.clone(),
                error_message: gw.error_message.clone(),
                codes: Vec::new(),
            };
            s
        }
    };
    s.token_env = Some(g.token_env.clone());
    if let Some(base) = &g.base_url {
        s = s.with_base_url(base);
    }
    if let Some(t) = g.timeout {
        s.timeout = t;
    }
    if let Some(m) = g.max_segments {
        s.max_segments = m;
    }
    s
}

/// An e-mail account as the dispatcher sends through it: the channel, who the
/// messages are from, its daily limit and the account that takes over when it
/// cannot send.
pub struct Account {
    /// `None`: the shared account of [channels.email].
    pub name: Option<String>,
    pub channel: Arc<dyn EmailChannel>,
    pub from: Mailbox,
    pub reply_to: Option<herald_core::EmailAddress>,
    pub daily_limit: Option<u32>,
    /// Messages a second, all nodes together (the channel also paces its own).
    pub per_second: Option<u32>,
    pub fallback: Option<String>,
}

impl Account {
    /// How the history names it.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("account {n}"),
            None => "the shared account".to_owned(),
        }
    }
}

impl App {
    /// The accounts an e-mail is tried on, in order: `first` (a named account, or
    /// the shared one), then its fallback, then the fallback's fallback. An account
    /// comes up once however the fallbacks loop.
    pub fn account_chain(&self, first: Option<&str>) -> Vec<&Account> {
        let mut chain: Vec<&Account> = Vec::new();
        let mut next = match first.and_then(|n| self.accounts.get(n)) {
            Some(a) => Some(a),
            None => Some(&self.shared),
        };
        while let Some(a) = next {
            if chain.iter().any(|c| c.name == a.name) {
                break;
            }
            chain.push(a);
            next = a.fallback.as_deref().and_then(|f| self.accounts.get(f));
        }
        chain
    }
}

/// An SMS channel that cannot send yet (its secret is missing): every attempt
/// waits and is tried again, as with an SMTP password.
struct NotReady(String);

impl SmsChannel for NotReady {
    fn send_sms<'a>(&'a self, _delivery_id: i64, _msg: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(async move {
            Outcome::Transient {
                detail: self.0.clone(),
            }
        })
    }
}

/// The workspace's templates when it has a templates folder, else the built-in ones.
pub fn load_templates(dir: &Path) -> anyhow::Result<TemplateSet> {
    if dir.is_dir() {
        TemplateSet::load_dir(dir)
            .with_context(|| format!("loading templates from {}", dir.display()))
    } else {
        Ok(TemplateSet::builtin())
    }
}
