//! How a failed build reads: make's output with the spec's files named as
//! the user sees them, gcc's messages about the spec turned into diagnostics
//! at its lines, and undefined symbols explained from the kernel's objects.

use super::session::Session;
use crate::build::kbuild::{CompilerMessage, MakeError};
use crate::build::BuildFailure;
use crate::check::body_symbols;
use crate::check::kernel_rules::find_vmlinux;
use crate::check::Model;
use crate::cli::SpecArgs;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::kernel::{locate, Kernel, OpenOptions};
use crate::source::Span;
use std::path::{Path, PathBuf};

/// The objects that may define a module's undefined symbols: the modules the
/// spec patches, then vmlinux. They are read even under `--no-kernel-checks`:
/// this only explains an error the build found.
fn open_kernels(session: &Session, model: &Model, args: &SpecArgs) -> Vec<Kernel> {
    let cache_dir = crate::fetch::cache_dir();
    let release = &model.target.release;
    let vmlinux = session
        .compiled
        .coverage
        .vmlinux
        .as_ref()
        .map(|checked| std::path::PathBuf::from(&checked.file))
        .or_else(|| find_vmlinux(args.vmlinux.as_deref(), Some(release), &cache_dir));
    let options = |name: &str| OpenOptions {
        cache_dir: Some(cache_dir.clone()),
        progress: false,
        object_name: Some(name.to_string()),
        btf_base: (name != "vmlinux").then(|| vmlinux.clone()).flatten(),
    };
    let mut kernels = Vec::new();
    for object in &model.objects {
        let Some(name) = &object.module else {
            continue;
        };
        if let Ok(found) = locate::module_object(name, release, args.modules.as_deref(), &cache_dir)
        {
            kernels.extend(Kernel::open(&found.path, &options(name)).ok());
        }
    }
    if let Some(path) = &vmlinux {
        kernels.extend(Kernel::open(path, &options("vmlinux")).ok());
    }
    kernels
}

/// One KGP0204 per undefined symbol of `module`: where the spec uses it, which
/// object defines it and the declaration to add, as far as `kernels` tell.
fn undefined_diagnostics(
    module: &Path,
    names: &[String],
    kernels: &[&Kernel],
    model: Option<&Model>,
) -> Vec<Diagnostic> {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let files = body_symbols::inline_files(kernels, &refs);
    let module_name = module
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let read: Vec<String> = kernels.iter().map(|k| k.object_name.clone()).collect();
    names
        .iter()
        .map(|name| {
            let origin = body_symbols::find(kernels, name, true, &files);
            let message = match &origin {
                Some(o) => format!("{module_name} uses `{name}`, which {} does not export", o.object()),
                None => format!("{module_name} uses `{name}`, which no export of the kernel provides"),
            };
            let mut d = Diagnostic::error(Code::UndefinedSymbol, message);
            if let Some(span) = model.and_then(|m| body_symbols::first_use(m, name)) {
                d = d.at(span, "used here");
            }
            d = match &origin {
                Some(o) => d.with_note(o.note(name)),
                None if read.is_empty() => d.with_note(
                    "without the target's debug vmlinux kgpc cannot tell which object defines it (`kgpc kernel fetch RELEASE` fetches Debian's)",
                ),
                None => d.with_note(format!("neither {} defines it without exporting it", read.join(" nor "))),
            };
            d = d.with_note("the module loader would refuse the module with \"Unknown symbol\"");
            match &origin {
                Some(o) => d.with_help(o.help(name)),
                None => d.with_help(
                    "declare it with `extern` inside the `object` that defines it (vmlinux or its module), \
                     so that kgpc turns the references into livepatch relocations",
                ),
            }
        })
        .collect()
}

