//! C fragments of the spec with their origins, the check that their braces
//! balance, and the text helpers that turn prototypes and paths into C.

use super::Lowerer;
use crate::c::braces::{brace_problem, BraceProblem};
use crate::c::words::join_words;
use crate::check::model::Fragment;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::syntax::ast::{CCode, Prototype, Word};

impl Lowerer<'_> {
    /// A C block of the spec, refused (KGP0044) if its braces do not balance as C reads them.
    pub(super) fn fragment(&mut self, code: &CCode) -> Fragment {
        self.check_braces(&code.text, code.span);
        let (line, _) = self.sources.line_col(code.span.file, code.span.start);
        Fragment {
            text: code.text.clone(),
            file: self.sources.name(code.span.file).to_string(),
            line,
            span: code.span,
        }
    }

    /// Reports braces that would let a C block close what it sits in.
    pub(super) fn check_braces(&mut self, text: &str, span: Span) {
        let Some(problem) = brace_problem(text) else {
            return;
        };
        let (start, end, label, note) = match problem {
            BraceProblem::Closes(s, e) => (
                s,
                e,
                "this closes a brace the block never opened",
                "C would end the function or structure kgpc generates here, and read what follows as code outside it",
            ),
            BraceProblem::Unclosed(s, e) => (
                s,
                e,
                "this brace is never closed in the block",
                "C would read the code kgpc generates after the block as part of it",
            ),
            BraceProblem::InMacro(s, e) => (
                s,
                e,
                "the braces of this preprocessor line do not balance",
                "a macro that stands for a brace lets the block open or close what it sits in wherever the macro is used",
            ),
        };
        self.error(
            Diagnostic::error(
                Code::BodyBracesUnbalanced,
                "the braces of this C block do not balance as C reads them",
            )
            .at(
                Span::new(span.file, span.start + start, span.start + end),
                label,
            )
            .with_note(note)
            .with_note("C reads `<%` and `%>` as braces, and a backslash at the end of a `//` comment carries the next line into the comment")
            .with_help("write braces as `{` and `}`, balance them within the block and within each macro, and put a new function in a `helper`"),
        );
    }

    /// A piece of C that kgpc composed, such as a prototype, placed where `span` starts.
    pub(super) fn fragment_at(&self, span: Span, text: &str) -> Fragment {
        let (line, _) = self.sources.line_col(span.file, span.start);
        Fragment {
            text: text.to_string(),
            file: self.sources.name(span.file).to_string(),
            line,
            span,
        }
    }
}

/// The return type of a prototype, without storage-class and inlining words.
pub(super) fn return_type(words: &[Word]) -> String {
    const DROP: &[&str] = &[
        "static",
        "extern",
        "inline",
        "__always_inline",
        "noinline",
        "__init",
        "__exit",
        "notrace",
        "__cold",
    ];
    let kept: Vec<Word> = words
        .iter()
        .filter(|w| !DROP.contains(&w.text.as_str()))
        .cloned()
        .collect();
    join_words(&kept)
}

pub(super) fn prototype_text(p: &Prototype) -> String {
    format!("{}{}", join_words(&p.words), p.params.text)
}

/// A source file's path as part of a C name: `kernel/module/procfs.c` gives
/// `kernel_module_procfs`.
pub(super) fn file_ident(path: &str) -> String {
    let path = path.trim_start_matches("./");
    let stem = path.strip_suffix(".c").unwrap_or(path);
    stem.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_become_identifier_parts() {
        assert_eq!(
            super::file_ident("kernel/module/procfs.c"),
            "kernel_module_procfs"
        );
        assert_eq!(super::file_ident("./fs/namespace.c"), "fs_namespace");
        assert_eq!(super::file_ident("a-b.h"), "a_b_h");
    }
}
