//! Errors carry template, locale, part and line so an operator can open the right
//! file at the right line without re-running anything.

use std::fmt;
use std::path::PathBuf;

use herald_core::Locale;

/// Renders an optional template line as `, line 4` (or nothing when unknown).
pub(crate) struct AtLine(pub Option<usize>);

impl fmt::Display for AtLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(line) => write!(f, ", line {line}"),
            None => Ok(()),
        }
    }
}

fn locale_list(locales: &[Locale]) -> String {
    locales
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a template directory could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    BadFileName { path: PathBuf, reason: String },
    #[error(
        "template {template}, locale {locale}: {} is missing; each locale of a template needs a .subject, .txt and .html file",
        path.display()
    )]
    Incomplete {
        template: String,
        locale: Locale,
        part: String,
        path: PathBuf,
    },
    #[error("template {template}, locale {locale}, part {part}{}: {message}", AtLine(*line))]
    Syntax {
        template: String,
        locale: Locale,
        part: String,
        line: Option<usize>,
        message: String,
    },
}

/// Why a message could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error(
        "template {template} does not exist in any of the locales tried ({})",
        locale_list(tried)
    )]
    NotFound {
        template: String,
        tried: Vec<Locale>,
    },
    #[error("template {template}, locale {locale}, part {part}{}: {message}", AtLine(*line))]
    Part {
        template: String,
        locale: Locale,
        part: String,
        line: Option<usize>,
        message: String,
    },
}

/// One template part that failed to render against sample data (`herald check`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    pub template: String,
    pub locale: Locale,
    /// `subject`, `txt`, `html` or `sms`.
    pub part: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "template {}, locale {}, part {}{}: {}",
            self.template,
            self.locale,
            self.part,
            AtLine(self.line),
            self.message
        )
    }
}

impl From<CheckFailure> for RenderError {
    fn from(c: CheckFailure) -> Self {
        RenderError::Part {
            template: c.template,
            locale: c.locale,
            part: c.part,
            line: c.line,
            message: c.message,
        }
    }
}
