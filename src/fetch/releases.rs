//! Kernel releases: which strings are releases, which one the archive has now,
//! which ones the cache holds, and the order people read them in.

use super::apt::{output, Apt};
use super::{say, FetchError, KernelPaths};
use std::fs;
use std::path::Path;
use std::process::Command;

/// Checks that `release` looks like `uname -r`, so it can go into package names and paths.
pub fn valid_release(release: &str) -> bool {
    !release.is_empty()
        && release.len() <= 64
        && release.starts_with(|c: char| c.is_ascii_digit())
        && release
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~-_".contains(c))
}

/// The flavour whose current release `kgpc kernel fetch` takes when no release is given.
pub const DEFAULT_FLAVOUR: &str = "cloud-amd64";

/// The release the archive's `linux-image-FLAVOUR` meta-package depends on now,
/// such as `6.1.0-57-cloud-amd64`, so that nothing pins one ABI.
///
/// Each `apt-cache` run parses all of apt's lists (most of a second where
/// apt's binary cache is off), so the answer is kept in `kernels/current`
/// and reused while apt's lists and sources are older than that file. When
/// apt knows no such package, its lists are refreshed once; offline, the
/// previous answer is used if its kernel is complete in the cache.
pub fn current_release(cache: &Path, flavour: &str) -> Result<String, FetchError> {
    let current = cache.join("kernels").join("current");
    let previous = crate::read::read_data_text(&current)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| valid_release(s));
    if let Some(previous) = previous.as_ref().filter(|_| newer_than_apt_state(&current)) {
        return Ok(previous.clone());
    }
    let meta = format!("linux-image-{flavour}");
    let mut apt = Apt { updated: false };
    for attempt in 0..2 {
        let (ok, text) = output(
            Command::new("apt-cache")
                .args(["show", "--no-all-versions"])
                .arg(&meta)
                .env("LC_ALL", "C"),
        )?;
        let depends = text
            .lines()
            .find_map(|l| l.strip_prefix("Depends: "))
            .unwrap_or_default();
        let release = depends
            .split(',')
            .filter_map(|d| d.split_whitespace().next())
            .filter_map(|d| d.strip_prefix("linux-image-"))
            .find(|r| r.ends_with(&format!("-{flavour}")) && valid_release(r));
        if let (true, Some(release)) = (ok, release) {
            let _ = fs::create_dir_all(cache.join("kernels"));
            let _ = fs::write(&current, format!("{release}\n"));
            return Ok(release.to_string());
        }
        if let Some(previous) = previous
            .as_ref()
            .filter(|p| KernelPaths::in_cache(cache, p).is_complete())
        {
            say(&format!(
                "apt's lists name no {meta}; using the cached {previous}"
            ));
            return Ok(previous.clone());
        }
        if attempt == 0 {
            apt.update()?;
        }
    }
    Err(FetchError::UnknownRelease {
        release: meta,
        detail: "; check that apt's sources name Debian's archive".into(),
    })
}

/// Whether `file` is newer than apt's package lists and sources.
fn newer_than_apt_state(file: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(stamp) = modified(file) else {
        return false;
    };
    [
        "/var/lib/apt/lists",
        "/etc/apt/sources.list",
        "/etc/apt/sources.list.d",
    ]
    .iter()
    .filter_map(|p| modified(Path::new(p)))
    .all(|t| t <= stamp)
}

/// The releases in the cache that are complete, oldest first (`6.1.0-9` before `6.1.0-10`).
pub fn cached_releases(cache: &Path) -> Vec<String> {
    let mut releases: Vec<String> = fs::read_dir(cache.join("kernels"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("root/.kgpc-complete").is_file())
        .filter(|e| valid_release(&e.file_name().to_string_lossy()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    releases.sort_by_key(|r| natural_key(r));
    releases
}

/// The key that sorts releases as people read them: `6.1.0-10` after `6.1.0-9`.
pub fn natural_key(text: &str) -> Vec<(u64, String)> {
    let mut key = Vec::new();
    let mut digits = String::new();
    let mut other = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !other.is_empty() {
                key.push((0, std::mem::take(&mut other)));
            }
            digits.push(c);
        } else {
            if !digits.is_empty() {
                key.push((digits.parse().unwrap_or(u64::MAX), String::new()));
                digits.clear();
            }
            other.push(c);
        }
    }
    if !digits.is_empty() {
        key.push((digits.parse().unwrap_or(u64::MAX), String::new()));
    }
    if !other.is_empty() {
        key.push((0, other));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::TREE_FORMAT;

    #[test]
    fn releases_sort_as_people_read_them() {
        assert!(natural_key("6.1.0-10-cloud-amd64") > natural_key("6.1.0-9-cloud-amd64"));
        let cache = tempfile::tempdir().unwrap();
        for release in [
            "6.1.0-10-cloud-amd64",
            "6.1.0-9-cloud-amd64",
            "6.1.0-57-cloud-amd64",
        ] {
            let root = cache.path().join("kernels").join(release).join("root");
            fs::create_dir_all(&root).unwrap();
            fs::write(root.join(".kgpc-complete"), TREE_FORMAT).unwrap();
        }
        assert_eq!(
            cached_releases(cache.path()),
            [
                "6.1.0-9-cloud-amd64",
                "6.1.0-10-cloud-amd64",
                "6.1.0-57-cloud-amd64"
            ]
        );
    }
}
