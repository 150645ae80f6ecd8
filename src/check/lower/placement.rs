//! Where items may stand: what only the spec itself may hold, the blocks it
//! must hold exactly once, and comments that were meant as C preprocessor lines.

use super::Lowerer;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::load::Loaded;
use crate::source::{Origin, Span};
use crate::syntax::ast::{Ast, Item};

impl Lowerer<'_> {
    /// Reports items in imported files that only the spec itself may hold,
    /// and comments that were meant as C preprocessor lines.
    pub(super) fn check_placement(&mut self, loaded: &Loaded) {
        for (index, tree) in loaded.trees.iter().enumerate() {
            for comment in &tree.comments {
                let directive = [
                    "#include", "#define", "#ifdef", "#ifndef", "#if ", "#endif", "#pragma",
                    "#undef",
                ]
                .into_iter()
                .find(|d| comment.text.starts_with(d));
                if let Some(directive) = directive {
                    let end = comment.span.start + directive.trim_end().len();
                    self.error(
                        Diagnostic::warning(
                            Code::PreprocessorComment,
                            format!("`{}` here is a comment, not C", directive.trim_end()),
                        )
                        .at(Span::new(comment.span.file, comment.span.start, end), "`#` starts a comment in a spec")
                        .with_help("write `include <linux/header.h>` for a header; other preprocessor lines belong in a `data { }` block"),
                    );
                }
            }
            let is_std = matches!(self.sources.origin(tree.file), Origin::Std(_));
            for item in &tree.items {
                if let Item::Api(entry) = item {
                    if !is_std {
                        self.error(
                            Diagnostic::error(Code::ApiOutsideStd, "`api` entries belong to the standard library")
                                .at(entry.span, "not allowed in a spec")
                                .with_help("the API table is `std/api`; the target's `version` selects the API"),
                        );
                    }
                }
                let only_in_spec = matches!(item, Item::Test(_))
                    || matches!(
                        item,
                        Item::Patch(_)
                            | Item::Target(_)
                            | Item::Fix(_)
                            | Item::Object(_)
                            | Item::Shadow(_)
                            | Item::State(_)
                            | Item::Requires(_)
                    );
                if index > 0 && only_in_spec {
                    let keyword = item.keyword();
                    let span = item.span();
                    self.error(
                        Diagnostic::error(Code::NotAllowedInImport, format!("an imported file cannot hold {} `{keyword}` item", if keyword.starts_with('o') { "an" } else { "a" }))
                            .at(Span::new(span.file, span.start, span.start + keyword.len()), "only the spec itself may hold this")
                            .with_help("imported files share includes, data, helpers and templates; move this into the spec"),
                    );
                }
            }
        }
    }

    /// The one item of a kind the spec must have exactly once.
    pub(super) fn single<'t, T>(
        &mut self,
        found: &[&'t T],
        span: impl Fn(&T) -> Span,
        code: Code,
        keyword: &str,
        root: &Ast,
    ) -> Option<&'t T> {
        let file = root.file;
        match found {
            // The block may be in the part that nests too deeply to read (KGP0040).
            [] if root.unread.is_some() => None,
            // The block is there but did not parse: its syntax error says so already.
            [] if root.items.iter().any(|item| match item {
                Item::Bad(bad) => bad.text.strip_prefix(keyword).is_some_and(|rest| {
                    !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '-')
                }),
                _ => false,
            }) =>
            {
                None
            }
            [] => {
                let name = self.sources.name(file).to_string();
                let d = Diagnostic::error(code, format!("`{name}` has no `{keyword}` block"))
                    .with_help(match keyword {
                        "patch" => "start the spec with `patch NAME { description \"...\" }`",
                        _ => "add `target { release \"6.1.0-*-cloud-amd64\" arch x86_64 }`",
                    });
                self.error(d);
                None
            }
            [one] => Some(*one),
            [first, rest @ ..] => {
                for other in rest {
                    self.error(
                        Diagnostic::error(
                            code,
                            format!("the spec has more than one `{keyword}` block"),
                        )
                        .at(span(other), "second block")
                        .also(span(first), "first block here")
                        .with_help(format!("merge the `{keyword}` blocks into one")),
                    );
                }
                Some(*first)
            }
        }
    }
}
