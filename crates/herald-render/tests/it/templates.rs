use herald_core::Locale;
use herald_render::{RenderError, TemplateSet, sample_context};

use crate::template_dir;

const NAMES: [&str; 19] = [
    "dunning-1",
    "dunning-2",
    "dunning-3",
    "due-soon",
    "grace-end",
    "new-invoice",
    "task-reminder",
    "task-reminder-operator",
    "customs-ie529",
    "customs-ie599",
    "customs-ie509",
    "audit-finished",
    "documents-delivered",
    "client-activity",
    "reading-period-started",
    "dunning-resend",
    "operator-digest",
    "operators-summary",
    "absence-added",
];

#[test]
fn every_builtin_template_renders_in_every_locale() {
    let set = TemplateSet::builtin();
    let failures = set.check();
    assert!(
        failures.is_empty(),
        "{}",
        failures
            .iter()
            .map(|f| format!("{f}\n"))
            .collect::<String>()
    );
    let mut names = NAMES.map(String::from).to_vec();
    names.sort();
    assert_eq!(set.names(), names);
    for name in NAMES {
        assert_eq!(set.locales_of(name), Locale::ALL.to_vec(), "{name}");
    }
    assert!(set.has("due-soon") && !set.has("due_soon"));
}

#[test]
fn a_typo_in_a_variable_fails_check_with_where_it_is() {
    let dir = template_dir(&[
        ("due-soon/pl.subject", "Faktura {{ invoice.number }}"),
        (
            "due-soon/pl.txt",
            "Szanowni Państwo,\n\nfaktura\nnr {{ invoce.number }}\n",
        ),
        ("due-soon/pl.html", "<p>{{ invoice.number }}</p>"),
    ]);
    let set = TemplateSet::load_dir(dir.path()).unwrap();
    let failures = set.check();
    assert_eq!(failures.len(), 1, "{failures:?}");
    let f = &failures[0];
    assert_eq!(
        (f.template.as_str(), f.locale, f.part.as_str(), f.line),
        ("due-soon", Locale::Pl, "txt", Some(4))
    );
    assert!(f.message.contains("invoce"), "{}", f.message);
    assert!(
        f.to_string().starts_with(
            "template due-soon, locale pl, part txt, line 4: undefined variable 'invoce"
        ),
        "{f}"
    );
}

#[test]
fn every_failing_part_is_reported_not_just_the_first() {
    let dir = template_dir(&[
        ("x/en.subject", "{{ nope }}"),
        ("x/en.txt", "ok"),
        ("x/en.html", "ok"),
        ("x/en.sms", "{{ invoice.numbr }}"),
    ]);
    let set = TemplateSet::load_dir(dir.path()).unwrap();
    let found: Vec<_> = set
        .check()
        .into_iter()
        .map(|f| (f.part, f.message))
        .collect();
    assert_eq!(
        found,
        [
            ("subject".to_owned(), "undefined variable 'nope'".to_owned()),
            (
                "sms".to_owned(),
                "undefined variable 'invoice.numbr'".to_owned()
            ),
        ]
    );
}

