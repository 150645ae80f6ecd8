//! The C programs a test block builds for the guest: each compiled with
//! the host's gcc, statically (the guest has no C library), into the work
//! directory, before anything else of the test is built.

use super::ProveError;
use crate::check::model::{GuestProgram, TestPlan};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The compiler the programs are built with.
const GCC: &str = "gcc";

/// Builds every program of the plan; returns each one's name in the
/// guest's `/test` and the executable built.
pub fn build_all(plan: &TestPlan, work: &Path) -> Result<Vec<(String, PathBuf)>, ProveError> {
    if plan.programs.is_empty() {
        return Ok(Vec::new());
    }
    let dir = work.join("programs");
    fs::create_dir_all(&dir).map_err(|e| ProveError::ProgramTool {
        message: format!("cannot create `{}`: {e}", dir.display()),
        span: plan.programs[0].span,
    })?;
    plan.programs
        .iter()
        .map(|program| Ok((program.name.clone(), build(program, &dir)?)))
        .collect()
}

/// `gcc -static -O2 -Wall -o DIR/NAME NAME.c`, run in the C file's
/// directory so that its messages name the file as the spec does.
fn build(program: &GuestProgram, dir: &Path) -> Result<PathBuf, ProveError> {
    let output = dir.join(&program.name);
    let source_dir = program.source.parent().unwrap_or(Path::new("."));
    let file_name = program
        .source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let run = Command::new(GCC)
        .args(["-static", "-O2", "-Wall", "-o"])
        .arg(&output)
        .arg(&file_name)
        .current_dir(source_dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ProveError::ProgramTool {
            message: match e.kind() {
                io::ErrorKind::NotFound => {
                    format!(
                        "the C compiler `{GCC}` that builds the test's programs is not installed"
                    )
                }
                _ => format!("cannot run `{GCC}`: {e}"),
            },
            span: program.span,
        })?;
    if run.status.success() {
        return Ok(output);
    }
    let mut log = String::from_utf8_lossy(&run.stderr).into_owned();
    log.push_str(&String::from_utf8_lossy(&run.stdout));
    Err(ProveError::Program {
        file: program.file,
        compiled_as: file_name,
        log,
        span: program.span,
    })
}
