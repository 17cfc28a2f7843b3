//! The default templates, embedded at build time so the binary works without a
//! templates folder and `herald init` can write them out for editing.

/// One embedded file: template name, locale, part (file extension) and source.
pub(crate) type BuiltinFile = (&'static str, &'static str, &'static str, &'static str);

macro_rules! embed {
    ($($name:literal => [$($part:literal),+];)+) => {
        &[$($(
            ($name, "en", $part, include_str!(concat!("../templates/", $name, "/en.", $part))),
            ($name, "pl", $part, include_str!(concat!("../templates/", $name, "/pl.", $part))),
            ($name, "cs", $part, include_str!(concat!("../templates/", $name, "/cs.", $part))),
            ($name, "ro", $part, include_str!(concat!("../templates/", $name, "/ro.", $part))),
        )+)+]
    };
}

pub(crate) const FILES: &[BuiltinFile] = embed! {
    "new-invoice" => ["subject", "txt", "html", "sms"];
    "due-soon" => ["subject", "txt", "html", "sms"];
    "grace-end" => ["subject", "txt", "html", "sms"];
    "dunning-1" => ["subject", "txt", "html"];
    "dunning-2" => ["subject", "txt", "html"];
    "dunning-3" => ["subject", "txt", "html"];
    "dunning-resend" => ["subject", "txt", "html"];
    "task-reminder" => ["subject", "txt", "html", "sms"];
    "task-reminder-operator" => ["subject", "txt", "html", "sms"];
    "customs-ie529" => ["subject", "txt", "html"];
    "customs-ie599" => ["subject", "txt", "html"];
    "customs-ie509" => ["subject", "txt", "html"];
    "audit-finished" => ["subject", "txt", "html"];
    "documents-delivered" => ["subject", "txt", "html"];
    "client-activity" => ["subject", "txt", "html"];
    "reading-period-started" => ["subject", "txt", "html", "sms"];
    "operator-digest" => ["subject", "txt", "html"];
    "operators-summary" => ["subject", "txt", "html"];
    "absence-added" => ["subject", "txt", "html"];
};
