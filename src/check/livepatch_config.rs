//! Whether the target kernel can load livepatch modules, read from the
//! build's config: `CONFIG_LIVEPATCH=y` and what Linux 6.1's
//! kernel/livepatch/Kconfig makes it depend on. Without a config the kernel
//! rules fall back to the vmlinux's `klp_enable_patch` symbol.

use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::config::KernelConfig;
use crate::source::Span;

/// What `CONFIG_LIVEPATCH` depends on, each with what its absence means.
const DEPENDENCIES: &[(&[&str], &str)] = &[
    (
        &["CONFIG_HAVE_LIVEPATCH"],
        "the architecture has no livepatch support",
    ),
    (
        &[
            "CONFIG_DYNAMIC_FTRACE_WITH_REGS",
            "CONFIG_DYNAMIC_FTRACE_WITH_ARGS",
        ],
        "ftrace cannot redirect a function",
    ),
    (&["CONFIG_MODULES"], "the kernel loads no modules"),
    (
        &["CONFIG_KALLSYMS_ALL"],
        "livepatch cannot look up non-exported symbols",
    ),
    (&["CONFIG_SYSFS"], "there is no /sys/kernel/livepatch"),
];

/// Checks that the config enables livepatch, reporting KGP0101 at `target`
/// when it does not; returns how it was established, for the summary.
pub fn check(
    config: &KernelConfig,
    release: &str,
    target: Span,
    diagnostics: &mut Diagnostics,
) -> String {
    let says = config.says("CONFIG_LIVEPATCH");
    if config.value("CONFIG_LIVEPATCH") == "y" {
        return format!("read from the config: {says}");
    }
    let mut d = Diagnostic::error(
        Code::KernelMismatch,
        format!("the kernel {release} was built without CONFIG_LIVEPATCH"),
    )
    .at(target, "the target")
    .with_note(says.clone());
    for (options, meaning) in DEPENDENCIES {
        if !options.iter().any(|o| config.value(o) == "y") {
            let lacks: Vec<&str> = options.to_vec();
            d = d.with_note(format!(
                "the config lacks {} too: {meaning}",
                lacks.join(" and ")
            ));
        }
    }
    diagnostics.push(d.with_help(
        "livepatch modules load only into kernels built with CONFIG_LIVEPATCH=y: target another build",
    ));
    format!("the config has no CONFIG_LIVEPATCH=y: {says}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn run(text: &str) -> (String, Vec<Diagnostic>) {
        let config = KernelConfig::parse(PathBuf::from("/c"), text).expect("a config");
        let mut diagnostics = Diagnostics::default();
        let span = Span::new(crate::source::FileId(0), 0, 0);
        let said = check(&config, "6.1.0-1", span, &mut diagnostics);
        (said, diagnostics.iter().cloned().collect())
    }

    #[test]
    fn livepatch_is_read_from_the_config_with_what_it_lacks() {
        let (said, found) = run("CONFIG_LIVEPATCH=y\n");
        assert_eq!(said, "read from the config: /c:1: CONFIG_LIVEPATCH=y");
        assert!(found.is_empty());
        let (said, found) = run(
            "CONFIG_MODULES=y\nCONFIG_DYNAMIC_FTRACE_WITH_ARGS=y\n# CONFIG_LIVEPATCH is not set\n",
        );
        assert_eq!(
            said,
            "the config has no CONFIG_LIVEPATCH=y: /c:3: # CONFIG_LIVEPATCH is not set"
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].is_error() && found[0].code == Code::KernelMismatch);
        assert_eq!(
            found[0].notes,
            [
                "/c:3: # CONFIG_LIVEPATCH is not set",
                "the config lacks CONFIG_HAVE_LIVEPATCH too: the architecture has no livepatch support",
                "the config lacks CONFIG_KALLSYMS_ALL too: livepatch cannot look up non-exported symbols",
                "the config lacks CONFIG_SYSFS too: there is no /sys/kernel/livepatch",
            ]
        );
    }
}
