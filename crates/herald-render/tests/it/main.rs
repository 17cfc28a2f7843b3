//! The one integration-test binary of herald-render.

mod fallback;
mod formatting;
mod load;
mod snapshots;
mod templates;

use herald_core::{Currency, Money};

pub fn money(amount: &str, currency: &str) -> Money {
    Money::new(amount.parse().unwrap(), Currency::parse(currency).unwrap())
}

/// Writes `files` (relative path → source) into a fresh temporary templates folder.
pub fn template_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, source) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, source).unwrap();
    }
    dir
}
