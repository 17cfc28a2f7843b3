//! Reading rows from CSV and JSON files into cells indexed by the kind's columns.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::{Map, Value};

use super::{ImportError, MAX_COLS, RecordKind};

/// One field of a row, in the kind's column order.
#[derive(Debug, Clone)]
pub(crate) enum Cell<'a> {
    Text(Cow<'a, str>),
    /// Not in the row (a JSON object without the field).
    Absent,
    /// Present but unusable (not UTF-8, a JSON object where text belongs).
    Invalid(String),
}

/// Called for each row: its line, its cells (empty when `problem` is set) and a
/// problem with the row as a whole.
pub(crate) type OnRow<'f> = &'f mut dyn FnMut(u64, &[Cell<'_>], Option<String>);

const PROGRESS_EVERY: u64 = 16_384;

fn read_err(path: &Path, error: std::io::Error) -> ImportError {
    ImportError::Read {
        path: path.to_path_buf(),
        error,
    }
}

fn normalize_name(raw: &str) -> String {
    raw.trim_start_matches('\u{feff}').trim().to_lowercase()
}

/// The delimiter of the header line: `,` unless `;` or a tab is clearly meant
/// (spreadsheets in Poland and Czechia save CSV with `;`).
fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    let (comma, semi, tab) = (count(b','), count(b';'), count(b'\t'));
    if semi > comma && semi >= tab {
        b';'
    } else if tab > comma && tab > semi {
        b'\t'
    } else {
        b','
    }
}

pub(super) fn read_csv(
    kind: RecordKind,
    path: &Path,
    ignore_unknown: bool,
    progress: Option<&indicatif::ProgressBar>,
    ignored: &mut Vec<(u64, String)>,
    on_row: OnRow<'_>,
) -> Result<u64, ImportError> {
    let file = File::open(path).map_err(|e| read_err(path, e))?;
    if let (Some(pb), Ok(meta)) = (progress, file.metadata())
        && pb.length().is_none()
    {
        pb.set_length(meta.len());
    }
    let mut buf = BufReader::with_capacity(256 * 1024, file);
    let delimiter = sniff_delimiter(buf.fill_buf().map_err(|e| read_err(path, e))?);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(256 * 1024)
        .from_reader(buf);
    let malformed = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        let reason = format!("malformed CSV: {e}");
        match e.into_kind() {
            csv::ErrorKind::Io(io) => read_err(path, io),
            _ => ImportError::Malformed {
                path: path.to_path_buf(),
                line,
                reason,
            },
        }
    };

    let mut rec = csv::ByteRecord::new();
    if !rdr.read_byte_record(&mut rec).map_err(malformed)? {
        return Err(ImportError::Malformed {
            path: path.to_path_buf(),
            line: 1,
            reason: format!(
                "the file is empty: a header row is required, e.g. {}",
                kind.header()
            ),
        });
    }
    let header_line = rec.position().map_or(1, |p| p.line());
    let cols = kind.columns();
    let mut index: [Option<usize>; MAX_COLS] = [None; MAX_COLS];
    let mut unknown = Vec::new();
    for (i, raw) in rec.iter().enumerate() {
        let name = normalize_name(&String::from_utf8_lossy(raw));
        match cols.iter().position(|c| c.name == name) {
            Some(c) if index[c].is_some() => {
                return Err(ImportError::Malformed {
                    path: path.to_path_buf(),
                    line: header_line,
                    reason: format!("column '{name}' appears twice in the header"),
                });
            }
            Some(c) => index[c] = Some(i),
            None if name.is_empty() => unknown.push(format!("(unnamed column {})", i + 1)),
            None => unknown.push(name),
        }
    }
    let missing: Vec<String> = cols
        .iter()
        .zip(index.iter())
        .filter(|(c, i)| c.required && i.is_none())
        .map(|(c, _)| c.name.to_owned())
        .collect();
    if !missing.is_empty() {
        return Err(ImportError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            expected: kind.expected_header(),
        });
    }
    if !unknown.is_empty() {
        if !ignore_unknown {
            return Err(ImportError::UnknownColumns {
                path: path.to_path_buf(),
                line: header_line,
                unknown,
                expected: kind.expected_header(),
            });
        }
        ignored.extend(unknown.into_iter().map(|u| (header_line, u)));
    }
    let width = rec.len();

    let mut rows = 0u64;
    let mut reported_bytes = 0u64;
    while rdr.read_byte_record(&mut rec).map_err(malformed)? {
        let line = rec.position().map_or(0, |p| p.line());
        rows += 1;
        if rec.len() != width {
            let problem = format!("has {} fields but the header has {width}", rec.len());
            on_row(line, &[], Some(problem));
        } else {
            let cells: [Cell<'_>; MAX_COLS] =
                std::array::from_fn(|c| match index[c].and_then(|i| rec.get(i)) {
                    None => Cell::Absent,
                    Some(bytes) => match std::str::from_utf8(bytes) {
                        Ok(s) => Cell::Text(Cow::Borrowed(s)),
                        Err(_) => Cell::Invalid(
                            "is not valid UTF-8 text: save the file as UTF-8".to_owned(),
                        ),
                    },
                });
            on_row(line, &cells[..cols.len()], None);
        }
        if rows.is_multiple_of(PROGRESS_EVERY)
            && let Some(pb) = progress
        {
            let byte = rec.position().map_or(reported_bytes, |p| p.byte());
            pb.inc(byte.saturating_sub(reported_bytes));
            reported_bytes = byte;
        }
    }
    if let Some(pb) = progress {
        let end = rdr.position().byte();
        pb.inc(end.saturating_sub(reported_bytes));
    }
    Ok(rows)
}

