//! The file outbox: the default channel, and the one to try a configuration with.
//!
//! Each delivery becomes one file named after its delivery id, so what the dispatcher
//! did can be checked with `ls`, and a delivery that is retried or re-leased after a
//! crash overwrites its own file instead of adding a second one.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::email::{EmailMessage, build_eml};
use crate::sms::{SmsEncoding, SmsMessage, sms_segments};
use crate::{EmailChannel, Outcome, SendFuture, SmsChannel};

/// Writes e-mail as `<dir>/email/<date>/<delivery:08>-<recipient>.eml` and SMS as
/// `<dir>/sms/<date>/<delivery:08>-<digits>.json`, where `<date>` is the message's
/// date in UTC.
#[derive(Debug, Clone)]
pub struct FileOutbox {
    dir: PathBuf,
}

impl FileOutbox {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where [`FileOutbox::send_email`] puts this delivery; public so the console can
    /// link to it and tests need not repeat the naming rule.
    pub fn email_path(&self, delivery_id: i64, msg: &EmailMessage) -> PathBuf {
        let recipient = msg
            .to
            .first()
            .map_or_else(|| "no-recipient".to_owned(), |m| slug(m.address.as_str()));
        self.dir
            .join("email")
            .join(utc_date(msg.date))
            .join(if delivery_id < 0 {
                // Not a delivery: an operator alert (see herald's jobs), numbered apart.
                format!("alert-{:08}-{recipient}.eml", delivery_id.unsigned_abs())
            } else {
                format!("{delivery_id:08}-{recipient}.eml")
            })
    }

    /// Where [`FileOutbox::send_sms`] puts this delivery.
    pub fn sms_path(&self, delivery_id: i64, msg: &SmsMessage) -> PathBuf {
        let digits: String = msg
            .to
            .as_str()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        self.dir
            .join("sms")
            .join(utc_date(msg.date))
            .join(format!("{delivery_id:08}-{digits}.json"))
    }

    pub async fn send_email(&self, delivery_id: i64, msg: &EmailMessage) -> Outcome {
        let bytes = match build_eml(msg) {
            Ok(b) => b,
            Err(e) => {
                return Outcome::Permanent {
                    detail: format!("the e-mail could not be built: {e}"),
                };
            }
        };
        write_atomic(self.email_path(delivery_id, msg), bytes).await
    }

    pub async fn send_sms(&self, delivery_id: i64, msg: &SmsMessage) -> Outcome {
        let size = sms_segments(&msg.body);
        let record = SmsRecord {
            id: &msg.id,
            delivery_id,
            to: msg.to.as_str(),
            sender: msg.sender.as_deref(),
            body: &msg.body,
            date: msg.date,
            encoding: size.encoding,
            units: size.units,
            segments: size.segments,
            metadata: &msg.metadata,
        };
        let mut bytes = match serde_json::to_vec_pretty(&record) {
            Ok(b) => b,
            Err(e) => {
                return Outcome::Permanent {
                    detail: format!("the SMS could not be serialised: {e}"),
                };
            }
        };
        bytes.push(b'\n');
        write_atomic(self.sms_path(delivery_id, msg), bytes).await
    }
}

impl EmailChannel for FileOutbox {
    fn send_email<'a>(&'a self, delivery_id: i64, msg: &'a EmailMessage) -> SendFuture<'a> {
        Box::pin(FileOutbox::send_email(self, delivery_id, msg))
    }
}

impl SmsChannel for FileOutbox {
    fn send_sms<'a>(&'a self, delivery_id: i64, msg: &'a SmsMessage) -> SendFuture<'a> {
        Box::pin(FileOutbox::send_sms(self, delivery_id, msg))
    }
}

/// The JSON written for one SMS; the size is included so the cost of a template can be
/// seen before a gateway is configured.
#[derive(Serialize)]
struct SmsRecord<'a> {
    id: &'a str,
    delivery_id: i64,
    to: &'a str,
    sender: Option<&'a str>,
    body: &'a str,
    date: jiff::Timestamp,
    encoding: SmsEncoding,
    units: usize,
    segments: usize,
    metadata: &'a serde_json::Map<String, serde_json::Value>,
}

