//! Checks of a spec against the real kernel: its debug vmlinux and module
//! objects (issue 3's rules). Each finding is a diagnostic that points at
//! the spec, with the kernel facts in its notes.
//!
//! 1. identity: release, build id, architecture, CONFIG_LIVEPATCH ([`identity`]);
//! 2. existence of each replaced function, with "did you mean" ([`replacement`], [`not_found`]);
//! 3. position: duplicated local names, `in "file.c"` and `sympos` ([`position`]);
//! 4. patchability: an ftrace call site, not `__init`, not noinstr;
//! 5. compiler clones; 6. inlined copies ([`replacement`]); 7. prototypes ([`prototype`]);
//! 8. `extern` symbols ([`externs`]); 9. modules ([`modules`]); 10. transitions that
//!    may never end ([`super::stalls`]);
//! 11. symbols the bodies use that the kernel does not export
//!     ([`super::body_symbols`]).
//!
//! This file is the driver: it opens the vmlinux, runs rule 1, and then the
//! rules of each object against its kernel object, in the spec's order.

mod externs;
mod identity;
mod inputs;
mod modules;
mod not_found;
mod object;
mod objects;
mod position;
mod prototype;
mod replacement;

pub use inputs::{find_vmlinux, KernelInputs};
pub(crate) use objects::damaged;

use super::body_symbols::{self, SpecNames};
use super::coverage::Coverage;
use super::model::{Model, Object};
use super::stalls::Stalls;
use crate::diagnostic::Diagnostics;
use crate::kernel::Kernel;
use crate::source::Span;
use objects::file_of;

/// What the rules of one run share: the vmlinux, the inputs, the census, the
/// names the spec declares, what was checked so far and the diagnostics.
struct Run<'a> {
    vmlinux: &'a Kernel,
    inputs: &'a KernelInputs,
    /// The release the spec is checked for.
    release: String,
    /// Where the spec names its target.
    target: Span,
    names: SpecNames,
    stalls: Stalls,
    coverage: Coverage,
    diagnostics: &'a mut Diagnostics,
}

/// Runs every rule; fills in kernel-supplied prototypes and positions, and
/// returns what each object was checked against.
pub fn check(model: &mut Model, inputs: &KernelInputs, diagnostics: &mut Diagnostics) -> Coverage {
    let Some(vmlinux) = objects::open_vmlinux(inputs, model.target.span, diagnostics) else {
        return Coverage::skipped(format!(
            "cannot read the vmlinux {}",
            inputs.vmlinux.display()
        ));
    };
    for warning in damaged(&vmlinux) {
        diagnostics.push(warning.at(model.target.span, "the target whose vmlinux this is"));
    }
    identity::check(model, &vmlinux, diagnostics);
    // A wrong vmlinux (KGP0101) is not worth a census boot.
    let stalls = Stalls::obtain(model, &vmlinux, inputs, diagnostics.has_errors());
    let coverage = Coverage {
        ran: true,
        vmlinux: Some(file_of(&vmlinux)),
        stalls: Some(stalls.coverage()),
        ..Coverage::default()
    };
    let names = SpecNames::of(model);
    body_symbols::check_shared(model, &names, &vmlinux, diagnostics);
    let mut run = Run {
        vmlinux: &vmlinux,
        inputs,
        release: model.target.release.clone(),
        target: model.target.span,
        names,
        stalls,
        coverage,
        diagnostics,
    };
    let mut objects = std::mem::take(&mut model.objects);
    for object in &mut objects {
        match object.module {
            None => run.check_against(object, "vmlinux", &[&vmlinux]),
            Some(_) => run.module(object),
        }
    }
    model.objects = objects;
    run.coverage
}

impl Run<'_> {
    /// Rules 2 to 8, 10 and 11 for one object against `kernels`: its own
    /// object first, then vmlinux for a module.
    fn check_against(&mut self, object: &mut Object, name: &str, kernels: &[&Kernel]) {
        let Some(kernel) = kernels.first() else {
            return;
        };
        self.stalls.object(object, self.target, self.diagnostics);
        object::check(object, kernel, &self.stalls, self.diagnostics);
        self.coverage.checked(name, &file_of(kernel));
        body_symbols::check_object(object, &self.names, kernels, self.diagnostics);
    }
}
