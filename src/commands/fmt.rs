//! `kgpc fmt`: format specs in place, check them, or filter standard input.

use super::Success;
use crate::cli::{FmtArgs, MessageFormat};
use crate::codes::Code;
use crate::commands::session::Session;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::format::format;
use crate::load::refusal_or;
use crate::read::read_text;
use crate::source::Origin;
use crate::syntax::parse;
use std::io::Write;
use std::path::Path;

pub fn fmt(args: &FmtArgs) -> Result<Success, Error> {
    if args.files.is_empty() {
        return fmt_stdin(args.check);
    }
    // Every file is formatted; the run ends with the worst of what happened.
    let mut unformatted = false;
    let mut failure: Option<Error> = None;
    let mut fail = |error: Error| {
        if failure
            .as_ref()
            .is_none_or(|f| f.exit_code() < error.exit_code())
        {
            failure = Some(error);
        }
    };
    for path in &args.files {
        let text = match read_text(path) {
            Ok(text) => text,
            Err(error) => {
                let mut session = Session::new(MessageFormat::Human);
                session.push(Diagnostic::error(
                    refusal_or(&error, Code::UnreadableFile),
                    format!("cannot read `{}`: {error}", path.display()),
                ));
                session.report("format it");
                fail(Error::Spec);
                continue;
            }
        };
        let name = path.display().to_string();
        let Some(out) = formatted(&name, text.clone(), Some(path)) else {
            fail(Error::Spec);
            continue;
        };
        if args.check {
            unformatted |= report_check(&name, &text, &out) == Success::NotFormatted;
        } else if out != text {
            if let Err(error) = write_formatted(path, out.as_bytes()) {
                let error = Error::Write {
                    path: path.clone(),
                    error,
                };
                error.print_plain();
                fail(error);
            }
        }
    }
    match failure {
        Some(error) => Err(error),
        None if unformatted => Ok(Success::NotFormatted),
        None => Ok(Success::Done),
    }
}

/// Formats standard input to standard output, or with `check` shows what
/// formatting would change.
fn fmt_stdin(check: bool) -> Result<Success, Error> {
    let text = crate::pipeline::read_stdin().map_err(|error| {
        let error = Error::Stdin(error);
        error.print_plain();
        error
    })?;
    match formatted("<stdin>", text.clone(), None) {
        Some(out) if check => Ok(report_check("<stdin>", &text, &out)),
        Some(out) => {
            crate::out!("{out}");
            Ok(Success::Done)
        }
        None => Err(Error::Spec),
    }
}

/// Parses and formats one file; prints its syntax errors and returns `None` if it has any.
fn formatted(name: &str, text: String, path: Option<&Path>) -> Option<String> {
    let mut session = Session::new(MessageFormat::Human);
    let origin = path.map_or(Origin::Memory, |p| Origin::Disk(p.to_path_buf()));
    let sources = &mut session.compiled.sources;
    let file = sources.add(name.to_string(), text, origin);
    let (ast, diagnostics) = parse(file, sources.text(file));
    if !diagnostics.is_empty() {
        session.compiled.diagnostics.extend(diagnostics);
        session.report(&format!("format `{name}`; it is left as it was"));
        return None;
    }
    let sources = &mut session.compiled.sources;
    let out = format(&ast, sources.text(file));
    // The formatter's output always parses; should it not, the file is kept.
    let shown = format!("{name} (formatted)");
    let again = sources.add(shown, out.clone(), Origin::Memory);
    let (_, problems) = parse(again, sources.text(again));
    if !problems.is_empty() {
        session.compiled.diagnostics.extend(problems);
        session.report(&format!(
            "format `{name}` (the formatted text does not parse: a bug in kgpc fmt); it is left as it was"
        ));
        return None;
    }
    Some(out)
}

/// Writes a formatted spec over the file it came from and keeps what that
/// file is. A symbolic link still points at its target, which is the file
/// rewritten. A file with one name is replaced by a temporary file beside it,
/// with its mode (and owner, where kgpc may set it), renamed over it. A file
/// with several hard links is rewritten in place instead, since a rename
/// would part it from its other names; the formatted text is complete before
/// the file is opened.
fn write_formatted(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let target = std::fs::canonicalize(path)?;
    let meta = std::fs::metadata(&target)?;
    if meta.nlink() > 1 {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&target)?;
        file.write_all(contents)?;
        return file.sync_all();
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".kgpc-fmt-")
        .tempfile_in(dir)?;
    temp.write_all(contents)?;
    temp.as_file().set_permissions(meta.permissions())?;
    // Only root may give a file to another owner; anyone else keeps their own.
    let _ = std::os::unix::fs::fchown(temp.as_file(), Some(meta.uid()), Some(meta.gid()));
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

/// Shows what formatting would change, if anything would.
fn report_check(name: &str, before: &str, after: &str) -> Success {
    if before == after {
        return Success::Done;
    }
    let diff = similar::TextDiff::from_lines(before, after);
    crate::out!(
        "{}",
        diff.unified_diff()
            .context_radius(2)
            .header(name, &format!("{name} (formatted)"))
    );
    Success::NotFormatted
}
