//! `kgpc fmt`: format specs in place, check them, or filter standard input.

use super::{EXIT_OK, EXIT_OUTPUT, EXIT_SPEC_ERRORS};
use crate::cli::{FmtArgs, MessageFormat};
use crate::codes::Code;
use crate::commands::session::Session;
use crate::diagnostic::Diagnostic;
use crate::format::format;
use crate::load::refusal_or;
use crate::read::read_text;
use crate::source::Origin;
use crate::syntax::parse;
use std::io::Write;
use std::path::Path;

pub fn fmt(args: &FmtArgs) -> i32 {
    if args.files.is_empty() {
        let text = match super::session::read_stdin() {
            Ok(text) => text,
            Err(error) => {
                crate::errln!("error: cannot read standard input: {error}");
                return EXIT_SPEC_ERRORS;
            }
        };
        return match formatted("<stdin>", text.clone(), None) {
            Some(out) if args.check => report_check("<stdin>", &text, &out),
            Some(out) => {
                crate::out!("{out}");
                EXIT_OK
            }
            None => EXIT_SPEC_ERRORS,
        };
    }
    let mut status = EXIT_OK;
    for path in &args.files {
        let text = match read_text(path) {
            Ok(text) => text,
            Err(error) => {
                let mut session = Session::new(MessageFormat::Human);
                session.diagnostics.push(Diagnostic::error(
                    refusal_or(&error, Code::UnreadableFile),
                    format!("cannot read `{}`: {error}", path.display()),
                ));
                session.report("format it");
                status = status.max(EXIT_SPEC_ERRORS);
                continue;
            }
        };
        let name = path.display().to_string();
        let Some(out) = formatted(&name, text.clone(), Some(path)) else {
            status = status.max(EXIT_SPEC_ERRORS);
            continue;
        };
        if args.check {
            status = status.max(report_check(&name, &text, &out));
        } else if out != text {
            if let Err(e) = write_formatted(path, out.as_bytes()) {
                crate::errln!(
                    "error[{}]: cannot write `{name}`: {}",
                    Code::OutputError.as_str(),
                    crate::load::describe_io(&e)
                );
                status = EXIT_OUTPUT;
            }
        }
    }
    status
}

/// Parses and formats one file; prints its syntax errors and returns `None` if it has any.
fn formatted(name: &str, text: String, path: Option<&Path>) -> Option<String> {
    let mut session = Session::new(MessageFormat::Human);
    let origin = path.map_or(Origin::Memory, |p| Origin::Disk(p.to_path_buf()));
    let file = session.sources.add(name.to_string(), text, origin);
    let (ast, diagnostics) = parse(file, session.sources.text(file));
    if !diagnostics.is_empty() {
        session.diagnostics.extend(diagnostics);
        session.report(&format!("format `{name}`; it is left as it was"));
        return None;
    }
    let out = format(&ast, session.sources.text(file));
    // The formatter's output always parses; should it not, the file is kept.
    let shown = format!("{name} (formatted)");
    let again = session.sources.add(shown, out.clone(), Origin::Memory);
    let (_, problems) = parse(again, session.sources.text(again));
    if !problems.is_empty() {
        session.diagnostics.extend(problems);
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

/// Shows what formatting would change; returns 1 if anything would.
fn report_check(name: &str, before: &str, after: &str) -> i32 {
    if before == after {
        return EXIT_OK;
    }
    let diff = similar::TextDiff::from_lines(before, after);
    crate::out!(
        "{}",
        diff.unified_diff()
            .context_radius(2)
            .header(name, &format!("{name} (formatted)"))
    );
    EXIT_SPEC_ERRORS
}
