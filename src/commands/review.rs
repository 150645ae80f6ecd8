//! `kgpc review` and `kgpc diff`.

use super::session::{Outcome, Session};
use crate::cli::{DiffArgs, MessageFormat, ReviewArgs, SpecArgs};
use crate::diagnostic::Severity;
use crate::error::Error;
use crate::review::{self, report::ReviewContext};

pub fn review(args: &ReviewArgs) -> Result<(), Error> {
    let mut session = Session::new(args.spec.message_format);
    let outcome = Outcome {
        command: "review",
        module: None,
    };
    let Some(model) = session.compile(&args.spec) else {
        session.report("review the spec");
        session.finish(&outcome);
        return Err(Error::Spec);
    };
    let context = ReviewContext {
        diagnostics: session
            .compiled
            .diagnostics
            .iter()
            .filter(|d| d.severity >= Severity::Warning)
            .collect(),
        coverage: &session.compiled.coverage,
        config: &session.compiled.config,
    };
    let text = review::report(&model, &context);
    session.report("review the spec");
    let result = emit(
        &mut session,
        args.output.as_deref(),
        args.spec.message_format,
        "report",
        &text,
    );
    session.finish(&outcome);
    result
}

pub fn diff(args: &DiffArgs) -> Result<(), Error> {
    let mut session = Session::new(args.new.message_format);
    let old_args = SpecArgs {
        spec: args.old.clone(),
        ..args.new.clone()
    };
    let old = session.compile(&old_args);
    let new = session.compile(&args.new);
    let (Some(old), Some(new)) = (old, new) else {
        session.report("compare the specs");
        return Err(Error::Spec);
    };
    let result = review::diff(&old, &new);
    let failed = !result.diagnostics.is_empty();
    session.compiled.diagnostics.extend(result.diagnostics);
    session.report("compare the specs");
    let emitted = emit(
        &mut session,
        None,
        args.new.message_format,
        "diff",
        &result.text,
    );
    if failed {
        Err(Error::Spec)
    } else {
        emitted
    }
}

/// Prints or writes a Markdown document; as JSON it is one object `{KEY: text}` on a line.
fn emit(
    session: &mut Session,
    output: Option<&std::path::Path>,
    format: MessageFormat,
    key: &str,
    text: &str,
) -> Result<(), Error> {
    if text.is_empty() {
        return Ok(());
    }
    if let Some(path) = output {
        return crate::atomic_write::write_atomically(path, text.as_bytes()).map_err(|error| {
            let error = Error::Write {
                path: path.to_path_buf(),
                error,
            };
            session.fail(error, "write the review")
        });
    }
    match format {
        MessageFormat::Human => crate::out!("{text}"),
        MessageFormat::Json => crate::outln!("{}", serde_json::json!({ key: text })),
    }
    Ok(())
}
