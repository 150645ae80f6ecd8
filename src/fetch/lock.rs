//! The kernel cache's lock.

use super::say;
use std::fs;
use std::path::Path;

/// The cache lock, an exclusive `flock` on `<cache>/lock`, held until this
/// value is dropped; the kernel releases it if kgpc dies. When the lock file
/// cannot be opened, runs go on unlocked: every tree is still renamed into
/// place whole.
pub(crate) struct Lock {
    _held: Option<fs::File>,
}

impl Lock {
    pub(crate) fn take(path: &Path) -> Lock {
        let Ok(file) = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
        else {
            return Lock { _held: None };
        };
        match file.try_lock() {
            Ok(()) => return Lock { _held: Some(file) },
            Err(fs::TryLockError::WouldBlock) => {
                say("waiting for another kgpc to finish with the kernel cache");
            }
            Err(fs::TryLockError::Error(_)) => return Lock { _held: None },
        }
        match file.lock() {
            Ok(()) => Lock { _held: Some(file) },
            Err(_) => Lock { _held: None },
        }
    }
}
