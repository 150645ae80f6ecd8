//! The part of `kgpc review` for a spec that carries its fix as a patch:
//! every function the patch module takes from the target's source, shown
//! as a diff against the target's own definition, and why each is there.

use super::markdown::{code, text};
use super::source_diff::unified_diff;
use crate::check::model::{Function, Model, SourceReason};
use std::fmt::Write;

/// Writes the section, if the spec has a fix.
pub fn fix_changes(out: &mut String, model: &Model) {
    let Some(fix) = &model.fix else {
        return;
    };
    let _ = writeln!(out, "## The fix, on the target's source\n");
    let files: Vec<String> = fix
        .files
        .iter()
        .filter(|f| f.original != f.patched_text)
        .map(|f| code(&f.path))
        .collect();
    let users: Vec<String> = fix
        .files
        .iter()
        .filter(|f| f.original == f.patched_text)
        .map(|f| code(&f.path))
        .collect();
    let _ = writeln!(
        out,
        "{} applied to the source of {}: {}.\n",
        if fix.patch_files.is_empty() {
            format!("The diff written in {}", code(&fix.path))
        } else {
            code(&fix.path)
        },
        text(&model.target.release),
        if files.is_empty() {
            "no file".to_string()
        } else {
            files.join(", ")
        }
    );
    if !users.is_empty() {
        let _ = writeln!(
            out,
            "Compiled with the patched headers, since they use a header function the fix changes: {}.\n",
            users.join(", ")
        );
    }
    let replaced = model
        .objects
        .iter()
        .flat_map(|o| o.funcs.iter().map(move |f| (o.display_name(), &f.function)));
    for (object, function) in replaced {
        let Some(from) = &function.from_source else {
            continue;
        };
        let name = function.c_name.trim_start_matches("livepatch_");
        let _ = writeln!(
            out,
            "### {} of {} in {}, replaced\n",
            code(&format!("{name}()")),
            code(&from.file),
            text(object)
        );
        if let SourceReason::SyscallEntry { body } = &from.reason {
            // The change itself is shown once, with the call's body.
            let _ = writeln!(
                out,
                "The entry point of the system call: it reads the arguments from the registers, as the kernel's wrapper does, and calls {}.\n",
                code(&format!("{body}()"))
            );
            continue;
        }
        change(out, function);
    }
    let copied: Vec<&Function> = model
        .helpers
        .iter()
        .filter(|h| h.from_source.is_some())
        .collect();
    for helper in &copied {
        let Some(from) = &helper.from_source else {
            continue;
        };
        let why = match &from.reason {
            SourceReason::Added => "added by the fix, a new function of the patch module",
            SourceReason::InlinedCallee
            | SourceReason::Changed
            | SourceReason::SyscallEntry { .. } => {
                "copied from the source: the kernel has no copy of it that livepatch can replace (it is only inlined, or has no ftrace call site), so the patch module has its own"
            }
        };
        let _ = writeln!(
            out,
            "### {} of {}: {why}\n",
            code(&format!("{}()", helper.c_name)),
            code(&from.file)
        );
        change(out, helper);
    }
}

/// The function's diff against the target's definition, or its text when
/// the target has none or the text is the same.
fn change(out: &mut String, function: &Function) {
    let Some(from) = &function.from_source else {
        return;
    };
    let (body, lang, note) = match &from.original {
        Some(original) if original.text != from.patched.text => (
            unified_diff(
                &with_newline(&original.text),
                &with_newline(&from.patched.text),
                &format!("{} (target)", from.file),
                &format!("{} (with the fix)", from.file),
                original.line,
                from.patched.line,
            ),
            "diff",
            None,
        ),
        Some(_) if from.reason == SourceReason::InlinedCallee => (
            String::new(),
            "c",
            Some("Its text does not change; the patch module needs its own copy."),
        ),
        Some(_) => (
            String::new(),
            "c",
            Some("Its text does not change: the compiler's code for it does, because it holds an inlined copy of a function the fix changes, or calls one the fix changes in a header."),
        ),
        None => (from.patched.text.clone(), "c", None),
    };
    if let Some(note) = note {
        let _ = writeln!(out, "{note}\n");
        return;
    }
    let fence = fence_for(&body);
    let _ = writeln!(out, "{fence}{lang}\n{}{fence}\n", with_newline(&body));
}

fn with_newline(text: &str) -> String {
    if text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

/// A code fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fence_outgrows_the_backticks_of_the_text() {
        assert_eq!(fence_for("int x;"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }
}
