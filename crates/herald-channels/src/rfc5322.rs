//! The pieces of an RFC 5322 / MIME message, appended straight into one buffer.
//!
//! lettre's builder made every e-mail by re-parsing what it had just been given,
//! copying each body several times and allocating for every header; with thousands
//! of notices that was a seventh of herald's CPU. These writers take already
//! validated values (see `email.rs`) and never fail.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// RFC 5322's recommended line length; folding keeps header lines within it.
const MAX_LINE: usize = 78;
/// RFC 2047: an encoded word is at most 75 characters.
const MAX_ENCODED_WORD: usize = 75;
const EW_PREFIX: &[u8] = b"=?utf-8?b?";
const EW_SUFFIX: &[u8] = b"?=";
/// A raw word longer than this could not be folded under RFC 5322's hard limit of 998,
/// so such a value is written as encoded words, which can be split anywhere.
const MAX_RAW_WORD: usize = 900;
/// RFC 2045: encoded lines are at most 76 characters.
const QP_LINE: usize = 76;
/// RFC 5322: no line may exceed 998 characters, whatever the encoding.
const MAX_7BIT_LINE: usize = 998;
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// One header field being written: `Name:` then words, each after a space or, when
/// the line would get too long, after a fold (CRLF and a space, which unfolds back to
/// the space).
pub(crate) struct Field<'a> {
    out: &'a mut Vec<u8>,
    line_start: usize,
    /// The column just after `Name:`; a fold there would leave the name alone on its line.
    after_name: usize,
}

impl<'a> Field<'a> {
    pub(crate) fn start(out: &'a mut Vec<u8>, name: &str) -> Self {
        let line_start = out.len();
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        Field {
            out,
            line_start,
            after_name: name.len() + 1,
        }
    }

    pub(crate) fn finish(self) {
        self.out.extend_from_slice(b"\r\n");
    }

    fn col(&self) -> usize {
        self.out.len() - self.line_start
    }

    /// The space before a word of `len` characters, folded if the word would overflow.
    /// An empty word (from two spaces in a row) never folds, so no line is blank.
    fn space_for(&mut self, len: usize) {
        if len > 0 && self.col() > self.after_name && self.col() + 1 + len > MAX_LINE {
            self.fold();
        }
        self.out.push(b' ');
    }

    fn fold(&mut self) {
        self.out.extend_from_slice(b"\r\n");
        self.line_start = self.out.len();
    }

    pub(crate) fn word(&mut self, word: &[u8]) {
        self.space_for(word.len());
        self.out.extend_from_slice(word);
    }

    pub(crate) fn word3(&mut self, a: &[u8], b: &[u8], c: &[u8]) {
        self.space_for(a.len() + b.len() + c.len());
        self.out.extend_from_slice(a);
        self.out.extend_from_slice(b);
        self.out.extend_from_slice(c);
    }

    /// Free text (Subject, X- headers): raw when it is printable ASCII, so the raw
    /// message stays readable, else RFC 2047, which also keeps a CR or LF in the
    /// value from starting a header of its own.
    pub(crate) fn text(&mut self, value: &str) {
        if needs_encoded_words(value) {
            self.encoded_words(value, b"", b"");
        } else {
            for w in value.split(' ') {
                self.word(w.as_bytes());
            }
        }
    }

    /// `value` as RFC 2047 base64 encoded words, each filling what is left of its line
    /// and cut only between UTF-8 characters. `pre` and `post` wrap the whole run (a
    /// parameter's `name="` and `"`).
    fn encoded_words(&mut self, value: &str, pre: &[u8], post: &[u8]) {
        let overhead = EW_PREFIX.len() + EW_SUFFIX.len() + post.len();
        let capacity = |col: usize, pre: usize| {
            let room = MAX_LINE.saturating_sub(col + 1 + pre + overhead);
            room.min(MAX_ENCODED_WORD - EW_PREFIX.len() - EW_SUFFIX.len()) / 4 * 3
        };
        let mut rest = value;
        let mut first = true;
        while first || !rest.is_empty() {
            let pre_len = if first { pre.len() } else { 0 };
            let mut max = capacity(self.col(), pre_len);
            // Too little room for even two accented letters: start on a new line.
            if max < 6 && self.col() > 0 {
                self.fold();
                max = capacity(self.col(), pre_len);
            }
            let mut n = rest.floor_char_boundary(max.min(rest.len()));
            if n == 0 && !rest.is_empty() {
                n = rest.ceil_char_boundary(1);
            }
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            self.out.push(b' ');
            if first {
                self.out.extend_from_slice(pre);
            }
            self.out.extend_from_slice(EW_PREFIX);
            base64_into(self.out, chunk.as_bytes());
            self.out.extend_from_slice(EW_SUFFIX);
            if rest.is_empty() {
                self.out.extend_from_slice(post);
            }
            first = false;
        }
    }

