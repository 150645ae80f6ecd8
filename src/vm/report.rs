//! What the guest reported in a test run, gathered from its report's lines
//! ([`super::protocol`]) for the judgement ([`super::results`]).

use super::load_protocol::LoadLine;
use super::load_report::{LoadReader, LoadReport};
use super::protocol::{cpu_count, GuestPhase, GuestReport, Malformed, Segment, Wait};
use std::collections::BTreeMap;

/// What the guest reported.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// The release the guest booted, once its `/init` started.
    pub booted: Option<String>,
    /// How many CPUs the guest had online, as it said.
    pub cpus: Option<usize>,
    pub ended: bool,
    /// `(check index, phase)` → (exit status, output).
    pub checks: BTreeMap<(usize, GuestPhase), (i32, String)>,
    /// The setup script's output, and its exit status once it ended.
    pub setup_output: String,
    pub setup_status: Option<i32>,
    pub insmods: Vec<ModuleCommand>,
    pub rmmods: Vec<ModuleCommand>,
    /// The waits for the livepatches' transitions.
    pub transitions: Vec<Waited>,
    /// The waits for disabled livepatches to be freed.
    pub disables: Vec<Waited>,
    /// Kernel messages, in order, with the part of the run each was read after.
    pub kmsg: Vec<(Segment, String)>,
    /// Tasks that had not switched when a transition timed out.
    pub blockers: Vec<Blocker>,
    /// Phases that started.
    pub phases: Vec<GuestPhase>,
    /// Lines that looked like the protocol's but could not be read; the
    /// judgement goes by the lines it could read.
    pub malformed: Vec<Malformed>,
    /// The cycles after the first, their transition times and the workload.
    pub load: LoadReport,
}

/// `insmod` or `rmmod` of one module: its exit status and what it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleCommand {
    /// The module's name in the kernel.
    pub module: String,
    pub status: i32,
    pub messages: String,
}

/// How the wait for one livepatch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waited {
    pub patch: String,
    pub wait: Wait,
}

/// A task that kept a transition from finishing, and the top of its kernel stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocker {
    pub pid: u32,
    pub comm: String,
    pub stack: Vec<String>,
}

impl Report {
    /// Gathers the lines of the guest's serial port; other lines are skipped.
    pub fn parse(text: &str) -> Report {
        let mut reader = Reader::default();
        let mut load = LoadReader::default();
        for line in text.lines() {
            if let Some(read) = LoadLine::from_line(line) {
                match read {
                    Ok(line) => load.add(line),
                    Err(malformed) => reader.report.malformed.push(malformed),
                }
                continue;
            }
            match GuestReport::from_line(line) {
                None => {}
                Some(Ok(line)) => match load.reader_for(&line) {
                    Some(cycle) => cycle.add(line),
                    None => reader.add(line),
                },
                Some(Err(malformed)) => reader.report.malformed.push(malformed),
            }
        }
        let mut report = reader.finish();
        report.load = load.finish();
        report
    }

    /// The kernel messages of the segments `wanted` picks.
    pub fn kmsg_where(&self, wanted: impl Fn(Segment) -> bool) -> Vec<&str> {
        self.kmsg
            .iter()
            .filter(|(segment, _)| wanted(*segment))
            .map(|(_, text)| text.as_str())
            .collect()
    }

    /// Whether the checks of `phase` started.
    pub fn reached(&self, phase: GuestPhase) -> bool {
        self.phases.contains(&phase)
    }
}

/// The report so far, and the messages of modules whose status is still to come.
#[derive(Default)]
pub(super) struct Reader {
    report: Report,
    messages: BTreeMap<String, String>,
}

impl Reader {
    pub(super) fn finish(self) -> Report {
        self.report
    }

