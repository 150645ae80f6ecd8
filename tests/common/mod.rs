//! Helpers shared by the golden tests.

use std::fs;
use std::path::{Path, PathBuf};

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `actual` with the file at `expected`, or writes it when
/// `KGPC_BLESS` is set; a difference is added to `failures` as a diff.
pub fn compare(expected: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("KGPC_BLESS").is_some() {
        if let Some(parent) = expected.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(expected, actual).unwrap();
        return;
    }
    match fs::read_to_string(expected) {
        Ok(text) if text == actual => {}
        Ok(text) => failures.push(format!(
            "{} differs:\n{}",
            expected.display(),
            pretty_assertions::StrComparison::new(&text, actual)
        )),
        Err(_) => failures.push(format!(
            "{} is missing; run with KGPC_BLESS=1\n--- actual:\n{actual}",
            expected.display()
        )),
    }
}
