//! `kgpc build`: compile a spec and build the module with the kernel's build system.

use super::build_report;
use super::session::{Outcome, Session};
use crate::build::sign::Signed;
use crate::build::Built;
use crate::check::Model;
use crate::cli::{BuildArgs, MessageFormat, SpecArgs};
use crate::error::Error;
use crate::pipeline;
use crate::pipeline::build::{BuildError, BuildOptions, BuiltModule};
use std::path::PathBuf;

pub fn build(args: &BuildArgs) -> Result<(), Error> {
    if args.fleet.all_releases {
        return build_every_release(args);
    }
    let mut session = Session::new(args.spec.message_format);
    session.kdir = args.kdir.clone();
    let request = BuildRequest {
        spec: &args.spec,
        build: BuildOptions {
            output: args.output.clone(),
            force: args.force,
            kdir: args.kdir.as_deref(),
            extra_symbols: args.symvers.clone(),
            sign: args.sign.key(),
        },
    };
    match compile_and_build(&mut session, &request) {
        Ok(None) => Ok(()),
        Ok(Some(spec)) => {
            session.report("build the module");
            session.finish(&Outcome {
                command: "build",
                module: Some(&spec.module),
            });
            if args.spec.message_format == MessageFormat::Human {
                crate::errln!(
                    "{}\n  {}{}",
                    spec.summary(),
                    session.compiled.coverage.describe(),
                    super::compile::config_line(&session)
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

/// `kgpc build --all-releases`: each build's module in `OUTPUT/RELEASE/`.
fn build_every_release(args: &BuildArgs) -> Result<(), Error> {
    let options = |_: &str, dir: Option<&std::path::Path>| {
        let mut line = super::fleet::spec_child_options(&args.spec);
        if let Some(dir) = dir {
            line.push("-o".into());
            line.push(dir.into());
        }
        if args.force {
            line.push("--force".into());
        }
        for symvers in &args.symvers {
            line.push("--symvers".into());
            line.push(symvers.into());
        }
        if let (Some(key), Some(cert)) = (&args.sign.sign_key, &args.sign.sign_cert) {
            line.extend([
                "--sign-key".into(),
                key.into(),
                "--sign-cert".into(),
                cert.into(),
            ]);
        }
        line
    };
    super::fleet::run(&super::fleet::Fleet {
        verb: super::fleet::Verb::Build,
        spec: &args.spec,
        fleet: &args.fleet,
        jobs: args.jobs,
        output: args.output.as_deref(),
        child_options: &options,
        plan: args.plan,
    })
}

/// A spec to build and how.
pub(crate) struct BuildRequest<'a> {
    pub spec: &'a SpecArgs,
    pub build: BuildOptions<'a>,
}

/// A spec built into a module.
pub(crate) struct BuiltSpec {
    pub model: Model,
    pub module: PathBuf,
    pub built: Built,
    pub signed: Option<Signed>,
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
        if let Some(signed) = &self.signed {
            text.push_str(&format!(
                "\n  signed ({}) with {}",
                signed.hash,
                signed.sign_file.display()
            ));
        }
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

/// Compiles the spec the request names and builds it; `None` when the
/// build's config skips it, which has been reported. On failure the
/// diagnostics have been reported.
pub(crate) fn compile_and_build(
    session: &mut Session,
    request: &BuildRequest,
) -> Result<Option<BuiltSpec>, Error> {
    let Some(model) = session.compile(request.spec) else {
        return Err(session.fail(Error::Spec, "build the module"));
    };
    if session.is_skipped() {
        session.finish_skipped("build", &model);
        return Ok(None);
    }
    build_spec(session, model, request).map(Some)
}

/// Writes a checked spec's module and builds it. On failure the diagnostics
/// have been reported.
pub(crate) fn build_spec(
    session: &mut Session,
    model: Model,
    request: &BuildRequest,
) -> Result<BuiltSpec, Error> {
    match pipeline::build::build(&session.compiled.sources, &model, &request.build) {
        Ok(module) => {
            record_built(session, &module);
            Ok(BuiltSpec {
                model,
                module: module.module,
                built: module.built,
                signed: module.signed,
            })
        }
        Err(error) => Err(build_failed(session, &model, request.spec, error)),
    }
}

/// Records a built module's files and the compiler's warnings about the spec.
pub(crate) fn record_built(session: &mut Session, module: &BuiltModule) {
    session.written = module.written.paths();
    let log = &module.built.make.log;
    build_report::map_compiler_messages(session, &module.written.dir, log, false);
}

/// Reports why the model compiled from `spec` did not build, and returns it.
pub(crate) fn build_failed(
    session: &mut Session,
    model: &Model,
    spec: &SpecArgs,
    error: BuildError,
) -> Error {
    match error {
        BuildError::NoBuildTree { tried } => {
            let error = Error::NoBuildTree {
                release: model.target.release.clone(),
                tried,
                span: model.target.span,
            };
            session.fail(error, "build the module")
        }
        BuildError::Output(error) => session.fail(error.into(), "write the module"),
        BuildError::Sign { written, error } => {
            if let Some(written) = written {
                session.written = written.paths();
            }
            session.fail(Error::Sign(error), "sign the module")
        }
        BuildError::Failed {
            written,
            kdir,
            failure,
        } => {
            session.written = written.paths();
            build_report::report_failure(
                session,
                &written.dir,
                &kdir,
                *failure,
                Some((model, spec)),
            )
        }
    }
}
