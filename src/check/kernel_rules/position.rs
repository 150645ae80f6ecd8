//! Rule 3: which of the symbols of one name a replacement or extern means,
//! from its `in "FILE"` and `sympos`, or the error that says why it cannot
//! be told.

use super::object::ObjectRules;
use crate::check::model::{Extern, Replacement};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::Symbol;
use crate::source::Span;

/// What a replacement or extern says about the symbol it means.
pub(super) struct Wanted<'a> {
    pub name: &'a str,
    /// The source file of `in "FILE"`.
    pub source_file: Option<&'a str>,
    /// The `sympos`, 0 when none is given.
    pub sympos: u64,
    /// Where the spec names the symbol.
    pub span: Span,
    /// Where the spec gives `sympos`.
    pub sympos_span: Option<Span>,
}

impl<'a> Wanted<'a> {
    pub fn replacement(func: &'a Replacement) -> Wanted<'a> {
        Wanted {
            name: &func.old_name,
            source_file: func.source_file.as_deref(),
            sympos: func.sympos,
            span: func.span,
            sympos_span: func.sympos_span,
        }
    }

    pub fn external(ext: &'a Extern) -> Wanted<'a> {
        Wanted {
            name: &ext.name,
            source_file: None,
            sympos: ext.sympos,
            span: ext.span,
            sympos_span: ext.sympos_span,
        }
    }

    /// Where an error about the position points: at `sympos` if given.
    fn position_span(&self) -> Span {
        self.sympos_span.unwrap_or(self.span)
    }
}

/// What `in "FILE"` decided.
enum FileChoice {
    /// Exactly one symbol comes from the file.
    Chosen(Symbol),
    /// Reported: no symbol, or several and no `sympos`, or a `sympos` of another.
    Refused,
    /// Several symbols come from the file, and `sympos` chooses among all.
    Several,
}

impl ObjectRules<'_> {
    /// The symbol of `symbols` (every symbol of the name, in kallsyms order) that
    /// `wanted` means, or `None` after the error that says why there is none.
    pub(super) fn position(&mut self, wanted: &Wanted, symbols: &[Symbol]) -> Option<Symbol> {
        if let Some(file) = wanted.source_file {
            match self.in_file(wanted, symbols, file) {
                FileChoice::Chosen(symbol) => return Some(symbol),
                FileChoice::Refused => return None,
                FileChoice::Several => {}
            }
        }
        self.at_sympos(wanted, symbols)
    }

    /// The symbols of the name that come from `file`.
    fn in_file(&mut self, wanted: &Wanted, symbols: &[Symbol], file: &str) -> FileChoice {
        let name = wanted.name;
        let object = &self.kernel.object_name;
        let matching: Vec<&Symbol> = crate::kernel::index::from_file(symbols, file);
        let error = match matching.as_slice() {
            [one] if wanted.sympos == 0 || wanted.sympos == one.sympos() => {
                self.copies_elsewhere(wanted, symbols, one, file);
                return FileChoice::Chosen((*one).clone());
            }
            [one] => Diagnostic::error(
                Code::AmbiguousSymbol,
                format!(
                    "`{name}` in \"{file}\" is at position {}, not {}",
                    one.sympos(),
                    wanted.sympos
                ),
            )
            .at(wanted.position_span(), "this position")
            .with_note(format!(
                "the symbols named `{name}` in {object}, in kallsyms order:\n{}",
                listing(symbols)
            ))
            .with_help("drop `sympos`: kgpc computes it from the file"),
            [] => Diagnostic::error(
                Code::AmbiguousSymbol,
                format!("no `{name}` of {object} comes from \"{file}\""),
            )
            .at(wanted.span, "this function")
            .with_note(format!("the symbols named `{name}`:\n{}", listing(symbols))),
            several if wanted.sympos == 0 => Diagnostic::error(
                Code::AmbiguousSymbol,
                format!(
                    "{} symbols named `{name}` come from \"{file}\"",
                    several.len()
                ),
            )
            .at(wanted.span, "this function")
            .with_note(format!("the symbols named `{name}`:\n{}", listing(symbols)))
            .with_help("add `sympos N` to choose one"),
            _ => return FileChoice::Several,
        };
        self.diagnostics.push(error);
        FileChoice::Refused
    }

    /// Warns of the copies of a function of `file` that another file
    /// compiled by `#include`-ing it (fs/compat_binfmt_elf.c compiles
    /// fs/binfmt_elf.c again): the replacement does not reach them.
    fn copies_elsewhere(
        &mut self,
        wanted: &Wanted,
        symbols: &[Symbol],
        chosen: &Symbol,
        file: &str,
    ) {
        let others: Vec<String> = symbols
            .iter()
            .filter(|s| {
                s.position != chosen.position && s.comes_from(file) && !s.compiled_from(file)
            })
            .map(|s| {
                format!(
                    "position {} from {}",
                    s.sympos(),
                    s.file().unwrap_or("an unknown file")
                )
            })
            .collect();
        if others.is_empty() {
            return;
        }
        let name = wanted.name;
        self.diagnostics.push(
            Diagnostic::warning(
                Code::CopyNotReplaced,
                format!("`{name}` of \"{file}\" has another copy, which this replacement does not reach"),
            )
            .at(wanted.span, "replaces only the copy compiled from the file itself")
            .with_note(format!(
                "another file includes {file} and compiles `{name}` again: {}",
                others.join(", ")
            ))
            .with_help(format!(
                "if the fix must reach that copy too, replace it as well: `replace {name} sympos N {{ ... }}` with its position"
            )),
        );
    }

    /// The symbol at `sympos`, or the only one when there is no `sympos`.
    fn at_sympos(&mut self, wanted: &Wanted, symbols: &[Symbol]) -> Option<Symbol> {
        let (name, sympos) = (wanted.name, wanted.sympos);
        let object = &self.kernel.object_name;
        let count = symbols.len() as u64;
        if sympos > count {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::AmbiguousSymbol,
                    format!(
                        "there is no symbol `{name}` at position {sympos}: {object} has {count}"
                    ),
                )
                .at(wanted.position_span(), "this position")
                .with_note(format!(
                    "the symbols named `{name}`, in kallsyms order:\n{}",
                    listing(symbols)
                )),
            );
            return None;
        }
        if sympos == 0 && count > 1 {
            self.diagnostics.push(
                Diagnostic::error(
                    Code::AmbiguousSymbol,
                    format!("`{name}` names {count} symbols in {object}; say which one"),
                )
                .at(wanted.span, "ambiguous")
                .with_note(format!("in kallsyms order:\n{}", listing(symbols)))
                .with_note("the kernel refuses a klp_func with old_sympos 0 when the name is not unique")
                .with_help(format!("add `in \"FILE\"` naming the source file, or `sympos N`, after the prototype of `{name}`")),
            );
            return None;
        }
        symbols.get(sympos.saturating_sub(1) as usize).cloned()
    }
}

