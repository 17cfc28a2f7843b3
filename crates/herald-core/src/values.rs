//! Value types parsed at the edge. Once a value exists it is valid: an `EmailAddress`
//! has been checked, a `Currency` is a real ISO 4217 code, `Money` is exact.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Why a value could not be parsed, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError(msg.into()))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Ids come from the business system; herald only insists they are
            /// non-empty, printable and short enough to index.
            pub fn parse(s: &str) -> Result<Self, ValueError> {
                let s = s.trim();
                if s.is_empty() {
                    return err("is empty; every record needs an id");
                }
                if s.len() > 200 {
                    return err(format!("is {} characters long; ids may have at most 200", s.len()));
                }
                if s.chars().any(|c| c.is_control()) {
                    return err("contains a control character");
                }
                Ok(Self(s.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                Self::parse(s)
            }
        }
    };
}

id_type!(
    /// The business system's id of a customer (a client company or person).
    CustomerId
);
id_type!(
    /// The business system's id of an invoice (not its printed number).
    InvoiceId
);
id_type!(
    /// The business system's id of a payment.
    PaymentId
);
id_type!(
    /// The business system's id of an operator (an employee using the business system).
    OperatorId
);
id_type!(
    /// The business system's id of a task (a deadline, a meeting, a visit).
    TaskId
);
id_type!(
    /// The business system's id of an event (a customs message, an audit finished).
    EventId
);

/// An e-mail address checked against RFC 5322's addr-spec (via `email_address`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let s = s.trim();
        match email_address::EmailAddress::from_str(s) {
            Ok(_) if s.contains('.') => Ok(Self(s.to_owned())),
            Ok(_) => err(format!(
                "'{s}' is not an e-mail address: the domain has no dot"
            )),
            Err(e) => err(format!("'{s}' is not an e-mail address: {e}")),
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}
impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}
impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A phone number in E.164: `+`, a country code, at most 15 digits in all.
/// Spaces and dashes that people type are removed; anything else is refused, so a
/// gateway never gets a number it would guess at.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let compact: String = s
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let Some(digits) = compact.strip_prefix('+') else {
            return err(format!(
                "'{s}' is not in E.164 form: write it with '+' and the country code, e.g. +48601234567"
            ));
        };
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return err(format!(
                "'{s}' is not in E.164 form: only digits may follow '+'"
            ));
        }
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return err(format!(
                "'{s}' is not in E.164 form: expected a country code and 8 to 15 digits in all"
            ));
        }
        Ok(Self(compact))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for PhoneNumber {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}
impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}
impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A message language. herald ships templates for these four; a customer whose
/// locale has no template falls back along `Locale::fallback_chain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    En,
    Pl,
    Cs,
    Ro,
}

impl Locale {
    pub const ALL: [Locale; 4] = [Locale::En, Locale::Pl, Locale::Cs, Locale::Ro];

    /// Accepts `pl`, `PL`, `pl-PL`, `pl_PL`: the language is what matters for a letter.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let lang = s
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match lang.as_str() {
            "en" => Ok(Locale::En),
            "pl" => Ok(Locale::Pl),
            "cs" => Ok(Locale::Cs),
            "ro" => Ok(Locale::Ro),
            _ => err(format!(
                "'{}' is not a supported locale: use one of en, pl, cs, ro (or leave it empty for the tenant default)",
                s.trim()
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Pl => "pl",
            Locale::Cs => "cs",
            Locale::Ro => "ro",
        }
    }
    /// The order in which templates are looked up: the recipient's language, the
    /// tenant's, then English, each once.
    pub fn fallback_chain(self, tenant_default: Locale) -> Vec<Locale> {
        let mut chain = vec![self];
        for l in [tenant_default, Locale::En] {
            if !chain.contains(&l) {
                chain.push(l);
            }
        }
        chain
    }
}
impl FromStr for Locale {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        Self::parse(s)
    }
}
impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ISO 4217 currency code with its number of minor units. Only active codes are
/// accepted, so a typo like `PNL` is caught at import, not on the customer's letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

