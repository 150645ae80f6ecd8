//! `kgpc new --from-patch`: a spec written from an upstream fix. Applying
//! the fix to the target's source is `kgpc check`'s work, as for any spec.

use super::session::Session;
use crate::cli::{MessageFormat, NewArgs};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::fetch::{cache_dir, cached_releases, valid_release};
use crate::load::refusal_or;
use crate::patch_file::diagnostics::malformed;
use crate::patch_file::spec_writer::{
    inline_diff, release_arch, release_pattern, write_spec, NewSpec,
};
use crate::patch_file::{parse, DiffLines, PatchFile};
use crate::read::read_text;
use crate::source::Origin;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Writes the spec for the fix, or says why not; nothing is written when
/// the patch has errors.
pub fn new(args: &NewArgs) -> Result<(), Error> {
    let mut session = Session::new(MessageFormat::Human);
    let result = run(args, &mut session);
    let failed = session.report("write the spec");
    match result {
        Err(error) => Err(error),
        Ok(_) if failed => Err(Error::Spec),
        Ok(spec) => write_out(args, &spec),
    }
}

/// The spec's text, with the diagnostics found on the way in the session.
fn run(args: &NewArgs, session: &mut Session) -> Result<String, Error> {
    let (patch, text) = read_patch(&args.from_patch, session)?;
    let release = release(args, session)?;
    let (fix_path, inline) = if args.inline {
        let diff = inline_diff(&text, &patch).map_err(|reason| {
            session.push(
                Diagnostic::error(
                    Code::BadTextBlock,
                    format!("cannot write the fix into the spec: {reason}"),
                )
                .with_help("leave out `--inline`: the spec then names the patch file"),
            );
            Error::Spec
        })?;
        (args.from_patch.display().to_string(), Some(diff))
    } else {
        (fix_path(args, session)?, None)
    };
    Ok(write_spec(&NewSpec {
        patch: &patch,
        fix_path: &fix_path,
        release: &release_pattern(&release),
        arch: release_arch(&release),
        inline: inline.as_deref(),
    }))
}

/// Reads and parses the patch file into the session's sources; also its text.
fn read_patch(path: &Path, session: &mut Session) -> Result<(PatchFile, String), Error> {
    let shown = path.display().to_string();
    let text = read_text(path).map_err(|error| {
        session.push(
            Diagnostic::error(
                refusal_or(&error, Code::UnreadableFile),
                format!("cannot read `{shown}`: {error}"),
            )
            .with_help("name the fix's patch file, as `git format-patch` writes it"),
        );
        Error::Spec
    })?;
    let sources = &mut session.compiled.sources;
    let id = sources.add(shown, text, Origin::Disk(path.to_path_buf()));
    match parse(sources.text(id)) {
        Ok(patch) => Ok((patch, sources.text(id).to_string())),
        Err(errors) => {
            let mut lines = DiffLines::default();
            lines.push_lines(id, 1, sources.text(id).lines().count(), 0);
            for error in &errors {
                let diagnostic = malformed(error, &session.compiled.sources, &lines);
                session.push(diagnostic);
            }
            Err(Error::Spec)
        }
    }
}

/// The release the spec is for: `--release`, else the newest in the kgpc cache.
fn release(args: &NewArgs, session: &mut Session) -> Result<String, Error> {
    let release = args
        .release
        .clone()
        .or_else(|| cached_releases(&cache_dir()).pop());
    match release {
        Some(release) if valid_release(&release) => Ok(release),
        Some(release) => {
            session.push(
                Diagnostic::error(
                    Code::ReleaseNotResolved,
                    format!("`{release}` is not a kernel release"),
                )
                .with_help(
                    "give the release as `uname -r` prints it, such as 6.1.0-57-cloud-amd64",
                ),
            );
            Err(Error::Spec)
        }
        None => {
            session.push(
                Diagnostic::error(Code::ReleaseNotResolved, "no kernel release to write the spec for")
                    .with_note("the kgpc cache holds no kernel")
                    .with_help("name the release with --release RELEASE, or fetch one with `kgpc kernel fetch`"),
            );
            Err(Error::Spec)
        }
    }
}

/// The patch's path relative to the spec's directory, which it must be in.
fn fix_path(args: &NewArgs, session: &mut Session) -> Result<String, Error> {
    let dir = match args.output.as_deref().and_then(Path::parent) {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let resolved_dir = dir.canonicalize().map_err(|error| Error::Write {
        path: args.output.clone().unwrap_or_default(),
        error,
    })?;
    let resolved_fix = args
        .from_patch
        .canonicalize()
        .map_err(|error| Error::Write {
            path: args.from_patch.clone(),
            error,
        })?;
    let relative = resolved_fix
        .strip_prefix(&resolved_dir)
        .ok()
        .and_then(|relative| {
            let parts: Option<Vec<&str>> = relative.iter().map(|p| p.to_str()).collect();
            parts.map(|p| p.join("/"))
        });
    relative.ok_or_else(|| {
        session.push(
            Diagnostic::error(
                Code::OutsideSpecTree,
                format!(
                    "the patch `{}` is outside the spec's directory `{}`",
                    args.from_patch.display(),
                    dir.display()
                ),
            )
            .with_note("a spec reads only files inside its own directory tree (docs/language.md, \"What a spec may read\")")
            .with_help(format!(
                "copy the patch next to the spec (`cp {} {}/`) and name the copy with --from-patch",
                args.from_patch.display(),
                dir.display()
            )),
        );
        Error::Spec
    })
}

/// Prints the spec, or writes it whole to `-o`, replacing a file only with `--force`.
fn write_out(args: &NewArgs, spec: &str) -> Result<(), Error> {
    let Some(path) = &args.output else {
        crate::out!("{spec}");
        return Ok(());
    };
    let exists = path.symlink_metadata().is_ok();
    if exists && !args.force {
        let error = std::io::Error::new(
            ErrorKind::AlreadyExists,
            "it exists; pass --force to replace it",
        );
        let mut session = Session::new(MessageFormat::Human);
        return Err(session.fail(
            Error::Write {
                path: path.clone(),
                error,
            },
            "write the spec",
        ));
    }
    let written = if exists {
        crate::atomic_write::replace_keeping_mode(path, spec.as_bytes())
    } else {
        crate::atomic_write::write_atomically(path, spec.as_bytes())
    };
    match written {
        Ok(()) => {
            crate::errln!(
                "Wrote {}; fill in its test block and check it with `kgpc check`.",
                path.display()
            );
            Ok(())
        }
        Err(error) => {
            let mut session = Session::new(MessageFormat::Human);
            Err(session.fail(
                Error::Write {
                    path: path.clone(),
                    error,
                },
                "write the spec",
            ))
        }
    }
}
