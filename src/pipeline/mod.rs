//! The compiler's stages as a library: a spec goes through load, check and
//! the kernel facts in [`compile`], and its checked model into the output
//! directory in [`write_module`]. Nothing here knows about the command line
//! or prints a diagnostic; `commands/` turns the arguments into [`Options`]
//! and renders what comes back.

pub mod build;
pub mod config;
mod fix;
mod fix_functions;
mod fix_headers;
mod fix_kpatch;
mod fix_syscall;
pub mod paths;
pub mod prove;
pub mod release;
pub mod vmlinux;

use crate::check::config_check::{self, ConfigReport};
use crate::check::coverage::Coverage;
use crate::check::release::ReleaseRequest;
use crate::check::{kernel_rules, lower, LowerOptions, Model};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::generate::{generate, GenerateOptions, GeneratedFile};
use crate::load::{load, refusal_or, Input, Loaded};
use crate::output::{self, OutputError};
use crate::read::{read_limited, text_of, ReadError, TEXT_LIMIT};
use crate::scope::ReadScope;
use crate::source::SourceMap;
use std::path::{Path, PathBuf};

/// Where the spec comes from.
#[derive(Clone, Debug)]
pub enum SpecInput {
    Path(PathBuf),
    Stdin,
}

/// How a spec is compiled.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The release asked for (`--release`).
    pub release: Option<String>,
    /// The debug vmlinux to check against (`--vmlinux`).
    pub vmlinux: Option<PathBuf>,
    /// A directory holding module objects (`--modules`).
    pub modules: Option<PathBuf>,
    /// Whether the checks against the kernel run when a vmlinux is found.
    pub kernel_checks: bool,
    /// Places imports and body files may be read from besides the spec's tree.
    pub allow_path: Vec<PathBuf>,
    /// Whether indexing a vmlinux shows its progress.
    pub progress: bool,
    /// The kernel config to check the spec's requirements against (`--kernel-config`).
    pub kernel_config: Option<PathBuf>,
    /// The kernel build tree (`--kdir`), whose `.config` is a place the config is looked for.
    pub kdir: Option<PathBuf>,
}

/// The module name, release and where the release came from of a lowered spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub module_name: String,
    pub release: String,
    pub release_source: String,
}

/// What compiling gave: every source file read, every diagnostic, the
/// checked model (none if there was an error), what the model was checked
/// against and the target it was lowered for.
pub struct Compiled {
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
    pub model: Option<Model>,
    pub coverage: Coverage,
    pub target: Option<Target>,
    /// What the build's kernel config said of the spec's requirements.
    pub config: ConfigReport,
    /// The cached releases this run reads, held so that `kgpc kernel gc`
    /// leaves them alone until the run ends.
    in_use: Vec<crate::fetch::ReleaseUse>,
}

impl Default for Compiled {
    fn default() -> Self {
        Compiled {
            sources: SourceMap::new(),
            diagnostics: Diagnostics::default(),
            model: None,
            coverage: Coverage::skipped("the spec was not checked"),
            target: None,
            config: ConfigReport::not_checked("the spec was not checked"),
            in_use: Vec::new(),
        }
    }
}

/// Loads, checks and checks against the kernel the spec at `input`.
pub fn compile(input: &SpecInput, options: &Options) -> Compiled {
    let mut compiled = Compiled::default();
    compiled.add(input, options);
    compiled
}

impl Compiled {
    /// Compiles one more spec into this run, as `kgpc diff` compares two:
    /// its files join `sources` and its findings `diagnostics`, while
    /// `model`, `coverage` and `target` become its own. The model is
    /// `None` if the run has any error, this spec's or an earlier one's.
    pub fn add(&mut self, input: &SpecInput, options: &Options) {
        self.model = self
            .check(input, options)
            .filter(|_| !self.diagnostics.has_errors());
    }

    /// Reads the spec (and its imports) and returns what its target names,
    /// without checking it; reading problems join `diagnostics`.
    pub fn targets(
        &mut self,
        input: &SpecInput,
        options: &Options,
    ) -> Option<release::SpecTargets> {
        let loaded = self.load(input, options)?;
        Some(release::spec_targets(&loaded))
    }

