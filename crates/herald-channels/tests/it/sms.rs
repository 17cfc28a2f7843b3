use herald_channels::{FileOutbox, Outcome, SmsEncoding, SmsMessage, sms_segments};
use herald_core::PhoneNumber;

use crate::instant;

fn size(body: &str) -> (SmsEncoding, usize, usize) {
    let s = sms_segments(body);
    (s.encoding, s.units, s.segments)
}

#[test]
fn gsm7_boundary_is_160_then_153_per_part() {
    assert_eq!(size(&"a".repeat(160)), (SmsEncoding::Gsm7, 160, 1));
    assert_eq!(size(&"a".repeat(161)), (SmsEncoding::Gsm7, 161, 2));
    assert_eq!(size(&"a".repeat(306)).2, 2);
    assert_eq!(size(&"a".repeat(307)).2, 3);
}

#[test]
fn extension_characters_count_two_septets() {
    assert_eq!(size("€"), (SmsEncoding::Gsm7, 2, 1));
    assert_eq!(size("{[~]}|^\\"), (SmsEncoding::Gsm7, 16, 1));
    // 159 + € = 161 septets: over one segment although only 160 characters.
    assert_eq!(
        size(&format!("{}€", "a".repeat(159))),
        (SmsEncoding::Gsm7, 161, 2)
    );
    // GSM's own accented letters stay 7-bit.
    assert_eq!(
        size("Ää Öö Üü Ññ è é ù ì ò à Ç ß £ ¥ § ¿ ¡").0,
        SmsEncoding::Gsm7
    );
}

#[test]
fn central_european_diacritics_force_ucs2() {
    assert_eq!(size("Zażółć gęślą jaźń"), (SmsEncoding::Ucs2, 17, 1));
    for c in [
        "ą", "ę", "ł", "ż", "ś", "č", "ř", "ž", "ș", "ț", "ă", "ş", "ţ", "ů",
    ] {
        assert_eq!(size(&format!("Faktura {c}")).0, SmsEncoding::Ucs2, "{c}");
    }
}

#[test]
fn ucs2_boundary_is_70_then_67_per_part() {
    let ucs = |n: usize| format!("ł{}", "a".repeat(n - 1));
    assert_eq!(size(&ucs(70)), (SmsEncoding::Ucs2, 70, 1));
    assert_eq!(size(&ucs(71)), (SmsEncoding::Ucs2, 71, 2));
    assert_eq!(size(&ucs(134)).2, 2);
    assert_eq!(size(&ucs(135)).2, 3);
}

fn sample_sms() -> SmsMessage {
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "notification".into(),
        "due-soon:invoice/FV-2026-11-001".into(),
    );
    metadata.insert("rule".into(), "due-soon".into());
    SmsMessage {
        id: "herald-delivery-9".to_owned(),
        to: PhoneNumber::parse("+48 601 234 567").unwrap(),
        sender: Some("Przyklad".to_owned()),
        body: "Przypomnienie: FV/2026/11/001, 1 234,50 zł, termin 2026-11-23.".to_owned(),
        date: instant(),
        metadata,
    }
}

#[tokio::test]
async fn sms_json_is_written_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(dir.path());
    let msg = sample_sms();
    let outcome = outbox.send_sms(9, &msg).await;

    let expected = dir.path().join("sms/2026-11-20/00000009-48601234567.json");
    assert_eq!(outbox.sms_path(9, &msg), expected);
    assert!(
        matches!(&outcome, Outcome::Delivered { provider_id: Some(p), .. } if p == &expected.display().to_string()),
        "{outcome:?}"
    );

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&expected).unwrap()).unwrap();
    assert_eq!(json["to"], "+48601234567");
    assert_eq!(json["sender"], "Przyklad");
    assert_eq!(json["body"], msg.body.as_str());
    assert_eq!(json["date"], "2026-11-20T09:15:30Z");
    assert_eq!(json["encoding"], "ucs2");
    assert_eq!(json["units"], msg.body.chars().count());
    assert_eq!(json["segments"], 1);
    assert_eq!(json["metadata"]["rule"], "due-soon");
    assert_eq!(json["delivery_id"], 9);
    assert_eq!(json["id"], "herald-delivery-9");
}

#[tokio::test]
async fn resending_an_sms_overwrites_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = FileOutbox::new(dir.path());
    let mut msg = sample_sms();
    assert!(outbox.send_sms(9, &msg).await.is_delivered());
    msg.body = "a".repeat(200);
    assert!(outbox.send_sms(9, &msg).await.is_delivered());

    let day = dir.path().join("sms/2026-11-20");
    let names: Vec<_> = std::fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(day.join(&names[0])).unwrap()).unwrap();
    assert_eq!(
        (json["encoding"].as_str(), json["segments"].as_u64()),
        (Some("gsm7"), Some(2))
    );
}
