//! Checks of a spec against the real kernel: its debug vmlinux and module
//! objects (issue 3's rules). Each finding is a diagnostic that points at
//! the spec, with the kernel facts in its notes.
//!
//! 1. identity: release, build id, architecture, CONFIG_LIVEPATCH;
//! 2. existence of each replaced function, with "did you mean";
//! 3. position: duplicated local names, `in "file.c"` and `sympos`;
//! 4. patchability: an ftrace call site, not `__init`, not noinstr;
//! 5. compiler clones; 6. inlined copies; 7. prototypes;
//! 8. `extern` symbols; 9. modules; 10. transitions that may never end;
//! 11. symbols the bodies use that the kernel does not export
//!     ([`super::body_symbols`]).

use super::body_symbols;
use super::c_decl::{param_types, strip_annotations, types_match};
use super::coverage::{Coverage, KernelFile};
use super::instead::replace_instead;
use super::model::{Model, Object, Replacement};
use super::stalls::Stalls;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::ctype::normalize;
use crate::kernel::facts::{is_clone_of, unpatchable_reason};
use crate::kernel::index::flag;
use crate::kernel::{locate, Kernel, OpenOptions, Symbol};
use std::path::{Path, PathBuf};

/// Where the kernel objects come from.
#[derive(Clone, Debug)]
pub struct KernelInputs {
    pub vmlinux: PathBuf,
    /// `--modules DIR`.
    pub modules: Option<PathBuf>,
    pub cache_dir: PathBuf,
    pub progress: bool,
    /// The release of the running kernel: its `/proc` is the census of that release.
    pub running_release: Option<String>,
}

/// The census of the target's tasks at rest, when some object replaces functions.
fn stalls(model: &Model, vmlinux: &Kernel, inputs: &KernelInputs, mismatch: bool) -> Stalls {
    let outcome = if mismatch {
        crate::vm::census::Outcome::Unavailable {
            why: "the vmlinux is not the target's, so no census of the target was looked for"
                .into(),
            help: "check against the target's own vmlinux".into(),
        }
    } else if model.objects.iter().any(|o| !o.funcs.is_empty()) {
        crate::vm::census::obtain(&crate::vm::census::Request::new(
            model.target.release.clone(),
            vmlinux.meta().build_id.clone(),
            inputs.cache_dir.clone(),
            inputs.running_release.clone(),
        ))
    } else {
        crate::vm::census::Outcome::Unavailable {
            why: "the patch replaces no function".into(),
            help: String::new(),
        }
    };
    Stalls {
        outcome,
        told: std::cell::Cell::new(false),
    }
}

