//! The diffs of single functions (`replace NAME in "FILE" fix ...`): once
//! the fix is applied, each of their hunks must have changed lines of that
//! function's definition in the target's source (KGP0133), so that the
//! reviewer reads under a function's name only what changes it.

use crate::c::top_level::{top_level_items, TopKind};
use crate::check::model::{FunctionFix, UpstreamFix};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::patch_file::{AppliedHunk, Hunk, HunkLine, PatchFile};
use crate::source::SourceMap;
use crate::source_tree::apply_fix::AppliedFile;
use std::ops::Range;

/// Reports each hunk of a function's diff that changes lines outside the
/// function, and each function that its file does not define.
pub(super) fn check_function_fixes(
    fix: &UpstreamFix,
    patch: &PatchFile,
    applied: &[AppliedFile],
    sources: &SourceMap,
    diagnostics: &mut Diagnostics,
) {
    for function in &fix.functions {
        for file in applied {
            let diff = &patch.files[file.index];
            let hunks: Vec<(usize, &Hunk, &AppliedHunk)> = diff
                .hunks
                .iter()
                .zip(&file.applied.hunks)
                .enumerate()
                .filter(|(_, (hunk, _))| function.lines.contains(&hunk.line))
                .map(|(n, (hunk, place))| (n + 1, hunk, place))
                .collect();
            if hunks.is_empty() {
                continue;
            }
            let definitions = definitions_of(&file.original, &function.name);
            if definitions.is_empty() {
                diagnostics.push(
                    Diagnostic::error(
                        Code::FixOutsideFunction,
                        format!(
                            "the fix of `{}` changes {}, which defines no function `{}`",
                            function.name, file.path, function.name
                        ),
                    )
                    .at(function.span, "this function")
                    .with_help(format!(
                        "`kgpc source {}` prints the function's file; give its hunks under the function they change, or in the spec's `fix`",
                        function.name
                    )),
                );
                continue;
            }
            for (n, hunk, place) in hunks {
                let changed = changed_lines(hunk, place);
                if definitions.iter().any(|d| inside(&changed, d)) {
                    continue;
                }
                diagnostics.push(outside(
                    function,
                    &file.path,
                    n,
                    &changed,
                    &definitions,
                    hunk,
                    fix,
                    sources,
                ));
            }
        }
    }
}

/// KGP0133 for one hunk, at its `@@` line.
#[allow(clippy::too_many_arguments)]
fn outside(
    function: &FunctionFix,
    path: &str,
    n: usize,
    changed: &Range<usize>,
    definitions: &[Range<usize>],
    hunk: &Hunk,
    fix: &UpstreamFix,
    sources: &SourceMap,
) -> Diagnostic {
    let lines = if changed.is_empty() {
        format!("adds lines before line {}", changed.start)
    } else {
        format!("changes lines {} to {}", changed.start, changed.end - 1)
    };
    let function_lines = definitions
        .iter()
        .map(|d| format!("{} to {}", d.start, d.end - 1))
        .collect::<Vec<_>>()
        .join(", ");
    let other = hunk
        .function()
        .filter(|f| *f != function.name)
        .map(|f| format!(" (git names `{f}` as its function)"))
        .unwrap_or_default();
    Diagnostic::error(
        Code::FixOutsideFunction,
        format!(
            "hunk #{n} of the fix of `{}` {lines} of {path}, outside the function{other}",
            function.name
        ),
    )
    .at(fix.lines.span(sources, hunk.line), "this hunk")
    .also(function.span, "the function it is given for")
    .with_note(format!("`{}` is on lines {function_lines} of the target's {path}", function.name))
    .with_help("give the hunk under the function it changes, or in the spec's `fix` with the rest of the patch")
}

/// The lines (1-based, end exclusive) of each definition of `name` in
/// `text`: a function, or a system call that `SYSCALL_DEFINEn` defines
/// (named as the call or as its body `__do_sys_NAME`).
fn definitions_of(text: &str, name: &str) -> Vec<Range<usize>> {
    let call = name
        .strip_prefix("__do_sys_")
        .or_else(|| name.strip_prefix("__se_sys_"))
        .unwrap_or(name);
    top_level_items(text)
        .into_iter()
        .filter(|item| matches!(item.kind, TopKind::Function | TopKind::MacroFunction { .. }))
        .filter(|item| item.name.as_deref().is_some_and(|n| n == name || n == call))
        .map(|item| item.start_line..item.end_line + 1)
        .collect()
}

/// The original's lines a hunk removed or replaced, without its leading and
/// trailing context; for a hunk that only adds, the empty range at the line
/// it adds before.
fn changed_lines(hunk: &Hunk, place: &AppliedHunk) -> Range<usize> {
    let is_context = |l: &&HunkLine| matches!(l, HunkLine::Context(_));
    let lead_context = hunk.lines.iter().take_while(is_context).count();
    let trail_context = hunk.lines.iter().rev().take_while(is_context).count();
    let start = place.old_lines.start + lead_context.saturating_sub(place.fuzz.min(lead_context));
    let end = place.old_lines.end - trail_context.saturating_sub(place.fuzz.min(trail_context));
    start..end.max(start)
}

/// Whether changed lines lie in a definition; lines added before its last
/// line (its closing brace) count as inside.
fn inside(changed: &Range<usize>, definition: &Range<usize>) -> bool {
    changed.start >= definition.start
        && changed.end <= definition.end
        && changed.start < definition.end
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "int a;\n\nstatic int f(int x)\n{\n\treturn x;\n}\n\nSYSCALL_DEFINE1(g, int, y)\n{\n\treturn y;\n}\n";

    #[test]
    fn a_function_and_a_system_call_are_found_by_their_names() {
        let lines = |name| definitions_of(FILE, name).first().cloned();
        assert_eq!(lines("f"), Some(3..7));
        assert_eq!(lines("g"), Some(8..12));
        assert_eq!(lines("__do_sys_g"), Some(8..12));
        assert!(definitions_of(FILE, "h").is_empty());
    }

    #[test]
    fn only_changed_lines_count_and_context_may_lie_outside() {
        let hunk = Hunk {
            old_start: 4,
            old_len: 3,
            new_start: 4,
            new_len: 3,
            section: String::new(),
            lines: vec![
                HunkLine::Context("{".into()),
                HunkLine::Remove("\treturn x;".into()),
                HunkLine::Add("\treturn -x;".into()),
                HunkLine::Context("}".into()),
                HunkLine::Context("".into()),
            ],
            line: 1,
        };
        let place = AppliedHunk {
            old_lines: 4..8,
            new_lines: 4..8,
            offset: 0,
            fuzz: 0,
        };
        let changed = changed_lines(&hunk, &place);
        assert_eq!(changed, 5..6);
        assert!(inside(&changed, &(3..7)));
        assert!(!inside(&changed, &(8..12)));
        // Lines added after the closing brace are outside.
        assert!(!inside(&(7..7), &(3..7)));
        assert!(inside(&(6..6), &(3..7)));
    }
}
