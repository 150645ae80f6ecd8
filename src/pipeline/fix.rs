//! The source stage: a spec's `fix` applied to the target's source, and
//! what it changes made into the model's replacements, helpers and data,
//! before the kernel's facts check them (and work out what they need).

use super::fix_functions::check_function_fixes;
use super::fix_headers::{add_users, read_headers};
use super::fix_syscall::syscall_replacement;
use crate::c::top_level::function_names;
use crate::check::closure::{copied_function, derived_replacement};
use crate::check::model::{
    Fragment, HiddenHeader, Model, Object, PatchedSource, SourceReason, UpstreamFix,
};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::module_name::kernel_module_name;
use crate::patch_file::diagnostics::line_span;
use crate::patch_file::{self, PatchFile};
use crate::source::{FileId, Origin, SourceMap, Span};
use crate::source_tree::apply_fix::{apply_fix, ApplyProblem};
use crate::source_tree::compiler_view::{cached_compiler_view, CompilerView, ViewError};
use crate::source_tree::context::file_context;
use crate::source_tree::derive::{derive, with_compiler_view, Derived, Refusal};
use crate::source_tree::header_overlay::ChangedHeader;
use crate::source_tree::{CompileError, FunctionChange, UnitKind};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Applies the model's fix, if it has one, to the release's source in
/// `cache`, and adds what it changes to the model.
/// `vmlinux` is the debug vmlinux, which says which of its files use a
/// header function the fix changes.
pub(super) fn apply(
    model: &mut Model,
    sources: &mut SourceMap,
    cache: &Path,
    vmlinux: Option<&Path>,
    diagnostics: &mut Diagnostics,
) {
    let Some(mut fix) = model.fix.take() else {
        return;
    };
    if let Some(patch) = parse(&fix, sources, diagnostics) {
        if let Some(tree) = source_tree(&fix, &model.target.release, cache, diagnostics) {
            let (applied, problems) = apply_fix(&tree, &patch);
            report_problems(&fix, &patch, &problems, sources, diagnostics);
            for file in &applied {
                diagnostics.extend(patch_file::diagnostics::applied_with_fuzz_or_offset(
                    &patch.files[file.index],
                    &file.applied,
                    sources,
                    &fix.lines,
                ));
            }
            if problems.is_empty() {
                check_function_fixes(&fix, &patch, &applied, sources, diagnostics);
            }
            if problems.is_empty() && !diagnostics.has_errors() {
                let (headers, c_files): (Vec<_>, Vec<_>) =
                    applied.into_iter().partition(|f| !f.path.ends_with(".c"));
                let header_fix = read_headers(&mut fix, headers, sources, diagnostics);
                let trees = Trees {
                    source: tree,
                    build: crate::fetch::ready(cache, &model.target.release)
                        .ok()
                        .flatten()
                        .map(|paths| paths.kdir()),
                    views: crate::fetch::KernelPaths::in_cache(cache, &model.target.release)
                        .dir
                        .join("fix-views"),
                    headers: header_fix.headers,
                    header_functions: header_fix.functions,
                };
                let mut files = c_files
                    .into_iter()
                    .map(|file| {
                        let text = FileText {
                            path: file.path,
                            original: file.original,
                            patched: file.applied.text,
                            if_built: false,
                        };
                        add_file(model, &mut fix, &trees, text, sources, diagnostics)
                    })
                    .collect::<Vec<_>>();
                if !trees.header_functions.is_empty() && !diagnostics.has_errors() {
                    files.extend(add_users(
                        model,
                        &mut fix,
                        &trees,
                        vmlinux,
                        sources,
                        diagnostics,
                    ));
                }
                if !diagnostics.has_errors() && files.iter().all(Derived::is_empty) {
                    report_nothing(&fix, &files, diagnostics);
                } else if !diagnostics.has_errors() {
                    report_empty_objects(model, &fix, diagnostics);
                }
            }
        }
    }
    model.fix = Some(fix);
}

/// The patch, or its errors reported at their lines.
fn parse(
    fix: &UpstreamFix,
    sources: &SourceMap,
    diagnostics: &mut Diagnostics,
) -> Option<PatchFile> {
    match patch_file::parse(&fix.diff) {
        Ok(patch) => Some(patch_file::merge_same_files(patch)),
        Err(errors) => {
            for error in &errors {
                diagnostics.push(patch_file::diagnostics::malformed(
                    error, sources, &fix.lines,
                ));
            }
            None
        }
    }
}

