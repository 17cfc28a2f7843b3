use herald_channels::{ChannelError, build_eml, load_attachment, message_id_for};
use mail_parser::{MessageParser, MimeHeaders};

use crate::{SUBJECT, instant, mailbox, sample_email};

fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::default()
        .parse(bytes)
        .expect("build_eml output parses as a message")
}

#[test]
fn headers_round_trip_through_a_real_parser() {
    let msg = sample_email(42);
    let bytes = build_eml(&msg).unwrap();
    let parsed = parse(&bytes);

    assert_eq!(parsed.subject(), Some(SUBJECT));
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("Biuro Rachunkowe Przykład Sp. z o.o."));
    assert_eq!(from.address(), Some("biuro@przyklad.pl"));
    let to = parsed.to().unwrap().first().unwrap();
    assert_eq!(
        (to.name(), to.address()),
        (Some("Jan Kowalski"), Some("Jan.Kowalski@klient.pl"))
    );
    let reply_to = parsed.reply_to().unwrap().first().unwrap();
    assert_eq!(
        (reply_to.name(), reply_to.address()),
        (Some("Księgowość"), Some("ksiegowosc@przyklad.pl"))
    );

    assert_eq!(
        parsed.message_id(),
        Some(message_id_for(42, "przyklad.pl").as_str())
    );
    assert_eq!(parsed.message_id(), Some("herald-delivery-42@przyklad.pl"));
    assert_eq!(parsed.date().unwrap().to_timestamp(), instant().as_second());
    assert!(
        parsed
            .header_raw("MIME-Version")
            .is_some_and(|v| v.trim() == "1.0")
    );

    for (name, value) in &msg.headers {
        assert_eq!(
            parsed.header_raw(name.as_str()).map(str::trim),
            Some(value.as_str()),
            "{name}"
        );
    }
}

#[test]
fn bodies_and_attachment_round_trip_exactly() {
    let msg = sample_email(42);
    let bytes = build_eml(&msg).unwrap();
    let parsed = parse(&bytes);

    assert_eq!(parsed.body_text(0).as_deref(), Some(msg.text.as_str()));
    assert_eq!(parsed.body_html(0).as_deref(), Some(msg.html.as_str()));

    assert_eq!(parsed.attachment_count(), 1);
    let att = parsed.attachment(0).unwrap();
    assert_eq!(att.attachment_name(), Some("FV-2026-11-001.pdf"));
    assert_eq!(att.contents(), msg.attachments[0].bytes.as_slice());
    let ct = att.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("application", Some("pdf")));

    let root = parsed.root_part().content_type().unwrap();
    assert_eq!((root.ctype(), root.subtype()), ("multipart", Some("mixed")));
}

#[test]
fn lone_newlines_become_crlf_and_nothing_else_changes() {
    // The wire form of text is CRLF (RFC 2046); templates written on Unix use LF.
    let mut msg = sample_email(1);
    msg.text = "Linia 1\nLinia 2 – ż\n".to_owned();
    let bytes = build_eml(&msg).unwrap();
    let parsed = parse(&bytes);
    assert_eq!(
        parsed.body_text(0).as_deref(),
        Some("Linia 1\r\nLinia 2 – ż\r\n")
    );
}

#[test]
fn without_attachments_the_root_is_alternative() {
    let mut msg = sample_email(7);
    msg.attachments.clear();
    let bytes = build_eml(&msg).unwrap();
    let parsed = parse(&bytes);
    let root = parsed.root_part().content_type().unwrap();
    assert_eq!(
        (root.ctype(), root.subtype()),
        ("multipart", Some("alternative"))
    );
    assert_eq!(parsed.attachment_count(), 0);
    assert_eq!(parsed.body_html(0).as_deref(), Some(msg.html.as_str()));
}

#[test]
fn raw_form_is_rfc_2047_encoded_and_has_no_overlong_lines() {
    let mut msg = sample_email(42);
    // Long content everywhere a naive writer would emit one huge line.
    msg.subject = format!("{SUBJECT} {}", "ąęłżść ".repeat(60).trim_end());
    msg.text = "żółć ".repeat(500);
    msg.html = format!("<p>{}</p>", "x".repeat(5000));
    msg.headers
        .push(("X-Herald-Note".to_owned(), "długi ".repeat(300)));
    let bytes = build_eml(&msg).unwrap();

    let raw = String::from_utf8(bytes.clone()).expect("the wire form is ASCII");
    assert!(raw.is_ascii(), "8-bit bytes leaked into the message");
    assert!(
        subject_header(&raw).contains("=?utf-8?"),
        "{}",
        subject_header(&raw)
    );
    for (i, line) in raw.split("\r\n").enumerate() {
        assert!(line.len() <= 998, "line {i} is {} bytes long", line.len());
        assert!(!line.contains('\n'), "bare LF on line {i}");
    }
    let parsed = parse(&bytes);
    assert_eq!(parsed.subject(), Some(msg.subject.as_str()));
    assert_eq!(parsed.body_text(0).as_deref(), Some(msg.text.as_str()));
    assert_eq!(parsed.body_html(0).as_deref(), Some(msg.html.as_str()));
}

