use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use herald_core::Locale;
use herald_render::{TemplateError, TemplateSet};

use crate::template_dir;

fn files_under(root: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for dir in std::fs::read_dir(root).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            out.insert(f.unwrap().path().strip_prefix(root).unwrap().to_path_buf());
        }
    }
    out
}

#[test]
fn every_template_file_on_disk_is_embedded_and_vice_versa() {
    let on_disk = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let written = tempfile::tempdir().unwrap();
    TemplateSet::write_builtin(written.path()).unwrap();
    let (disk, embedded) = (files_under(&on_disk), files_under(written.path()));
    assert_eq!(disk, embedded);
    for f in &disk {
        assert_eq!(
            std::fs::read_to_string(on_disk.join(f)).unwrap(),
            std::fs::read_to_string(written.path().join(f)).unwrap(),
            "{}",
            f.display()
        );
    }
}

#[test]
fn write_builtin_then_load_dir_gives_the_builtin_set() {
    let dir = tempfile::tempdir().unwrap();
    TemplateSet::write_builtin(dir.path()).unwrap();
    let (loaded, builtin) = (
        TemplateSet::load_dir(dir.path()).unwrap(),
        TemplateSet::builtin(),
    );
    assert_eq!(loaded.names(), builtin.names());
    for name in builtin.names() {
        assert_eq!(loaded.locales_of(&name), builtin.locales_of(&name));
    }
    assert!(loaded.check().is_empty());
}

#[test]
fn write_builtin_keeps_an_operators_edits() {
    let dir = template_dir(&[("due-soon/pl.subject", "Mój temat {{ invoice.number }}")]);
    TemplateSet::write_builtin(dir.path()).unwrap();
    let subject = std::fs::read_to_string(dir.path().join("due-soon/pl.subject")).unwrap();
    assert_eq!(subject, "Mój temat {{ invoice.number }}");
    assert!(dir.path().join("due-soon/pl.txt").is_file());
}

fn load_err(files: &[(&str, &str)]) -> String {
    let dir = template_dir(files);
    let err = TemplateSet::load_dir(dir.path()).unwrap_err();
    err.to_string()
}

#[test]
fn unknown_locales_and_parts_are_errors_naming_the_file() {
    let ok = [("x/en.subject", "s"), ("x/en.txt", "t"), ("x/en.html", "h")];
    let mut files = ok.to_vec();
    files.push(("x/de.txt", "t"));
    let msg = load_err(&files);
    assert!(
        msg.contains("de.txt") && msg.contains("'de' is not a supported locale"),
        "{msg}"
    );

    let mut files = ok.to_vec();
    files.push(("x/en.text", "t"));
    let msg = load_err(&files);
    assert!(
        msg.contains("en.text") && msg.contains("'.text' is not a template part"),
        "{msg}"
    );

    let mut files = ok.to_vec();
    files.push(("x/README", "t"));
    assert!(load_err(&files).contains("README"));

    let mut files = ok.to_vec();
    files.push(("stray.txt", "t"));
    assert!(load_err(&files).contains("stray.txt"));
}

#[test]
fn hidden_files_are_ignored() {
    let dir = template_dir(&[
        ("x/en.subject", "s"),
        ("x/en.txt", "t"),
        ("x/en.html", "h"),
        ("x/.en.txt.swp", "junk"),
        (".gitkeep", ""),
    ]);
    assert_eq!(TemplateSet::load_dir(dir.path()).unwrap().names(), ["x"]);
}

#[test]
fn a_locale_without_all_required_parts_is_refused() {
    let dir = template_dir(&[("x/pl.subject", "s"), ("x/pl.txt", "t"), ("x/pl.sms", "m")]);
    let err = TemplateSet::load_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, TemplateError::Incomplete { template, locale: Locale::Pl, part, .. } if template == "x" && part == "html")
    );
    assert!(err.to_string().contains("pl.html is missing"), "{err}");
}

#[test]
fn a_syntax_error_names_template_locale_part_and_line() {
    let dir = template_dir(&[
        ("x/ro.subject", "s"),
        ("x/ro.txt", "a\nb\n{% if %}\n"),
        ("x/ro.html", "h"),
    ]);
    let err = TemplateSet::load_dir(dir.path()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("template x, locale ro, part txt, line 3: "),
        "{err}"
    );
}

#[test]
fn a_missing_folder_is_an_io_error_naming_it() {
    let err = TemplateSet::load_dir(Path::new("/nonexistent/herald-templates")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/herald-templates"),
        "{err}"
    );
}
