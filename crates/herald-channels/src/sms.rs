//! The SMS a channel sends, and how many segments (billed messages) it will cost.
//!
//! One character outside the GSM-7 alphabet switches the whole message to UCS-2 and
//! cuts a segment from 160 to 70 characters, so a single "ł" in a Polish template can
//! more than double the bill. The size is recorded with every SMS so that shows.

use herald_core::PhoneNumber;
use serde::{Deserialize, Serialize};

/// A rendered SMS, ready for any SMS channel.
#[derive(Debug, Clone, PartialEq)]
pub struct SmsMessage {
    /// A stable id for the message (gateways use it to refuse duplicates).
    pub id: String,
    pub to: PhoneNumber,
    /// Alphanumeric sender name or number; `None` uses the gateway's default.
    pub sender: Option<String>,
    pub body: String,
    pub date: jiff::Timestamp,
    /// Where the message came from (notification id, rule, subject), kept with it so a
    /// file or a gateway callback can be traced back.
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmsEncoding {
    /// GSM 03.38 default alphabet, 7 bits a character.
    Gsm7,
    /// UTF-16 code units; anything outside GSM-7 (Polish, Czech, Romanian diacritics,
    /// emoji) needs it.
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsSize {
    pub encoding: SmsEncoding,
    /// Septets for GSM-7 (extension-table characters take two), UTF-16 code units for
    /// UCS-2 (characters beyond the BMP take two).
    pub units: usize,
    /// How many SMS the gateway will send and bill. An empty body still costs one.
    pub segments: usize,
}

/// GSM 03.38 basic character set (the escape code 0x1B left out).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// GSM 03.38 extension table: each is sent as ESC + character, two septets.
const GSM7_EXTENSION: &str = "\x0c^{}\\[~]|€";

fn gsm7_units(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Encoding and segment count of `body`, as a gateway would send it.
///
/// A multi-part SMS spends part of each segment on the concatenation header (153
/// septets or 67 UCS-2 units remain), and a character is never split between two
/// segments (neither an ESC pair nor a surrogate pair), so segments are counted by
/// packing characters, not by dividing the total.
pub fn sms_segments(body: &str) -> SmsSize {
    let gsm: Option<Vec<usize>> = body.chars().map(gsm7_units).collect();
    let (encoding, widths, single, per_part) = match gsm {
        Some(w) => (SmsEncoding::Gsm7, w, 160, 153),
        None => (
            SmsEncoding::Ucs2,
            body.chars().map(char::len_utf16).collect(),
            70,
            67,
        ),
    };
    let units: usize = widths.iter().sum();
    let segments = if units <= single {
        1
    } else {
        pack(&widths, per_part)
    };
    SmsSize {
        encoding,
        units,
        segments,
    }
}

/// The first character of `body` that GSM-7 cannot carry: the one that makes the
/// whole message UCS-2, named in messages so the operator knows what to change.
pub(crate) fn first_non_gsm7(body: &str) -> Option<char> {
    body.chars().find(|&c| gsm7_units(c).is_none())
}

fn pack(widths: &[usize], capacity: usize) -> usize {
    let (mut segments, mut used) = (1, 0);
    for &w in widths {
        if used + w > capacity {
            segments += 1;
            used = 0;
        }
        used += w;
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_hold_the_documented_number_of_characters() {
        // 128 code points minus the escape.
        assert_eq!(GSM7_BASIC.chars().count(), 127);
        assert_eq!(GSM7_EXTENSION.chars().count(), 10);
    }

    #[test]
    fn an_escape_pair_is_not_split_between_segments() {
        // Up to 160 septets one segment holds anything, pairs included.
        assert_eq!(sms_segments(&format!("{}€", "a".repeat(158))).segments, 1);
        // 306 septets fit exactly in two parts when nothing straddles.
        assert_eq!(sms_segments(&"a".repeat(306)).segments, 2);
        // ...but one straddling pair pushes the last character into a third.
        let straddle = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(sms_segments(&straddle).units, 306);
        assert_eq!(sms_segments(&straddle).segments, 3);
    }

    #[test]
    fn characters_beyond_the_bmp_take_two_units() {
        let s = sms_segments("ok 👍");
        assert_eq!((s.encoding, s.units, s.segments), (SmsEncoding::Ucs2, 5, 1));
    }

    #[test]
    fn empty_body_costs_one_segment() {
        assert_eq!(
            sms_segments(""),
            SmsSize {
                encoding: SmsEncoding::Gsm7,
                units: 0,
                segments: 1
            }
        );
    }
}
