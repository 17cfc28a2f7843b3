//! The e-mail a channel sends, and its RFC 5322 form.
//!
//! [`build_eml`] is shared by every e-mail channel: the file outbox writes its bytes,
//! SMTP will send the same bytes, so what an operator inspects in the outbox is exactly
//! what a mail server would have received.

use std::fmt;
use std::path::Path;
use std::time::SystemTime;

use herald_core::EmailAddress;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, MultiPart, SinglePart};

use crate::ChannelError;
use crate::rfc5322::{self, Field, TextEncoding};

/// A display name and an address, as in `"Biuro Rachunkowe" <biuro@example.pl>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: EmailAddress,
}

impl Mailbox {
    pub fn new(name: Option<String>, address: EmailAddress) -> Self {
        Self { name, address }
    }

    /// The part after `@`: the sender's domain is what a Message-ID should name, so
    /// receivers attribute the id to the organisation that sent it.
    pub fn domain(&self) -> &str {
        let a = self.address.as_str();
        a.rsplit_once('@').map_or(a, |(_, d)| d)
    }
}

/// A file sent with a message. Bytes are held in memory: letters carry invoices and
/// customs documents, not archives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A rendered e-mail, ready for any e-mail channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// Without angle brackets, e.g. `herald-delivery-42@example.pl`; see [`message_id_for`].
    pub message_id: String,
    pub date: jiff::Timestamp,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
    /// Asks the recipient's mail program for a read receipt (RFC 8098
    /// `Disposition-Notification-To`), to this mailbox. Receivers may ignore it.
    pub read_receipt_to: Option<Mailbox>,
    /// Extra headers such as `X-Herald-Notification`, `X-Herald-Delivery`,
    /// `X-Herald-Rule`. Only `X-` names are accepted, so a template can never
    /// override `From`, `To` or another header a receiver trusts.
    pub headers: Vec<(String, String)>,
}

/// Message-ID derived from the delivery id, so a retried or re-leased delivery carries
/// the same id and receivers fold duplicates.
///
/// `domain` should be the From address's domain ([`Mailbox::domain`]). An empty domain
/// falls back to `herald.invalid` rather than failing, because a delivery must always
/// have an id to be traced by.
pub fn message_id_for(delivery_id: i64, domain: &str) -> String {
    let domain = domain
        .trim()
        .trim_matches(['<', '>', '@'])
        .to_ascii_lowercase();
    let domain = if domain.is_empty() || domain.contains(|c: char| c.is_whitespace() || c == '@') {
        "herald.invalid".to_owned()
    } else {
        domain
    };
    format!("herald-delivery-{delivery_id}@{domain}")
}

/// The content type for an attachment's file name. Receivers choose a viewer by it, so
/// a PDF sent as octet-stream would open as a download prompt instead of a preview.
pub fn content_type_for(filename: &str) -> &'static str {
    let ext = Path::new(filename)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "json" => "application/json",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Reads a file to attach. Errors name the path, the reason and what to change,
/// because the path usually comes from an event or a rule the user wrote.
pub fn load_attachment(path: &Path) -> Result<Attachment, ChannelError> {
    let fail = |reason: String, fix: &'static str| ChannelError::AttachmentFile {
        path: path.to_path_buf(),
        reason,
        fix,
    };
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            fail(
                "the path has no file name".into(),
                "point the attachment at a file, not a directory",
            )
        })?;
    if path.is_dir() {
        return Err(fail(
            "it is a directory".into(),
            "point the attachment at a file inside it",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        let fix = match e.kind() {
            std::io::ErrorKind::NotFound => {
                "check the path; a relative path is resolved from herald's working directory"
            }
            std::io::ErrorKind::PermissionDenied => {
                "give the user running herald read permission on the file"
            }
            _ => "check that the file is readable and try again",
        };
        fail(e.to_string(), fix)
    })?;
    Ok(Attachment {
        content_type: content_type_for(&filename).to_owned(),
        filename,
        bytes,
    })
}

/// A DKIM key (RFC 6376) and where its public half is published: the selector
/// and the domain, so receivers find `SELECTOR._domainkey.DOMAIN`.
///
/// Only the selector and the domain print: the key never reaches a log or an error.
pub struct DkimSigner {
    selector: String,
    domain: String,
    config: DkimConfig,
}

impl fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DkimSigner({}._domainkey.{}, key ****)",
            self.selector, self.domain
        )
    }
}

