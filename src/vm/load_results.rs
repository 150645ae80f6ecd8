//! Judging the cycles after the first and the workload, and the transition
//! times they give: each later cycle's report is judged as the first
//! cycle's is, and its failures name the cycle.

use super::load_protocol::Direction;
use super::load_report::{LoadReport, Took};
use super::protocol::GuestPhase;
use super::report::Report;
use super::results::{
    check_in_phase, failed_removals, indent, kernel_problems, refused_modules, unfinished_waits,
    Failure,
};
use super::Plan;

/// The failures of the cycles after the first and of the workload.
pub fn judge(plan: &Plan, report: &Report) -> Vec<Failure> {
    let load = &report.load;
    let mut failures = Vec::new();
    for (cycle, cycle_report) in &load.cycles {
        let name = cycle_name(plan, *cycle);
        failures.extend(judge_cycle(plan, *cycle, cycle_report).map(|f| named(f, &name)));
    }
    failures.extend(slow_transitions(plan, &load.took));
    if super::load_script::needed(plan) && report.ended && load.last_cycle < plan.cycles {
        failures.push(Failure::Vm(format!(
            "only {} of {} cycles ran",
            load.last_cycle, plan.cycles
        )));
    }
    if let Some(command) = &plan.workload {
        failures.extend(load.exited.iter().map(|exited| {
            Failure::Workload(format!(
                "the workload `{command}` ended before it was stopped: copy {} exited with status {}; it printed:\n{}",
                exited.copy,
                exited.status,
                indent(exited.output.trim_end())
            ))
        }));
    }
    failures
}

/// The failures of one cycle after the first: its modules, its waits, its
/// checks (none in cycle 0) and its kernel log.
fn judge_cycle(plan: &Plan, cycle: u32, report: &Report) -> impl Iterator<Item = Failure> {
    let mut failures = refused_modules(plan, report);
    failures.extend(unfinished_waits(plan, report));
    failures.extend(failed_removals(report));
    if cycle != 0 {
        for phase in [GuestPhase::Loaded, GuestPhase::Unloaded] {
            if report.reached(phase) {
                for (index, check) in plan.checks.iter().enumerate() {
                    failures.extend(check_in_phase(report, index, check, phase));
                }
            }
        }
    }
    let problems = kernel_problems(report.kmsg.iter().map(|(_, l)| l.as_str()));
    if !problems.is_empty() {
        failures.push(Failure::Kernel(problems.join("\n")));
    }
    failures.into_iter()
}

/// How a failure names its cycle.
fn cycle_name(plan: &Plan, cycle: u32) -> String {
    if cycle == 0 {
        "in the cycle without the workload".to_string()
    } else {
        format!("in cycle {cycle} of {}", plan.cycles)
    }
}

/// The failure, its message starting with the cycle it happened in.
fn named(failure: Failure, name: &str) -> Failure {
    let name = |message: String| format!("{name}: {message}");
    match failure {
        Failure::Check(item, message) => Failure::Check(item, name(message)),
        Failure::Refused {
            module,
            message,
            reason,
        } => Failure::Refused {
            module,
            message: name(message),
            reason,
        },
        Failure::Transition(message) => Failure::Transition(name(message)),
        Failure::Kernel(message) => Failure::Kernel(name(message)),
        Failure::Vm(message) => Failure::Vm(name(message)),
        Failure::Workload(message) => Failure::Workload(name(message)),
        Failure::Setup(message) => Failure::Setup(name(message)),
        Failure::OutOfMemory(message) => Failure::OutOfMemory(name(message)),
    }
}

/// Transitions that finished, but later than `--transition-timeout` allows
/// (the guest's waits start over after its first fine-grained 2 s).
fn slow_transitions(plan: &Plan, took: &[Took]) -> Vec<Failure> {
    let bound = plan.transition_timeout_secs * 100;
    took.iter()
        .filter(|t| t.centis > bound)
        .map(|t| {
            Failure::Transition(format!(
                "{}: the patch's {} transition took {:.2} s, more than the {} s bound",
                cycle_name(plan, t.cycle),
                t.direction,
                t.centis as f64 / 100.0,
                plan.transition_timeout_secs
            ))
        })
        .collect()
}

/// The least, the median and the greatest of some times, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub min: f64,
    pub median: f64,
    pub max: f64,
}

impl Spread {
    fn of(mut centis: Vec<u64>) -> Option<Spread> {
        centis.sort_unstable();
        let secs = |c: u64| c as f64 / 100.0;
        Some(Spread {
            min: secs(*centis.first()?),
            median: secs(centis[centis.len() / 2]),
            max: secs(*centis.last()?),
        })
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.min == self.max {
            return write!(f, "{:.2} s", self.min);
        }
        write!(
            f,
            "min {:.2} / median {:.2} / max {:.2} s",
            self.min, self.median, self.max
        )
    }
}

/// The transition times of a run, for its report.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadTimes {
    /// The cycles that started (the one without the workload not counted).
    pub cycles: u32,
    /// Enabling and disabling over the cycles, with the workload if there is one.
    pub enable: Option<Spread>,
    pub disable: Option<Spread>,
    /// The copies of the workload, when there is one.
    pub workload_copies: Option<u32>,
    /// Enabling and disabling in the cycle without the workload, in seconds.
    pub unloaded_enable: Option<f64>,
    pub unloaded_disable: Option<f64>,
}

