//! Rule 1: the vmlinux is the target's: its release, build id and
//! architecture, and a kernel built with CONFIG_LIVEPATCH.

use crate::check::model::Model;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::Kernel;

/// Each way `vmlinux` is not the target's kernel, in the order a reader wants them.
pub(super) fn check(model: &Model, vmlinux: &Kernel, diagnostics: &mut Diagnostics) {
    release(model, vmlinux, diagnostics);
    build_id(model, vmlinux, diagnostics);
    arch(model, vmlinux, diagnostics);
    livepatch(model, vmlinux, diagnostics);
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
                "{} defines no klp_enable_patch",
                vmlinux.path.display()
            ))
            .with_help("livepatch modules load only into kernels built with CONFIG_LIVEPATCH=y"),
        );
    }
}