impl DkimSigner {
    /// An RSA key in PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`, what `openssl
    /// genrsa -traditional` writes). The signature covers the headers a reader
    /// trusts (From, To, Subject, Date, Message-ID, Reply-To) and the body, with
    /// relaxed canonicalization so relays that re-fold headers or trim spaces do not
    /// break it. Not Content-Type: lettre writes that header of a multipart message
    /// only when formatting, after signing, so listing it made every signature
    /// fail (found by the dkimpy test).
    pub fn rsa_pem(selector: &str, domain: &str, pem: &str) -> Result<DkimSigner, String> {
        let key = DkimSigningKey::new(pem, DkimSigningAlgorithm::Rsa).map_err(|e| {
            format!(
                "the DKIM key is not an RSA private key in PKCS#1 PEM ({e}); make one with `openssl genrsa -traditional -out dkim.pem 2048`"
            )
        })?;
        let headers = [
            "From",
            "To",
            "Subject",
            "Date",
            "Message-ID",
            "Reply-To",
            "MIME-Version",
        ]
        .into_iter()
        .map(HeaderName::new_from_ascii_str)
        .collect();
        let relaxed = DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        };
        Ok(DkimSigner {
            selector: selector.to_owned(),
            domain: domain.to_owned(),
            config: DkimConfig::new(
                selector.to_owned(),
                domain.to_owned(),
                key,
                headers,
                relaxed,
            ),
        })
    }

    pub fn selector(&self) -> &str {
        &self.selector
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }
}

/// The RFC 5322 bytes of `msg`: multipart/alternative (text, html), wrapped in
/// multipart/mixed when there are attachments.
///
/// The output is a function of `msg` alone (MIME boundaries are derived from the
/// Message-ID rather than random), so re-sending a delivery yields the same bytes.
pub fn build_eml(msg: &EmailMessage) -> Result<Vec<u8>, ChannelError> {
    build_signed_eml(msg, None)
}

/// As [`build_eml`], with a `DKIM-Signature` header when `dkim` is given.
///
/// Signing goes through lettre, which signs the form it writes itself. Without a key
/// herald writes the bytes on its own, several times faster: lettre's builder was a
/// seventh of herald's CPU when sending.
pub fn build_signed_eml(
    msg: &EmailMessage,
    dkim: Option<&DkimSigner>,
) -> Result<Vec<u8>, ChannelError> {
    match dkim {
        Some(d) => build_lettre(msg, Some(d)),
        None => write_eml(msg),
    }
}

/// The message as lettre's builder formats it, without DKIM. Only for tests that
/// compare it with [`build_eml`]'s own writer and for the benchmark.
#[doc(hidden)]
pub fn build_eml_lettre(msg: &EmailMessage) -> Result<Vec<u8>, ChannelError> {
    build_lettre(msg, None)
}

fn build_lettre(msg: &EmailMessage, dkim: Option<&DkimSigner>) -> Result<Vec<u8>, ChannelError> {
    check_message_id(&msg.message_id)?;
    if msg.to.is_empty() {
        return Err(ChannelError::NoRecipient);
    }

    let mut builder = lettre::Message::builder()
        .message_id(Some(format!("<{}>", msg.message_id)))
        .date(SystemTime::from(msg.date))
        .from(to_lettre(&msg.from)?)
        .subject(msg.subject.clone());
    if let Some(r) = &msg.reply_to {
        builder = builder.reply_to(to_lettre(r)?);
    }
    for to in &msg.to {
        builder = builder.to(to_lettre(to)?);
    }
    for (name, value) in &msg.headers {
        builder = builder.raw_header(extra_header(name, value)?);
    }
    if let Some(r) = &msg.read_receipt_to {
        let mailbox = to_lettre(r)?;
        builder = builder.raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Disposition-Notification-To"),
            mailbox.to_string(),
        ));
    }

    let forbidden = [msg.text.as_str(), msg.html.as_str()];
    let alternative = MultiPart::alternative()
        .boundary(boundary(&msg.message_id, "alt", &forbidden))
        .singlepart(SinglePart::plain(msg.text.clone()))
        .singlepart(SinglePart::html(msg.html.clone()));

    let message = if msg.attachments.is_empty() {
        builder.multipart(alternative)
    } else {
        let mut mixed = MultiPart::mixed()
            .boundary(boundary(&msg.message_id, "mixed", &forbidden))
            .multipart(alternative);
        for a in &msg.attachments {
            mixed = mixed.singlepart(attachment_part(a)?);
        }
        builder.multipart(mixed)
    }
    .map_err(|e| ChannelError::Build(e.to_string()))?;
    let mut message = message;
    if let Some(d) = dkim {
        message.sign(&d.config);
    }
    Ok(message.formatted())
}