    fn check(&mut self, input: &SpecInput, options: &Options) -> Option<Model> {
        let loaded = self.load(input, options)?;
        let request = release_request(options);
        let release = release::spec_release(&loaded, &request);
        if let Some(release) = &release {
            let cache = crate::fetch::cache_dir();
            self.in_use
                .extend(crate::fetch::ReleaseUse::take(&cache, release));
        }
        let vmlinux = vmlinux::find(options, release.as_deref());
        self.coverage = vmlinux::not_checked(options, vmlinux.as_ref(), release.as_deref());
        let lower_options = LowerOptions {
            release: request,
            prototypes_from_kernel: vmlinux.is_some(),
        };
        let mut model = lower(
            &loaded,
            &mut self.sources,
            &lower_options,
            &mut self.diagnostics,
        )?;
        self.target = Some(Target {
            module_name: model.patch.module_name.clone(),
            release: model.target.release.clone(),
            release_source: model.target.release_source.clone(),
        });
        if !self.diagnostics.has_errors() {
            self.check_config(&mut model, options, vmlinux.is_some());
            if let Some(why) = &self.config.skipped {
                self.coverage = Coverage::skipped(format!("the build is skipped: {why}"));
                return Some(model);
            }
        }
        if !self.diagnostics.has_errors() {
            let cache = crate::fetch::cache_dir();
            fix::apply(
                &mut model,
                &mut self.sources,
                &cache,
                vmlinux.as_deref(),
                &mut self.diagnostics,
            );
        }
        if vmlinux.is_none() && !self.diagnostics.has_errors() {
            fix::closure_not_derived(&model, &mut self.diagnostics);
        }
        if let (Some(vmlinux), false) = (vmlinux, self.diagnostics.has_errors()) {
            let inputs = kernel_rules::KernelInputs {
                vmlinux,
                modules: options.modules.clone(),
                cache_dir: crate::fetch::cache_dir(),
                progress: options.progress,
                running_release: release::running_release(),
                census: crate::vm::census::answer,
                livepatch_from_config: self.config.file.is_some(),
            };
            self.coverage = kernel_rules::check(&mut model, &inputs, &mut self.diagnostics);
        }
        Some(model)
    }

    /// Checks the spec's requirements, and whether the kernel can be live
    /// patched at all, against the build's kernel config. The vmlinux's
    /// `klp_enable_patch` answers the second where no config is found.
    fn check_config(&mut self, model: &mut Model, options: &Options, has_vmlinux: bool) {
        let release = model.target.release.clone();
        let config = config::find(options, &release, model.target.span, &mut self.diagnostics);
        let why = config.as_ref().err().cloned().unwrap_or_default();
        self.config = config_check::check(model, config.as_ref().ok(), &why, &mut self.diagnostics);
        self.config.livepatch = Some(match (&config, options.kernel_checks) {
            (_, false) => "not checked: --no-kernel-checks was given".to_string(),
            (Ok(config), true) => crate::check::livepatch_config::check(
                config,
                &release,
                model.target.span,
                &mut self.diagnostics,
            ),
            (Err(_), true) if has_vmlinux => {
                "no config: read from the vmlinux, which must define klp_enable_patch".to_string()
            }
            (Err(_), true) => "not checked: no config and no debug vmlinux".to_string(),
        });
    }

