//! Positions of same-named functions: what is left when the kernel's facts cannot
//! resolve `in "FILE"`, and two replacements that turn out to be one function.
//!
//! The kernel tells same-named local functions apart only by `old_sympos`, their
//! position in kallsyms order. `in "FILE"` is kgpc's way to name one by its source
//! file; only the kernel's debug information turns it into a position, so without
//! it the file cannot be dropped silently: the kernel would refuse the ambiguous
//! name, or patch whichever function is first.

use super::model::{Object, Replacement};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use std::collections::HashMap;

/// The error for a replacement whose `in "FILE"` no kernel facts resolved, and which
/// gives no `sympos` either; `None` when there is nothing to report. `why` says why
/// the facts are missing.
pub fn file_without_facts(
    func: &Replacement,
    object: &str,
    release: &str,
    why: &str,
) -> Option<Diagnostic> {
    let file = func.source_file.as_deref()?;
    if func.position_checked || func.sympos_span.is_some() {
        return None;
    }
    let name = &func.old_name;
    Some(
        Diagnostic::error(
            Code::FileNeedsKernelFacts,
            format!("kgpc cannot tell which `{name}` of {object} comes from \"{file}\" without the kernel's facts"),
        )
        .at(func.file_span.unwrap_or(func.span), "needs the kernel's debug information")
        .with_note(why.to_string())
        .with_note("the kernel chooses among same-named functions by position (`old_sympos`); kgpc computes it from `in` and the kernel's debug information")
        .with_help(format!(
            "fetch the kernel's facts with `kgpc kernel fetch {release}` (or pass --vmlinux PATH, and --modules DIR for a module), \
             or give the position with `sympos N` (`kgpc inspect {name}` lists them)"
        )),
    )
}

/// Reports two replacements of one object that the kernel's facts resolved to the
/// same function, such as `in "FILE"` and the `sympos` of that file's function.
pub fn same_function_twice(object: &Object, diagnostics: &mut Diagnostics) {
    let mut seen: HashMap<(&str, u64), &Replacement> = HashMap::new();
    for func in object.funcs.iter().filter(|f| f.position_checked) {
        let key = (func.old_name.as_str(), func.sympos);
        let Some(first) = seen.get(&key) else {
            seen.insert(key, func);
            continue;
        };
        let position = if func.sympos > 0 {
            format!(" at position {}", func.sympos)
        } else {
            String::new()
        };
        diagnostics.push(
            Diagnostic::error(
                Code::DuplicateDefinition,
                format!(
                    "`{}`{position} of {} is replaced twice",
                    func.old_name,
                    object.display_name()
                ),
            )
            .at(func.span, "the same function again")
            .also(first.span, "first replaced here")
            .with_help("keep one replacement; `in \"FILE\"` and `sympos` of the two name the same function"),
        );
    }
}
