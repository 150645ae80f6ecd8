//! Where each line of a fix's diff was written. A fix is one unified diff
//! put together from a patch file, a text block of the spec, and the diffs
//! of single functions; its diagnostics point at the line as written.

use super::diagnostics::line_span;
use crate::source::{FileId, SourceMap, Span};

/// For each line of a diff (1-based), the file and line it was written on,
/// and the indentation in front of it there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffLines {
    lines: Vec<(FileId, usize, usize)>,
}

impl DiffLines {
    /// Adds `count` lines written one after the other in `file`, the first on
    /// its 1-based line `first`, each behind `indent` bytes of indentation.
    pub fn push_lines(&mut self, file: FileId, first: usize, count: usize, indent: usize) {
        self.lines
            .extend((first..first + count).map(|line| (file, line, indent)));
    }

    /// Adds a line kgpc wrote itself (a function's file header), shown at
    /// `line` of `file`.
    pub fn push_line(&mut self, file: FileId, line: usize) {
        self.lines.push((file, line, 0));
    }

    /// How many lines the diff has so far.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The span of the diff's 1-based `line` where it was written; a line
    /// past the end is the end of the last line's file.
    pub fn span(&self, sources: &SourceMap, line: usize) -> Span {
        match line.checked_sub(1).and_then(|i| self.lines.get(i)) {
            Some(&(file, at, indent)) => {
                let whole = line_span(sources, file, at);
                let start = (whole.start + indent).min(whole.end);
                Span::new(file, start, whole.end)
            }
            None => match self.lines.last() {
                Some(&(file, at, _)) => line_span(sources, file, at + 1),
                None => Span::new(FileId(0), 0, 0),
            },
        }
    }
}
