//! Reading the `KGPC ...` lines of a test run back, and judging them.

use super::Plan;
use crate::check::model::{CheckKind, Phase};
use std::collections::BTreeMap;

/// What the guest reported.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub booted: Option<String>,
    pub ended: bool,
    /// `(check index, phase)` → (exit status, output).
    pub checks: BTreeMap<(usize, String), (i32, String)>,
    /// Module kernel name → insmod exit status and its messages.
    pub insmods: Vec<(String, i32, String)>,
    /// Livepatch name → (done, tenths of a second waited).
    pub transitions: Vec<(String, bool, u64)>,
    pub disables: Vec<(String, bool, u64)>,
    pub rmmods: Vec<(String, i32, String)>,
    /// Kernel messages by segment, in order.
    pub kmsg: Vec<(String, String)>,
    /// Tasks that had not switched when a transition timed out: pid, command
    /// and the top of their kernel stack.
    pub blockers: Vec<(String, String, Vec<String>)>,
    /// Phases that started.
    pub phases: Vec<String>,
}

impl Report {
    pub fn parse(text: &str) -> Report {
        let mut report = Report::default();
        let mut errors: BTreeMap<String, String> = BTreeMap::new();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            let Some(rest) = line.strip_prefix("KGPC ") else {
                continue;
            };
            let (kind, rest) = rest.split_once(' ').unwrap_or((rest, ""));
            match kind {
                "BOOT" => report.booted = Some(rest.to_string()),
                "END" => report.ended = true,
                "PHASE" => report.phases.push(rest.to_string()),
                "OUT" => {
                    let mut parts = rest.splitn(3, ' ');
                    let (Some(index), Some(phase)) = (parts.next(), parts.next()) else {
                        continue;
                    };
                    let Ok(index) = index.parse::<usize>() else {
                        continue;
                    };
                    let entry = report
                        .checks
                        .entry((index, phase.to_string()))
                        .or_insert((-1, String::new()));
                    entry.1.push_str(parts.next().unwrap_or(""));
                    entry.1.push('\n');
                }
                "CHECK" => {
                    let parts: Vec<&str> = rest.split(' ').collect();
                    if let [index, phase, rc] = parts[..] {
                        if let (Ok(index), Ok(rc)) = (index.parse::<usize>(), rc.parse::<i32>()) {
                            report
                                .checks
                                .entry((index, phase.to_string()))
                                .or_insert((-1, String::new()))
                                .0 = rc;
                        }
                    }
                }
                "ERR" => {
                    let (name, text) = rest.split_once(' ').unwrap_or((rest, ""));
                    let entry = errors.entry(name.to_string()).or_default();
                    entry.push_str(text);
                    entry.push('\n');
                }
                "INSMOD" | "RMMOD" => {
                    let (name, rc) = rest.rsplit_once(' ').unwrap_or((rest, "-1"));
                    let text = errors.remove(name).unwrap_or_default();
                    let entry = (name.to_string(), rc.parse().unwrap_or(-1), text);
                    if kind == "INSMOD" {
                        report.insmods.push(entry);
                    } else {
                        report.rmmods.push(entry);
                    }
                }
                "TRANSITION" | "DISABLE" => {
                    let parts: Vec<&str> = rest.split(' ').collect();
                    if parts.len() >= 3 {
                        let entry = (
                            parts[0].to_string(),
                            parts[1] == "done",
                            parts[2].parse().unwrap_or(0),
                        );
                        if kind == "TRANSITION" {
                            report.transitions.push(entry);
                        } else {
                            report.disables.push(entry);
                        }
                    }
                }
                "BLOCKER" => {
                    let (pid, comm) = rest.split_once(' ').unwrap_or((rest, ""));
                    report
                        .blockers
                        .push((pid.to_string(), comm.to_string(), Vec::new()));
                }
                "STACK" => {
                    let (pid, frame) = rest.split_once(' ').unwrap_or((rest, ""));
                    if let Some(task) = report.blockers.iter_mut().rev().find(|(p, _, _)| p == pid)
                    {
                        task.2.push(frame.to_string());
                    }
                }
                "KMSG" => {
                    let (segment, text) = rest.split_once(' ').unwrap_or((rest, ""));
                    report.kmsg.push((segment.to_string(), text.to_string()));
                }
                _ => {}
            }
        }
        report
    }

    /// The kernel messages of the segments whose names start with one of `prefixes`.
    pub fn kmsg_of(&self, prefixes: &[&str]) -> Vec<&str> {
        self.kmsg
            .iter()
            .filter(|(segment, _)| prefixes.iter().any(|p| segment.starts_with(p)))
            .map(|(_, text)| text.as_str())
            .collect()
    }
}

