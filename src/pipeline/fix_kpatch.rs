//! The part of the source stage for patches written for kpatch-build: the
//! patched file is read with kpatch's macros (`patch_file::kpatch_read`),
//! its callbacks become the callbacks of the object the file is built
//! into, and a macro kgpc has no equivalent of is an error.

use super::fix::{object_of, FileText};
use crate::check::model::{CallbackCode, CallbackKind, Fragment, Model, PatchedSource};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::patch_file::kpatch_read::{read_kpatch_macros, KpatchRead};
use crate::source::Span;
use crate::source_tree::compiler_view::CompilerView;
use crate::syntax::ast;

/// Reads the kpatch macros of a patched `.c` file, replacing its text with
/// the one kgpc compiles.
pub fn read(file: &mut FileText) -> Option<KpatchRead> {
    if !file.path.ends_with(".c") {
        return None;
    }
    let read = read_kpatch_macros(&file.patched)?;
    file.patched = read.text.clone();
    Some(read)
}

/// Reports each kpatch macro kgpc has no equivalent of; whether there was one.
pub fn report_unsupported(
    kpatch: Option<&KpatchRead>,
    source: &PatchedSource,
    diagnostics: &mut Diagnostics,
) -> bool {
    let Some(read) = kpatch else {
        return false;
    };
    for macro_use in &read.unsupported {
        let range = &macro_use.range;
        diagnostics.push(
            Diagnostic::error(
                Code::FixNotDerived,
                format!("kgpc has no equivalent of kpatch's `{}`", macro_use.name),
            )
            .at(
                Span::new(source.patched, range.start, range.end),
                "a kpatch-build macro",
            )
            .with_help(macro_use.advice),
        );
    }
    !read.unsupported.is_empty()
}

/// Adds the file's kpatch callbacks to the object it is built into.
pub fn add_callbacks(
    model: &mut Model,
    kpatch: Option<&KpatchRead>,
    source: &PatchedSource,
    view: &CompilerView,
    at: Span,
    diagnostics: &mut Diagnostics,
) {
    let Some(read) = kpatch else {
        return;
    };
    let object = object_of(model, view, at);
    for callback in &read.callbacks {
        let Some(kind) = ast::CallbackKind::from_keyword(callback.keyword).map(CallbackKind::from)
        else {
            continue;
        };
        let span = Span::new(source.patched, callback.range.start, callback.range.end);
        if object.callbacks.iter().any(|c| c.kind == kind) {
            diagnostics.push(
                Diagnostic::error(
                    Code::FixNotDerived,
                    format!(
                        "the {} callback of {} is given twice: by the spec and by kpatch's macro",
                        callback.keyword, object.ident
                    ),
                )
                .at(span, "kpatch's callback")
                .with_help("keep one: drop the spec's block, or call both functions from it"),
            );
            continue;
        }
        let function = &callback.function;
        let text = match (callback.hook, kind) {
            (true, _) => format!("\t{function}();\n"),
            (false, CallbackKind::PrePatch) => format!("\treturn {function}(obj);\n"),
            (false, _) => format!("\t{function}(obj);\n"),
        };
        let line = source.patched_text[..callback.range.start]
            .matches('\n')
            .count()
            + 1;
        object.callbacks.push(CallbackCode {
            kind,
            body: Fragment {
                text,
                file: source.path.clone(),
                line,
                span,
            },
        });
    }
}
