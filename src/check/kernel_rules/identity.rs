//! Rule 1: the vmlinux is the target's: its release, build id and
//! architecture, and a kernel built with CONFIG_LIVEPATCH, which the
//! vmlinux's `klp_enable_patch` says only where the build's config did not
//! (`check::livepatch_config` reads it there).

use crate::check::model::Model;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::Kernel;

/// Each way `vmlinux` is not the target's kernel, in the order a reader
/// wants them; `config_said_livepatch` skips the symbol's guess.
pub(super) fn check(
    model: &Model,
    vmlinux: &Kernel,
    config_said_livepatch: bool,
    diagnostics: &mut Diagnostics,
) {
    release(model, vmlinux, diagnostics);
    build_id(model, vmlinux, diagnostics);
    arch(model, vmlinux, diagnostics);
    if !config_said_livepatch {
        livepatch(model, vmlinux, diagnostics);
    }
}

/// The release in the vmlinux's banner is the one the spec is compiled for.
fn release(model: &Model, vmlinux: &Kernel, diagnostics: &mut Diagnostics) {
    let meta = vmlinux.meta();
    let target = &model.target;
    match &meta.release {
        Some(release) if *release != target.release => diagnostics.push(
            Diagnostic::error(
                Code::KernelMismatch,
                format!(
                    "the vmlinux is release `{release}`, not `{}`",
                    target.release
                ),
            )
            .at(target.span, "the target")
            .with_note(format!(
                "{} says: {}",
                vmlinux.path.display(),
                meta.banner.as_deref().unwrap_or("")
            ))
            .with_note(format!(
                "release `{}` was chosen: {}",
                target.release, target.release_source
            ))
            .with_help(format!(
                "pass the debug vmlinux of `{}`, or choose `--release {release}`",
                target.release
            )),
        ),
        Some(_) => {}
        None => diagnostics.push(
            Diagnostic::warning(
                Code::KernelMismatch,
                "cannot tell the vmlinux's release: it has no linux_banner",
            )
            .at(target.span, "the target")
            .with_note(format!("read {}", vmlinux.path.display())),
        ),
    }
}

/// The vmlinux's build id is the spec's `build_id`, when it gives one.
fn build_id(model: &Model, vmlinux: &Kernel, diagnostics: &mut Diagnostics) {
    let Some(wanted) = &model.target.build_id else {
        return;
    };
    let actual = vmlinux.meta().build_id.as_deref().unwrap_or("none");
    if !wanted.eq_ignore_ascii_case(actual) {
        diagnostics.push(
            Diagnostic::error(
                Code::KernelMismatch,
                format!("the vmlinux's build id is {actual}, not the spec's {wanted}"),
            )
            .at(model.target.span, "the target")
            .with_note(format!("read {}", vmlinux.path.display()))
            .with_help(
                "a build id names one exact build: use that build's vmlinux, or fix the build_id",
            ),
        );
    }
}

/// The vmlinux is built for the target's architecture.
fn arch(model: &Model, vmlinux: &Kernel, diagnostics: &mut Diagnostics) {
    let arch = &vmlinux.meta().arch;
    if *arch != model.target.arch {
        diagnostics.push(
            Diagnostic::error(
                Code::KernelMismatch,
                format!("the vmlinux is for {arch}, not {}", model.target.arch),
            )
            .at(model.target.span, "the target")
            .with_note(format!("read {}", vmlinux.path.display())),
        );
    }
}

/// The kernel can load livepatch modules at all.
fn livepatch(model: &Model, vmlinux: &Kernel, diagnostics: &mut Diagnostics) {
    if !vmlinux.meta().has_livepatch {
        diagnostics.push(
            Diagnostic::error(
                Code::KernelMismatch,
                "the kernel was built without CONFIG_LIVEPATCH",
            )
            .at(model.target.span, "the target")
            .with_note(format!(
                "{} defines no klp_enable_patch (no kernel config was found, so the symbol was asked)",
                vmlinux.path.display()
            ))
            .with_help("livepatch modules load only into kernels built with CONFIG_LIVEPATCH=y"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::kernel_rules::fixture;
    use crate::diagnostic::Severity;

    const SHOW: &str =
        "object vmlinux {\n    replace int show(struct seq_file *m, void *v) { return 0; }\n}\n";

    fn identity(model: &Model, kernel: &Kernel) -> Vec<Diagnostic> {
        let mut diagnostics = Diagnostics::default();
        check(model, kernel, false, &mut diagnostics);
        diagnostics.iter().cloned().collect()
    }

    #[test]
    fn the_fixture_is_the_target_it_says() {
        let vmlinux = fixture::vmlinux();
        let mut model = fixture::model(SHOW);
        assert_eq!(identity(&model, &vmlinux), []);
        // A build id is one hexadecimal number, in either case.
        model.target.build_id = vmlinux.meta().build_id.as_ref().map(|id| id.to_uppercase());
        assert_eq!(identity(&model, &vmlinux), []);
    }

    #[test]
    fn each_mismatch_is_an_error_of_its_own() {
        let vmlinux = fixture::vmlinux();
        let actual = vmlinux.meta().build_id.clone().unwrap_or_default();
        let mut model = fixture::model(SHOW);
        model.target.release = "6.1.0-998-fixture".into();
        model.target.build_id = Some("00".into());
        model.target.arch = "arm64".into();
        let found = identity(&model, &vmlinux);
        assert_eq!(
            fixture::messages(&found),
            [
                "KGP0101: the vmlinux is release `6.1.0-999-fixture`, not `6.1.0-998-fixture`"
                    .to_string(),
                format!("KGP0101: the vmlinux's build id is {actual}, not the spec's 00"),
                "KGP0101: the vmlinux is for x86_64, not arm64".to_string(),
            ]
        );
        assert!(found.iter().all(Diagnostic::is_error));
        assert_eq!(
            found[0].help.as_deref(),
            Some("pass the debug vmlinux of `6.1.0-998-fixture`, or choose `--release 6.1.0-999-fixture`")
        );
    }

    #[test]
    fn a_kernel_without_banner_or_livepatch() {
        let found = identity(&fixture::model(SHOW), &fixture::bare());
        assert_eq!(
            fixture::messages(&found),
            [
                "KGP0101: cannot tell the vmlinux's release: it has no linux_banner",
                "KGP0101: the kernel was built without CONFIG_LIVEPATCH",
            ]
        );
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[1].severity, Severity::Error);
    }
}
