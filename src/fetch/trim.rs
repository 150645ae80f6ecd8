//! Making the kernel cache smaller: a release's debug files dropped once its
//! index holds what they would tell, downloaded packages removed, and whole
//! releases removed. Every removal happens under the cache lock; a tree is
//! renamed out of the cache's names before it is deleted, so no reader ever
//! sees half of one.

use super::in_use::ReleaseClaim;
use super::lock::Lock;
use super::{dropped_mark, FetchError, KernelPaths};
use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What one removal took away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    pub paths: Vec<PathBuf>,
    pub bytes: u64,
}

/// The bytes the files under `path` take, each file once however many hard
/// links it has, as `du -sb` counts them.
pub fn disk_usage(path: &Path) -> u64 {
    let mut seen = HashSet::new();
    usage(path, &mut seen)
}

fn usage(path: &Path, seen: &mut HashSet<(u64, u64)>) -> u64 {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return 0;
    };
    if !seen.insert((meta.dev(), meta.ino())) {
        return 0;
    }
    let own = meta.len();
    if !meta.is_dir() {
        return own;
    }
    own + fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| usage(&e.path(), seen))
        .sum::<u64>()
}

/// The `-dbg` packages of `release` kept in `<cache>/debs`.
pub fn dbg_debs(cache: &Path, release: &str) -> Vec<PathBuf> {
    let prefix = format!("linux-image-{release}-dbg_");
    let mut found: Vec<PathBuf> = fs::read_dir(cache.join("debs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with(&prefix) && f.ends_with(".deb"))
        })
        .collect();
    found.sort();
    found
}

fn unpack_error(what: &Path, e: std::io::Error) -> FetchError {
    FetchError::Unpack(format!("{}: {e}", what.display()))
}

fn remove_file(path: &Path, removed: &mut Removed) -> Result<(), FetchError> {
    let bytes = fs::symlink_metadata(path).map(|m| m.len()).unwrap_or(0);
    match fs::remove_file(path) {
        Ok(()) => {
            removed.paths.push(path.to_path_buf());
            removed.bytes += bytes;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(unpack_error(path, e)),
    }
}

/// Removes `release`'s debug vmlinux and its `-dbg` packages, after leaving
/// the mark that names the index `key` (`BUILD-ID-SIZE`) which answers for
/// them. The caller has written the index and its rendered facts whole, and
/// holds `claim`, so no running kgpc reads the release.
pub fn drop_debug_files(
    cache: &Path,
    release: &str,
    key: &str,
    _claim: &ReleaseClaim,
) -> Result<Removed, FetchError> {
    let paths = KernelPaths::in_cache(cache, release);
    let _lock = Lock::take(&cache.join("lock"));
    let vmlinux = paths.vmlinux();
    let mark = dropped_mark(&vmlinux);
    crate::atomic_write::write_atomically(&mark, format!("{key}\n").as_bytes())
        .map_err(|e| unpack_error(&mark, e))?;
    let mut removed = Removed::default();
    remove_file(&vmlinux, &mut removed)?;
    for deb in dbg_debs(cache, release) {
        remove_file(&deb, &mut removed)?;
    }
    Ok(removed)
}

/// Forgets that `release`'s debug files were dropped, so that the next fetch
/// with the debug package downloads it again.
pub fn forget_dropped_debug(cache: &Path, release: &str) -> Result<(), FetchError> {
    let paths = KernelPaths::in_cache(cache, release);
    let _lock = Lock::take(&cache.join("lock"));
    if !paths.is_index_only() {
        return Ok(());
    }
    for file in [
        paths.root().join(".kgpc-dbg-complete"),
        dropped_mark(&paths.vmlinux()),
    ] {
        remove_file(&file, &mut Removed::default())?;
    }
    Ok(())
}

/// Removes downloaded packages of `<cache>/debs`, under the cache lock.
pub fn remove_debs(cache: &Path, debs: &[PathBuf]) -> Result<Removed, FetchError> {
    let _lock = Lock::take(&cache.join("lock"));
    let mut removed = Removed::default();
    for deb in debs {
        remove_file(deb, &mut removed)?;
    }
    Ok(removed)
}

/// Removes the whole tree of `release` and the `index_files` that belong to
/// it. The tree is renamed out of the cache's names first, so that it is
/// never seen half removed.
pub fn remove_release(
    cache: &Path,
    release: &str,
    index_files: &[PathBuf],
    _claim: &ReleaseClaim,
) -> Result<Removed, FetchError> {
    let paths = KernelPaths::in_cache(cache, release);
    let _lock = Lock::take(&cache.join("lock"));
    let mut removed = Removed::default();
    let bytes = disk_usage(&paths.dir);
    let doomed = cache.join("kernels").join(format!(".gc.{release}"));
    let _ = fs::remove_dir_all(&doomed);
    fs::rename(&paths.dir, &doomed).map_err(|e| unpack_error(&paths.dir, e))?;
    fs::remove_dir_all(&doomed).map_err(|e| unpack_error(&doomed, e))?;
    removed.paths.push(paths.dir.clone());
    removed.bytes += bytes;
    for file in index_files {
        remove_file(file, &mut removed)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_links_are_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a"), vec![0u8; 10_000]).unwrap();
        fs::hard_link(dir.path().join("a"), dir.path().join("b")).unwrap();
        let dir_size = fs::metadata(dir.path()).unwrap().len();
        assert_eq!(disk_usage(dir.path()), dir_size + 10_000);
    }
}
