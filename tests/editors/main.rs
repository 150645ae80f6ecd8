//! Tests of the editor support in `editors/`:
//! - every keyword of `grammar/kgp.pest` is known to each editor's grammar;
//! - each editor's own test tool passes on its grammar (vscode-tmgrammar-test, Vim, Emacs ERT,
//!   tree-sitter), and the generated tree-sitter parser is up to date with `grammar.js`;
//! - the tree-sitter grammar parses every spec of the repository without an error.
//!
//! `scripts/editor-tools.sh` installs the tools. A missing tool fails its test with a message
//! that says so: these tests are never skipped.

mod keywords;
mod tools;

use std::collections::BTreeSet;
use std::env;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const INSTALL_HINT: &str = "run scripts/editor-tools.sh to install the editor test tools";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn editors() -> PathBuf {
    root().join("editors")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}