/// The tasks that kept a transition from finishing, for its failure message.
fn blocker_summary(blockers: &[(String, String, Vec<String>)]) -> String {
    if blockers.is_empty() {
        return String::new();
    }
    let mut text = String::from("; tasks not yet switched:");
    for (pid, comm, stack) in blockers.iter().take(8) {
        text.push_str(&format!("\n  {comm} (pid {pid})"));
        for frame in stack.iter().take(4) {
            text.push_str(&format!("\n      {}", frame.trim()));
        }
    }
    if blockers.len() > 8 {
        text.push_str(&format!("\n  and {} more", blockers.len() - 8));
    }
    text
}

/// What went wrong, each with the kind of failure it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A check of the spec failed: the item of the test block it concerns, and what happened.
    Check(Item, String),
    /// The kernel refused a module; the messages explain why.
    Refused {
        module: String,
        message: String,
        reason: Option<String>,
    },
    /// A transition did not finish in time.
    Transition(String),
    /// The kernel logged a problem.
    Kernel(String),
    /// The VM did not run to its end.
    Vm(String),
}

/// The entry of a test block a failure concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Check(usize),
    Dmesg(usize),
    Refusal,
    Block,
}

/// Lines of the kernel log that mean trouble: a warning, a BUG, an Oops, a call
/// trace or a panic.
pub fn kernel_problems<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    const MARKERS: &[&str] = &[
        "WARNING:",
        "BUG:",
        "Oops:",
        "Call Trace:",
        "Kernel panic",
        "general protection fault",
        "kernel BUG at",
        "RIP: ",
    ];
    lines
        .into_iter()
        .filter(|line| MARKERS.iter().any(|m| line.contains(m)))
        .map(|line| line.trim().to_string())
        .collect()
}

/// Why the kernel refused a module, read from its messages and insmod's.
pub fn refusal_reason(messages: &str) -> Option<String> {
    let reasons: &[(&str, &str)] = &[
        ("Unknown symbol", "a symbol the module uses is neither exported nor a livepatch symbol (declare it `extern` in its object)"),
        ("not compatible with the already installed livepatches", "a state conflict: a patch with a lower state version, or a cumulative patch that drops a state, cannot replace the installed one"),
        ("pre-patch callback failed", "a pre_patch callback returned an error"),
        ("not found in symbol table", "a replaced function or extern symbol does not exist in the target object"),
        ("unresolvable ambiguity", "the name is not unique in its object: give `sympos`"),
        ("symbol position", "the `sympos` does not exist for that name"),
        ("invalid access to vmlinux symbol", "a module's livepatch relocation section references a vmlinux symbol"),
        ("is not marked as a livepatch module", "the module lacks MODULE_INFO(livepatch, \"Y\")"),
        ("disagrees about version of symbol", "the module was built for another kernel build"),
        ("Invalid module format", "the module was built for another kernel (vermagic) or is damaged"),
        ("failed to register ftrace handler", "the function cannot be patched (no ftrace site, or a kprobe holds it)"),
        ("File exists", "a module of that name is loaded already"),
        ("Required key not available", "the kernel enforces module signatures"),
    ];
    reasons
        .iter()
        .find(|(marker, _)| messages.contains(marker))
        .map(|(_, reason)| reason.to_string())
}

