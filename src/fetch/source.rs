//! The kernel's exact source: the `linux-source-X.Y` package of the image's
//! version, unpacked into `<cache>/kernels/<release>/source/` with a
//! completion mark naming that version.

use super::apt::{output, Apt};
use super::source_version::{match_source, SourcePackage};
use super::{package, say, valid_release, FetchError, KernelPaths, Lock};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The start of a source tree's completion mark; the package and version follow.
const SOURCE_FORMAT: &str = "kgpc kernel source 1: ";
/// The name of the completion mark inside the tree.
const SOURCE_MARK: &str = ".kgpc-source-complete";
/// The prefix of the temporary directory a source is unpacked in.
const TEMPORARY_PREFIX: &str = ".tmp.source.";

/// A complete source tree of one release in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTree {
    pub release: String,
    /// The top of the tree (the directory holding `Makefile`, `kernel/`, `fs/`...).
    pub dir: PathBuf,
    /// The package and version it was unpacked from.
    pub package: SourcePackage,
}

/// Where the source tree of `release` lives in the cache.
pub fn source_dir(cache: &Path, release: &str) -> PathBuf {
    KernelPaths::in_cache(cache, release).source()
}

fn mark_text(package: &SourcePackage) -> String {
    format!("{SOURCE_FORMAT}{} {}\n", package.package, package.version)
}

/// The package the completed tree in `dir` was unpacked from, if it is complete.
fn completed(dir: &Path) -> Option<SourcePackage> {
    let mark = crate::read::read_data_text(&dir.join(SOURCE_MARK)).ok()?;
    let (package, version) = mark
        .strip_prefix(SOURCE_FORMAT)?
        .strip_suffix('\n')?
        .split_once(' ')?;
    Some(SourcePackage {
        package: package.to_string(),
        version: version.to_string(),
    })
}

/// The Debian version the release's cached headers say it was built from
/// (`include/generated/package.h`), if the headers are in the cache.
fn built_version(cache: &Path, release: &str) -> Option<String> {
    let paths = KernelPaths::in_cache(cache, release);
    let header = paths.kdir().join("include/generated/package.h");
    let text = crate::read::read_data_text(&header).ok()?;
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("#define LINUX_PACKAGE_ID "))?;
    let version = id.trim().trim_matches('"').trim().strip_prefix("Debian ")?;
    Some(version.trim().to_string())
}

/// The tree in the cache, if it is complete and of the version the release's
/// headers (when cached) say the kernel was built from.
fn complete_tree(cache: &Path, release: &str) -> Option<SourceTree> {
    let dir = source_dir(cache, release);
    let package = completed(&dir)?;
    if built_version(cache, release).is_some_and(|built| built != package.version) {
        return None;
    }
    Some(SourceTree {
        release: release.to_string(),
        dir,
        package,
    })
}

/// Whether a source is being unpacked for `release` (a temporary tree is there).
fn unpacking(cache: &Path, release: &str) -> bool {
    let dir = KernelPaths::in_cache(cache, release).dir;
    fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(TEMPORARY_PREFIX)
        })
    })
}

/// The complete source tree of `release`, if the cache has one of the right
/// version. A fetch under way in another kgpc is waited for.
pub fn source_ready(cache: &Path, release: &str) -> Option<SourceTree> {
    if !valid_release(release) {
        return None;
    }
    if let Some(tree) = complete_tree(cache, release) {
        return Some(tree);
    }
    if !unpacking(cache, release) {
        return None;
    }
    let _lock = Lock::take(&cache.join("lock"));
    complete_tree(cache, release)
}

/// Makes sure the cache holds the source `release` was built from, fetching
/// and unpacking it if it is missing or of another version.
pub fn fetch_source(cache: &Path, release: &str) -> Result<SourceTree, FetchError> {
    super::disk::once_cleaned(fetch_source_into(cache, release))
}

