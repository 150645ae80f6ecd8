//! Packages that several builds share, such as `linux-kbuild-6.1` (kbuild's
//! host programs) and `linux-compiler-gcc-12-x86` (which only names the
//! compiler). The archive keeps only their newest versions, so a build whose
//! own version is gone takes the nearest one, and says so.

use super::archive::versions_of;
use super::{natural_key, FetchError};

/// One package a build's headers depend on, at the version the fetch takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Dependency {
    pub name: String,
    pub version: String,
    /// The version the headers ask for, when the archive no longer has it.
    pub instead_of: Option<String>,
}

impl Dependency {
    /// `name=version`, as apt-get takes it.
    pub fn pinned(&self) -> String {
        format!("{}={}", self.name, self.version)
    }
}

/// The part of `release` that every package built for it names:
/// `6.1.0-47` of `6.1.0-47-cloud-amd64`, `6.12.117+deb12` of `6.12.117+deb12-cloud-amd64`.
pub(super) fn abi(release: &str) -> String {
    let mut parts = release.split('-');
    let first = parts.next().unwrap_or_default();
    match parts.next() {
        Some(n) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => format!("{first}-{n}"),
        _ => first.to_string(),
    }
}

/// The version of each dependency of `release`'s headers to fetch: the
/// headers' own `version` where the archive has it, which it must for the
/// build's own packages; for a shared package whose version is gone, the
/// nearest version the archive has.
pub(super) fn resolve(
    release: &str,
    version: &str,
    depends: &[String],
) -> Result<Vec<Dependency>, FetchError> {
    let abi = abi(release);
    let mut resolved = Vec::new();
    for name in depends {
        let exact = Dependency {
            name: name.clone(),
            version: version.to_string(),
            instead_of: None,
        };
        if name.contains(&abi) {
            resolved.push(exact);
            continue;
        }
        let available = versions_of(name)?;
        if available.is_empty() || available.iter().any(|v| v == version) {
            resolved.push(exact);
            continue;
        }
        let Some(nearest) = nearest(version, &available) else {
            resolved.push(exact);
            continue;
        };
        resolved.push(Dependency {
            name: name.clone(),
            version: nearest,
            instead_of: Some(version.to_string()),
        });
    }
    Ok(resolved)
}

/// The version of `available` nearest `wanted`: the newest of the same
/// upstream version (`6.1.192-3` for `6.1.192-1`), else the oldest newer one,
/// else the newest.
pub(super) fn nearest(wanted: &str, available: &[String]) -> Option<String> {
    let upstream = |v: &str| v.rsplit_once('-').map_or(v, |(u, _)| u).to_string();
    let mut sorted: Vec<&String> = available.iter().collect();
    sorted.sort_by_key(|v| natural_key(v));
    if let Some(same) = sorted
        .iter()
        .rev()
        .find(|v| upstream(v) == upstream(wanted))
    {
        return Some(same.to_string());
    }
    let key = natural_key(wanted);
    sorted
        .iter()
        .find(|v| natural_key(v) > key)
        .or(sorted.last())
        .map(|v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_abi_is_what_the_builds_own_packages_name() {
        assert_eq!(abi("6.1.0-47-cloud-amd64"), "6.1.0-47");
        assert_eq!(abi("6.12.117+deb12-cloud-amd64"), "6.12.117+deb12");
        assert_eq!(abi("5.15.0-91-generic"), "5.15.0-91");
    }

    #[test]
    fn a_gone_version_takes_the_nearest_one() {
        let available = ["6.1.192-3".to_string(), "6.1.176-1".to_string()];
        assert_eq!(nearest("6.1.192-1", &available).unwrap(), "6.1.192-3");
        assert_eq!(nearest("6.1.170-3", &available).unwrap(), "6.1.176-1");
        assert_eq!(nearest("6.1.187-1", &available).unwrap(), "6.1.192-3");
        assert_eq!(nearest("6.1.200-1", &available).unwrap(), "6.1.192-3");
        assert_eq!(nearest("6.1.1-1", &[]), None);
    }
}
