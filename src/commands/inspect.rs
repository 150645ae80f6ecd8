//! `kgpc inspect`: what the kernel facts say about functions, before a spec
//! is written.

use super::session::Session;
use crate::cli::{FactsFormat, InspectArgs, MessageFormat};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::fetch::cache_dir;
use crate::kernel::census::Census;
use crate::kernel::module_name::kernel_module_name;
use crate::kernel::{locate, FunctionFacts, Kernel, OpenOptions};
use crate::pipeline::release::{release_candidates, running_release};
use crate::vm::census::Outcome;
use std::path::PathBuf;

/// Prints the facts of the functions asked for; every problem is a
/// diagnostic with its code, as in `kgpc check`.
pub fn inspect(args: &InspectArgs) -> Result<(), Error> {
    let mut session = Session::new(MessageFormat::Human);
    match run(args, &mut session) {
        Ok(()) => {
            session.report("inspect the kernel");
            Ok(())
        }
        Err(error) => Err(session.fail(error, "inspect the kernel")),
    }
}

fn run(args: &InspectArgs, session: &mut Session) -> Result<(), Error> {
    let path = vmlinux_path(&args.vmlinux, &args.release)?;
    let options = OpenOptions {
        cache_dir: Some(cache_dir()),
        progress: true,
        object_name: None,
        btf_base: None,
    };
    let vmlinux = Kernel::open(&path, &options).map_err(|error| Error::Unreadable {
        module: false,
        error,
    })?;
    let release = vmlinux.meta().release.clone();
    let build_id = vmlinux.meta().build_id.clone();
    let kernel = match &args.module {
        None => vmlinux,
        Some(name) => open_module(session, args, name, &vmlinux, path, options)?,
    };
    session
        .compiled
        .diagnostics
        .extend(crate::check::kernel_rules::damaged(&kernel));
    let outcome = crate::vm::census::obtain(&crate::vm::census::Request::new(
        release.unwrap_or_default(),
        build_id,
        cache_dir(),
        running_release(),
    ));
    let census = census_or_warning(session, &outcome);
    let mut all: Vec<FunctionFacts> = Vec::new();
    let mut missing = Vec::new();
    for name in &args.functions {
        let found = kernel.function_facts(name, census);
        if found.is_empty() {
            missing.push(name.clone());
        }
        all.extend(found);
    }
    print_facts(&all, args.format);
    for name in &missing {
        session.push(Diagnostic::error(
            Code::FunctionNotFound,
            not_found(&kernel, name),
        ));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Spec)
    }
}

/// The object of module `name` of the vmlinux's release, read with the
/// vmlinux (at `vmlinux_path`) as its BTF base.
fn open_module(
    session: &mut Session,
    args: &InspectArgs,
    name: &str,
    vmlinux: &Kernel,
    vmlinux_path: PathBuf,
    options: OpenOptions,
) -> Result<Kernel, Error> {
    let release = vmlinux.meta().release.clone().unwrap_or_default();
    let found = locate::module_object(name, &release, args.modules.as_deref(), &cache_dir())
        .map_err(|dirs| Error::ModuleNotFound {
            name: name.to_string(),
            dirs,
        })?;
    if let Some(note) = &found.note {
        session.push(Diagnostic::note(Code::ModuleWithoutDebugInfo, note.clone()));
    }
    let options = OpenOptions {
        object_name: Some(kernel_module_name(name)),
        btf_base: Some(vmlinux_path),
        ..options
    };
    Kernel::open(&found.path, &options).map_err(|error| Error::Unreadable {
        module: true,
        error,
    })
}

/// The census of tasks at rest, or a warning that there is none.
fn census_or_warning<'a>(session: &mut Session, outcome: &'a Outcome) -> Option<&'a Census> {
    match outcome {
        Outcome::Found(c) => Some(c),
        Outcome::Unavailable { why, help } => {
            session.push(
                Diagnostic::warning(
                    Code::CensusUnavailable,
                    "no census of tasks at rest: kernel threads that rest in these functions were not looked for",
                )
                .with_note(why.clone())
                .with_help(help.clone()),
            );
            None
        }
    }
}

fn print_facts(all: &[FunctionFacts], format: FactsFormat) {
    match format {
        FactsFormat::Json => {
            crate::outln!(
                "{}",
                serde_json::to_string_pretty(all).unwrap_or_else(|_| "[]".into())
            );
        }
        FactsFormat::Human => {
            for f in all {
                crate::out!("{}", human(f));
            }
        }
    }
}

/// Why `name` has no facts: only clones, only inlined copies, or a near name.
fn not_found(kernel: &Kernel, name: &str) -> String {
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
    line
}

/// `--vmlinux`, else the first debug vmlinux found for `--release` or the
/// releases this machine knows.
/// The debug vmlinux given, else the one of `release`, else of the running
/// kernel or a cached one.
pub(super) fn vmlinux_path(
    vmlinux: &Option<PathBuf>,
    release: &Option<String>,
) -> Result<PathBuf, Error> {
    if let Some(p) = vmlinux {
        return Ok(p.clone());
    }
    let releases: Vec<(String, String)> = match release {
        Some(r) => vec![(r.clone(), "given with --release".into())],
        None => release_candidates(),
    };
    for (release, _) in &releases {
        if let Some(p) = locate::find_vmlinux(release, &cache_dir()) {
            return Ok(p);
        }
    }
    Err(Error::NoVmlinux {
        tried: releases.into_iter().map(|(r, _)| r).collect(),
    })
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
