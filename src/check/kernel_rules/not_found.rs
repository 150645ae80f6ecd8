//! A name the kernel object lacks: the error that says so, with what the
//! object has instead (clones of it, inlined copies of it, names close to it).

use super::objects::describe;
use crate::check::name_list::name_list;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::facts::is_clone_of;
use crate::kernel::Kernel;

/// The clones the compiler made of `name` (`name.isra.0`, `name.cold`, ...).
pub(super) fn clones_of(kernel: &Kernel, name: &str) -> Vec<String> {
    kernel
        .index()
        .symbols_with_prefix(&format!("{name}."))
        .into_iter()
        .filter(|c| is_clone_of(c, name))
        .collect()
}

/// The error that `kernel` has no `what` (a function, a symbol) called `name`.
pub(super) fn not_found(kernel: &Kernel, name: &str, code: Code, what: &str) -> Diagnostic {
    let index = kernel.index();
    let clones = clones_of(kernel, name);
    let inlined = index.inlined_into(name);
    let mut d = Diagnostic::error(
        code,
        format!("no {what} `{name}` in {}", kernel.object_name),
    )
    .with_note(format!("looked in {}", describe(kernel)));
    if !clones.is_empty() {
        d = d
            .with_note(format!(
                "the compiler emitted only clones of it: {}",
                clones.join(", ")
            ))
            .with_help("a clone has a changed calling convention; replace the functions that call it instead");
    } else if !inlined.is_empty() {
        d = d
            .with_note(format!(
                "it was inlined everywhere it is used: into {}",
                name_list(&inlined, 12)
            ))
            .with_help("replace the functions that hold the inlined copies instead");
    } else {
        let suggestions = index.suggestions(name, 3);
        if !suggestions.is_empty() {
            d = d.with_help(format!(
                "did you mean {}?",
                suggestions
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    d
}
