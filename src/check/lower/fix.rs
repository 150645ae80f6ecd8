//! The `fix "FILE.patch"` item: the fix as written upstream. Lowering only
//! finds the patch file that loading read; applying it to the target's
//! source is the pipeline's source stage, which needs the cached tree.

use super::Lowerer;
use crate::check::model::UpstreamFix;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::syntax::ast::{Ast, Fix, Item};

impl Lowerer<'_> {
    /// The spec's one `fix`, if it has one. A second is an error: one spec
    /// ships one fix, so a series is squashed into one patch first.
    pub(super) fn upstream_fix(&mut self, root: &Ast) -> Option<UpstreamFix> {
        let fixes: Vec<&Fix> = root
            .items
            .iter()
            .filter_map(|item| match item {
                Item::Fix(fix) => Some(fix),
                _ => None,
            })
            .collect();
        let (first, rest) = fixes.split_first()?;
        for extra in rest {
            self.error(
                Diagnostic::error(Code::DuplicateDefinition, "the spec has a second `fix`")
                    .at(extra.span, "a second patch")
                    .also(first.span, "the first is here")
                    .with_help("a spec carries one fix: squash the patches into one (`git format-patch --stdout A..B` makes a series; `git diff A B` one diff)"),
            );
        }
        match self.named.fix(&first.path)? {
            Ok(file) => Some(UpstreamFix {
                path: first.path.value.clone(),
                file: *file,
                span: first.path.span,
                files: Vec::new(),
                hidden_headers: Vec::new(),
            }),
            Err(diagnostic) => {
                self.error((**diagnostic).clone());
                None
            }
        }
    }
}