/// The release's source tree, or the error that says how to fetch it.
fn source_tree(
    fix: &UpstreamFix,
    release: &str,
    cache: &Path,
    diagnostics: &mut Diagnostics,
) -> Option<std::path::PathBuf> {
    if let Some(tree) = crate::fetch::source_ready(cache, release) {
        return Some(tree.dir);
    }
    diagnostics.push(
        Diagnostic::error(
            Code::SourceNotFetched,
            format!(
                "the fix is applied to the source of {release}, which is not in the kgpc cache"
            ),
        )
        .at(fix.span, "the fix")
        .with_note(format!(
            "looked for {}",
            crate::fetch::source_dir(cache, release).display()
        ))
        .with_help(format!(
            "fetch it with `kgpc kernel fetch --source {release}`"
        )),
    );
    None
}

/// Reports each file the tree lacks and each hunk that does not apply.
fn report_problems(
    fix: &UpstreamFix,
    patch: &PatchFile,
    problems: &[ApplyProblem],
    sources: &SourceMap,
    diagnostics: &mut Diagnostics,
) {
    for problem in problems {
        match problem {
            ApplyProblem::Missing { file, reason } => {
                let diff = &patch.files[*file];
                diagnostics.push(
                    patch_file::diagnostics::file_missing(diff, sources, &fix.lines)
                        .with_note(format!("reading it: {reason}")),
                );
            }
            ApplyProblem::Hunks { file, failures } => {
                let diff = &patch.files[*file];
                for failure in failures {
                    diagnostics.push(patch_file::diagnostics::hunk_does_not_apply(
                        diff, failure, sources, &fix.lines,
                    ));
                }
            }
        }
    }
}

/// The trees the fix is applied in and compiled with.
pub(super) struct Trees {
    /// The release's source tree.
    pub source: PathBuf,
    /// The release's build tree, if the kgpc cache has it.
    pub build: Option<PathBuf>,
    /// Where the compiler's views of fixes are kept.
    pub views: PathBuf,
    /// The headers the fix changes, which every file is compiled with.
    pub headers: Vec<ChangedHeader>,
    /// Their changed `static inline` functions.
    pub header_functions: Vec<String>,
}

/// A source file of the target and its text with the fix applied (the
/// same text for a file that only uses a changed header).
pub(super) struct FileText {
    pub path: String,
    pub original: String,
    pub patched: String,
    /// Whether the file is left out, without an error, when kbuild does
    /// not build it under the target's `.config` (a user of a header that
    /// kgpc found by its text).
    pub if_built: bool,
}

