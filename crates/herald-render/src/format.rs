//! Locale-aware money, date and day-count formatting.
//!
//! Numbers and dates come from CLDR (ICU4X baked data) so separators, grouping and
//! date patterns are what a native reader expects; currency symbols and their
//! placement are herald's own small table, because CLDR's choices (e.g. `PLN` in
//! Czech, `US$`) read oddly on a payment reminder.

use std::str::FromStr;

use fixed_decimal::Decimal as FixedDecimal;
use herald_core::{Locale, Money};
use icu_datetime::DateTimeFormatter;
use icu_datetime::fieldsets::YMD;
use icu_datetime::input::Date as IcuDate;
use icu_datetime::options::YearStyle;
use icu_decimal::DecimalFormatter;
use icu_decimal::options::{DecimalFormatterOptions, GroupingStrategy};
use icu_locale_core::{LanguageIdentifier, langid};
use jiff_icu::ConvertFrom;
use rust_decimal::{Decimal, RoundingStrategy};

/// The no-break space put between an amount and its currency, so a line break never
/// separates `1 234,50` from `zł`.
pub const NBSP: char = '\u{a0}';

fn langid(locale: Locale) -> LanguageIdentifier {
    match locale {
        Locale::En => langid!("en"),
        Locale::Pl => langid!("pl"),
        Locale::Cs => langid!("cs"),
        Locale::Ro => langid!("ro"),
    }
}

/// The symbol herald prints for a currency in a language, `None` for the ISO code.
///
/// A country's own sign (zł, Kč, lei) is used only in that country's language: a
/// Czech reader does not know `zł`, while `PLN` is unambiguous to everyone.
fn symbol(code: &str, locale: Locale) -> Option<&'static str> {
    match (code, locale) {
        ("EUR", _) => Some("€"),
        ("USD", _) => Some("$"),
        ("GBP", _) => Some("£"),
        ("PLN", Locale::Pl) => Some("zł"),
        ("CZK", Locale::Cs) => Some("Kč"),
        ("RON", Locale::Ro) => Some("lei"),
        _ => None,
    }
}

/// Formats a plain decimal number per CLDR, always with exactly `fraction_digits`
/// decimals (rounded half away from zero), because `12,5 zł` looks like a typo.
pub(crate) fn format_number(value: Decimal, fraction_digits: u32, locale: Locale) -> String {
    let mut rounded =
        value.round_dp_with_strategy(fraction_digits, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(fraction_digits);
    // `rust_decimal` writes plain digits with a `.`; fixed_decimal keeps the trailing
    // zeros of that text, which is what makes ICU print `,50`.
    let fixed = FixedDecimal::from_str(&rounded.to_string());
    let formatted = DECIMAL.with(|cache| {
        let mut cache = cache.borrow_mut();
        let formatter = cache[locale_index(locale)].get_or_insert_with(|| {
            let mut options = DecimalFormatterOptions::default();
            options.grouping_strategy = Some(GroupingStrategy::Auto);
            DecimalFormatter::try_new(langid(locale).into(), options).ok()
        });
        match (&fixed, formatter) {
            (Ok(fixed), Some(formatter)) => Some(formatter.format(fixed).to_string()),
            _ => None,
        }
    });
    // Baked data covers all four locales and rust_decimal's text always parses;
    // falling back to the plain number keeps a letter readable regardless.
    formatted.unwrap_or_else(|| rounded.to_string())
}

fn locale_index(locale: Locale) -> usize {
    match locale {
        Locale::En => 0,
        Locale::Pl => 1,
        Locale::Cs => 2,
        Locale::Ro => 3,
    }
}

// Formatters per thread and language, made on first use: making one looks its data
// up by locale, which took as long as rendering the rest of a message.
thread_local! {
    static DECIMAL: std::cell::RefCell<[Option<Option<DecimalFormatter>>; 4]> =
        const { std::cell::RefCell::new([None, None, None, None]) };
    static DATES: std::cell::RefCell<[Option<Option<DateTimeFormatter<YMD>>>; 4]> =
        const { std::cell::RefCell::new([None, None, None, None]) };
}

/// Formats an amount as a reader of `locale` expects it, with the currency's minor
/// units always shown: `1234,50 zł`, `12 345,50 Kč`, `12.345,50 lei`, `€12,345.50`.
pub fn format_money(m: &Money, locale: Locale) -> String {
    let code = m.currency.code();
    let number = format_number(m.amount.abs(), m.currency.minor_units(), locale);
    let negative = m.amount.is_sign_negative() && !m.amount.is_zero();
    let sign = if negative { "-" } else { "" };
    match (locale, symbol(code, locale)) {
        (Locale::En, Some(sym)) => format!("{sign}{sym}{number}"),
        (Locale::En, None) => format!("{sign}{code}{NBSP}{number}"),
        (_, sym) => format!("{sign}{number}{NBSP}{}", sym.unwrap_or(code)),
    }
}

/// Formats a date the way a business letter in `locale` writes it (CLDR data):
/// English spells the month (`Nov 22, 2026`) because `11/22/26` is misread in Europe;
/// Polish, Czech and Romanian use their numeric forms (`22.11.2026`, `22. 11. 2026`).
pub fn format_date(d: jiff::civil::Date, locale: Locale) -> String {
    // CLDR's medium is numeric in Czech but spells the month in Polish and Romanian;
    // their short form is the numeric one, with the year kept in full.
    let fields = match locale {
        Locale::En | Locale::Cs => YMD::medium(),
        Locale::Pl | Locale::Ro => YMD::short(),
    }
    .with_year_style(YearStyle::Full);
    let date = IcuDate::convert_from(d);
    DATES.with(|cache| {
        let mut cache = cache.borrow_mut();
        match cache[locale_index(locale)]
            .get_or_insert_with(|| DateTimeFormatter::try_new(langid(locale).into(), fields).ok())
        {
            Some(formatter) => formatter.format(&date).to_string(),
            None => d.to_string(),
        }
    })
}

/// `n` days with the noun in the grammatical number the language needs: Polish,
/// Czech and Romanian have more than two forms (`2 dny` but `5 dní`; `20 de zile`).
pub fn plural_days(n: i64, locale: Locale) -> String {
    let a = n.unsigned_abs();
    let m100 = a % 100;
    let word = match locale {
        Locale::En => {
            if a == 1 {
                "day"
            } else {
                "days"
            }
        }
        Locale::Pl => {
            if a == 1 {
                "dzień"
            } else {
                "dni"
            }
        }
        Locale::Cs => match a {
            1 => "den",
            2..=4 => "dny",
            _ => "dní",
        },
        Locale::Ro => {
            if a == 1 {
                "zi"
            } else if a == 0 || (1..=19).contains(&m100) {
                "zile"
            } else {
                "de zile"
            }
        }
    };
    format!("{n} {word}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn romanian_uses_de_from_twenty_and_again_after_each_hundred() {
        let ro = |n| plural_days(n, Locale::Ro);
        assert_eq!(ro(0), "0 zile");
        assert_eq!(ro(19), "19 zile");
        assert_eq!(ro(20), "20 de zile");
        assert_eq!(ro(101), "101 zile");
        assert_eq!(ro(120), "120 de zile");
    }

    #[test]
    fn czech_and_polish_forms_follow_the_count_not_the_sign() {
        assert_eq!(plural_days(-3, Locale::Cs), "-3 dny");
        assert_eq!(plural_days(22, Locale::Pl), "22 dni");
        assert_eq!(plural_days(1, Locale::Pl), "1 dzień");
    }
}