/// Reports a failed build: the build's output, then diagnostics. `spec` is
/// the model built and the arguments it was compiled with, when the module
/// is a spec's; its kernel objects then explain undefined symbols.
pub(crate) fn report_failure(
    session: &mut Session,
    dir: &Path,
    kdir: &Path,
    failure: BuildFailure,
    spec: Option<(&Model, &SpecArgs)>,
) -> Error {
    let diagnostic = match failure {
        BuildFailure::Make(MakeError::NoMake) => Diagnostic::error(
            Code::MissingTool,
            "`make` is not installed; the kernel's build system needs it",
        )
        .with_help(
            "install make and the kernel's compiler (on Debian 12: apt-get install make gcc-12)",
        ),
        BuildFailure::Make(MakeError::Io(e)) => {
            Diagnostic::error(Code::KernelBuildFailed, format!("cannot run make: {e}"))
        }
        BuildFailure::Failed(make) => {
            print_log(dir, &make.log);
            let mapped = map_compiler_messages(session, dir, &make.log, true);
            let missing_gcc = make.log.contains("gcc-12: No such file")
                || make.log.contains("gcc-12: not found")
                || make.log.contains("gcc: not found");
            let mut diagnostic = Diagnostic::error(
                Code::KernelBuildFailed,
                format!(
                    "the kernel build failed (make -C {} M={} modules)",
                    kdir.display(),
                    dir.display()
                ),
            );
            if missing_gcc {
                diagnostic = diagnostic.with_help(
                    "the kernel's compiler is missing: install the gcc version the kernel was built with (gcc-12 for Debian 12)",
                );
            } else if mapped == 0 {
                diagnostic = diagnostic.with_note("the build's output is above");
            } else {
                diagnostic =
                    diagnostic.with_note(format!("{mapped} compiler error(s) point at the spec"));
            }
            diagnostic
        }
        BuildFailure::NoModule(make) => {
            print_log(dir, &make.log);
            Diagnostic::error(
                Code::KernelBuildFailed,
                format!("make succeeded but left no .ko in {}", dir.display()),
            )
        }
        BuildFailure::Undefined {
            module,
            names,
            make,
        } => {
            print_log(dir, &make.log);
            let kernels = spec
                .map(|(model, args)| open_kernels(session, model, args))
                .unwrap_or_default();
            let kernels: Vec<&Kernel> = kernels.iter().collect();
            let model = spec.map(|(model, _)| model);
            for d in undefined_diagnostics(&module, &names, &kernels, model) {
                session.push(d);
            }
            return session.fail(Error::Build, "build the module");
        }
        BuildFailure::Klp {
            module,
            error,
            make,
        } => {
            print_log(dir, &make.log);
            Diagnostic::error(
                Code::KlpConversionFailed,
                format!("cannot convert {}: {error}", module.display()),
            )
        }
        BuildFailure::Io(message) => Diagnostic::error(Code::KernelBuildFailed, message),
    };
    session.push(diagnostic);
    session.fail(Error::Build, "build the module")
}

/// Prints a build log to standard error, naming files relative to where the user is.
fn print_log(dir: &Path, log: &str) {
    let dir_shown = dir.display().to_string();
    for line in log.lines() {
        // gcc names the spec as the #line directives do: relative to the output directory.
        if line.starts_with("../") || line.starts_with("livepatch-") {
            crate::errln!("{}", shown_path(&Path::new(&dir_shown).join(line)));
        } else {
            crate::errln!("{line}");
        }
    }
}

/// A path joined with `..` parts, normalised and relative to the current directory if below it.
fn shown_path(path: &Path) -> String {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = if out.is_absolute() {
        out
    } else {
        cwd.join(out)
    };
    absolute
        .strip_prefix(&cwd)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| absolute.display().to_string())
}

/// Turns gcc's errors (or warnings) about spec files into diagnostics at the spec's lines;
/// returns how many it mapped.
pub(crate) fn map_compiler_messages(
    session: &mut Session,
    dir: &Path,
    log: &str,
    errors: bool,
) -> usize {
    let names = session.path_names(dir);
    let ids: Vec<_> = session.compiled.sources.ids().collect();
    let mut mapped = 0;
    for message in crate::build::kbuild::compiler_messages(log) {
        if message.error != errors {
            continue;
        }
        let Some(index) = names.iter().position(|(_, shown)| *shown == message.file) else {
            continue;
        };
        let Some(span) = line_span(session, ids[index], &message) else {
            continue;
        };
        let code = if errors {
            Code::CompilerError
        } else {
            Code::CompilerWarning
        };
        let text = format!("C compiler: {}", message.text);
        let diagnostic = if errors {
            Diagnostic::error(code, text)
        } else {
            Diagnostic::warning(code, text)
        };
        session.push(diagnostic.at(span, "here"));
        mapped += 1;
    }
    mapped
}

/// Turns gcc's errors about a program the test builds for the guest, whose
/// C file is `file` and was compiled as `compiled_as`, into diagnostics at
/// its lines; returns how many it placed.
pub(crate) fn map_program_messages(
    session: &mut Session,
    file: crate::source::FileId,
    compiled_as: &str,
    log: &str,
) -> usize {
    let mut placed = 0;
    for message in crate::build::kbuild::compiler_messages(log) {
        if !message.error || message.file != compiled_as {
            continue;
        }
        let Some(span) = line_span(session, file, &message) else {
            continue;
        };
        let text = format!("C compiler: {}", message.text);
        session.push(Diagnostic::error(Code::GuestProgramFailed, text).at(span, "here"));
        placed += 1;
    }
    placed
}

/// The text of line `message.line` of a source file, without its indentation.
fn line_span(
    session: &Session,
    id: crate::source::FileId,
    message: &CompilerMessage,
) -> Option<Span> {
    let text = session.compiled.sources.text(id);
    let mut start = 0;
    for _ in 1..message.line {
        start += text[start..].find('\n')? + 1;
    }
    let end = start + text[start..].find('\n').unwrap_or(text.len() - start);
    let line = &text[start..end];
    let indent = line.len() - line.trim_start().len();
    let content_end = start + line.trim_end().len();
    Some(Span::new(
        id,
        (start + indent).min(content_end),
        content_end,
    ))
}