/// Active ISO 4217 codes and their minor units (ISO 4217 list one, 2024).
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let code = s.trim().to_ascii_uppercase();
        match ISO_4217.binary_search_by(|(c, _)| c.cmp(&code.as_str())) {
            Ok(i) => {
                let (c, minor_units) = ISO_4217[i];
                let b = c.as_bytes();
                Ok(Self {
                    code: [b[0], b[1], b[2]],
                    minor_units,
                })
            }
            Err(_) => err(format!(
                "'{}' is not an ISO 4217 currency code (e.g. PLN, CZK, RON, EUR)",
                s.trim()
            )),
        }
    }
    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }
    /// How many decimal places an amount in this currency has (2 for PLN, 0 for JPY).
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }
}
impl TryFrom<String> for Currency {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, ValueError> {
        Self::parse(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_owned()
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An exact amount in one currency. Amounts in different currencies are never added:
/// totals are kept per currency (see `Totals`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }
    pub fn zero(currency: Currency) -> Self {
        Self {
            amount: Decimal::ZERO,
            currency,
        }
    }
    /// The amount in minor units (grosze, haléře), as the store keeps it.
    pub fn to_minor(&self) -> i64 {
        let scaled = self.amount * Decimal::from(10i64.pow(self.currency.minor_units()));
        i64::try_from(scaled.round()).unwrap_or(i64::MAX)
    }
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Self {
            amount: Decimal::new(minor, currency.minor_units()),
            currency,
        }
    }
}

/// Parses an amount as written in an import file: digits with `.` as the decimal
/// separator, no grouping, no sign, at most the currency's minor units.
pub fn parse_amount(s: &str, currency: Option<Currency>) -> Result<Decimal, ValueError> {
    let t = s.trim();
    if t.starts_with('-') {
        return err(format!(
            "'{t}' is negative; amounts are positive (a refund is not a payment)"
        ));
    }
    if t.is_empty()
        || !t.chars().all(|c| c.is_ascii_digit() || c == '.')
        || t.matches('.').count() > 1
    {
        return err(format!(
            "'{t}' is not an amount: write digits with '.' before the decimals, e.g. 1234.50"
        ));
    }
    let d = Decimal::from_str(t).map_err(|e| ValueError(format!("'{t}' is not an amount: {e}")))?;
    if let Some(c) = currency
        && d.scale() > c.minor_units()
    {
        return err(format!(
            "'{t}' has more decimals than {} allows ({})",
            c.code(),
            c.minor_units()
        ));
    }
    Ok(d.normalize().max(Decimal::ZERO))
}

/// Totals per currency, in a stable (alphabetical) order so letters read the same
/// every time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals(pub Vec<Money>);

impl Totals {
    pub fn add(&mut self, m: Money) {
        match self.0.iter_mut().find(|t| t.currency == m.currency) {
            Some(t) => t.amount += m.amount,
            None => {
                self.0.push(m);
                self.0
                    .sort_by(|a, b| a.currency.code().cmp(b.currency.code()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_table_is_sorted_for_binary_search() {
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn values_refuse_what_a_typo_makes() {
        assert!(Currency::parse("PNL").is_err());
        assert_eq!(Currency::parse("pln").unwrap().code(), "PLN");
        assert!(PhoneNumber::parse("601234567").is_err());
        assert_eq!(
            PhoneNumber::parse("+48 601-234-567").unwrap().as_str(),
            "+48601234567"
        );
        assert!(EmailAddress::parse("jan@@x.pl").is_err());
        assert!(EmailAddress::parse("jan@localhost").is_err());
        assert!(parse_amount("-5", None).is_err());
        assert!(parse_amount("1,5", None).is_err());
        assert!(parse_amount("1.005", Currency::parse("PLN").ok()).is_err());
        assert_eq!(parse_amount("1234.50", None).unwrap().to_string(), "1234.5");
    }

    #[test]
    fn money_round_trips_through_minor_units() {
        let pln = Currency::parse("PLN").unwrap();
        let m = Money::new(Decimal::from_str("12345.67").unwrap(), pln);
        assert_eq!(m.to_minor(), 1_234_567);
        assert_eq!(Money::from_minor(1_234_567, pln), m);
    }
}
