//! The lines of the guest's report about cycles and the workload: which
//! cycle the lines after them belong to, how long each transition took, and
//! the workload's copies. They share the prefix of [`super::protocol`] and
//! are read before its lines.

use super::protocol::{read_line, Malformed};
use std::fmt;

/// The words of the lines: each is `KGPC WORD FIELDS...`.
pub mod words {
    /// `CYCLE N`: the lines after it are of cycle N (0 is the one without the workload).
    pub const CYCLE: &str = "CYCLE";
    /// `TOOK enable|disable CENTISECONDS`: how long a transition took.
    pub const TOOK: &str = "TOOK";
    /// `WORKLOAD started|exited|output ...`: the workload's copies.
    pub const WORKLOAD: &str = "WORKLOAD";
    pub const ENABLE: &str = "enable";
    pub const DISABLE: &str = "disable";
    pub const STARTED: &str = "started";
    pub const EXITED: &str = "exited";
    pub const OUTPUT: &str = "output";
}

use words::*;

/// Which way a transition went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From loading the patch until its transition finished.
    Enable,
    /// From disabling the patch until the kernel freed it.
    Disable,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Enable => ENABLE,
            Direction::Disable => DISABLE,
        })
    }
}

/// One line about cycles or the workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadLine {
    /// The lines after this one are of this cycle.
    Cycle(u32),
    /// A transition took this many hundredths of a second (the clock of `/proc/uptime`).
    Took { direction: Direction, centis: u64 },
    /// The workload started this many copies, one per online CPU.
    Started { copies: u32 },
    /// A copy of the workload had ended, with this status, before it was stopped.
    Exited { copy: u32, status: i32 },
    /// A line an ended copy printed.
    Output { copy: u32, line: String },
}

impl LoadLine {
    /// Reads one line of the serial port: `None` for a line that is not one of these.
    pub fn from_line(line: &str) -> Option<Result<LoadLine, Malformed>> {
        let (word, _) = line
            .strip_prefix(super::protocol::words::PREFIX)?
            .strip_prefix(' ')?
            .split_once(' ')?;
        if ![CYCLE, TOOK, WORKLOAD].contains(&word) {
            return None;
        }
        read_line(line, Self::from_fields)
    }

    fn from_fields(word: &str, fields: &str) -> Result<LoadLine, &'static str> {
        let number = |text: Option<&str>| -> Result<u64, &'static str> {
            text.and_then(|t| t.trim().parse().ok())
                .ok_or("not a number")
        };
        let mut parts = fields.splitn(3, ' ');
        let first = parts.next();
        Ok(match (word, first) {
            (CYCLE, _) => LoadLine::Cycle(number(first)? as u32),
            (TOOK, Some(ENABLE)) | (TOOK, Some(DISABLE)) => LoadLine::Took {
                direction: if first == Some(ENABLE) {
                    Direction::Enable
                } else {
                    Direction::Disable
                },
                centis: number(parts.next())?,
            },
            (WORKLOAD, Some(STARTED)) => LoadLine::Started {
                copies: number(parts.next())? as u32,
            },
            (WORKLOAD, Some(EXITED)) => LoadLine::Exited {
                copy: number(parts.next())? as u32,
                status: parts
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("not an exit status")?,
            },
            (WORKLOAD, Some(OUTPUT)) => LoadLine::Output {
                copy: number(parts.next())? as u32,
                line: parts.next().unwrap_or("").to_string(),
            },
            _ => return Err("not a line about cycles or the workload"),
        })
    }
}

/// The line as the guest writes it.
impl fmt::Display for LoadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = super::protocol::words::PREFIX;
        match self {
            LoadLine::Cycle(cycle) => write!(f, "{prefix} {CYCLE} {cycle}"),
            LoadLine::Took { direction, centis } => {
                write!(f, "{prefix} {TOOK} {direction} {centis}")
            }
            LoadLine::Started { copies } => write!(f, "{prefix} {WORKLOAD} {STARTED} {copies}"),
            LoadLine::Exited { copy, status } => {
                write!(f, "{prefix} {WORKLOAD} {EXITED} {copy} {status}")
            }
            LoadLine::Output { copy, line } => {
                write!(f, "{prefix} {WORKLOAD} {OUTPUT} {copy} {line}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_reads_back_as_it_was_written() {
        let lines = [
            LoadLine::Cycle(0),
            LoadLine::Cycle(100),
            LoadLine::Took {
                direction: Direction::Enable,
                centis: 3,
            },
            LoadLine::Took {
                direction: Direction::Disable,
                centis: 120,
            },
            LoadLine::Started { copies: 2 },
            LoadLine::Exited {
                copy: 1,
                status: -1,
            },
            LoadLine::Output {
                copy: 0,
                line: "cat: can't open 'x': No such file".into(),
            },
            LoadLine::Output {
                copy: 0,
                line: String::new(),
            },
        ];
        for line in lines {
            let text = line.to_string();
            assert_eq!(LoadLine::from_line(&text), Some(Ok(line)), "{text}");
        }
    }

    #[test]
    fn other_lines_are_not_these_and_bad_ones_are_malformed() {
        assert_eq!(LoadLine::from_line("KGPC CHECK 0 before 0"), None);
        assert_eq!(LoadLine::from_line("KGPC END"), None);
        assert_eq!(LoadLine::from_line("CYCLE 2"), None);
        for bad in [
            "KGPC CYCLE x",
            "KGPC TOOK sideways 3",
            "KGPC WORKLOAD exited 1",
        ] {
            assert!(matches!(LoadLine::from_line(bad), Some(Err(_))), "{bad}");
        }
    }
}
