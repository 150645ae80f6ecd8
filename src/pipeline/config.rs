//! Which kernel config a build is checked against, read: `--kernel-config
//! FILE`, else `/boot/config-RELEASE` of the image package in the kgpc
//! cache, else the `.config` of the release's build tree (`--kdir`,
//! `$KGPC_KDIR`, the cache's headers, `/lib/modules/RELEASE/build`), else
//! the system's own `/boot/config-RELEASE`.

use super::Options;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::config::KernelConfig;
use crate::read::{read_text, ReadError};
use crate::source::Span;
use std::path::PathBuf;

/// The config of `release`, or why there is none. A config that is there but
/// cannot be read, or is not one, is an error (KGP0231) at `target`.
pub fn find(
    options: &Options,
    release: &str,
    target: Span,
    diagnostics: &mut Diagnostics,
) -> Result<KernelConfig, String> {
    let mut tried = Vec::new();
    for (path, usable) in candidates(options, release) {
        if !usable {
            tried.push(path.display().to_string());
            continue;
        }
        let text = match read_text(&path) {
            Ok(text) => text,
            Err(ReadError::Io(e))
                if e.kind() == std::io::ErrorKind::NotFound && options.kernel_config.is_none() =>
            {
                tried.push(path.display().to_string());
                continue;
            }
            Err(error) => {
                diagnostics.push(unreadable(&path, &error.to_string(), target));
                return Err(format!("{} cannot be read", path.display()));
            }
        };
        return KernelConfig::parse(path.clone(), &text).map_err(|bad| {
            let why = format!(
                "line {} is not a line of a kernel config: `{}`",
                bad.line,
                bad.text.chars().take(80).collect::<String>()
            );
            diagnostics.push(unreadable(&path, &why, target));
            format!("{} is not a kernel config", path.display())
        });
    }
    // The cache's path depends on the machine; the first place is always the cache.
    let others = tried.iter().skip(1).cloned().collect::<Vec<_>>();
    Err(format!(
        "no kernel config of {release} was found: the kgpc cache holds no image of it, and there is no {}",
        others.join(" nor ")
    ))
}

/// Where the config of `release` may be, in order, and whether each may be
/// read: the cache's only once its tree is complete, never while another
/// kgpc unpacks it.
fn candidates(options: &Options, release: &str) -> Vec<(PathBuf, bool)> {
    if let Some(path) = &options.kernel_config {
        return vec![(path.clone(), true)];
    }
    let cache = crate::fetch::cache_dir();
    let cached = crate::fetch::KernelPaths::in_cache(&cache, release)
        .root()
        .join(format!("boot/config-{release}"));
    let ready = matches!(crate::fetch::ready(&cache, release), Ok(Some(_)));
    let mut list = vec![(cached, ready)];
    if let Ok(kdir) = crate::build::kbuild::find_kdir(release, options.kdir.as_deref()) {
        list.push((kdir.join(".config"), true));
    }
    // A system that runs or has installed the release.
    list.push((PathBuf::from(format!("/boot/config-{release}")), true));
    list
}

fn unreadable(path: &std::path::Path, why: &str, target: Span) -> Diagnostic {
    Diagnostic::error(
        Code::ConfigUnreadable,
        format!("cannot read the kernel config {}: {why}", path.display()),
    )
    .at(target, "the target whose config this is")
    .with_help("fetch the release again with `kgpc kernel fetch`, or pass --kernel-config FILE")
}
