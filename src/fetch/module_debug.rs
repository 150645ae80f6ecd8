//! Debug objects from the `-dbg` package: the vmlinux and System.map when a
//! release is fetched with them, and one module's debug object when it is
//! first asked for.

use super::apt::Apt;
use super::lock::Lock;
use super::package::extract_members;
use super::{say, valid_release, FetchError, KernelPaths};
use std::fs;
use std::path::{Path, PathBuf};

/// Takes the vmlinux and System.map from the start of the `-dbg` package's data.
pub(super) fn extract_dbg(deb: &Path, paths: &KernelPaths) -> Result<(), FetchError> {
    let tmp = tempfile::Builder::new()
        .prefix(".tmp.")
        .tempdir_in(&paths.dir)
        .map_err(|e| FetchError::Unpack(e.to_string()))?;
    extract_members(
        deb,
        tmp.path(),
        &["*/boot/vmlinux-*".into(), "*/boot/System.map-*".into()],
    )?;
    let dest = paths.root().join("usr/lib/debug/boot");
    fs::create_dir_all(&dest).map_err(|e| FetchError::Unpack(e.to_string()))?;
    for name in [
        format!("vmlinux-{}", paths.release),
        format!("System.map-{}", paths.release),
    ] {
        fs::rename(
            tmp.path().join("usr/lib/debug/boot").join(&name),
            dest.join(&name),
        )
        .map_err(|e| FetchError::Unpack(format!("{name} is not in {}: {e}", deb.display())))?;
    }
    fs::write(paths.root().join(".kgpc-dbg-complete"), "")
        .map_err(|e| FetchError::Unpack(e.to_string()))
}

/// The debug object of one module of the image, such as `kernel/fs/nfsd/nfsd.ko`, taken
/// from the release's `-dbg` package the first time it is asked for (downloaded if the
/// cache does not have it) and kept in the cache under `usr/lib/debug/lib/modules/`.
pub fn module_debug_object(
    cache: &Path,
    release: &str,
    module: &Path,
) -> Result<PathBuf, FetchError> {
    super::disk::once_cleaned(take_module_debug_object(cache, release, module))
}

fn take_module_debug_object(
    cache: &Path,
    release: &str,
    module: &Path,
) -> Result<PathBuf, FetchError> {
    if !valid_release(release) {
        return Err(FetchError::BadRelease(release.to_string()));
    }
    let paths = KernelPaths::in_cache(cache, release);
    let dest = paths.module_debug_dir().join(module);
    if dest.is_file() {
        return Ok(dest);
    }
    let _lock = Lock::take(&cache.join("lock"));
    if dest.is_file() {
        return Ok(dest);
    }
    let deb = dbg_package(cache, release)?;
    let start = std::time::Instant::now();
    say(&format!(
        "taking the debug object of {} from {}",
        module.display(),
        deb.file_name().unwrap_or_default().to_string_lossy()
    ));
    let tmp = tempfile::Builder::new()
        .prefix(".tmp.")
        .tempdir_in(&paths.dir)
        .map_err(|e| FetchError::Unpack(e.to_string()))?;
    let member = format!("lib/modules/{release}/{}", module.display());
    extract_members(&deb, tmp.path(), &[format!("*/{member}")])?;
    let found = tmp.path().join("usr/lib/debug").join(&member);
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(|e| FetchError::Unpack(e.to_string()))?;
    }
    fs::rename(&found, &dest)
        .map_err(|e| FetchError::Unpack(format!("{member} is not in {}: {e}", deb.display())))?;
    say(&format!(
        "{} is in {} ({:.1} s)",
        module.display(),
        dest.display(),
        start.elapsed().as_secs_f64()
    ));
    Ok(dest)
}

/// The release's `-dbg` package in the cache's downloads, downloaded if it is not there.
fn dbg_package(cache: &Path, release: &str) -> Result<PathBuf, FetchError> {
    let debs = cache.join("debs");
    let prefix = format!("linux-image-{release}-dbg_");
    let kept = fs::read_dir(&debs)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|f| f.to_str())
                .is_some_and(|f| f.starts_with(&prefix) && f.ends_with(".deb"))
        });
    if let Some(deb) = kept {
        return Ok(deb);
    }
    if KernelPaths::in_cache(cache, release).is_index_only() {
        return Err(FetchError::DebugDropped(release.to_string()));
    }
    fs::create_dir_all(&debs).map_err(|e| FetchError::Unpack(e.to_string()))?;
    let mut apt = Apt { updated: false };
    let (version, _) = apt.headers(release)?;
    let files = apt.download(&debs, &[format!("linux-image-{release}-dbg={version}")])?;
    Ok(debs.join(&files[0]))
}
