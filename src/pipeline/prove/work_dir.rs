//! Where a test builds and boots: the directory asked for, kept, or a
//! temporary one removed when the run ends.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The test's work directory.
pub struct WorkDir {
    path: PathBuf,
    /// The temporary directory, removed when this is dropped; none when kept.
    temp: Option<tempfile::TempDir>,
}

/// Why the work directory could not be made: the one asked for, or (none)
/// a temporary one.
pub struct WorkDirError {
    pub dir: Option<PathBuf>,
    pub error: io::Error,
}

impl WorkDir {
    /// The directory `keep` names (`--keep-work`), else a new temporary one.
    pub fn new(keep: Option<&Path>) -> Result<WorkDir, WorkDirError> {
        if let Some(dir) = keep {
            fs::create_dir_all(dir).map_err(|error| WorkDirError {
                dir: Some(dir.to_path_buf()),
                error,
            })?;
            return Ok(WorkDir {
                path: dir.to_path_buf(),
                temp: None,
            });
        }
        let temp = tempfile::Builder::new()
            .prefix("kgpc-test.")
            .tempdir()
            .map_err(|error| WorkDirError { dir: None, error })?;
        Ok(WorkDir {
            path: temp.path().to_path_buf(),
            temp: Some(temp),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the directory outlives the run.
    pub fn kept(&self) -> bool {
        self.temp.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_directory_is_made_and_a_temporary_one_goes_at_the_end() {
        let out = tempfile::tempdir().expect("a temporary directory");
        let asked = out.path().join("a/b");
        let kept = WorkDir::new(Some(&asked))
            .ok()
            .expect("the directory is made");
        assert!(kept.kept() && asked.is_dir() && kept.path() == asked);
        let temp = WorkDir::new(None).ok().expect("a temporary directory");
        let path = temp.path().to_path_buf();
        assert!(!temp.kept() && path.is_dir());
        drop(temp);
        assert!(!path.exists());
    }
}