    /// A display name and address: `Name <addr>`, or the bare address without a name
    /// (the form lettre wrote, which tests and operators grep for). `comma` ends the
    /// mailbox with the list separator, counted in the line length.
    pub(crate) fn mailbox(&mut self, name: Option<&str>, address: &str, comma: bool) {
        let end: &[u8] = if comma { b">," } else { b">" };
        match name {
            None => self.word3(b"", address.as_bytes(), &end[1..]),
            Some(name) => {
                self.display_name(name);
                self.word3(b"<", address.as_bytes(), end);
            }
        }
    }

    fn display_name(&mut self, name: &str) {
        let bytes = name.as_bytes();
        if needs_encoded_words(name) {
            self.encoded_words(name, b"", b"");
        } else if bytes.iter().all(|&b| b == b' ' || is_atext(b)) {
            for w in name.split(' ') {
                self.word(w.as_bytes());
            }
        } else {
            // A quoted string may fold at its spaces: unfolding gives them back.
            let mut words = name.split(' ').peekable();
            let mut first = true;
            while let Some(w) = words.next() {
                let last = words.peek().is_none();
                let escapes = w.bytes().filter(|&b| b == b'"' || b == b'\\').count();
                self.space_for(w.len() + escapes + usize::from(first) + usize::from(last));
                if first {
                    self.out.push(b'"');
                }
                for &b in w.as_bytes() {
                    if b == b'"' || b == b'\\' {
                        self.out.push(b'\\');
                    }
                    self.out.push(b);
                }
                if last {
                    self.out.push(b'"');
                }
                first = false;
            }
        }
    }

    /// `name="file"` of an attachment's Content-Type, RFC 2047-encoded inside the quotes
    /// when not plain ASCII, as mail programs that ignore RFC 2231 expect.
    pub(crate) fn name_param(&mut self, key: &str, value: &str) {
        let escapes = value.bytes().filter(|&b| b == b'"' || b == b'\\').count();
        let len = key.len() + 3 + value.len() + escapes;
        if needs_encoded_words(value) || 1 + len > MAX_LINE {
            let mut pre = Vec::with_capacity(key.len() + 2);
            pre.extend_from_slice(key.as_bytes());
            pre.extend_from_slice(b"=\"");
            self.encoded_words(value, &pre, b"\"");
        } else {
            self.space_for(len);
            self.quoted_param(key, value);
        }
    }

    fn quoted_param(&mut self, key: &str, value: &str) {
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"=\"");
        for &b in value.as_bytes() {
            if b == b'"' || b == b'\\' {
                self.out.push(b'\\');
            }
            self.out.push(b);
        }
        self.out.push(b'"');
    }

    /// `filename=` of Content-Disposition: a quoted string when it is printable ASCII
    /// and fits a line, else RFC 2231 `filename*=utf-8''%XX..`, split into numbered
    /// continuations when that would overflow.
    pub(crate) fn filename_param(&mut self, key: &str, value: &str) {
        // mail programs decode `=?..?=` even inside quotes, so such a name is encoded.
        let printable = value.bytes().all(|b| matches!(b, b' '..=b'~'))
            && memchr::memmem::find(value.as_bytes(), b"=?").is_none();
        let escapes = value.bytes().filter(|&b| b == b'"' || b == b'\\').count();
        let quoted_len = key.len() + 3 + value.len() + escapes;
        if printable && quoted_len < MAX_LINE {
            self.space_for(quoted_len);
            self.quoted_param(key, value);
            return;
        }
        let encoded_len: usize = value.bytes().map(pct_len).sum();
        let single = key.len() + "*=utf-8''".len() + encoded_len;
        if single < MAX_LINE {
            self.space_for(single);
            self.out.extend_from_slice(key.as_bytes());
            self.out.extend_from_slice(b"*=utf-8''");
            pct_into(self.out, value.as_bytes());
            return;
        }
        // Continuations, one per line, each cut between characters so every piece
        // decodes on its own.
        let mut rest = value;
        let mut i = 0usize;
        while !rest.is_empty() {
            let mut len = 0;
            let mut n = 0;
            for c in rest.chars() {
                let l: usize = c.encode_utf8(&mut [0; 4]).bytes().map(pct_len).sum();
                if n > 0 && len + l > 50 {
                    break;
                }
                len += l;
                n += c.len_utf8();
            }
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            if self.col() > self.after_name {
                self.fold();
            }
            self.out.push(b' ');
            self.out.extend_from_slice(key.as_bytes());
            self.out.push(b'*');
            push_decimal(self.out, i);
            self.out.extend_from_slice(b"*=");
            if i == 0 {
                self.out.extend_from_slice(b"utf-8''");
            }
            pct_into(self.out, chunk.as_bytes());
            if !rest.is_empty() {
                self.out.push(b';');
            }
            i += 1;
        }
    }
}

