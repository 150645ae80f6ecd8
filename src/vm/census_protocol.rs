//! The census boot's report: the `KGPC ...` lines its `/init` writes on the
//! second serial port, as one type with one parser.
//!
//! The words of the lines are defined here once ([`words`]); the census
//! script ([`super::census::init_script`]) is written from these constants
//! and the parser reads them with the same ones, so the guest and the host
//! cannot drift apart. The words the test's report uses too come from
//! [`super::protocol`], so both reports spell them alike.

use super::protocol::Malformed;
use crate::kernel::census::{parse_frame, parse_stat, Frame, Seen};

/// The words of the census report: each line is `KGPC WORD FIELDS...`.
pub mod words {
    pub use crate::vm::protocol::words::{BOOT, END, PREFIX, STACK};
    /// `/sys/kernel/notes`, in hexadecimal, which holds the build id.
    pub const NOTES: &str = "NOTES";
    /// A module the booted kernel has loaded.
    pub const MODULE: &str = "MODULE";
    /// A task's `/proc/PID/stat` in one sample.
    pub const TASK: &str = "TASK";
}

use words::*;

/// One line of the census boot's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CensusReport {
    /// `/init` started, in the kernel of this release.
    Boot { release: String },
    /// The bytes of `/sys/kernel/notes`.
    Notes { notes: Vec<u8> },
    /// A module the kernel had loaded once the boot settled.
    Module { name: String },
    /// A task as sample `sample` read its `/proc/PID/stat`; its frames are
    /// empty, since the `STACK` lines after it carry them.
    Task { sample: u32, task: Seen },
    /// A frame of task `pid`'s kernel stack in sample `sample`, top first;
    /// `None` for one without a function (a bare address), which the census skips.
    Stack {
        sample: u32,
        pid: u32,
        frame: Option<Frame>,
    },
    /// `/init` took its last sample.
    End,
}

impl CensusReport {
    /// Reads one line of the serial port: `None` for a line that is not the
    /// report's, an error for one that starts like it but cannot be read
    /// (such as the last line of a boot killed while writing it).
    pub fn from_line(line: &str) -> Option<Result<CensusReport, Malformed>> {
        crate::vm::protocol::read_line(line, Self::from_fields)
    }

    fn from_fields(word: &str, fields: &str) -> Result<CensusReport, &'static str> {
        Ok(match word {
            BOOT => CensusReport::Boot {
                release: fields.trim().to_string(),
            },
            NOTES => CensusReport::Notes {
                notes: hex_bytes(fields.trim()).ok_or("not whole bytes in hexadecimal")?,
            },
            MODULE => CensusReport::Module {
                name: fields.trim().to_string(),
            },
            TASK => {
                let (sample_word, stat) = fields.split_once(' ').ok_or("no task's stat")?;
                let (pid, comm, state, kthread) =
                    parse_stat(stat).ok_or("not a task's /proc/PID/stat")?;
                CensusReport::Task {
                    sample: sample(sample_word)?,
                    task: Seen {
                        pid,
                        comm,
                        state,
                        kthread,
                        frames: Vec::new(),
                    },
                }
            }
            STACK => {
                let mut parts = fields.splitn(3, ' ');
                let sample = sample(parts.next().unwrap_or(""))?;
                let pid = parts
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("not a process id")?;
                CensusReport::Stack {
                    sample,
                    pid,
                    frame: parse_frame(parts.next().ok_or("no frame")?),
                }
            }
            END => CensusReport::End,
            _ => return Err("not a word of the census report"),
        })
    }
}

fn sample(word: &str) -> Result<u32, &'static str> {
    word.parse().map_err(|_| "not a sample's number")
}

