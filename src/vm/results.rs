//! Judging what the guest reported ([`Report`]) against the test's plan.

use super::protocol::{GuestPhase, Segment};
use super::report::{Blocker, Report, Waited};
use super::Plan;
use crate::check::model::{CheckKind, DmesgExpectation, Expect, TestCheck};

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
    /// The setup script exited with a status other than 0.
    Setup(String),
    /// A transition did not finish in time.
    Transition(String),
    /// The kernel logged a problem.
    Kernel(String),
    /// The guest ran out of memory: the OOM killer's verdicts.
    OutOfMemory(String),
    /// The VM did not run to its end.
    Vm(String),
    /// The workload ended before it was stopped.
    Workload(String),
}

/// The entry of a test block a failure concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Check(usize),
    Dmesg(usize),
    Reload(usize),
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

/// Judges a report against the plan; no failures means the test passed. The
/// failures come in this order: refused modules, a failed setup, unfinished transitions,
/// failed removals, the expected refusal, the checks, the kernel messages,
/// problems in the kernel log, and a run that did not reach its end.
pub fn judge(plan: &Plan, report: &Report, console: &str) -> Vec<Failure> {
    if report.booted.is_none() {
        return vec![not_started(console)];
    }
    let mut failures: Vec<Failure> = missing_cpus(plan, report).into_iter().collect();
    failures.extend(refused_modules(plan, report));
    failures.extend(failed_setup(report));
    failures.extend(unfinished_waits(plan, report));
    failures.extend(failed_removals(report));
    failures.extend(expected_refusal(plan, report));
    failures.extend(failed_checks(plan, report));
    failures.extend(missing_kernel_messages(plan, report));
    failures.extend(missing_reload_messages(plan, report));
    failures.extend(super::load_results::judge(plan, report));
    failures.extend(kernel_log_problems(report, console));
    if !report.ended {
        failures.push(stopped_early(console));
    }
    failures
}

/// The guest had other CPUs online than it was given.
fn missing_cpus(plan: &Plan, report: &Report) -> Option<Failure> {
    let online = report.cpus?;
    (online != plan.cpus as usize).then(|| {
        Failure::Vm(format!(
            "the guest had {online} CPU{} online, not the {} it was given (--smp {})",
            if online == 1 { "" } else { "s" },
            plan.cpus,
            plan.cpus
        ))
    })
}

/// The first line of the console that says the kernel panicked.
fn panic_line(console: &str) -> Option<String> {
    console
        .lines()
        .find(|l| l.contains("Kernel panic"))
        .map(|l| l.trim().to_string())
}

/// The guest never said its `/init` started.
fn not_started(console: &str) -> Failure {
    Failure::Vm(match panic_line(console) {
        Some(line) => format!("the kernel panicked before the test started: {line}"),
        None => "the VM never started the test's /init".to_string(),
    })
}

/// The guest's `/init` did not say it reached its end.
fn stopped_early(console: &str) -> Failure {
    Failure::Vm(match panic_line(console) {
        Some(line) => format!("the kernel panicked during the test: {line}"),
        None => "the test's /init stopped before its end".to_string(),
    })
}

/// Modules the kernel refused, except the patch when the spec expects its refusal.
pub(super) fn refused_modules(plan: &Plan, report: &Report) -> Vec<Failure> {
    let patch_name = &plan.patch.kernel_name;
    let kmsg = report.kmsg_where(|s| {
        s == Segment::Setup || s == Segment::Reload || s.of_phase(GuestPhase::Loaded)
    });
    report
        .insmods
        .iter()
        .filter(|insmod| insmod.status != 0)
        .filter(|insmod| !(plan.refused.is_some() && &insmod.module == patch_name))
        .map(|insmod| {
            let module = &insmod.module;
            let errors = &insmod.messages;
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
            let kernel = if relevant.is_empty() {
                String::new()
            } else {
                format!("\nkernel: {}", relevant.join("\nkernel: "))
            };
            Failure::Refused {
                module: module.clone(),
                message: format!("{}{kernel}", errors.trim()),
                reason: refusal_reason(&all),
            }
        })
        .collect()
}

/// The setup script, if it ran and failed, with what it printed.
fn failed_setup(report: &Report) -> Option<Failure> {
    let status = report.setup_status.filter(|&s| s != 0)?;
    Some(Failure::Setup(format!(
        "the setup script exited with status {status}, so the patch was not loaded; it printed:\n{}",
        indent(report.setup_output.trim_end())
    )))
}