    pub(super) fn add(&mut self, line: GuestReport) {
        let report = &mut self.report;
        match line {
            GuestReport::Boot { release } => report.booted = Some(release),
            GuestReport::Cpus { online } => report.cpus = cpu_count(&online),
            GuestReport::End => report.ended = true,
            GuestReport::Phase(phase) => report.phases.push(phase),
            GuestReport::Output { check, phase, line } => {
                let (_, output) = report
                    .checks
                    .entry((check, phase))
                    .or_insert((-1, String::new()));
                output.push_str(&line);
                output.push('\n');
            }
            GuestReport::Status {
                check,
                phase,
                status,
            } => {
                report
                    .checks
                    .entry((check, phase))
                    .or_insert((-1, String::new()))
                    .0 = status;
            }
            GuestReport::SetupOutput { line } => {
                report.setup_output.push_str(&line);
                report.setup_output.push('\n');
            }
            GuestReport::Setup { status } => report.setup_status = Some(status),
            GuestReport::Error { module, line } => {
                let messages = self.messages.entry(module).or_default();
                messages.push_str(&line);
                messages.push('\n');
            }
            GuestReport::Insmod { module, status } => {
                let command = self.command(module, status);
                self.report.insmods.push(command);
            }
            GuestReport::Rmmod { module, status } => {
                let command = self.command(module, status);
                self.report.rmmods.push(command);
            }
            GuestReport::Transition { patch, wait } => {
                report.transitions.push(Waited { patch, wait });
            }
            GuestReport::Disable { patch, wait } => report.disables.push(Waited { patch, wait }),
            GuestReport::Blocker { pid, comm } => report.blockers.push(Blocker {
                pid,
                comm,
                stack: Vec::new(),
            }),
            GuestReport::Stack { pid, frame } => {
                if let Some(task) = report.blockers.iter_mut().rev().find(|t| t.pid == pid) {
                    task.stack.push(frame);
                }
            }
            GuestReport::Kmsg { segment, line } => report.kmsg.push((segment, line)),
        }
    }

    /// A module command with the messages printed before its status.
    fn command(&mut self, module: String, status: i32) -> ModuleCommand {
        let messages = self.messages.remove(&module).unwrap_or_default();
        ModuleCommand {
            module,
            status,
            messages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "\
KGPC BOOT 6.1.0-57-cloud-amd64
KGPC CPUS 0-1
serial noise
KGPC PHASE before
KGPC OUT 0 before first
KGPC OUT 0 before 
KGPC CHECK 0 before 1
KGPC ERR livepatch_x insmod: can't insert
KGPC ERR livepatch_x second line
KGPC INSMOD livepatch_x 1
KGPC RMMOD nfsd 0
KGPC TRANSITION livepatch_y timeout 100
KGPC BLOCKER 7 kworker/0:1
KGPC STACK 7 [<0>] msleep+0x28/0x40
KGPC STACK 8 [<0>] not a blocker
KGPC KMSG loaded-checks [    1.0] x
KGPC KMSG later [    1.1] y
";

    #[test]
    fn lines_are_gathered_by_what_they_report() {
        let report = Report::parse(RUN);
        assert_eq!(report.booted.as_deref(), Some("6.1.0-57-cloud-amd64"));
        assert_eq!(report.cpus, Some(2));
        assert!(!report.ended);
        assert_eq!(report.phases, vec![GuestPhase::Before]);
        assert_eq!(
            report.checks.get(&(0, GuestPhase::Before)),
            Some(&(1, "first\n\n".to_string()))
        );
        let insmod = ModuleCommand {
            module: "livepatch_x".into(),
            status: 1,
            messages: "insmod: can't insert\nsecond line\n".into(),
        };
        assert_eq!(report.insmods, vec![insmod]);
        assert_eq!(report.rmmods[0].messages, "");
        assert!(!report.transitions[0].wait.done);
        assert_eq!(report.blockers[0].stack, vec!["[<0>] msleep+0x28/0x40"]);
        assert_eq!(
            report.kmsg_where(|s| s.of_phase(GuestPhase::Loaded)),
            vec!["[    1.0] x"]
        );
    }

    #[test]
    fn malformed_lines_are_kept_not_gathered() {
        let report = Report::parse(RUN);
        assert_eq!(report.kmsg.len(), 1);
        assert_eq!(report.malformed.len(), 1);
        assert_eq!(report.malformed[0].line, "KGPC KMSG later [    1.1] y");
    }
}
