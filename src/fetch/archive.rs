//! The builds the distribution's archive holds now, read from apt's metadata:
//! which kernel images apt knows, and whether their headers and debug
//! packages are still there to fetch.

use super::apt::{output, Apt};
use super::{natural_key, valid_release, FetchError};
use std::collections::BTreeMap;
use std::process::Command;

/// One kernel build the archive lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveBuild {
    /// The release, as `uname -r` prints it.
    pub release: String,
    /// The image package's version, such as `6.1.170-3`.
    pub version: String,
    /// The archive still has `linux-headers-RELEASE`, without which no module builds.
    pub headers: bool,
    /// The archive has `linux-image-RELEASE-dbg`, the debug vmlinux.
    pub dbg: bool,
}

/// Whether `release` names one build, not a meta-package's flavour line such
/// as `6.12-cloud-amd64`: its version (digits and dots) is followed by an
/// ABI number (`6.1.0-47-...`) or a Debian suffix (`6.12.117+deb12-...`).
pub fn is_build_release(release: &str) -> bool {
    let rest = release.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    let mut chars = rest.chars();
    match chars.next() {
        Some('+') => true,
        Some('-') => chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// The builds whose release `wanted` accepts, oldest first. apt's lists are
/// refreshed once when they name no kernel image at all.
pub fn available_builds(wanted: &dyn Fn(&str) -> bool) -> Result<Vec<ArchiveBuild>, FetchError> {
    let mut apt = Apt { updated: false };
    let mut images = image_releases()?;
    if images.is_empty() {
        apt.update()?;
        images = image_releases()?;
    }
    images.retain(|r| wanted(r));
    if images.is_empty() {
        return Ok(Vec::new());
    }
    let mut names = Vec::new();
    for release in &images {
        names.push(format!("linux-image-{release}"));
        names.push(format!("linux-headers-{release}"));
        names.push(format!("linux-image-{release}-dbg"));
    }
    let versions = madison(&names)?;
    let mut builds: Vec<ArchiveBuild> = images
        .into_iter()
        .filter_map(|release| {
            let version = versions.get(&format!("linux-image-{release}"))?.clone();
            Some(ArchiveBuild {
                headers: versions.contains_key(&format!("linux-headers-{release}")),
                dbg: versions.contains_key(&format!("linux-image-{release}-dbg")),
                release,
                version,
            })
        })
        .collect();
    builds.sort_by_key(|b| natural_key(&b.release));
    Ok(builds)
}

/// The releases of every `linux-image-RELEASE` package apt knows.
fn image_releases() -> Result<Vec<String>, FetchError> {
    let (ok, text) = output(
        Command::new("apt-cache")
            .args(["pkgnames", "linux-image-"])
            .env("LC_ALL", "C"),
    )?;
    if !ok {
        return Err(FetchError::Download {
            packages: "apt's package names".into(),
            detail: format!("apt-cache pkgnames failed:\n{}", text.trim_end()),
        });
    }
    let mut releases: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("linux-image-"))
        .filter(|r| !r.ends_with("-dbg") && !r.ends_with("-unsigned"))
        .filter(|r| valid_release(r) && is_build_release(r))
        .map(str::to_string)
        .collect();
    releases.sort();
    releases.dedup();
    Ok(releases)
}

/// The newest version apt has of each of `packages` (those it has none of are left out).
pub(super) fn madison(packages: &[String]) -> Result<BTreeMap<String, String>, FetchError> {
    let mut versions: BTreeMap<String, String> = BTreeMap::new();
    // madison lists the newest version first.
    for (name, version) in madison_rows(packages)? {
        versions.entry(name).or_insert(version);
    }
    Ok(versions)
}

/// Every version apt has of `package`, newest first.
pub(super) fn versions_of(package: &str) -> Result<Vec<String>, FetchError> {
    Ok(madison_rows(&[package.to_string()])?
        .into_iter()
        .filter(|(name, _)| name == package)
        .map(|(_, version)| version)
        .collect())
}

/// The `package | version | source` rows `apt-cache madison` prints for `packages`.
fn madison_rows(packages: &[String]) -> Result<Vec<(String, String)>, FetchError> {
    let (_, text) = output(
        Command::new("apt-cache")
            .arg("madison")
            .args(packages)
            .env("LC_ALL", "C"),
    )?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split('|').map(str::trim);
            let (name, version) = (fields.next()?, fields.next()?);
            let valid = !name.is_empty() && !version.is_empty() && !name.contains(' ');
            valid.then(|| (name.to_string(), version.to_string()))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_are_told_from_meta_packages() {
        for build in [
            "6.1.0-47-cloud-amd64",
            "6.12.117+deb12-cloud-amd64",
            "6.1.0-57-rt-amd64",
        ] {
            assert!(is_build_release(build), "{build}");
        }
        for meta in ["6.12-cloud-amd64", "cloud-amd64", "6.1-amd64", "6.12"] {
            assert!(!is_build_release(meta), "{meta}");
        }
    }

    /// Reads this machine's apt metadata: Debian 12's archive lists the cloud
    /// kernel's ABIs, each with its version, and the current one has headers.
    #[test]
    fn the_archive_lists_the_cloud_kernels_builds() {
        let builds =
            available_builds(&|r: &str| r.starts_with("6.1.0-") && r.ends_with("-cloud-amd64"))
                .unwrap();
        assert!(builds.len() >= 2, "{builds:?}");
        assert!(builds.iter().all(|b| b.version.starts_with("6.1.")));
        assert!(builds.last().unwrap().headers, "{builds:?}");
        let keys: Vec<_> = builds.iter().map(|b| natural_key(&b.release)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
    }
}
