//! Why a function's definition could not be shown, in words for the user.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use std::fmt;
use std::path::PathBuf;

/// Why a function's definition could not be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// The object has no function of that name.
    NotFound {
        name: String,
        object: String,
        suggestions: Vec<String>,
    },
    /// Several functions have the name (or none in the file `--in` names).
    Ambiguous {
        name: String,
        in_file: Option<String>,
        /// How many functions of the name `in_file` matched.
        matched: usize,
        /// The files of the candidates to choose from, in position order.
        files: Vec<String>,
    },
    /// DWARF names no file and line for the function.
    NoDeclLine { name: String, object: String },
    /// The file DWARF names is not in the source tree.
    FileMissing {
        name: String,
        file: String,
        tree: PathBuf,
    },
    /// The file has no definition of the function at the line DWARF gives.
    NoDefinition {
        name: String,
        file: String,
        line: u64,
    },
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceError::NotFound { name, object, .. } => {
                write!(f, "no function `{name}` in {object}")
            }
            SourceError::Ambiguous {
                name,
                in_file: None,
                files,
                ..
            } => write!(f, "{} functions are named `{name}`", files.len()),
            SourceError::Ambiguous {
                name,
                in_file: Some(file),
                matched: 0,
                ..
            } => write!(f, "no function `{name}` comes from \"{file}\""),
            SourceError::Ambiguous {
                name,
                in_file: Some(file),
                matched,
                ..
            } => write!(f, "{matched} functions named `{name}` come from \"{file}\""),
            SourceError::NoDeclLine { name, object } => write!(
                f,
                "the DWARF of {object} does not say in which file and line `{name}` is defined"
            ),
            SourceError::FileMissing { name, file, tree } => write!(
                f,
                "`{name}` is defined in {file}, which the source tree {} does not have",
                tree.display()
            ),
            SourceError::NoDefinition { name, file, line } => write!(
                f,
                "{file}:{line} starts no definition of `{name}` that kgpc can read"
            ),
        }
    }
}

impl SourceError {
    /// The diagnostic that says this, with its code and what to do.
    pub fn diagnostic(&self) -> Diagnostic {
        match self {
            SourceError::NotFound {
                name, suggestions, ..
            } => {
                let diagnostic = Diagnostic::error(Code::FunctionNotFound, self.to_string());
                match crate::suggest::did_you_mean(name, suggestions.iter().map(String::as_str)) {
                    Some(near) => diagnostic.with_help(format!("did you mean `{near}`?")),
                    None => diagnostic,
                }
            }
            SourceError::Ambiguous { files, .. } => {
                let listing: Vec<String> = files
                    .iter()
                    .enumerate()
                    .map(|(i, file)| format!("sympos {}: {file}", i + 1))
                    .collect();
                Diagnostic::error(Code::AmbiguousSymbol, self.to_string())
                    .with_note(listing.join("\n"))
                    .with_help("name the function's file with --in FILE, as `in \"FILE\"` does in specs")
            }
            SourceError::NoDeclLine { .. } => Diagnostic::error(Code::NoDeclLine, self.to_string())
                .with_help(
                    "a function written in assembly has no DWARF entry; for a C function, pass the \
                     target's debug vmlinux (Debian's -dbg package), whose DWARF has the lines",
                ),
            SourceError::FileMissing { .. } | SourceError::NoDefinition { .. } => {
                Diagnostic::error(Code::SourceFileMissing, self.to_string()).with_help(
                    "the source tree is not the one the kernel was built from: fetch it again with \
                     `kgpc kernel fetch --source RELEASE`",
                )
            }
        }
    }
}
