//! Settings, their audit log, and the tests of the channels (admin pages).
//!
//! Every setting says where it comes from: the config file (read-only here: the
//! page names the file and when it last changed), the templates folder, or the
//! console (with who changed it and when). A change is checked before it is
//! stored, is stored with an audit entry in one transaction (`set_console_setting`),
//! and applies at once on this node and within `settings::REFRESH` on the others.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use herald_channels::{EmailMessage, Mailbox, Outcome, SmsMessage, SmtpChannel};
use herald_core::Locale;
use herald_render::TemplateSet;
use herald_store::Role;

use super::pages::{Query, back_to, here};
use super::{Console, Fields, Frame, Lang, Signed, internal, refusal, render, unprocessable};
use crate::config::{EmailChannelConfig, SmsChannelConfig};
use crate::settings::{DAYS_OFF_KEY, PILOT_KEY, parse_customers, parse_days, template_key};

/// Who changed a setting and when, or where it comes from.
pub struct Origin {
    /// "config file", "templates folder", "built in" or "console".
    pub source: &'static str,
    pub detail: String,
}

struct RuleLine {
    id: String,
    kind: &'static str,
    enabled: bool,
    toml: String,
}

struct AccountLine {
    /// The form's value: empty for the shared account.
    key: String,
    label: String,
    server: String,
    from: String,
    smtp: bool,
}

struct TemplateLine {
    name: String,
    locales: Vec<(String, String, &'static str)>,
}

#[derive(askama::Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    f: Frame,
    admin: bool,
    config_path: String,
    config_changed: String,
    plan: String,
    next_plan: String,
    rules: Vec<RuleLine>,
    pilot: String,
    pilot_origin: Origin,
    pilot_editable: bool,
    calendar_file: Vec<(&'static str, String)>,
    days_off: String,
    days_off_origin: Origin,
    accounts: Vec<AccountLine>,
    sms: String,
    templates: Vec<TemplateLine>,
}

fn is_admin(signed: &Signed) -> bool {
    signed.session.user.role.allows(Role::Admin)
}

fn console_origin(f: &Frame, s: Option<&herald_store::ConsoleSetting>) -> Origin {
    match s {
        Some(s) => Origin {
            source: "console",
            detail: format!(
                "{} {}, {}",
                f.s("changed by"),
                s.changed_by,
                f.when(&s.changed_at)
            ),
        },
        None => Origin {
            source: "console",
            detail: f.s("never changed").to_owned(),
        },
    }
}

/// The `[[rules]]` tables as the config file writes them, so the page shows a
/// rule and its schedule in the words the file uses.
fn rule_texts(path: &std::path::Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(value) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    value
        .get("rules")
        .and_then(|r| r.as_array())
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| {
                    let t = r.as_table()?;
                    let id = t.get("id")?.as_str()?.to_owned();
                    Some((id, toml::to_string(t).unwrap_or_default()))
                })
                .collect()
        })
        .unwrap_or_default()
}

