//! Which builds `--all-releases` runs for: the cached builds the spec's
//! releases match, and with `--fetch` every matching build of the archive,
//! fetched first. A build the archive lists but can no longer give is kept
//! as a row of its own, so the table shows the whole fleet.

use crate::check::release::matches;
use crate::fetch::{self, ArchiveBuild, FetchError, FetchOptions};
use std::path::Path;

/// One build of the fleet, and whether it can be run.
#[derive(Debug, Clone)]
pub struct FleetBuild {
    pub release: String,
    /// Why it cannot be run, when it cannot: the fetch's error.
    pub unavailable: Option<FetchError>,
}

/// The builds of `patterns`: cached ones, and with `fetch` the archive's,
/// each fetched (with its debug package where the archive has one) unless
/// the cache has it. `Err` when nothing matches at all.
pub fn fleet_builds(
    cache: &Path,
    patterns: &[String],
    fetch: bool,
) -> Result<Vec<FleetBuild>, FetchError> {
    let wanted = |release: &str| patterns.iter().any(|p| matches(p, release));
    let mut releases = crate::pipeline::release::cached_builds(patterns);
    let mut builds = Vec::new();
    if fetch {
        for build in fetch::available_builds(&wanted)? {
            if !releases.contains(&build.release) {
                releases.push(build.release.clone());
            }
            builds.push(build);
        }
    }
    if releases.is_empty() {
        return Err(FetchError::NoMatch {
            pattern: patterns.join(" "),
        });
    }
    releases.sort_by_key(|r| fetch::natural_key(r));
    Ok(releases
        .into_iter()
        .map(|release| {
            let in_archive = builds.iter().find(|b| b.release == release);
            let unavailable = match in_archive {
                Some(build) if fetch => fetch_build(cache, build).err(),
                _ => None,
            };
            FleetBuild {
                release,
                unavailable,
            }
        })
        .collect())
}

/// Makes sure the cache holds `build`, with its debug vmlinux if the archive has one.
fn fetch_build(cache: &Path, build: &ArchiveBuild) -> Result<(), FetchError> {
    let paths = fetch::KernelPaths::in_cache(cache, &build.release);
    if paths.is_complete() && (paths.has_dbg() || !build.dbg) {
        return Ok(());
    }
    if !build.headers {
        return Err(FetchError::Gone {
            release: build.release.clone(),
            version: build.version.clone(),
            missing: vec![format!("linux-headers-{}", build.release)],
        });
    }
    fetch::fetch(
        cache,
        &build.release,
        &FetchOptions {
            dbg: build.dbg,
            debuginfod: false,
        },
    )
    .map(|_| ())
}