/// Transitions, and disables, that did not finish in time.
pub(super) fn unfinished_waits(plan: &Plan, report: &Report) -> Vec<Failure> {
    let blocked_by = blocker_summary(&report.blockers);
    let unfinished = |waits: &[Waited], what: &dyn Fn(&str) -> String| -> Vec<Failure> {
        waits
            .iter()
            .filter(|w| !w.wait.done)
            .map(|w| {
                Failure::Transition(format!(
                    "{} did not finish within {} s (waited {:.1} s){blocked_by}",
                    what(&w.patch),
                    plan.transition_timeout_secs,
                    w.wait.tenths as f64 / 10.0
                ))
            })
            .collect()
    };
    let mut failures = unfinished(&report.transitions, &|p| format!("the transition of {p}"));
    failures.extend(unfinished(&report.disables, &|p| format!("disabling {p}")));
    failures
}

/// The tasks that kept a transition from finishing, for its failure message.
fn blocker_summary(blockers: &[Blocker]) -> String {
    if blockers.is_empty() {
        return String::new();
    }
    let mut text = String::from("; tasks not yet switched:");
    for blocker in blockers.iter().take(8) {
        text.push_str(&format!("\n  {} (pid {})", blocker.comm, blocker.pid));
        for frame in blocker.stack.iter().take(4) {
            text.push_str(&format!("\n      {}", frame.trim()));
        }
    }
    if blockers.len() > 8 {
        text.push_str(&format!("\n  and {} more", blockers.len() - 8));
    }
    text
}

/// Modules `rmmod` could not remove.
pub(super) fn failed_removals(report: &Report) -> Vec<Failure> {
    report
        .rmmods
        .iter()
        .filter(|rmmod| rmmod.status != 0)
        .map(|rmmod| {
            Failure::Check(
                Item::Block,
                format!(
                    "rmmod {} failed ({}): {}",
                    rmmod.module,
                    rmmod.status,
                    rmmod.messages.trim()
                ),
            )
        })
        .collect()
}

/// The refusal the spec expects: the kernel refused the patch, saying the spec's text.
fn expected_refusal(plan: &Plan, report: &Report) -> Option<Failure> {
    let text = plan.refused.as_ref()?;
    let patch_name = &plan.patch.kernel_name;
    let insmod = report.insmods.iter().find(|i| &i.module == patch_name)?;
    if insmod.status == 0 {
        return Some(Failure::Check(
            Item::Refusal,
            format!("the kernel should have refused {patch_name} (\"{text}\"), but loaded it"),
        ));
    }
    let kmsg = report
        .kmsg_where(|s| s.of_phase(GuestPhase::Loaded))
        .join("\n");
    (!kmsg.contains(text.as_str())).then(|| {
        Failure::Check(
            Item::Refusal,
            format!(
                "the kernel refused {patch_name}, but its log does not say \"{text}\"; it says:\n{}",
                indent(&kmsg)
            ),
        )
    })
}

/// The spec's checks, in each phase the guest reached.
fn failed_checks(plan: &Plan, report: &Report) -> Vec<Failure> {
    let phases: &[GuestPhase] = if plan.refused.is_some() {
        &[GuestPhase::Before, GuestPhase::Refused]
    } else {
        &[GuestPhase::Before, GuestPhase::Loaded, GuestPhase::Unloaded]
    };
    let mut failures = Vec::new();
    for &phase in phases.iter().filter(|&&p| report.reached(p)) {
        for (index, check) in plan.checks.iter().enumerate() {
            failures.extend(check_in_phase(report, index, check, phase));
        }
    }
    failures
}

