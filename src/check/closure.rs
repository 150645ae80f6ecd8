//! Rule 12: the closure of the code kgpc took from the target's source.
//!
//! A function the fix changes is compiled in the patch module, away from
//! the file it was written in. What it uses from that file is worked out
//! here from the kernel's facts, so that the spec does not spell it out:
//! - a function or variable the object defines without exporting it (a
//!   `static` of the file, or a global nobody exports) becomes an `extern`
//!   with its `sympos`, typed from DWARF: a livepatch relocation;
//! - a `static` function of the file that exists only inlined into its
//!   callers has no symbol to relocate against, so its definition is
//!   copied from the patched file as a helper, and what the copy uses is
//!   worked out the same way;
//! - a changed function that exists only inlined cannot be replaced: its
//!   patched definition becomes a helper and the callers in its file that
//!   hold its inlined copies are replaced instead, as are the callers that
//!   hold inlined copies of a changed function that is also out of line.
//!
//! What cannot be worked out is left to rule 11, which reports it.

use super::body_symbols::SpecNames;
use super::c_uses::{parameter_names, uses};
use super::model::{
    Extern, Fragment, FromSource, Function, Object, PatchedSource, Replacement, SourceReason,
    SourceText,
};
use crate::c::signature::split_definition;
use crate::c::syscall_definition::{entry_body, syscall_definition, SYSCALL_ENTRIES};
use crate::c::top_level::{function_names, top_level_items, TopKind};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::index::flag;
use crate::kernel::{Kernel, Symbol};
use crate::source::Span;
use std::collections::HashSet;

/// vmlinux, for the code of a module's object, and the externs of the
/// vmlinux object that this code needs.
pub struct Vmlinux<'a> {
    pub kernel: &'a Kernel,
    pub externs: &'a mut Vec<Extern>,
}

/// How a name a derived body uses is reached from the patch module.
enum Reach {
    /// Through a livepatch relocation: the declaration and the position.
    Extern { declaration: String, sympos: u64 },
    /// By a copy of its definition from the patched file.
    Copy,
}

/// Works out the closure of the derived functions of `object` against
/// `kernel`, its own object, adding externs to the object and the helpers
/// it copies to `helpers`.
pub fn derive(
    object: &mut Object,
    helpers: &mut Vec<Function>,
    files: &[PatchedSource],
    names: &SpecNames,
    kernel: &Kernel,
    mut vmlinux: Option<Vmlinux<'_>>,
    diagnostics: &mut Diagnostics,
) {
    replace_inlined(object, helpers, files, kernel, diagnostics);
    let mut known: HashSet<String> = HashSet::new();
    // The functions whose uses are still to be read: (file, body, params).
    // The object's files: those of its functions taken from the source.
    let own_files: HashSet<String> = object
        .funcs
        .iter()
        .filter_map(|r| Some(r.function.from_source.as_ref()?.file.clone()))
        .collect();
    let mut pending: Vec<Pending> = object
        .funcs
        .iter()
        .map(|r| &r.function)
        .chain(helpers.iter())
        .filter_map(|f| {
            let from = f.from_source.as_ref()?;
            own_files.contains(&from.file).then(|| Pending::of(f, from))
        })
        .collect();
    for f in object
        .funcs
        .iter()
        .map(|r| &r.function)
        .chain(helpers.iter())
    {
        known.insert(f.c_name.clone());
    }
    known.extend(object.externs.iter().map(|e| e.name.clone()));
    let mut refused_events: HashSet<String> = HashSet::new();
    let mut defined_functions: std::collections::HashMap<String, HashSet<String>> =
        std::collections::HashMap::new();
    while let Some(next) = pending.pop() {
        let Some(source) = files.iter().find(|s| s.path == next.file) else {
            continue;
        };
        for (name, call, span, line) in next.names() {
            if names.contains(&name) || known.contains(&name) {
                continue;
            }
            let tracepoint = unexported_tracepoint(kernel, &name)
                .map(|e| (e, kernel))
                .or_else(|| {
                    let v = vmlinux.as_ref()?;
                    unexported_tracepoint(v.kernel, &name).map(|e| (e, v.kernel))
                });
            if let Some((event, owner)) = tracepoint {
                known.insert(name.clone());
                if refused_events.insert(event.clone()) {
                    diagnostics.push(tracepoint_refusal(&event, owner, next.name_span));
                }
                continue;
            }
            // A module's code may also use what vmlinux does not export.
            let mut in_vmlinux = false;
            let reached = reach(kernel, &name, call, &next.file)
                .or_else(|| {
                    let v = vmlinux.as_ref()?;
                    in_vmlinux = true;
                    reach(v.kernel, &name, false, "")
                })
                .or_else(|| {
                    // A `static` function of the file the object has no
                    // symbol of (only inlined copies the debug information
                    // did not record, or gcc's clones, whose ABI is gcc's
                    // own) is copied too.
                    in_vmlinux = false;
                    let defined = defined_functions
                        .entry(source.path.clone())
                        .or_insert_with(|| function_names(&source.patched_text));
                    let plain = kernel.index().symbols_named(&name).is_empty();
                    (call && plain && defined.contains(&name)).then_some(Reach::Copy)
                });
            match reached {
                Some(Reach::Extern {
                    declaration,
                    sympos,
                }) => {
                    known.insert(name.clone());
                    let externs = match vmlinux.as_mut() {
                        Some(v) if in_vmlinux => &mut *v.externs,
                        _ => &mut object.externs,
                    };
                    externs.push(Extern {
                        name,
                        span,
                        sympos_span: None,
                        origin: Fragment {
                            text: declaration.clone(),
                            file: next.body.file.clone(),
                            line,
                            span,
                        },
                        declaration,
                        sympos,
                        derived: true,
                    });
                }
                Some(Reach::Copy) => {
                    let Some(copy) = copied_function(source, &name, SourceReason::InlinedCallee)
                    else {
                        continue;
                    };
                    known.insert(name);
                    if let Some(from) = &copy.from_source {
                        pending.push(Pending::of(&copy, from));
                    }
                    helpers.push(copy);
                }
                None => {}
            }
        }
    }
}

