//! Rule 7: a replacement's prototype is the kernel's. A replacement without
//! one takes the kernel's; one that gives it is compared with it.

use super::object::ObjectRules;
use crate::check::c_decl::{param_types, strip_annotations, types_match};
use crate::check::model::Replacement;
use crate::check::name_list::plural;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::ctype::normalize;
use crate::kernel::{Prototype, Symbol};

impl ObjectRules<'_> {
    /// Compares the spec's prototype with the kernel's, or fills it in from the
    /// kernel's; a replacement that has neither is an error.
    pub(super) fn prototype(&mut self, func: &mut Replacement, symbol: &Symbol) {
        let why = match self.kernel.prototype(symbol) {
            Some(Ok(proto)) if func.prototype_given => return self.compare_prototype(func, &proto),
            Some(Ok(proto)) => {
                func.function.return_type = proto.return_type.clone();
                func.function.params = proto.params_text();
                return;
            }
            _ if func.prototype_given => return,
            Some(Err(why)) => why.to_string(),
            None => format!("{} has no DWARF or BTF for it", self.kernel.object_name),
        };
        let name = &func.old_name;
        self.diagnostics.push(
            Diagnostic::error(Code::MissingPrototype, format!("the replacement of `{name}` has no prototype, and the kernel's debug information gives none"))
                .at(func.span, "give the function's C prototype here")
                .with_note(why)
                .with_help(format!("write the prototype as in the kernel source: `replace RETURN-TYPE {name}(PARAMETERS) {{`")),
        );
    }

    /// An error when the number of parameters differs, a warning when their types do.
    fn compare_prototype(&mut self, func: &Replacement, proto: &Prototype) {
        // A function taken from the target's own source has the prototype the
        // kernel was compiled with, which its text may spell through a macro
        // (fs/binfmt_elf.c's `struct elf_phdr` is `#define elf_phdr
        // elf64_phdr`) that no comparison of text sees through; a fix that
        // changes the prototype is the closure's to refuse.
        if func
            .function
            .from_source
            .as_ref()
            .is_some_and(|from| !from.prototype_changed)
        {
            return;
        }
        let name = &func.old_name;
        let spec = param_types(&func.function.params);
        let kernel_types: Vec<String> = proto.param_types.iter().map(|t| normalize(t)).collect();
        let note = format!(
            "the kernel's debug information declares: {}",
            proto.declaration()
        );
        if spec.types.len() != kernel_types.len() || spec.variadic != proto.variadic {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::PrototypeMismatch,
                    format!("`{name}` takes {} parameter{} in the kernel, not {}", kernel_types.len(), plural(kernel_types.len()), spec.types.len()),
                )
                .at(func.span, "wrong prototype")
                .with_note(note)
                .with_help("the new function is called with the old function's arguments: copy the kernel's prototype"),
            );
            return;
        }
        let ret_differs = !types_match(
            &strip_annotations(&func.function.return_type),
            &proto.return_type,
        );
        let differing: Vec<String> = spec
            .types
            .iter()
            .zip(&kernel_types)
            .enumerate()
            .filter(|(_, (a, b))| !types_match(a, b))
            .map(|(i, (a, b))| format!("parameter {}: `{a}` here, `{b}` in the kernel", i + 1))
            .collect();
        if !ret_differs && differing.is_empty() {
            return;
        }
        let mut d = Diagnostic::warning(
            Code::PrototypeMismatch,
            format!("the prototype of `{name}` differs from the kernel's"),
        )
        .at(func.span, "differs from the kernel")
        .with_note(note);
        if ret_differs {
            d = d.with_note(format!(
                "return type: `{}` here, `{}` in the kernel",
                func.function.return_type, proto.return_type
            ));
        }
        for line in differing {
            d = d.with_note(line);
        }
        self.diagnostics.push(d.with_help("types that are the same under another name (a typedef) are fine; anything else is a bug"));
    }
}

#[cfg(test)]
mod tests {
    use crate::check::kernel_rules::fixture;
    use crate::codes::Code;

    fn show(prototype: &str) -> String {
        format!("object vmlinux {{\n    replace {prototype} {{\n        return 0;\n    }}\n}}\n")
    }