/// Whether check `index` printed, or did not print, its text in `phase` as it should.
pub(super) fn check_in_phase(
    report: &Report,
    index: usize,
    check: &TestCheck,
    phase: GuestPhase,
) -> Option<Failure> {
    let Some((rc, output)) = report.checks.get(&(index, phase)) else {
        return Some(Failure::Vm(format!(
            "{} did not run in phase {phase}",
            shown_command(&check.command)
        )));
    };
    let want = match (check.kind, phase) {
        (CheckKind::Always, _) => true,
        (CheckKind::Fixed, GuestPhase::Loaded) => true,
        (CheckKind::Fixed, _) => false,
    };
    let holds = |e: &Expect| e.holds(output, *rc);
    if check.expects.iter().all(holds) == want {
        return None;
    }
    let when = match phase {
        GuestPhase::Before => "before the patch is loaded",
        GuestPhase::Loaded => "once the patch is loaded and its transition has finished",
        GuestPhase::Unloaded => "after the patch is disabled and unloaded",
        GuestPhase::Refused => "after the kernel refused the patch",
    };
    Some(Failure::Check(
        Item::Check(index),
        format!(
            "{} should {} {when}, but printed (exit status {rc}):\n{}",
            capital(&shown_command(&check.command)),
            expected(&check.expects, want, output, *rc),
            indent(output.trim_end())
        ),
    ))
}

/// A check's command for a message: quoted when it is one line.
fn shown_command(command: &str) -> String {
    match command.trim_end() {
        one if !one.contains('\n') => format!("`{one}`"),
        _ => "the check's script".to_string(),
    }
}

