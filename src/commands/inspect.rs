//! `kgpc inspect`: what the kernel facts say about functions, before a spec
//! is written.

use super::session::{cache_dir, release_candidates, running_release, Session};
use super::{EXIT_OK, EXIT_SPEC_ERRORS, EXIT_USAGE};
use crate::cli::{InspectArgs, InspectFormat, MessageFormat};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::kernel::module_name::kernel_module_name;
use crate::kernel::{locate, FunctionFacts, Kernel, OpenOptions};
use crate::vm::census::Outcome;
use std::path::PathBuf;

/// Prints the facts of the functions asked for; every problem is a
/// diagnostic with its code, as in `kgpc check`.
pub fn inspect(args: &InspectArgs) -> i32 {
    let mut session = Session::new(MessageFormat::Human);
    let status = run(args, &mut session);
    session.report("inspect the kernel");
    status
}

fn run(args: &InspectArgs, session: &mut Session) -> i32 {
    let path = match vmlinux_path(args) {
        Ok(p) => p,
        Err(why) => {
            session
                .diagnostics
                .push(Diagnostic::error(Code::KernelUnreadable, why).with_help(
                    "pass --vmlinux PATH, or fetch Debian's with `kgpc kernel fetch RELEASE`",
                ));
            return EXIT_USAGE;
        }
    };
    let options = OpenOptions {
        cache_dir: Some(cache_dir()),
        progress: true,
        object_name: None,
        btf_base: None,
    };
    let vmlinux = match Kernel::open(&path, &options) {
        Ok(k) => k,
        Err(e) => {
            session.diagnostics.push(
                Diagnostic::error(
                    Code::KernelUnreadable,
                    format!("cannot read the kernel: {e}"),
                )
                .with_help("pass the target's debug vmlinux, as Debian's -dbg package has it"),
            );
            return EXIT_SPEC_ERRORS;
        }
    };
    let vmlinux_release = vmlinux.meta().release.clone();
    let vmlinux_build_id = vmlinux.meta().build_id.clone();
    let kernel = match &args.module {
        None => vmlinux,
        Some(name) => {
            let release = vmlinux.meta().release.clone().unwrap_or_default();
            let found = match locate::module_object(
                name,
                &release,
                args.modules.as_deref(),
                &cache_dir(),
            ) {
                Ok(found) => found,
                Err(dirs) => {
                    let dirs: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
                    session.diagnostics.push(
                        Diagnostic::error(
                            Code::ModuleNotFound,
                            format!("no object of module `{name}` in {}", dirs.join(", ")),
                        )
                        .with_help(
                            "pass the directory holding the module's .ko with --modules DIR",
                        ),
                    );
                    return EXIT_SPEC_ERRORS;
                }
            };
            if let Some(note) = &found.note {
                session
                    .diagnostics
                    .push(Diagnostic::note(Code::ModuleWithoutDebugInfo, note.clone()));
            }
            let found = found.path;
            match Kernel::open(
                &found,
                &OpenOptions {
                    object_name: Some(kernel_module_name(name)),
                    btf_base: Some(path.clone()),
                    ..options
                },
            ) {
                Ok(k) => k,
                Err(e) => {
                    session.diagnostics.push(Diagnostic::error(
                        Code::KernelUnreadable,
                        format!("cannot read the module: {e}"),
                    ));
                    return EXIT_SPEC_ERRORS;
                }
            }
        }
    };
    session
        .diagnostics
        .extend(crate::check::kernel_rules::damaged(&kernel));
    let outcome = crate::vm::census::obtain(&crate::vm::census::Request::new(
        vmlinux_release.unwrap_or_default(),
        vmlinux_build_id,
        cache_dir(),
        running_release(),
    ));
    let census = match &outcome {
        Outcome::Found(c) => Some(c),
        Outcome::Unavailable { why, help } => {
            session.diagnostics.push(
                Diagnostic::warning(
                    Code::CensusUnavailable,
                    "no census of tasks at rest: kernel threads that rest in these functions were not looked for",
                )
                .with_note(why.clone())
                .with_help(help.clone()),
            );
            None
        }
    };
    let mut all: Vec<FunctionFacts> = Vec::new();
    let mut missing = Vec::new();
    for name in &args.functions {
        let found = kernel.function_facts(name, census);
        if found.is_empty() {
            missing.push(name.clone());
        }
        all.extend(found);
    }
    match args.format {
        InspectFormat::Json => {
            crate::outln!(
                "{}",
                serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".into())
            );
        }
        InspectFormat::Human => {
            for f in &all {
                crate::out!("{}", human(f));
            }
        }
    }
    for name in &missing {
        let suggestions = kernel.index().suggestions(name, 3);
        let inlined = kernel.index().inlined_into(name);
        let mut line = format!(
            "no function `{name}` in {} ({})",
            kernel.object_name,
            kernel.path.display()
        );
        let clones: Vec<String> = kernel
            .index()
            .symbols_with_prefix(&format!("{name}."))
            .into_iter()
            .filter(|c| crate::kernel::facts::is_clone_of(c, name))
            .collect();
        if !clones.is_empty() {
            line.push_str(&format!(
                "; the compiler emitted only clones: {}",
                clones.join(", ")
            ));
        } else if !inlined.is_empty() {
            line.push_str(&format!(
                "; it exists only inlined, into {}",
                inlined.join(", ")
            ));
        } else if !suggestions.is_empty() {
            line.push_str(&format!("; did you mean {}?", suggestions.join(", ")));
        }
        session
            .diagnostics
            .push(Diagnostic::error(Code::FunctionNotFound, line));
    }
    if missing.is_empty() {
        EXIT_OK
    } else {
        EXIT_SPEC_ERRORS
    }
}