#[test]
fn render_errors_name_template_locale_part_and_line() {
    let dir = template_dir(&[
        ("x/cs.subject", "s"),
        ("x/cs.txt", "line one\n{{ customer.nme }}"),
        ("x/cs.html", "h"),
    ]);
    let set = TemplateSet::load_dir(dir.path()).unwrap();
    let err = set
        .render(
            "x",
            Locale::Cs,
            Locale::Cs,
            &sample_context("x", Locale::Cs),
        )
        .unwrap_err();
    match &err {
        RenderError::Part {
            template,
            locale,
            part,
            line,
            ..
        } => {
            assert_eq!(
                (template.as_str(), *locale, part.as_str(), *line),
                ("x", Locale::Cs, "txt", Some(2))
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("template x, locale cs, part txt, line 2: "),
        "{err}"
    );
}

#[test]
fn html_is_escaped_only_in_the_html_part() {
    let dir = template_dir(&[
        ("x/en.subject", "For {{ customer.name }}"),
        ("x/en.txt", "Dear {{ customer.name }}"),
        ("x/en.html", "<p>Dear {{ customer.name }}</p>"),
        ("x/en.sms", "{{ customer.name }}"),
    ]);
    let set = TemplateSet::load_dir(dir.path()).unwrap();
    let mut ctx = sample_context("x", Locale::En);
    ctx.customer.as_mut().expect("a sample has a customer").name = "<b>Kowalski & Syn</b>".into();
    let m = set.render("x", Locale::En, Locale::En, &ctx).unwrap();
    assert_eq!(m.subject, "For <b>Kowalski & Syn</b>");
    assert_eq!(m.text, "Dear <b>Kowalski & Syn</b>");
    assert_eq!(m.sms.as_deref(), Some("<b>Kowalski & Syn</b>"));
    assert_eq!(m.html, "<p>Dear &lt;b&gt;Kowalski &amp; Syn&lt;/b&gt;</p>");
}

#[test]
fn builtin_dunning_html_escapes_the_customer_name() {
    let mut ctx = sample_context("dunning-1", Locale::Pl);
    ctx.customer.as_mut().expect("a sample has a customer").name = "<b>Kowalski & Syn</b>".into();
    let m = TemplateSet::builtin()
        .render("dunning-1", Locale::Pl, Locale::Pl, &ctx)
        .unwrap();
    assert!(m.html.contains("&lt;b&gt;Kowalski &amp; Syn"), "{}", m.html);
    assert!(!m.html.contains("<b>Kowalski"));
    assert!(m.text.contains("Kontrahent: <b>Kowalski & Syn</b>"));
}

#[test]
fn a_subject_is_always_one_line() {
    let dir = template_dir(&[
        ("x/en.subject", "\n  Invoice\n{{ invoice.number }}  \n\n"),
        ("x/en.txt", "t"),
        ("x/en.html", "h"),
    ]);
    let set = TemplateSet::load_dir(dir.path()).unwrap();
    let m = set
        .render(
            "x",
            Locale::En,
            Locale::En,
            &sample_context("x", Locale::En),
        )
        .unwrap();
    assert_eq!(m.subject, "Invoice FV/2026/11/052");
    assert_eq!(m.sms, None);
}

#[test]
fn filters_format_in_the_letters_language() {
    let dir = template_dir(&[
        ("x/pl.subject", "{{ invoice.balance | money }}"),
        (
            "x/pl.txt",
            "{{ invoice.due_date | date }} {{ 5 | plural_days }} {{ totals | length }}",
        ),
        ("x/pl.html", "{{ invoice.amount | money }}"),
    ]);
    let set = TemplateSet::load_dir(dir.path()).unwrap();
    // An English-speaking customer of a Polish tenant still gets the Polish template,
    // so the amounts and dates must be Polish too.
    let ctx = sample_context("x", Locale::En);
    let m = set.render("x", Locale::En, Locale::Pl, &ctx).unwrap();
    assert_eq!(m.locale, Locale::Pl);
    assert_eq!(
        m.subject,
        "EUR 1234,50 €".replace("EUR ", "").replace(' ', "\u{a0}")
    );
    assert_eq!(m.text, "25.11.2026 5 dni 0");
}

#[test]
fn misused_filters_fail_check_with_a_useful_message() {
    let dir = template_dir(&[
        ("x/en.subject", "{{ invoice.number | money }}"),
        ("x/en.txt", "{{ invoice.amount | date }}"),
        ("x/en.html", "ok"),
    ]);
    let failures = TemplateSet::load_dir(dir.path()).unwrap().check();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures[0].message.contains("money expects"),
        "{}",
        failures[0]
    );
    assert!(
        failures[1].message.contains("date expects"),
        "{}",
        failures[1]
    );
}

#[test]
fn runaway_templates_run_out_of_fuel() {
    let dir = template_dir(&[
        ("x/en.subject", "s"),
        (
            "x/en.txt",
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        ),
        ("x/en.html", "h"),
    ]);
    let failures = TemplateSet::load_dir(dir.path()).unwrap().check();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].message.contains("fuel"), "{}", failures[0]);
}

#[test]
fn dunning_letters_list_every_invoice_and_never_sum_currencies() {
    let set = TemplateSet::builtin();
    for locale in Locale::ALL {
        let ctx = sample_context("dunning-2", locale);
        assert_eq!(ctx.invoices.len(), 3);
        assert_eq!(ctx.totals.0.len(), 2, "two currencies, two totals");
        let m = set.render("dunning-2", locale, locale, &ctx).unwrap();
        for inv in &ctx.invoices {
            assert!(
                m.text.contains(&inv.number) && m.html.contains(&inv.number),
                "{locale} {}",
                inv.number
            );
        }
        for total in &ctx.totals.0 {
            let shown = herald_render::format_money(total, locale);
            assert!(
                m.text.contains(&shown) && m.html.contains(&shown),
                "{locale} {shown}"
            );
        }
        let bank = ctx.tenant.bank_account.clone().unwrap();
        assert!(m.text.contains(&bank) && m.html.contains(&bank), "{locale}");
        assert!(
            m.text.trim_end().ends_with(&ctx.tenant.name),
            "{locale}: signed by the tenant"
        );

        let mut no_bank = ctx.clone();
        no_bank.tenant.bank_account = None;
        let m = set.render("dunning-2", locale, locale, &no_bank).unwrap();
        assert!(!m.text.contains(&bank) && !m.html.contains(&bank));
    }
}

