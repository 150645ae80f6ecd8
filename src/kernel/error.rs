//! The one error type of the kernel-facts layer: a file and what is wrong with it.

use std::fmt;
use std::path::{Path, PathBuf};

/// A kernel object that cannot be used, and why, in words for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    pub path: PathBuf,
    pub problem: String,
}

impl KernelError {
    pub fn new(path: &Path, problem: impl Into<String>) -> Self {
        KernelError {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for KernelError {}

/// Turns a gimli error into words, for `KernelError::problem`.
pub fn dwarf_problem(e: gimli::Error) -> String {
    format!("its DWARF debug information is corrupted ({e})")
}