/// Adds one patched file to the sources and what it changes to the model.
pub(super) fn add_file(
    model: &mut Model,
    fix: &mut UpstreamFix,
    trees: &Trees,
    mut file: FileText,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Derived {
    let kpatch = super::fix_kpatch::read(&mut file);
    let patched = sources.add(
        format!("{} (patched)", file.path),
        file.patched.clone(),
        Origin::Memory,
    );
    let source = PatchedSource {
        path: file.path,
        original: file.original,
        patched_text: file.patched,
        patched,
    };
    if super::fix_kpatch::report_unsupported(kpatch.as_ref(), &source, diagnostics) {
        fix.files.push(source);
        return Derived::default();
    }
    let from_text = derive(&source.path, &source.original, &source.patched_text);
    // A file whose text is the same may still compile differently with a
    // patched header.
    let nothing = from_text.is_empty() && trees.header_functions.is_empty();
    if !from_text.refusals.is_empty() || nothing {
        report_derived(&source, &from_text, sources, diagnostics);
        fix.files.push(source);
        return from_text;
    }
    let view = match view_of(trees, &source, fix.span, sources, file.if_built) {
        Ok(view) => view,
        Err(None) => return Derived::default(),
        Err(Some(diagnostic)) => {
            diagnostics.push(*diagnostic);
            fix.files.push(source);
            return Derived::default();
        }
    };
    let derived = with_compiler_view(
        from_text,
        &view,
        &source.patched_text,
        &trees.header_functions,
    );
    report_derived(&source, &derived, sources, diagnostics);
    if derived.refusals.is_empty() {
        add_derived(model, fix, &source, &derived, &view, &trees.source);
        super::fix_kpatch::add_callbacks(
            model,
            kpatch.as_ref(),
            &source,
            &view,
            fix.span,
            diagnostics,
        );
    }
    fix.files.push(source);
    derived
}

/// The compiler's view of one patched file, or the error that says why
/// there is none; `None` for a file kbuild does not build when `if_built`.
fn view_of(
    trees: &Trees,
    source: &PatchedSource,
    at: Span,
    sources: &SourceMap,
    if_built: bool,
) -> Result<CompilerView, Option<Box<Diagnostic>>> {
    let Some(build) = &trees.build else {
        return Err(Some(Box::new(
            Diagnostic::error(
                Code::FixDoesNotCompile,
                format!("kgpc cannot compile {} without the target's build tree", source.path),
            )
            .at(at, "the fix")
            .with_help("fetch the target with `kgpc kernel fetch RELEASE`; its build tree gives the flags the kernel was built with"),
        )));
    };
    cached_compiler_view(
        &trees.views,
        build,
        &trees.source,
        &source.path,
        &source.original,
        &source.patched_text,
        &trees.headers,
    )
    .map_err(|error| {
        if if_built && matches!(error, ViewError::Original(CompileError::NotBuilt { .. })) {
            return None;
        }
        let mut d = view_error(&error, &source.path, at);
        if let ViewError::Patched(CompileError::Compiler { messages, .. }) = &error {
            for message in messages.iter().filter(|m| m.error && m.file == source.path) {
                let line = line_span(sources, source.patched, message.line);
                d = d.also(line, message.text.clone());
            }
        }
        Some(Box::new(d))
    })
}

/// The error of a compile that failed.
fn view_error(error: &ViewError, path: &str, at: Span) -> Diagnostic {
    let (message, help) = match error {
        ViewError::Patched(e) => (
            format!("{path} does not compile with the fix applied: {e}"),
            "the fix needs code the target does not have: rebase it onto the target's source",
        ),
        ViewError::Original(e) => (
            format!("kgpc cannot compile the target's own {path}, so it cannot tell what the fix changes: {e}"),
            "this is a limit of kgpc; replace the functions in the spec with `replace` entries",
        ),
        ViewError::Compare(e) => (
            format!("the compiled {path} cannot be compared: {e:?}"),
            "this is a limit of kgpc; replace the functions in the spec with `replace` entries",
        ),
        ViewError::Work(e) => (
            format!("no temporary directory to compile {path} in: {e}"),
            "make room in the temporary directory (TMPDIR)",
        ),
    };
    Diagnostic::error(Code::FixDoesNotCompile, message)
        .at(at, "the fix")
        .with_help(help)
}

/// Adds the functions, data and context the fix gives to the object the
/// file is built into.
fn add_derived(
    model: &mut Model,
    fix: &mut UpstreamFix,
    source: &PatchedSource,
    derived: &Derived,
    view: &CompilerView,
    tree: &Path,
) {
    let at = fix.span;
    let own = function_names(&source.patched_text);
    let object = object_of(model, view, at);
    let taken = |name: &str, reason| {
        let mut function = copied_function(source, name, reason)?;
        if let Some(from) = function.from_source.as_mut() {
            from.prototype_changed = derived.prototype_changed.iter().any(|n| n == name);
            if let Some(compiled) = view.changes.function(name) {
                from.references = references(compiled, view, &own);
            }
        }
        Some(function)
    };
    for name in &derived.replaced {
        if let Some(function) = taken(name, SourceReason::Changed) {
            object.funcs.push(derived_replacement(
                name.clone(),
                source.path.clone(),
                function,
            ));
        }
    }
    // A function the target's text has, which the compiler had only inlined
    // and now puts out of line, is a copy, not new code of the fix.
    let in_target = function_names(&source.original);
    for name in &derived.added {
        let reason = if in_target.contains(name) {
            SourceReason::InlinedCallee
        } else {
            SourceReason::Added
        };
        if let Some(function) = taken(name, reason) {
            model.helpers.push(function);
        }
    }
    for entry in &derived.syscalls {
        if let Some((helper, replacement)) = syscall_replacement(source, entry, view) {
            if let Some(helper) =
                helper.filter(|h| !model.helpers.iter().any(|m| m.c_name == h.c_name))
            {
                model.helpers.push(helper);
            }
            object_of(model, view, at).funcs.push(replacement);
        }
    }
    if view.kind == UnitKind::BuiltIn {
        for include in crate::c::module_hidden::hidden_includes(&source.patched_text) {
            if !fix.hidden_headers.iter().any(|h| h.include == include) {
                fix.hidden_headers.extend(hidden_header(tree, include));
            }
        }
    }
    let context = file_context(&source.path, &source.patched_text, tree);
    model.data.push(fragment(
        &source.path,
        context,
        1,
        Span::new(source.patched, 0, 0),
    ));
    for range in &derived.added_data {
        let text = source.patched_text[range.clone()].to_string();
        let line = source.patched_text[..range.start].matches('\n').count() + 1;
        model.data.push(fragment(
            &source.path,
            text,
            line,
            Span::new(source.patched, range.start, range.end),
        ));
    }
}

/// The part a header `include` hides from modules, read from the source
/// `tree` (`<asm/tlbflush.h>` is `arch/x86/include/asm/tlbflush.h` there).
fn hidden_header(tree: &Path, include: String) -> Option<HiddenHeader> {
    let name = include.trim_start_matches('<').trim_end_matches('>');
    ["arch/x86/include", "include"].iter().find_map(|root| {
        let path = format!("{root}/{name}");
        let bytes = crate::read::read_regular(&tree.join(&path), 4 << 20).ok()?;
        let (line, text) = crate::c::module_hidden::hidden_part(&String::from_utf8_lossy(&bytes))?;
        Some(HiddenHeader {
            include: include.clone(),
            path,
            line,
            text,
        })
    })
}

/// The object the file of `view` is built into.
pub(super) fn object_of<'m>(model: &'m mut Model, view: &CompilerView, at: Span) -> &'m mut Object {
    match view.kind {
        UnitKind::BuiltIn => object_named(model, None, at),
        UnitKind::Module => object_named(model, Some(kernel_module_name(&view.modname)), at),
    }
}

