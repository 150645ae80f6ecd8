//! Names and properties given once: C names the module defines, definitions
//! and properties given twice, properties left out, and names that are not C
//! identifiers.

use super::Lowerer;
use crate::check::names::c_identifier_problem;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::Word;

impl Lowerer<'_> {
    /// Whether `word` is a C identifier; reports it when it is not.
    pub(super) fn identifier(&mut self, word: &Word, what: &str) -> bool {
        match c_identifier_problem(&word.text) {
            None => true,
            Some(problem) => {
                self.error(
                    Diagnostic::error(
                        Code::InvalidName,
                        format!("`{}` is not valid as {what}: {problem}", word.text),
                    )
                    .at(word.span, if problem.contains("keyword") { "a C keyword" } else { "not a C identifier" })
                    .with_help("names become C identifiers: letters, digits and `_`, not starting with a digit"),
                );
                false
            }
        }
    }

    /// Records a C name the module defines; a second definition is an error.
    pub(super) fn claim(&mut self, name: &str, span: Span) {
        const GENERATED: &[&str] = &[
            "patch",
            "objs",
            "states",
            "livepatch_init",
            "livepatch_exit",
            "livepatch_post_unpatch",
        ];
        if GENERATED.contains(&name) {
            self.error(
                Diagnostic::error(
                    Code::ReservedName,
                    format!("`{name}` is a name the generated module uses"),
                )
                .at(span, "collides with generated code")
                .with_help("rename it"),
            );
            return;
        }
        if let Some(first) = self.names.get(name) {
            let first = *first;
            self.error(
                Diagnostic::error(
                    Code::ReservedName,
                    format!("the C name `{name}` would be defined twice"),
                )
                .at(span, "defines it again")
                .also(first, "first defined by this")
                .with_help("rename one of them"),
            );
            return;
        }
        self.names.insert(name.to_string(), span);
    }

    /// Reports a definition given a second time.
    pub(super) fn duplicate(&mut self, message: String, span: Span, first: Span, help: &str) {
        self.error(
            Diagnostic::error(Code::DuplicateDefinition, message)
                .at(span, "defined again here")
                .also(first, "first defined here")
                .with_help(help),
        );
    }

    /// Reports a property given a second time in one block.
    pub(super) fn duplicate_property(&mut self, key: &str, span: Span, first: Span) {
        self.error(
            Diagnostic::error(Code::DuplicateProperty, format!("`{key}` is given twice"))
                .at(span, "given again here")
                .also(first, "first given here")
                .with_help("keep one of them"),
        );
    }

    /// Reports a missing property, unless the block already has an error:
    /// an entry that did not parse is usually the one that seems missing.
    pub(super) fn missing(
        &mut self,
        span: Span,
        within: Span,
        block: &str,
        key: &str,
        example: &str,
    ) {
        let inside = |d: &Diagnostic| {
            d.is_error()
                && d.primary.as_ref().is_some_and(|l| {
                    l.span.file == within.file
                        && l.span.start >= within.start
                        && l.span.end <= within.end
                })
        };
        if self.diagnostics.iter().any(inside) {
            return;
        }
        self.error(
            Diagnostic::error(
                Code::MissingProperty,
                format!("this `{block}` block has no `{key}`"),
            )
            .at(span, format!("`{key}` is required"))
            .with_help(format!("add `{example}`")),
        );
    }

    /// Keeps the first value of a property in `slot` and reports any later one.
    pub(super) fn keep_first<T>(
        &mut self,
        slot: &mut Option<T>,
        value: T,
        key: &str,
        span: impl Fn(&T) -> Span,
    ) {
        match slot {
            Some(first) => {
                let first = span(first);
                self.duplicate_property(key, span(&value), first);
            }
            None => *slot = Some(value),
        }
    }
}
