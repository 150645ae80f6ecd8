//! What a test run in the VM means for the spec: one diagnostic per
//! failure, at the test entry it is about, and whether the kernel's console
//! says why.

use crate::check::model::TestPlan;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::vm::load_results::LoadTimes;
use crate::vm::report::Report;
use crate::vm::results::{judge, Failure, Item};
use crate::vm::{self, Plan};
use std::path::Path;
use std::time::Duration;

/// How long the parts of a run took, for its last line.
pub struct Timings {
    /// Building the patch.
    pub build: Duration,
    /// Everything before the VM that is not the patch's build: from the
    /// command's start to the test's modules built, and the patches first.
    pub prerequisites: Duration,
    /// Running the VM.
    pub vm: Duration,
}

/// The judgement of one run in the VM.
pub struct Verdict {
    /// One error per failure; none when the patch passed.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether a failure is the VM's, the transition's or the kernel's own,
    /// where the console says why.
    pub console_explains: bool,
    /// The kernel's console.
    pub console: String,
    /// The release the guest reported it booted, if it got that far.
    pub booted: Option<String>,
    /// How many CPUs the guest said it had online.
    pub cpus: Option<usize>,
    /// How many entries the test block has: checks, dmesg expectations,
    /// reloads, the refusal and the setup.
    pub entries: usize,
    pub timings: Timings,
    /// How many cycles ran and how long their transitions took, when they were timed.
    pub load: Option<LoadTimes>,
}

/// What the verdict is judged from besides the run: the test block, the
/// plan the guest ran, its time limit and whether the work directory is kept.
pub struct Judged<'a> {
    pub plan: &'a TestPlan,
    pub vm_plan: &'a Plan,
    pub timeout_secs: u64,
    pub kept: bool,
}

/// Judges the VM's run against the plan.
pub fn judge_run(judged: &Judged, booted: vm::Run, timings: Timings) -> Verdict {
    let report = Report::parse(&booted.report_text);
    let mut failures = judge(judged.vm_plan, &report, &booted.console);
    if booted.timed_out {
        failures.push(Failure::Vm(format!(
            "the VM did not finish within {} s and was killed",
            judged.timeout_secs
        )));
    }
    let plan = judged.plan;
    Verdict {
        diagnostics: failures
            .iter()
            .map(|f| diagnostic(f, plan, judged.kept, &booted.console_path))
            .collect(),
        console_explains: console_explains(&failures),
        console: booted.console,
        booted: report.booted,
        cpus: report.cpus,
        entries: plan.checks.len()
            + plan.dmesg.len()
            + plan.reloads.len()
            + usize::from(plan.refused.is_some())
            + usize::from(plan.setup.is_some()),
        timings,
        load: LoadTimes::of(&report.load),
    }
}

/// Whether a failure is one the kernel's console explains.
fn console_explains(failures: &[Failure]) -> bool {
    failures.iter().any(|f| {
        matches!(
            f,
            Failure::Vm(_) | Failure::Transition(_) | Failure::Kernel(_) | Failure::OutOfMemory(_)
        )
    })
}

