//! Checks of a spec against the real kernel: its debug vmlinux and module
//! objects (issue 3's rules). Each finding is a diagnostic that points at
//! the spec, with the kernel facts in its notes.
//!
//! 1. identity: release, build id, architecture, CONFIG_LIVEPATCH ([`identity`]);
//! 2. existence of each replaced function, with "did you mean" ([`replacement`], [`not_found`]);
//! 3. position: duplicated local names, `in "file.c"` and `sympos` ([`position`]);
//! 4. patchability: an ftrace call site, not `__init`, not noinstr;
//! 5. compiler clones; 6. inlined copies (4 to 6 in [`replacement`]);
//! 7. prototypes ([`prototype`]);
//! 8. `extern` symbols ([`externs`]); 9. modules ([`modules`]); 10. transitions that
//!    may never end ([`super::stalls`]);
//! 11. symbols the bodies use that the kernel does not export
//!     ([`super::body_symbols`]);
//! 12. the closure of the functions taken from the target's source for a
//!     spec's `fix`: externs and copied helpers ([`super::closure`]), run
//!     per object before the other rules see its functions.
//!
//! This file is the driver: it opens the vmlinux, runs rule 1, and then the
//! rules of each object against its kernel object, in the spec's order.

mod externs;
#[cfg(test)]
pub(crate) mod fixture;
mod identity;
mod inputs;
mod modules;
mod not_found;
mod object;
mod objects;
mod position;
mod prototype;
mod replacement;
pub mod stalls;

pub use inputs::{find_vmlinux, KernelInputs};
pub(crate) use objects::damaged;

use super::body_symbols::{self, SpecNames};
use super::closure;
use super::coverage::Coverage;
use super::model::{Extern, Function, Model, Object, PatchedSource};
use crate::diagnostic::Diagnostics;
use crate::kernel::Kernel;
use crate::source::Span;
use objects::file_of;
use stalls::Stalls;

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
    /// The files the spec's fix changes, for rule 12.
    fix_files: Vec<PatchedSource>,
    /// The helpers rule 12 copied from the source, for the model.
    copied: Vec<Function>,
    /// The externs of vmlinux that rule 12 found a module's code needs.
    vmlinux_externs: Vec<Extern>,
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
    identity::check(model, &vmlinux, inputs.livepatch_from_config, diagnostics);
    // A wrong vmlinux (KGP0101) is not worth a census boot.
    let stalls = Stalls::obtain(model, &vmlinux, inputs, diagnostics.has_errors());
    let coverage = Coverage {
        ran: true,
        vmlinux: Some(file_of(&vmlinux)),
        stalls: Some(stalls.coverage()),
        ..Coverage::default()
    };
    let names = SpecNames::of(model);
    // The functions the fix adds and the helpers kgpc took from the source
    // are worked out with their file's object (rule 12) before anything
    // can say what they use is out of reach: only the spec's own bodies
    // are checked here.
    let copied = take_from_source(&mut model.helpers);
    body_symbols::check_shared(model, &names, &vmlinux, diagnostics);
    let mut run = Run {
        vmlinux: &vmlinux,
        inputs,
        release: model.target.release.clone(),
        target: model.target.span,
        names,
        fix_files: model
            .fix
            .as_ref()
            .map(|f| f.files.clone())
            .unwrap_or_default(),
        copied,
        vmlinux_externs: Vec::new(),
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
    if let Some(warning) = objects::gaps(&vmlinux) {
        run.diagnostics
            .push(warning.at(model.target.span, "the target whose vmlinux this is"));
    }
    closure::add_copies(&mut model.helpers, run.copied);
    add_vmlinux_externs(model, run.vmlinux_externs);
    run.coverage
}

/// Adds the externs of vmlinux that module code taken from the source
/// needs to the vmlinux object, made if the spec has none.
fn add_vmlinux_externs(model: &mut Model, externs: Vec<Extern>) {
    let Some(first) = externs.first() else {
        return;
    };
    if !model.objects.iter().any(|o| o.module.is_none()) {
        model.objects.push(Object {
            module: None,
            span: first.span,
            ident: "vmlinux".to_string(),
            funcs: Vec::new(),
            callbacks: Vec::new(),
            externs: Vec::new(),
            requirements: Vec::new(),
        });
    }
    if let Some(vmlinux) = model.objects.iter_mut().find(|o| o.module.is_none()) {
        for e in externs {
            if !vmlinux.externs.iter().any(|x| x.name == e.name) {
                vmlinux.externs.push(e);
            }
        }
    }
}

/// The helpers kgpc took from the target's source, taken out of `helpers`.
fn take_from_source(helpers: &mut Vec<Function>) -> Vec<Function> {
    let (from_source, own) = std::mem::take(helpers)
        .into_iter()
        .partition(|h| h.from_source.is_some());
    *helpers = own;
    from_source
}