/// Judges a report against the plan; no failures means the test passed.
pub fn judge(plan: &Plan, report: &Report, console: &str) -> Vec<Failure> {
    let mut failures = Vec::new();
    if report.booted.is_none() {
        let panic = console
            .lines()
            .find(|l| l.contains("Kernel panic"))
            .map(|l| l.trim().to_string());
        failures.push(Failure::Vm(match panic {
            Some(line) => format!("the kernel panicked before the test started: {line}"),
            None => "the VM never started the test's /init".to_string(),
        }));
        return failures;
    }

    // Modules the kernel refused.
    let patch_name = &plan.patch.kernel_name;
    for (module, rc, errors) in &report.insmods {
        if *rc == 0 {
            continue;
        }
        let expected = plan.refused.is_some() && module == patch_name;
        if expected {
            continue;
        }
        let kmsg: Vec<&str> = report.kmsg_of(&["setup", "loaded"]);
        let all = format!("{errors}\n{}", kmsg.join("\n"));
        let relevant: Vec<&str> = kmsg
            .iter()
            .copied()
            .filter(|l| {
                l.contains(module.as_str())
                    || l.contains("livepatch")
                    || l.contains("Unknown symbol")
            })
            .collect();
        failures.push(Failure::Refused {
            module: module.clone(),
            message: format!(
                "{}{}",
                errors.trim(),
                if relevant.is_empty() {
                    String::new()
                } else {
                    format!("\nkernel: {}", relevant.join("\nkernel: "))
                }
            ),
            reason: refusal_reason(&all),
        });
    }
    let blocked_by = blocker_summary(&report.blockers);
    for (name, done, tenths) in &report.transitions {
        if !done {
            failures.push(Failure::Transition(format!(
                "the transition of {name} did not finish within {} s (waited {:.1} s){blocked_by}",
                plan.transition_timeout_secs,
                *tenths as f64 / 10.0
            )));
        }
    }
    for (name, done, tenths) in &report.disables {
        if !done {
            failures.push(Failure::Transition(format!(
                "disabling {name} did not finish within {} s (waited {:.1} s){blocked_by}",
                plan.transition_timeout_secs,
                *tenths as f64 / 10.0
            )));
        }
    }
    for (name, rc, errors) in &report.rmmods {
        if *rc != 0 {
            failures.push(Failure::Check(
                Item::Block,
                format!("rmmod {name} failed ({rc}): {}", errors.trim()),
            ));
        }
    }

    // The refusal the spec expects.
    if let Some(text) = &plan.refused {
        match report.insmods.iter().find(|(m, _, _)| m == patch_name) {
            Some((_, 0, _)) => failures.push(Failure::Check(
                Item::Refusal,
                format!("the kernel should have refused {patch_name} (\"{text}\"), but loaded it"),
            )),
            Some(_) => {
                let kmsg = report.kmsg_of(&["loaded"]).join("\n");
                if !kmsg.contains(text.as_str()) {
                    failures.push(Failure::Check(Item::Refusal, format!(
                        "the kernel refused {patch_name}, but its log does not say \"{text}\"; it says:\n{}",
                        indent(&kmsg)
                    )));
                }
            }
            None => {}
        }
    }

    // The checks, phase by phase.
    let phases: &[&str] = if plan.refused.is_some() {
        &["before", "refused"]
    } else {
        &["before", "loaded", "unloaded"]
    };
    for phase in phases {
        if !report.phases.iter().any(|p| p == phase) {
            continue;
        }
        for (index, check) in plan.checks.iter().enumerate() {
            let Some((rc, output)) = report.checks.get(&(index, phase.to_string())) else {
                failures.push(Failure::Vm(format!(
                    "check `{}` did not run in phase {phase}",
                    check.command
                )));
                continue;
            };
            let contains = output.contains(check.expect.as_str());
            let want = match (check.kind, *phase) {
                (CheckKind::Always, _) => true,
                (CheckKind::Fixed, "loaded") => true,
                (CheckKind::Fixed, _) => false,
            };
            if contains != want {
                let when = match *phase {
                    "before" => "before the patch is loaded",
                    "loaded" => "once the patch is loaded and its transition has finished",
                    "unloaded" => "after the patch is disabled and unloaded",
                    _ => "after the kernel refused the patch",
                };
                failures.push(Failure::Check(
                    Item::Check(index),
                    format!(
                        "`{}` should {} \"{}\" {when}, but printed (exit status {rc}):\n{}",
                        check.command,
                        if want { "print" } else { "not print" },
                        check.expect,
                        indent(output.trim_end())
                    ),
                ));
            }
        }
    }

    // Kernel messages in order.
    for (item, expectation) in plan.dmesg.iter().enumerate() {
        let loaded = expectation.phase == Phase::Loaded;
        let segments: &[&str] = if loaded {
            &["loaded"]
        } else {
            &["unloaded", "end"]
        };
        if loaded && !report.phases.iter().any(|p| p == "loaded") {
            continue;
        }
        if !loaded && !report.phases.iter().any(|p| p == "unloaded") {
            continue;
        }
        let lines = report.kmsg_of(segments);
        let mut position = 0;
        for wanted in &expectation.lines {
            match lines[position..]
                .iter()
                .position(|l| l.contains(wanted.as_str()))
            {
                Some(found) => position += found + 1,
                None => {
                    let seen = lines[position..]
                        .iter()
                        .any(|l| l.contains(wanted.as_str()))
                        || lines.iter().any(|l| l.contains(wanted.as_str()));
                    failures.push(Failure::Check(
                        Item::Dmesg(item),
                        format!(
                            "the kernel log {} should show \"{wanted}\"{}; it shows:\n{}",
                            if loaded {
                                "after the patch is loaded"
                            } else {
                                "after the patch is unloaded"
                            },
                            if seen {
                                " after the lines before it"
                            } else {
                                ""
                            },
                            indent(&lines.join("\n"))
                        ),
                    ));
                    break;
                }
            }
        }
    }

    // Warnings, BUGs, Oopses, call traces anywhere in the kernel log.
    let mut problems = kernel_problems(report.kmsg.iter().map(|(_, l)| l.as_str()));
    if problems.is_empty() {
        problems = kernel_problems(console.lines());
    }
    if !problems.is_empty() {
        failures.push(Failure::Kernel(problems.join("\n")));
    }

    if !report.ended {
        let panic = console
            .lines()
            .find(|l| l.contains("Kernel panic"))
            .map(|l| l.trim().to_string());
        failures.push(Failure::Vm(match panic {
            Some(line) => format!("the kernel panicked during the test: {line}"),
            None => "the test's /init stopped before its end".to_string(),
        }));
    }
    failures
}

