//! One run over one spec: load, check, report. Shared by `check` and `compile`.

use crate::check::coverage::Coverage;
use crate::check::release::ReleaseRequest;
use crate::check::{kernel_rules, lower, LowerOptions, Model};
use crate::cli::{MessageFormat, SpecArgs};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics, Severity};
use crate::load::{load, refusal_or, Input};
use crate::read::{read_limited, text_of, ReadError, TEXT_LIMIT};
use crate::render;
use crate::scope::ReadScope;
use crate::source::{Origin, SourceMap};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use serde::Serialize;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

pub struct Session {
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
    pub format: MessageFormat,
    /// What the last spec was checked against, or why it was not.
    pub coverage: Coverage,
    /// The last spec's module name, release and where the release came from.
    pub target: Option<(String, String, String)>,
    /// The files the run wrote, as paths.
    pub written: Vec<String>,
}

/// How a command ended, for the JSON summary record.
pub struct Outcome<'a> {
    pub command: &'a str,
    /// The built `.ko`, for `kgpc build`.
    pub module: Option<&'a Path>,
}

/// The last JSON record of a run: what was checked against what and written.
#[derive(Serialize)]
struct Summary<'a> {
    command: &'a str,
    status: &'a str,
    errors: usize,
    warnings: usize,
    patch: Option<&'a str>,
    release: Option<&'a str>,
    release_source: Option<&'a str>,
    /// Every object of the spec was checked against a kernel file.
    checked: bool,
    kernel_checks: &'a Coverage,
    files: &'a [String],
    module: Option<String>,
}

impl Session {
    pub fn new(format: MessageFormat) -> Self {
        Session {
            sources: SourceMap::new(),
            diagnostics: Diagnostics::default(),
            format,
            coverage: Coverage::skipped("the spec was not checked"),
            target: None,
            written: Vec::new(),
        }
    }

    /// Prints the summary record last, with `--message-format json`.
    pub fn finish(&self, outcome: &Outcome) {
        if self.format != MessageFormat::Json {
            return;
        }
        let count = |severity: Severity| {
            self.diagnostics
                .iter()
                .filter(|d| d.severity == severity)
                .count()
        };
        let errors = count(Severity::Error);
        let target = self.target.as_ref();
        let summary = Summary {
            command: outcome.command,
            status: if errors > 0 { "error" } else { "ok" },
            errors,
            warnings: count(Severity::Warning),
            patch: target.map(|t| t.0.as_str()),
            release: target.map(|t| t.1.as_str()),
            release_source: target.map(|t| t.2.as_str()),
            checked: self.coverage.complete(),
            kernel_checks: &self.coverage,
            files: &self.written,
            module: outcome.module.map(|m| m.display().to_string()),
        };
        crate::outln!("{}", serde_json::json!({ "summary": summary }));
    }