impl Run<'_> {
    /// Rules 2 to 8, 10 and 11 for one object against `kernels`: its own
    /// object first, then vmlinux for a module.
    fn check_against(&mut self, object: &mut Object, name: &str, kernels: &[&Kernel]) {
        let Some(kernel) = kernels.first() else {
            return;
        };
        if !self.fix_files.is_empty() {
            let vmlinux = kernels.get(1).map(|k| closure::Vmlinux {
                kernel: k,
                externs: &mut self.vmlinux_externs,
            });
            closure::derive(
                object,
                &mut self.copied,
                &self.fix_files,
                &self.names,
                kernel,
                vmlinux,
                self.diagnostics,
            );
            let beyond = self
                .vmlinux_externs
                .iter()
                .map(|e| e.name.clone())
                .collect::<Vec<_>>();
            for name in beyond {
                self.names.insert(name);
            }
            for name in object
                .externs
                .iter()
                .map(|e| &e.name)
                .chain(self.copied.iter().map(|h| &h.c_name))
            {
                self.names.insert(name.clone());
            }
        }
        self.stalls.object(object, self.target, self.diagnostics);
        object::check(object, kernel, &self.stalls, self.diagnostics);
        self.coverage.checked(name, &file_of(kernel));
        body_symbols::check_object(object, &self.names, kernels, self.diagnostics);
        // What rule 12 could not reach from the helpers of this object's
        // files is reported like the rest of its code.
        let own_files: Vec<&str> = object
            .funcs
            .iter()
            .filter_map(|r| Some(r.function.from_source.as_ref()?.file.as_str()))
            .collect();
        let helpers: Vec<&Function> = self
            .copied
            .iter()
            .filter(|h| {
                h.from_source
                    .as_ref()
                    .is_some_and(|f| own_files.contains(&f.file.as_str()))
            })
            .collect();
        body_symbols::check_copied(&helpers, &self.names, kernels, self.diagnostics);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Code;
    use crate::diagnostic::Diagnostic;
    use std::path::{Path, PathBuf};

    /// Inputs of a run against the fixture with an empty cache and `--modules` an empty directory.
    fn inputs(vmlinux: &Path, dir: &Path) -> KernelInputs {
        KernelInputs {
            vmlinux: vmlinux.to_path_buf(),
            modules: Some(dir.join("modules")),
            cache_dir: dir.join("cache"),
            progress: false,
            running_release: None,
            census: crate::vm::census::answer,
            livepatch_from_config: false,
        }
    }

    fn run(items: &str, inputs: &KernelInputs) -> (Coverage, Vec<String>, Vec<Diagnostic>) {
        let mut model = fixture::model(items);
        let mut diagnostics = Diagnostics::default();
        let coverage = check(&mut model, inputs, &mut diagnostics);
        let found: Vec<Diagnostic> = diagnostics.iter().cloned().collect();
        (coverage, fixture::messages(&found), found)
    }

    const TWO_OBJECTS: &str = "object vmlinux {\n    replace int show(struct seq_file *m, void *v) { return 0; }\n}\nobject nosuch_mod {\n    replace int nosuch_fn(int x) { return x; }\n}\n";

    #[test]
    fn every_object_is_checked_or_says_why_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let inputs = inputs(fixture::vmlinux_path(), dir.path());
        let (coverage, messages, found) = run(TWO_OBJECTS, &inputs);
        assert_eq!(
            messages,
            [
                "KGP0115: no census of the target's tasks at rest: kgpc could not check that the transition completes",
                "KGP0110: no object of module `nosuch_mod` found; its functions were not checked against the kernel",
            ]
        );
        // `--modules` was given, so there is no advice to give it.
        assert_eq!(found[1].help, None);
        assert!(coverage.ran);
        assert_eq!(
            coverage.vmlinux.as_ref().map(|v| v.file.as_str()),
            fixture::vmlinux_path().to_str()
        );
        let objects: Vec<(&str, bool)> = coverage
            .objects
            .iter()
            .map(|o| (o.name.as_str(), o.checked))
            .collect();
        assert_eq!(objects, [("vmlinux", true), ("nosuch_mod", false)]);
        assert!(coverage.objects[1]
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("no object of module `nosuch_mod` found in ")));
        assert!(
            coverage.stalls.as_deref().is_some_and(
                |s| s.starts_with("not checked: there is no census of 6.1.0-999-fixture")
            )
        );
    }

    #[test]
    fn a_missing_module_is_an_error_when_a_prototype_must_come_from_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let inputs = inputs(fixture::vmlinux_path(), dir.path());
        let items = TWO_OBJECTS.replace(
            "replace int nosuch_fn(int x) { return x; }",
            "replace nosuch_fn {\n        return 0;\n    }",
        );
        let (_, _, found) = run(&items, &inputs);
        let last = found.last().expect("a diagnostic");
        assert_eq!(last.code, Code::MissingPrototype);
        assert_eq!(
            last.message,
            "no object of module `nosuch_mod` found; its functions were not checked against the kernel"
        );
        assert!(last.notes[0].starts_with("looked for nosuch_mod.ko in "));
        assert!(last.is_error());
    }

    #[test]
    fn an_unreadable_vmlinux_skips_the_kernel_checks() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = PathBuf::from("/nonexistent/vmlinux");
        let (coverage, messages, _) = run(TWO_OBJECTS, &inputs(&missing, dir.path()));
        assert_eq!(messages, ["KGP0100: cannot read the target's vmlinux"]);
        assert_eq!(
            coverage,
            Coverage::skipped("cannot read the vmlinux /nonexistent/vmlinux")
        );
    }
}
