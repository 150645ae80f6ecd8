//! Applying a whole patch to a source tree whose files the caller reads:
//! every file's hunks, with every failure and every fuzzed or moved hunk
//! as a diagnostic at its line of the patch file.

use super::diagnostics::{applied_with_fuzz_or_offset, file_missing, hunk_does_not_apply};
use super::{apply, Applied, FileDiff, PatchFile};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceMap};

/// One file of the tree as the fix leaves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchedFile {
    /// The file the fix reads, `None` for one it creates.
    pub old_path: Option<String>,
    /// The file the fix writes, `None` for one it deletes.
    pub new_path: Option<String>,
    /// The target's text of the file (empty for a new file).
    pub original: String,
    pub applied: Applied,
}

/// What applying a patch to a tree gave: the files that applied, and the
/// diagnostics (errors for what did not apply, a warning or note for each
/// hunk that applied only with fuzz or at another line).
#[derive(Debug, Default)]
pub struct TreeOutcome {
    pub files: Vec<PatchedFile>,
    pub diagnostics: Vec<Diagnostic>,
}

impl TreeOutcome {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Applies every file of `patch`, whose text is the file `patch_file` of
/// `sources`. `read` gives a file of the tree by its path: `Ok(None)` when
/// the tree has no such file, `Err` with the diagnostic when it cannot be read.
pub fn apply_to_tree(
    patch: &PatchFile,
    sources: &SourceMap,
    patch_file: FileId,
    mut read: impl FnMut(&str) -> Result<Option<String>, Box<Diagnostic>>,
) -> TreeOutcome {
    let mut outcome = TreeOutcome::default();
    for file in &patch.files {
        let original = match read_original(file, &mut read) {
            Ok(Some(text)) => text,
            Ok(None) => {
                outcome
                    .diagnostics
                    .push(file_missing(file, sources, patch_file));
                continue;
            }
            Err(diagnostic) => {
                outcome.diagnostics.push(*diagnostic);
                continue;
            }
        };
        match apply(&original, file) {
            Ok(applied) => {
                let notes = applied_with_fuzz_or_offset(file, &applied, sources, patch_file);
                outcome.diagnostics.extend(notes);
                outcome.files.push(PatchedFile {
                    old_path: file.old_path.clone(),
                    new_path: file.new_path.clone(),
                    original,
                    applied,
                });
            }
            Err(failures) => outcome.diagnostics.extend(
                failures
                    .iter()
                    .map(|f| hunk_does_not_apply(file, f, sources, patch_file)),
            ),
        }
    }
    outcome
}

/// The target's text of the file the diff changes: for a new file, empty if
/// the tree lacks it (and its text if it has it, which `apply` refuses).
fn read_original(
    file: &FileDiff,
    read: &mut impl FnMut(&str) -> Result<Option<String>, Box<Diagnostic>>,
) -> Result<Option<String>, Box<Diagnostic>> {
    match (&file.old_path, &file.new_path) {
        (Some(old), _) => read(old),
        (None, Some(new)) => Ok(Some(read(new)?.unwrap_or_default())),
        (None, None) => Ok(Some(String::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Code;
    use crate::diagnostic::Severity;
    use crate::patch_file::parse;
    use crate::source::Origin;

    #[test]
    fn every_file_is_applied_and_every_problem_is_a_diagnostic_at_its_line() {
        let text = "\
--- a/moved.c
+++ b/moved.c
@@ -3,3 +3,3 @@
 3
-4
+four
 5
--- a/fails.c
+++ b/fails.c
@@ -1,2 +1,2 @@
-x
+y
 z
--- a/gone.c
+++ b/gone.c
@@ -1 +1 @@
-a
+b
--- /dev/null
+++ b/new.c
@@ -0,0 +1 @@
+int n;
";
        let patch = parse(text).expect("the patch parses");
        let mut sources = SourceMap::new();
        let id = sources.add("fix.patch".into(), text.into(), Origin::Memory);
        let outcome = apply_to_tree(&patch, &sources, id, |path| {
            Ok(match path {
                "moved.c" => Some("0\n1\n2\n3\n4\n5\n".to_string()),
                "fails.c" => Some("q\nr\n".to_string()),
                _ => None,
            })
        });
        let found: Vec<(Severity, Code, usize, &str)> = outcome
            .diagnostics
            .iter()
            .map(|d| {
                let span = d
                    .primary
                    .as_ref()
                    .map_or(0, |l| sources.line_col(id, l.span.start).0);
                (d.severity, d.code, span, d.message.as_str())
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    Severity::Note,
                    Code::HunkDoesNotApply,
                    3,
                    "hunk #1 of the fix applies to moved.c at line 4, 1 line after where it says"
                ),
                (
                    Severity::Error,
                    Code::HunkDoesNotApply,
                    10,
                    "hunk #1 of the fix does not apply to fails.c"
                ),
                (
                    Severity::Error,
                    Code::PatchedFileMissing,
                    14,
                    "the fix changes gone.c, which the target's source does not have"
                ),
            ]
        );
        let written: Vec<(Option<&str>, &str)> = outcome
            .files
            .iter()
            .map(|f| (f.new_path.as_deref(), f.applied.text.as_str()))
            .collect();
        assert_eq!(
            written,
            [
                (Some("moved.c"), "0\n1\n2\n3\nfour\n5\n"),
                (Some("new.c"), "int n;\n")
            ]
        );
        assert!(outcome.has_errors());
    }
}
