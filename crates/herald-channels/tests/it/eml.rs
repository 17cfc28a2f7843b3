use herald_channels::email::build_eml_lettre;
use herald_channels::{ChannelError, EmailMessage, build_eml, load_attachment, message_id_for};
use mail_parser::{Address, HeaderName, MessageParser, MimeHeaders};

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

/// Parses with X- headers decoded as text and Disposition-Notification-To as an address,
/// so what a reader sees can be compared, not how it was encoded.
fn parse_decoded(bytes: &[u8]) -> mail_parser::Message<'_> {
    MessageParser::new()
        .with_minimal_headers()
        .with_message_ids()
        .default_header_text()
        .header_address(HeaderName::DispositionNotificationTo)
        .parse(bytes)
        .expect("the output parses as a message")
}

fn addresses(a: Option<&Address<'_>>) -> Vec<(Option<String>, Option<String>)> {
    a.map(|a| {
        a.iter()
            .map(|m| (m.name().map(str::to_owned), m.address().map(str::to_owned)))
            .collect()
    })
    .unwrap_or_default()
}

/// Messages that exercise every encoding decision the writer makes.
fn tricky_messages() -> Vec<(&'static str, EmailMessage)> {
    let mut all = Vec::new();

    let mut ascii = sample_email(1);
    ascii.from = mailbox(Some("Biuro Rachunkowe"), "biuro@przyklad.pl");
    ascii.reply_to = None;
    ascii.to = vec![mailbox(None, "jan@klient.pl")];
    ascii.subject = "Payment reminder FV/2026/11/001".to_owned();
    ascii.text = "Hello,\nplease pay 1,234.50 PLN.\n".to_owned();
    ascii.html = "<p>Hello,</p><p>please pay <b>1,234.50 PLN</b>.</p>".to_owned();
    ascii.attachments.clear();
    all.push(("ascii", ascii));

    let mut diacritics = sample_email(2);
    diacritics.attachments.clear();
    diacritics.to = vec![mailbox(Some("Ștefan Țăranu"), "stefan@client.ro")];
    diacritics.read_receipt_to = Some(mailbox(None, "naleznosci@example.pl"));
    all.push(("diacritics", diacritics));

    let mut long_subject = sample_email(3);
    long_subject.subject = format!(
        "{SUBJECT} – {}",
        "Příliš žluťoučký kůň úpěl ďábelské ódy; "
            .repeat(6)
            .trim_end()
    );
    assert!(long_subject.subject.len() > 200);
    all.push(("long subject", long_subject));

    let mut long_ascii_subject = sample_email(4);
    long_ascii_subject.subject = "Reminder about invoice number 2026/11/001 "
        .repeat(6)
        .trim_end()
        .to_owned();
    all.push(("long ASCII subject", long_ascii_subject));

    let mut long_line = sample_email(5);
    long_line.text = format!("{}\n{}\n", "a".repeat(1200), "zażółć ".repeat(200));
    long_line.html = format!("<p>{}</p>", "x".repeat(1500));
    all.push(("long body lines", long_line));

    let mut awkward = sample_email(6);
    awkward.text =
        "a=b =3D\ntrailing spaces   \n.dot at start\n..two\n\ttab\tinside\t\nlone\rcr\r\r\nend ż\t"
            .to_owned();
    awkward.html = "<p style=\"x\">=</p>  \n.\n\r\n".to_owned();
    all.push(("awkward bodies", awkward));

    let mut awkward_ascii = sample_email(7);
    awkward_ascii.text = "a=b\ntrailing   \n.dot\n\ttab\t\nend".to_owned();
    awkward_ascii.html = ".\n<p>=?utf-8?q?not_a_word?=</p>\n".to_owned();
    all.push(("awkward ASCII bodies", awkward_ascii));

    let mut names = sample_email(8);
    names.from = mailbox(Some(r#"Kowalski, Jan "JK" (Biuro)"#), "jk@przyklad.pl");
    names.to = vec![
        mailbox(Some("Jan Kowalski"), "Jan.Kowalski@klient.pl"),
        mailbox(None, "druga@klient.pl"),
    ];
    names.reply_to = Some(mailbox(Some("  Dział Należności  "), "n@przyklad.pl"));
    names.read_receipt_to = Some(mailbox(Some("Windykacja"), "w@przyklad.pl"));
    all.push(("names and two recipients", names));

    let mut many = sample_email(9);
    many.to = (0..12)
        .map(|i| {
            mailbox(
                Some("Grzegorz Brzęczyszczykiewicz"),
                &format!("g{i}@klient.pl"),
            )
        })
        .collect();
    many.headers.push((
        "X-Herald-Note".to_owned(),
        "Uwaga: długi nagłówek ".repeat(12).trim_end().to_owned(),
    ));
    many.headers
        .push(("X-Herald-Ascii".to_owned(), "long value ".repeat(20)));
    all.push(("many recipients and long X- headers", many));

    let mut attachments = sample_email(10);
    attachments.attachments = vec![
        attachment(
            "FV-2026-11-001.pdf",
            "application/pdf",
            b"%PDF-1.7\n\x00\xff",
        ),
        attachment(
            "Wezwanie do zapłaty – FV 2026-11-001 ș.pdf",
            "application/pdf",
            &[0u8; 1000],
        ),
        attachment(
            "dane \"eksport\".csv",
            "text/csv; charset=utf-8",
            b"a;b\r\n1;2\r\n",
        ),
        attachment(
            &format!("{}.xml", "very-long-ascii-file-name-".repeat(5)),
            "application/xml",
            b"<a/>",
        ),
        attachment(
            &format!("{}.txt", "długa nazwa pliku ".repeat(6)),
            "text/plain; charset=utf-8",
            "zażółć".as_bytes(),
        ),
        attachment("empty.bin", "application/octet-stream", b""),
    ];
    all.push(("attachments", attachments));

    all
}

fn attachment(filename: &str, content_type: &str, bytes: &[u8]) -> herald_channels::Attachment {
    herald_channels::Attachment {
        filename: filename.to_owned(),
        content_type: content_type.to_owned(),
        bytes: bytes.to_vec(),
    }
}

#[test]
fn the_writer_reads_back_as_lettre_output_does() {
    for (what, msg) in tricky_messages() {
        let ours = build_eml(&msg).unwrap();
        let theirs = build_eml_lettre(&msg).unwrap();
        let (a, b) = (parse_decoded(&ours), parse_decoded(&theirs));

        assert_eq!(a.subject(), b.subject(), "{what}: subject");
        assert_eq!(a.subject(), Some(msg.subject.as_str()), "{what}: subject");
        assert_eq!(addresses(a.from()), addresses(b.from()), "{what}: from");
        assert_eq!(addresses(a.to()), addresses(b.to()), "{what}: to");
        assert_eq!(addresses(a.to()).len(), msg.to.len(), "{what}: to");
        assert_eq!(
            addresses(a.reply_to()),
            addresses(b.reply_to()),
            "{what}: reply-to"
        );
        assert_eq!(a.message_id(), b.message_id(), "{what}: message id");
        assert_eq!(a.message_id(), Some(msg.message_id.as_str()), "{what}");
        assert_eq!(a.date(), b.date(), "{what}: date");
        assert!(a.date().is_some(), "{what}: date");
        for (name, value) in &msg.headers {
            let text = |m: &mail_parser::Message<'_>| {
                m.header(name.as_str())
                    .and_then(|v| v.as_text())
                    .map(|v| v.trim().to_owned())
            };
            assert_eq!(text(&a), text(&b), "{what}: {name}");
            assert_eq!(text(&a).as_deref(), Some(value.trim()), "{what}: {name}");
        }
        let dnt = |m: &mail_parser::Message<'_>| {
            addresses(
                m.header(HeaderName::DispositionNotificationTo)
                    .and_then(|v| v.as_address()),
            )
        };
        assert_eq!(dnt(&a), dnt(&b), "{what}: Disposition-Notification-To");
        assert_eq!(dnt(&a).len(), usize::from(msg.read_receipt_to.is_some()));

        assert_eq!(a.body_text(0), b.body_text(0), "{what}: text");
        assert_eq!(a.body_html(0), b.body_html(0), "{what}: html");
        assert_eq!(a.attachment_count(), msg.attachments.len(), "{what}");
        assert_eq!(a.attachment_count(), b.attachment_count(), "{what}");
        for (i, sent) in msg.attachments.iter().enumerate() {
            let (x, y) = (
                a.attachment(i as u32).unwrap(),
                b.attachment(i as u32).unwrap(),
            );
            assert_eq!(
                x.attachment_name(),
                Some(sent.filename.as_str()),
                "{what}: {i}"
            );
            assert_eq!(x.attachment_name(), y.attachment_name(), "{what}: {i}");
            assert_eq!(x.contents(), sent.bytes.as_slice(), "{what}: {i}");
            assert_eq!(x.contents(), y.contents(), "{what}: {i}");
            let ct = |p: &mail_parser::MessagePart<'_>| {
                p.content_type()
                    .map(|c| (c.ctype().to_owned(), c.subtype().map(str::to_owned)))
            };
            assert_eq!(ct(x), ct(y), "{what}: {i}");
            // The Content-Type `name` is for mail programs that ignore RFC 2231.
            let name = x.content_type().and_then(|c| c.attribute("name"));
            assert_eq!(name, Some(sent.filename.as_str()), "{what}: {i}");
        }
        let root = |m: &mail_parser::Message<'_>| {
            m.root_part()
                .content_type()
                .map(|c| c.subtype().map(str::to_owned))
        };
        assert_eq!(root(&a), root(&b), "{what}: root");
    }
}

