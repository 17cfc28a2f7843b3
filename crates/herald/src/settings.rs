//! Settings the console may change while herald runs, laid over the config file.
//!
//! The config file stays the source of what it defines: pilot customers it
//! names cannot be changed in the console, and its calendar's days off cannot be
//! removed there. What the file leaves open, the console fills, and its changes
//! are kept in the store (`console_settings`, each with an audit entry), so they
//! survive restarts and reach every node sharing the store:
//! - `pilot.customers`: the pilot customers, when the file's `[pilot] customers` is empty;
//! - `calendar.days_off`: more days off, besides the file's calendar;
//! - `template.NAME.LOCALE.PART`: a template part edited in the console, laid
//!   over the templates folder (or the built-in templates).
//!
//! The planner and the dispatcher read [`Live`] at the start of each run, and
//! re-read the store's settings at most every [`REFRESH`], so a change made on
//! one node applies on every node within that time.

use std::collections::BTreeSet;
use std::sync::Arc;

use herald_core::CustomerId;
use herald_core::calendar::BusinessCalendar;
use herald_render::TemplateSet;
use herald_store::ConsoleSetting;

use crate::config::Config;

pub const PILOT_KEY: &str = "pilot.customers";
pub const DAYS_OFF_KEY: &str = "calendar.days_off";
const TEMPLATE_PREFIX: &str = "template.";

/// How stale another node's console changes may be here.
pub const REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

/// The key of one edited template part.
pub fn template_key(name: &str, locale: herald_core::Locale, part: &str) -> String {
    format!("{TEMPLATE_PREFIX}{name}.{locale}.{part}")
}

/// What applies now: the file's settings with the console's laid over them.
pub struct Live {
    pub pilot: Vec<CustomerId>,
    pub calendar: Option<BusinessCalendar>,
    pub templates: Arc<TemplateSet>,
    /// Days off added in the console (already in `calendar`).
    pub console_days_off: BTreeSet<jiff::civil::Date>,
    /// The console's settings as stored, for the settings page.
    pub stored: Vec<ConsoleSetting>,
}

impl Live {
    /// The file's settings alone.
    pub fn from_file(config: &Config, templates: &TemplateSet) -> Live {
        Live {
            pilot: config.pilot.clone(),
            calendar: config.calendar.clone(),
            templates: Arc::new(templates.clone()),
            console_days_off: BTreeSet::new(),
            stored: Vec::new(),
        }
    }

    /// The file's settings with the stored ones over them. A stored setting that
    /// no longer fits (its template left the folder, the file now names the pilot
    /// customers) is skipped with a warning: the file wins, and nothing stops.
    pub fn build(
        config: &Config,
        file_templates: &TemplateSet,
        stored: Vec<ConsoleSetting>,
    ) -> Live {
        let mut live = Live::from_file(config, file_templates);
        let mut templates = file_templates.clone();
        for s in &stored {
            if let Err(why) = live.apply(config, &mut templates, s) {
                tracing::warn!(key = %s.key, changed_by = %s.changed_by, "a console setting is not applied: {why}");
            }
        }
        live.templates = Arc::new(templates);
        live.stored = stored;
        live
    }

    fn apply(
        &mut self,
        config: &Config,
        templates: &mut TemplateSet,
        s: &ConsoleSetting,
    ) -> Result<(), String> {
        match s.key.as_str() {
            PILOT_KEY => {
                if config.pilot_in_file {
                    return Err(format!(
                        "{} names the pilot customers ([pilot] customers)",
                        config.path.display()
                    ));
                }
                self.pilot = parse_customers(&s.value)?;
            }
            DAYS_OFF_KEY => {
                let days = parse_days(&s.value)?;
                // Without a calendar in the file, the console's days off are the
                // only days off: no weekend, no window, none of the file's.
                let cal = self.calendar.get_or_insert_with(|| BusinessCalendar {
                    weekend: Vec::new(),
                    ..BusinessCalendar::default()
                });
                cal.extra_holidays.extend(days.iter().copied());
                self.console_days_off = days;
            }
            key => {
                let Some(rest) = key.strip_prefix(TEMPLATE_PREFIX) else {
                    return Err("herald does not know this setting".to_owned());
                };
                let mut it = rest.rsplitn(3, '.');
                let (Some(part), Some(locale), Some(name)) = (it.next(), it.next(), it.next())
                else {
                    return Err("not a template part".to_owned());
                };
                let locale = herald_core::Locale::parse(locale).map_err(|e| e.0)?;
                templates
                    .set_part(name, locale, part, s.value.clone())
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Whether a template part is the console's edit, and that edit.
    pub fn template_edit(
        &self,
        name: &str,
        locale: herald_core::Locale,
        part: &str,
    ) -> Option<&ConsoleSetting> {
        let key = template_key(name, locale, part);
        self.stored.iter().find(|s| s.key == key)
    }

    pub fn setting(&self, key: &str) -> Option<&ConsoleSetting> {
        self.stored.iter().find(|s| s.key == key)
    }
}

/// Customer ids separated by commas, spaces or lines; an error names the bad one.
pub fn parse_customers(s: &str) -> Result<Vec<CustomerId>, String> {
    let mut out: Vec<CustomerId> = Vec::new();
    for c in s
        .split([',', ' ', '\n', '\r', '\t'])
        .filter(|c| !c.is_empty())
    {
        let id = CustomerId::parse(c).map_err(|e| format!("'{c}' {}", e.0))?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Dates (YYYY-MM-DD) separated by commas, spaces or lines.
pub fn parse_days(s: &str) -> Result<BTreeSet<jiff::civil::Date>, String> {
    s.split([',', ' ', '\n', '\r', '\t'])
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<jiff::civil::Date>().map_err(|_| {
                format!("'{d}' is not a date; write days as YYYY-MM-DD, e.g. 2026-12-24")
            })
        })
        .collect()
}