fn indent(text: &str) -> String {
    if text.is_empty() {
        return "    (nothing)".to_string();
    }
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::{DmesgExpectation, TestCheck};
    use crate::source::{FileId, Span};
    use crate::vm::GuestModule;

    fn plan() -> Plan {
        Plan {
            modules_first: vec![],
            modules_after: vec![],
            patches_first: vec![],
            patch: GuestModule {
                file: "livepatch-sample.ko".into(),
                kernel_name: "livepatch_sample".into(),
            },
            checks: vec![TestCheck {
                kind: CheckKind::Fixed,
                command: "cat /proc/cmdline".into(),
                expect: "patched".into(),
                span: Span::new(FileId(0), 0, 0),
            }],
            dmesg: vec![DmesgExpectation {
                phase: Phase::Loaded,
                lines: vec!["enabling patch".into(), "patching complete".into()],
                span: Span::new(FileId(0), 0, 0),
            }],
            refused: None,
            transition_timeout_secs: 10,
        }
    }

    const GOOD: &str = "\
KGPC BOOT 6.1.0-57-cloud-amd64
KGPC KMSG boot [    0.1] Linux version
KGPC PHASE before
KGPC OUT 0 before console=ttyS0
KGPC CHECK 0 before 0
KGPC INSMOD livepatch_sample 0
KGPC TRANSITION livepatch_sample done 3 1
KGPC KMSG loaded [    1.0] livepatch: enabling patch 'livepatch_sample'
KGPC KMSG loaded [    1.1] livepatch: 'livepatch_sample': patching complete
KGPC PHASE loaded
KGPC OUT 0 loaded this has been live patched
KGPC CHECK 0 loaded 0
KGPC DISABLE livepatch_sample done 2
KGPC RMMOD livepatch_sample 0
KGPC PHASE unloaded
KGPC OUT 0 unloaded console=ttyS0
KGPC CHECK 0 unloaded 0
KGPC END
";

    #[test]
    fn a_good_run_passes() {
        let report = Report::parse(GOOD);
        assert_eq!(judge(&plan(), &report, ""), vec![]);
    }

    #[test]
    fn failures_are_named() {
        let bad = GOOD
            .replace("loaded this has been live patched", "loaded console=ttyS0")
            .replace("done 3 1", "timeout 100")
            .replace(
                "[    1.1] livepatch: 'livepatch_sample': patching complete",
                "[    1.1] WARNING: CPU: 0 PID: 1 at x",
            );
        let failures = judge(&plan(), &Report::parse(&bad), "");
        assert!(failures.iter().any(|f| matches!(f, Failure::Transition(_))));
        assert!(failures
            .iter()
            .any(|f| matches!(f, Failure::Check(Item::Check(0), m) if m.contains("should print \"patched\""))));
        assert!(failures.iter().any(|f| matches!(f, Failure::Kernel(_))));
        assert!(failures.iter().any(
            |f| matches!(f, Failure::Check(Item::Dmesg(0), m) if m.contains("patching complete"))
        ));

        let refused = GOOD
            .replace("INSMOD livepatch_sample 0", "INSMOD livepatch_sample 1")
            .replace("KGPC END\n", "");
        let failures = judge(&plan(), &Report::parse(&refused), "");
        assert!(
            matches!(&failures[0], Failure::Refused { module, .. } if module == "livepatch_sample")
        );
        assert!(failures.iter().any(|f| matches!(f, Failure::Vm(_))));
        assert!(
            judge(&plan(), &Report::parse(""), "Kernel panic - not syncing: x")[0]
                == Failure::Vm(
                    "the kernel panicked before the test started: Kernel panic - not syncing: x"
                        .into()
                )
        );
    }

    #[test]
    fn reasons() {
        assert!(refusal_reason(
            "insmod: can't insert 'x': unknown symbol\nx: Unknown symbol foo (err -2)"
        )
        .unwrap()
        .contains("extern"));
        assert!(refusal_reason("nothing").is_none());
    }
}