/// Runs every rule; fills in kernel-supplied prototypes and positions, and
/// returns what each object was checked against.
pub fn check(model: &mut Model, inputs: &KernelInputs, diagnostics: &mut Diagnostics) -> Coverage {
    let options = OpenOptions {
        cache_dir: Some(inputs.cache_dir.clone()),
        progress: inputs.progress,
        object_name: Some("vmlinux".into()),
        btf_base: None,
    };
    let vmlinux = match Kernel::open(&inputs.vmlinux, &options) {
        Ok(k) => k,
        Err(e) => {
            diagnostics.push(
                Diagnostic::error(Code::KernelUnreadable, "cannot read the target's vmlinux")
                    .at(model.target.span, "the target whose vmlinux this is")
                    .with_note(e.to_string())
                    .with_help("pass the debug vmlinux with --vmlinux PATH (`kgpc kernel fetch RELEASE` fetches Debian's)"),
            );
            return Coverage::skipped(format!(
                "cannot read the vmlinux {}",
                inputs.vmlinux.display()
            ));
        }
    };
    for warning in damaged(&vmlinux) {
        diagnostics.push(warning.at(model.target.span, "the target whose vmlinux this is"));
    }
    identity(model, &vmlinux, diagnostics);
    // A wrong vmlinux (KGP0101) is not worth a census boot.
    let stalls = stalls(model, &vmlinux, inputs, diagnostics.has_errors());
    let vmlinux_file = file_of(&vmlinux);
    let mut coverage = Coverage {
        ran: true,
        vmlinux: Some(vmlinux_file.clone()),
        stalls: Some(stalls.coverage()),
        ..Coverage::default()
    };
    let release = model.target.release.clone();
    let target_span = model.target.span;
    let names = body_symbols::SpecNames::of(model);
    body_symbols::check_shared(model, &names, &vmlinux, diagnostics);
    let mut objects = std::mem::take(&mut model.objects);
    for object in &mut objects {
        if object.module.is_none() {
            stalls.object(object, target_span, diagnostics);
            check_object(object, &vmlinux, &stalls, diagnostics);
            coverage.checked("vmlinux", &vmlinux_file);
            body_symbols::check_object(object, &names, &[&vmlinux], diagnostics);
            continue;
        }
        let name = object.display_name().to_string();
        let found = locate::module_object(
            &name,
            &release,
            inputs.modules.as_deref(),
            &inputs.cache_dir,
        );
        let path = match found {
            Ok(found) => {
                if let Some(note) = found.note {
                    diagnostics.push(
                        Diagnostic::note(
                            Code::ModuleWithoutDebugInfo,
                            format!("module `{name}` was checked without its debug information"),
                        )
                        .at(object.span, "this module")
                        .with_note(note)
                        .with_help("prototypes come from its BTF and source files are not known; pass its debug object's directory with --modules DIR for all the checks"),
                    );
                }
                found.path
            }
            Err(dirs) => {
                let mut d = Diagnostic::warning(
                    Code::ModuleNotFound,
                    format!("no object of module `{name}` found; its functions were not checked against the kernel"),
                )
                .at(object.span, "this module")
                .with_note(format!("looked for {name}.ko in {}", show_dirs(&dirs)));
                if inputs.modules.is_none() {
                    d = d.with_help(
                        "pass the directory holding the module's .ko with --modules DIR",
                    );
                }
                for func in &object.funcs {
                    let why = format!("no object of module `{name}` was found");
                    if let Some(d) =
                        super::positions::file_without_facts(func, &name, &release, &why)
                    {
                        diagnostics.push(d);
                    }
                }
                if object.funcs.iter().any(|f| !f.prototype_given) {
                    d = Diagnostic::error(Code::MissingPrototype, d.message.clone())
                        .at(object.span, "this module")
                        .with_note(d.notes[0].clone())
                        .with_help("give the prototypes of its replacements, or pass the module's directory with --modules DIR");
                }
                diagnostics.push(d);
                coverage.unchecked(
                    &name,
                    format!("no object of module `{name}` found in {}", show_dirs(&dirs)),
                );
                body_symbols::check_object(object, &names, &[&vmlinux], diagnostics);
                continue;
            }
        };
        let module_options = OpenOptions {
            object_name: Some(name.clone()),
            btf_base: Some(inputs.vmlinux.clone()),
            ..options.clone()
        };
        match Kernel::open(&path, &module_options) {
            Ok(module) => {
                for warning in damaged(&module) {
                    diagnostics.push(warning.at(object.span, "this module"));
                }
                stalls.object(object, target_span, diagnostics);
                check_object(object, &module, &stalls, diagnostics);
                coverage.checked(&name, &file_of(&module));
                body_symbols::check_object(object, &names, &[&module, &vmlinux], diagnostics);
            }
            Err(e) => {
                coverage.unchecked(&name, format!("cannot read {}", path.display()));
                diagnostics.push(
                    Diagnostic::error(
                        Code::KernelUnreadable,
                        format!("cannot read the object of module `{name}`"),
                    )
                    .at(object.span, "this module")
                    .with_note(e.to_string()),
                );
            }
        }
    }
    model.objects = objects;
    coverage
}