/// The diagnostic of one failure; `kept` says whether the console log at
/// `console` outlives the run.
fn diagnostic(failure: &Failure, plan: &TestPlan, kept: bool, console: &Path) -> Diagnostic {
    let console_note = if kept {
        format!("the whole console log is {}", console.display())
    } else {
        "pass --keep-work DIR to keep the console log and the initramfs".to_string()
    };
    match failure {
        Failure::Check(item, message) => {
            let span: Option<(Span, &str)> = match item {
                Item::Check(i) => plan.checks.get(*i).map(|c| (c.span, "this check")),
                Item::Dmesg(i) => plan.dmesg.get(*i).map(|d| (d.span, "this expectation")),
                Item::Reload(i) => plan.reloads.get(*i).map(|r| (r.span, "reloaded here")),
                Item::Refusal => plan.refused.as_ref().map(|r| (r.span, "expected here")),
                Item::Block => Some((plan.span, "in this test")),
            };
            let diagnostic = Diagnostic::error(Code::TestCheckFailed, message.clone());
            match span {
                Some((span, label)) => diagnostic.at(span, label),
                None => diagnostic,
            }
        }
        Failure::Refused {
            module,
            message,
            reason,
        } => {
            let mut diagnostic = Diagnostic::error(
                Code::ModuleRefused,
                format!("the kernel refused to load {module}: {message}"),
            )
            .at(plan.span, "in this test");
            if let Some(reason) = reason {
                diagnostic = diagnostic.with_note(format!("reason: {reason}"));
            }
            diagnostic
        }
        Failure::Setup(message) => {
            let diagnostic = Diagnostic::error(Code::TestSetupFailed, message.clone());
            match &plan.setup {
                Some(setup) => diagnostic.at(setup.span, "this setup"),
                None => diagnostic.at(plan.span, "in this test"),
            }
        }
        Failure::Transition(message) => Diagnostic::error(Code::TransitionTimeout, message.clone())
            .at(plan.span, "in this test")
            .with_note("a task is sleeping in a function the patch replaces, or never returns to user space")
            .with_help(format!("the console log is above; raise the bound with --transition-timeout; {console_note}")),
        Failure::Kernel(lines) => Diagnostic::error(
            Code::KernelProblem,
            format!("the kernel logged a problem:\n{lines}"),
        )
        .at(plan.span, "in this test")
        .with_note(console_note),
        Failure::OutOfMemory(lines) => Diagnostic::error(
            Code::GuestOutOfMemory,
            format!("the guest ran out of memory, and the kernel killed a process:\n{lines}"),
        )
        .at(plan.span, "in this test")
        .with_note(format!("the guest has {} MiB of memory", crate::vm::GUEST_MEMORY_MB))
        .with_help("make the test's commands use less memory (a workload or program that allocates in a loop, a file written to the initramfs, which is memory)")
        .with_note(console_note),
        Failure::Vm(message) => Diagnostic::error(Code::VmFailed, message.clone())
            .at(plan.span, "in this test")
            .with_note(console_note),
        Failure::Workload(message) => Diagnostic::error(Code::WorkloadEnded, message.clone())
            .at(plan.workload.as_ref().map_or(plan.span, |w| w.span), "this workload")
            .with_help("a workload runs until kgpc stops it: loop, e.g. `while :; do ...; done`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::vm::GuestModule;
    use std::path::PathBuf;

    fn plans() -> (TestPlan, Plan) {
        let plan = TestPlan {
            span: Span::new(FileId(0), 3, 9),
            loads: Vec::new(),
            patches_first: Vec::new(),
            files: Vec::new(),
            programs: Vec::new(),
            reloads: Vec::new(),
            setup: None,
            checks: Vec::new(),
            dmesg: Vec::new(),
            refused: None,
            workload: None,
        };
        let vm_plan = Plan {
            modules_first: Vec::new(),
            modules_after: Vec::new(),
            patches_first: Vec::new(),
            patch: GuestModule {
                file: "p.ko".into(),
                kernel_name: "p".into(),
            },
            setup: None,
            reloads: vec![],
            checks: Vec::new(),
            dmesg: Vec::new(),
            refused: None,
            cycles: 1,
            workload: None,
            transition_timeout_secs: 1,
            cpus: 1,
        };
        (plan, vm_plan)
    }

    fn timed_out(console: &str) -> vm::Run {
        vm::Run {
            console: console.into(),
            report_text: String::new(),
            elapsed: Duration::from_secs(7),
            timed_out: true,
            console_path: PathBuf::from("/w/console.log"),
        }
    }

    fn timings() -> Timings {
        Timings {
            build: Duration::ZERO,
            prerequisites: Duration::ZERO,
            vm: Duration::ZERO,
        }
    }

    #[test]
    fn a_killed_vm_fails_at_the_test_block_and_its_console_explains() {
        let (plan, vm_plan) = plans();
        let judged = Judged {
            plan: &plan,
            vm_plan: &vm_plan,
            timeout_secs: 7,
            kept: false,
        };
        let verdict = judge_run(&judged, timed_out("boot\n"), timings());
        assert!(verdict.console_explains);
        assert_eq!(verdict.console, "boot\n");
        assert_eq!(verdict.booted, None);
        assert_eq!(verdict.cpus, None);
        assert_eq!(verdict.entries, 0);
        let killed = verdict
            .diagnostics
            .last()
            .expect("the time limit is a failure");
        assert_eq!(killed.code, Code::VmFailed);
        assert_eq!(
            killed.message,
            "the VM did not finish within 7 s and was killed"
        );
        assert_eq!(killed.primary.as_ref().map(|l| l.span), Some(plan.span));
        assert!(killed.notes.iter().any(|n| n.contains("--keep-work DIR")));
    }

    #[test]
    fn a_kept_work_directory_names_the_console_log() {
        let (plan, vm_plan) = plans();
        let judged = Judged {
            plan: &plan,
            vm_plan: &vm_plan,
            timeout_secs: 7,
            kept: true,
        };
        let verdict = judge_run(&judged, timed_out(""), timings());
        assert!(verdict.diagnostics.iter().all(|d| d
            .notes
            .iter()
            .any(|n| n == "the whole console log is /w/console.log")));
    }

    #[test]
    fn a_failed_check_is_not_one_the_console_explains() {
        let failures = [Failure::Check(Item::Block, "no".into())];
        assert!(!console_explains(&failures));
        assert!(console_explains(&[Failure::Kernel("oops".into())]));
    }
}
