//! What a test run in the VM means for the spec: the console shown when the
//! kernel itself went wrong, and one diagnostic per failure, at the test
//! entry it is about.

use crate::check::model::TestPlan;
use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::vm::results::{Failure, Item};
use std::path::Path;

/// Prints the last 60 lines of the kernel's console when a failure is the
/// VM's, the transition's or the kernel's own, where the console says why.
pub fn show_console(failures: &[Failure], console: &str) {
    let show = failures.iter().any(|f| {
        matches!(
            f,
            Failure::Vm(_) | Failure::Transition(_) | Failure::Kernel(_)
        )
    });
    if !show {
        return;
    }
    crate::errln!("---- the kernel's console (last 60 lines) ----");
    let lines: Vec<&str> = console.lines().collect();
    for line in &lines[lines.len().saturating_sub(60)..] {
        crate::errln!("{}", line.trim_end_matches('\r'));
    }
    crate::errln!("---- end of the console ----");
}

/// The diagnostic of one failure; `kept` says whether the console log at
/// `console` outlives the run.
pub fn diagnostic(failure: &Failure, plan: &TestPlan, kept: bool, console: &Path) -> Diagnostic {
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
        Failure::Vm(message) => Diagnostic::error(Code::VmFailed, message.clone())
            .at(plan.span, "in this test")
            .with_note(console_note),
    }
}