#[test]
fn english_sms_fit_in_one_message() {
    let set = TemplateSet::builtin();
    for name in ["new-invoice", "due-soon", "grace-end"] {
        let m = set
            .render(
                name,
                Locale::En,
                Locale::En,
                &sample_context(name, Locale::En),
            )
            .unwrap();
        let sms = m.sms.unwrap();
        assert!(
            sms.chars().count() <= 160,
            "{name}: {} chars: {sms}",
            sms.chars().count()
        );
    }
}

#[test]
fn office_notices_concern_no_customer_and_greet_by_name_only_when_there_is_one() {
    let set = TemplateSet::builtin();
    for name in ["operator-digest", "operators-summary", "absence-added"] {
        for locale in Locale::ALL {
            let mut ctx = sample_context(name, locale);
            assert_eq!(ctx.customer, None, "{name} {locale}");
            for who in ["", "Jan Nowak"] {
                ctx.recipient.name = who.to_owned();
                let m = set.render(name, locale, locale, &ctx).unwrap();
                let greeting = m.text.lines().next().unwrap();
                assert!(
                    greeting.ends_with(&format!("{who},")),
                    "{name} {locale}: {greeting}"
                );
                assert!(
                    !greeting.contains(" ,") && !greeting.contains(",,"),
                    "{greeting}"
                );
                assert!(
                    !m.text.contains("None") && !m.html.contains("None"),
                    "{name} {locale}"
                );
            }
        }
    }
}

#[test]
fn the_operators_summary_lines_up_its_columns_whatever_the_names() {
    let set = TemplateSet::builtin();
    for locale in Locale::ALL {
        let ctx = sample_context("operators-summary", locale);
        let digest = ctx.digest.as_ref().unwrap();
        assert_eq!(digest.operators.len(), 3);
        assert!(digest.operators.iter().any(|o| o.counts.period == 0));
        let m = set
            .render("operators-summary", locale, locale, &ctx)
            .unwrap();
        // The header, one line per operator and the total, all as wide.
        let table: Vec<&str> = m
            .text
            .lines()
            .skip_while(|l| !l.starts_with(digest.operators[0].name.as_str()))
            .take(digest.operators.len() + 1)
            .collect();
        let header = m.text.lines().nth(4).unwrap();
        let width = header.chars().count();
        for line in &table {
            assert_eq!(
                line.chars().count(),
                width,
                "{locale}: {line:?} vs {header:?}"
            );
        }
        let total = digest.total.month.to_string();
        assert!(table[3].ends_with(&total), "{locale}: {}", table[3]);
        assert!(m.html.contains(&format!(">{total}</td>")), "{locale}");
    }
}

#[test]
fn an_absence_of_someone_unnamed_on_one_day_without_a_reason_still_reads() {
    let set = TemplateSet::builtin();
    for (locale, unnamed) in [
        (Locale::En, "an employee"),
        (Locale::Pl, "nieobecność pracownika"),
        (Locale::Cs, "nepřítomnost zaměstnance"),
        (Locale::Ro, "absență a unui angajat"),
    ] {
        let mut ctx = sample_context("absence-added", locale);
        let event = ctx.event.as_mut().unwrap();
        event.operator = None;
        event.payload.remove("reason");
        event.payload.insert("to".to_owned(), "2026-11-23".into());
        let m = set.render("absence-added", locale, locale, &ctx).unwrap();
        assert!(m.text.contains(unnamed), "{locale}: {}", m.text);
        let day = herald_render::format_date(jiff::civil::date(2026, 11, 23), locale);
        assert!(
            m.subject.ends_with(&day) && !m.subject.contains(" – "),
            "{}",
            m.subject
        );
        assert!(
            !m.text.contains(" – ") && !m.html.contains(" – "),
            "{locale}"
        );
        assert!(
            !m.text.contains("\n\n\n") && !m.text.contains(": \n"),
            "{}",
            m.text
        );
    }
}

/// The business system may leave out the dates: the absence is then told for the
/// day it was recorded, rather than not at all.
#[test]
fn an_absence_without_dates_is_told_for_the_day_it_was_recorded() {
    let set = TemplateSet::builtin();
    for locale in [Locale::En, Locale::Pl, Locale::Cs, Locale::Ro] {
        let mut ctx = sample_context("absence-added", locale);
        let event = ctx.event.as_mut().unwrap();
        event.payload.clear();
        let recorded = herald_render::format_date(event.date, locale);
        let m = set.render("absence-added", locale, locale, &ctx).unwrap();
        assert!(m.subject.ends_with(&recorded), "{locale}: {}", m.subject);
        assert!(!m.text.contains(" – "), "{locale}: {}", m.text);
    }
}
