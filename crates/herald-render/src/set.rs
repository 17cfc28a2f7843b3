//! A set of message templates and the minijinja environment that renders them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use herald_core::Locale;
use herald_core::message::MessageContext;
use minijinja::syntax::SyntaxConfig;
use minijinja::{
    AutoEscape, Environment, Error, ErrorKind, Output, State, UndefinedBehavior, Value,
};

use crate::builtin;
use crate::error::{CheckFailure, RenderError, TemplateError};
use crate::format::{format_date, format_money, plural_days};
use crate::sample::sample_context;

/// Enough for a dunning letter listing thousands of invoices, small enough that a
/// runaway loop in a user's template fails in milliseconds instead of hanging sends.
const FUEL: u64 = 2_000_000;

/// The files one locale of a template consists of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    Subject,
    Txt,
    Html,
    Sms,
}

impl Part {
    const ALL: [Part; 4] = [Part::Subject, Part::Txt, Part::Html, Part::Sms];
    const REQUIRED: [Part; 3] = [Part::Subject, Part::Txt, Part::Html];

    fn as_str(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Txt => "txt",
            Part::Html => "html",
            Part::Sms => "sms",
        }
    }
    fn parse(s: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Which parts of a template to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// Subject, text, HTML and SMS: previews and checks.
    All,
    /// Subject, text and HTML.
    Email,
    /// The SMS part, or the text part when the template has no SMS part.
    Sms,
}

/// A message rendered in one locale, ready for a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMessage {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Only when the template has an `.sms` part.
    pub sms: Option<String>,
    /// The locale actually used after fallback, to record what the customer got.
    pub locale: Locale,
    pub template: String,
}

/// Templates by name and locale, compiled once so rendering a batch costs no parsing.
#[derive(Clone)]
pub struct TemplateSet {
    env: Environment<'static>,
    /// name → locale → whether the locale has an `.sms` part.
    index: BTreeMap<String, BTreeMap<Locale, bool>>,
}

impl fmt::Debug for TemplateSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.index
                    .iter()
                    .map(|(n, ls)| (n, ls.keys().collect::<Vec<_>>())),
            )
            .finish()
    }
}

fn key(name: &str, locale: Locale, part: Part) -> String {
    format!("{name}/{locale}.{}", part.as_str())
}

/// Reads the letter's language from the context, so filters format in the locale
/// the template was chosen for (after fallback), not the customer's preference.
fn context_locale(state: &State, filter: &str) -> Result<Locale, Error> {
    let value = state.lookup("locale").unwrap_or(Value::UNDEFINED);
    value
        .as_str()
        .and_then(|s| Locale::parse(s).ok())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("the {filter} filter needs `locale` (en, pl, cs or ro) in the context"),
            )
        })
}

fn filter_money(state: &State, value: Value) -> Result<String, Error> {
    let locale = context_locale(state, "money")?;
    let bad = |why: &str| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("money expects {{amount, currency}}, e.g. invoice.balance; {why}"),
        )
    };
    let amount = value.get_attr("amount").map_err(|_| bad("no amount"))?;
    let currency = value.get_attr("currency").map_err(|_| bad("no currency"))?;
    if amount.is_undefined() || currency.is_undefined() {
        return Err(bad(&format!("got {value}")));
    }
    let amount: rust_decimal::Decimal = amount
        .to_string()
        .parse()
        .map_err(|_| bad(&format!("'{amount}' is not a number")))?;
    let currency = herald_core::Currency::parse(&currency.to_string()).map_err(|e| bad(&e.0))?;
    Ok(format_money(
        &herald_core::Money::new(amount, currency),
        locale,
    ))
}

fn filter_date(state: &State, value: Value) -> Result<String, Error> {
    let locale = context_locale(state, "date")?;
    let date: jiff::civil::Date = value.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("date expects a YYYY-MM-DD date, e.g. invoice.due_date; got {value}"),
        )
    })?;
    Ok(format_date(date, locale))
}

fn filter_plural_days(state: &State, n: i64) -> Result<String, Error> {
    Ok(plural_days(n, context_locale(state, "plural_days")?))
}