/// Decodes pairs of hexadecimal digits; `None` for anything else, an odd digit included.
fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| char::from(c).to_digit(16);
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [high, low] => Some((digit(*high)? * 16 + digit(*low)?) as u8),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KSMD_STAT: &str = "31 (ksmd) S 2 0 0 0 -1 2129984 0";

    fn ksmd(frames: Vec<Frame>) -> Seen {
        Seen {
            pid: 31,
            comm: "ksmd".into(),
            state: 'S',
            kthread: true,
            frames,
        }
    }

    fn frame(function: &str, module: Option<&str>) -> Frame {
        Frame {
            function: function.into(),
            module: module.map(str::to_string),
        }
    }

    /// One line of every kind as the script writes it, in the words it is
    /// written from, and what it reads as.
    fn every_kind() -> Vec<(String, CensusReport)> {
        let line = |word: &str, fields: &str| format!("{PREFIX} {word} {fields}");
        vec![
            (
                line(BOOT, "6.1.0-57-cloud-amd64"),
                CensusReport::Boot {
                    release: "6.1.0-57-cloud-amd64".into(),
                },
            ),
            (
                line(NOTES, "040000000300000003000000474e5500abcdef00"),
                CensusReport::Notes {
                    notes: vec![
                        4, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0, 0x47, 0x4e, 0x55, 0, 0xab, 0xcd, 0xef,
                        0,
                    ],
                },
            ),
            (line(NOTES, ""), CensusReport::Notes { notes: vec![] }),
            (
                line(MODULE, "virtio_net"),
                CensusReport::Module {
                    name: "virtio_net".into(),
                },
            ),
            (
                line(TASK, &format!("2 {KSMD_STAT}")),
                CensusReport::Task {
                    sample: 2,
                    task: ksmd(Vec::new()),
                },
            ),
            (
                line(TASK, "1 77 (a (b) c) R 1 77 77 0 -1 4194560 0"),
                CensusReport::Task {
                    sample: 1,
                    task: Seen {
                        pid: 77,
                        comm: "a (b) c".into(),
                        state: 'R',
                        kthread: false,
                        frames: Vec::new(),
                    },
                },
            ),
            (
                line(STACK, "1 31 [<0>] ksm_scan_thread+0x1d1/0x2f0"),
                CensusReport::Stack {
                    sample: 1,
                    pid: 31,
                    frame: Some(frame("ksm_scan_thread", None)),
                },
            ),
            (
                line(STACK, "3 31 [<0>] nfsd+0x10/0x20 [nfsd]"),
                CensusReport::Stack {
                    sample: 3,
                    pid: 31,
                    frame: Some(frame("nfsd", Some("nfsd"))),
                },
            ),
            (
                line(STACK, "1 31 [<0>] 0xffffffffc0000000"),
                CensusReport::Stack {
                    sample: 1,
                    pid: 31,
                    frame: None,
                },
            ),
            (format!("{PREFIX} {END}"), CensusReport::End),
        ]
    }

    #[test]
    fn every_line_reads_as_what_it_says() {
        for (text, expected) in every_kind() {
            assert_eq!(
                CensusReport::from_line(&text),
                Some(Ok(expected.clone())),
                "{text}"
            );
            let carriage = format!("{text}\r");
            assert_eq!(CensusReport::from_line(&carriage), Some(Ok(expected)));
        }
    }

    #[test]
    fn other_lines_are_not_the_reports() {
        for line in ["", "KGPC", "KGPCX BOOT 6.1", "[    1.0] Linux", " KGPC END"] {
            assert_eq!(CensusReport::from_line(line), None, "{line}");
        }
    }

    #[test]
    fn malformed_lines_are_reported_with_the_reason() {
        let cases = [
            ("KGPC SAMPLE 1", "not a word of the census report"),
            ("KGPC NOTES 0400x0", "not whole bytes in hexadecimal"),
            ("KGPC NOTES 04000", "not whole bytes in hexadecimal"),
            ("KGPC NOTES +f", "not whole bytes in hexadecimal"),
            ("KGPC NOTES 0é", "not whole bytes in hexadecimal"),
            ("KGPC TASK 1", "no task's stat"),
            (
                "KGPC TASK one 31 (ksmd) S 2 0 0 0 -1 2129984 0",
                "not a sample's number",
            ),
            (
                "KGPC TASK 1 31 (ksmd) S 2 0 0",
                "not a task's /proc/PID/stat",
            ),
            ("KGPC STACK x 31 [<0>] f+0x1/0x2", "not a sample's number"),
            ("KGPC STACK 1 -31 [<0>] f+0x1/0x2", "not a process id"),
            ("KGPC STACK 1", "not a process id"),
            ("KGPC STACK 1 31", "no frame"),
        ];
        for (line, why) in cases {
            let malformed = CensusReport::from_line(line).and_then(Result::err);
            let expected = Malformed {
                line: line.to_string(),
                why,
            };
            assert_eq!(malformed, Some(expected), "{line}");
        }
    }

    /// QEMU killed while the guest writes a line leaves any prefix of it:
    /// each one reads as a line, a malformed one or none, and never panics.
    #[test]
    fn a_line_cut_anywhere_is_read_or_reported() {
        let task = format!("{PREFIX} {TASK} 1 {KSMD_STAT} 0 0 0 é");
        let texts = every_kind().into_iter().map(|(text, _)| text);
        for text in texts.chain([task]) {
            let cuts = (0..text.len()).filter(|&at| text.is_char_boundary(at));
            for cut in cuts.map(|at| &text[..at]) {
                match CensusReport::from_line(cut) {
                    None => assert!(!cut.starts_with(&format!("{PREFIX} "))),
                    Some(Err(malformed)) => assert_eq!(malformed.line, cut),
                    Some(Ok(_)) => {}
                }
            }
        }
        let cut_task = format!("{PREFIX} {TASK} 1 31 (ksmd) S 2 0");
        assert!(matches!(CensusReport::from_line(&cut_task), Some(Err(_))));
    }
}
