//! A changed system call, made into the model's functions: the call's
//! patched body as a helper, and its entry points replaced.

use super::fix::{fragment, references};
use crate::c::syscall_definition::{entry_body, syscall_definition};
use crate::c::top_level::top_level_items;
use crate::check::closure::derived_replacement;
use crate::check::model::{
    FromSource, Function, PatchedSource, Replacement, SourceReason, SourceText,
};
use crate::source::Span;
use crate::source_tree::compiler_view::CompilerView;
use crate::source_tree::derive::syscall_entry;

/// A changed system call's entry point `entry` (`__x64_sys_newuname`): the
/// call's patched body as a helper taking its arguments, and the
/// replacement of the entry, which reads them from the registers as the
/// kernel's `SYSCALL_DEFINE` wrapper does and calls the helper.
pub(super) fn syscall_replacement(
    source: &PatchedSource,
    entry: &str,
    view: &CompilerView,
) -> Option<(Option<Function>, Replacement)> {
    let text = &source.patched_text;
    let items = top_level_items(text);
    let item = syscall_entry(entry, &items)?;
    let definition = &text[item.text_range.clone()];
    let call = syscall_definition(definition)?;
    let original = top_level_items(&source.original)
        .into_iter()
        .find(|i| i.kind == item.kind && i.name == item.name)
        .map(|i| SourceText {
            line: i.start_line,
            text: source.original[i.text_range.clone()].to_string(),
        });
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let at = Span::new(
        source.patched,
        item.text_range.start,
        item.text_range.start + definition.find('(').unwrap_or(0),
    );
    let from = |reason| FromSource {
        file: source.path.clone(),
        reason,
        original: original.clone(),
        patched: SourceText {
            line: item.start_line,
            text: definition.to_string(),
        },
        references: view
            .changes
            .function(entry)
            .map(|compiled| references(compiled, view, &crate::c::top_level::function_names(text)))
            .unwrap_or_default(),
        prototype_changed: false,
    };
    let body_at = item.text_range.start + call.body_start;
    let body = fragment(
        &source.path,
        call.body.clone(),
        line_of(body_at),
        Span::new(source.patched, body_at, body_at + call.body.len()),
    );
    if entry.starts_with("__do_sys_") {
        // The call's body out of line: replaced as it is, or, where the
        // kernel has it only inlined, by rule 12 through its entry points.
        let function = Function {
            c_name: entry.to_string(),
            return_type: "long".to_string(),
            params: call.params(),
            origin: fragment(
                &source.path,
                format!("long {entry}{}", call.params()),
                item.start_line,
                at,
            ),
            body,
            from_source: Some(from(SourceReason::Changed)),
        };
        return Some((
            None,
            derived_replacement(entry.to_string(), source.path.clone(), function),
        ));
    }
    let helper_name = format!("kgpc_do_sys_{}", call.name);
    let helper = Function {
        c_name: helper_name.clone(),
        return_type: "long".to_string(),
        params: call.params(),
        origin: fragment(
            &source.path,
            format!("long {helper_name}{}", call.params()),
            item.start_line,
            at,
        ),
        body,
        from_source: Some(from(SourceReason::InlinedCallee)),
    };
    let function = Function {
        c_name: entry.to_string(),
        return_type: "long".to_string(),
        params: "(const struct pt_regs *regs)".to_string(),
        origin: fragment(
            &source.path,
            format!("long {entry}(const struct pt_regs *regs)"),
            item.start_line,
            at,
        ),
        body: fragment(
            &source.path,
            entry_body(&call, entry, &helper_name)?,
            item.start_line,
            at,
        ),
        from_source: Some(from(SourceReason::Changed)),
    };
    Some((
        Some(helper),
        derived_replacement(entry.to_string(), source.path.clone(), function),
    ))
}
