//! Money and dates as CLDR writes them. ICU's grouping separator in Polish and
//! Czech is U+00A0 NO-BREAK SPACE; herald puts U+00A0 between amount and currency.

use herald_core::Locale::{Cs, En, Pl, Ro};
use herald_render::{format_date, format_money, plural_days};
use jiff::civil::date;

use crate::money;

fn fm(amount: &str, currency: &str, locale: herald_core::Locale) -> String {
    format_money(&money(amount, currency), locale)
}

#[test]
fn polish_groups_only_from_five_digits_and_always_shows_grosze() {
    assert_eq!(fm("1234.5", "PLN", Pl), "1234,50\u{a0}zł");
    assert_eq!(fm("12345.5", "PLN", Pl), "12\u{a0}345,50\u{a0}zł");
    assert_eq!(fm("0", "PLN", Pl), "0,00\u{a0}zł");
    assert_eq!(
        fm("1234567890.12", "PLN", Pl),
        "1\u{a0}234\u{a0}567\u{a0}890,12\u{a0}zł"
    );
    assert_eq!(fm("12345.5", "EUR", Pl), "12\u{a0}345,50\u{a0}€");
}

#[test]
fn czech_groups_four_digits_with_no_break_space() {
    assert_eq!(fm("12345.5", "CZK", Cs), "12\u{a0}345,50\u{a0}Kč");
    assert_eq!(fm("1234.5", "CZK", Cs), "1\u{a0}234,50\u{a0}Kč");
    assert_eq!(fm("0", "CZK", Cs), "0,00\u{a0}Kč");
}

#[test]
fn romanian_groups_with_dots_and_calls_ron_lei() {
    assert_eq!(fm("12345.5", "RON", Ro), "12.345,50\u{a0}lei");
    assert_eq!(fm("1234.5", "RON", Ro), "1.234,50\u{a0}lei");
    assert_eq!(fm("1000000", "RON", Ro), "1.000.000,00\u{a0}lei");
}

#[test]
fn english_puts_known_symbols_first_and_codes_with_a_space() {
    assert_eq!(fm("12345.5", "EUR", En), "€12,345.50");
    assert_eq!(fm("0", "USD", En), "$0.00");
    assert_eq!(fm("99.999", "GBP", En), "£100.00");
    assert_eq!(fm("1234.5", "PLN", En), "PLN\u{a0}1,234.50");
}

#[test]
fn home_currency_signs_are_only_used_in_their_own_language() {
    assert_eq!(fm("10", "PLN", Cs), "10,00\u{a0}PLN");
    assert_eq!(fm("10", "CZK", Pl), "10,00\u{a0}CZK");
    assert_eq!(fm("10", "CHF", Ro), "10,00\u{a0}CHF");
}

#[test]
fn zero_minor_unit_currencies_have_no_decimals() {
    assert_eq!(fm("1234", "JPY", En), "JPY\u{a0}1,234");
    assert_eq!(fm("1234567", "JPY", Pl), "1\u{a0}234\u{a0}567\u{a0}JPY");
    assert_eq!(fm("1234.6", "JPY", Ro), "1.235\u{a0}JPY");
}

#[test]
fn three_minor_unit_currencies_show_three_decimals() {
    assert_eq!(fm("1.5", "KWD", En), "KWD\u{a0}1.500");
}

#[test]
fn negative_amounts_keep_the_sign_before_the_symbol() {
    assert_eq!(fm("-12.5", "EUR", En), "-€12.50");
    assert_eq!(fm("-12.5", "PLN", Pl), "-12,50\u{a0}zł");
}

#[test]
fn dates_follow_each_languages_letter_style() {
    let d = date(2026, 11, 22);
    assert_eq!(format_date(d, En), "Nov 22, 2026");
    assert_eq!(format_date(d, Pl), "22.11.2026");
    assert_eq!(format_date(d, Cs), "22. 11. 2026");
    assert_eq!(format_date(d, Ro), "22.11.2026");
    let early = date(2027, 1, 5);
    assert_eq!(format_date(early, En), "Jan 5, 2027");
    assert_eq!(format_date(early, Pl), "05.01.2027");
    assert_eq!(format_date(early, Cs), "5. 1. 2027");
    assert_eq!(format_date(early, Ro), "05.01.2027");
}

#[test]
fn day_counts_take_the_right_plural_form() {
    let cases = [
        (
            En,
            [(1, "1 day"), (2, "2 days"), (5, "5 days"), (22, "22 days")],
        ),
        (
            Pl,
            [(1, "1 dzień"), (2, "2 dni"), (5, "5 dni"), (22, "22 dni")],
        ),
        (
            Cs,
            [(1, "1 den"), (2, "2 dny"), (5, "5 dní"), (22, "22 dní")],
        ),
        (
            Ro,
            [
                (1, "1 zi"),
                (2, "2 zile"),
                (5, "5 zile"),
                (20, "20 de zile"),
            ],
        ),
    ];
    for (locale, forms) in cases {
        for (n, want) in forms {
            assert_eq!(plural_days(n, locale), want, "{locale} {n}");
        }
    }
}
