//! Which kernel release a spec is compiled for: the releases this machine
//! knows, and the one the spec's target resolves to before it is lowered.

use crate::check::release::ReleaseRequest;
use crate::load::Loaded;

/// The release the spec's target resolves to, read from the syntax tree
/// before lowering (which reports any problem with it).
pub fn spec_release(loaded: &Loaded, request: &ReleaseRequest) -> Option<String> {
    let releases = spec_targets(loaded).releases;
    crate::check::release::resolve(&releases, request)
        .ok()
        .map(|(r, _)| r)
}

/// What a run over every build needs of the spec before it is checked: the
/// releases and patterns its target names, and its patch's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecTargets {
    pub releases: Vec<String>,
    pub patch: Option<String>,
}

/// The spec's target releases and patch name, read from the syntax tree.
pub fn spec_targets(loaded: &Loaded) -> SpecTargets {
    let tree = loaded.trees.first();
    SpecTargets {
        releases: tree
            .and_then(|t| t.targets().next())
            .map(|t| {
                t.releases()
                    .map(|r| r.value.clone())
                    .filter(|r| !r.trim().is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        patch: tree
            .and_then(|t| t.patches().next())
            .map(|p| p.name.text.clone()),
    }
}

/// The running kernel's release. KGPC_RUNNING_RELEASE stands in for it (empty: none), for
/// tests whose output must not depend on the machine.
pub fn running_release() -> Option<String> {
    let running = match std::env::var("KGPC_RUNNING_RELEASE") {
        Ok(release) => release,
        Err(_) => std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default(),
    };
    Some(running.trim().to_string()).filter(|r| !r.is_empty())
}

/// Releases this machine knows: the running kernel, then the kgpc kernel cache, newest first.
pub fn release_candidates() -> Vec<(String, String)> {
    let mut candidates = Vec::new();
    if let Some(running) = running_release() {
        candidates.push((running, "the running kernel".to_string()));
    }
    let cached = crate::fetch::cached_releases(&crate::fetch::cache_dir());
    candidates.extend(cached.into_iter().rev().map(|r| {
        (
            r,
            "the newest matching kernel in the kgpc cache".to_string(),
        )
    }));
    candidates
}

/// The builds a spec is made for when none is named: every release in the
/// kgpc cache that one of the spec's `releases` (releases and patterns)
/// matches and whose build tree is complete, oldest first. `kgpc package`
/// takes these, and so does `--all-releases`.
pub fn cached_builds(releases: &[String]) -> Vec<String> {
    let cache = crate::fetch::cache_dir();
    crate::fetch::cached_releases(&cache)
        .into_iter()
        .filter(|r| releases.iter().any(|p| crate::check::release::matches(p, r)))
        .filter(|r| {
            matches!(crate::fetch::ready(&cache, r), Ok(Some(paths)) if paths.kdir().join("Makefile").is_file())
        })
        .collect()
}
