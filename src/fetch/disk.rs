//! The room left on a disk, and sizes in words, for the message of a full one.

use std::path::Path;

/// The bytes an unprivileged writer may still use on the file system holding
/// `path` (or its nearest existing parent), if the system says.
pub fn space_left(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let name = std::ffi::CString::new(existing.as_os_str().as_encoded_bytes()).ok()?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `name` is a NUL-terminated path and `stats` is written whole on success.
    if unsafe { libc::statvfs(name.as_ptr(), stats.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled `stats`.
    let stats = unsafe { stats.assume_init() };
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// The full-disk error of a tool (apt-get, dpkg-deb) that wrote `what` to `path` and
/// printed `text`, if the text says the disk was full.
pub(super) fn full_in(text: &str, what: &str, path: &Path) -> Option<super::FetchError> {
    text.contains("No space left on device")
        .then(|| super::FetchError::DiskFull {
            what: what.to_string(),
            path: path.to_path_buf(),
            needed: None,
            written: None,
            left: space_left(path),
        })
}

/// `result`, with a full disk's room measured again: the failed step's temporary files
/// are gone once it has returned, so the room is what the user has to fetch again with.
pub(super) fn once_cleaned<T>(
    result: Result<T, super::FetchError>,
) -> Result<T, super::FetchError> {
    result.map_err(|e| match e {
        super::FetchError::DiskFull {
            what,
            path,
            needed,
            written,
            left,
        } => super::FetchError::DiskFull {
            left: space_left(&path).or(left),
            what,
            path,
            needed,
            written,
        },
        e => e,
    })
}

/// A size in bytes for people, such as "17.2 MB" or "512 bytes".
pub fn size(bytes: u64) -> String {
    if bytes < 10_000 {
        format!("{bytes} bytes")
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_room_left_is_measured_at_the_nearest_existing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("not/yet/made");
        assert!(space_left(&deep).is_some_and(|n| n > 0));
    }
}