#[test]
fn every_line_ends_in_crlf_and_headers_fold_within_78() {
    for (what, msg) in tricky_messages() {
        let bytes = build_eml(&msg).unwrap();
        assert!(bytes.ends_with(b"\r\n"), "{what}");
        let raw = String::from_utf8(bytes).unwrap();
        let mut in_header = true;
        for (i, line) in raw.split_terminator("\r\n").enumerate() {
            assert!(
                !line.contains(['\r', '\n']),
                "{what}: bare CR or LF on line {i}"
            );
            assert!(
                line.len() <= 998,
                "{what}: line {i} is {} bytes",
                line.len()
            );
            if line.is_empty() {
                in_header = false;
            } else if line.starts_with("--=_herald_") {
                in_header = true;
            } else if in_header {
                assert!(line.len() <= 78, "{what}: header line {i}: {line}");
            }
        }
        assert!(raw.is_ascii(), "{what}");
    }
}

#[test]
fn text_that_looks_like_an_encoded_word_reads_back_as_written() {
    // lettre wrote such a subject raw, so readers decoded it to "Not a an encoded word".
    let mut msg = sample_email(42);
    msg.subject = "Not =?utf-8?b?YQ==?= an encoded word".to_owned();
    msg.to[0].name = Some("=?utf-8?b?YQ==?=".to_owned());
    let bytes = build_eml(&msg).unwrap();
    let parsed = parse(&bytes);
    assert_eq!(parsed.subject(), Some(msg.subject.as_str()));
    let to = parsed.to().unwrap().first().unwrap();
    assert_eq!(to.name(), msg.to[0].name.as_deref());
}