/// The message written straight into one buffer: every check first, in the order
/// lettre's path made them so both refuse a message with the same error, then the
/// bytes, which can no longer fail.
fn write_eml(msg: &EmailMessage) -> Result<Vec<u8>, ChannelError> {
    check_message_id(&msg.message_id)?;
    if msg.to.is_empty() {
        return Err(ChannelError::NoRecipient);
    }
    let from = display_name(&msg.from)?;
    let reply_to = match &msg.reply_to {
        Some(r) => Some((display_name(r)?, r)),
        None => None,
    };
    for to in &msg.to {
        display_name(to)?;
    }
    for (name, value) in &msg.headers {
        check_extra_header(name, value)?;
    }
    let read_receipt_to = match &msg.read_receipt_to {
        Some(r) => Some((display_name(r)?, r)),
        None => None,
    };
    for a in &msg.attachments {
        check_attachment(a)?;
    }

    let text_encoding = TextEncoding::for_text(&msg.text);
    let html_encoding = TextEncoding::for_text(&msg.html);
    let forbidden = [msg.text.as_str(), msg.html.as_str()];
    let alt = boundary(&msg.message_id, "alt", &forbidden);
    let mixed =
        (!msg.attachments.is_empty()).then(|| boundary(&msg.message_id, "mixed", &forbidden));

    let mut out = Vec::with_capacity(estimated_len(msg));
    out.extend_from_slice(b"Message-ID: <");
    out.extend_from_slice(msg.message_id.as_bytes());
    out.extend_from_slice(b">\r\n");
    rfc5322::date_field(&mut out, msg.date);
    mailbox_field(&mut out, "From", [(from, &msg.from)]);
    if let Some(r) = reply_to {
        mailbox_field(&mut out, "Reply-To", [r]);
    }
    mailbox_field(
        &mut out,
        "To",
        msg.to.iter().map(|m| (m.name.as_deref().map(str::trim), m)),
    );
    let mut subject = Field::start(&mut out, "Subject");
    subject.text(&msg.subject);
    subject.finish();
    for (name, value) in &msg.headers {
        let mut h = Field::start(&mut out, name);
        h.text(value);
        h.finish();
    }
    if let Some(r) = read_receipt_to {
        mailbox_field(&mut out, "Disposition-Notification-To", [r]);
    }
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");

    if let Some(mixed) = &mixed {
        multipart_header(&mut out, "mixed", mixed);
        out.extend_from_slice(b"\r\n");
        delimiter(&mut out, mixed, false);
    }
    multipart_header(&mut out, "alternative", &alt);
    out.extend_from_slice(b"\r\n");
    delimiter(&mut out, &alt, false);
    text_part(&mut out, "text/plain", text_encoding, &msg.text);
    out.extend_from_slice(b"\r\n");
    delimiter(&mut out, &alt, false);
    text_part(&mut out, "text/html", html_encoding, &msg.html);
    out.extend_from_slice(b"\r\n");
    delimiter(&mut out, &alt, true);
    if let Some(mixed) = &mixed {
        for a in &msg.attachments {
            delimiter(&mut out, mixed, false);
            attachment(&mut out, a);
            out.extend_from_slice(b"\r\n");
        }
        delimiter(&mut out, mixed, true);
    }
    Ok(out)
}

/// Enough for the whole message in one allocation in the usual case: quoted-printable
/// of Latin-script text grows by well under a half, base64 by a third.
fn estimated_len(msg: &EmailMessage) -> usize {
    let headers: usize = msg.headers.iter().map(|(n, v)| n.len() + v.len() * 2).sum();
    let mailboxes = msg.to.len() * 100;
    let attachments: usize = msg
        .attachments
        .iter()
        .map(|a| a.bytes.len() / 57 * 78 + 300 + a.filename.len() * 6)
        .sum();
    let text = msg.text.len() + msg.html.len();
    1024 + msg.subject.len() * 2 + headers + mailboxes + text + text / 2 + attachments
}

fn mailbox_field<'m>(
    out: &mut Vec<u8>,
    name: &str,
    mailboxes: impl IntoIterator<Item = (Option<&'m str>, &'m Mailbox)>,
) {
    let mut h = Field::start(out, name);
    let mut it = mailboxes.into_iter().peekable();
    while let Some((display, m)) = it.next() {
        let display = display.filter(|n| !n.is_empty());
        h.mailbox(display, m.address.as_str(), it.peek().is_some());
    }
    h.finish();
}

