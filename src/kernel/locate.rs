//! Where kernel objects are found: the debug vmlinux of a release and the
//! module objects.

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

/// The directories module objects are looked for in.
pub fn module_dirs(release: &str, explicit: Option<&Path>, cache_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = explicit {
        dirs.push(d.to_path_buf());
    }
    dirs.push(PathBuf::from(format!(
        "/usr/lib/debug/lib/modules/{release}"
    )));
    dirs.push(
        cache_dir
            .join("kernels")
            .join(release)
            .join("root/usr/lib/debug/lib/modules")
            .join(release),
    );
    dirs.push(PathBuf::from(format!("/lib/modules/{release}")));
    dirs
}

/// Finds the object of module `name` (dashes and underscores are the same)
/// under `dirs`: `name.ko`, else `name.o`.
pub fn find_module(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    let want = name.replace('-', "_");
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
                let file = entry.file_name().to_string_lossy().replace('-', "_");
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
