//! herald-channels integration tests: one binary, one module per concern.

mod eml;
mod outbox;
mod sms;
mod sms_gateway;
mod smtp;

use herald_channels::{Attachment, EmailMessage, Mailbox, message_id_for};
use herald_core::EmailAddress;

pub const SUBJECT: &str = "Przypomnienie o płatności – FV/2026/11/001 – żółć";

pub fn mailbox(name: Option<&str>, address: &str) -> Mailbox {
    Mailbox {
        name: name.map(str::to_owned),
        address: EmailAddress::parse(address).unwrap(),
    }
}

pub fn instant() -> jiff::Timestamp {
    "2026-11-20T09:15:30Z".parse().unwrap()
}

/// A letter with everything a real dunning e-mail has: non-ASCII everywhere, an
/// attachment, reply-to and herald's trace headers.
pub fn sample_email(delivery_id: i64) -> EmailMessage {
    let from = mailbox(
        Some("Biuro Rachunkowe Przykład Sp. z o.o."),
        "biuro@przyklad.pl",
    );
    EmailMessage {
        message_id: message_id_for(delivery_id, from.domain()),
        date: instant(),
        reply_to: Some(mailbox(Some("Księgowość"), "ksiegowosc@przyklad.pl")),
        from,
        to: vec![mailbox(Some("Jan Kowalski"), "Jan.Kowalski@klient.pl")],
        subject: SUBJECT.to_owned(),
        text: "Dzień dobry,\r\nprosimy o zapłatę 1 234,50 zł.\r\nČeština: příliš žluťoučký kůň. Română: ă â î ș ț.\r\n".to_owned(),
        html: "<p>Dzień dobry,</p>\r\n<p>prosimy o zapłatę <b>1&nbsp;234,50&nbsp;zł</b>. Ș Ț ř ž</p>\r\n".to_owned(),
        attachments: vec![Attachment {
            filename: "FV-2026-11-001.pdf".to_owned(),
            content_type: "application/pdf".to_owned(),
            bytes: b"%PDF-1.7\n\x00\x01\x02\xff binary \xc3\x28 tail".to_vec(),
        }],
        read_receipt_to: None,
        headers: vec![
            ("X-Herald-Notification".to_owned(), "dunning:invoice/FV-2026-11-001:level-2".to_owned()),
            ("X-Herald-Delivery".to_owned(), delivery_id.to_string()),
            ("X-Herald-Rule".to_owned(), "dunning".to_owned()),
        ],
    }
}