/// The symbols of one name, one line each: position, file and address.
fn listing(symbols: &[Symbol]) -> String {
    symbols
        .iter()
        .map(|s| {
            format!(
                "sympos {}: {} at {:#x}",
                s.position,
                s.file().unwrap_or("unknown file"),
                s.value
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use crate::check::kernel_rules::fixture;
    use crate::codes::Code;

    fn dup_fn(position: &str) -> String {
        format!("object vmlinux {{\n    replace int dup_fn(int x) {position} {{ return x; }}\n}}\n")
    }

    #[test]
    fn a_file_names_the_position_by_path_components() {
        let vmlinux = fixture::vmlinux();
        for (position, sympos) in [
            ("in \"core.c\"", 1),
            ("in \"./other.c\"", 2),
            ("in \"lib/other.c\"", 2),
            ("in \"core.c\" sympos 1", 1),
            ("sympos 2", 2),
        ] {
            let (model, found) = fixture::object_rules(&vmlinux, &dup_fn(position));
            assert_eq!(
                fixture::messages(&found),
                Vec::<String>::new(),
                "{position}"
            );
            let func = &model.objects[0].funcs[0];
            assert_eq!(
                (func.sympos, func.position_checked),
                (sympos, true),
                "{position}"
            );
        }
        let (_, found) = fixture::object_rules(&vmlinux, &dup_fn("in \"ther.c\""));
        assert_eq!(
            fixture::messages(&found),
            ["KGP0103: no `dup_fn` of vmlinux comes from \"ther.c\""]
        );
    }

    #[test]
    fn a_sympos_that_the_file_contradicts_is_refused_at_the_sympos() {
        let vmlinux = fixture::vmlinux();
        let (model, found) = fixture::object_rules(&vmlinux, &dup_fn("in \"core.c\" sympos 2"));
        assert_eq!(
            fixture::messages(&found),
            ["KGP0103: `dup_fn` in \"core.c\" is at position 1, not 2"]
        );
        let func = &model.objects[0].funcs[0];
        assert_eq!(found[0].primary.as_ref().map(|l| l.span), func.sympos_span);
        assert!(found[0].notes[0].contains("sympos 1: core.c at 0x"));
        assert!(found[0].notes[0].contains("\nsympos 2: other.c at 0x"));
        assert!(!func.position_checked);
    }

    #[test]
    fn externs_take_positions_too() {
        let vmlinux = fixture::vmlinux();
        let (model, found) = fixture::object_rules(
            &vmlinux,
            "object vmlinux {\n    extern int dup_fn(int x) sympos 3;\n    replace int caller_one(int x) { return x; }\n}\n",
        );
        assert_eq!(
            fixture::messages(&found),
            ["KGP0103: there is no symbol `dup_fn` at position 3: vmlinux has 2"]
        );
        assert_eq!(found[0].code, Code::AmbiguousSymbol);
        assert_eq!(
            found[0].primary.as_ref().map(|l| l.span),
            model.objects[0].externs[0].sympos_span
        );
    }
}
