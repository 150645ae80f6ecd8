//! The kernel cache: Debian kernel packages fetched with apt and unpacked into
//! `<cache>/kernels/<release>/root/`.
//!
//! ```text
//! <cache>/debs/*.deb                          downloaded packages, kept for reuse
//! <cache>/kernels/<release>/release           written last, when the tree is complete
//! <cache>/kernels/<release>/root/.kgpc-complete       image, headers, kbuild unpacked
//! <cache>/kernels/<release>/root/.kgpc-dbg-complete   debug vmlinux and System.map too
//! <cache>/kernels/<release>/root/usr/lib/debug/boot/vmlinux-<release>.kgpc-dropped
//!                                             the debug vmlinux was dropped; names its index
//! <cache>/kernels/<release>/.kgpc-in-use      runs hold it shared; its time is the last use
//! <cache>/kernels/<release>/root/usr/lib/debug/lib/modules/<release>/...ko
//!                                             modules' debug objects, each taken when first needed
//! <cache>/kernels/<release>/source/          the kernel's source (linux-source-X.Y of the
//!                                             image's version), marked by .kgpc-source-complete
//! <cache>/kernels/current                    the release `kernel fetch` resolved last
//! <cache>/debuginfod/HEX/debuginfo            debug objects by build id from debuginfod
//!                                             servers (see [`debuginfod`]), where no package has them
//! <cache>/lock                                runs take turns (flock)
//! <cache>/census.lock                         census boots take turns (see crate::vm::census)
//! ```
//!
//! Trees are unpacked under a temporary name, made self-contained (nothing in
//! them may point into the host's `/usr/src` or `/lib/modules`; see
//! [`host_paths`]), marked complete with the cache's format and renamed into
//! place. Readers use a tree only through [`ready`], which waits for a fetch
//! under way and brings a tree of an older format up to date. Nothing is
//! installed on the system: packages are downloaded with `apt-get download`
//! and unpacked with `dpkg-deb`.

mod apt;
mod archive;
mod by_build_id;
mod bzimage;
pub mod debuginfod;
mod debuginfod_error;
mod disk;
mod error;
pub mod host_paths;
mod in_use;
mod lock;
mod module_debug;
mod package;
mod paths;
mod releases;
mod shared_packages;
mod source;
mod source_version;
mod tls_roots;
pub mod trim;

pub use archive::{available_builds, is_build_release, ArchiveBuild};
pub use by_build_id::module_by_build_id;
pub use bzimage::image_build_id;
pub use debuginfod_error::Failure as DebuginfodFailure;
pub use disk::size;
pub use error::{Asked, DebuginfodError, FetchError};
pub use in_use::{last_used, ReleaseClaim, ReleaseUse};
pub(crate) use lock::Lock;
pub use module_debug::module_debug_object;
pub use paths::{cache_dir, dropped_debug_key, dropped_mark, KernelPaths};
pub use releases::{cached_releases, current_release, natural_key, valid_release, DEFAULT_FLAVOUR};
pub use source::{fetch_source, source_dir, source_ready, SourceTree};
pub use source_version::SourcePackage;

use apt::Apt;
use module_debug::extract_dbg;
use std::fs;
use std::path::Path;

/// The contents of a tree's completion mark. Trees whose mark differs were made
/// by another version of kgpc and are brought up to date before use.
pub(crate) const TREE_FORMAT: &str = "kgpc kernel tree 2: self-contained\n";

/// The file in a tree's root that lists the shared packages taken at
/// another version than the build's own, one `NAME VERSION instead of VERSION` a line.
pub const SUBSTITUTES: &str = ".kgpc-substituted-packages";

/// Options of one fetch.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Also take the debug vmlinux and System.map from the `-dbg` package.
    pub dbg: bool,
    /// Take the debug vmlinux from the debuginfod servers of `DEBUGINFOD_URLS`, by the
    /// build id of the image's kernel, instead of from the `-dbg` package.
    pub debuginfod: bool,
}

/// Progress goes to standard error through this.
pub(crate) fn say(message: &str) {
    crate::errln!("kgpc kernel: {message}");
}