fn utc_date(t: jiff::Timestamp) -> String {
    t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string()
}

/// A file-name-safe, readable form of an address: `Jan.Kowalski@Example.pl` becomes
/// `jan.kowalski_at_example.pl`.
fn slug(address: &str) -> String {
    let mut s = String::with_capacity(address.len() + 3);
    for c in address.chars().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' | '.' | '-' | '_' => s.push(c),
            '@' => s.push_str("_at_"),
            _ => s.push('-'),
        }
    }
    let s: String = s.trim_matches('.').chars().take(80).collect();
    if s.is_empty() {
        "recipient".to_owned()
    } else {
        s
    }
}

async fn write_atomic(path: PathBuf, bytes: Vec<u8>) -> Outcome {
    let target = path.clone();
    match tokio::task::spawn_blocking(move || write_atomic_blocking(&target, &bytes)).await {
        Ok(Ok(())) => Outcome::Delivered {
            provider_id: Some(path.display().to_string()),
            detail: format!("written to {}", path.display()),
        },
        Ok(Err(failure)) => failure.into_outcome(&path),
        Err(e) => Outcome::Transient {
            detail: format!("writing {} was interrupted: {e}", path.display()),
        },
    }
}

/// Which step failed matters for the advice: a file where the directory should be is
/// never going to work, a full disk will once space is freed.
struct WriteFailure {
    step: &'static str,
    at: PathBuf,
    error: io::Error,
}

impl WriteFailure {
    fn into_outcome(self, target: &Path) -> Outcome {
        use io::ErrorKind as K;
        let WriteFailure { step, at, error } = self;
        let what = format!(
            "cannot write {}: {step} {} failed: {error}",
            target.display(),
            at.display()
        );
        match error.kind() {
            K::NotADirectory | K::AlreadyExists | K::IsADirectory => Outcome::Permanent {
                detail: format!(
                    "{what}; something that is not a directory is in the way: move it aside or point the file channel's dir elsewhere"
                ),
            },
            K::InvalidFilename | K::InvalidInput => Outcome::Permanent {
                detail: format!(
                    "{what}; the file system refuses this name: point the file channel's dir elsewhere"
                ),
            },
            K::PermissionDenied | K::ReadOnlyFilesystem => Outcome::Transient {
                detail: format!(
                    "{what}; let the user running herald write to {}, it will be retried",
                    at.display()
                ),
            },
            K::StorageFull | K::QuotaExceeded | K::FileTooLarge => Outcome::Transient {
                detail: format!("{what}; free disk space, it will be retried"),
            },
            _ => Outcome::Transient {
                detail: format!("{what}; it will be retried"),
            },
        }
    }
}

/// Temp file in the same directory, fsync, rename over the target, fsync the
/// directory: a reader sees the old file or the new one, never half of one, and the
/// rename survives a power cut.
fn write_atomic_blocking(path: &Path, bytes: &[u8]) -> Result<(), WriteFailure> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    fn fail(step: &'static str, at: &Path) -> impl FnOnce(io::Error) -> WriteFailure {
        let at = at.to_path_buf();
        move |error| WriteFailure { step, at, error }
    }

    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail("creating directory", dir))?;
    if !dir.is_dir() {
        return Err(fail("creating directory", dir)(io::Error::from(
            io::ErrorKind::NotADirectory,
        )));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(fail("creating", &tmp))?;
        f.write_all(bytes).map_err(fail("writing", &tmp))?;
        f.sync_all().map_err(fail("syncing", &tmp))?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(fail("renaming onto", path))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir);
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    // Best effort: the file is complete and in place; only its durability across a
    // power cut depends on this, and some file systems refuse to fsync a directory.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(
            slug("Jan.Kowalski@Example.pl"),
            "jan.kowalski_at_example.pl"
        );
        assert_eq!(slug("a+tag@x.pl"), "a-tag_at_x.pl");
        assert!(!slug("../../etc@x.pl").contains('/'));
    }

    #[test]
    fn date_directory_is_the_utc_day() {
        let t: jiff::Timestamp = "2026-11-20T23:30:00-02:00".parse().unwrap();
        assert_eq!(utc_date(t), "2026-11-21");
    }
}