/// The Subject field with its folded continuation lines, lowercased.
fn subject_header(raw: &str) -> String {
    let mut lines = raw.split("\r\n").skip_while(|l| !l.starts_with("Subject:"));
    let first = lines.next().expect("a Subject header").to_owned();
    let folded = lines.take_while(|l| l.starts_with([' ', '\t']));
    folded.fold(first, |acc, l| acc + l).to_ascii_lowercase()
}

#[test]
fn a_non_ascii_subject_is_rfc_2047_encoded() {
    let raw = String::from_utf8(build_eml(&sample_email(42)).unwrap()).unwrap();
    let subject = subject_header(&raw);
    assert!(subject.is_ascii(), "{subject}");
    assert!(
        subject.contains("=?utf-8?b?") || subject.contains("=?utf-8?q?"),
        "{subject}"
    );
    assert!(!subject.contains("płatności"), "{subject}");
}

#[test]
fn the_same_message_formats_to_the_same_bytes() {
    let a = build_eml(&sample_email(42)).unwrap();
    let b = build_eml(&sample_email(42)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, build_eml(&sample_email(43)).unwrap());
}

#[test]
fn a_subject_line_break_cannot_inject_a_header() {
    let mut msg = sample_email(42);
    msg.subject = "Hello\r\nBcc: attacker@evil.example".to_owned();
    let bytes = build_eml(&msg).unwrap();
    let parsed = parse(&bytes);
    assert!(parsed.bcc().is_none());
    assert!(parsed.header_raw("Bcc").is_none());
}

#[test]
fn bad_input_is_refused_with_a_reason() {
    let mut msg = sample_email(42);
    msg.headers
        .push(("Reply-To".to_owned(), "x@evil.example".to_owned()));
    let err = build_eml(&msg).unwrap_err();
    assert!(matches!(err, ChannelError::HeaderName { .. }), "{err:?}");
    assert!(err.to_string().contains("X-"), "{err}");

    let mut msg = sample_email(42);
    msg.headers.push((
        "X-Herald-Rule".to_owned(),
        "a\nBcc: x@evil.example".to_owned(),
    ));
    assert!(matches!(
        build_eml(&msg),
        Err(ChannelError::HeaderValue { .. })
    ));

    let mut msg = sample_email(42);
    msg.to.clear();
    assert!(matches!(build_eml(&msg), Err(ChannelError::NoRecipient)));

    let mut msg = sample_email(42);
    msg.message_id = "<herald-delivery-42@przyklad.pl>".to_owned();
    assert!(matches!(
        build_eml(&msg),
        Err(ChannelError::MessageId { .. })
    ));

    let mut msg = sample_email(42);
    msg.attachments[0].content_type = "pdf".to_owned();
    assert!(matches!(
        build_eml(&msg),
        Err(ChannelError::ContentType { .. })
    ));
}

#[test]
fn several_recipients_are_all_addressed() {
    let mut msg = sample_email(42);
    msg.to.push(mailbox(None, "druga@klient.pl"));
    let bytes = build_eml(&msg).unwrap();
    let parsed = parse(&bytes);
    let addrs: Vec<_> = parsed
        .to()
        .unwrap()
        .iter()
        .filter_map(|a| a.address())
        .collect();
    assert_eq!(addrs, ["Jan.Kowalski@klient.pl", "druga@klient.pl"]);
}

#[test]
fn load_attachment_reads_bytes_and_guesses_the_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("IE529-2026.XML");
    std::fs::write(&path, b"<IE529/>").unwrap();
    let a = load_attachment(&path).unwrap();
    assert_eq!(a.filename, "IE529-2026.XML");
    assert_eq!(a.content_type, "application/xml");
    assert_eq!(a.bytes, b"<IE529/>");

    let missing = dir.path().join("nope.pdf");
    let err = load_attachment(&missing).unwrap_err().to_string();
    assert!(
        err.contains("nope.pdf") && err.contains("check the path"),
        "{err}"
    );

    let err = load_attachment(dir.path()).unwrap_err().to_string();
    assert!(err.contains("directory"), "{err}");
}

#[test]
fn a_non_ascii_attachment_name_round_trips() {
    let mut msg = sample_email(42);
    msg.attachments[0].filename = "Wezwanie do zapłaty – FV 2026/11/001 ș.pdf".replace('/', "-");
    let bytes = build_eml(&msg).unwrap();
    assert!(bytes.is_ascii());
    let parsed = parse(&bytes);
    let name = parsed.attachment(0).unwrap().attachment_name();
    assert_eq!(name, Some(msg.attachments[0].filename.as_str()));
}