/// A warning for each loss to a damaged section of `kernel` (KGP0117).
pub(crate) fn damaged(kernel: &Kernel) -> Vec<Diagnostic> {
    kernel
        .meta()
        .damaged
        .iter()
        .map(|loss| {
            Diagnostic::warning(
                Code::KernelDamaged,
                format!("`{}` is damaged: {loss}", kernel.path.display()),
            )
            .with_help("use an undamaged copy of the object: fetch it again with `kgpc kernel fetch RELEASE`, or pass another with --vmlinux or --modules")
        })
        .collect()
}

fn file_of(kernel: &Kernel) -> KernelFile {
    KernelFile {
        file: kernel.path.display().to_string(),
        build_id: kernel.meta().build_id.clone(),
    }
}

fn show_dirs(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe(kernel: &Kernel) -> String {
    format!("{} ({})", kernel.object_name, kernel.path.display())
}

/// Rule 1: the vmlinux is the target's.
fn identity(model: &Model, vmlinux: &Kernel, diagnostics: &mut Diagnostics) {
    let meta = vmlinux.meta();
    let span = model.target.span;
    match &meta.release {
        Some(release) if *release != model.target.release => diagnostics.push(
            Diagnostic::error(
                Code::KernelMismatch,
                format!(
                    "the vmlinux is release `{release}`, not `{}`",
                    model.target.release
                ),
            )
            .at(span, "the target")
            .with_note(format!(
                "{} says: {}",
                vmlinux.path.display(),
                meta.banner.as_deref().unwrap_or("")
            ))
            .with_note(format!(
                "release `{}` was chosen: {}",
                model.target.release, model.target.release_source
            ))
            .with_help(format!(
                "pass the debug vmlinux of `{}`, or choose `--release {release}`",
                model.target.release
            )),
        ),
        Some(_) => {}
        None => diagnostics.push(
            Diagnostic::warning(
                Code::KernelMismatch,
                "cannot tell the vmlinux's release: it has no linux_banner",
            )
            .at(span, "the target")
            .with_note(format!("read {}", vmlinux.path.display())),
        ),
    }
    if let Some(wanted) = &model.target.build_id {
        let actual = meta.build_id.as_deref().unwrap_or("none");
        if !wanted.eq_ignore_ascii_case(actual) {
            diagnostics.push(
                Diagnostic::error(
                    Code::KernelMismatch,
                    format!("the vmlinux's build id is {actual}, not the spec's {wanted}"),
                )
                .at(span, "the target")
                .with_note(format!("read {}", vmlinux.path.display()))
                .with_help("a build id names one exact build: use that build's vmlinux, or fix the build_id"),
            );
        }
    }
    if meta.arch != model.target.arch {
        diagnostics.push(
            Diagnostic::error(
                Code::KernelMismatch,
                format!(
                    "the vmlinux is for {}, not {}",
                    meta.arch, model.target.arch
                ),
            )
            .at(span, "the target")
            .with_note(format!("read {}", vmlinux.path.display())),
        );
    }
    if !meta.has_livepatch {
        diagnostics.push(
            Diagnostic::error(
                Code::KernelMismatch,
                "the kernel was built without CONFIG_LIVEPATCH",
            )
            .at(span, "the target")
            .with_note(format!(
                "{} defines no klp_enable_patch",
                vmlinux.path.display()
            ))
            .with_help("livepatch modules load only into kernels built with CONFIG_LIVEPATCH=y"),
        );
    }
}

fn file_matches(symbol: &Symbol, wanted: &str) -> bool {
    let wanted = wanted.trim_start_matches("./");
    let candidates = [
        symbol.function.as_ref().map(|f| f.cu.as_str()),
        symbol
            .function
            .as_ref()
            .and_then(|f| f.decl_file.as_deref()),
        symbol.stt_file.as_deref(),
    ];
    candidates.into_iter().flatten().any(|file| {
        file == wanted
            || file.ends_with(&format!("/{wanted}"))
            || (!wanted.contains('/') && file.rsplit('/').next() == Some(wanted))
            || wanted.ends_with(&format!("/{file}"))
    })
}

fn where_is(s: &Symbol) -> String {
    format!(
        "sympos {}: {} at {:#x}",
        s.position,
        s.file().unwrap_or("unknown file"),
        s.value
    )
}

/// Rules 2-7 and 10 for every replacement, rule 8 for every extern.
fn check_object(
    object: &mut Object,
    kernel: &Kernel,
    stalls: &Stalls,
    diagnostics: &mut Diagnostics,
) {
    let replaced: Vec<String> = object.funcs.iter().map(|f| f.old_name.clone()).collect();
    for func in &mut object.funcs {
        check_replacement(func, &replaced, kernel, stalls, diagnostics);
    }
    for ext in &object.externs {
        check_extern(ext, kernel, diagnostics);
    }
    super::positions::same_function_twice(object, diagnostics);
}

fn functions_named(kernel: &Kernel, name: &str) -> Vec<Symbol> {
    kernel.index().symbols_named(name)
}

fn not_found(kernel: &Kernel, name: &str, code: Code, what: &str) -> Diagnostic {
    let index = kernel.index();
    let clones: Vec<String> = index
        .symbols_with_prefix(&format!("{name}."))
        .into_iter()
        .filter(|c| is_clone_of(c, name))
        .collect();
    let inlined = index.inlined_into(name);
    let mut d = Diagnostic::error(
        code,
        format!("no {what} `{name}` in {}", kernel.object_name),
    )
    .with_note(format!("looked in {}", describe(kernel)));
    if !clones.is_empty() {
        d = d
            .with_note(format!(
                "the compiler emitted only clones of it: {}",
                clones.join(", ")
            ))
            .with_help("a clone has a changed calling convention; replace the functions that call it instead");
    } else if !inlined.is_empty() {
        d = d
            .with_note(format!(
                "it was inlined everywhere it is used: into {}",
                list(&inlined, 12)
            ))
            .with_help("replace the functions that hold the inlined copies instead");
    } else {
        let suggestions = index.suggestions(name, 3);
        if !suggestions.is_empty() {
            d = d.with_help(format!(
                "did you mean {}?",
                suggestions
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    d
}

fn list(names: &[String], max: usize) -> String {
    if names.len() <= max {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..max].join(", "), names.len() - max)
    }
}

/// Picks the symbol a replacement or extern means (rule 3), or reports why it cannot.
// The arguments are one lookup's inputs; the redesign of the kernel rules groups them.
#[allow(clippy::too_many_arguments)]
fn position(
    kernel: &Kernel,
    name: &str,
    symbols: &[Symbol],
    source_file: Option<&str>,
    sympos: u64,
    span: crate::source::Span,
    sympos_span: Option<crate::source::Span>,
    diagnostics: &mut Diagnostics,
) -> Option<Symbol> {
    let listing = || symbols.iter().map(where_is).collect::<Vec<_>>().join("\n");
    if let Some(file) = source_file {
        let matching: Vec<&Symbol> = symbols.iter().filter(|s| file_matches(s, file)).collect();
        match matching.as_slice() {
            [one] => {
                if sympos != 0 && sympos != one.sympos() {
                    diagnostics.push(
                        Diagnostic::error(
                            Code::AmbiguousSymbol,
                            format!(
                                "`{name}` in \"{file}\" is at position {}, not {sympos}",
                                one.sympos()
                            ),
                        )
                        .at(sympos_span.unwrap_or(span), "this position")
                        .with_note(format!(
                            "the symbols named `{name}` in {}, in kallsyms order:\n{}",
                            kernel.object_name,
                            listing()
                        ))
                        .with_help("drop `sympos`: kgpc computes it from the file"),
                    );
                    return None;
                }
                return Some((*one).clone());
            }
            [] => {
                diagnostics.push(
                    Diagnostic::error(
                        Code::AmbiguousSymbol,
                        format!(
                            "no `{name}` of {} comes from \"{file}\"",
                            kernel.object_name
                        ),
                    )
                    .at(span, "this function")
                    .with_note(format!("the symbols named `{name}`:\n{}", listing())),
                );
                return None;
            }
            several => {
                if sympos == 0 {
                    diagnostics.push(
                        Diagnostic::error(
                            Code::AmbiguousSymbol,
                            format!(
                                "{} symbols named `{name}` come from \"{file}\"",
                                several.len()
                            ),
                        )
                        .at(span, "this function")
                        .with_note(format!("the symbols named `{name}`:\n{}", listing()))
                        .with_help("add `sympos N` to choose one"),
                    );
                    return None;
                }
            }
        }
    }
    let count = symbols.len() as u64;
    if sympos > count {
        diagnostics.push(
            Diagnostic::error(
                Code::AmbiguousSymbol,
                format!(
                    "there is no symbol `{name}` at position {sympos}: {} has {count}",
                    kernel.object_name
                ),
            )
            .at(sympos_span.unwrap_or(span), "this position")
            .with_note(format!(
                "the symbols named `{name}`, in kallsyms order:\n{}",
                listing()
            )),
        );
        return None;
    }
    if sympos == 0 && count > 1 {
        diagnostics.push(
            Diagnostic::error(
                Code::AmbiguousSymbol,
                format!("`{name}` names {count} symbols in {}; say which one", kernel.object_name),
            )
            .at(span, "ambiguous")
            .with_note(format!("in kallsyms order:\n{}", listing()))
            .with_note("the kernel refuses a klp_func with old_sympos 0 when the name is not unique")
            .with_help(format!("add `in \"FILE\"` naming the source file, or `sympos N`, after the prototype of `{name}`")),
        );
        return None;
    }
    symbols.get(sympos.saturating_sub(1) as usize).cloned()
}

fn check_replacement(
    func: &mut Replacement,
    replaced: &[String],
    kernel: &Kernel,
    stalls: &Stalls,
    diagnostics: &mut Diagnostics,
) {
    let name = func.old_name.clone();
    let symbols: Vec<Symbol> = functions_named(kernel, &name)
        .into_iter()
        .filter(|s| s.has(flag::FUNC) || s.has(flag::EXEC))
        .collect();
    if symbols.is_empty() {
        // A syscall's body or a function inlined everywhere exists, but
        // only inside other functions: say which to replace.
        let no_clones = !kernel
            .index()
            .symbols_with_prefix(&format!("{name}."))
            .iter()
            .any(|c| is_clone_of(c, &name));
        if let Some(instead) = no_clones.then(|| replace_instead(kernel, &name)).flatten() {
            let mut d = Diagnostic::error(
                Code::NotPatchable,
                format!(
                    "livepatch cannot replace `{name}`: it has no symbol of its own in {}",
                    kernel.object_name
                ),
            )
            .at(func.span, "only inside other functions")
            .with_note(format!("looked in {}", describe(kernel)));
            for note in instead.notes {
                d = d.with_note(note);
            }
            diagnostics.push(d.with_help(instead.help));
            return;
        }
        let code = if func.prototype_given {
            Code::FunctionNotFound
        } else {
            Code::MissingPrototype
        };
        let mut d = not_found(kernel, &name, code, "function").at(func.span, "not in the kernel");
        if !func.prototype_given {
            d = d.with_note("without the function in the kernel's debug information, kgpc cannot read its prototype either");
        }
        diagnostics.push(d);
        return;
    }
    // Positions count every symbol of the name, functions or not.
    let all = functions_named(kernel, &name);
    let Some(symbol) = position(
        kernel,
        &name,
        &all,
        func.source_file.as_deref(),
        func.sympos,
        func.span,
        func.sympos_span,
        diagnostics,
    ) else {
        return;
    };
    func.sympos = symbol.sympos();
    func.position_checked = true;
    let file = symbol.file().unwrap_or("unknown file").to_string();
    let facts_note = format!(
        "{} `{name}` is at {:#x}, {} bytes, from {file}",
        kernel.object_name, symbol.value, symbol.size
    );

    // Rule 4.
    if let Some(reason) = unpatchable_reason(&symbol, kernel.meta()) {
        let mut d = Diagnostic::error(
            Code::NotPatchable,
            format!("livepatch cannot replace `{name}`: {reason}"),
        )
        .at(func.span, "not patchable")
        .with_note(facts_note.clone());
        d = match replace_instead(kernel, &name) {
            Some(instead) => {
                for note in instead.notes {
                    d = d.with_note(note);
                }
                if instead.holders {
                    d.with_help(format!(
                        "{}, and the functions that call its out-of-line copy",
                        instead.help
                    ))
                } else {
                    d.with_help(instead.help)
                }
            }
            None => d.with_help("replace the functions that call it instead"),
        };
        diagnostics.push(d);
    }
    // Rule 5.
    let clones: Vec<String> = kernel
        .index()
        .symbols_with_prefix(&format!("{name}."))
        .into_iter()
        .filter(|c| is_clone_of(c, &name))
        .collect();
    // A `.cold` part holds the unlikely paths split off the function itself:
    // only the old function (or its inlined copies) jumps there, so replacing
    // the function leaves it unused. Other clones (`.isra`, `.constprop`,
    // `.part`) have callers of their own that keep running the old code.
    let (cold, callable): (Vec<String>, Vec<String>) =
        clones.into_iter().partition(|c| c.ends_with(".cold"));
    if !callable.is_empty() {
        diagnostics.push(
            Diagnostic::warning(
                Code::CompilerClones,
                format!("the compiler also emitted clones of `{name}`: {}", callable.join(", ")),
            )
            .at(func.span, "has clones")
            .with_note("callers of a clone run the clone's old code; replacing the plain symbol does not change them")
            .with_help(format!("find the clones' callers with `kgpc inspect {}` and replace them too, if the fix must reach them", callable[0])),
        );
    }
    if !cold.is_empty() {
        diagnostics.push(
            Diagnostic::note(
                Code::CompilerClones,
                format!("`{name}` has a cold part, {}, split off by the compiler", cold.join(", ")),
            )
            .at(func.span, "has a cold part")
            .with_note("only the old function and its inlined copies jump there; the replacement does not use it"),
        );
    }
    // Rule 6.
    let inlined: Vec<String> = kernel
        .index()
        .inlined_into(&name)
        .into_iter()
        .filter(|caller| {
            let base = caller.split('.').next().unwrap_or(caller);
            !replaced.iter().any(|r| r == base)
                && !func.allow_inlined.iter().any(|a| a == base || a == caller)
        })
        .collect();
    if !inlined.is_empty() {
        diagnostics.push(
            Diagnostic::warning(
                Code::InlinedCopies,
                format!(
                    "`{name}` was also inlined into {} function{} the patch leaves alone",
                    inlined.len(),
                    if inlined.len() == 1 { "" } else { "s" }
                ),
            )
            .at(func.span, "has inlined copies")
            .with_note(format!("inlined into: {}", list(&inlined, 20)))
            .with_note("replacing the symbol does not change the inlined copies")
            .with_help(format!(
                "replace those callers in this object too, if the fix must reach them; if not, say so with `allow_inlined \"{}\"`",
                inlined.first().map(|c| c.split('.').next().unwrap_or(c)).unwrap_or("CALLER")
            )),
        );
    }
    // Rule 7.
    match kernel.prototype(&symbol) {
        Some(Ok(proto)) => {
            if func.prototype_given {
                compare_prototype(func, &proto, diagnostics);
            } else {
                func.function.return_type = proto.return_type.clone();
                func.function.params = proto.params_text();
            }
        }
        other => {
            if !func.prototype_given {
                let why = match other {
                    Some(Err(why)) => why.to_string(),
                    _ => format!("{} has no DWARF or BTF for it", kernel.object_name),
                };
                diagnostics.push(
                    Diagnostic::error(Code::MissingPrototype, format!("the replacement of `{name}` has no prototype, and the kernel's debug information gives none"))
                        .at(func.span, "give the function's C prototype here")
                        .with_note(why)
                        .with_help(format!("write the prototype as in the kernel source: `replace RETURN-TYPE {name}(PARAMETERS) {{`")),
                );
            }
        }
    }
    // Rule 10.
    stalls.replacement(func, &symbol, kernel, diagnostics);
}

fn compare_prototype(
    func: &Replacement,
    proto: &crate::kernel::Prototype,
    diagnostics: &mut Diagnostics,
) {
    let name = &func.old_name;
    let spec = param_types(&func.function.params);
    let kernel_types: Vec<String> = proto.param_types.iter().map(|t| normalize(t)).collect();
    let note = format!(
        "the kernel's debug information declares: {}",
        proto.declaration()
    );
    if spec.types.len() != kernel_types.len() || spec.variadic != proto.variadic {
        diagnostics.push(
            Diagnostic::error(
                Code::PrototypeMismatch,
                format!("`{name}` takes {} parameter{} in the kernel, not {}", kernel_types.len(), if kernel_types.len() == 1 { "" } else { "s" }, spec.types.len()),
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
    if ret_differs || !differing.is_empty() {
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
        diagnostics.push(d.with_help("types that are the same under another name (a typedef) are fine; anything else is a bug"));
    }
}

/// Rule 8.
fn check_extern(ext: &super::model::Extern, kernel: &Kernel, diagnostics: &mut Diagnostics) {
    let name = &ext.name;
    let symbols = functions_named(kernel, name);
    if symbols.is_empty() {
        diagnostics.push(
            not_found(kernel, name, Code::ExternProblem, "symbol")
                .at(ext.span, "not in the kernel"),
        );
        return;
    }
    if symbols.iter().any(|s| s.has(flag::EXPORTED)) || kernel.index().is_exported(name) {
        diagnostics.push(
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
    let Some(symbol) = position(
        kernel,
        name,
        &symbols,
        None,
        ext.sympos,
        ext.span,
        ext.sympos_span,
        diagnostics,
    ) else {
        return;
    };
    let matches = if symbol.has(flag::FUNC) {
        let Some(Ok(proto)) = kernel.prototype(&symbol) else {
            return;
        };
        let declaration = proto.declaration();
        let same = match ext.declaration.find('(') {
            Some(i) => {
                let head = &ext.declaration[..i];
                let ret = head.trim_end().strip_suffix(name.as_str()).unwrap_or(head);
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
        (declaration, same)
    } else {
        let Some(declaration) = kernel
            .variable_declarations(name)
            .into_iter()
            .find_map(Result::ok)
        else {
            return;
        };
        let same = types_match(&strip_annotations(&ext.declaration), &declaration);
        (declaration, same)
    };
    let (declaration, same) = matches;
    if !same {
        diagnostics.push(
            Diagnostic::warning(Code::ExternProblem, format!("the declaration of `{name}` differs from the kernel's"))
                .at(ext.span, "differs from the kernel")
                .with_note(format!("the kernel's debug information declares: {declaration}"))
                .with_note(format!("the spec declares: {}", ext.declaration))
                .with_help("types that are the same under another name (a typedef) are fine; anything else is a bug"),
        );
    }
}

/// The vmlinux to check a spec against: `--vmlinux`, else the release's debug vmlinux if one is found.
pub fn find_vmlinux(
    explicit: Option<&Path>,
    release: Option<&str>,
    cache_dir: &Path,
) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    locate::find_vmlinux(release?, cache_dir)
}
