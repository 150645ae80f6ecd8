//! The part of the source stage for headers a fix changes: their changed
//! `static inline` functions are followed into every file of the target
//! that uses them, and each such file is compiled with the patched header
//! to see which of its functions change.

use super::fix::Trees;
use crate::check::model::{Model, PatchedSource, UpstreamFix};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{Origin, SourceMap};
use crate::source_tree::apply_fix::AppliedFile;
use crate::source_tree::derive::{derive, Derived};
use crate::source_tree::header_overlay::{include_root, ChangedHeader};
use crate::source_tree::header_users::{header_users, UserSearch, MOST_USERS};
use std::path::Path;

/// What the fix's headers give: the headers, to compile with, and their
/// changed functions, to follow into the files that use them.
#[derive(Debug, Default)]
pub struct HeaderFix {
    pub headers: Vec<ChangedHeader>,
    pub functions: Vec<String>,
}

/// Reads each patched header, refusing what kgpc cannot follow.
pub fn read_headers(
    fix: &mut UpstreamFix,
    headers: Vec<AppliedFile>,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> HeaderFix {
    let mut out = HeaderFix::default();
    for file in headers {
        let patched_text = file.applied.text;
        let patched = sources.add(
            format!("{} (patched)", file.path),
            patched_text.clone(),
            Origin::Memory,
        );
        let source = PatchedSource {
            path: file.path,
            original: file.original,
            patched_text,
            patched,
        };
        let derived = derive(&source.path, &source.original, &source.patched_text);
        super::fix::report_derived(&source, &derived, sources, diagnostics);
        if derived.refusals.is_empty() && !derived.header_functions.is_empty() {
            if include_root(&source.path).is_none() {
                diagnostics.push(private_header(&source, &derived.header_functions));
            }
            out.functions
                .extend(derived.header_functions.iter().cloned());
            out.headers.push(ChangedHeader {
                path: source.path.clone(),
                original: source.original.clone(),
                patched: source.patched_text.clone(),
            });
        }
        fix.files.push(source);
    }
    out
}

/// The error for a changed header of a source directory, at the first of
/// its changed functions.
fn private_header(source: &PatchedSource, functions: &[String]) -> Diagnostic {
    let path = &source.path;
    let range = crate::c::top_level::top_level_items(&source.patched_text)
        .into_iter()
        .find(|item| item.name.as_ref().is_some_and(|n| functions.contains(n)))
        .map_or(0..0, |item| item.text_range);
    Diagnostic::error(
        Code::FixNotDerived,
        format!("the fix changes `static inline` functions of `{path}`, a header of its directory"),
    )
    .at(
        crate::source::Span::new(source.patched, range.start, range.end),
        "changed by the fix",
    )
    .with_help("kgpc follows the changed functions of the kernel's include directories (`include/`, `arch/x86/include/`) into the files that use them, not yet those of a directory's own headers; change the functions that use it in their `.c` files")
}

/// Compiles each file of the target that uses a changed header function
/// and is not changed by the fix itself, and adds what changed in it.
pub fn add_users(
    model: &mut Model,
    fix: &mut UpstreamFix,
    trees: &Trees,
    vmlinux: Option<&Path>,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> Vec<Derived> {
    let kernel = vmlinux.and_then(|path| {
        crate::kernel::Kernel::open(
            path,
            &crate::kernel::OpenOptions {
                cache_dir: Some(crate::fetch::cache_dir()),
                ..Default::default()
            },
        )
        .ok()
    });
    let order = trees
        .build
        .as_ref()
        .and_then(|build| modules_order(build, &model.target.release));
    let search = header_users(
        &trees.header_functions,
        kernel.as_ref(),
        order.as_deref(),
        &trees.source,
        Some(&trees.views),
    );
    let users: Vec<String> = search
        .files
        .iter()
        .filter(|path| !fix.files.iter().any(|f| &f.path == *path))
        .cloned()
        .collect();
    diagnostics.push(search_note(
        fix,
        &search,
        &trees.header_functions,
        order.is_some(),
    ));
    if users.len() > MOST_USERS {
        diagnostics.push(too_many_users(fix, &users));
        return Vec::new();
    }
    let mut derived = Vec::new();
    for path in users {
        let Ok(bytes) = crate::read::read_regular(&trees.source.join(&path), 16 << 20) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        derived.push(super::fix::add_file(
            model,
            fix,
            trees,
            super::fix::FileText {
                path,
                original: text.clone(),
                patched: text,
                if_built: true,
            },
            sources,
            diagnostics,
        ));
    }
    derived
}

/// The build's `modules.order`, in the image's module directory next to the build tree.
fn modules_order(build: &Path, release: &str) -> Option<std::path::PathBuf> {
    let root = build.ancestors().find(|a| a.join("lib/modules").is_dir())?;
    let order = root.join("lib/modules").join(release).join("modules.order");
    order.is_file().then_some(order)
}

/// The note that says where users of the header's functions were looked for.
fn search_note(
    fix: &UpstreamFix,
    search: &UserSearch,
    functions: &[String],
    modules: bool,
) -> Diagnostic {
    let names: Vec<String> = functions.iter().map(|f| format!("`{f}`")).collect();
    let mut d = Diagnostic::note(
        Code::FixFollowsHeader,
        format!(
            "the fix changes the header function{} {}, used by {}",
            if functions.len() == 1 { "" } else { "s" },
            crate::check::name_list::name_list(&names, 5),
            if search.files.is_empty() {
                "no file kgpc found".to_string()
            } else {
                crate::check::name_list::name_list(&search.files, 8)
            }
        ),
    )
    .at(fix.span, "the fix");
    d = d.with_note(match (search.vmlinux_read, modules) {
        (true, true) => format!("looked for in vmlinux's debug information and in the {} `.c` files of the modules' directories; each file found that kbuild builds is compiled with the patched header and only the functions whose code changes are replaced", search.module_files_read),
        (true, false) => "looked for in vmlinux's debug information only: the build's modules.order was not found, so modules that use it are not patched".to_string(),
        (false, true) => format!("looked for in the {} `.c` files of the modules' directories only: without the debug vmlinux, files built into vmlinux that use it are not found", search.module_files_read),
        (false, false) => "kgpc had neither the debug vmlinux nor the build's modules.order to look in".to_string(),
    });
    d
}

fn too_many_users(fix: &UpstreamFix, users: &[String]) -> Diagnostic {
    Diagnostic::error(
        Code::FixNotDerived,
        format!(
            "the fix's header functions are used by {} files, more than the {MOST_USERS} kgpc follows a header into",
            users.len()
        ),
    )
    .at(fix.span, "the fix")
    .with_note(format!("the files: {}", crate::check::name_list::name_list(users, 10)))
    .with_help("a change that reaches this much of the kernel is a change for a new kernel; if a live patch must carry it, replace the functions that matter in the spec")
}
