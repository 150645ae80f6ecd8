//! A release's debug objects from debuginfod, where no package gives them: the
//! vmlinux by the build id of the image's kernel, a module's by the build id of
//! the image's `.ko`.

use super::debuginfod::debuginfo;
use super::debuginfod_error::DebuginfodError;
use super::{say, FetchError, KernelPaths};
use std::fs;
use std::path::{Path, PathBuf};

/// Takes the debug vmlinux of the release's image from debuginfod and links it where
/// the `-dbg` package would put it, then marks the tree as having its debug vmlinux.
/// The caller holds no cache lock; the download takes it.
pub(super) fn vmlinux_by_build_id(cache: &Path, paths: &KernelPaths) -> Result<(), FetchError> {
    let image = paths.vmlinuz();
    let what = format!("the debug vmlinux of {}", paths.release);
    let build_id = super::bzimage::image_build_id(&image).map_err(|why| {
        FetchError::Debuginfod(DebuginfodError::NoBuildId {
            what: format!("the kernel in {}", image.display()),
            why,
        })
    })?;
    say(&format!(
        "the kernel in {} has build id {build_id} (read from its compressed payload)",
        image.display()
    ));
    let object = debuginfo(cache, &build_id, &what)?;
    let _lock = super::Lock::take(&cache.join("lock"));
    let io = |e: std::io::Error| FetchError::Unpack(format!("placing {what}: {e}"));
    let dest = paths.vmlinux();
    fs::create_dir_all(dest.parent().unwrap_or(&paths.dir)).map_err(io)?;
    link_into_place(&object, &dest).map_err(io)?;
    fs::write(paths.root().join(".kgpc-dbg-complete"), "").map_err(io)
}

/// The debug object of the image's module `image_module` (a `.ko` of `release`'s image
/// package, at `relative` under its modules) from debuginfod, by the module's own build
/// id, linked where the `-dbg` package would put it, so later runs find it there.
pub fn module_by_build_id(
    cache: &Path,
    release: &str,
    image_module: &Path,
    relative: &Path,
) -> Result<PathBuf, FetchError> {
    let name = image_module
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let what = format!("the debug object of {name} of {release}");
    let build_id = crate::build_id::of_file(image_module).map_err(|why| {
        FetchError::Debuginfod(DebuginfodError::NoBuildId {
            what: image_module.display().to_string(),
            why,
        })
    })?;
    let object = debuginfo(cache, &build_id, &what)?;
    let dest = KernelPaths::in_cache(cache, release)
        .module_debug_dir()
        .join(relative);
    let _lock = super::Lock::take(&cache.join("lock"));
    let io = |e: std::io::Error| FetchError::Unpack(format!("placing {what}: {e}"));
    fs::create_dir_all(dest.parent().unwrap_or(cache)).map_err(io)?;
    link_into_place(&object, &dest).map_err(io)?;
    Ok(dest)
}

/// Makes `dest` name the same file as `object` (a hard link, else a copy), through a
/// temporary name and a rename, so `dest` is never there half-made.
fn link_into_place(object: &Path, dest: &Path) -> std::io::Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    let temp = dir.join(format!(".kgpc-link.{}", std::process::id()));
    let _ = fs::remove_file(&temp);
    if fs::hard_link(object, &temp).is_err() {
        if let Err(e) = fs::copy(object, &temp) {
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
    }
    fs::rename(&temp, dest)
}