/// What a compiled function refers to, and whether each is a `static`
/// function of its file. What the object's out-of-line copies of header
/// functions it calls use counts too (`count_memcg_event_mm()` calls
/// `__count_memcg_events()`): the patch module compiles its own copies of
/// them from the header. `own` are the functions the file itself defines.
pub(super) fn references(
    compiled: &FunctionChange,
    view: &CompilerView,
    own: &HashSet<String>,
) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut visited: HashSet<&str> = HashSet::from([compiled.name.as_str()]);
    let mut pending = vec![compiled];
    while let Some(function) = pending.pop() {
        for name in &function.local_functions {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.clone(), true));
            }
            if !own.contains(name) && visited.insert(name) {
                pending.extend(view.changes.function(name));
            }
        }
        let others = function
            .undefined
            .iter()
            .chain(&function.local_data)
            .chain(&function.defined_globals);
        for name in others {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.clone(), false));
            }
        }
    }
    out
}

pub(super) fn fragment(file: &str, text: String, line: usize, span: Span) -> Fragment {
    Fragment {
        text,
        file: file.to_string(),
        line,
        span,
    }
}

/// The model's object for vmlinux (`None`) or a module, made if the spec has none.
fn object_named(model: &mut Model, module: Option<String>, span: Span) -> &mut Object {
    let at = match model.objects.iter().position(|o| o.module == module) {
        Some(at) => at,
        None => {
            model.objects.push(Object {
                ident: module.clone().unwrap_or_else(|| "vmlinux".to_string()),
                module,
                span,
                funcs: Vec::new(),
                callbacks: Vec::new(),
                externs: Vec::new(),
                requirements: Vec::new(),
            });
            model.objects.len() - 1
        }
    };
    &mut model.objects[at]
}