/// Counts lines up to a byte offset, moving forward only.
struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: u64,
}

impl LineCounter<'_> {
    fn line_at(&mut self, offset: usize) -> u64 {
        let end = offset.min(self.bytes.len());
        if end > self.pos {
            self.line += self.bytes[self.pos..end]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.pos = end;
        }
        self.line
    }
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t' | b'\r' | b'\n') {
        pos += 1;
    }
    pos
}

/// serde_json's message without its " at line L column C" (relative to the slice we
/// handed it; we report the file's line instead).
fn json_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rsplit_once(" at line ") {
        Some((msg, _)) => msg.to_owned(),
        None => s,
    }
}

pub(super) fn read_json(
    kind: RecordKind,
    path: &Path,
    ignore_unknown: bool,
    progress: Option<&indicatif::ProgressBar>,
    ignored: &mut Vec<(u64, String)>,
    on_row: OnRow<'_>,
) -> Result<u64, ImportError> {
    let mut bytes = std::fs::read(path).map_err(|e| read_err(path, e))?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes[..3].copy_from_slice(b"   ");
    }
    if let Some(pb) = progress
        && pb.length().is_none()
    {
        pb.set_length(bytes.len() as u64);
    }
    let malformed = |line: u64, reason: String| ImportError::Malformed {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut lines = LineCounter {
        bytes: &bytes,
        pos: 0,
        line: 1,
    };
    let cols = kind.columns();
    let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
    let mut rows = 0u64;
    let mut reported = 0usize;

    let mut pos = skip_ws(&bytes, 0);
    let array = match bytes.get(pos) {
        None => return Ok(0),
        Some(b'[') => true,
        Some(b'{') => false,
        Some(_) => {
            return Err(malformed(
                lines.line_at(pos),
                "expected a JSON array of objects, or one JSON object per line".to_owned(),
            ));
        }
    };
    if array {
        pos = skip_ws(&bytes, pos + 1);
        if bytes.get(pos) == Some(&b']') {
            pos = skip_ws(&bytes, pos + 1);
            if pos < bytes.len() {
                return Err(malformed(
                    lines.line_at(pos),
                    "unexpected text after the closing ']'".to_owned(),
                ));
            }
            return Ok(0);
        }
    }

    loop {
        if pos >= bytes.len() {
            if array {
                return Err(malformed(
                    lines.line_at(pos),
                    "the array is not closed: ']' is missing".to_owned(),
                ));
            }
            break;
        }
        let line = lines.line_at(pos);
        if bytes[pos] != b'{' {
            return Err(malformed(
                line,
                "expected an object ('{ … }'): each record is one JSON object".to_owned(),
            ));
        }
        let mut stream =
            serde_json::Deserializer::from_slice(&bytes[pos..]).into_iter::<Map<String, Value>>();
        let object = match stream.next() {
            Some(Ok(o)) => o,
            Some(Err(e)) => {
                let at = line + (e.line() as u64).saturating_sub(1);
                return Err(malformed(
                    at,
                    format!("malformed JSON: {}", json_message(&e)),
                ));
            }
            None => break,
        };
        pos += stream.byte_offset();
        rows += 1;

        let cells = object_cells(kind, &object, line, &mut unknown);
        on_row(line, &cells[..cols.len()], None);

        pos = skip_ws(&bytes, pos);
        if array {
            match bytes.get(pos) {
                Some(b',') => pos = skip_ws(&bytes, pos + 1),
                Some(b']') => {
                    pos = skip_ws(&bytes, pos + 1);
                    if pos < bytes.len() {
                        return Err(malformed(
                            lines.line_at(pos),
                            "unexpected text after the closing ']'".to_owned(),
                        ));
                    }
                    break;
                }
                Some(_) => {
                    return Err(malformed(
                        lines.line_at(pos),
                        "expected ',' or ']' after an object".to_owned(),
                    ));
                }
                None => {
                    return Err(malformed(
                        lines.line_at(pos),
                        "the array is not closed: ']' is missing".to_owned(),
                    ));
                }
            }
        }
        if rows.is_multiple_of(PROGRESS_EVERY / 4)
            && let Some(pb) = progress
        {
            pb.inc((pos - reported) as u64);
            reported = pos;
        }
    }
    if let Some(pb) = progress {
        pb.inc((bytes.len().saturating_sub(reported)) as u64);
    }
    unknown_fields(kind, path, unknown, ignore_unknown, ignored)?;
    Ok(rows)
}

