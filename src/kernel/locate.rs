//! Where kernel objects are found: the debug vmlinux of a release and the
//! module objects.

use super::module_name::kernel_module_name;
use crate::fetch::KernelPaths;
use std::ffi::OsStr;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// The places a release's debug vmlinux is looked for, in order.
pub fn vmlinux_candidates(release: &str, cache_dir: &Path) -> Vec<PathBuf> {
    vec![
        PathBuf::from(format!("/usr/lib/debug/boot/vmlinux-{release}")),
        PathBuf::from(format!("/usr/lib/debug/lib/modules/{release}/vmlinux")),
        PathBuf::from(format!("/boot/vmlinux-{release}")),
        PathBuf::from(format!("/lib/modules/{release}/build/vmlinux")),
        cache_dir
            .join("kernels")
            .join(release)
            .join("root/usr/lib/debug/boot")
            .join(format!("vmlinux-{release}")),
    ]
}

/// The first existing debug vmlinux for `release`, else the place of one
/// whose debug files were dropped, which [`super::Kernel::open`] opens from
/// its index alone.
pub fn find_vmlinux(release: &str, cache_dir: &Path) -> Option<PathBuf> {
    let candidates = vmlinux_candidates(release, cache_dir);
    candidates
        .iter()
        .find(|p| p.is_file())
        .or_else(|| {
            candidates
                .iter()
                .find(|p| crate::fetch::dropped_mark(p).is_file())
        })
        .cloned()
}

/// A module's object, and what it lacks when it is not a debug object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleObject {
    pub path: PathBuf,
    /// Why kgpc reads a module without DWARF, when it does.
    pub note: Option<String>,
}

/// The directories debug objects of modules are looked for in: `--modules`, the system's
/// debug directory, and what the kgpc cache took from the `-dbg` package.
pub fn module_dirs(release: &str, explicit: Option<&Path>, cache_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = explicit {
        dirs.push(d.to_path_buf());
    }
    dirs.push(PathBuf::from(format!(
        "/usr/lib/debug/lib/modules/{release}"
    )));
    dirs.push(KernelPaths::in_cache(cache_dir, release).module_debug_dir());
    dirs
}

/// Finds module `name`'s object for `release`. A debug object comes first; when the
/// kgpc cache holds the release's image, the module's debug object is taken from the
/// `-dbg` package then and there (only this module's), else, when `DEBUGINFOD_URLS`
/// names servers, from them by the build id of the image's `.ko`; failing that, the image's own
/// module (symbols, ftrace call sites and split BTF, no DWARF), else the system's
/// `/lib/modules`. `Err` lists where it looked.
pub fn module_object(
    name: &str,
    release: &str,
    explicit: Option<&Path>,
    cache_dir: &Path,
) -> Result<ModuleObject, Vec<PathBuf>> {
    let mut dirs = module_dirs(release, explicit, cache_dir);
    if let Some(path) = find_module(name, &dirs) {
        return Ok(ModuleObject { path, note: None });
    }
    // A tree another kgpc is still unpacking is waited for.
    let image_dir = crate::fetch::ready(cache_dir, release)
        .ok()
        .flatten()
        .unwrap_or_else(|| KernelPaths::in_cache(cache_dir, release))
        .modules();
    dirs.push(image_dir.clone());
    if let Some(image) = find_module(name, std::slice::from_ref(&image_dir)) {
        let relative = image.strip_prefix(&image_dir).unwrap_or(&image);
        let package = match crate::fetch::module_debug_object(cache_dir, release, relative) {
            Ok(path) => return Ok(ModuleObject { path, note: None }),
            Err(e) => e,
        };
        // Where no package has the debug object, debuginfod servers may, by build id.
        let why = if crate::fetch::debuginfod::configured() {
            crate::fetch::say(&format!(
                "the debug object of {} could not be taken from the -dbg package ({}); asking debuginfod by its build id",
                relative.display(),
                package.to_string().lines().next().unwrap_or_default()
            ));
            match crate::fetch::module_by_build_id(cache_dir, release, &image, relative) {
                Ok(path) => return Ok(ModuleObject { path, note: None }),
                Err(e) => format!("the -dbg package: {package}; nor from debuginfod: {e}"),
            }
        } else {
            format!("the -dbg package: {package} (DEBUGINFOD_URLS names no debuginfod server to ask instead)")
        };
        return Ok(ModuleObject {
            note: Some(format!(
                "read the image's {} without DWARF (symbols, ftrace call sites and BTF): its debug object could not be taken from {why}",
                image.display()
            )),
            path: image,
        });
    }
    let system = PathBuf::from(format!("/lib/modules/{release}"));
    dirs.push(system.clone());
    find_module(name, &[system])
        .map(|path| ModuleObject { path, note: None })
        .ok_or(dirs)
}

/// Finds the object of module `name` (dashes and underscores are the same)
/// under `dirs`: `name.ko`, else `name.o`.
pub fn find_module(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let want = kernel_module_name(name);
    for dir in dirs {
        if !dir.is_dir() {
            continue;
        }
        let mut fallback = None;
        let found = walk_files(dir, |path, file| {
            let file = kernel_module_name(&file.to_string_lossy());
            if file == format!("{want}.ko") {
                return ControlFlow::Break(path.to_path_buf());
            }
            if file == format!("{want}.o") && fallback.is_none() {
                fallback = Some(path.to_path_buf());
            }
            ControlFlow::Continue(())
        });
        if let Some(found) = found.or(fallback) {
            return Some(found);
        }
    }
    None
}

/// The most directories a walk reads, so that a huge tree cannot stall a lookup.
const MAX_DIRS: usize = 20_000;

/// Calls `visit` with the path and name of every file under `dir` (symbolic
/// links are not followed), depth first, until it breaks with a value.
///
/// This is the one walk for modules' files: [`find_module`] stops at the
/// first match, and the VM's index of a release's modules
/// (`crate::vm::modules`) reads the whole tree through it.
pub fn walk_files<B>(
    dir: &Path,
    mut visit: impl FnMut(&Path, &OsStr) -> ControlFlow<B>,
) -> Option<B> {
    let mut stack = vec![dir.to_path_buf()];
    let mut visited = 0usize;
    while let Some(d) = stack.pop() {
        visited += 1;
        if visited > MAX_DIRS {
            break;
        }
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            if let ControlFlow::Break(value) = visit(&path, &entry.file_name()) {
                return Some(value);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_object_is_found_by_its_kernel_name_ko_first() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        for file in ["a/nfs-common.o", "b/c/nfs_common.ko", "lone.o"] {
            let path = first.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        std::fs::create_dir_all(&second).unwrap();
        std::fs::write(second.join("other.ko"), "").unwrap();
        let dirs = [dir.path().join("missing"), first.clone(), second.clone()];
        assert_eq!(
            find_module("nfs-common", &dirs),
            Some(first.join("b/c/nfs_common.ko"))
        );
        assert_eq!(find_module("lone", &dirs), Some(first.join("lone.o")));
        assert_eq!(find_module("other", &dirs), Some(second.join("other.ko")));
        assert_eq!(find_module("absent", &dirs), None);
    }
}
