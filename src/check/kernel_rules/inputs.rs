//! Where the kernel objects a spec is checked against come from: the inputs
//! of a run and the vmlinux it finds when none is given.

use crate::kernel::census::CensusSource;
use crate::kernel::locate;
use std::path::{Path, PathBuf};

/// Where the kernel objects come from.
#[derive(Clone, Debug)]
pub struct KernelInputs {
    pub vmlinux: PathBuf,
    /// `--modules DIR`.
    pub modules: Option<PathBuf>,
    pub cache_dir: PathBuf,
    pub progress: bool,
    /// The release of the running kernel: its `/proc` is the census of that release.
    pub running_release: Option<String>,
    /// Where the census of tasks at rest comes from.
    pub census: CensusSource,
    /// The build's kernel config said whether the kernel can load livepatch
    /// modules, so the vmlinux's `klp_enable_patch` is not asked.
    pub livepatch_from_config: bool,
}

/// The vmlinux to check a spec against: `--vmlinux`, else the release's debug vmlinux if one is found.
pub fn find_vmlinux(
    explicit: Option<&Path>,
    release: Option<&str>,
    cache_dir: &Path,
) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    locate::find_vmlinux(release?, cache_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_vmlinux_comes_first_and_none_is_made_up() {
        let cache = tempfile::tempdir().expect("temp dir");
        let given = Path::new("/some/vmlinux");
        assert_eq!(
            find_vmlinux(Some(given), Some("6.1.0-999-fixture"), cache.path()),
            Some(given.to_path_buf())
        );
        assert_eq!(find_vmlinux(None, None, cache.path()), None);
        assert_eq!(
            find_vmlinux(None, Some("6.1.0-999-fixture"), cache.path()),
            None
        );
    }
}
