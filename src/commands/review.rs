//! `kgpc review` and `kgpc diff`.

use super::session::{Outcome, Session};
use super::{EXIT_OK, EXIT_OUTPUT, EXIT_SPEC_ERRORS};
use crate::cli::{DiffArgs, MessageFormat, ReviewArgs, SpecArgs};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::review::{self, report::ReviewContext};

pub fn review(args: &ReviewArgs) -> i32 {
    let mut session = Session::new(args.spec.message_format);
    let model = session.check(&args.spec);
    let Some(model) = model.filter(|_| !session.diagnostics.has_errors()) else {
        session.report("review the spec");
        session.finish(&Outcome {
            command: "review",
            module: None,
        });
        return EXIT_SPEC_ERRORS;
    };
    let context = ReviewContext {
        diagnostics: session
            .diagnostics
            .iter()
            .filter(|d| d.severity >= Severity::Warning)
            .collect(),
        coverage: &session.coverage,
    };
    let text = review::report(&model, &context);
    session.report("review the spec");
    let status = emit(
        &mut session,
        args.output.as_deref(),
        args.spec.message_format,
        "report",
        &text,
    );
    session.finish(&Outcome {
        command: "review",
        module: None,
    });
    status
}

pub fn diff(args: &DiffArgs) -> i32 {
    let mut session = Session::new(args.new.message_format);
    let old_args = SpecArgs {
        spec: args.old.clone(),
        ..args.new.clone()
    };
    let old = session.check(&old_args);
    let new = session.check(&args.new);
    let (Some(old), Some(new)) = (old, new) else {
        session.report("compare the specs");
        return EXIT_SPEC_ERRORS;
    };
    let result = review::diff(&old, &new);
    let failed = !result.diagnostics.is_empty();
    session.diagnostics.extend(result.diagnostics);
    session.report("compare the specs");
    let status = emit(
        &mut session,
        None,
        args.new.message_format,
        "diff",
        &result.text,
    );
    if failed {
        EXIT_SPEC_ERRORS
    } else {
        status
    }
}

/// Prints or writes a Markdown document; as JSON it is one object `{KEY: text}` on a line.
fn emit(
    session: &mut Session,
    output: Option<&std::path::Path>,
    format: MessageFormat,
    key: &str,
    text: &str,
) -> i32 {
    if text.is_empty() {
        return EXIT_OK;
    }
    if let Some(path) = output {
        if let Err(e) = crate::atomic_write::write_atomically(path, text.as_bytes()) {
            session.diagnostics.push(Diagnostic::error(
                Code::OutputError,
                format!(
                    "cannot write `{}`: {}",
                    path.display(),
                    crate::load::describe_io(&e)
                ),
            ));
            session.report("write the review");
            return EXIT_OUTPUT;
        }
        return EXIT_OK;
    }
    match format {
        MessageFormat::Human => crate::out!("{text}"),
        MessageFormat::Json => crate::outln!("{}", serde_json::json!({ key: text })),
    }
    EXIT_OK
}