/// Makes sure the cache holds `release`, fetching what is missing.
pub fn fetch(
    cache: &Path,
    release: &str,
    options: &FetchOptions,
) -> Result<KernelPaths, FetchError> {
    disk::once_cleaned(fetch_into(cache, release, options))
}

fn fetch_into(
    cache: &Path,
    release: &str,
    options: &FetchOptions,
) -> Result<KernelPaths, FetchError> {
    if !valid_release(release) {
        return Err(FetchError::BadRelease(release.to_string()));
    }
    let paths = KernelPaths::in_cache(cache, release);
    if paths.is_complete() && (!options.dbg || paths.has_dbg()) {
        return Ok(paths);
    }
    let io = |what: &str, e: std::io::Error| FetchError::Unpack(format!("{what}: {e}"));
    let debs = cache.join("debs");
    fs::create_dir_all(&debs).map_err(|e| io(&debs.display().to_string(), e))?;
    let lock = Lock::take(&cache.join("lock"));
    // Another run may have finished while this one waited.
    if paths.is_complete() && (!options.dbg || paths.has_dbg()) {
        return Ok(paths);
    }

    if paths.is_outdated() {
        bring_up_to_date(&paths)?;
    }
    if paths.is_complete() && (!options.dbg || paths.has_dbg()) {
        return Ok(paths);
    }

    if paths.is_complete() && options.dbg && options.debuginfod {
        drop(lock);
        return debug_vmlinux_by_build_id(cache, paths);
    }
    let mut apt = Apt { updated: false };
    let (version, depends) = apt.headers(release)?;
    // Only a release apt knows gets a directory in the cache.
    fs::create_dir_all(&paths.dir).map_err(|e| io(&paths.dir.display().to_string(), e))?;
    if !paths.is_complete() {
        let depends = shared_packages::resolve(release, &version, &depends)?;
        let mut packages = vec![
            format!("linux-image-{release}"),
            format!("linux-headers-{release}={version}"),
        ];
        packages.extend(depends.iter().map(|d| d.pinned()));
        let substitutes: Vec<String> = depends
            .iter()
            .filter_map(|d| {
                let wanted = d.instead_of.as_ref()?;
                Some(format!("{} {} instead of {wanted}\n", d.name, d.version))
            })
            .collect();
        for line in &substitutes {
            say(&format!(
                "the archive no longer has the version of a shared package {release} was built \
                 with; taking {}",
                line.trim_end()
            ));
        }
        let files = apt.download(&debs, &packages)?;
        say(&format!(
            "unpacking {release} into {}",
            paths.root().display()
        ));
        let tmp = tempfile::Builder::new()
            .prefix(".tmp.")
            .tempdir_in(&paths.dir)
            .map_err(|e| io("a temporary directory", e))?;
        for file in &files {
            package::unpack(&debs.join(file), tmp.path())?;
        }
        self_contained(tmp.path(), &paths.root())?;
        if !substitutes.is_empty() {
            fs::write(tmp.path().join(SUBSTITUTES), substitutes.concat())
                .map_err(|e| io("the list of substituted packages", e))?;
        }
        fs::write(tmp.path().join(".kgpc-complete"), TREE_FORMAT)
            .map_err(|e| io("the completion mark", e))?;
        let _ = fs::remove_dir_all(paths.root());
        let kept = tmp.keep();
        fs::rename(&kept, paths.root()).map_err(|e| io("renaming the tree into place", e))?;
    }
    write_release_file(&paths)?;
    if options.dbg && !paths.has_dbg() && !options.debuginfod {
        let package = format!("linux-image-{release}-dbg={version}");
        match apt.download(&debs, std::slice::from_ref(&package)) {
            Ok(files) => {
                say(&format!("unpacking the debug vmlinux of {release}"));
                extract_dbg(&debs.join(&files[0]), &paths)?;
            }
            // Where the archive has no -dbg package, debuginfod servers may have the object.
            Err(FetchError::Download { detail, .. }) if debuginfod::configured() => {
                say(&format!(
                    "no {package} to download ({}); asking the debuginfod servers of DEBUGINFOD_URLS",
                    detail.lines().next().unwrap_or_default()
                ));
                drop(lock);
                return debug_vmlinux_by_build_id(cache, paths);
            }
            Err(e) => return Err(e),
        }
    }
    if options.dbg && options.debuginfod && !paths.has_dbg() {
        drop(lock);
        return debug_vmlinux_by_build_id(cache, paths);
    }
    Ok(paths)
}