fn fetch_source_into(cache: &Path, release: &str) -> Result<SourceTree, FetchError> {
    if !valid_release(release) {
        return Err(FetchError::BadRelease(release.to_string()));
    }
    if let Some(tree) = complete_tree(cache, release) {
        return Ok(tree);
    }
    let io = |what: &str, e: std::io::Error| FetchError::Unpack(format!("{what}: {e}"));
    let debs = cache.join("debs");
    let release_dir = KernelPaths::in_cache(cache, release).dir;
    fs::create_dir_all(&debs).map_err(|e| io(&debs.display().to_string(), e))?;
    fs::create_dir_all(&release_dir).map_err(|e| io(&release_dir.display().to_string(), e))?;
    let _lock = Lock::take(&cache.join("lock"));
    // Another run may have finished while this one waited.
    if let Some(tree) = complete_tree(cache, release) {
        return Ok(tree);
    }
    let mut apt = Apt { updated: false };
    let source = resolve(&mut apt, release)?;
    let wanted = format!("{}={}", source.package, source.version);
    let files = apt.download(&debs, std::slice::from_ref(&wanted))?;
    let deb = debs.join(&files[0]);
    let dir = source_dir(cache, release);
    say(&format!(
        "unpacking {} {} into {}",
        source.package,
        source.version,
        dir.display()
    ));
    let tmp = tempfile::Builder::new()
        .prefix(TEMPORARY_PREFIX)
        .tempdir_in(&release_dir)
        .map_err(|e| io("a temporary directory", e))?;
    let tree = unpack_source(&deb, tmp.path(), &source)?;
    fs::write(tree.join(SOURCE_MARK), mark_text(&source))
        .map_err(|e| io("the completion mark", e))?;
    if dir.exists() {
        fs::remove_dir_all(&dir).map_err(|e| io("removing the old source tree", e))?;
    }
    fs::rename(&tree, &dir).map_err(|e| io("renaming the source tree into place", e))?;
    drop(tmp);
    Ok(SourceTree {
        release: release.to_string(),
        dir,
        package: source,
    })
}

/// The source package of `release`, of its image's version; apt's lists are
/// refreshed once if they name no source of that version.
fn resolve(apt: &mut Apt, release: &str) -> Result<SourcePackage, FetchError> {
    let name = super::source_version::source_package_name(release)
        .ok_or_else(|| FetchError::BadRelease(release.to_string()))?;
    loop {
        let image = apt.show(&format!("linux-image-{release}"), false)?;
        let source = apt.show(&name, true)?;
        match match_source(release, &image, &source) {
            Err(FetchError::NoMatchingSource { .. }) if !apt.updated => apt.update()?,
            result => return result,
        }
    }
}

/// Takes the source tarball out of `deb` into `tmp` and unpacks it there;
/// returns the top of the unpacked tree.
fn unpack_source(deb: &Path, tmp: &Path, source: &SourcePackage) -> Result<PathBuf, FetchError> {
    let tarball = format!("usr/src/{}.tar.xz", source.package);
    package::extract_members(deb, tmp, &[format!("*{tarball}")])?;
    let unpacked = tmp.join("tree");
    fs::create_dir(&unpacked).map_err(|e| FetchError::Unpack(e.to_string()))?;
    let (ok, text) = output(
        Command::new("tar")
            .arg("-xJf")
            .arg(tmp.join(&tarball))
            .arg("-C")
            .arg(&unpacked)
            .arg("--no-same-owner"),
    )?;
    if !ok {
        return Err(FetchError::Unpack(format!(
            "tar -xJf {tarball}: {}",
            text.trim_end()
        )));
    }
    let _ = fs::remove_file(tmp.join(&tarball));
    let top = unpacked.join(&source.package);
    if !top.join("Makefile").is_file() {
        return Err(FetchError::Unpack(format!(
            "{tarball} has no {}/Makefile",
            source.package
        )));
    }
    Ok(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_used_only_with_a_mark_of_the_built_version() {
        let cache = tempfile::tempdir().unwrap();
        let release = "6.1.0-57-cloud-amd64";
        let dir = source_dir(cache.path(), release);
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(source_ready(cache.path(), release), None, "no mark");
        let package = SourcePackage {
            package: "linux-source-6.1".into(),
            version: "6.1.192-3".into(),
        };
        fs::write(dir.join(SOURCE_MARK), mark_text(&package)).unwrap();
        let tree = source_ready(cache.path(), release).unwrap();
        assert_eq!((tree.dir, tree.package), (dir.clone(), package));
        let generated = KernelPaths::in_cache(cache.path(), release)
            .kdir()
            .join("include/generated");
        fs::create_dir_all(&generated).unwrap();
        fs::write(
            generated.join("package.h"),
            "#define LINUX_PACKAGE_ID \" Debian 6.1.195-1\"\n",
        )
        .unwrap();
        assert_eq!(source_ready(cache.path(), release), None, "another version");
        fs::write(
            generated.join("package.h"),
            "#define LINUX_PACKAGE_ID \" Debian 6.1.192-3\"\n",
        )
        .unwrap();
        assert!(source_ready(cache.path(), release).is_some());
    }
}