    /// Loads and checks the spec; the model is `None` when there were errors.
    pub fn check(&mut self, args: &SpecArgs) -> Option<Model> {
        let stdin = args.spec.as_os_str() == "-";
        let scope = match ReadScope::new((!stdin).then_some(args.spec.as_path()), &args.allow_path)
        {
            Ok(scope) => scope,
            Err((place, message)) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        Code::UnreadableFile,
                        format!("cannot resolve `{}`: {message}", place.display()),
                    )
                    .with_help("`--allow-path` names an existing directory or file, and the spec's directory must exist"),
                );
                return None;
            }
        };
        let input = if stdin {
            match read_stdin() {
                Ok(text) => Input::Text {
                    name: "<stdin>",
                    text,
                },
                Err(error) => {
                    self.diagnostics.push(Diagnostic::error(
                        refusal_or(&error, Code::UnreadableFile),
                        format!("cannot read the spec from standard input: {error}"),
                    ));
                    return None;
                }
            }
        } else {
            Input::Path(&args.spec)
        };
        let loaded = load(input, scope, &mut self.sources, &mut self.diagnostics)?;
        let mut candidates = release_candidates();
        // Given a vmlinux, the release its banner names comes before the
        // machine's; --release and a spec's only literal release still win.
        if let (Some(path), None, false) = (&args.vmlinux, &args.release, args.no_kernel_checks) {
            if let Some(release) = crate::kernel::elf::release_of_file(path) {
                candidates.insert(0, (release, format!("the banner of {}", path.display())));
            }
        }
        let request = ReleaseRequest {
            explicit: args.release.clone(),
            candidates,
        };
        // The kernel checks run when there is a vmlinux: `--vmlinux`, or the
        // debug vmlinux of the release the spec resolves to.
        let release = spec_release(&loaded, &request);
        let vmlinux = (!args.no_kernel_checks)
            .then(|| {
                kernel_rules::find_vmlinux(
                    args.vmlinux.as_deref(),
                    release.as_deref(),
                    &cache_dir(),
                )
            })
            .flatten();
        self.coverage = Coverage::skipped(match (&vmlinux, &release) {
            _ if args.no_kernel_checks => "--no-kernel-checks was given".to_string(),
            (Some(_), _) => "the spec has errors, so it was not checked against the kernel".to_string(),
            (None, Some(release)) => format!("no debug vmlinux found for {release} (pass --vmlinux PATH, or fetch it with `kgpc kernel fetch {release}`)"),
            (None, None) => "no release was resolved, so no debug vmlinux was looked for".to_string(),
        });
        let options = LowerOptions {
            release: request,
            prototypes_from_kernel: vmlinux.is_some(),
        };
        let mut model = lower(&loaded, &mut self.sources, &options, &mut self.diagnostics)?;
        self.target = Some((
            model.patch.module_name.clone(),
            model.target.release.clone(),
            model.target.release_source.clone(),
        ));
        if let (Some(vmlinux), false) = (vmlinux, self.diagnostics.has_errors()) {
            let inputs = kernel_rules::KernelInputs {
                vmlinux,
                modules: args.modules.clone(),
                cache_dir: cache_dir(),
                progress: self.format == MessageFormat::Human,
                running_release: running_release(),
            };
            self.coverage = kernel_rules::check(&mut model, &inputs, &mut self.diagnostics);
        }
        (!self.diagnostics.has_errors()).then_some(model)
    }

    /// Prints every diagnostic and a summary line; returns whether there were errors.
    pub fn report(&mut self, what: &str) -> bool {
        self.diagnostics.sort();
        let list: Vec<&Diagnostic> = self.diagnostics.iter().collect();
        match self.format {
            MessageFormat::Json => {
                for d in &list {
                    crate::outln!("{}", render::json(&self.sources, d));
                }
            }
            MessageFormat::Human => {
                let color =
                    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
                        ColorChoice::Auto
                    } else {
                        ColorChoice::Never
                    };
                let mut stderr = StandardStream::stderr(color);
                let _ = render::human(&self.sources, &list, &mut stderr);
                let errors = list
                    .iter()
                    .filter(|d| d.severity == Severity::Error)
                    .count();
                let warnings = list
                    .iter()
                    .filter(|d| d.severity == Severity::Warning)
                    .count();
                if errors > 0 {
                    let also = if warnings > 0 {
                        format!("; {} emitted", plural(warnings, "warning"))
                    } else {
                        String::new()
                    };
                    crate::errln!(
                        "error: could not {what} due to {}{also}",
                        plural(errors, "error")
                    );
                } else if warnings > 0 {
                    crate::errln!("warning: {} emitted", plural(warnings, "warning"));
                }
            }
        }
        self.diagnostics.has_errors()
    }

    /// How `#line` directives and headers should name each source file when
    /// the output goes to `out_dir`: disk files relative to it, standard
    /// modules by their path in std-specs.
    pub fn path_names(&self, out_dir: &Path) -> Vec<(String, String)> {
        let out = absolute(out_dir);
        self.sources
            .ids()
            .map(|id| {
                let name = self.sources.name(id).to_string();
                let shown = match self.sources.origin(id) {
                    Origin::Disk(path) => relative(&absolute(path), &out).display().to_string(),
                    Origin::Std(module) => format!("{module}.kgp"),
                    Origin::Memory => name.clone(),
                };
                (name, shown)
            })
            .collect()
    }
}

/// Reads a spec from standard input, with the limit of spec files.
pub fn read_stdin() -> Result<String, ReadError> {
    text_of(read_limited(std::io::stdin().lock(), TEXT_LIMIT)?)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The release the spec's target resolves to, read from the syntax tree
/// before lowering (which reports any problem with it).
fn spec_release(loaded: &crate::load::Loaded, request: &ReleaseRequest) -> Option<String> {
    let target = loaded.trees.first()?.targets().next()?;
    let releases: Vec<String> = target
        .releases()
        .map(|r| r.value.clone())
        .filter(|r| !r.trim().is_empty())
        .collect();
    crate::check::release::resolve(&releases, request)
        .ok()
        .map(|(r, _)| r)
}

/// The running kernel's release. KGPC_RUNNING_RELEASE stands in for it (empty: none), for
/// tests whose output must not depend on the machine.
pub(crate) fn running_release() -> Option<String> {
    let running = match std::env::var("KGPC_RUNNING_RELEASE") {
        Ok(release) => release,
        Err(_) => std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default(),
    };
    Some(running.trim().to_string()).filter(|r| !r.is_empty())
}

/// Releases this machine knows: the running kernel, then the kgpc kernel cache, newest first.
pub(crate) fn release_candidates() -> Vec<(String, String)> {
    let mut candidates = Vec::new();
    if let Some(running) = running_release() {
        candidates.push((running, "the running kernel".to_string()));
    }
    let cached = crate::fetch::cached_releases(&cache_dir());
    candidates.extend(cached.into_iter().rev().map(|r| {
        (
            r,
            "the newest matching kernel in the kgpc cache".to_string(),
        )
    }));
    candidates
}

pub use crate::fetch::cache_dir;

/// An absolute, lexically normalised path.
fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to the directory `base`.
fn relative(path: &Path, base: &Path) -> PathBuf {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    for part in &path[common..] {
        out.push(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_and_natural_order() {
        assert_eq!(
            relative(Path::new("/a/b/fix.kgp"), Path::new("/a/b/out")),
            PathBuf::from("../fix.kgp")
        );
        assert_eq!(
            relative(Path::new("/a/x/c.c"), Path::new("/a/b")),
            PathBuf::from("../x/c.c")
        );
    }
}
