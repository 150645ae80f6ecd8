//! `kgpc compile` and `kgpc check`.

use super::session::{Outcome, Session};
use super::{EXIT_OK, EXIT_OUTPUT, EXIT_SPEC_ERRORS};
use crate::check::Model;
use crate::cli::{CheckArgs, CompileArgs, MessageFormat};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::generate::{generate, GenerateOptions, GeneratedFile};
use crate::output::{self, OutputError};
use std::path::{Path, PathBuf};

pub fn check(args: &CheckArgs) -> i32 {
    let mut session = Session::new(args.spec.message_format);
    let model = session.check(&args.spec);
    let failed = session.report("check the spec");
    session.finish(&Outcome {
        command: "check",
        module: None,
    });
    if failed {
        return EXIT_SPEC_ERRORS;
    }
    if let (Some(model), MessageFormat::Human) = (model, args.spec.message_format) {
        crate::errln!(
            "Checked {} for {} ({}): no errors; {}.",
            model.patch.module_name,
            model.target.release,
            model.target.release_source,
            session.coverage.describe()
        );
    }
    EXIT_OK
}

pub fn compile(args: &CompileArgs) -> i32 {
    let mut session = Session::new(args.spec.message_format);
    let model = session.check(&args.spec);
    let outcome = Outcome {
        command: "compile",
        module: None,
    };
    let Some(model) = model.filter(|_| !session.diagnostics.has_errors()) else {
        session.report("compile the spec");
        session.finish(&outcome);
        return EXIT_SPEC_ERRORS;
    };
    let (dir, files) = match write_module(&mut session, &model, args.output.as_deref(), args.force)
    {
        Ok(written) => written,
        Err(status) => {
            session.finish(&outcome);
            return status;
        }
    };
    session.report("compile the spec");
    session.finish(&outcome);
    if args.spec.message_format == MessageFormat::Human {
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        crate::errln!(
            "Compiled {} for {} ({}) into {}/: {}; {}.",
            model.patch.module_name,
            model.target.release,
            model.target.release_source,
            dir.display(),
            names.join(", "),
            session.coverage.describe()
        );
    }
    EXIT_OK
}

/// Generates the module's files and writes them to `output` (default
/// `./<patch name>/`). On failure the diagnostic has been reported and the
/// exit status is returned.
pub(crate) fn write_module(
    session: &mut Session,
    model: &Model,
    output: Option<&Path>,
    force: bool,
) -> Result<(PathBuf, Vec<GeneratedFile>), i32> {
    let dir = output.map_or_else(|| PathBuf::from(&model.patch.name), Path::to_path_buf);
    let files = generate(
        model,
        &GenerateOptions {
            path_names: session.path_names(&dir),
        },
    );
    let Err(error) = output::write(&dir, &files, force) else {
        session.written = files
            .iter()
            .map(|f| dir.join(&f.name).display().to_string())
            .collect();
        return Ok((dir, files));
    };
    let diagnostic = match error {
        OutputError::NotOurs { dir, files } => Diagnostic::error(
            Code::OutputNotOurs,
            format!("`{}` holds files kgpc did not write: {}", dir.display(), files.join(", ")),
        )
        .with_note("kgpc replaces only the files listed in its `.kgpc-manifest`, and only if nobody edited them")
        .with_help("choose another directory with `-o`, move those files away, or pass `--force` to write anyway (other files are kept; edited generated files are overwritten)"),
        OutputError::Io { path, message } => {
            Diagnostic::error(Code::OutputError, format!("cannot write `{}`: {message}", path.display()))
                .with_help("check that every parent of the output is a directory you can write to, and that the disk is not full")
        }
    };
    session.diagnostics.push(diagnostic);
    session.report("write the module");
    Err(EXIT_OUTPUT)
}