    /// Reads the spec and its imports inside the scope the options allow.
    fn load(&mut self, input: &SpecInput, options: &Options) -> Option<Loaded> {
        let spec = match input {
            SpecInput::Path(path) => Some(path.as_path()),
            SpecInput::Stdin => None,
        };
        let scope = match ReadScope::new(spec, &options.allow_path) {
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
        let input = match input {
            SpecInput::Path(path) => Input::Path(path),
            SpecInput::Stdin => match read_stdin() {
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
            },
        };
        load(input, scope, &mut self.sources, &mut self.diagnostics)
    }
}

/// The release asked for and the ones this machine knows. Given a vmlinux,
/// the release its banner names comes before the machine's; `--release` and
/// a spec's only literal release still win.
fn release_request(options: &Options) -> ReleaseRequest {
    let mut candidates = release::release_candidates();
    if let (Some(path), None, true) = (&options.vmlinux, &options.release, options.kernel_checks) {
        if let Some(release) = crate::kernel::elf::release_of_file(path) {
            candidates.insert(0, (release, format!("the banner of {}", path.display())));
        }
    }
    ReleaseRequest {
        explicit: options.release.clone(),
        candidates,
    }
}

/// Reads a spec from standard input, with the limit of spec files.
pub fn read_stdin() -> Result<String, ReadError> {
    text_of(read_limited(std::io::stdin().lock(), TEXT_LIMIT)?)
}

/// The module's files as written into their directory.
pub struct Written {
    pub dir: PathBuf,
    pub files: Vec<GeneratedFile>,
}

impl Written {
    /// The path of each file written.
    pub fn paths(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|f| self.dir.join(&f.name).display().to_string())
            .collect()
    }
}

/// Generates the module's files from `model` and writes them to `output`
/// (default `./<patch name>/`), naming `sources` relative to it.
pub fn write_module(
    sources: &SourceMap,
    model: &Model,
    output: Option<&Path>,
    force: bool,
) -> Result<Written, OutputError> {
    let dir = output.map_or_else(|| PathBuf::from(&model.patch.name), Path::to_path_buf);
    let files = generate(
        model,
        &GenerateOptions {
            path_names: paths::path_names(sources, &dir),
        },
    );
    output::write(&dir, &files, force)?;
    Ok(Written { dir, files })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(path: &str) -> SpecInput {
        SpecInput::Path(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
    }

    fn options() -> Options {
        Options {
            release: Some("6.1.0-57-cloud-amd64".into()),
            kernel_checks: false,
            ..Options::default()
        }
    }

    #[test]
    fn a_clean_spec_compiles_to_its_model_and_target() {
        let compiled = compile(&spec("examples/livepatch-sample.kgp"), &options());
        assert!(!compiled.diagnostics.has_errors());
        let model = compiled.model.as_ref().expect("the example has no errors");
        assert_eq!(model.patch.name, "sample");
        assert_eq!(
            compiled.target,
            Some(Target {
                module_name: model.patch.module_name.clone(),
                release: "6.1.0-57-cloud-amd64".into(),
                release_source: model.target.release_source.clone(),
            })
        );
        assert_eq!(
            compiled.coverage.skipped.as_deref(),
            Some("--no-kernel-checks was given")
        );
    }

    #[test]
    fn a_spec_with_errors_has_no_model() {
        let compiled = compile(&spec("tests/ui/KGP0001-unclosed-block.kgp"), &options());
        assert!(compiled.diagnostics.has_errors());
        assert!(compiled.model.is_none());
    }

    #[test]
    fn a_second_spec_joins_the_run_and_an_earlier_error_keeps_its_model_out() {
        let mut compiled = compile(&spec("examples/cumulative-v1.kgp"), &options());
        let files = compiled.sources.ids().count();
        assert!(compiled.model.take().is_some());
        compiled.add(&spec("examples/cumulative-v2.kgp"), &options());
        assert!(compiled.sources.ids().count() > files);
        assert!(compiled.model.is_some());
        compiled.add(&spec("tests/ui/KGP0001-unclosed-block.kgp"), &options());
        compiled.add(&spec("examples/cumulative-v2.kgp"), &options());
        assert!(compiled.model.is_none());
    }

    #[test]
    fn the_module_is_written_where_asked() {
        let compiled = compile(&spec("examples/livepatch-sample.kgp"), &options());
        let model = compiled.model.as_ref().expect("the example has no errors");
        let out = tempfile::tempdir().expect("a temporary directory");
        let dir = out.path().join("sample");
        let written = write_module(&compiled.sources, model, Some(&dir), false)
            .expect("the module is written");
        assert_eq!(written.dir, dir);
        assert!(!written.files.is_empty());
        for path in written.paths() {
            assert!(Path::new(&path).is_file(), "{path}");
        }
    }
}