/// The debug vmlinux of a complete tree from debuginfod. The cache lock is not held:
/// the download takes it.
fn debug_vmlinux_by_build_id(cache: &Path, paths: KernelPaths) -> Result<KernelPaths, FetchError> {
    if !paths.has_dbg() {
        by_build_id::vmlinux_by_build_id(cache, &paths)?;
    }
    Ok(paths)
}

/// Writes `<cache>/kernels/<release>/release` once the tree is complete.
fn write_release_file(paths: &KernelPaths) -> Result<(), FetchError> {
    let release_file = paths.dir.join("release");
    if !release_file.is_file() {
        fs::write(&release_file, format!("{}\n", paths.release))
            .map_err(|e| FetchError::Unpack(format!("{}: {e}", release_file.display())))?;
    }
    Ok(())
}

/// Points everything in the unpacked `tree` that refers to the host into the
/// tree (whose final place is `root`), then refuses the tree if anything still
/// refers to the host.
fn self_contained(tree: &Path, root: &Path) -> Result<(), FetchError> {
    let unpack = |e: std::io::Error| FetchError::Unpack(format!("{}: {e}", tree.display()));
    host_paths::make_self_contained(tree, root).map_err(unpack)?;
    let left = host_paths::host_references(tree).map_err(unpack)?;
    if left.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = left.iter().take(10).map(|r| format!("  {r}")).collect();
    Err(FetchError::Unpack(format!(
        "the unpacked kernel still refers to files outside the cache, which a build would read \
         from the host; kgpc cannot rewrite {} reference(s):\n{}",
        left.len(),
        shown.join("\n")
    )))
}

/// Rewrites, in place, a tree an older kgpc completed: its headers' Makefile may
/// still include the host's `/usr/src`. The caller holds the cache lock.
fn bring_up_to_date(paths: &KernelPaths) -> Result<(), FetchError> {
    say(&format!(
        "making the cached {} self-contained (it was unpacked by an older kgpc)",
        paths.release
    ));
    let root = paths.root();
    self_contained(&root, &root)?;
    crate::atomic_write::write_atomically(&paths.complete_mark(), TREE_FORMAT.as_bytes())
        .map_err(|e| FetchError::Unpack(format!("the completion mark: {e}")))
}

/// The complete tree of `release` in the cache, if there is one. A fetch under
/// way in another kgpc is waited for, and a tree of an older format is brought
/// up to date, so the tree returned is never one still being unpacked.
pub fn ready(cache: &Path, release: &str) -> Result<Option<KernelPaths>, FetchError> {
    if !valid_release(release) {
        return Ok(None);
    }
    let paths = KernelPaths::in_cache(cache, release);
    if paths.is_complete() {
        return Ok(Some(paths));
    }
    if !paths.dir.is_dir() {
        return Ok(None);
    }
    // Something of this release is in the cache but not complete: a fetch may
    // be under way, which holds the lock until the tree is in place.
    let _lock = Lock::take(&cache.join("lock"));
    if paths.is_outdated() {
        bring_up_to_date(&paths)?;
    }
    Ok(paths.is_complete().then_some(paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_are_checked_before_they_reach_a_command() {
        assert!(valid_release("6.1.0-57-cloud-amd64"));
        assert!(valid_release("5.15.0-91-generic"));
        for bad in ["", "-rf", "6.1 0", "6.1/../x", "linux", "6.1;rm"] {
            assert!(!valid_release(bad), "{bad}");
        }
        let cache = tempfile::tempdir().unwrap();
        assert_eq!(
            fetch(cache.path(), "../x", &FetchOptions::default()).unwrap_err(),
            FetchError::BadRelease("../x".into())
        );
    }
}