fn new_env() -> Environment<'static> {
    let mut env = Environment::new();
    // Block tags on their own line leave no blank line behind, so plain-text
    // letters can use `{% if %}` / `{% for %}` on separate lines and stay tidy.
    if let Ok(syntax) = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .build()
    {
        env.set_syntax(syntax);
    }
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // Only the HTML body is markup; escaping a subject or an SMS would show `&amp;`.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(html_formatter);
    env.add_filter("money", filter_money);
    env.add_filter("date", filter_date);
    env.add_filter("plural_days", filter_plural_days);
    env
}

/// Escapes the five characters that matter in HTML text and attributes. minijinja's
/// own escaper also turns `/` into `&#x2f;`, which is only needed inside `<script>`
/// (the templates have none) and makes invoice numbers like `FV/2026/11/052`
/// unreadable in the message source and unsearchable in archives.
fn html_formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if *state.auto_escape() != AutoEscape::Html || value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    out.write_str(&escaped).map_err(Error::from)
}

/// Turns a minijinja error into a line and a message a template author can act on.
fn describe(err: &Error) -> (Option<usize>, String) {
    let message = if err.kind() == ErrorKind::UndefinedError {
        // minijinja says "`invoce` is undefined" (or only where, in older forms);
        // either way the author needs the name of what they mistyped.
        let named = err
            .detail()
            .and_then(|d| d.strip_suffix("` is undefined"))
            .and_then(|d| d.strip_prefix('`'))
            .map(str::to_owned);
        let quoted = || {
            let (range, src) = (err.range()?, err.template_source()?);
            src.get(range).map(str::to_owned)
        };
        match named.or_else(quoted) {
            Some(name) => format!("undefined variable '{name}'"),
            None => "undefined variable".to_owned(),
        }
    } else {
        match err.detail() {
            Some(detail) => format!("{}: {detail}", err.kind()),
            None => err.kind().to_string(),
        }
    };
    (err.line(), message)
}

impl TemplateSet {
    /// An empty set with a configured environment; filled by the loaders.
    fn empty() -> Self {
        Self {
            env: new_env(),
            index: BTreeMap::new(),
        }
    }

    fn add(
        &mut self,
        name: &str,
        locale: Locale,
        part: Part,
        source: String,
    ) -> Result<(), TemplateError> {
        self.env
            .add_template_owned(key(name, locale, part), source)
            .map_err(|e| {
                let (line, message) = describe(&e);
                TemplateError::Syntax {
                    template: name.to_owned(),
                    locale,
                    part: part.as_str().to_owned(),
                    line,
                    message,
                }
            })?;
        let entry = self
            .index
            .entry(name.to_owned())
            .or_default()
            .entry(locale)
            .or_insert(false);
        *entry |= part == Part::Sms;
        Ok(())
    }

