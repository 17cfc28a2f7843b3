use herald_core::Locale;
use herald_render::{RenderError, TemplateSet, sample_context};

use crate::template_dir;

fn set() -> TemplateSet {
    let dir = template_dir(&[
        ("only-en/en.subject", "English"),
        ("only-en/en.txt", "Due {{ invoice.due_date | date }}"),
        ("only-en/en.html", "<p>en</p>"),
        ("both/en.subject", "English"),
        ("both/en.txt", "en"),
        ("both/en.html", "en"),
        ("both/cs.subject", "Česky"),
        ("both/cs.txt", "Splatnost {{ invoice.due_date | date }}"),
        ("both/cs.html", "cs"),
        ("pl-only/pl.subject", "Polski"),
        ("pl-only/pl.txt", "pl"),
        ("pl-only/pl.html", "pl"),
    ]);
    TemplateSet::load_dir(dir.path()).unwrap()
}

#[test]
fn a_template_only_in_english_is_used_for_a_polish_customer() {
    let ctx = sample_context("only-en", Locale::Pl);
    let m = set()
        .render("only-en", Locale::Pl, Locale::Pl, &ctx)
        .unwrap();
    assert_eq!(m.locale, Locale::En);
    assert_eq!(m.template, "only-en");
    assert_eq!(m.subject, "English");
    assert_eq!(
        m.text, "Due Nov 25, 2026",
        "formatted in the language of the letter"
    );
}

#[test]
fn the_customers_own_language_wins_when_it_exists() {
    let ctx = sample_context("both", Locale::Cs);
    let m = set().render("both", Locale::Cs, Locale::Pl, &ctx).unwrap();
    assert_eq!(m.locale, Locale::Cs);
    assert_eq!(m.text, "Splatnost 25. 11. 2026");
}

#[test]
fn the_tenant_default_comes_before_english() {
    let m = set()
        .render(
            "both",
            Locale::Ro,
            Locale::Cs,
            &sample_context("both", Locale::Ro),
        )
        .unwrap();
    assert_eq!(m.locale, Locale::Cs);
    let m = set()
        .render(
            "both",
            Locale::Ro,
            Locale::Pl,
            &sample_context("both", Locale::Ro),
        )
        .unwrap();
    assert_eq!(m.locale, Locale::En);
}

#[test]
fn a_template_missing_everywhere_names_the_locales_tried() {
    let err = set()
        .render(
            "pl-only",
            Locale::Ro,
            Locale::Cs,
            &sample_context("x", Locale::Ro),
        )
        .unwrap_err();
    assert_eq!(
        err,
        RenderError::NotFound {
            template: "pl-only".into(),
            tried: vec![Locale::Ro, Locale::Cs, Locale::En]
        }
    );
    assert_eq!(
        err.to_string(),
        "template pl-only does not exist in any of the locales tried (ro, cs, en)"
    );
    let err = set()
        .render(
            "nope",
            Locale::En,
            Locale::En,
            &sample_context("x", Locale::En),
        )
        .unwrap_err();
    assert!(err.to_string().contains("template nope"), "{err}");
}