fn multipart_header(out: &mut Vec<u8>, kind: &str, boundary: &str) {
    out.extend_from_slice(b"Content-Type: multipart/");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"; boundary=\"");
    out.extend_from_slice(boundary.as_bytes());
    out.extend_from_slice(b"\"\r\n");
}

/// `--boundary` (or the closing `--boundary--`) on its own line. The CRLF before it is
/// written by whoever ends the part it follows.
fn delimiter(out: &mut Vec<u8>, boundary: &str, close: bool) {
    out.extend_from_slice(b"--");
    out.extend_from_slice(boundary.as_bytes());
    if close {
        out.extend_from_slice(b"--");
    }
    out.extend_from_slice(b"\r\n");
}

fn text_part(out: &mut Vec<u8>, content_type: &str, encoding: TextEncoding, text: &str) {
    out.extend_from_slice(b"Content-Type: ");
    out.extend_from_slice(content_type.as_bytes());
    out.extend_from_slice(b"; charset=utf-8\r\nContent-Transfer-Encoding: ");
    out.extend_from_slice(encoding.name().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    encoding.write(out, text);
}

fn attachment(out: &mut Vec<u8>, a: &Attachment) {
    let mut h = Field::start(out, "Content-Type");
    h.word3(b"", a.content_type.trim().as_bytes(), b";");
    h.name_param("name", &a.filename);
    h.finish();
    let mut h = Field::start(out, "Content-Disposition");
    h.word(b"attachment;");
    h.filename_param("filename", &a.filename);
    h.finish();
    out.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n\r\n");
    rfc5322::base64_lines(out, &a.bytes);
}

fn check_message_id(id: &str) -> Result<(), ChannelError> {
    let fail = |reason| {
        Err(ChannelError::MessageId {
            message_id: id.to_owned(),
            reason,
        })
    };
    if id.starts_with('<') || id.ends_with('>') {
        return fail("write it without angle brackets");
    }
    match id.split_once('@') {
        Some((l, r)) if !l.is_empty() && !r.is_empty() && !r.contains('@') => {}
        _ => return fail("it must look like left@right"),
    }
    if !id.chars().all(|c| {
        c.is_ascii_graphic()
            && !matches!(
                c,
                '<' | '>' | '"' | '\\' | '(' | ')' | ',' | ';' | ':' | '[' | ']'
            )
    }) {
        return fail("it may contain only printable ASCII without spaces, quotes or brackets");
    }
    Ok(())
}

/// The display name to write for `m`, trimmed (`None` when blank), once its address
/// passed lettre's parser and the name is safe in a header.
fn display_name(m: &Mailbox) -> Result<Option<&str>, ChannelError> {
    check_address(m)?;
    checked_name(m)
}

fn checked_name(m: &Mailbox) -> Result<Option<&str>, ChannelError> {
    let name = m.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if let Some(n) = name
        && n.contains(['\r', '\n'])
    {
        return Err(ChannelError::HeaderValue {
            name: format!("display name of {}", m.address),
        });
    }
    Ok(name)
}

fn check_address(m: &Mailbox) -> Result<lettre::Address, ChannelError> {
    m.address
        .as_str()
        .parse::<lettre::Address>()
        .map_err(|e| ChannelError::Address {
            address: m.address.to_string(),
            reason: e.to_string(),
        })
}

fn to_lettre(m: &Mailbox) -> Result<lettre::message::Mailbox, ChannelError> {
    let address = check_address(m)?;
    let name = checked_name(m)?;
    Ok(lettre::message::Mailbox::new(
        name.map(str::to_owned),
        address,
    ))
}

fn check_extra_header(name: &str, value: &str) -> Result<(), ChannelError> {
    let fail = |reason| {
        Err(ChannelError::HeaderName {
            name: name.to_owned(),
            reason,
        })
    };
    if !(name.starts_with("X-") || name.starts_with("x-")) || name.len() < 3 {
        return fail("it does not start with 'X-'");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return fail("it contains a character other than a letter, digit or '-'");
    }
    if value.contains(['\r', '\n']) {
        return Err(ChannelError::HeaderValue {
            name: name.to_owned(),
        });
    }
    // lettre's limit for header names, kept so both writers accept the same headers.
    if name.len() > 76 {
        return fail("it is longer than 76 characters");
    }
    Ok(())
}

fn extra_header(name: &str, value: &str) -> Result<HeaderValue, ChannelError> {
    check_extra_header(name, value)?;
    let header_name =
        HeaderName::new_from_ascii(name.to_owned()).map_err(|_| ChannelError::HeaderName {
            name: name.to_owned(),
            reason: "it is longer than 76 characters",
        })?;
    Ok(HeaderValue::new(header_name, value.to_owned()))
}

fn check_attachment(a: &Attachment) -> Result<ContentType, ChannelError> {
    if a.filename.trim().is_empty() {
        return Err(ChannelError::AttachmentName {
            filename: a.filename.clone(),
            reason: "it is empty; receivers need a name to save the file under",
        });
    }
    if a.filename.contains(['\r', '\n', '/', '\\']) {
        return Err(ChannelError::AttachmentName {
            filename: a.filename.clone(),
            reason: "it contains a line break or a path separator; use the bare file name",
        });
    }
    let bad_type = || ChannelError::ContentType {
        filename: a.filename.clone(),
        content_type: a.content_type.clone(),
    };
    // The type is written as given, so it must be ASCII too: a parameter in quotes
    // may hold any other byte as far as the MIME parser cares.
    if !a.content_type.is_ascii() {
        return Err(bad_type());
    }
    ContentType::parse(&a.content_type).map_err(|_| bad_type())
}

fn attachment_part(a: &Attachment) -> Result<SinglePart, ChannelError> {
    let content_type = check_attachment(a)?;
    Ok(lettre::message::Attachment::new(a.filename.clone())
        .body(Body::new(a.bytes.clone()), content_type))
}

/// A MIME boundary that is stable for a message yet cannot occur in its parts.
///
/// It starts with `=_`, which never appears in quoted-printable or base64 output, and
/// is re-salted in the unlikely case a 7-bit body happens to contain it.
fn boundary(message_id: &str, tag: &str, bodies: &[&str]) -> String {
    let mut salt = 0u32;
    loop {
        let h = fnv1a(format!("{message_id}\0{tag}\0{salt}").as_bytes());
        let b = format!("=_herald_{tag}_{h:016x}");
        // `str::contains` searches in linear time; comparing every window of the
        // body took as long as encoding it.
        if !bodies.iter().any(|body| body.contains(b.as_str())) {
            return b;
        }
        salt += 1;
    }
}

/// FNV-1a: stable across Rust releases, unlike `DefaultHasher`, so the same message
/// formats to the same bytes whichever herald build wrote it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_is_a_function_of_the_delivery() {
        assert_eq!(
            message_id_for(42, "Example.PL"),
            "herald-delivery-42@example.pl"
        );
        assert_eq!(
            message_id_for(42, "example.pl"),
            message_id_for(42, "example.pl")
        );
        assert_ne!(
            message_id_for(42, "example.pl"),
            message_id_for(43, "example.pl")
        );
        assert_eq!(message_id_for(7, "  "), "herald-delivery-7@herald.invalid");
        assert!(check_message_id(&message_id_for(1, "x.pl")).is_ok());
    }

    #[test]
    fn message_ids_that_would_break_the_header_are_refused() {
        assert!(check_message_id("<a@b>").is_err());
        assert!(check_message_id("no-at-sign").is_err());
        assert!(check_message_id("a b@c").is_err());
        assert!(check_message_id("a@b@c").is_err());
    }

    #[test]
    fn only_x_headers_pass() {
        assert!(extra_header("X-Herald-Rule", "due-soon").is_ok());
        assert!(matches!(
            extra_header("From", "x@y.pl"),
            Err(ChannelError::HeaderName { .. })
        ));
        assert!(matches!(
            extra_header("X-Bad Name", "v"),
            Err(ChannelError::HeaderName { .. })
        ));
        assert!(matches!(
            extra_header("X-Rule", "a\r\nBcc: evil@x.pl"),
            Err(ChannelError::HeaderValue { .. })
        ));
    }

    #[test]
    fn content_types_follow_the_extension_case_insensitively() {
        assert_eq!(content_type_for("FV-2026-11-001.PDF"), "application/pdf");
        assert_eq!(content_type_for("ie529.xml"), "application/xml");
        assert_eq!(content_type_for("scan.JPG"), "image/jpeg");
        assert_eq!(content_type_for("data.bin"), "application/octet-stream");
        assert_eq!(content_type_for("README"), "application/octet-stream");
    }

    #[test]
    fn boundary_avoids_body_content() {
        let first = boundary("id@x", "alt", &[]);
        let second = boundary("id@x", "alt", &[first.as_str()]);
        assert_ne!(first, second);
        assert_eq!(first, boundary("id@x", "alt", &["unrelated"]));
    }
}