impl LoadTimes {
    /// The times of a run that timed its transitions; none for one that did not.
    pub fn of(load: &LoadReport) -> Option<LoadTimes> {
        if load.took.is_empty() {
            return None;
        }
        let times = |direction: Direction, cycle0: bool| -> Vec<u64> {
            load.took
                .iter()
                .filter(|t| t.direction == direction && (t.cycle == 0) == cycle0)
                .map(|t| t.centis)
                .collect()
        };
        let single = |direction| times(direction, true).first().map(|&c| c as f64 / 100.0);
        Some(LoadTimes {
            cycles: load.last_cycle,
            enable: Spread::of(times(Direction::Enable, false)),
            disable: Spread::of(times(Direction::Disable, false)),
            workload_copies: load.workload_copies,
            unloaded_enable: single(Direction::Enable),
            unloaded_disable: single(Direction::Disable),
        })
    }
}

/// The report's lines: how many cycles ran and how long the transitions took.
impl std::fmt::Display for LoadTimes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let spread = |s: &Option<Spread>| s.map_or("none".to_string(), |s| s.to_string());
        let plural =
            |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let with = match self.workload_copies {
            Some(copies) => format!(" with the workload ({})", plural(copies, "copy", "copies")),
            None => String::new(),
        };
        write!(
            f,
            "{} ran{with}; enable {}, disable {}",
            plural(self.cycles, "cycle", "cycles"),
            spread(&self.enable),
            spread(&self.disable)
        )?;
        if let (Some(enable), Some(disable)) = (self.unloaded_enable, self.unloaded_disable) {
            write!(
                f,
                "; without the workload: enable {enable:.2} s, disable {disable:.2} s"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::model::{CheckKind, Expect, TestCheck};
    use crate::source::{FileId, Span};
    use crate::vm::GuestModule;

    fn plan(cycles: u32, workload: Option<&str>) -> Plan {
        Plan {
            modules_first: vec![],
            setup: None,
            reloads: vec![],
            modules_after: vec![],
            patches_first: vec![],
            patch: GuestModule {
                file: "livepatch-x.ko".into(),
                kernel_name: "livepatch_x".into(),
            },
            checks: vec![TestCheck {
                kind: CheckKind::Fixed,
                command: "cat /proc/cmdline".into(),
                expects: vec![Expect::Contains("patched".into())],
                span: Span::new(FileId(0), 0, 0),
            }],
            dmesg: vec![],
            refused: None,
            transition_timeout_secs: 2,
            cycles,
            cpus: 1,
            workload: workload.map(str::to_string),
        }
    }

    fn cycle(n: u32, loaded: &str) -> String {
        format!(
            "KGPC CYCLE {n}\nKGPC INSMOD livepatch_x 0\nKGPC TRANSITION livepatch_x done 0 1\n\
             KGPC TOOK enable {n}\nKGPC PHASE loaded\nKGPC OUT 0 loaded {loaded}\nKGPC CHECK 0 loaded 0\n\
             KGPC DISABLE livepatch_x done 0\nKGPC TOOK disable 1\nKGPC RMMOD livepatch_x 0\n\
             KGPC PHASE unloaded\nKGPC OUT 0 unloaded quiet\nKGPC CHECK 0 unloaded 0\n"
        )
    }

    #[test]
    fn a_failure_names_its_cycle_and_the_times_are_spread() {
        let run = |third: &str| {
            let text = format!(
                "KGPC BOOT 6.1\n{}{}{}KGPC END\n",
                cycle(1, "patched"),
                cycle(2, "patched"),
                cycle(3, third)
            );
            Report::parse(&text)
        };
        let good = run("patched");
        assert_eq!(judge(&plan(3, None), &good), vec![]);
        let times = LoadTimes::of(&good.load).unwrap();
        assert_eq!(
            times.to_string(),
            "3 cycles ran; enable min 0.01 / median 0.02 / max 0.03 s, disable 0.01 s"
        );
        let failures = judge(&plan(3, None), &run("quiet"));
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(
            matches!(&failures[0], Failure::Check(_, m) if m.starts_with("in cycle 3 of 3: `cat /proc/cmdline` should print")),
            "{failures:?}"
        );
        assert_eq!(
            judge(&plan(4, None), &good),
            vec![Failure::Vm("only 3 of 4 cycles ran".into())]
        );
    }

    #[test]
    fn an_early_workload_and_a_slow_transition_fail() {
        let text = format!(
            "KGPC BOOT 6.1\n{}KGPC WORKLOAD started 2\n{}KGPC TOOK disable 250\n\
             KGPC WORKLOAD exited 1 2\nKGPC WORKLOAD output 1 no such file\nKGPC END\n",
            cycle(0, ""),
            cycle(1, "patched")
        );
        let report = Report::parse(&text);
        let failures = judge(&plan(1, Some("cat /x")), &report);
        assert_eq!(
            failures,
            vec![
                Failure::Transition(
                    "in cycle 1 of 1: the patch's disable transition took 2.50 s, more than the 2 s bound"
                        .into()
                ),
                Failure::Workload(
                    "the workload `cat /x` ended before it was stopped: copy 1 exited with status 2; it printed:\n    no such file"
                        .into()
                )
            ]
        );
        let times = LoadTimes::of(&report.load).unwrap();
        assert_eq!(times.unloaded_enable, Some(0.0));
        assert_eq!(
            times.to_string(),
            "1 cycle ran with the workload (2 copies); enable 0.01 s, \
             disable min 0.01 / median 2.50 / max 2.50 s; without the workload: enable 0.00 s, disable 0.01 s"
        );
    }
}