/// Adds the copied helpers to the model's, after the spec's own and in
/// the order their files define them, so that each is defined before the
/// copies that call it.
pub fn add_copies(helpers: &mut Vec<Function>, copied: Vec<Function>) {
    helpers.extend(copied);
    sort_copies(helpers);
}

/// A function whose uses are still to be read.
struct Pending {
    file: String,
    body: Fragment,
    params: String,
    /// Where the function's name is, for uses only the compiler saw.
    name_span: Span,
    references: Vec<(String, bool)>,
}

impl Pending {
    fn of(function: &Function, from: &FromSource) -> Pending {
        Pending {
            file: from.file.clone(),
            body: function.body.clone(),
            params: function.params.clone(),
            name_span: function.origin.span,
            references: from.references.clone(),
        }
    }

    /// Each name the function uses, whether it is called, and where: the
    /// uses in its text first, then what only the compiled code shows
    /// (through macros), placed at the function's name.
    fn names(&self) -> Vec<(String, bool, Span, usize)> {
        let mut found: Vec<(String, bool, Span, usize)> =
            uses(&self.body.text, &parameter_names(&self.params))
                .into_iter()
                .map(|u| {
                    let span = use_span(&self.body, u.offset, u.name.len());
                    let line = self.body.line + self.body.text[..u.offset].matches('\n').count();
                    (u.name, u.call, span, line)
                })
                .collect();
        for (name, function) in &self.references {
            if !found.iter().any(|(n, ..)| n == name) {
                found.push((name.clone(), *function, self.name_span, self.body.line));
            }
        }
        found
    }
}

/// The tracepoint event whose symbol `name` is (`__tracepoint_E`, or its
/// static call `__SCK__tp_func_E` / `__SCT__tp_func_E`), when the kernel
/// object defines it without exporting it.
fn unexported_tracepoint(kernel: &Kernel, name: &str) -> Option<String> {
    let event = name
        .strip_prefix("__tracepoint_")
        .or_else(|| name.strip_prefix("__SCK__tp_func_"))
        .or_else(|| name.strip_prefix("__SCT__tp_func_"))?;
    let index = kernel.index();
    let symbols = index.symbols_named(name);
    let exported = index.is_exported(name)
        || index.is_exported(&format!("__tracepoint_{event}"))
        || symbols.iter().any(|s| s.has(flag::EXPORTED));
    (!symbols.is_empty() && !exported).then(|| event.to_string())
}

/// The refusal of code that fires a tracepoint the object does not export.
fn tracepoint_refusal(event: &str, kernel: &Kernel, at: Span) -> Diagnostic {
    Diagnostic::error(
        Code::FixNotDerived,
        format!("the new code fires the tracepoint `{event}`, which {} does not export", kernel.object_name),
    )
    .at(at, format!("fires `trace_{event}()`"))
    .with_note("a tracepoint call is a static call and a jump label on the tracepoint's own key: their sites are patched by the module loader before livepatch relocations exist, so a module cannot reach a key the object does not export")
    .with_help(format!("leave the `trace_{event}()` call out of the changed code (it stays in the unpatched kernel), or replace the function in the spec without it"))
}

