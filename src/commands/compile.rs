//! `kgpc compile` and `kgpc check`.

use super::session::{Outcome, Session};
use crate::check::Model;
use crate::cli::{CheckArgs, CompileArgs, MessageFormat};
use crate::error::Error;
use crate::pipeline::{self, Written};
use std::path::Path;

pub fn check(args: &CheckArgs) -> Result<(), Error> {
    if args.fleet.all_releases {
        let options = |_: &str, _: Option<&Path>| super::fleet::spec_child_options(&args.spec);
        return super::fleet::run(&super::fleet::Fleet {
            verb: super::fleet::Verb::Check,
            spec: &args.spec,
            fleet: &args.fleet,
            jobs: args.jobs,
            output: None,
            child_options: &options,
            plan: None,
        });
    }
    let mut session = Session::new(args.spec.message_format);
    let model = session.compile(&args.spec);
    if let (Some(model), true) = (&model, session.is_skipped()) {
        session.finish_skipped("check", model);
        return Ok(());
    }
    let failed = session.report("check the spec");
    session.finish(&Outcome {
        command: "check",
        module: None,
    });
    if failed {
        return Err(Error::Spec);
    }
    if let (Some(model), MessageFormat::Human) = (model, args.spec.message_format) {
        crate::errln!(
            "Checked {} for {} ({}): no errors; {}{}.",
            model.patch.module_name,
            model.target.release,
            model.target.release_source,
            session.compiled.coverage.describe(),
            config_line(&session)
        );
    }
    Ok(())
}

pub fn compile(args: &CompileArgs) -> Result<(), Error> {
    let mut session = Session::new(args.spec.message_format);
    let outcome = Outcome {
        command: "compile",
        module: None,
    };
    let Some(model) = session.compile(&args.spec) else {
        session.report("compile the spec");
        session.finish(&outcome);
        return Err(Error::Spec);
    };
    if session.is_skipped() {
        session.finish_skipped("compile", &model);
        return Ok(());
    }
    let written = write_module(&mut session, &model, args.output.as_deref(), args.force);
    let written = match written {
        Ok(written) => written,
        Err(error) => {
            session.finish(&outcome);
            return Err(error);
        }
    };
    session.report("compile the spec");
    session.finish(&outcome);
    if args.spec.message_format == MessageFormat::Human {
        let names: Vec<&str> = written.files.iter().map(|f| f.name.as_str()).collect();
        crate::errln!(
            "Compiled {} for {} ({}) into {}/: {}; {}.",
            model.patch.module_name,
            model.target.release,
            model.target.release_source,
            written.dir.display(),
            names.join(", "),
            session.compiled.coverage.describe()
        );
    }
    Ok(())
}

/// The config requirements' part of a summary line: "; 2 of 2 config
/// requirements met by FILE", or nothing for a spec without requirements.
pub(crate) fn config_line(session: &Session) -> String {
    session
        .compiled
        .config
        .describe()
        .map_or(String::new(), |d| format!("; {d}"))
}

/// Generates the module's files and writes them to `output` (default
/// `./<patch name>/`), recording them in the session. On failure the
/// diagnostic has been reported.
pub(crate) fn write_module(
    session: &mut Session,
    model: &Model,
    output: Option<&Path>,
    force: bool,
) -> Result<Written, Error> {
    match pipeline::write_module(&session.compiled.sources, model, output, force) {
        Ok(written) => {
            session.written = written.paths();
            Ok(written)
        }
        Err(error) => Err(session.fail(error.into(), "write the module")),
    }
}
