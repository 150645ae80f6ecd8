//! The mechanics of replacing an output directory as a whole.
//!
//! A new version is staged in a sibling directory named
//! `.NAME.kgpc-new-RANDOM` and swapped with the old one in a single
//! `renameat2(RENAME_EXCHANGE)`, so the directory is always either the old
//! complete version or the new one. Every directory kgpc works on is held
//! with an exclusive `flock`, which the kernel drops when kgpc dies: a
//! sibling whose lock can be taken is a leftover of a killed kgpc and is
//! removed (or, for an old version moved aside, put back) at the next run.
//! Where the file system has no exchange, the old directory is renamed to
//! `.NAME.kgpc-old-RANDOM` first and the new one renamed in after it.

use std::ffi::CString;
use std::fs::{self, File, TryLockError};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// Marks a sibling that holds a version being staged (or, after the
/// exchange, the old version waiting to be removed).
const NEW: &str = "kgpc-new-";
/// Marks a sibling that holds the old version moved aside without exchange.
const OLD: &str = "kgpc-old-";

/// A directory held under kgpc's exclusive lock for as long as this lives.
pub(super) struct Held {
    pub path: PathBuf,
    _lock: File,
}

/// Takes the lock of the existing directory `dir`, waiting while another
/// kgpc holds it. Returns `None` when `dir` does not exist.
pub(super) fn lock_existing(dir: &Path) -> io::Result<Option<Held>> {
    // A kgpc that held the lock may have swapped another directory in
    // meanwhile; the lock then belongs to the old one, so take it again.
    for _ in 0..1000 {
        let file = match File::open(dir) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        file.lock()?;
        if same_inode(&file, dir)? {
            return Ok(Some(Held {
                path: dir.to_path_buf(),
                _lock: file,
            }));
        }
    }
    Err(io::Error::other(
        "another kgpc keeps replacing it; try again",
    ))
}

/// Whether the directory at `path` is still the one `file` holds.
fn same_inode(file: &File, path: &Path) -> io::Result<bool> {
    let held = file.metadata()?;
    Ok(match fs::symlink_metadata(path) {
        Ok(now) => now.dev() == held.dev() && now.ino() == held.ino(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    })
}

/// Creates and locks a new, empty staging directory beside `parent/name`.
pub(super) fn stage(parent: &Path, name: &str) -> io::Result<Held> {
    for _ in 0..100 {
        let path = sibling(parent, name, NEW);
        match fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        // Between the mkdir and the lock another kgpc may take it for a
        // leftover and remove it; then start again under a new name.
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if file.try_lock().is_ok() && same_inode(&file, &path)? {
            return Ok(Held { path, _lock: file });
        }
    }
    Err(io::Error::other("cannot create a staging directory"))
}

/// Removes the leftovers of killed kgpc runs beside `parent/name`. When
/// `name` is missing and an old version was moved aside, it is put back,
/// and the returned lock holds it.
pub(super) fn clean_leftovers(parent: &Path, name: &str) -> io::Result<Option<Held>> {
    let mut restored = None;
    let entries = match fs::read_dir(parent) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let new = format!(".{name}.{NEW}");
    let old = format!(".{name}.{OLD}");
    for entry in entries {
        let entry = entry?;
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let is_old = file_name.starts_with(&old);
        if !is_old && !file_name.starts_with(&new) || !entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        let Ok(file) = File::open(&path) else {
            continue;
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => continue,
            Err(TryLockError::Error(e)) => return Err(e),
        }
        if !same_inode(&file, &path)? {
            continue;
        }
        let target = parent.join(name);
        if is_old && restored.is_none() && !target.exists() {
            fs::rename(&path, &target)?;
            restored = Some(Held {
                path: target,
                _lock: file,
            });
            continue;
        }
        fs::remove_dir_all(&path)?;
    }
    Ok(restored)
}

/// Puts the complete `staged` directory at `dir`, which must not exist.
/// Fails with `AlreadyExists` when another kgpc put one there first.
pub(super) fn place(staged: &Held, dir: &Path) -> io::Result<()> {
    match rename2(&staged.path, dir, libc::RENAME_NOREPLACE) {
        Err(e) if unsupported(&e) => fs::rename(&staged.path, dir).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENOTEMPTY) {
                io::Error::from(io::ErrorKind::AlreadyExists)
            } else {
                e
            }
        }),
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
            Err(io::Error::from(io::ErrorKind::AlreadyExists))
        }
        other => other,
    }
}

/// Swaps the complete `staged` directory with `old`, which `old` holds
/// locked; returns where the old version is now, to be removed.
pub(super) fn swap(staged: &Held, old: &Held, parent: &Path, name: &str) -> io::Result<PathBuf> {
    match rename2(&staged.path, &old.path, libc::RENAME_EXCHANGE) {
        Ok(()) => Ok(staged.path.clone()),
        Err(e) if unsupported(&e) => {
            let aside = sibling(parent, name, OLD);
            fs::rename(&old.path, &aside)?;
            pause();
            if let Err(e) = fs::rename(&staged.path, &old.path) {
                let _ = fs::rename(&aside, &old.path);
                return Err(e);
            }
            Ok(aside)
        }
        Err(e) => Err(e),
    }
}

/// Whether a `renameat2` flag is not supported by this kernel or file system.
fn unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
    )
}

/// `renameat2(2)` on two paths.
fn rename2(from: &Path, to: &Path, flags: libc::c_uint) -> io::Result<()> {
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both pointers are NUL-terminated strings that outlive the call.
    let done = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            flags,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A fresh sibling name for `name` with the given mark.
fn sibling(parent: &Path, name: &str, mark: &str) -> PathBuf {
    let random = std::hash::RandomState::new().build_hasher().finish();
    parent.join(format!(
        ".{name}.{mark}{:08x}{random:016x}",
        std::process::id()
    ))
}

/// Sleeps between the steps of a write when `KGPC_TEST_OUTPUT_PAUSE_MS` is
/// set, so that the tests can kill kgpc inside every step.
pub(super) fn pause() {
    static PAUSE: OnceLock<Option<Duration>> = OnceLock::new();
    let pause = PAUSE.get_or_init(|| {
        std::env::var("KGPC_TEST_OUTPUT_PAUSE_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map(Duration::from_millis)
    });
    if let Some(pause) = pause {
        std::thread::sleep(*pause);
    }
}