/// How `name`, used by code of `file`, is reached; `None` when it needs
/// nothing (it is exported, a header's inline, or not a kernel symbol).
fn reach(kernel: &Kernel, name: &str, call: bool, file: &str) -> Option<Reach> {
    let index = kernel.index();
    let symbols: Vec<Symbol> = index
        .symbols_named(name)
        .into_iter()
        .filter(|s| s.has(flag::FUNC) || s.has(flag::OBJECT))
        .collect();
    if symbols.iter().any(|s| s.has(flag::EXPORTED)) || index.is_exported(name) {
        return None;
    }
    // An out-of-line copy of a header's `static inline` function is not
    // relocated against: the patch module has the header's own definition.
    let from_header = |s: &Symbol| {
        s.function
            .as_ref()
            .and_then(|f| f.decl_file.as_deref())
            .is_some_and(|f| f.ends_with(".h"))
    };
    if !symbols.is_empty() && symbols.iter().all(|s| s.has(flag::LOCAL) && from_header(s)) {
        return None;
    }
    let own: Vec<&Symbol> = crate::kernel::index::from_file(&symbols, file);
    let globals: Vec<&Symbol> = symbols.iter().filter(|s| !s.has(flag::LOCAL)).collect();
    let meant = match (own.as_slice(), globals.as_slice()) {
        ([one], _) => Some(*one),
        ([], [one]) => Some(*one),
        _ => None,
    };
    if let Some(symbol) = meant {
        let declaration = kernel.declaration_of(symbol, Some(file))?;
        return Some(Reach::Extern {
            declaration,
            sympos: symbol.sympos(),
        });
    }
    if call && symbols.is_empty() && !index.inlined_into(name).is_empty() {
        let declared = kernel.inlined_origin_files(&[name]);
        let in_file = declared
            .get(name)
            .cloned()
            .flatten()
            .is_some_and(|f| crate::kernel::index::same_source_file(&f, file));
        if in_file {
            return Some(Reach::Copy);
        }
    }
    None
}

/// Turns each changed function that exists only inlined into a helper,
/// and replaces the callers in its file that hold inlined copies of a
/// changed function.
fn replace_inlined(
    object: &mut Object,
    helpers: &mut Vec<Function>,
    files: &[PatchedSource],
    kernel: &Kernel,
    diagnostics: &mut Diagnostics,
) {
    let index = kernel.index();
    let mut callers: Vec<(String, String)> = Vec::new();
    let mut kept = Vec::new();
    for r in std::mem::take(&mut object.funcs) {
        let Some(from) = r.function.from_source.clone() else {
            kept.push(r);
            continue;
        };
        let inlined = index.inlined_into(&r.old_name);
        callers.extend(inlined.into_iter().map(|c| (from.file.clone(), c)));
        let mut has_symbol = index
            .symbols_named(&r.old_name)
            .iter()
            .any(|s| s.has(flag::FUNC));
        // A system call's body (`static inline`) may be out of line without
        // an ftrace site: its entry points are replaced instead.
        if let Some(call) = r.old_name.strip_prefix("__do_sys_") {
            let patchable = index
                .symbols_named(&r.old_name)
                .iter()
                .any(|s| s.has(flag::FUNC) && s.has(flag::MCOUNT));
            if !patchable {
                has_symbol = false;
                for (prefix, ..) in SYSCALL_ENTRIES {
                    let entry = format!("{prefix}{call}");
                    if index
                        .symbols_named(&entry)
                        .iter()
                        .any(|s| s.has(flag::FUNC))
                    {
                        callers.push((from.file.clone(), entry));
                    }
                }
            }
        }
        if has_symbol && from.prototype_changed {
            diagnostics.push(
                Diagnostic::error(
                    Code::FixChangesPrototype,
                    format!("the fix changes the prototype of `{}`, which {} has out of line", r.old_name, kernel.object_name),
                )
                .at(r.function.origin.span, "changed by the fix")
                .with_note("code that is not replaced, and pointers to the function, keep calling it with the old arguments")
                .with_help("keep the prototype and pass the new value another way (a shadow variable), or add a new function and replace every caller"),
            );
        } else if has_symbol {
            kept.push(r);
        } else {
            let mut function = r.function;
            function.c_name = r.old_name.clone();
            helpers.push(function);
        }
    }
    object.funcs = kept;
    let mut replaced: HashSet<String> = object.funcs.iter().map(|r| r.old_name.clone()).collect();
    let mut i = 0;
    while i < callers.len() {
        let (file, caller) = callers[i].clone();
        i += 1;
        if replaced.contains(&caller) {
            continue;
        }
        let Some(source) = files.iter().find(|s| s.path == file) else {
            continue;
        };
        if let Some(entry) = syscall_entry_replacement(helpers, &caller, &file) {
            replaced.insert(caller.clone());
            object.funcs.push(entry);
            continue;
        }
        let Some(function) = copied_function(source, &caller, SourceReason::Changed) else {
            continue;
        };
        replaced.insert(caller.clone());
        let has_symbol = index
            .symbols_named(&caller)
            .iter()
            .any(|s| s.has(flag::FUNC));
        if !has_symbol {
            // A caller that is itself inlined everywhere: its callers hold the change.
            callers.extend(
                index
                    .inlined_into(&caller)
                    .into_iter()
                    .map(|c| (file.clone(), c)),
            );
            let mut function = function;
            function.c_name = caller;
            helpers.push(function);
            continue;
        }
        object
            .funcs
            .push(derived_replacement(caller, file, function));
    }
}

