//! What the guest reported about cycles and the workload, gathered while
//! [`super::report::Report::parse`] reads the report: the lines of cycle 1
//! go to the report itself, those of every other cycle to a report of that
//! cycle, judged the same way.

use super::load_protocol::{Direction, LoadLine};
use super::protocol::{GuestReport, Segment};
use super::report::{Reader, Report};

/// The cycles, their transition times and the workload.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    /// The cycles other than the first, in order: cycle 0 (without the
    /// workload) and cycles 2 and on, each with what the guest reported in it.
    pub cycles: Vec<(u32, Report)>,
    /// The highest cycle that started; 0 when the run had no cycles.
    pub last_cycle: u32,
    /// How long each transition took, in hundredths of a second, by cycle.
    pub took: Vec<Took>,
    /// How many copies of the workload started.
    pub workload_copies: Option<u32>,
    /// The copies of the workload that had ended before they were stopped.
    pub exited: Vec<Exited>,
}

/// One timed transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Took {
    pub cycle: u32,
    pub direction: Direction,
    pub centis: u64,
}

/// A copy of the workload that ended early: its exit status and output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exited {
    pub copy: u32,
    pub status: i32,
    pub output: String,
}

/// Gathers the lines about cycles and the workload, and the other lines of
/// every cycle but the first.
#[derive(Default)]
pub(super) struct LoadReader {
    report: LoadReport,
    /// The cycle the lines are of now, once a `CYCLE` line said so.
    current: Option<u32>,
    /// The readers of the cycles other than the first.
    cycles: Vec<(u32, Reader)>,
}

impl LoadReader {
    pub fn add(&mut self, line: LoadLine) {
        let report = &mut self.report;
        match line {
            LoadLine::Cycle(cycle) => {
                self.current = Some(cycle);
                report.last_cycle = report.last_cycle.max(cycle);
                if cycle != 1 {
                    self.cycles.push((cycle, Reader::default()));
                }
            }
            LoadLine::Took { direction, centis } => report.took.push(Took {
                cycle: self.current.unwrap_or(1),
                direction,
                centis,
            }),
            LoadLine::Started { copies } => report.workload_copies = Some(copies),
            LoadLine::Exited { copy, status } => report.exited.push(Exited {
                copy,
                status,
                output: String::new(),
            }),
            LoadLine::Output { copy, line } => {
                if let Some(exited) = report.exited.iter_mut().rev().find(|e| e.copy == copy) {
                    exited.output.push_str(&line);
                    exited.output.push('\n');
                }
            }
        }
    }

    /// The reader of the cycle a line of the main protocol belongs to, when
    /// that is not the first; the end of the run belongs to the report itself.
    pub fn reader_for(&mut self, line: &GuestReport) -> Option<&mut Reader> {
        let ends = matches!(
            line,
            GuestReport::End
                | GuestReport::Boot { .. }
                | GuestReport::Kmsg {
                    segment: Segment::End,
                    ..
                }
        );
        if ends || matches!(self.current, None | Some(1)) {
            return None;
        }
        self.cycles.last_mut().map(|(_, reader)| reader)
    }

    pub fn finish(self) -> LoadReport {
        let mut report = self.report;
        report.cycles = self
            .cycles
            .into_iter()
            .map(|(cycle, reader)| (cycle, reader.finish()))
            .collect();
        report
    }
}

#[cfg(test)]
mod tests {
    use crate::vm::protocol::GuestPhase;
    use crate::vm::report::Report;

    #[test]
    fn the_lines_of_later_cycles_are_their_own() {
        let report = Report::parse(
            "KGPC BOOT 6.1\n\
             KGPC CYCLE 0\nKGPC TOOK enable 2\nKGPC KMSG loaded x0\n\
             KGPC CYCLE 1\nKGPC TOOK enable 3\nKGPC CHECK 0 loaded 0\n\
             KGPC WORKLOAD started 2\n\
             KGPC CYCLE 2\nKGPC PHASE loaded\nKGPC OUT 0 loaded two\nKGPC CHECK 0 loaded 1\n\
             KGPC TOOK disable 5\nKGPC WORKLOAD exited 1 3\nKGPC WORKLOAD output 1 gone\n\
             KGPC KMSG end last\nKGPC END\n",
        );
        assert!(report.ended && report.malformed.is_empty());
        assert_eq!(report.checks.get(&(0, GuestPhase::Loaded)).unwrap().0, 0);
        let load = &report.load;
        assert_eq!(load.last_cycle, 2);
        assert_eq!(
            load.cycles.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            [0, 2]
        );
        assert_eq!(load.cycles[0].1.kmsg.len(), 1);
        let second = &load.cycles[1].1;
        assert_eq!(second.phases, [GuestPhase::Loaded]);
        assert_eq!(
            second.checks.get(&(0, GuestPhase::Loaded)),
            Some(&(1, "two\n".to_string()))
        );
        assert_eq!(report.kmsg.len(), 1, "the end's messages are the run's");
        let cycles: Vec<u32> = load.took.iter().map(|t| t.cycle).collect();
        assert_eq!(cycles, [0, 1, 2]);
        assert_eq!(load.workload_copies, Some(2));
        assert_eq!(load.exited[0].output, "gone\n");
    }
}
