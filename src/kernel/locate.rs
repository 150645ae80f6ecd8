//! Where kernel objects are found: the debug vmlinux of a release and the
//! module objects.

use super::module_name::kernel_module_name;
use crate::fetch::KernelPaths;
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

/// The first existing debug vmlinux for `release`.
pub fn find_vmlinux(release: &str, cache_dir: &Path) -> Option<PathBuf> {
    vmlinux_candidates(release, cache_dir)
        .into_iter()
        .find(|p| p.is_file())
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
/// `-dbg` package then and there (only this module's); failing that, the image's own
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
        return Ok(
            match crate::fetch::module_debug_object(cache_dir, release, relative) {
                Ok(path) => ModuleObject { path, note: None },
                Err(e) => ModuleObject {
                    note: Some(format!(
                        "read the image's {} without DWARF (symbols, ftrace call sites and BTF): its debug object could not be taken from the -dbg package: {e}",
                        image.display()
                    )),
                    path: image,
                },
            },
        );
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
        let mut stack = vec![dir.clone()];
        let mut fallback = None;
        let mut visited = 0usize;
        while let Some(d) = stack.pop() {
            visited += 1;
            if visited > 20_000 {
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
                let file = kernel_module_name(&entry.file_name().to_string_lossy());
                if file == format!("{want}.ko") {
                    return Some(path);
                }
                if file == format!("{want}.o") && fallback.is_none() {
                    fallback = Some(path);
                }
            }
        }
        if fallback.is_some() {
            return fallback;
        }
    }
    None
}
