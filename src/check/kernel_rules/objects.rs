//! Opening the kernel objects a spec is checked against, and what a run says
//! about an object: that it cannot be read, that it is damaged, what it is.

use super::inputs::KernelInputs;
use crate::check::coverage::KernelFile;
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::{Kernel, OpenOptions};
use crate::source::Span;
use std::path::PathBuf;

/// How to open the object `object_name`; a module's BTF is split against `btf_base`.
pub(super) fn options(
    inputs: &KernelInputs,
    object_name: &str,
    btf_base: Option<PathBuf>,
) -> OpenOptions {
    OpenOptions {
        cache_dir: Some(inputs.cache_dir.clone()),
        progress: inputs.progress,
        object_name: Some(object_name.into()),
        btf_base,
    }
}

/// The target's vmlinux, or `None` after the error that it cannot be read.
pub(super) fn open_vmlinux(
    inputs: &KernelInputs,
    target: Span,
    diagnostics: &mut Diagnostics,
) -> Option<Kernel> {
    match Kernel::open(&inputs.vmlinux, &options(inputs, "vmlinux", None)) {
        Ok(vmlinux) => Some(vmlinux),
        Err(e) if crate::fetch::dropped_debug_key(&inputs.vmlinux).is_some() => {
            diagnostics.push(
                Diagnostic::error(
                    Code::IndexOnlyIncomplete,
                    "the debug files of the target's vmlinux were dropped and its index is not in the cache",
                )
                .at(target, "the target whose vmlinux this is")
                .with_note(e.to_string())
                .with_help("fetch the debug package again with `kgpc kernel fetch RELEASE --restore-debug`"),
            );
            None
        }
        Err(e) => {
            diagnostics.push(
                Diagnostic::error(Code::KernelUnreadable, "cannot read the target's vmlinux")
                    .at(target, "the target whose vmlinux this is")
                    .with_note(e.to_string())
                    .with_help("pass the debug vmlinux with --vmlinux PATH (`kgpc kernel fetch RELEASE` fetches Debian's)"),
            );
            None
        }
    }
}

/// A warning for each loss to a damaged section of `kernel` (KGP0117).
pub(crate) fn damaged(kernel: &Kernel) -> Vec<Diagnostic> {
    kernel
        .meta()
        .damaged
        .iter()
        .map(|loss| {
            Diagnostic::warning(
                Code::KernelDamaged,
                format!("`{}` is damaged: {loss}", kernel.path.display()),
            )
            .with_help("use an undamaged copy of the object: fetch it again with `kgpc kernel fetch RELEASE`, or pass another with --vmlinux or --modules")
        })
        .collect()
}

/// A warning naming what `kernel`'s index could not answer without its
/// debug files (KGP0237), if anything.
pub(super) fn gaps(kernel: &Kernel) -> Option<Diagnostic> {
    let gaps = kernel.gaps();
    if gaps.is_empty() {
        return None;
    }
    let shown: Vec<&str> = gaps.iter().take(5).map(String::as_str).collect();
    let more = gaps.len().saturating_sub(shown.len());
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Some(
        Diagnostic::warning(
            Code::IndexGap,
            format!(
                "the index of {} cannot answer {} question(s) without its debug files: {}{tail}",
                kernel.object_name,
                gaps.len(),
                shown.join(", ")
            ),
        )
        .with_note(format!("{}'s debug files were dropped; its rendered facts do not hold these, so they were answered as unknown", kernel.path.display()))
        .with_help("fetch the debug package again with `kgpc kernel fetch RELEASE --restore-debug`"),
    )
}

/// The file and build id the coverage records for `kernel`.
pub(super) fn file_of(kernel: &Kernel) -> KernelFile {
    KernelFile {
        file: kernel.path.display().to_string(),
        build_id: kernel.meta().build_id.clone(),
    }
}

/// The object's name and file, for a note that says where kgpc looked.
pub(super) fn describe(kernel: &Kernel) -> String {
    format!("{} ({})", kernel.object_name, kernel.path.display())
}
