//! One command's run: what the pipeline compiled, printed the way the
//! command line asked, with the JSON summary record last.

use crate::check::Model;
use crate::cli::{MessageFormat, SpecArgs};
use crate::diagnostic::{Diagnostic, Severity};
use crate::error::Error;
use crate::pipeline::{Compiled, Options, SpecInput};
use crate::render;
use serde::Serialize;
use std::path::Path;

pub struct Session {
    /// Every source read and diagnostic found, and the last spec's coverage and target.
    pub compiled: Compiled,
    pub format: MessageFormat,
    /// The files the run wrote, as paths.
    pub written: Vec<String>,
    /// What `kgpc test` saw in its VM, once it ran.
    pub vm: Option<VmFacts>,
    /// The build tree `--kdir` names, whose `.config` the requirements may be checked against.
    pub kdir: Option<std::path::PathBuf>,
}

/// What the guest of `kgpc test` said about itself, for the summary record.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct VmFacts {
    /// The release it booted.
    pub booted: Option<String>,
    /// The CPUs it had online.
    pub cpus: Option<usize>,
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
    kernel_checks: &'a crate::check::coverage::Coverage,
    /// What the build's kernel config said of the spec's requirements.
    config: &'a crate::check::config_check::ConfigReport,
    files: &'a [String],
    module: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vm: Option<&'a VmFacts>,
}

/// The spec the arguments name and how the pipeline compiles it.
pub fn spec_options(args: &SpecArgs) -> (SpecInput, Options) {
    let input = if args.spec.as_os_str() == "-" {
        SpecInput::Stdin
    } else {
        SpecInput::Path(args.spec.clone())
    };
    let options = Options {
        release: args.release.clone(),
        vmlinux: args.vmlinux.clone(),
        modules: args.modules.clone(),
        kernel_checks: !args.no_kernel_checks,
        allow_path: args.allow_path.clone(),
        progress: args.message_format == MessageFormat::Human,
        kernel_config: args.kernel_config.clone(),
        kdir: None,
    };
    (input, options)
}

impl Session {
    pub fn new(format: MessageFormat) -> Self {
        Session {
            compiled: Compiled::default(),
            format,
            written: Vec::new(),
            vm: None,
            kdir: None,
        }
    }

    /// Compiles the spec the arguments name into this run; its model is
    /// `None` when the run has errors.
    pub fn compile(&mut self, args: &SpecArgs) -> Option<Model> {
        let (input, mut options) = spec_options(args);
        options.kdir = self.kdir.clone();
        self.compiled.add(&input, &options);
        self.compiled.model.take()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.compiled.diagnostics.push(diagnostic);
    }

    /// Reports `error` with the diagnostics so far, as the run's failure to
    /// do `what`, and returns it.
    pub fn fail(&mut self, error: Error, what: &str) -> Error {
        if let Some(diagnostic) = error.diagnostic() {
            self.push(diagnostic);
        }
        self.report(what);
        error
    }

    /// Prints the summary record last, with `--message-format json`.
    pub fn finish(&self, outcome: &Outcome) {
        if self.format != MessageFormat::Json {
            return;
        }
        let diagnostics = &self.compiled.diagnostics;
        let count = |severity: Severity| {
            diagnostics
                .iter()
                .filter(|d| d.severity == severity)
                .count()
        };
        let errors = count(Severity::Error);
        let target = self.compiled.target.as_ref();
        let summary = Summary {
            command: outcome.command,
            status: match (errors, &self.compiled.config.skipped) {
                (0, Some(_)) => "skipped",
                (0, None) => "ok",
                _ => "error",
            },
            errors,
            warnings: count(Severity::Warning),
            patch: target.map(|t| t.module_name.as_str()),
            release: target.map(|t| t.release.as_str()),
            release_source: target.map(|t| t.release_source.as_str()),
            checked: self.compiled.coverage.complete(),
            kernel_checks: &self.compiled.coverage,
            config: &self.compiled.config,
            files: &self.written,
            module: outcome.module.map(|m| m.display().to_string()),
            vm: self.vm.as_ref(),
        };
        crate::outln!("{}", serde_json::json!({ "summary": summary }));
    }

    /// Whether the build's kernel config skips it (`requires ... else skip`).
    pub fn is_skipped(&self) -> bool {
        self.compiled.config.skipped.is_some() && !self.compiled.diagnostics.has_errors()
    }

    /// Ends a skipped run of `command`: its diagnostics, its summary record,
    /// and for people the line that says that nothing was done.
    pub fn finish_skipped(&mut self, command: &str, model: &Model) {
        self.report(&format!("{command} the spec"));
        self.finish(&Outcome {
            command,
            module: None,
        });
        if self.format == MessageFormat::Human {
            crate::errln!(
                "Skipped {} for {} ({}): {}; nothing was checked against the kernel, written or built.",
                model.patch.module_name,
                model.target.release,
                model.target.release_source,
                self.compiled.config.skipped.as_deref().unwrap_or("")
            );
        }
    }

    /// Prints every diagnostic and, for people, a summary line; returns
    /// whether there were errors. `what` says what the run could not do,
    /// such as "check the spec".
    pub fn report(&mut self, what: &str) -> bool {
        self.compiled.diagnostics.sort();
        let list: Vec<&Diagnostic> = self.compiled.diagnostics.iter().collect();
        match self.format {
            MessageFormat::Json => {
                for d in &list {
                    crate::outln!("{}", render::json(&self.compiled.sources, d));
                }
            }
            MessageFormat::Human => render::human_to_stderr(&self.compiled.sources, &list, what),
        }
        self.compiled.diagnostics.has_errors()
    }

    /// How `#line` directives and headers name each source file when the
    /// output goes to `out_dir`.
    pub fn path_names(&self, out_dir: &Path) -> Vec<(String, String)> {
        crate::pipeline::paths::path_names(&self.compiled.sources, out_dir)
    }
}