    #[test]
    fn a_replacement_without_a_prototype_takes_the_kernels() {
        let (model, found) = fixture::object_rules(&fixture::vmlinux(), &show("show"));
        assert_eq!(fixture::messages(&found), Vec::<String>::new());
        let function = &model.objects[0].funcs[0].function;
        assert_eq!(
            (function.return_type.as_str(), function.params.as_str()),
            ("int", "(struct seq_file *m, void *v)")
        );
    }

    #[test]
    fn a_function_the_debug_information_does_not_describe_needs_a_prototype() {
        let (_, found) = fixture::object_rules(&fixture::bare(), &show("asm_fn"));
        let missing: Vec<_> = found
            .iter()
            .filter(|d| d.code == Code::MissingPrototype)
            .collect();
        assert_eq!(missing.len(), 1, "{found:?}");
        assert_eq!(
            missing[0].message,
            "the replacement of `asm_fn` has no prototype, and the kernel's debug information gives none"
        );
        assert_eq!(missing[0].notes, ["vmlinux has no DWARF or BTF for it"]);
        // With a prototype, there is nothing to compare it with and nothing to say.
        let (_, found) = fixture::object_rules(&fixture::bare(), &show("void asm_fn(void)"));
        assert!(
            found
                .iter()
                .all(|d| d.code != Code::MissingPrototype && d.code != Code::PrototypeMismatch),
            "{found:?}"
        );
    }

    #[test]
    fn counts_are_errors_and_types_warnings() {
        let vmlinux = fixture::vmlinux();
        let (_, found) = fixture::object_rules(
            &vmlinux,
            &show("int show(struct seq_file *m, void *v, ...)"),
        );
        assert_eq!(
            fixture::messages(&found),
            ["KGP0107: `show` takes 2 parameters in the kernel, not 2"]
        );
        assert!(found[0].is_error());
        let (_, found) =
            fixture::object_rules(&vmlinux, &show("long show(struct seq_file *m, void *v)"));
        assert_eq!(
            fixture::messages(&found),
            ["KGP0107: the prototype of `show` differs from the kernel's"]
        );
        assert!(!found[0].is_error());
        assert_eq!(
            found[0].notes,
            [
                "the kernel's debug information declares: int show(struct seq_file *m, void *v)",
                "return type: `long` here, `int` in the kernel",
            ]
        );
        let (_, found) = fixture::object_rules(
            &vmlinux,
            &show("int show(struct seq_file *seq, void *data)"),
        );
        assert_eq!(fixture::messages(&found), Vec::<String>::new());
    }

    #[test]
    fn a_function_from_the_targets_source_is_not_compared_as_text() {
        use crate::check::model::{FromSource, SourceReason, SourceText};
        // As fs/binfmt_elf.c spells a type through `#define elf_phdr elf64_phdr`.
        let spelled = show("int show(struct seq_file_alias *m, void *v)");
        let (_, found) = fixture::object_rules(&fixture::vmlinux(), &spelled);
        assert_eq!(
            fixture::messages(&found),
            ["KGP0107: the prototype of `show` differs from the kernel's"]
        );
        let from_source = |prototype_changed| {
            move |model: &mut crate::check::model::Model| {
                model.objects[0].funcs[0].function.from_source = Some(FromSource {
                    file: "fs/seq_file.c".into(),
                    reason: SourceReason::Changed,
                    original: None,
                    patched: SourceText {
                        line: 1,
                        text: String::new(),
                    },
                    references: Vec::new(),
                    prototype_changed,
                });
            }
        };
        let (_, found) =
            fixture::object_rules_after(&fixture::vmlinux(), &spelled, from_source(false));
        assert_eq!(fixture::messages(&found), Vec::<String>::new());
        // A fix that changes the prototype is still compared.
        let (_, found) =
            fixture::object_rules_after(&fixture::vmlinux(), &spelled, from_source(true));
        assert_eq!(
            fixture::messages(&found),
            ["KGP0107: the prototype of `show` differs from the kernel's"]
        );
    }
}
