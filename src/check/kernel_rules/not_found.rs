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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::kernel_rules::fixture;

    #[test]
    fn what_the_kernel_has_instead() {
        let vmlinux = fixture::vmlinux();
        assert_eq!(
            clones_of(&vmlinux, "only_clone"),
            ["only_clone.constprop.0"]
        );
        assert_eq!(clones_of(&vmlinux, "cloned"), ["cloned.cold"]);
        assert_eq!(clones_of(&vmlinux, "show"), Vec::<String>::new());
        let d = not_found(&vmlinux, "only_clone", Code::ExternProblem, "symbol");
        assert_eq!(d.message, "no symbol `only_clone` in vmlinux");
        assert_eq!(
            d.notes[1],
            "the compiler emitted only clones of it: only_clone.constprop.0"
        );
        let d = not_found(
            &vmlinux,
            "inlined_helper",
            Code::FunctionNotFound,
            "function",
        );
        assert_eq!(
            d.notes[1],
            "it was inlined everywhere it is used: into caller_one, caller_two"
        );
        assert_eq!(
            d.help.as_deref(),
            Some("replace the functions that hold the inlined copies instead")
        );
        let d = not_found(
            &vmlinux,
            "no_such_thing_at_all",
            Code::FunctionNotFound,
            "function",
        );
        assert!(d.notes[0].starts_with("looked in vmlinux ("));
        assert_eq!(d.notes.len(), 1);
    }
}
