//! Rule 8: an `extern` names a symbol the kernel object defines and does not
//! export, at one position, declared as the kernel declares it.

use super::not_found::not_found;
use super::object::ObjectRules;
use super::position::Wanted;
use crate::check::c_decl::{param_types, strip_annotations, types_match};
use crate::check::model::Extern;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::index::flag;
use crate::kernel::{Kernel, Symbol};

impl ObjectRules<'_> {
    /// Every rule of one extern, in order: it exists, it is not exported, its
    /// position, its declaration.
    pub(super) fn external(&mut self, ext: &Extern) {
        let (kernel, name) = (self.kernel, &ext.name);
        let symbols = kernel.index().symbols_named(name);
        if symbols.is_empty() {
            self.diagnostics.push(
                not_found(kernel, name, Code::ExternProblem, "symbol")
                    .at(ext.span, "not in the kernel"),
            );
            return;
        }
        if symbols.iter().any(|s| s.has(flag::EXPORTED)) || kernel.index().is_exported(name) {
            self.diagnostics.push(
                Diagnostic::warning(
                    Code::ExternExported,
                    format!("`{name}` is exported; it needs no `extern` declaration"),
                )
                .at(ext.span, "exported by the kernel")
                .with_note(format!(
                    "{} exports `{name}` (__ksymtab_{name})",
                    kernel.object_name
                ))
                .with_help("include the header that declares it, or declare it in a `data` block"),
            );
        }
        let Some(symbol) = self.position(&Wanted::external(ext), &symbols) else {
            return;
        };
        let Some((declaration, same)) = compare_declaration(kernel, &symbol, ext) else {
            return;
        };
        if !same {
            self.diagnostics.push(
                Diagnostic::warning(Code::ExternProblem, format!("the declaration of `{name}` differs from the kernel's"))
                    .at(ext.span, "differs from the kernel")
                    .with_note(format!("the kernel's debug information declares: {declaration}"))
                    .with_note(format!("the spec declares: {}", ext.declaration))
                    .with_help("types that are the same under another name (a typedef) are fine; anything else is a bug"),
            );
        }
    }
}

/// The kernel's declaration of the extern's symbol and whether the spec's
/// declares the same type; `None` when the kernel's debug information has none.
fn compare_declaration(kernel: &Kernel, symbol: &Symbol, ext: &Extern) -> Option<(String, bool)> {
    let name = ext.name.as_str();
    if !symbol.has(flag::FUNC) {
        let declaration = kernel
            .variable_declarations(name)
            .into_iter()
            .find_map(Result::ok)?;
        let same = types_match(&strip_annotations(&ext.declaration), &declaration);
        return Some((declaration, same));
    }
    let proto = kernel.prototype(symbol)?.ok()?;
    let same = match ext.declaration.find('(') {
        Some(i) => {
            let head = &ext.declaration[..i];
            let ret = head.trim_end().strip_suffix(name).unwrap_or(head);
            let spec = param_types(&ext.declaration[i..]);
            types_match(&strip_annotations(ret), &proto.return_type)
                && spec.variadic == proto.variadic
                && spec.types.len() == proto.param_types.len()
                && spec
                    .types
                    .iter()
                    .zip(&proto.param_types)
                    .all(|(a, b)| types_match(a, b))
        }
        None => false,
    };
    Some((proto.declaration(), same))
}

#[cfg(test)]
mod tests {
    use crate::check::kernel_rules::fixture;
    use crate::codes::Code;

    fn externs(declarations: &str) -> Vec<crate::diagnostic::Diagnostic> {
        let spec = format!(
            "object vmlinux {{\n{declarations}\n    replace int caller_one(int x) {{ return x; }}\n}}\n"
        );
        fixture::object_rules(&fixture::vmlinux(), &spec).1
    }

    #[test]
    fn declarations_are_compared_with_the_kernels() {
        let found = externs(
            "    extern char *saved_command_line;\n    extern int use_core_dup(int x);\n    extern unsigned char fixture_mac[6];",
        );
        assert_eq!(fixture::messages(&found), Vec::<String>::new());
        let found = externs("    extern long saved_command_line;\n    extern int use_core_dup(long x);\n    extern int use_core_dup2;");
        assert_eq!(
            fixture::messages(&found),
            [
                "KGP0108: the declaration of `saved_command_line` differs from the kernel's",
                "KGP0108: the declaration of `use_core_dup` differs from the kernel's",
                "KGP0108: no symbol `use_core_dup2` in vmlinux",
            ]
        );
        assert_eq!(
            found[1].notes,
            [
                "the kernel's debug information declares: int use_core_dup(int x)",
                "the spec declares: int use_core_dup(long x)",
            ]
        );
        assert_eq!(
            found[2].help.as_deref(),
            Some("did you mean `use_core_dup`?")
        );
    }

    #[test]
    fn an_exported_symbol_needs_no_extern() {
        let found = externs("    extern int exported_counter;");
        assert_eq!(
            fixture::messages(&found),
            ["KGP0109: `exported_counter` is exported; it needs no `extern` declaration"]
        );
        assert_eq!(found[0].code, Code::ExternExported);
    }
}
