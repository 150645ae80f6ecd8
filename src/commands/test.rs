//! `kgpc test`: build a spec's module and prove it in the target kernel under QEMU.
//!
//! The spec is compiled once: the model checked first, before anything is
//! built, is the one `pipeline::prove` builds the patch from. A spec the
//! test block loads first is another spec, compiled and built on its own.

use super::build::{build_failed, record_built};
use super::build_report::{map_program_messages, report_failure};
use super::session::{spec_options, Outcome, Session};
use super::test_verdict;
use crate::check::Model;
use crate::cli::{SpecArgs, TestArgs};
use crate::error::Error;
use crate::pipeline::prove::{
    prove, FirstError, FirstFailure, MachineOptions, ProveError, ProveOptions, WorkDir,
};
use std::time::Instant;

pub fn test(args: &TestArgs) -> Result<(), Error> {
    if args.fleet.all_releases && !args.more.is_empty() {
        let error = Error::FleetArguments {
            why: "--all-releases proves one spec; name one, or run once per spec".into(),
        };
        return Err(Session::new(args.spec.message_format).fail(error, "test every build"));
    }
    if args.fleet.all_releases {
        let options = |release: &str, _: Option<&std::path::Path>| {
            let work = args.keep_work.as_ref().map(|dir| dir.join(release));
            let mut line = super::fleet::spec_child_options(&args.spec);
            line.extend(super::test_many::machine_args(args, work.as_deref()));
            line
        };
        return super::fleet::run(&super::fleet::Fleet {
            verb: super::fleet::Verb::Test,
            spec: &args.spec,
            fleet: &args.fleet,
            jobs: args.jobs,
            output: None,
            child_options: &options,
            plan: None,
        });
    }
    if super::test_many::asks_for_many(args) {
        return super::test_many::test_many(args);
    }
    let mut session = Session::new(args.spec.message_format);
    session.kdir = args.kdir.clone();
    let result = run(args, &mut session);
    if session.is_skipped() {
        return result;
    }
    // The built module lives in the test's work directory, gone unless kept.
    session.finish(&Outcome {
        command: "test",
        module: None,
    });
    result
}

/// Checks, builds and proves the spec; every problem is in the session's diagnostics.
fn run(args: &TestArgs, session: &mut Session) -> Result<(), Error> {
    let started = Instant::now();
    let Some(model) = session.compile(&args.spec) else {
        return Err(session.fail(Error::Spec, "test the patch"));
    };
    // A skipped build makes no work directory either, not even one to keep.
    if session.is_skipped() {
        session.finish_skipped("test", &model);
        return Ok(());
    }
    let work = WorkDir::new(args.keep_work.as_deref()).map_err(|e| {
        let error = Error::WorkDir {
            dir: e.dir,
            error: e.error,
        };
        session.fail(error, "test the patch")
    })?;
    let (_, mut compile) = spec_options(&args.spec);
    compile.kdir = args.kdir.clone();
    let sign = args.sign.key();
    let options = ProveOptions {
        work: &work,
        kdir: args.kdir.as_deref(),
        sign: sign.as_ref(),
        compile: &compile,
        machine: MachineOptions {
            qemu: args.qemu.clone(),
            busybox: args.busybox.clone(),
            timeout_secs: args.timeout,
            transition_timeout_secs: args.transition_timeout,
            modules_after_patch: args.modules_after_patch,
            cycles: args.cycles,
            cpus: args.smp,
            multi_threaded: args.mttcg,
        },
        started,
    };
    let proof = prove(&session.compiled.sources, &model, &options);
    if let Some(patch) = &proof.patch {
        record_built(session, patch);
    }
    match proof.outcome {
        Ok(verdict) => {
            let shown = test_verdict::Shown {
                format: args.spec.message_format,
                model: &model,
                work: &work,
                started,
            };
            test_verdict::render(session, &shown, verdict)
        }
        Err(error) => Err(failed(session, args, &model, error)),
    }
}

/// Reports why the spec could not be proved, and returns it.
fn failed(session: &mut Session, args: &TestArgs, model: &Model, error: ProveError) -> Error {
    let error = match error {
        ProveError::NoTestBlock => Error::NoTestBlock {
            spec: args.spec.spec.clone(),
        },
        ProveError::NoTestImage {
            release,
            image,
            span,
        } => Error::NoTestImage {
            release,
            image,
            span,
        },
        ProveError::Cpus {
            asked,
            most,
            by,
            span,
        } => Error::Cpus {
            asked,
            most,
            by,
            span,
        },
        ProveError::TestLoad {
            message,
            help,
            span,
        } => Error::TestLoad {
            message,
            help,
            span,
        },
        ProveError::TestLoadBuild {
            source,
            dir,
            kdir,
            failure,
            span,
        } => {
            report_failure(session, &dir, &kdir, *failure, None);
            Error::TestLoadBuild { dir: source, span }
        }
        ProveError::Program {
            file,
            compiled_as,
            log,
            span,
        } => {
            let placed = map_program_messages(session, file, &compiled_as, &log);
            Error::GuestProgram {
                name: compiled_as,
                log: (placed == 0).then_some(log),
                span,
            }
        }
        ProveError::ProgramTool { message, span } => Error::GuestProgramTool { message, span },
        ProveError::Build(error) => return build_failed(session, model, &args.spec, error),
        ProveError::PatchFirst(failure) => first_failed(args, model, *failure),
        ProveError::Vm(error) => Error::Vm {
            error,
            release: model.target.release.clone(),
        },
    };
    session.fail(error, "test the patch")
}

/// Reports, with its own sources and diagnostics, why a patch to load first
/// did not build, and returns the error that says so.
fn first_failed(args: &TestArgs, model: &Model, failure: FirstFailure) -> Error {
    let spec = SpecArgs {
        spec: failure.spec.clone(),
        release: Some(model.target.release.clone()),
        ..args.spec.clone()
    };
    let mut first_session = Session::new(args.spec.message_format);
    first_session.compiled = failure.compiled;
    let cause = match failure.error {
        FirstError::Spec => first_session.fail(Error::Spec, "build the module"),
        FirstError::Build { model, error } => {
            build_failed(&mut first_session, &model, &spec, error)
        }
    };
    Error::PatchFirst {
        spec: failure.spec,
        span: failure.span,
        cause: Box::new(cause),
    }
}