/// The replacement of a system call's entry point (`__x64_sys_X`) that
/// holds the inlined copy of its changed body, `__do_sys_X`, which is
/// among `helpers`: it reads the arguments from the registers and calls it.
fn syscall_entry_replacement(helpers: &[Function], entry: &str, file: &str) -> Option<Replacement> {
    let body = helpers.iter().find(|h| {
        h.c_name.starts_with("__do_sys_") && h.from_source.as_ref().is_some_and(|f| f.file == file)
    })?;
    let from = body.from_source.as_ref()?;
    let call = syscall_definition(&from.patched.text)?;
    if body.c_name != format!("__do_sys_{}", call.name) {
        return None;
    }
    let text = entry_body(&call, entry, &body.c_name)?;
    let function = Function {
        c_name: entry.to_string(),
        return_type: "long".to_string(),
        params: "(const struct pt_regs *regs)".to_string(),
        origin: Fragment {
            text: format!("long {entry}(const struct pt_regs *regs)"),
            ..body.origin.clone()
        },
        body: Fragment {
            text,
            ..body.origin.clone()
        },
        from_source: Some(FromSource {
            reason: SourceReason::SyscallEntry {
                body: body.c_name.clone(),
            },
            ..from.clone()
        }),
    };
    Some(derived_replacement(
        entry.to_string(),
        file.to_string(),
        function,
    ))
}

/// A replacement of the kernel's `name` by a function taken from `file`.
pub fn derived_replacement(name: String, file: String, mut function: Function) -> Replacement {
    function.c_name = format!("livepatch_{name}");
    let span = function.origin.span;
    Replacement {
        old_name: name,
        span,
        sympos: 0,
        sympos_span: None,
        allow_inlined: Vec::new(),
        prototype_given: true,
        source_file: Some(file),
        file_span: None,
        position_checked: false,
        function,
    }
}

/// The definition of `name` in the patched file, as a function of the
/// patch module named `name`.
pub fn copied_function(
    source: &PatchedSource,
    name: &str,
    reason: SourceReason,
) -> Option<Function> {
    let text = &source.patched_text;
    let item = top_level_items(text).into_iter().find(|item| {
        matches!(item.kind, TopKind::Function) && item.name.as_deref() == Some(name)
    })?;
    let definition = &text[item.text_range.clone()];
    let parts = split_definition(definition, name)?;
    let at = item.text_range.start;
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let file_span = |from: usize, len: usize| Span::new(source.patched, from, from + len);
    let name_at = at
        + definition[parts.head_start..]
            .find(name)
            .map_or(0, |i| i + parts.head_start);
    let body_at = at + parts.body_start;
    let original = top_level_items(&source.original)
        .into_iter()
        .find(|i| matches!(i.kind, TopKind::Function) && i.name.as_deref() == Some(name))
        .map(|i| SourceText {
            line: i.start_line,
            text: source.original[i.text_range.clone()].to_string(),
        });
    Some(Function {
        c_name: name.to_string(),
        return_type: parts.return_type.clone(),
        params: parts.params.clone(),
        origin: Fragment {
            text: definition[..parts.body_start].to_string(),
            file: source.path.clone(),
            line: line_of(name_at),
            span: file_span(name_at, name.len()),
        },
        body: Fragment {
            text: parts.body.clone(),
            file: source.path.clone(),
            line: line_of(body_at),
            span: file_span(body_at, parts.body.len()),
        },
        from_source: Some(FromSource {
            file: source.path.clone(),
            original: if reason == SourceReason::Added {
                None
            } else {
                original
            },
            reason,
            patched: SourceText {
                line: item.start_line,
                text: definition.to_string(),
            },
            references: Vec::new(),
            prototype_changed: false,
        }),
    })
}

fn sort_copies(helpers: &mut [Function]) {
    helpers.sort_by_key(|h| match &h.from_source {
        None => (0, String::new(), 0),
        Some(from) => (1, from.file.clone(), from.patched.line),
    });
}

/// Where a use at `offset` of a derived body is in the patched file.
fn use_span(body: &Fragment, offset: usize, len: usize) -> Span {
    // A body kgpc composed (a system call's entry) has no text of its own
    // in the sources: its uses are placed where it stands.
    if body.span.end - body.span.start != body.text.len() {
        return body.span;
    }
    let start = body.span.start + offset;
    Span::new(body.span.file, start, start + len)
}
