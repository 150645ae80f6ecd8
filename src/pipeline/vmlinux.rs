//! Which debug vmlinux a spec is checked against, and what the coverage
//! says when there is none.

use super::Options;
use crate::check::coverage::Coverage;
use crate::check::kernel_rules;
use std::path::PathBuf;

/// The vmlinux the kernel checks read: `--vmlinux`, or the debug vmlinux of
/// the release the spec resolves to; none under `--no-kernel-checks`.
pub fn find(options: &Options, release: Option<&str>) -> Option<PathBuf> {
    if !options.kernel_checks {
        return None;
    }
    kernel_rules::find_vmlinux(
        options.vmlinux.as_deref(),
        release,
        &crate::fetch::cache_dir(),
    )
}

/// The coverage before the kernel checks run: why they have not, which is
/// what it stays at if they never do.
pub fn not_checked(
    options: &Options,
    vmlinux: Option<&PathBuf>,
    release: Option<&str>,
) -> Coverage {
    Coverage::skipped(match (vmlinux, release) {
        _ if !options.kernel_checks => "--no-kernel-checks was given".to_string(),
        (Some(_), _) => "the spec has errors, so it was not checked against the kernel".to_string(),
        (None, Some(release)) => format!("no debug vmlinux found for {release} (pass --vmlinux PATH, or fetch it with `kgpc kernel fetch {release}`)"),
        (None, None) => "no release was resolved, so no debug vmlinux was looked for".to_string(),
    })
}