/// Records the API has already parsed (one JSON object each), read as a file of
/// them would be: record `i` is "line" `i + 1`, so a problem's place is its index.
/// `path` only names the records in messages.
pub(crate) fn read_objects(
    kind: RecordKind,
    path: &Path,
    objects: &[Map<String, Value>],
    ignore_unknown: bool,
    ignored: &mut Vec<(u64, String)>,
    on_row: OnRow<'_>,
) -> Result<u64, ImportError> {
    let cols = kind.columns();
    let mut unknown: BTreeMap<String, u64> = BTreeMap::new();
    for (i, object) in objects.iter().enumerate() {
        let line = i as u64 + 1;
        let cells = object_cells(kind, object, line, &mut unknown);
        on_row(line, &cells[..cols.len()], None);
    }
    unknown_fields(kind, path, unknown, ignore_unknown, ignored)?;
    Ok(objects.len() as u64)
}

/// One JSON record's fields in the kind's column order; a field that is not a
/// column goes into `unknown` with the first line it was seen on.
fn object_cells<'v>(
    kind: RecordKind,
    object: &'v Map<String, Value>,
    line: u64,
    unknown: &mut BTreeMap<String, u64>,
) -> [Cell<'v>; MAX_COLS] {
    let cols = kind.columns();
    let mut cells: [Cell<'v>; MAX_COLS] = std::array::from_fn(|_| Cell::Absent);
    for (key, value) in object {
        // Most keys are written as the columns are named: no new string for those.
        let Some(c) = cols.iter().position(|c| c.name == key).or_else(|| {
            let name = normalize_name(key);
            cols.iter().position(|c| c.name == name)
        }) else {
            unknown.entry(key.clone()).or_insert(line);
            continue;
        };
        cells[c] = match value {
            // An event's payload may be given as the object itself.
            Value::Object(_) if cols[c].name == "payload" => {
                Cell::Text(Cow::Owned(value.to_string()))
            }
            _ => json_cell(value, cols[c].name == "roles"),
        };
    }
    cells
}

/// Fields that are no column: an error naming them all, or (asked to ignore
/// them) a warning each.
fn unknown_fields(
    kind: RecordKind,
    path: &Path,
    unknown: BTreeMap<String, u64>,
    ignore_unknown: bool,
    ignored: &mut Vec<(u64, String)>,
) -> Result<(), ImportError> {
    if !unknown.is_empty() {
        let first_line = unknown.values().copied().min().unwrap_or(1);
        if !ignore_unknown {
            return Err(ImportError::UnknownColumns {
                path: path.to_path_buf(),
                line: first_line,
                unknown: unknown.into_keys().collect(),
                expected: kind.expected_header(),
            });
        }
        ignored.extend(unknown.into_iter().map(|(name, line)| (line, name)));
    }
    Ok(())
}

fn json_cell(value: &Value, list_allowed: bool) -> Cell<'_> {
    match value {
        Value::String(s) => Cell::Text(Cow::Borrowed(s.as_str())),
        Value::Null => Cell::Text(Cow::Borrowed("")),
        Value::Bool(true) => Cell::Text(Cow::Borrowed("true")),
        Value::Bool(false) => Cell::Text(Cow::Borrowed("false")),
        Value::Number(n) => Cell::Text(Cow::Owned(n.to_string())),
        Value::Array(items) if list_allowed => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => parts.push(s.as_str()),
                    _ => {
                        return Cell::Invalid(
                            "must be a list of texts, e.g. [\"billing\", \"admin\"]".to_owned(),
                        );
                    }
                }
            }
            Cell::Text(Cow::Owned(parts.join(";")))
        }
        Value::Array(_) => Cell::Invalid("expected a single value, found a list".to_owned()),
        Value::Object(_) => Cell::Invalid("expected a single value, found an object".to_owned()),
    }
}