/// Whether free text must be RFC 2047-encoded: anything but printable ASCII and tabs,
/// a `=?` a reader would take for the start of an encoded word, or a word too long to fold.
fn needs_encoded_words(s: &str) -> bool {
    let b = s.as_bytes();
    !b.iter().all(|&c| c == b'\t' || (b' '..=b'~').contains(&c))
        || memchr::memmem::find(b, b"=?").is_some()
        || b.split(|&c| c == b' ').any(|w| w.len() > MAX_RAW_WORD)
}

/// RFC 5322 atext: what a display name may hold without quotes.
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// RFC 2231 attribute-char: what stays as is in an extended parameter value.
fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

fn pct_len(b: u8) -> usize {
    if is_attr_char(b) { 1 } else { 3 }
}

fn pct_into(out: &mut Vec<u8>, bytes: &[u8]) {
    for &b in bytes {
        if is_attr_char(b) {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
}

fn push_decimal(out: &mut Vec<u8>, n: usize) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(b'0' + (n % 10) as u8);
}

fn push_2digits(out: &mut Vec<u8>, n: i8) {
    let n = n.unsigned_abs();
    out.extend_from_slice(&[b'0' + n / 10 % 10, b'0' + n % 10]);
}

/// `Date:` as RFC 5322 wants it, in UTC: `Fri, 20 Nov 2026 09:15:30 +0000`.
/// Written by hand: jiff's strftime goes through `fmt` for a fixed 31-byte shape.
pub(crate) fn date_field(out: &mut Vec<u8>, ts: jiff::Timestamp) {
    use jiff::civil::Weekday;
    let dt = jiff::tz::Offset::UTC.to_datetime(ts);
    out.extend_from_slice(b"Date: ");
    out.extend_from_slice(match dt.weekday() {
        Weekday::Monday => b"Mon, ",
        Weekday::Tuesday => b"Tue, ",
        Weekday::Wednesday => b"Wed, ",
        Weekday::Thursday => b"Thu, ",
        Weekday::Friday => b"Fri, ",
        Weekday::Saturday => b"Sat, ",
        Weekday::Sunday => b"Sun, ",
    });
    push_2digits(out, dt.day());
    const MONTHS: [&[u8; 5]; 12] = [
        b" Jan ", b" Feb ", b" Mar ", b" Apr ", b" May ", b" Jun ", b" Jul ", b" Aug ", b" Sep ",
        b" Oct ", b" Nov ", b" Dec ",
    ];
    out.extend_from_slice(MONTHS[usize::from(dt.month().unsigned_abs() - 1)]);
    let year = dt.year();
    if year < 0 {
        out.push(b'-');
    }
    let y = year.unsigned_abs();
    out.extend_from_slice(&[
        b'0' + (y / 1000 % 10) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
    ]);
    out.push(b' ');
    push_2digits(out, dt.hour());
    out.push(b':');
    push_2digits(out, dt.minute());
    out.push(b':');
    push_2digits(out, dt.second());
    out.extend_from_slice(b" +0000\r\n");
}

/// Appends the base64 of `bytes`, unwrapped.
fn base64_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let start = out.len();
    out.resize(start + bytes.len().div_ceil(3) * 4, 0);
    let written = STANDARD
        .encode_slice(bytes, &mut out[start..])
        .expect("the buffer was sized for the encoded length");
    out.truncate(start + written);
}

