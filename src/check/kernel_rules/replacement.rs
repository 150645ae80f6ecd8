//! The rules of one replacement, each its own function, run in a fixed order
//! so that the diagnostics come in that order: rule 2 (the function exists,
//! or has no symbol of its own), rule 3 ([`super::position`]), rule 4 (it can
//! be patched), rule 5 (compiler clones), rule 6 (inlined copies), rule 7
//! ([`super::prototype`]) and rule 10 ([`super::stalls`]).

use super::not_found::{clones_of, not_found};
use super::object::ObjectRules;
use super::objects::describe;
use super::position::Wanted;
use crate::check::instead::replace_instead;
use crate::check::model::Replacement;
use crate::check::name_list::{name_list, plural};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::facts::unpatchable_reason;
use crate::kernel::index::flag;
use crate::kernel::Symbol;

impl ObjectRules<'_> {
    /// Every rule of one replacement; fills in its position and, when the spec
    /// gives none, its prototype.
    pub(super) fn replacement(&mut self, func: &mut Replacement) {
        let Some(symbol) = self.replaced_symbol(func) else {
            return;
        };
        func.sympos = symbol.sympos();
        func.position_checked = true;
        self.patchable(func, &symbol);
        self.clones(func);
        self.inlined_copies(func);
        self.prototype(func, &symbol);
        self.stalls
            .replacement(func, &symbol, self.kernel, self.diagnostics);
    }

    /// Rules 2 and 3: the symbol the replacement means, or `None` after the
    /// error that says why there is none.
    fn replaced_symbol(&mut self, func: &Replacement) -> Option<Symbol> {
        let name = &func.old_name;
        let index = self.kernel.index();
        let is_code = index
            .symbols_named(name)
            .iter()
            .any(|s| s.has(flag::FUNC) || s.has(flag::EXEC));
        if !is_code {
            if !self.only_inside_others(func) {
                self.function_not_found(func);
            }
            return None;
        }
        // Positions count every symbol of the name, functions or not.
        let all = index.symbols_named(name);
        self.position(&Wanted::replacement(func), &all)
    }

    /// Rule 2 for a syscall's body or a function inlined everywhere: it exists,
    /// but only inside other functions, so say which to replace. Returns
    /// whether it reported that.
    fn only_inside_others(&mut self, func: &Replacement) -> bool {
        let (kernel, name) = (self.kernel, &func.old_name);
        if !clones_of(kernel, name).is_empty() {
            return false;
        }
        let Some(instead) = replace_instead(kernel, name) else {
            return false;
        };
        let mut d = Diagnostic::error(
            Code::NotPatchable,
            format!(
                "livepatch cannot replace `{name}`: it has no symbol of its own in {}",
                kernel.object_name
            ),
        )
        .at(func.span, "only inside other functions")
        .with_note(format!("looked in {}", describe(kernel)));
        for note in instead.notes {
            d = d.with_note(note);
        }
        self.diagnostics.push(d.with_help(instead.help));
        true
    }

    /// Rule 2: the function is not in the kernel object.
    fn function_not_found(&mut self, func: &Replacement) {
        let code = if func.prototype_given {
            Code::FunctionNotFound
        } else {
            Code::MissingPrototype
        };
        let mut d = not_found(self.kernel, &func.old_name, code, "function")
            .at(func.span, "not in the kernel");
        if !func.prototype_given {
            d = d.with_note("without the function in the kernel's debug information, kgpc cannot read its prototype either");
        }
        self.diagnostics.push(d);
    }

    /// Rule 4: livepatch can hook the function: it is a function with an ftrace
    /// call site, not `__init`, `__exit`, noinstr or entry code.
    fn patchable(&mut self, func: &Replacement, symbol: &Symbol) {
        let (kernel, name) = (self.kernel, &func.old_name);
        let Some(reason) = unpatchable_reason(symbol, kernel.meta()) else {
            return;
        };
        let file = symbol.file().unwrap_or("unknown file");
        let mut d = Diagnostic::error(
            Code::NotPatchable,
            format!("livepatch cannot replace `{name}`: {reason}"),
        )
        .at(func.span, "not patchable")
        .with_note(format!(
            "{} `{name}` is at {:#x}, {} bytes, from {file}",
            kernel.object_name, symbol.value, symbol.size
        ));
        d = match replace_instead(kernel, name) {
            Some(instead) => {
                for note in instead.notes {
                    d = d.with_note(note);
                }
                if instead.holders {
                    d.with_help(format!(
                        "{}, and the functions that call its out-of-line copy",
                        instead.help
                    ))
                } else {
                    d.with_help(instead.help)
                }
            }
            None => d.with_help("replace the functions that call it instead"),
        };
        self.diagnostics.push(d);
    }

    /// Rule 5: the compiler's clones of the function, which keep the old code.
    fn clones(&mut self, func: &Replacement) {
        let name = &func.old_name;
        // A `.cold` part holds the unlikely paths split off the function itself:
        // only the old function (or its inlined copies) jumps there, so replacing
        // the function leaves it unused. Other clones (`.isra`, `.constprop`,
        // `.part`) have callers of their own that keep running the old code.
        let (cold, callable): (Vec<String>, Vec<String>) = clones_of(self.kernel, name)
            .into_iter()
            .partition(|c| c.ends_with(".cold"));
        if let Some(first) = callable.first() {
            self.diagnostics.push(
                Diagnostic::warning(
                    Code::CompilerClones,
                    format!("the compiler also emitted clones of `{name}`: {}", callable.join(", ")),
                )
                .at(func.span, "has clones")
                .with_note("callers of a clone run the clone's old code; replacing the plain symbol does not change them")
                .with_help(format!("find the clones' callers with `kgpc inspect {first}` and replace them too, if the fix must reach them")),
            );
        }
        if !cold.is_empty() {
            self.diagnostics.push(
                Diagnostic::note(
                    Code::CompilerClones,
                    format!("`{name}` has a cold part, {}, split off by the compiler", cold.join(", ")),
                )
                .at(func.span, "has a cold part")
                .with_note("only the old function and its inlined copies jump there; the replacement does not use it"),
            );
        }
    }

    /// Rule 6: copies of the function inlined into callers the patch leaves alone.
    fn inlined_copies(&mut self, func: &Replacement) {
        let name = &func.old_name;
        let base = |caller: &str| caller.split('.').next().unwrap_or(caller).to_string();
        let inlined: Vec<String> = self
            .kernel
            .index()
            .inlined_into(name)
            .into_iter()
            .filter(|caller| {
                let base = base(caller);
                !self.replaced.contains(&base)
                    && !func.allow_inlined.iter().any(|a| *a == base || a == caller)
            })
            .collect();
        let Some(first) = inlined.first() else {
            return;
        };
        self.diagnostics.push(
            Diagnostic::warning(
                Code::InlinedCopies,
                format!(
                    "`{name}` was also inlined into {} function{} the patch leaves alone",
                    inlined.len(),
                    plural(inlined.len())
                ),
            )
            .at(func.span, "has inlined copies")
            .with_note(format!("inlined into: {}", name_list(&inlined, 20)))
            .with_note("replacing the symbol does not change the inlined copies")
            .with_help(format!(
                "replace those callers in this object too, if the fix must reach them; if not, say so with `allow_inlined \"{}\"`",
                base(first)
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::check::kernel_rules::fixture;
    use crate::codes::Code;

    fn replace(entries: &str) -> String {
        format!("object vmlinux {{\n{entries}\n}}\n")
    }

    #[test]
    fn a_missing_function_without_a_prototype_needs_one() {
        let (_, found) = fixture::object_rules(
            &fixture::vmlinux(),
            &replace("    replace dup_fm {\n        return 0;\n    }"),
        );
        assert_eq!(
            fixture::messages(&found),
            ["KGP0024: no function `dup_fm` in vmlinux"]
        );
        assert_eq!(found[0].code, Code::MissingPrototype);
        assert_eq!(found[0].help.as_deref(), Some("did you mean `dup_fn`?"));
        assert!(found[0]
            .notes
            .iter()
            .any(|n| n.contains("kgpc cannot read its prototype either")));
    }

    #[test]
    fn an_unpatchable_function_says_where_it_is_and_what_to_do() {
        let (model, found) = fixture::object_rules(
            &fixture::vmlinux(),
            &replace("    replace int notrace_fn(int x) { return x; }"),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, Code::NotPatchable);
        assert!(found[0].notes[0].starts_with("vmlinux `notrace_fn` is at 0x"));
        assert!(found[0].notes[0].ends_with(" bytes, from core.c"));
        assert_eq!(
            found[0].help.as_deref(),
            Some("replace the functions that call it instead")
        );
        // The position is known, so the module can still name the function.
        assert!(model.objects[0].funcs[0].position_checked);
    }

    #[test]
    fn inlined_copies_are_reported_unless_replaced_or_allowed() {
        let bare = fixture::bare();
        let add_one = "    replace int add_one(int x) { return x; }";
        let (_, found) = fixture::object_rules(&bare, &replace(add_one));
        let inlined: Vec<_> = found
            .iter()
            .filter(|d| d.code == Code::InlinedCopies)
            .collect();
        assert_eq!(inlined.len(), 1, "{found:?}");
        assert_eq!(
            inlined[0].message,
            "`add_one` was also inlined into 2 functions the patch leaves alone"
        );
        assert_eq!(inlined[0].notes[0], "inlined into: user_one, user_two");
        assert!(inlined[0]
            .help
            .as_deref()
            .is_some_and(|h| h.ends_with("say so with `allow_inlined \"user_one\"`")));
        let (_, found) = fixture::object_rules(
            &bare,
            &replace(
                "    replace int add_one(int x) allow_inlined \"user_one\" { return x; }\n    replace int user_two(int x) { return x; }",
            ),
        );
        assert!(
            found.iter().all(|d| d.code != Code::InlinedCopies),
            "{found:?}"
        );
    }

    #[test]
    fn clones_and_cold_parts_are_told_apart() {
        let (_, found) = fixture::object_rules(
            &fixture::vmlinux(),
            &replace("    replace int cloned(int x) { return x; }"),
        );
        assert_eq!(
            fixture::messages(&found),
            ["KGP0105: `cloned` has a cold part, cloned.cold, split off by the compiler"]
        );
    }
}
