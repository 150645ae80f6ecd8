//! The fix as written upstream: the `fix` item (a patch file or a text
//! block) and the `replace NAME ... fix` entries that give one function's
//! hunks, put together into one unified diff with where each line was
//! written. Lowering only gathers the texts that loading read; applying the
//! diff to the target's source is the pipeline's source stage, which needs
//! the cached tree.

use super::Lowerer;
use crate::check::model::{FunctionFix, UpstreamFix};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::module_name::kernel_module_name;
use crate::patch_file::DiffLines;
use crate::source::FileId;
use crate::syntax::ast::{Ast, Body, DiffText, Fix, Item, ObjectEntry, Replacement};

/// The diff being put together.
struct Gathered {
    diff: String,
    lines: DiffLines,
    patch_files: Vec<FileId>,
}

impl Lowerer<'_> {
    /// The spec's fix, if it has one. A second `fix` item is an error: one
    /// spec ships one fix, so a series is squashed into one patch first.
    pub(super) fn upstream_fix(&mut self, root: &Ast) -> Option<UpstreamFix> {
        let fixes = fix_items(root);
        let functions = function_diffs(root);
        for extra in fixes.iter().skip(1) {
            self.error(
                Diagnostic::error(Code::DuplicateDefinition, "the spec has a second `fix`")
                    .at(extra.span, "a second patch")
                    .also(fixes[0].span, "the first is here")
                    .with_help("a spec carries one fix: squash the patches into one (`git format-patch --stdout A..B` makes a series; `git diff A B` one diff)"),
            );
        }
        let span = match (fixes.first(), functions.first()) {
            (Some(fix), _) => fix.diff.span(),
            (None, Some((_, _, diff))) => diff.span(),
            (None, None) => return None,
        };
        let path = match fixes.first().map(|f| &f.diff) {
            Some(DiffText::File(path)) => path.value.clone(),
            _ => self.sources.name(root.file).to_string(),
        };
        let mut gathered = Gathered {
            diff: String::new(),
            lines: DiffLines::default(),
            patch_files: Vec::new(),
        };
        let mut complete = true;
        if let Some(fix) = fixes.first() {
            complete &= self.add_diff(&fix.diff, &mut gathered).is_some();
        }
        let mut function_fixes = Vec::new();
        for (object, replacement, diff) in functions {
            let first = gathered.lines.len() + 1;
            if self
                .add_function_diff(replacement, diff, &mut gathered)
                .is_none()
            {
                complete = false;
                continue;
            }
            function_fixes.push(FunctionFix {
                name: replacement.head.name().text.clone(),
                span: replacement.head.name().span,
                object: kernel_module_name(object),
                lines: first..gathered.lines.len() + 1,
            });
        }
        if complete && gathered.diff.trim().is_empty() {
            self.error(
                Diagnostic::error(Code::MalformedPatch, "the fix holds no diff")
                    .at(span, "no `---`, `+++` or `@@` line here")
                    .with_help("give the fix as a unified diff: `git format-patch` or `git diff` writes one"),
            );
            return None;
        }
        complete.then_some(UpstreamFix {
            path,
            span,
            diff: gathered.diff,
            lines: gathered.lines,
            functions: function_fixes,
            patch_files: gathered.patch_files,
            files: Vec::new(),
            hidden_headers: Vec::new(),
        })
    }

    /// Adds a diff as written, or reports why its file cannot be read.
    fn add_diff(&mut self, diff: &DiffText, gathered: &mut Gathered) -> Option<()> {
        let (file, first_line, indent, text) = self.diff_source(diff)?;
        push_text(gathered, file, first_line, indent, &text);
        if matches!(diff, DiffText::File(_)) {
            gathered.patch_files.push(file);
        }
        Some(())
    }

    /// Adds one function's diff. Hunks without the `---`/`+++` lines that
    /// name their file get them from the replacement's `in "FILE"`.
    fn add_function_diff(
        &mut self,
        replacement: &Replacement,
        diff: &DiffText,
        gathered: &mut Gathered,
    ) -> Option<()> {
        let (file, first_line, indent, text) = self.diff_source(diff)?;
        if !names_its_file(&text) {
            let Some(path) = &replacement.in_file else {
                let name = &replacement.head.name().text;
                self.error(
                    Diagnostic::error(
                        Code::MissingProperty,
                        format!("the fix of `{name}` does not say which file it changes"),
                    )
                    .at(replacement.head.name().span, "this function's hunks")
                    .with_help(format!(
                        "name the file after the function (`replace {name} in \"FILE\" fix ...`), \
                         or begin the diff with its `--- a/FILE` and `+++ b/FILE` lines"
                    )),
                );
                return None;
            };
            let (header, _) = self.sources.line_col(path.span.file, path.span.start);
            let header_text = format!("--- a/{0}\n+++ b/{0}\n", path.value);
            gathered.diff.push_str(&header_text);
            gathered.lines.push_line(path.span.file, header);
            gathered.lines.push_line(path.span.file, header);
        }
        push_text(gathered, file, first_line, indent, &text);
        if matches!(diff, DiffText::File(_)) {
            gathered.patch_files.push(file);
        }
        Some(())
    }

    /// The file a diff is in, the line its text starts on, the indentation
    /// taken off its lines, and the text.
    fn diff_source(&mut self, diff: &DiffText) -> Option<(FileId, usize, usize, String)> {
        match diff {
            DiffText::Inline(block) => {
                let (line, _) = self.sources.line_col(block.span.file, block.first_line);
                Some((block.span.file, line, block.indent, block.text.clone()))
            }
            DiffText::File(path) => match self.named.fix(path)? {
                Ok(file) => Some((*file, 1, 0, self.sources.text(*file).to_string())),
                Err(diagnostic) => {
                    self.error((**diagnostic).clone());
                    None
                }
            },
        }
    }
}

/// The spec's `fix` items.
fn fix_items(root: &Ast) -> Vec<&Fix> {
    root.items
        .iter()
        .filter_map(|item| match item {
            Item::Fix(fix) => Some(fix),
            _ => None,
        })
        .collect()
}

/// Each `replace ... fix` of the spec's objects, with its object's name.
fn function_diffs(root: &Ast) -> Vec<(&str, &Replacement, &DiffText)> {
    let objects = root.items.iter().filter_map(|item| match item {
        Item::Object(object) => Some(object),
        _ => None,
    });
    objects
        .flat_map(|object| {
            object
                .entries
                .iter()
                .map(move |e| (object.name.text.as_str(), e))
        })
        .filter_map(|(object, entry)| match entry {
            ObjectEntry::Replace(
                r @ Replacement {
                    body: Body::Fix(diff),
                    ..
                },
            ) => Some((object, r, diff)),
            _ => None,
        })
        .collect()
}

/// Whether a diff has a `--- ` line before its first hunk.
fn names_its_file(text: &str) -> bool {
    text.lines()
        .take_while(|line| !line.starts_with("@@"))
        .any(|line| line.starts_with("--- "))
}

/// Appends `text`, written from line `first_line` of `file` on behind
/// `indent` bytes of indentation, ending it with a line end.
fn push_text(gathered: &mut Gathered, file: FileId, first_line: usize, indent: usize, text: &str) {
    let count = text.lines().count();
    gathered.lines.push_lines(file, first_line, count, indent);
    gathered.diff.push_str(text);
    if !text.is_empty() && !text.ends_with('\n') {
        gathered.diff.push('\n');
    }
}