pub async fn settings(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    let admin = is_admin(&signed);
    let f = Frame::new(
        &console,
        &signed,
        "settings",
        here("/console/settings", &raw),
    );
    let app = &console.app;
    let config = &app.config;
    let live = app.live();
    let now = console.clock.now();
    let tz = console.tz();
    let config_changed = std::fs::metadata(&config.path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| jiff::Timestamp::try_from(t).ok())
        .map_or_else(|| "—".to_owned(), |t| f.when(&t));
    let next_plan = herald_core::schedule::Schedule::parse(&config.service.plan)
        .ok()
        .and_then(|s| s.next_after(now, &tz));
    let texts = rule_texts(&config.path);
    let rules_cfg = &config.rules;
    let mut rules = Vec::new();
    let mut push = |id: &str, kind: &'static str, enabled: bool| {
        rules.push(RuleLine {
            id: id.to_owned(),
            kind,
            enabled,
            toml: texts
                .iter()
                .find(|(i, _)| i == id)
                .map(|(_, t)| t.clone())
                .unwrap_or_default(),
        })
    };
    for r in &rules_cfg.invoice {
        push(r.id.as_str(), "invoice", r.enabled);
    }
    for r in &rules_cfg.dunning {
        push(r.id.as_str(), "dunning", r.enabled);
    }
    for r in &rules_cfg.task {
        push(r.id.as_str(), "task", r.enabled);
    }
    for r in &rules_cfg.event {
        push(r.id.as_str(), "event", r.enabled);
    }
    for r in &rules_cfg.summary {
        push(r.id.as_str(), "summary", r.enabled);
    }
    for r in &rules_cfg.digest {
        push(r.id.as_str(), "digest", r.enabled);
    }
    let calendar_file = match &config.calendar {
        None => Vec::new(),
        Some(c) => vec![
            (
                "Weekend",
                c.weekend
                    .iter()
                    .map(|d| format!("{d:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "Public holidays of",
                c.countries
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "Send window",
                c.window
                    .map(|(a, b)| format!("{}–{}", a.strftime("%H:%M"), b.strftime("%H:%M")))
                    .unwrap_or_else(|| f.s("all day").to_owned()),
            ),
            (
                "Days off",
                c.extra_holidays
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ],
    };
    let mut accounts = vec![AccountLine {
        key: String::new(),
        label: f.s("shared account").to_owned(),
        server: match &config.email {
            EmailChannelConfig::File => {
                format!("{} {}", f.s("file outbox"), config.outbox_dir.display())
            }
            EmailChannelConfig::Smtp(s) => format!("SMTP {}:{}", s.host, s.port),
        },
        from: app.shared.from.address.to_string(),
        smtp: matches!(config.email, EmailChannelConfig::Smtp(_)),
    }];
    accounts.extend(config.accounts.iter().map(|a| AccountLine {
        key: a.name.clone(),
        label: a.name.clone(),
        server: format!("SMTP {}:{}", a.settings.host, a.settings.port),
        from: a.from.to_string(),
        smtp: true,
    }));
    let sms = match &config.sms {
        SmsChannelConfig::File => format!("{} {}", f.s("file outbox"), config.sms_dir.display()),
        SmsChannelConfig::Http(g) => format!("{:?} ({})", g.preset, g.token_env),
    };
    let templates = live
        .templates
        .names()
        .into_iter()
        .map(|name| {
            let locales = live
                .templates
                .locales_of(&name)
                .into_iter()
                .map(|l| {
                    let edited = TemplateSet::PARTS
                        .iter()
                        .any(|p| live.template_edit(&name, l, p).is_some());
                    let source = if edited {
                        "console"
                    } else if config.templates_dir.is_dir() {
                        "templates folder"
                    } else {
                        "built in"
                    };
                    (
                        l.to_string(),
                        format!(
                            "/console/settings/templates/{}/{l}",
                            super::url_encode(&name)
                        ),
                        source,
                    )
                })
                .collect();
            TemplateLine { name, locales }
        })
        .collect();
    let page = SettingsPage {
        admin,
        config_path: std::fs::canonicalize(&config.path)
            .unwrap_or_else(|_| config.path.clone())
            .display()
            .to_string(),
        config_changed,
        plan: config.service.plan.clone(),
        next_plan: f.when_opt(&next_plan),
        rules,
        pilot: live
            .pilot
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        pilot_origin: if config.pilot_in_file {
            Origin {
                source: "config file",
                detail: "[pilot] customers".to_owned(),
            }
        } else {
            console_origin(&f, live.setting(PILOT_KEY))
        },
        pilot_editable: !config.pilot_in_file,
        calendar_file,
        days_off: live
            .console_days_off
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        days_off_origin: console_origin(&f, live.setting(DAYS_OFF_KEY)),
        accounts,
        sms,
        templates,
        f,
    };
    render(&page)
}

/// Refuses a form that is not an admin's, or not this session's.
/// Stores a setting and applies it here at once.
async fn store_setting(
    console: &Console,
    signed: &Signed,
    key: &str,
    value: Option<&str>,
    detail: &str,
) -> Result<(), super::Answer> {
    let app = &console.app;
    app.store
        .set_console_setting(key, value, &signed.actor(), console.clock.now(), detail)
        .await
        .map_err(|e| super::Answer::from(internal(e.into())))?;
    app.reload_settings()
        .await
        .map_err(|e| super::Answer::from(internal(e)))?;
    tracing::info!(%key, actor = %signed.actor(), "console setting changed: {detail}");
    Ok(())
}

pub async fn save_pilot(
    State(console): State<Arc<Console>>,
    signed: Signed,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.admin_form(&fields) {
        return r.into_response();
    }
    let t = signed.lang;
    let app = &console.app;
    if app.config.pilot_in_file {
        return unprocessable(
            t,
            &format!(
                "{} names the pilot customers ([pilot] customers): change them there and restart herald",
                app.config.path.display()
            ),
        );
    }
    let customers = match parse_customers(fields.get("customers")) {
        Ok(c) => c,
        Err(e) => return unprocessable(t, &format!("{}: {e}", t.s("Pilot customers"))),
    };
    for c in &customers {
        match app.store.customer(c).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                return unprocessable(
                    t,
                    &format!(
                        "{}: customer '{c}' does not exist; import it first or check the id",
                        t.s("Pilot customers")
                    ),
                );
            }
            Err(e) => return internal(e.into()),
        }
    }
    let before = app.live().pilot.clone();
    let list = |v: &[herald_core::CustomerId]| {
        if v.is_empty() {
            "none (pilot mode off)".to_owned()
        } else {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let detail = format!(
        "pilot customers: {} (was {})",
        list(&customers),
        list(&before)
    );
    let value = (!customers.is_empty()).then(|| {
        customers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    });
    if let Err(r) = store_setting(&console, &signed, PILOT_KEY, value.as_deref(), &detail).await {
        return r.into_response();
    }
    back_to(&fields, "saved")
}

pub async fn save_days_off(
    State(console): State<Arc<Console>>,
    signed: Signed,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.admin_form(&fields) {
        return r.into_response();
    }
    let t = signed.lang;
    let days = match parse_days(fields.get("days")) {
        Ok(d) => d,
        Err(e) => return unprocessable(t, &format!("{}: {e}", t.s("Days off"))),
    };
    let list = |v: &std::collections::BTreeSet<jiff::civil::Date>| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let before = console.app.live().console_days_off.clone();
    let detail = format!("days off: {} (was {})", list(&days), list(&before));
    let value = (!days.is_empty()).then(|| {
        days.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    });
    if let Err(r) = store_setting(&console, &signed, DAYS_OFF_KEY, value.as_deref(), &detail).await
    {
        return r.into_response();
    }
    back_to(&fields, "saved")
}

// ---------------------------------------------------------------- templates

struct PartBox {
    part: &'static str,
    source: String,
    origin: Origin,
    edited: bool,
}

#[derive(askama::Template)]
#[template(path = "console/template.html")]
struct TemplatePage {
    f: Frame,
    admin: bool,
    name: String,
    locale: String,
    action: String,
    parts: Vec<PartBox>,
    rules: Vec<String>,
    rule: String,
    customer: String,
    invoice: String,
    failures: Vec<String>,
    preview: Option<super::preview::Shown>,
    preview_error: Option<String>,
}

/// The rules that use a template, the first of them the preview's default.
fn rules_using(console: &Console, name: &str) -> Vec<String> {
    let r = &console.app.config.rules;
    let mut out: Vec<String> = r
        .invoice
        .iter()
        .filter(|x| x.template == name)
        .map(|x| x.id.to_string())
        .chain(
            r.dunning
                .iter()
                .filter(|d| d.levels.iter().any(|l| l.template == name))
                .map(|d| d.id.to_string()),
        )
        .chain(
            r.event
                .iter()
                .filter(|x| x.template == name)
                .map(|x| x.id.to_string()),
        )
        .collect();
    // Any invoice or dunning rule can lend its data to a preview of any template.
    for id in r
        .invoice
        .iter()
        .map(|x| x.id.to_string())
        .chain(r.dunning.iter().map(|x| x.id.to_string()))
    {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

fn template_origin(
    console: &Console,
    f: &Frame,
    name: &str,
    locale: Locale,
    part: &str,
) -> (Origin, bool) {
    let live = console.app.live();
    if let Some(s) = live.template_edit(name, locale, part) {
        return (console_origin(f, Some(s)), true);
    }
    let dir = &console.app.config.templates_dir;
    let origin = if dir.is_dir() {
        Origin {
            source: "templates folder",
            detail: dir
                .join(name)
                .join(format!("{locale}.{part}"))
                .display()
                .to_string(),
        }
    } else {
        Origin {
            source: "built in",
            detail: f.s("herald's own template").to_owned(),
        }
    };
    (origin, false)
}

fn parse_locale(t: Lang, locale: &str) -> Result<Locale, super::Answer> {
    Locale::parse(locale).map_err(|e| {
        super::Answer::from(refusal(
            StatusCode::NOT_FOUND,
            t,
            "Not found",
            &format!("{locale}: {}", e.0),
        ))
    })
}

pub async fn template(
    State(console): State<Arc<Console>>,
    signed: Signed,
    Path((name, locale)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    let t = signed.lang;
    let locale = match parse_locale(t, &locale) {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let templates = console.app.templates();
    if !templates.locales_of(&name).contains(&locale) {
        return refusal(
            StatusCode::NOT_FOUND,
            t,
            "Not found",
            &format!(
                "there is no template '{name}' in {locale}; templates: {}",
                templates.names().join(", ")
            ),
        );
    }
    let q = Query::new(raw.as_deref());
    let path = format!(
        "/console/settings/templates/{}/{locale}",
        super::url_encode(&name)
    );
    let f = Frame::new(&console, &signed, "settings", here(&path, &raw));
    let parts = TemplateSet::PARTS
        .iter()
        .map(|&part| {
            let (origin, edited) = template_origin(&console, &f, &name, locale, part);
            PartBox {
                part,
                source: templates.source(&name, locale, part).unwrap_or_default(),
                origin,
                edited,
            }
        })
        .collect();
    let rules = rules_using(&console, &name);
    let page = TemplatePage {
        admin: is_admin(&signed),
        action: path,
        name,
        locale: locale.to_string(),
        parts,
        rule: q
            .get("rule")
            .map(str::to_owned)
            .or_else(|| rules.first().cloned())
            .unwrap_or_default(),
        rules,
        customer: q.get("customer").unwrap_or("").to_owned(),
        invoice: q.get("invoice").unwrap_or("").to_owned(),
        failures: Vec::new(),
        preview: None,
        preview_error: None,
        f,
    };
    render(&page)
}

/// Checks a template edit, previews it, and with `action=save` stores it; with
/// `action=revert` removes the console's edit of one part. What was typed is
/// shown again with every failure, so nothing is lost.
pub async fn save_template(
    State(console): State<Arc<Console>>,
    signed: Signed,
    Path((name, locale)): Path<(String, String)>,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.admin_form(&fields) {
        return r.into_response();
    }
    let t = signed.lang;
    let locale = match parse_locale(t, &locale) {
        Ok(l) => l,
        Err(r) => return r.into_response(),
    };
    let app = &console.app;
    let current = app.templates();
    if !current.locales_of(&name).contains(&locale) {
        return refusal(
            StatusCode::NOT_FOUND,
            t,
            "Not found",
            &format!("there is no template '{name}' in {locale}"),
        );
    }
    let path = format!(
        "/console/settings/templates/{}/{locale}",
        super::url_encode(&name)
    );
    if fields.get("action") == "revert" {
        let part = fields.get("part");
        if !TemplateSet::PARTS.contains(&part) {
            return unprocessable(
                t,
                &format!("part: '{part}' is not subject, txt, html or sms"),
            );
        }
        let key = template_key(&name, locale, part);
        let detail = format!(
            "template {name} {locale}.{part}: the console's edit removed; the file's version applies"
        );
        if let Err(r) = store_setting(&console, &signed, &key, None, &detail).await {
            return r.into_response();
        }
        return axum::response::Redirect::to(&format!("{path}?said=saved")).into_response();
    }
    // The candidate: what applies now, with the typed parts over it.
    let mut candidate = (*current).clone();
    let mut failures = Vec::new();
    let mut changed: Vec<(&'static str, String)> = Vec::new();
    for part in TemplateSet::PARTS {
        let typed = fields.get(part).replace("\r\n", "\n");
        let now_source = current.source(&name, locale, part);
        if now_source.as_deref() == Some(typed.as_str())
            || (now_source.is_none() && typed.trim().is_empty())
        {
            continue;
        }
        if typed.trim().is_empty() && part != "sms" {
            failures.push(format!(
                "{part}: {}",
                t.s("this part cannot be empty; every e-mail needs a subject, a text and an HTML part")
            ));
            continue;
        }
        if typed.trim().is_empty() {
            // An empty .sms part would send empty text messages.
            failures.push(format!(
                "{part}: {}",
                t.s("an empty SMS part would send empty messages; write the SMS, or undo the edit with Back to the file's version")
            ));
            continue;
        }
        match candidate.set_part(&name, locale, part, typed.clone()) {
            Ok(()) => changed.push((part, typed)),
            Err(e) => failures.push(e.to_string()),
        }
    }
    if failures.is_empty()
        && let Err(fs) =
            candidate.render_exactly(&name, locale, &herald_render::sample_context(&name, locale))
    {
        failures.extend(fs.iter().map(ToString::to_string));
    }
    let customer = fields.opt("customer");
    let rule = fields.opt("rule");
    let invoice = fields.opt("invoice");
    let (mut preview, mut preview_error) = (None, None);
    if failures.is_empty()
        && let (Some(rule), Some(c)) = (&rule, &customer)
    {
        match c.parse::<herald_core::CustomerId>() {
            Err(e) => preview_error = Some(format!("{}: {e}", t.s("Customer"))),
            Ok(cid) => {
                let req = crate::documents::PreviewRequest {
                    rule,
                    customer: Some(cid),
                    invoice: invoice.as_deref(),
                    subject: None,
                    locale: Some(locale),
                    now: console.clock.now(),
                };
                match crate::documents::preview_with(app, &req, &candidate, Some(&name)).await {
                    Ok(p) => preview = Some(super::preview::Shown::of(&p)),
                    Err(e) => preview_error = Some(super::preview::refusal_text(e)),
                }
            }
        }
    }
    if fields.get("action") == "save" && failures.is_empty() {
        if changed.is_empty() {
            return axum::response::Redirect::to(&path).into_response();
        }
        let file_version = app.file_templates.clone();
        for (part, source) in &changed {
            let key = template_key(&name, locale, part);
            // Typing the file's version back is the same as removing the edit.
            let same_as_file = file_version.source(&name, locale, part).as_deref() == Some(source);
            let detail = if same_as_file {
                format!("template {name} {locale}.{part}: set back to the file's version")
            } else {
                format!(
                    "template {name} {locale}.{part}: {} characters (was {})",
                    source.chars().count(),
                    current
                        .source(&name, locale, part)
                        .map_or(0, |s| s.chars().count())
                )
            };
            let value = (!same_as_file).then_some(source.as_str());
            if let Err(r) = store_setting(&console, &signed, &key, value, &detail).await {
                return r.into_response();
            }
        }
        return axum::response::Redirect::to(&format!("{path}?said=saved")).into_response();
    }
    let f = Frame::new(&console, &signed, "settings", path.clone());
    let parts = TemplateSet::PARTS
        .iter()
        .map(|&part| {
            let (origin, edited) = template_origin(&console, &f, &name, locale, part);
            PartBox {
                part,
                source: fields.get(part).replace("\r\n", "\n"),
                origin,
                edited,
            }
        })
        .collect();
    let rules = rules_using(&console, &name);
    let status = if failures.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = TemplatePage {
        admin: true,
        action: path,
        name,
        locale: locale.to_string(),
        parts,
        rules,
        rule: rule.unwrap_or_default(),
        customer: customer.unwrap_or_default(),
        invoice: invoice.unwrap_or_default(),
        failures,
        preview,
        preview_error,
        f,
    };
    let mut r = (status, render(&page)).into_response();
    super::preview::allow_message_styles(&mut r);
    r
}

// ---------------------------------------------------------------- channel tests

#[derive(askama::Template)]
#[template(path = "console/test_result.html")]
struct TestPage {
    f: Frame,
    what: String,
    steps: Vec<(bool, String)>,
    ok: bool,
}

/// "Test connection" and "send test message" for an e-mail account (seeds 002,
/// 003): each step the connection takes, and the server's answer to the message.
pub async fn test_email(
    State(console): State<Arc<Console>>,
    signed: Signed,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.admin_form(&fields) {
        return r.into_response();
    }
    let t = signed.lang;
    let app = &console.app;
    let config = &app.config;
    let key = fields.get("account").to_owned();
    let (settings, from, label) = if key.is_empty() {
        let s = match &config.email {
            EmailChannelConfig::Smtp(s) => Some(s.clone()),
            EmailChannelConfig::File => None,
        };
        (s, app.shared.from.clone(), "the shared account".to_owned())
    } else {
        let Some(a) = config.accounts.iter().find(|a| a.name == key) else {
            return unprocessable(t, &format!("account: there is no account '{key}'"));
        };
        (
            Some(a.settings.clone()),
            Mailbox::new(a.from_name.clone(), a.from.clone()),
            format!("account {key}"),
        )
    };
    let to = match fields.opt("to") {
        None => None,
        Some(a) => match herald_core::EmailAddress::parse(&a) {
            Ok(e) => Some(e),
            Err(e) => return unprocessable(t, &format!("{}: {}", t.s("Address"), e.0)),
        },
    };
    let mut steps: Vec<(bool, String)> = Vec::new();
    let mut ok = true;
    let now = console.clock.now();
    match &settings {
        Some(s) => {
            let channel = SmtpChannel::new(s.clone());
            let mut seen = Vec::new();
            let opened = channel
                .open(&mut |step: &str| seen.push(step.to_owned()))
                .await;
            steps.extend(seen.into_iter().map(|s| (true, s)));
            if let Err(e) = opened {
                steps.push((false, format!("{}: {}", e.step, e.detail)));
                ok = false;
            }
            if ok && let Some(to) = &to {
                let msg = test_message(&from, to, now, &format!("{}:{}", s.host, s.port));
                let outcome = herald_channels::EmailChannel::send_email(&channel, 0, &msg).await;
                push_outcome(&mut steps, &mut ok, to.as_str(), &outcome);
            }
        }
        None => {
            steps.push((
                true,
                format!(
                    "e-mail goes to the file outbox {}; no server to connect to",
                    config.outbox_dir.display()
                ),
            ));
            if let Some(to) = &to {
                let msg = test_message(&from, to, now, "the file outbox");
                let outcome = app.shared.channel.send_email(0, &msg).await;
                push_outcome(&mut steps, &mut ok, to.as_str(), &outcome);
            }
        }
    }
    let what = match &to {
        Some(to) => format!("{label}: test message to {to}"),
        None => format!("{label}: test connection"),
    };
    finish_test(&console, &signed, "settings.test_email", what, steps, ok).await
}

fn test_message(
    from: &Mailbox,
    to: &herald_core::EmailAddress,
    now: jiff::Timestamp,
    through: &str,
) -> EmailMessage {
    EmailMessage {
        message_id: format!("herald-test-{}@{}", now.as_millisecond(), from.domain()),
        date: now,
        from: from.clone(),
        reply_to: None,
        to: vec![Mailbox::new(None, to.clone())],
        subject: "herald: test message".to_owned(),
        text: format!("This is a test message from herald's console, sent through {through}.\n"),
        html: format!(
            "<p>This is a test message from herald's console, sent through {through}.</p>"
        ),
        attachments: Vec::new(),
        read_receipt_to: None,
        headers: Vec::new(),
    }
}

fn push_outcome(steps: &mut Vec<(bool, String)>, ok: &mut bool, to: &str, outcome: &Outcome) {
    let delivered = outcome.is_delivered();
    *ok &= delivered;
    steps.push((delivered, format!("{to}: {}", outcome.detail())));
}

/// "Send test SMS" (seed 002): through the configured gateway, or into the SMS outbox.
pub async fn test_sms(
    State(console): State<Arc<Console>>,
    signed: Signed,
    fields: Fields,
) -> Response {
    if let Err(r) = signed.admin_form(&fields) {
        return r.into_response();
    }
    let t = signed.lang;
    let app = &console.app;
    let to = match herald_core::PhoneNumber::parse(fields.get("to")) {
        Ok(n) => n,
        Err(e) => return unprocessable(t, &format!("{}: {}", t.s("Phone number"), e.0)),
    };
    let now = console.clock.now();
    let msg = SmsMessage {
        id: format!("herald-test-{}", now.as_millisecond()),
        to: to.clone(),
        sender: app.config.sms_sender.clone(),
        body: "herald: test SMS from the console".to_owned(),
        date: now,
        metadata: serde_json::Map::new(),
    };
    let outcome = app.sms.send_sms(0, &msg).await;
    let mut steps = Vec::new();
    let mut ok = true;
    push_outcome(&mut steps, &mut ok, &to.to_string(), &outcome);
    finish_test(
        &console,
        &signed,
        "settings.test_sms",
        format!("test SMS to {to}"),
        steps,
        ok,
    )
    .await
}

/// Records a test in the audit log and shows how it went.
async fn finish_test(
    console: &Console,
    signed: &Signed,
    action: &str,
    what: String,
    steps: Vec<(bool, String)>,
    ok: bool,
) -> Response {
    let detail = format!(
        "{}: {}",
        if ok { "ok" } else { "failed" },
        steps
            .iter()
            .map(|(_, s)| s.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    );
    if let Err(e) = console
        .app
        .store
        .audit(console.clock.now(), &signed.actor(), action, &what, &detail)
        .await
    {
        return internal(e.into());
    }
    tracing::info!(actor = %signed.actor(), %what, %detail, "console channel test");
    let f = Frame::new(console, signed, "settings", "/console/settings".to_owned());
    render(&TestPage { f, what, steps, ok })
}

// ---------------------------------------------------------------- audit log

struct AuditLine {
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

#[derive(askama::Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    f: Frame,
    rows: Vec<AuditLine>,
}

pub async fn audit(
    State(console): State<Arc<Console>>,
    signed: Signed,
    RawQuery(raw): RawQuery,
) -> Response {
    if let Err(r) = signed.require(Role::Admin) {
        return r.into_response();
    }
    let f = Frame::new(&console, &signed, "audit", here("/console/audit", &raw));
    let rows = match console.app.store.audit_entries(500).await {
        Ok(r) => r,
        Err(e) => return internal(e.into()),
    };
    let rows = rows
        .into_iter()
        .map(|r| AuditLine {
            at: f.when(&r.at),
            actor: r.actor,
            action: r.action,
            target: r.target,
            detail: r.detail,
        })
        .collect();
    render(&AuditPage { f, rows })
}
