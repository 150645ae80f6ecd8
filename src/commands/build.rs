//! `kgpc build`: compile a spec and build the module with the kernel's build system.

use super::session::{Outcome, Session};
use crate::build::kbuild::{find_kdir, CompilerMessage, MakeError};
use crate::build::{build_module, BuildFailure, Built};
use crate::check::body_symbols;
use crate::check::kernel_rules::find_vmlinux;
use crate::check::Model;
use crate::cli::{BuildArgs, MessageFormat, SpecArgs};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::kernel::{locate, Kernel, OpenOptions};
use crate::source::Span;
use std::path::{Path, PathBuf};

pub fn build(args: &BuildArgs) -> Result<(), Error> {
    let mut session = Session::new(args.spec.message_format);
    let request = BuildRequest {
        spec: &args.spec,
        output: args.output.clone(),
        force: args.force,
        kdir: args.kdir.as_deref(),
        extra_symbols: args.symvers.clone(),
    };
    match compile_and_build(&mut session, &request) {
        Ok(spec) => {
            session.report("build the module");
            session.finish(&Outcome {
                command: "build",
                module: Some(&spec.module),
            });
            if args.spec.message_format == MessageFormat::Human {
                crate::errln!(
                    "{}\n  {}",
                    spec.summary(),
                    session.compiled.coverage.describe()
                );
            }
            Ok(())
        }
        Err(error) => {
            session.finish(&Outcome {
                command: "build",
                module: None,
            });
            Err(error)
        }
    }
}

pub(crate) struct BuildRequest<'a> {
    pub spec: &'a SpecArgs,
    pub output: Option<PathBuf>,
    pub force: bool,
    pub kdir: Option<&'a Path>,
    /// `Module.symvers` files of out-of-tree modules, for modpost and the conversion.
    pub extra_symbols: Vec<PathBuf>,
}

/// A spec built into a module.
pub(crate) struct BuiltSpec {
    pub model: Model,
    pub kdir: PathBuf,
    pub module: PathBuf,
    pub built: Built,
}

impl BuiltSpec {
    pub fn summary(&self) -> String {
        let mut text = format!(
            "Built {} for {} in {:.1} s: {}",
            self.model.patch.module_name,
            self.model.target.release,
            self.built.make.elapsed.as_secs_f64(),
            self.module.display()
        );
        if let Some(conversion) = &self.built.conversion {
            let relocations: usize = conversion.sections.iter().map(|(_, n)| n).sum();
            let symbols: Vec<String> = conversion
                .converted
                .iter()
                .map(|s| format!("{}:{}", s.object, s.name))
                .collect();
            if !conversion.records.is_empty() || !symbols.is_empty() {
                text.push_str(&format!(
                    "\n  {relocations} livepatch relocation(s) in {} section(s) for {}",
                    conversion.sections.len(),
                    if symbols.is_empty() {
                        "no symbol (the declared externs are not used)".to_string()
                    } else {
                        symbols.join(", ")
                    }
                ));
            }
            if !conversion.dropped_depends.is_empty() {
                text.push_str(&format!(
                    "\n  no longer depends on the patched {}",
                    conversion.dropped_depends.join(", ")
                ));
            }
        }
        text
    }
}

/// Compiles the spec the request names and builds it. On failure the
/// diagnostics have been reported.
pub(crate) fn compile_and_build(
    session: &mut Session,
    request: &BuildRequest,
) -> Result<BuiltSpec, Error> {
    let Some(model) = session.compile(request.spec) else {
        return Err(session.fail(Error::Spec, "build the module"));
    };
    build_spec(session, model, request)
}

/// Writes a checked spec's module and builds it. On failure the diagnostics
/// have been reported.
pub(crate) fn build_spec(
    session: &mut Session,
    model: Model,
    request: &BuildRequest,
) -> Result<BuiltSpec, Error> {
    let release = model.target.release.clone();
    let kdir = find_kdir(&release, request.kdir).map_err(|tried| {
        let error = Error::NoBuildTree {
            release,
            tried,
            span: model.target.span,
        };
        session.fail(error, "build the module")
    })?;
    let written =
        super::compile::write_module(session, &model, request.output.as_deref(), request.force)?;
    let dir = written.dir;
    match build_module(&kdir, &dir, &request.extra_symbols) {
        Ok(built) => {
            map_compiler_messages(session, &dir, &built.make.log, false);
            let module = dir.join(format!("{}.ko", model.patch.module_name));
            Ok(BuiltSpec {
                model,
                kdir,
                module,
                built,
            })
        }
        Err(BuildFailure::Undefined {
            module,
            names,
            make,
        }) => {
            print_log(&dir, &make.log);
            let kernels = open_kernels(session, &model, request.spec);
            let kernels: Vec<&Kernel> = kernels.iter().collect();
            for d in undefined_diagnostics(&module, &names, &kernels, Some(&model)) {
                session.push(d);
            }
            Err(session.fail(Error::Build, "build the module"))
        }
        Err(failure) => Err(report_failure(session, &dir, &kdir, failure)),
    }
}

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
pub(crate) fn undefined_diagnostics(
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

/// Reports a failed build: the build's output, then diagnostics.
pub(crate) fn report_failure(
    session: &mut Session,
    dir: &Path,
    kdir: &Path,
    failure: BuildFailure,
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
            for d in undefined_diagnostics(&module, &names, &[], None) {
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
fn map_compiler_messages(session: &mut Session, dir: &Path, log: &str, errors: bool) -> usize {
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
