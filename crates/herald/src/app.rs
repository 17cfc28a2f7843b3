//! Everything a command needs, opened once: config, store, templates, outbox.

use std::path::Path;

use anyhow::Context as _;
use herald_channels::FileOutbox;
use herald_render::TemplateSet;
use herald_store::Store;

use crate::config::Config;

pub struct App {
    pub config: Config,
    pub store: Store,
    pub templates: TemplateSet,
    pub email_outbox: FileOutbox,
    pub sms_outbox: FileOutbox,
}

impl App {
    pub async fn open(config: Config) -> anyhow::Result<App> {
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
        Ok(App {
            email_outbox: FileOutbox::new(config.outbox_dir.clone()),
            sms_outbox: FileOutbox::new(config.sms_dir.clone()),
            store,
            templates,
            config,
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
