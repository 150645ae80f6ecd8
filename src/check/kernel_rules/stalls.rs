//! Rule 10: transitions that may never complete (KGP0111), from the census
//! of tasks at rest, and the warning that they were not checked when there
//! is no census (KGP0115).

use super::inputs::KernelInputs;
use crate::check::model::{Model, Object, Replacement};
use crate::codes::Code;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::kernel::census::Census;
use crate::kernel::census::{CensusQuery, Outcome};
use crate::kernel::facts::always_on_stack;
use crate::kernel::{Kernel, Symbol};
use crate::source::Span;

/// What rule 10 knows about the target's tasks.
pub struct Stalls {
    pub outcome: Outcome,
    /// Whether the run was told already that there is no census.
    pub told: std::cell::Cell<bool>,
}

impl Stalls {
    /// The census of the target's tasks at rest, when some object replaces functions
    /// and the vmlinux is the target's (`mismatch` says it is not).
    pub fn obtain(
        model: &Model,
        vmlinux: &Kernel,
        inputs: &KernelInputs,
        mismatch: bool,
    ) -> Stalls {
        let outcome = if mismatch {
            Outcome::Unavailable {
                why: "the vmlinux is not the target's, so no census of the target was looked for"
                    .into(),
                help: "check against the target's own vmlinux".into(),
            }
        } else if model.objects.iter().any(|o| !o.funcs.is_empty()) {
            (inputs.census)(&CensusQuery {
                release: model.target.release.clone(),
                build_id: vmlinux.meta().build_id.clone(),
                cache_dir: inputs.cache_dir.clone(),
                running: inputs.running_release.clone(),
            })
        } else {
            Outcome::Unavailable {
                why: "the patch replaces no function".into(),
                help: String::new(),
            }
        };
        Stalls {
            outcome,
            told: std::cell::Cell::new(false),
        }
    }

    pub fn census(&self) -> Option<&Census> {
        match &self.outcome {
            Outcome::Found(c) => Some(c),
            Outcome::Unavailable { .. } => None,
        }
    }

    /// What the coverage records: the census stalls were checked against, or why there was none.
    pub fn coverage(&self) -> String {
        match &self.outcome {
            Outcome::Found(c) => format!("the census of {}: {}", c.release, c.source),
            Outcome::Unavailable { why, .. } => format!("not checked: {why}"),
        }
    }

    /// Says, before an object's replacements are checked, what the census cannot tell: that
    /// there is none (once per run), or that it did not have the module loaded.
    pub fn object(&self, object: &Object, target: Span, diagnostics: &mut Diagnostics) {
        if object.funcs.is_empty() {
            return;
        }
        match (&self.outcome, &object.module) {
            (Outcome::Unavailable { why, help }, _) => {
                if self.told.replace(true) {
                    return;
                }
                diagnostics.push(
                    Diagnostic::warning(
                        Code::CensusUnavailable,
                        "no census of the target's tasks at rest: kgpc could not check that the transition completes",
                    )
                    .at(target, "the target")
                    .with_note(why.clone())
                    .with_note("the `.sched.text` rule still ran; kernel threads resting in a replaced function were not looked for")
                    .with_help(help.clone()),
                );
            }
            (Outcome::Found(census), Some(module)) if !census.covers_module(module) => diagnostics
                .push(
                    Diagnostic::note(
                        Code::CensusUnavailable,
                        format!("the census of {} had no module `{module}` loaded: stalls in its own kernel threads, if it has any, were not checked", census.release),
                    )
                    .at(object.span, "this module")
                    .with_note(format!("`{module}` was not loaded when the census was taken ({})", census.source))
                    .with_help(format!("run `kgpc check` on a system running {} with `{module}` loaded, as root, to check the module's own kernel threads too", census.release)),
                ),
            (Outcome::Found(_), _) => {}
        }
    }

    /// KGP0111 for a replacement some task always sits in.
    pub fn replacement(
        &self,
        func: &Replacement,
        symbol: &Symbol,
        kernel: &Kernel,
        diagnostics: &mut Diagnostics,
    ) {
        let census = self.census();
        let Some(why) = always_on_stack(symbol, &kernel.object_name, census) else {
            return;
        };
        let mut d = Diagnostic::warning(
            Code::TransitionMayStall,
            format!("the transition to this patch may never complete: {why}"),
        )
        .at(func.span, "always on some task's stack")
        .with_note("livepatch switches a task only when no replaced function is on its stack, and a kernel thread never returns to user space to be switched there");
        if let Some(c) =
            census.filter(|c| !c.resting_in(&kernel.object_name, &symbol.name).is_empty())
        {
            d = d.with_note(format!(
                "the census of {}: {}; {} kernel threads at rest",
                c.release,
                c.source,
                c.kernel_threads()
            ));
        }
        diagnostics.push(
            d.with_help("replace a function the loop calls instead, or make sure the loop is left"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::kernel_rules::fixture;

    fn why(stalls: &Stalls) -> String {
        match &stalls.outcome {
            Outcome::Unavailable { why, .. } => why.clone(),
            Outcome::Found(c) => format!("found the census of {}", c.release),
        }
    }

    #[test]
    fn no_census_is_looked_for_when_it_could_not_help() {
        let vmlinux = fixture::vmlinux();
        let cache = tempfile::tempdir().expect("temp dir");
        let inputs = KernelInputs {
            vmlinux: fixture::vmlinux_path().to_path_buf(),
            modules: None,
            cache_dir: cache.path().to_path_buf(),
            progress: false,
            running_release: None,
            census: crate::vm::census::answer,
            livepatch_from_config: false,
        };
        let mut model = fixture::model(
            "object vmlinux {\n    replace int show(struct seq_file *m, void *v) { return 0; }\n}\n",
        );
        let wrong = Stalls::obtain(&model, &vmlinux, &inputs, true);
        assert_eq!(
            why(&wrong),
            "the vmlinux is not the target's, so no census of the target was looked for"
        );
        assert!(!wrong.told.get());
        let none_kept = Stalls::obtain(&model, &vmlinux, &inputs, false);
        assert!(why(&none_kept).starts_with("there is no census of 6.1.0-999-fixture"));
        model.objects[0].funcs.clear();
        let nothing_replaced = Stalls::obtain(&model, &vmlinux, &inputs, false);
        assert_eq!(why(&nothing_replaced), "the patch replaces no function");
        assert_eq!(
            nothing_replaced.coverage(),
            "not checked: the patch replaces no function"
        );
    }
}
