//! The diagnostics of a patch file: a file kgpc cannot read (KGP0045), a
//! hunk that does not apply (KGP0121, also the warning for a hunk that
//! applied only with fuzz and the note for one that moved), and a file the
//! target's source does not have (KGP0122), each at its line of the patch.

use super::{Applied, DiffLines, FileDiff, HunkFailure, PatchError};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceMap, Span};

/// The span of the 1-based `line` of `file`, without its line end; the end
/// of the file for a line beyond it.
pub fn line_span(sources: &SourceMap, file: FileId, line: usize) -> Span {
    let text = sources.text(file);
    let mut start = 0;
    for _ in 1..line {
        match text[start..].find('\n') {
            Some(end) => start += end + 1,
            None => return Span::new(file, text.len(), text.len()),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |e| start + e);
    let end = if text[..end].ends_with('\r') {
        end - 1
    } else {
        end
    };
    Span::new(file, start, end.max(start))
}

/// KGP0045: the patch file cannot be read, at the line that says why.
pub fn malformed(error: &PatchError, sources: &SourceMap, patch: &DiffLines) -> Diagnostic {
    let diagnostic = Diagnostic::error(Code::MalformedPatch, error.message.clone())
        .at(patch.span(sources, error.line), "here");
    match &error.help {
        Some(help) => diagnostic.with_help(help.clone()),
        None => diagnostic,
    }
}

/// KGP0121: a hunk does not apply to the target's file, with where it was
/// tried, where it comes closest and what to do.
pub fn hunk_does_not_apply(
    file: &FileDiff,
    failure: &HunkFailure,
    sources: &SourceMap,
    patch: &DiffLines,
) -> Diagnostic {
    let path = file.path();
    let function = file
        .hunks
        .get(failure.hunk.wrapping_sub(1))
        .and_then(|h| h.function())
        .unwrap_or("FUNCTION");
    let mut diagnostic = Diagnostic::error(
        Code::HunkDoesNotApply,
        format!("hunk #{} of the fix does not apply to {path}", failure.hunk),
    )
    .at(patch.span(sources, failure.line), "this hunk")
    .with_note(failure.reason.clone());
    if let Some(near) = failure.nearest {
        diagnostic = diagnostic.with_note(format!(
            "most of its lines match at line {near} of the target's {path}"
        ));
    }
    diagnostic.with_help(format!(
        "the target's source differs from the one the fix was written for: rebase the fix onto it \
         (`kgpc source {function}` prints what the target has)"
    ))
}

/// KGP0122: the fix changes a file the target's source does not have.
pub fn file_missing(file: &FileDiff, sources: &SourceMap, patch: &DiffLines) -> Diagnostic {
    let path = file.path();
    Diagnostic::error(
        Code::PatchedFileMissing,
        format!("the fix changes {path}, which the target's source does not have"),
    )
    .at(patch.span(sources, file.line), "the file's diff")
    .with_help(
        "the fix was written for a kernel whose files differ: find where the target has the code \
         (`kgpc source FUNCTION` prints a function's file) and rebase the fix onto that file",
    )
}

/// What the user must see of hunks that applied away from where they say:
/// a warning for each that needed fuzz, a note for each that moved.
pub fn applied_with_fuzz_or_offset(
    file: &FileDiff,
    applied: &Applied,
    sources: &SourceMap,
    patch: &DiffLines,
) -> Vec<Diagnostic> {
    let path = file.path();
    let mut found = Vec::new();
    for (n, (place, hunk)) in applied.hunks.iter().zip(&file.hunks).enumerate() {
        let span = patch.span(sources, hunk.line);
        let at = place.old_lines.start;
        let function = hunk.function().unwrap_or("FUNCTION");
        if place.fuzz > 0 {
            found.push(
                Diagnostic::warning(
                    Code::HunkDoesNotApply,
                    format!("hunk #{} of the fix applies to {path} only with fuzz {}", n + 1, place.fuzz),
                )
                .at(span, format!("applied at line {at}, with up to {} context lines at each end ignored", place.fuzz))
                .with_note("the code around the change differs from the code the fix was written against")
                .with_help(format!(
                    "check that the change still does what it did upstream (`kgpc source {function}` \
                     prints what the target has), and rebase the fix onto the target's source"
                )),
            );
        } else if place.offset != 0 {
            let (count, way) = (
                place.offset.unsigned_abs(),
                if place.offset > 0 { "after" } else { "before" },
            );
            let lines = if count == 1 { "line" } else { "lines" };
            found.push(
                Diagnostic::note(
                    Code::HunkDoesNotApply,
                    format!("hunk #{} of the fix applies to {path} at line {at}, {count} {lines} {way} where it says", n + 1),
                )
                .at(span, "this hunk"),
            );
        }
    }
    found
}