    /// Refuses a locale that lacks a required part; `dir` is only for the message.
    fn ensure_complete(&self, dir: &Path) -> Result<(), TemplateError> {
        for (name, locales) in &self.index {
            for &locale in locales.keys() {
                for part in Part::REQUIRED {
                    if self.env.get_template(&key(name, locale, part)).is_err() {
                        return Err(TemplateError::Incomplete {
                            template: name.clone(),
                            locale,
                            part: part.as_str().to_owned(),
                            path: dir.join(name).join(format!("{locale}.{}", part.as_str())),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The default templates shipped with herald (en, pl, cs, ro).
    pub fn builtin() -> Self {
        let mut set = Self::empty();
        for &(name, locale, part, source) in builtin::FILES {
            let (Ok(locale), Some(part)) = (Locale::parse(locale), Part::parse(part)) else {
                unreachable!("builtin list names only known locales and parts");
            };
            if let Err(e) = set.add(name, locale, part, source.to_owned()) {
                // The builtin templates are checked by the test suite; a broken one
                // is a build defect, not something a user can fix.
                panic!("builtin template is invalid: {e}");
            }
        }
        set
    }

    /// Loads `dir/<name>/<locale>.<part>` files. Anything else in the tree is an
    /// error naming the file, so a misspelt `pl.txt` is never silently ignored.
    /// Files starting with `.` (editor swap files, `.gitkeep`) are skipped.
    pub fn load_dir(dir: &Path) -> Result<Self, TemplateError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| TemplateError::Io { path, source }
        };
        let mut set = Self::empty();
        let mut entries = sorted_entries(dir).map_err(io(dir))?;
        entries.retain(|p| !is_hidden(p));
        for tdir in entries {
            let bad = |reason: &str| TemplateError::BadFileName {
                path: tdir.clone(),
                reason: reason.to_owned(),
            };
            if !tdir.is_dir() {
                return Err(bad(
                    "expected only template folders here (<name>/<locale>.<part>)",
                ));
            }
            let name = file_name(&tdir);
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(bad(
                    "a template folder name may contain only letters, digits, '-' and '_'",
                ));
            }
            for file in sorted_entries(&tdir).map_err(io(&tdir))? {
                if is_hidden(&file) {
                    continue;
                }
                let (locale, part) = parse_file_name(&file)?;
                let source = std::fs::read_to_string(&file).map_err(io(&file))?;
                set.add(&name, locale, part, source)?;
            }
        }
        set.ensure_complete(dir)?;
        Ok(set)
    }

    /// Writes the default templates in the layout `load_dir` reads, keeping any
    /// file that already exists: an operator's edits are never overwritten.
    pub fn write_builtin(dir: &Path) -> std::io::Result<()> {
        for &(name, locale, part, source) in builtin::FILES {
            let tdir = dir.join(name);
            std::fs::create_dir_all(&tdir)?;
            let path = tdir.join(format!("{locale}.{part}"));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => std::io::Write::write_all(&mut f, source.as_bytes())?,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The parts a template's locale may have, as the files are named.
    pub const PARTS: [&'static str; 4] = ["subject", "txt", "html", "sms"];

    /// Replaces one part of a template that exists in `locale` (or gives it an
    /// `.sms` part): the console's edit, laid over the files. A part that does not
    /// parse is refused, naming the line, and the set is left as it was.
    pub fn set_part(
        &mut self,
        name: &str,
        locale: Locale,
        part: &str,
        source: String,
    ) -> Result<(), TemplateError> {
        let bad = |reason: String| TemplateError::BadFileName {
            path: PathBuf::from(format!("{name}/{locale}.{part}")),
            reason,
        };
        let Some(p) = Part::parse(part) else {
            return Err(bad("a part is subject, txt, html or sms".to_owned()));
        };
        if !self.has_locale(name, locale) {
            return Err(bad(format!(
                "there is no template '{name}' in {locale} to change; templates: {}",
                self.names().join(", ")
            )));
        }
        self.add(name, locale, p, source)
    }

    /// A part's source as the set holds it, `None` when the template has no such part.
    pub fn source(&self, name: &str, locale: Locale, part: &str) -> Option<String> {
        let p = Part::parse(part)?;
        self.env
            .get_template(&key(name, locale, p))
            .ok()
            .map(|t| t.source().to_owned())
    }

    /// Renders every part of `name` in exactly `locale` against `ctx`: what the
    /// console shows before it saves an edit, with each failure's part and line.
    pub fn render_exactly(
        &self,
        name: &str,
        locale: Locale,
        ctx: &MessageContext,
    ) -> Result<RenderedMessage, Vec<CheckFailure>> {
        self.render_in(name, locale, ctx, Parts::All)
    }

    /// Template names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.index.keys().cloned().collect()
    }

    /// The locales a template exists in (empty for an unknown template).
    pub fn locales_of(&self, name: &str) -> Vec<Locale> {
        self.index
            .get(name)
            .map(|ls| ls.keys().copied().collect())
            .unwrap_or_default()
    }

    pub fn has(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    fn has_locale(&self, name: &str, locale: Locale) -> bool {
        self.index
            .get(name)
            .is_some_and(|ls| ls.contains_key(&locale))
    }

    fn render_part(
        &self,
        name: &str,
        locale: Locale,
        part: Part,
        ctx: &Value,
    ) -> Result<String, CheckFailure> {
        let failure = |e: &Error| {
            let (line, message) = describe(e);
            CheckFailure {
                template: name.to_owned(),
                locale,
                part: part.as_str().to_owned(),
                line,
                message,
            }
        };
        let template = self
            .env
            .get_template(&key(name, locale, part))
            .map_err(|e| failure(&e))?;
        template.render(ctx).map_err(|e| failure(&e))
    }

    fn render_in(
        &self,
        name: &str,
        locale: Locale,
        ctx: &MessageContext,
        parts: Parts,
    ) -> Result<RenderedMessage, Vec<CheckFailure>> {
        // The letter's numbers and dates must match its language, which after
        // fallback may differ from the customer's preference: `locale` is laid
        // over the context rather than written into a copy of it.
        let value = minijinja::context! {
            locale => locale.as_str(),
            ..Value::from(minijinja::value::Serde(ctx))
        };
        let has_sms = self
            .index
            .get(name)
            .and_then(|ls| ls.get(&locale))
            .copied()
            .unwrap_or(false);
        let mut failures = Vec::new();
        let mut out = |part: Part| match self.render_part(name, locale, part, &value) {
            Ok(s) => s,
            Err(f) => {
                failures.push(f);
                String::new()
            }
        };
        let email = parts != Parts::Sms;
        let subject = if email {
            one_line(&out(Part::Subject))
        } else {
            String::new()
        };
        // An SMS without an .sms template is sent as the text part.
        let text = if email || !has_sms {
            out(Part::Txt)
        } else {
            String::new()
        };
        let html = if email {
            out(Part::Html)
        } else {
            String::new()
        };
        let sms = (has_sms && parts != Parts::Email)
            .then(|| out(Part::Sms).trim_matches(is_breaking_space).to_owned());
        if !failures.is_empty() {
            return Err(failures);
        }
        Ok(RenderedMessage {
            subject,
            text,
            html,
            sms,
            locale,
            template: name.to_owned(),
        })
    }

    /// Renders `name` in the first locale of `locale.fallback_chain(tenant_default)`
    /// that has it.
    pub fn render(
        &self,
        name: &str,
        locale: Locale,
        tenant_default: Locale,
        ctx: &MessageContext,
    ) -> Result<RenderedMessage, RenderError> {
        self.render_parts(name, locale, tenant_default, ctx, Parts::All)
    }

    /// As [`TemplateSet::render`], rendering only the parts a channel sends: the
    /// dispatcher renders every message, and the parts it would drop cost as much.
    pub fn render_parts(
        &self,
        name: &str,
        locale: Locale,
        tenant_default: Locale,
        ctx: &MessageContext,
        parts: Parts,
    ) -> Result<RenderedMessage, RenderError> {
        let tried = locale.fallback_chain(tenant_default);
        let Some(&used) = tried.iter().find(|&&l| self.has_locale(name, l)) else {
            return Err(RenderError::NotFound {
                template: name.to_owned(),
                tried,
            });
        };
        self.render_in(name, used, ctx, parts)
            .map_err(|mut failures| RenderError::from(failures.remove(0)))
    }

    /// Renders every template in every locale it has against `sample_context`, so
    /// a typo is found by `herald check`, not by a customer.
    pub fn check(&self) -> Vec<CheckFailure> {
        let mut failures = Vec::new();
        for (name, locales) in &self.index {
            for &locale in locales.keys() {
                if let Err(f) =
                    self.render_in(name, locale, &sample_context(name, locale), Parts::All)
                {
                    failures.extend(f);
                }
            }
        }
        failures
    }
}

/// A subject is one header line: surrounding whitespace and line breaks a template
/// leaves behind must not reach the mail header.
/// No-break spaces are kept: they hold `1234,50 zł` together on purpose.
fn one_line(s: &str) -> String {
    s.split(is_breaking_space)
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_breaking_space(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{202f}' | '\u{2007}')
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    v.sort();
    Ok(v)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn is_hidden(p: &Path) -> bool {
    file_name(p).starts_with('.')
}

fn parse_file_name(path: &Path) -> Result<(Locale, Part), TemplateError> {
    let bad = |reason: String| TemplateError::BadFileName {
        path: path.to_path_buf(),
        reason,
    };
    let name = file_name(path);
    if !path.is_file() {
        return Err(bad("expected a file <locale>.<part>, found a folder".into()));
    }
    let Some((locale, part)) = name.split_once('.') else {
        return Err(bad(
            "expected <locale>.<part>, e.g. pl.txt (parts: subject, txt, html, sms)".into(),
        ));
    };
    let locale = match locale {
        "en" => Locale::En,
        "pl" => Locale::Pl,
        "cs" => Locale::Cs,
        "ro" => Locale::Ro,
        other => {
            return Err(bad(format!(
                "'{other}' is not a supported locale: use en, pl, cs or ro"
            )));
        }
    };
    let part = Part::parse(part).ok_or_else(|| {
        bad(format!(
            "'.{part}' is not a template part: use .subject, .txt, .html or .sms"
        ))
    })?;
    Ok((locale, part))
}