/// The base64 of an attachment in 76-character lines (RFC 2045), the last without
/// its CRLF: that one belongs to the boundary that follows.
pub(crate) fn base64_lines(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut chunks = bytes.chunks(57).peekable();
    while let Some(chunk) = chunks.next() {
        base64_into(out, chunk);
        if chunks.peek().is_some() {
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// The transfer encoding a text part gets: `7bit` keeps plain ASCII readable in the
/// raw message; anything else is quoted-printable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextEncoding {
    SevenBit,
    QuotedPrintable,
}

impl TextEncoding {
    pub(crate) fn for_text(text: &str) -> TextEncoding {
        let b = text.as_bytes();
        let fits = b.is_ascii()
            && memchr::memchr(0, b).is_none()
            && lines(b).all(|(line, _)| {
                line.len() <= MAX_7BIT_LINE && memchr::memchr(b'\r', line).is_none()
            });
        if fits {
            TextEncoding::SevenBit
        } else {
            TextEncoding::QuotedPrintable
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            TextEncoding::SevenBit => "7bit",
            TextEncoding::QuotedPrintable => "quoted-printable",
        }
    }

    /// The encoded text, with `\n` and `\r\n` written as CRLF. As with base64, the
    /// CRLF that ends the last line is the boundary's, so text ending in a line break
    /// keeps it as an empty last line.
    pub(crate) fn write(self, out: &mut Vec<u8>, text: &str) {
        for (line, hard_break) in lines(text.as_bytes()) {
            match self {
                TextEncoding::SevenBit => out.extend_from_slice(line),
                TextEncoding::QuotedPrintable => qp_line(out, line),
            }
            if hard_break {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
}

/// The lines of `text` without their `\n` or `\r\n`, each with whether a break
/// followed it; the text after the last break comes last (possibly empty).
fn lines(text: &[u8]) -> impl Iterator<Item = (&[u8], bool)> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match memchr::memchr(b'\n', t) {
            Some(i) => {
                rest = Some(&t[i + 1..]);
                let line = &t[..i];
                Some((line.strip_suffix(b"\r").unwrap_or(line), true))
            }
            None => {
                rest = None;
                Some((t, false))
            }
        }
    })
}

/// Each byte's quoted-printable form, padded to four bytes, and its length in the
/// last byte: one table load per input byte, no branches on the byte's kind. Space
/// and tab are as is here; [`qp_line`] encodes them at the end of a line, where
/// transports may strip them.
const QP: [[u8; 4]; 256] = {
    let mut t = [[0u8; 4]; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if (c >= b'!' && c <= b'~' && c != b'=') || c == b' ' || c == b'\t' {
            [c, 0, 0, 1]
        } else {
            [b'=', HEX[b >> 4], HEX[b & 15], 3]
        };
        b += 1;
    }
    t
};

/// Whether all eight bytes of `w` are printable ASCII or space and none is `=`, the
/// bytes quoted-printable leaves alone (tab is too, but this may say no to it).
fn all_literal(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Exact for bytes below 0x80: some byte of `v` is below `k` (bit tricks,
    // "determine if a word has a byte less than n").
    let has_less = |v: u64, k: u64| v.wrapping_sub(ONES * k) & !v & HIGH != 0;
    w & HIGH == 0
        && !has_less(w, 0x20)
        && !has_less(w ^ (ONES * u64::from(b'=')), 1)
        && !has_less(w ^ (ONES * 0x7f), 1)
}

/// One line of text, quoted-printable (RFC 2045 6.7), with soft breaks so no encoded
/// line exceeds 76 characters. Each encoded line is built on the stack and appended
/// whole, which is what makes this several times faster than pushing byte by byte.
fn qp_line(out: &mut Vec<u8>, line: &[u8]) {
    let Some((&last, body)) = line.split_last() else {
        return;
    };
    // Room for a full line and one more four-byte write past it.
    let mut buf = [0u8; QP_LINE + 4];
    let mut n = 0;
    let mut i = 0;
    while i < body.len() {
        // Eight characters that stay as they are are copied at once: most of a
        // Latin-script letter, and nearly all of its HTML, is such runs.
        if n + 8 < QP_LINE
            && let Some(chunk) = body.get(i..i + 8)
        {
            let chunk: [u8; 8] = chunk.try_into().unwrap_or_default();
            if all_literal(u64::from_le_bytes(chunk)) {
                buf[n..n + 8].copy_from_slice(&chunk);
                n += 8;
                i += 8;
                continue;
            }
        }
        let b = body[i];
        i += 1;
        let e = QP[usize::from(b)];
        let width = usize::from(e[3]);
        // Not the last character, so keep a column for a soft break's `=`.
        if n + width > QP_LINE - 1 {
            out.extend_from_slice(&buf[..n]);
            out.extend_from_slice(b"=\r\n");
            n = 0;
        }
        buf[n..n + 4].copy_from_slice(&e);
        n += width;
    }
    let e = match last {
        b' ' => *b"=20\x03",
        b'\t' => *b"=09\x03",
        b => QP[usize::from(b)],
    };
    let width = usize::from(e[3]);
    if n + width > QP_LINE {
        out.extend_from_slice(&buf[..n]);
        out.extend_from_slice(b"=\r\n");
        n = 0;
    }
    buf[n..n + 4].copy_from_slice(&e);
    n += width;
    out.extend_from_slice(&buf[..n]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qp(text: &str) -> String {
        let mut out = Vec::new();
        TextEncoding::QuotedPrintable.write(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    fn field(name: &str, f: impl FnOnce(&mut Field<'_>)) -> String {
        let mut out = Vec::new();
        let mut h = Field::start(&mut out, name);
        f(&mut h);
        h.finish();
        String::from_utf8(out).unwrap()
    }

    fn assert_lines_within(s: &str, max: usize) {
        for line in s.split("\r\n") {
            assert!(line.len() <= max, "{} > {max}: {line:?}", line.len());
        }
    }

    #[test]
    fn qp_escapes_what_rfc_2045_requires() {
        assert_eq!(qp("a=b ż\tx"), "a=3Db =C5=BC\tx");
        assert_eq!(qp("end \nnext\t\r\nlast "), "end=20\r\nnext=09\r\nlast=20");
        assert_eq!(qp("lone\rcr\n"), "lone=0Dcr\r\n");
        assert_eq!(qp(""), "");
    }

    #[test]
    fn qp_lines_stay_within_76() {
        for text in [
            "x".repeat(300),
            "ż".repeat(300),
            format!("{}ż", "x".repeat(74)),
            format!("{} ", "x".repeat(75)),
            "ab ".repeat(100),
        ] {
            let encoded = qp(&text);
            assert_lines_within(&encoded, 76);
            let decoded = encoded.replace("=\r\n", "");
            assert!(!decoded.contains("\r\n"), "{encoded}");
        }
        assert_eq!(qp(&"x".repeat(76)), "x".repeat(76));
        assert_eq!(qp(&"x".repeat(77)), format!("{}=\r\nxx", "x".repeat(75)));
    }

    #[test]
    fn seven_bit_only_for_short_clean_ascii() {
        assert_eq!(TextEncoding::for_text("a\nb\r\n"), TextEncoding::SevenBit);
        assert_eq!(
            TextEncoding::for_text(&"x".repeat(998)),
            TextEncoding::SevenBit
        );
        for bad in ["ż", "a\rb", "a\0b", &"x".repeat(999)] {
            assert_eq!(
                TextEncoding::for_text(bad),
                TextEncoding::QuotedPrintable,
                "{bad:?}"
            );
        }
        let mut out = Vec::new();
        TextEncoding::SevenBit.write(&mut out, "a\nb\r\nc");
        assert_eq!(out, b"a\r\nb\r\nc");
    }

    #[test]
    fn ascii_text_is_raw_and_folds_at_spaces() {
        assert_eq!(
            field("Subject", |h| h.text("Hello  there")),
            "Subject: Hello  there\r\n"
        );
        let long = "word ".repeat(40);
        let s = field("Subject", |h| h.text(long.trim_end()));
        assert_lines_within(&s, 78);
        assert_eq!(
            s.replace("\r\n ", " "),
            format!("Subject: {}\r\n", long.trim_end())
        );
    }

    #[test]
    fn encoded_words_fit_and_keep_characters_whole() {
        let text = "Zażółć gęślą jaźń 😀 ".repeat(20);
        let s = field("Subject", |h| h.text(&text));
        assert_lines_within(&s, 78);
        let mut decoded = Vec::new();
        for word in s
            .trim_end()
            .split([' ', '\r', '\n'])
            .filter(|w| w.starts_with("=?"))
        {
            assert!(word.len() <= 75, "{word}");
            let b64 = word
                .strip_prefix("=?utf-8?b?")
                .and_then(|w| w.strip_suffix("?="))
                .unwrap();
            let bytes = STANDARD.decode(b64).unwrap();
            assert!(
                std::str::from_utf8(&bytes).is_ok(),
                "{word} splits a character"
            );
            decoded.extend(bytes);
        }
        assert_eq!(String::from_utf8(decoded).unwrap(), text);
    }

    #[test]
    fn display_names_take_the_lightest_form_that_is_safe() {
        let f = |name: &str| field("From", |h| h.mailbox(Some(name), "a@b.pl", false));
        assert_eq!(f("Jan Kowalski"), "From: Jan Kowalski <a@b.pl>\r\n");
        assert_eq!(
            f(r#"Kowalski, Jan "JK" \ x"#),
            "From: \"Kowalski, Jan \\\"JK\\\" \\\\ x\" <a@b.pl>\r\n"
        );
        assert_eq!(f("Łucja"), "From: =?utf-8?b?xYF1Y2ph?= <a@b.pl>\r\n");
        assert_eq!(
            field("To", |h| {
                h.mailbox(None, "a@b.pl", true);
                h.mailbox(None, "c@d.pl", false);
            }),
            "To: a@b.pl, c@d.pl\r\n"
        );
    }

    #[test]
    fn long_address_lists_fold_after_commas() {
        let s = field("To", |h| {
            for i in 0..10 {
                h.mailbox(Some("Jan Kowalski"), &format!("jan{i}@example.pl"), i < 9);
            }
        });
        assert_lines_within(&s, 78);
        let one_line = (0..10)
            .map(|i| format!("Jan Kowalski <jan{i}@example.pl>"))
            .collect::<Vec<_>>()
            .join(", ");
        assert_eq!(s.replace("\r\n ", " "), format!("To: {one_line}\r\n"));
    }

    #[test]
    fn long_and_non_ascii_file_names_use_rfc_2231() {
        let f = |name: &str| {
            field("Content-Disposition", |h| {
                h.word(b"attachment;");
                h.filename_param("filename", name);
            })
        };
        assert_eq!(
            f("a \"b\".pdf"),
            "Content-Disposition: attachment; filename=\"a \\\"b\\\".pdf\"\r\n"
        );
        assert_eq!(
            f("zł.pdf"),
            "Content-Disposition: attachment; filename*=utf-8''z%C5%82.pdf\r\n"
        );
        let long = f(&"Wezwanie do zapłaty ".repeat(6));
        assert_lines_within(&long, 78);
        assert!(long.contains(" filename*0*=utf-8''Wezwanie%20do"), "{long}");
        assert!(long.contains(";\r\n filename*1*="), "{long}");
    }

    #[test]
    fn dates_are_rfc_5322_in_utc() {
        let mut out = Vec::new();
        date_field(&mut out, "2026-11-22T23:10:05.9Z".parse().unwrap());
        assert_eq!(out, b"Date: Sun, 22 Nov 2026 23:10:05 +0000\r\n");
        out.clear();
        date_field(&mut out, "2000-01-01T01:04:05+02:00".parse().unwrap());
        assert_eq!(out, b"Date: Fri, 31 Dec 1999 23:04:05 +0000\r\n");
    }

    #[test]
    fn base64_lines_are_76_characters() {
        let mut out = Vec::new();
        base64_lines(&mut out, &[7u8; 200]);
        let s = String::from_utf8(out).unwrap();
        let lines: Vec<_> = s.split("\r\n").collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[..3].iter().all(|l| l.len() == 76));
        assert_eq!(STANDARD.decode(lines.concat()).unwrap(), [7u8; 200]);
    }
}