/// `text` with its first letter in capitals.
fn capital(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// What a check should have done: the expectations it missed when they
/// must all hold; when they must not, the one turned round, or all of them.
fn expected(expects: &[Expect], want: bool, output: &str, status: i32) -> String {
    let said = |e: &Expect| match e {
        Expect::Contains(text) => format!("print \"{text}\""),
        Expect::Lacks(text) => format!("not print \"{text}\""),
        Expect::Exits(n) => format!("exit with status {n}"),
    };
    if want {
        let missed: Vec<String> = expects
            .iter()
            .filter(|e| !e.holds(output, status))
            .map(said)
            .collect();
        return missed.join(" and ");
    }
    match expects {
        [Expect::Contains(text)] => format!("not print \"{text}\""),
        [Expect::Lacks(text)] => format!("print \"{text}\""),
        [Expect::Exits(n)] => format!("exit with a status other than {n}"),
        _ => {
            let all: Vec<String> = expects.iter().map(said).collect();
            format!("fail at least one of: {}", all.join(", "))
        }
    }
}

/// The spec's `dmesg` expectations, for the phases the guest reached.
fn missing_kernel_messages(plan: &Plan, report: &Report) -> Vec<Failure> {
    plan.dmesg
        .iter()
        .enumerate()
        .filter(|(_, expectation)| report.reached(expectation.phase.into()))
        .filter_map(|(item, expectation)| dmesg_expectation(report, item, expectation))
        .collect()
}

/// The first of an expectation's lines that the kernel log does not show
/// after the lines before it.
fn dmesg_expectation(
    report: &Report,
    item: usize,
    expectation: &DmesgExpectation,
) -> Option<Failure> {
    let phase = GuestPhase::from(expectation.phase);
    // The messages logged after unloading include the very last ones.
    let lines = report
        .kmsg_where(|s| s.of_phase(phase) || (phase == GuestPhase::Unloaded && s == Segment::End));
    let mut position = 0;
    for wanted in &expectation.lines {
        let Some(found) = lines[position..]
            .iter()
            .position(|l| l.contains(wanted.as_str()))
        else {
            let seen = lines.iter().any(|l| l.contains(wanted.as_str()));
            return Some(Failure::Check(
                Item::Dmesg(item),
                format!(
                    "the kernel log {} should show \"{wanted}\"{}; it shows:\n{}",
                    if phase == GuestPhase::Loaded {
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
        };
        position += found + 1;
    }
    None
}

/// The kernel log of the reloads: each reload's lines, in order, after the
/// ones before it; judged once the guest went on to unload the patch.
fn missing_reload_messages(plan: &Plan, report: &Report) -> Option<Failure> {
    if plan.reloads.is_empty() || !report.reached(GuestPhase::Unloaded) {
        return None;
    }
    let lines = report.kmsg_where(|s| s == Segment::Reload);
    let mut position = 0;
    for (index, reload) in plan.reloads.iter().enumerate() {
        for wanted in &reload.expected {
            let holds = |l: &&str| wanted.texts.iter().all(|t| l.contains(t.as_str()));
            match lines[position..].iter().position(holds) {
                Some(found) => position += found + 1,
                None => {
                    let texts: Vec<String> =
                        wanted.texts.iter().map(|t| format!("\"{t}\"")).collect();
                    return Some(Failure::Check(
                        Item::Reload(index),
                        format!(
                            "reloading {} with the patch applied, the kernel log should show {}, \
                             with {}, after the lines before it; it shows:\n{}",
                            reload.module.kernel_name,
                            wanted.what,
                            texts.join(" and "),
                            indent(&lines.join("\n"))
                        ),
                    ));
                }
            }
        }
    }
    None
}

/// Warnings, BUGs, Oopses, call traces anywhere in the kernel log, else on the console.
fn kernel_log_problems(report: &Report, console: &str) -> Vec<Failure> {
    let kmsg: Vec<&str> = report.kmsg.iter().map(|(_, l)| l.as_str()).collect();
    let lines = if kmsg.is_empty() {
        console.lines().collect()
    } else {
        kmsg
    };
    let (outside, killed) = split_out_of_memory(&lines);
    let mut failures = Vec::new();
    if !killed.is_empty() {
        failures.push(Failure::OutOfMemory(killed.join("\n")));
    }
    let mut problems = kernel_problems(outside.iter().copied());
    if problems.is_empty() && report.kmsg.is_empty() {
        problems = kernel_problems(console.lines());
    }
    if !problems.is_empty() {
        failures.push(Failure::Kernel(problems.join("\n")));
    }
    failures
}

/// The kernel log without the OOM killer's reports (from `invoked
/// oom-killer` to its `Out of memory: Killed process` line, a dump with a
/// call trace that is not a bug of its own), and those verdict lines.
fn split_out_of_memory<'a>(lines: &[&'a str]) -> (Vec<&'a str>, Vec<String>) {
    let mut outside = Vec::new();
    let mut killed = Vec::new();
    let mut in_report = false;
    for line in lines {
        if line.contains("invoked oom-killer") {
            in_report = true;
        }
        if line.contains("Out of memory:") {
            killed.push(line.trim().to_string());
            in_report = false;
        } else if !in_report {
            outside.push(*line);
        }
    }
    (outside, killed)
}

/// `text` indented by four spaces, or a line that says it is empty.
pub(super) fn indent(text: &str) -> String {
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
    use crate::check::model::Phase;
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
            setup: None,
            reloads: vec![],
            checks: vec![TestCheck {
                kind: CheckKind::Fixed,
                command: "cat /proc/cmdline".into(),
                expects: vec![Expect::Contains("patched".into())],
                span: Span::new(FileId(0), 0, 0),
            }],
            dmesg: vec![DmesgExpectation {
                phase: Phase::Loaded,
                lines: vec!["enabling patch".into(), "patching complete".into()],
                span: Span::new(FileId(0), 0, 0),
            }],
            refused: None,
            transition_timeout_secs: 10,
            cycles: 1,
            workload: None,
            cpus: 2,
        }
    }

    const GOOD: &str = "\
KGPC BOOT 6.1.0-57-cloud-amd64
KGPC CPUS 0-1
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
    fn a_guest_with_fewer_cpus_online_than_given_fails() {
        let one = GOOD.replace("KGPC CPUS 0-1", "KGPC CPUS 0");
        let failures = judge(&plan(), &Report::parse(&one), "");
        assert_eq!(
            failures,
            vec![Failure::Vm(
                "the guest had 1 CPU online, not the 2 it was given (--smp 2)".into()
            )]
        );
    }

    #[test]
    fn an_expected_refusal_is_judged_by_the_kernels_answer() {
        let mut plan = plan();
        plan.refused = Some("Unknown symbol".into());
        let run = "\
KGPC BOOT 6.1.0-57-cloud-amd64
KGPC PHASE before
KGPC CHECK 0 before 0
KGPC INSMOD livepatch_sample 0
KGPC KMSG loaded [    1.0] livepatch: enabling patch 'livepatch_sample'
KGPC PHASE refused
KGPC CHECK 0 refused 0
KGPC RMMOD livepatch_sample 1
KGPC END
";
        let loaded = vec![
            Failure::Check(Item::Block, "rmmod livepatch_sample failed (1): ".into()),
            Failure::Check(
                Item::Refusal,
                "the kernel should have refused livepatch_sample (\"Unknown symbol\"), but loaded it"
                    .into(),
            ),
        ];
        assert_eq!(judge(&plan, &Report::parse(run), ""), loaded);

        let refused = run
            .replace("INSMOD livepatch_sample 0", "INSMOD livepatch_sample 1")
            .replace("RMMOD livepatch_sample 1", "RMMOD livepatch_sample 0");
        let silent = Failure::Check(
            Item::Refusal,
            "the kernel refused livepatch_sample, but its log does not say \"Unknown symbol\"; \
             it says:\n    [    1.0] livepatch: enabling patch 'livepatch_sample'"
                .into(),
        );
        assert_eq!(judge(&plan, &Report::parse(&refused), ""), vec![silent]);
        let said = refused.replace("enabling patch", "Unknown symbol foo");
        assert_eq!(judge(&plan, &Report::parse(&said), ""), vec![]);
    }

    #[test]
    fn messages_after_unloading_include_the_last_ones() {
        let mut plan = plan();
        plan.dmesg[0].phase = Phase::Unloaded;
        plan.dmesg[0].lines = vec!["freed".into()];
        let with_end = GOOD.replace("KGPC END\n", "KGPC KMSG end [    2.0] freed\nKGPC END\n");
        assert_eq!(judge(&plan, &Report::parse(&with_end), ""), vec![]);
        let missing = Failure::Check(
            Item::Dmesg(0),
            "the kernel log after the patch is unloaded should show \"freed\"; it shows:\n    (nothing)"
                .into(),
        );
        assert_eq!(judge(&plan, &Report::parse(GOOD), ""), vec![missing]);
    }

    /// A reload is judged as test-callbacks.sh reads the log: the lines in
    /// their order, the callbacks' by their kind and the module's name.
    #[test]
    fn a_reload_shows_its_lines_in_order() {
        use crate::vm::{ExpectedLine, GuestReload};
        let mut plan = plan();
        plan.dmesg.clear();
        let line = |what: &str, texts: &[&str]| ExpectedLine {
            what: what.into(),
            texts: texts.iter().map(|t| t.to_string()).collect(),
        };
        plan.reloads = vec![GuestReload {
            module: GuestModule {
                file: "l0-m.ko".into(),
                kernel_name: "m".into(),
            },
            expected: vec![
                line("its pre_unpatch callback", &["pre_unpatch", "m"]),
                line(
                    "the kernel reverting the patch",
                    &["reverting patch 'p' on unloading module 'm'"],
                ),
                line(
                    "the kernel applying the patch",
                    &["applying patch 'p' to loading module 'm'"],
                ),
            ],
        }];
        let reload = "\
KGPC RMMOD m 0
KGPC INSMOD m 0
KGPC KMSG reload [    2.0] p: m_pre_unpatch: m -> GOING
KGPC KMSG reload [    2.1] livepatch: reverting patch 'p' on unloading module 'm'
KGPC KMSG reload [    2.2] livepatch: applying patch 'p' to loading module 'm'
KGPC DISABLE";
        let run = GOOD.replace("KGPC DISABLE", reload);
        assert_eq!(judge(&plan, &Report::parse(&run), ""), vec![]);
        // The callback after the kernel's line is out of the order the kernel keeps.
        let swapped = run
            .replace("[    2.0] p: m_pre_unpatch: m -> GOING", "[    2.0] x")
            .replace(
                "[    2.2] livepatch",
                "[    2.2] p: m_pre_unpatch: m -> GOING\nKGPC KMSG reload [    2.3] livepatch",
            );
        let failures = judge(&plan, &Report::parse(&swapped), "");
        assert!(
            matches!(&failures[..], [Failure::Check(Item::Reload(0), m)]
                if m.contains("should show the kernel reverting the patch")),
            "{failures:?}"
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

    #[test]
    fn an_out_of_memory_kill_is_its_own_failure_and_its_dump_no_kernel_bug() {
        let lines = [
            "[ 13.27] tail invoked oom-killer: gfp_mask=0x140dca, order=0",
            "[ 13.27] Call Trace:",
            "[ 13.27]  oom_kill_process.cold+0xb/0x10",
            "[ 13.30] Out of memory: Killed process 97 (tail) total-vm:449920kB",
            "[ 14.00] WARNING: CPU: 0 PID: 1 at x",
        ];
        let (outside, killed) = split_out_of_memory(&lines);
        assert_eq!(
            killed,
            ["[ 13.30] Out of memory: Killed process 97 (tail) total-vm:449920kB"]
        );
        assert_eq!(
            kernel_problems(outside),
            ["[ 14.00] WARNING: CPU: 0 PID: 1 at x"]
        );
    }
}
