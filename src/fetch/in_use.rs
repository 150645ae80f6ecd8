//! Which releases a running kgpc uses, and when each was last used.
//!
//! A run that reads a cached release holds a shared `flock` on
//! `<cache>/kernels/<release>/.kgpc-in-use` for as long as it lives, and sets
//! that file's modification time when it takes it: the time is the release's
//! last use, and `kgpc kernel gc`, which takes the lock exclusively and
//! without waiting before it removes anything of the release, never removes
//! a tree a running kgpc reads.

use super::{valid_release, KernelPaths};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The shared hold of one running kgpc on a release, released when dropped.
#[derive(Debug)]
pub struct ReleaseUse {
    _held: fs::File,
}

/// The exclusive hold of `kgpc kernel gc` on a release nobody else uses.
#[derive(Debug)]
pub struct ReleaseClaim {
    _held: fs::File,
}

fn in_use_file(cache: &Path, release: &str) -> PathBuf {
    KernelPaths::in_cache(cache, release)
        .dir
        .join(".kgpc-in-use")
}

fn open(cache: &Path, release: &str) -> Option<fs::File> {
    if !valid_release(release) || !KernelPaths::in_cache(cache, release).dir.is_dir() {
        return None;
    }
    fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(in_use_file(cache, release))
        .ok()
}

impl ReleaseUse {
    /// Marks `release` as used by this run until the value is dropped; `None`
    /// when the cache has no such release or the file cannot be opened.
    pub fn take(cache: &Path, release: &str) -> Option<ReleaseUse> {
        let file = open(cache, release)?;
        file.lock_shared().ok()?;
        let _ = file.set_modified(SystemTime::now());
        Some(ReleaseUse { _held: file })
    }
}

impl ReleaseClaim {
    /// Claims `release` for removal; `None` while a running kgpc uses it.
    pub fn try_take(cache: &Path, release: &str) -> Option<ReleaseClaim> {
        let file = open(cache, release)?;
        file.try_lock().ok()?;
        Some(ReleaseClaim { _held: file })
    }
}

/// When `release` was last used: the time a run last took it, else when its
/// tree was completed (the `release` file a fetch writes last).
pub fn last_used(cache: &Path, release: &str) -> Option<SystemTime> {
    let paths = KernelPaths::in_cache(cache, release);
    let modified = |p: PathBuf| fs::metadata(p).and_then(|m| m.modified()).ok();
    modified(in_use_file(cache, release)).or_else(|| modified(paths.dir.join("release")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_in_use_cannot_be_claimed_until_the_run_ends() {
        let cache = tempfile::tempdir().unwrap();
        let release = "6.1.0-999-fixture";
        fs::create_dir_all(KernelPaths::in_cache(cache.path(), release).dir).unwrap();
        let used = ReleaseUse::take(cache.path(), release).expect("taken");
        assert!(last_used(cache.path(), release).is_some());
        assert!(ReleaseClaim::try_take(cache.path(), release).is_none());
        drop(used);
        let claim = ReleaseClaim::try_take(cache.path(), release).expect("claimed");
        drop(claim);
        assert!(ReleaseUse::take(cache.path(), "../x").is_none());
    }
}
