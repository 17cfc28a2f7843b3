//! Everything a command needs, opened once: config, store, templates, outbox.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use herald_channels::{EmailChannel, FileOutbox, SmtpChannel, Webhook};
use herald_render::TemplateSet;
use herald_store::Store;

use crate::config::{Config, EmailChannelConfig};

pub struct App {
    pub config: Config,
    pub store: Store,
    pub templates: TemplateSet,
    /// The configured e-mail channel: the file outbox or an SMTP account.
    pub email: Box<dyn EmailChannel>,
    pub sms_outbox: FileOutbox,
    /// The configured webhooks by name (`to = ["webhook:NAME"]`).
    pub webhooks: std::collections::HashMap<String, Webhook>,
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
                    config.store_url,
                    config.path.display()
                )
            })?;
        let templates = load_templates(&config.templates_dir)?;
        let email: Box<dyn EmailChannel> = match &config.email {
            EmailChannelConfig::File => Box::new(FileOutbox::new(config.outbox_dir.clone())),
            EmailChannelConfig::Smtp(settings) => Box::new(SmtpChannel::new(settings.clone())),
        };
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
            email,
            sms_outbox: FileOutbox::new(config.sms_dir.clone()),
            store,
            templates,
            config,
        }))
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