/// Reports the refusals and the functions left alone because they only moved.
pub(super) fn report_derived(
    source: &PatchedSource,
    derived: &Derived,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) {
    let mut original: Option<FileId> = None;
    for refusal in &derived.refusals {
        let file = if refusal.in_original {
            *original.get_or_insert_with(|| {
                sources.add(
                    format!("{} (target)", source.path),
                    source.original.clone(),
                    Origin::Memory,
                )
            })
        } else {
            source.patched
        };
        diagnostics.push(refusal_diagnostic(refusal, file));
    }
    if !derived.removed.is_empty() {
        let target = sources.add(
            format!("{} (target)", source.path),
            source.original.clone(),
            Origin::Memory,
        );
        for (name, range) in &derived.removed {
            diagnostics.push(
                Diagnostic::note(
                    Code::FixNotDerived,
                    format!("the fix removes `{name}`; the running kernel keeps it"),
                )
                .at(Span::new(target, range.start, range.end), "removed by the fix")
                .with_note("a live patch replaces functions and cannot take one out of the running kernel: the old function stays, and only what the patch replaces stops calling it"),
            );
        }
    }
    for (name, range) in &derived.moved {
        diagnostics.push(
            Diagnostic::note(
                Code::FixOnlyMovesLines,
                format!("`{name}` only moves; it is left as the kernel has it"),
            )
            .at(Span::new(source.patched, range.start, range.end), "moved by the fix")
            .with_note("its `WARN`, `BUG` or `__LINE__` would report the new line numbers, and nothing else of it changes; kpatch leaves such functions alone too"),
        );
    }
}

fn refusal_diagnostic(refusal: &Refusal, file: FileId) -> Diagnostic {
    Diagnostic::error(refusal.code, refusal.message.clone())
        .at(
            Span::new(file, refusal.range.start, refusal.range.end),
            "changed by the fix",
        )
        .with_help(refusal.help.clone())
}

/// The error of a function's fix written in an object block that the fix
/// leaves empty: what a file's change replaces goes into the object kbuild
/// builds the file into, which is another one.
fn report_empty_objects(model: &Model, fix: &UpstreamFix, diagnostics: &mut Diagnostics) {
    for function in &fix.functions {
        let Some(object) = model.objects.iter().find(|o| o.ident == function.object) else {
            continue;
        };
        if !object.funcs.is_empty() || !object.callbacks.is_empty() || !object.externs.is_empty() {
            continue;
        }
        let into: Vec<String> = model
            .objects
            .iter()
            .filter(|o| !o.funcs.is_empty())
            .map(|o| format!("`{}`", o.ident))
            .collect();
        diagnostics.push(
            Diagnostic::error(
                Code::FixOutsideFunction,
                format!(
                    "the fix of `{}` replaces nothing in `{}`",
                    function.name, function.object
                ),
            )
            .at(function.span, "this function's fix")
            .with_note(format!(
                "what a fix changes is replaced in the object kbuild builds the file into: {}",
                crate::check::name_list::name_list(&into, 5)
            ))
            .with_help("write the `replace` in that object's block"),
        );
    }
}

/// The error of a fix that leaves nothing for the patch module to do.
fn report_nothing(fix: &UpstreamFix, files: &[Derived], diagnostics: &mut Diagnostics) {
    let moved: Vec<String> = files
        .iter()
        .flat_map(|d| d.moved.iter().map(|(name, _)| format!("`{name}`")))
        .collect();
    let removes = files.iter().any(|d| !d.removed.is_empty());
    let d = if moved.is_empty() {
        Diagnostic::error(
            Code::EmptyPatch,
            "the fix changes no function, and adds no code or data",
        )
        .at(fix.span, "this fix")
        .with_help(if removes {
            "a fix that only removes code has nothing for a live patch to do: the functions stay in the running kernel"
        } else {
            "a fix that changes only comments or white space needs no live patch"
        })
    } else {
        Diagnostic::error(
            Code::FixOnlyMovesLines,
            format!(
                "the fix only moves the lines of {}; it changes no code",
                crate::check::name_list::name_list(&moved, 5)
            ),
        )
        .at(fix.span, "this fix")
        .with_help("a fix that only moves code or adds comments needs no live patch")
    };
    diagnostics.push(d);
}

/// The warning that the closure of the fix's functions was not worked out,
/// for a run without the kernel's debug information.
pub(super) fn closure_not_derived(model: &Model, diagnostics: &mut Diagnostics) {
    let Some(fix) = &model.fix else {
        return;
    };
    if fix.files.is_empty() {
        return;
    }
    diagnostics.push(
        Diagnostic::warning(
            Code::FixNotDerived,
            "without the kernel's debug information, kgpc cannot work out what the fix's functions use",
        )
        .at(fix.span, "the fix")
        .with_note("the symbols the kernel does not export are not declared and the static functions it has only inlined are not copied, so the module may not build or load")
        .with_help(format!(
            "fetch the target's debug vmlinux with `kgpc kernel fetch {}`, or drop --no-kernel-checks",
            model.target.release
        )),
    );
}
