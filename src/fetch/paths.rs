//! Where things live in the kernel cache: the cache directory and one release's tree.

use super::TREE_FORMAT;
use std::path::{Path, PathBuf};

/// Where one release lives in the cache.
#[derive(Debug, Clone)]
pub struct KernelPaths {
    pub release: String,
    pub dir: PathBuf,
}

impl KernelPaths {
    pub fn new(release: &str) -> Self {
        Self::in_cache(&cache_dir(), release)
    }

    pub fn in_cache(cache: &Path, release: &str) -> Self {
        KernelPaths {
            release: release.to_string(),
            dir: cache.join("kernels").join(release),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.join("root")
    }
    /// The kernel's source tree (the `linux-source-X.Y` package of the image's version).
    pub fn source(&self) -> PathBuf {
        self.dir.join("source")
    }
    /// The module build tree (the headers package).
    pub fn kdir(&self) -> PathBuf {
        self.root()
            .join(format!("usr/src/linux-headers-{}", self.release))
    }
    /// The bootable, compressed image.
    pub fn vmlinuz(&self) -> PathBuf {
        self.root().join(format!("boot/vmlinuz-{}", self.release))
    }
    /// The debug vmlinux with DWARF and symbols.
    pub fn vmlinux(&self) -> PathBuf {
        self.root()
            .join(format!("usr/lib/debug/boot/vmlinux-{}", self.release))
    }
    /// The modules of the image package.
    pub fn modules(&self) -> PathBuf {
        self.root().join(format!("lib/modules/{}", self.release))
    }
    /// Where debug objects of modules taken from the `-dbg` package go.
    pub fn module_debug_dir(&self) -> PathBuf {
        self.root()
            .join(format!("usr/lib/debug/lib/modules/{}", self.release))
    }
    /// The mark written when the tree is complete and self-contained.
    pub(super) fn complete_mark(&self) -> PathBuf {
        self.root().join(".kgpc-complete")
    }
    /// Whether the tree is complete, in the cache's current format.
    pub fn is_complete(&self) -> bool {
        crate::read::read_data_text(&self.complete_mark()).is_ok_and(|mark| mark == TREE_FORMAT)
    }
    /// Whether the tree was completed by an older kgpc, whose trees may still
    /// refer to the host.
    pub(super) fn is_outdated(&self) -> bool {
        self.complete_mark().is_file() && !self.is_complete()
    }
    pub fn has_dbg(&self) -> bool {
        self.root().join(".kgpc-dbg-complete").is_file()
    }
    /// Whether the release's debug vmlinux was dropped, leaving its index.
    pub fn is_index_only(&self) -> bool {
        dropped_mark(&self.vmlinux()).is_file()
    }
}

/// The mark left where a debug vmlinux was dropped (`kgpc kernel drop-debug`):
/// it holds the key of the vmlinux's index, `BUILD-ID-SIZE`.
pub fn dropped_mark(vmlinux: &Path) -> PathBuf {
    let mut name = vmlinux.file_name().unwrap_or_default().to_os_string();
    name.push(".kgpc-dropped");
    vmlinux.with_file_name(name)
}

/// The index key the mark beside `vmlinux` records, if its debug files were dropped.
pub fn dropped_debug_key(vmlinux: &Path) -> Option<String> {
    let text = crate::read::read_data_text(&dropped_mark(vmlinux)).ok()?;
    let key = text.trim();
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    plain.then(|| key.to_string())
}

/// The kgpc cache directory: `$KGPC_CACHE_DIR`, else `$XDG_CACHE_HOME/kgpc`, else `~/.cache/kgpc`.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("KGPC_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("kgpc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_of_the_cache() {
        let paths = KernelPaths::in_cache(Path::new("/c"), "6.1.0-57-cloud-amd64");
        assert_eq!(
            paths.kdir(),
            PathBuf::from(
                "/c/kernels/6.1.0-57-cloud-amd64/root/usr/src/linux-headers-6.1.0-57-cloud-amd64"
            )
        );
        assert_eq!(
            paths.vmlinuz(),
            PathBuf::from("/c/kernels/6.1.0-57-cloud-amd64/root/boot/vmlinuz-6.1.0-57-cloud-amd64")
        );
    }
}
