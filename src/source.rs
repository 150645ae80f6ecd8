//! Source files and spans.
//!
//! Every diagnostic points into a [`SourceMap`]: the spec, the files it
//! imports, the embedded standard library and C files named by `body`.

use codespan_reporting::files::{Files, SimpleFile, SimpleFiles};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Identifies one file of a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub usize);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }

    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// Where a source file came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk, with its path as given or resolved.
    Disk(PathBuf),
    /// A module of the standard library embedded in the binary (`std/...`).
    Std(String),
    /// Standard input or a test string.
    Memory,
}

/// All source files of one run.
pub struct SourceMap {
    files: SimpleFiles<String, String>,
    origins: Vec<Origin>,
}

impl Default for SourceMap {
    fn default() -> Self {
        SourceMap {
            files: SimpleFiles::new(),
            origins: Vec::new(),
        }
    }
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id. `name` is what diagnostics print.
    pub fn add(&mut self, name: String, text: String, origin: Origin) -> FileId {
        self.origins.push(origin);
        FileId(self.files.add(name, text))
    }

    pub fn text(&self, id: FileId) -> &str {
        self.file(id).source()
    }

    pub fn name(&self, id: FileId) -> &str {
        self.file(id).name()
    }

    pub fn origin(&self, id: FileId) -> &Origin {
        &self.origins[id.0]
    }

    /// The directory relative imports and `body` files of this file are resolved against.
    pub fn base_dir(&self, id: FileId) -> Option<&Path> {
        match self.origin(id) {
            Origin::Disk(path) => Some(path.parent().unwrap_or(Path::new("."))),
            _ => None,
        }
    }

    /// The 1-based line and column of a byte offset.
    pub fn line_col(&self, id: FileId, offset: usize) -> (usize, usize) {
        let files = &self.files;
        let line = files.line_index(id.0, offset).unwrap_or(0);
        let col = files.column_number(id.0, line, offset).unwrap_or(1);
        (line + 1, col)
    }

    pub fn ids(&self) -> impl Iterator<Item = FileId> {
        (0..self.origins.len()).map(FileId)
    }

    pub(crate) fn files(&self) -> &SimpleFiles<String, String> {
        &self.files
    }

    fn file(&self, id: FileId) -> &SimpleFile<String, String> {
        self.files.get(id.0).expect("file ids come from this map")
    }
}