fn vmlinux_path(args: &InspectArgs) -> Result<PathBuf, String> {
    if let Some(p) = &args.vmlinux {
        return Ok(p.clone());
    }
    let mut releases: Vec<(String, String)> = Vec::new();
    if let Some(r) = &args.release {
        releases.push((r.clone(), "given with --release".into()));
    } else {
        releases = release_candidates();
    }
    for (release, _) in &releases {
        if let Some(p) = locate::find_vmlinux(release, &cache_dir()) {
            return Ok(p);
        }
    }
    let tried: Vec<String> = releases.iter().map(|(r, _)| r.clone()).collect();
    Err(format!(
        "no debug vmlinux found for {}; pass --vmlinux PATH (`kgpc kernel fetch RELEASE` fetches Debian's)",
        if tried.is_empty() {
            "any release".to_string()
        } else {
            tried.join(", ")
        }
    ))
}

fn human(f: &FunctionFacts) -> String {
    let mut out = format!("{} ({}", f.name, f.object);
    if f.same_name > 1 {
        out.push_str(&format!(", sympos {} of {}", f.sympos, f.same_name));
    }
    out.push_str(")\n");
    let mut line = |k: &str, v: String| out.push_str(&format!("  {k:<13}{v}\n"));
    line("address", format!("{} size {}", f.address, f.size));
    if let Some(file) = &f.file {
        line("file", file.clone());
    }
    if let Some(d) = &f.decl_file {
        line("declared in", d.clone());
    }
    line(
        "binding",
        format!(
            "{}{}",
            if f.local { "local" } else { "global" },
            if f.exported { ", exported" } else { "" }
        ),
    );
    line(
        "patchable",
        match &f.reason {
            None => "yes".into(),
            Some(r) => format!("no: {r}"),
        },
    );
    if let Some(p) = &f.prototype {
        line("prototype", p.clone());
    }
    if !f.clones.is_empty() {
        line("clones", f.clones.join(", "));
    }
    if !f.inlined_into.is_empty() {
        line(
            "inlined into",
            format!(
                "{} functions: {}",
                f.inlined_into.len(),
                f.inlined_into.join(", ")
            ),
        );
    }
    if let Some(w) = &f.always_on_stack {
        line("transition", format!("may never complete: {w}"));
    }
    out
}
