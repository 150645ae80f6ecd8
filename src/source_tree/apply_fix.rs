//! The fix applied to the target's source: each file the patch changes is
//! read from the release's source tree and patched, every hunk that does
//! not apply is collected, and nothing is written anywhere.

use super::{is_inside, SOURCE_FILE_LIMIT};
use crate::patch_file::{apply, Applied, FileDiff, HunkFailure, PatchFile};
use std::path::Path;

/// One file of the source tree with the fix applied.
#[derive(Debug, Clone)]
pub struct AppliedFile {
    /// The index of the file in the patch.
    pub index: usize,
    /// The path in the tree, such as `fs/proc/cmdline.c`.
    pub path: String,
    /// The file as the target has it; empty for a file the fix creates.
    pub original: String,
    pub applied: Applied,
}

/// Why a file of the fix could not be applied.
#[derive(Debug)]
pub enum ApplyProblem {
    /// The tree has no such file (or the path leaves the tree): the index
    /// of the file in the patch, and what went wrong.
    Missing { file: usize, reason: String },
    /// Some hunks do not apply.
    Hunks {
        file: usize,
        failures: Vec<HunkFailure>,
    },
}

/// Applies every file of `patch` to the source `tree`. A file is reported
/// once, with every hunk that failed; the other files are still applied.
pub fn apply_fix(tree: &Path, patch: &PatchFile) -> (Vec<AppliedFile>, Vec<ApplyProblem>) {
    let mut applied = Vec::new();
    let mut problems = Vec::new();
    for (index, file) in patch.files.iter().enumerate() {
        match apply_file(tree, index, file) {
            Ok(Ok(done)) => applied.push(done),
            Ok(Err(failures)) => problems.push(ApplyProblem::Hunks {
                file: index,
                failures,
            }),
            Err(reason) => problems.push(ApplyProblem::Missing {
                file: index,
                reason,
            }),
        }
    }
    (applied, problems)
}

/// Reads the original of one file and applies its hunks; the outer error
/// says why the original could not be read.
fn apply_file(
    tree: &Path,
    index: usize,
    file: &FileDiff,
) -> Result<Result<AppliedFile, Vec<HunkFailure>>, String> {
    let path = file
        .new_path
        .as_deref()
        .or(file.old_path.as_deref())
        .unwrap_or_default()
        .to_string();
    let original = match &file.old_path {
        None => String::new(),
        Some(old) => read_source_file(tree, old)?,
    };
    Ok(apply(&original, file).map(|applied| AppliedFile {
        index,
        path,
        original,
        applied,
    }))
}

/// The text of `path` in the source `tree`, refusing a path that leaves it.
pub fn read_source_file(tree: &Path, path: &str) -> Result<String, String> {
    if !is_inside(path) {
        return Err("the path leaves the source tree".to_string());
    }
    let bytes = crate::read::read_regular(&tree.join(path), SOURCE_FILE_LIMIT)
        .map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
}
