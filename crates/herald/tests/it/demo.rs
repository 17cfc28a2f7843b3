//! `herald demo`: the main job, end to end, deterministic.

use std::collections::BTreeMap;

use crate::support::*;

fn demo(dir: &std::path::Path, days: &str) -> (String, BTreeMap<String, Vec<u8>>) {
    let out = run_in(
        dir.parent().unwrap(),
        &["demo", "--dir", dir.to_str().unwrap(), "--days", days],
    );
    assert_ok(&out, "demo");
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.join("outbox")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.insert(
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let stdout = String::from_utf8_lossy(&out.stdout).replace(dir.to_str().unwrap(), "DIR");
    (stdout, files)
}

#[test]
fn the_demo_does_the_whole_job_and_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let (out1, files1) = demo(&tmp.path().join("a"), "60");
    let (out2, files2) = demo(&tmp.path().join("b"), "60");
    assert_eq!(out1, out2, "two demo runs printed different output");
    assert_eq!(
        files1.keys().collect::<Vec<_>>(),
        files2.keys().collect::<Vec<_>>()
    );
    assert!(files1 == files2, "two demo runs wrote different messages");
    for rule in [
        "new-invoice",
        "due-soon",
        "grace-end",
        "dunning",
        "task-reminder",
        "customs-ie529",
        "customs-ie599",
        "audit-finished",
        "documents-delivered",
        "client-activity-hr",
        "invoice-batch",
    ] {
        assert!(out1.contains(rule), "summary lacks {rule}:\n{out1}");
    }
    assert!(
        out1.contains("created 0 notifications and sent 0 messages"),
        "{out1}"
    );
    assert!(
        out1.contains("send-invoices --period 2026-09: queued"),
        "{out1}"
    );
    // Customs messages went out with their file.
    let customs = files1
        .iter()
        .filter(|(k, _)| k.ends_with(".eml"))
        .filter(|(_, v)| String::from_utf8_lossy(v).contains("IE529"))
        .count();
    assert!(customs >= 3, "{customs} e-mails mention IE529");
    let emails: Vec<_> = files1.keys().filter(|k| k.ends_with(".eml")).collect();
    assert!(emails.len() > 200, "only {} e-mails", emails.len());
    // Every language appears, and some letter lists more than one currency.
    let mut langs = std::collections::BTreeSet::new();
    let mut multi_currency = false;
    for (name, bytes) in &files1 {
        if !name.ends_with(".eml") {
            continue;
        }
        let m = mail_parser::MessageParser::default().parse(bytes).unwrap();
        let text = m.body_text(0).unwrap_or_default().into_owned();
        for (lang, word) in [
            ("pl", "Szanowni"),
            ("cs", "Vážen"),
            ("ro", "Stimat"),
            ("en", "Dear"),
        ] {
            if text.contains(word) {
                langs.insert(lang);
            }
        }
        let currencies = ["zł", "Kč", "lei", "€"]
            .iter()
            .filter(|c| text.contains(*c))
            .count();
        multi_currency |= currencies >= 2;
    }
    assert_eq!(langs.len(), 4, "languages seen: {langs:?}");
    // Task reminders went out, to clients and to the operators, by SMS too.
    let sms: Vec<String> = files1
        .iter()
        .filter(|(k, _)| k.contains("outbox/sms"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .collect();
    assert!(
        sms.iter().any(|s| s.contains("Przegląd deklaracji VAT")),
        "no VAT review reminder by SMS among {} SMS",
        sms.len()
    );
    assert!(
        sms.iter().any(|s| s.contains("+48601200300")),
        "Anna Kowalczyk (operator) got no reminder by SMS"
    );
    assert!(multi_currency, "no letter with totals in two currencies");
    // Re-running in the same dir replaces the old demo.
    let (out3, _) = demo(&tmp.path().join("a"), "60");
    assert_eq!(out1, out3);
}
