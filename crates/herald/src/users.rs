//! The console's users: passwords hashed with argon2 (only the hash is stored),
//! and `herald user …`, which creates and changes them from the command line, so
//! the first administrator exists before anyone can sign in.

use std::io::BufRead as _;
use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The shortest password herald accepts. Length is what makes a password hard to
/// guess; no rules about digits or symbols (NIST SP 800-63B).
pub const MIN_PASSWORD: usize = 10;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?
        .to_string())
}

/// Whether `password` is the one `hash` was made from. Slow on purpose (argon2):
/// run it off the async threads.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The hash of a random password no one knows: an unknown login is checked
/// against it, so signing in takes as long whether the login exists or not.
pub fn decoy_hash() -> &'static str {
    static DECOY: LazyLock<String> = LazyLock::new(|| {
        let mut bytes = [0u8; 16];
        let _ = getrandom::fill(&mut bytes);
        let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        hash_password(&password).unwrap_or_default()
    });
    &DECOY
}

/// Checks a new password; the error says what to do.
pub fn check_new_password(password: &str, login: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!(
            "the password is {} characters long; use at least {MIN_PASSWORD} (a few words are easy to remember)",
            password.chars().count()
        ));
    }
    if password.eq_ignore_ascii_case(login) {
        return Err("the password is the login; choose another".into());
    }
    Ok(())
}

/// A login: letters, digits, `.`, `_`, `-` and `@`, up to 64.
pub fn check_login(login: &str) -> Result<(), String> {
    let ok = !login.is_empty()
        && login.len() <= 64
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{login}' is not a login: use 1 to 64 letters, digits, '.', '_', '-' or '@'"
        ))
    }
}

/// The new password: one line of standard input with `--password-stdin`, or
/// asked twice at the terminal without echo.
pub fn read_new_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let first = rpassword::prompt_password("New password: ").map_err(|e| {
        anyhow::anyhow!(
            "cannot read a password from the terminal ({e}); pipe it in with --password-stdin"
        )
    })?;
    let second = rpassword::prompt_password("Again: ")?;
    if first != second {
        anyhow::bail!("the two passwords differ; run the command again");
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_hash_only() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("anything", decoy_hash()));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn short_passwords_and_odd_logins_are_refused_with_the_reason() {
        assert!(
            check_new_password("short", "anna")
                .unwrap_err()
                .contains("at least 10")
        );
        assert!(check_new_password("anna.kowalska", "Anna.Kowalska").is_err());
        assert!(check_new_password("a long enough one", "anna").is_ok());
        assert!(check_login("anna.k@biuro").is_ok());
        assert!(check_login("anna k").unwrap_err().contains("not a login"));
        assert!(check_login("").is_err());
    }
}