#[test]
fn a_content_type_is_written_as_given_so_it_must_be_ascii() {
    let mut msg = sample_email(42);
    msg.attachments[0].content_type = "text/plain; x=\"żółć\"".to_owned();
    assert!(matches!(
        build_eml(&msg),
        Err(ChannelError::ContentType { .. })
    ));
    msg.attachments[0].content_type = "text/plain; charset=utf-8".to_owned();
    assert!(build_eml(&msg).is_ok());
}

#[test]
fn read_receipt_and_names_are_written_as_lettre_wrote_them() {
    let mut msg = sample_email(42);
    msg.read_receipt_to = Some(mailbox(None, "naleznosci@example.pl"));
    msg.attachments.clear();
    let raw = String::from_utf8(build_eml(&msg).unwrap()).unwrap();
    assert!(raw.contains("\r\nDisposition-Notification-To: naleznosci@example.pl\r\n"));
    assert!(raw.contains("\r\nTo: Jan Kowalski <Jan.Kowalski@klient.pl>\r\n"));
    assert!(raw.contains("\r\nDate: Fri, 20 Nov 2026 09:15:30 +0000\r\n"));
    assert!(raw.starts_with("Message-ID: <herald-delivery-42@przyklad.pl>\r\n"));
}

/// A typical dunning letter: about 1 KB of text, 2 KB of HTML, Polish throughout,
/// herald's three X- headers and no attachment.
fn typical_message() -> EmailMessage {
    let mut msg = sample_email(42);
    msg.attachments.clear();
    let paragraph = "Szanowni Państwo, uprzejmie przypominamy, że termin płatności faktury \
                     FV/2026/11/001 na kwotę 1 234,50 zł upłynął 15 listopada 2026 r.\n";
    msg.text = paragraph.repeat(7);
    msg.html = format!(
        "<html><body>{}</body></html>",
        format!("<p>{}</p>\n", paragraph.trim_end()).repeat(13)
    );
    msg
}

/// Run by hand: `cargo test --release -p herald-channels -- --ignored --nocapture
/// build_eml_speed`. `N=300000` runs longer; `ONLY_OURS=1` skips lettre, for a profiler.
#[test]
#[ignore = "a benchmark; run it by hand in release mode"]
fn build_eml_speed() {
    use std::hint::black_box;
    use std::time::Instant;

    let msg = typical_message();
    println!(
        "message: text {} B, html {} B, output {} B",
        msg.text.len(),
        msg.html.len(),
        build_eml(&msg).unwrap().len()
    );
    let n: u32 = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let time = |f: &dyn Fn(&EmailMessage) -> Vec<u8>| {
        for _ in 0..n / 10 {
            black_box(f(black_box(&msg)));
        }
        let start = Instant::now();
        for _ in 0..n {
            black_box(f(black_box(&msg)));
        }
        start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
    };
    // Rounds alternate and the best of each counts: the machine is shared, and a
    // neighbour's burst should not decide the ratio.
    let (mut ours, mut lettre) = (f64::MAX, f64::MAX);
    for _ in 0..5 {
        ours = ours.min(time(&|m| build_eml(m).unwrap()));
        if std::env::var_os("ONLY_OURS").is_none() {
            lettre = lettre.min(time(&|m| build_eml_lettre(m).unwrap()));
        }
    }
    if std::env::var_os("ONLY_OURS").is_some() {
        println!("per message: herald's writer {ours:.2} µs");
        return;
    }
    println!(
        "per message (best of 5 rounds of {n}): lettre {lettre:.2} µs, herald's writer {ours:.2} µs ({:.1}x)",
        lettre / ours
    );
}
