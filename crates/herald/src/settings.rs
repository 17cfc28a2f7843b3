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

/// Customer ids separated by commas or lines (an id may hold a space); an error
/// names the bad one.
pub fn parse_customers(s: &str) -> Result<Vec<CustomerId>, String> {
    let mut out: Vec<CustomerId> = Vec::new();
    for c in s
        .split([',', '\n', '\r'])
        .map(str::trim)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::STARTER_CONFIG;

    fn config(text: &str) -> Config {
        Config::from_text(
            text,
            std::path::Path::new("herald.toml"),
            &std::collections::BTreeMap::new(),
        )
        .unwrap()
    }

    fn stored(key: &str, value: &str) -> ConsoleSetting {
        ConsoleSetting {
            key: key.to_owned(),
            value: value.to_owned(),
            changed_at: jiff::Timestamp::UNIX_EPOCH,
            changed_by: "console:admin".to_owned(),
        }
    }

    #[test]
    fn the_console_fills_what_the_file_leaves_open_and_the_file_wins_otherwise() {
        let open = config(STARTER_CONFIG);
        let templates = TemplateSet::builtin();
        let settings = vec![
            stored(PILOT_KEY, "C1,C2"),
            stored(DAYS_OFF_KEY, "2026-12-24,2026-12-31"),
            stored(
                &template_key("new-invoice", herald_core::Locale::En, "subject"),
                "Invoice {{ invoice.number }}, edited",
            ),
            // A template that has left the folder: skipped, nothing else lost.
            stored("template.gone.en.subject", "x"),
        ];
        let live = Live::build(&open, &templates, settings.clone());
        assert_eq!(
            live.pilot.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            ["C1", "C2"]
        );
        // The starter has no [calendar]: the console's days off are the only ones,
        // and a Saturday stays a day messages go out.
        assert!(open.calendar.is_none());
        let cal = live.calendar.as_ref().unwrap();
        assert!(cal.is_day_off("2026-12-24".parse().unwrap()));
        assert!(!cal.is_day_off("2026-12-26".parse().unwrap()));
        // With a [calendar] in the file, its days off stay beside the console's.
        let with_calendar = config(&format!(
            "{STARTER_CONFIG}\n[calendar]\nholidays = [\"2026-11-11\"]\n"
        ));
        let live_cal = Live::build(&with_calendar, &templates, settings.clone());
        let cal = live_cal.calendar.as_ref().unwrap();
        assert!(cal.is_day_off("2026-11-11".parse().unwrap()));
        assert!(cal.is_day_off("2026-12-31".parse().unwrap()));
        assert!(
            cal.is_day_off("2026-12-26".parse().unwrap()),
            "the file's weekend"
        );
        assert_eq!(
            live.templates
                .source("new-invoice", herald_core::Locale::En, "subject")
                .as_deref(),
            Some("Invoice {{ invoice.number }}, edited")
        );
        assert!(
            live.template_edit("new-invoice", herald_core::Locale::En, "subject")
                .is_some()
        );
        // The folder's version is kept apart, for "back to the file's version".
        assert_ne!(
            templates.source("new-invoice", herald_core::Locale::En, "subject"),
            live.templates
                .source("new-invoice", herald_core::Locale::En, "subject")
        );

        // A file that names pilot customers keeps them, whatever the console stored.
        let named = config(&STARTER_CONFIG.replacen("customers = []", "customers = [\"C3\"]", 1));
        let live = Live::build(&named, &templates, settings);
        assert_eq!(
            live.pilot.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            ["C3"]
        );
    }

    #[test]
    fn lists_typed_in_the_console_are_checked_value_by_value() {
        assert_eq!(parse_customers(" C1, C2\nC1 ").unwrap().len(), 2);
        let ids = parse_customers("ACME 01, C2").unwrap();
        assert_eq!(ids[0].as_str(), "ACME 01", "an id may hold a space");
        let long = "x".repeat(201);
        let e = parse_customers(&format!("C1, {long}")).unwrap_err();
        assert!(e.contains("at most 200"), "{e}");
        assert_eq!(parse_days("2026-12-24, 2026-12-31").unwrap().len(), 2);
        let e = parse_days("2026-12-24, 24.12.2026").unwrap_err();
        assert!(e.contains("'24.12.2026' is not a date"), "{e}");
    }
}
