//! The compiler's view of one file's change: the target's file and the
//! patched one compiled with the build tree's own flags, compared function
//! by function, and compiled once more with the patched text numbered as
//! the original's lines, so that changes of line numbers alone are told
//! from changes of code. This is the truth the source stage goes by; the
//! text only says where each function is.

use super::{compare, compile_unit, mark_line_only, renumbered, CompileError, ObjectChanges};
use super::{ObjectDiffError, UnitKind};
use std::path::Path;
use std::time::{Duration, Instant};

/// What the compiler makes of a fix to one file.
#[derive(Debug, Clone)]
pub struct CompilerView {
    /// Whether the file is built into vmlinux or into a module.
    pub kind: UnitKind,
    /// `KBUILD_MODNAME`: the module's name for a module's file.
    pub modname: String,
    pub changes: ObjectChanges,
    /// The time the three compiles took.
    pub elapsed: Duration,
}

/// Why the compiler's view could not be had.
#[derive(Debug)]
pub enum ViewError {
    /// The target's own file does not compile as kgpc compiles it.
    Original(CompileError),
    /// The patched file does not compile: the fix does not fit the target.
    Patched(CompileError),
    Compare(ObjectDiffError),
    /// No temporary directory for the compiles.
    Work(std::io::Error),
}

/// Compiles `path` of the source `tree` as the target has it (`original`)
/// and with the fix (`patched`) with the flags of the build tree `build`,
/// and compares the two objects.
pub fn compiler_view(
    build: &Path,
    tree: &Path,
    path: &str,
    original: &str,
    patched: &str,
) -> Result<CompilerView, ViewError> {
    let start = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("kgpc-fix-")
        .tempdir()
        .map_err(ViewError::Work)?;
    let compile = |text: &str, name: &str| {
        let dir = work.path().join(name);
        compile_unit(build, tree, path, text, &dir)
    };
    let before = compile(original, "original").map_err(ViewError::Original)?;
    let after = compile(patched, "patched").map_err(ViewError::Patched)?;
    let mut changes = compare(&before.object, &after.object).map_err(ViewError::Compare)?;
    if changes.changed_functions().next().is_some() || changes.changed_data().next().is_some() {
        let mapped =
            compile(&renumbered(original, patched), "renumbered").map_err(ViewError::Patched)?;
        let without_lines = compare(&before.object, &mapped.object).map_err(ViewError::Compare)?;
        mark_line_only(&mut changes, &without_lines);
    }
    Ok(CompilerView {
        kind: after.kind,
        modname: after.modname,
        changes,
        elapsed: start.elapsed(),
    })
}
