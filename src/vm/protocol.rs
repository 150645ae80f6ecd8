//! The guest's report: the `KGPC ...` lines the test's `/init` writes on its
//! second serial port, as one type with one parser.
//!
//! The words of the lines are defined here once ([`words`]); the script
//! generator ([`super::script`]) writes them from these constants, and the
//! parser reads them with the same constants, so the guest and the host
//! cannot drift apart.

use crate::check::model::Phase;
use std::fmt;

/// The words of the protocol: each line is `KGPC WORD FIELDS...`.
pub mod words {
    /// What every line of the report starts with.
    pub const PREFIX: &str = "KGPC";
    pub const BOOT: &str = "BOOT";
    pub const CPUS: &str = "CPUS";
    pub const PHASE: &str = "PHASE";
    pub const OUT: &str = "OUT";
    pub const CHECK: &str = "CHECK";
    /// A line the setup script printed.
    pub const SETUP_OUT: &str = "SOUT";
    /// The setup script's exit status.
    pub const SETUP_STATUS: &str = "SETUP";
    pub const ERR: &str = "ERR";
    pub const INSMOD: &str = "INSMOD";
    pub const RMMOD: &str = "RMMOD";
    pub const TRANSITION: &str = "TRANSITION";
    pub const DISABLE: &str = "DISABLE";
    pub const BLOCKER: &str = "BLOCKER";
    pub const STACK: &str = "STACK";
    pub const KMSG: &str = "KMSG";
    pub const END: &str = "END";
    /// A transition or a disable that finished in time.
    pub const DONE: &str = "done";
    /// A transition or a disable that had not finished when the guest stopped waiting.
    pub const TIMEOUT: &str = "timeout";
    /// What a kernel log segment of a phase's checks is named after: `loaded-checks`.
    pub const CHECKS_SUFFIX: &str = "-checks";
}

use words::*;

/// A phase of the test in the guest; the spec's checks run in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GuestPhase {
    /// Before the patch is loaded.
    Before,
    /// Once the patch is loaded and its transition has finished.
    Loaded,
    /// After the patch is disabled and unloaded.
    Unloaded,
    /// After the kernel refused the patch, as the spec expects.
    Refused,
}

impl GuestPhase {
    pub const ALL: [GuestPhase; 4] = [
        GuestPhase::Before,
        GuestPhase::Loaded,
        GuestPhase::Unloaded,
        GuestPhase::Refused,
    ];

    pub fn word(self) -> &'static str {
        match self {
            GuestPhase::Before => "before",
            GuestPhase::Loaded => "loaded",
            GuestPhase::Unloaded => "unloaded",
            GuestPhase::Refused => "refused",
        }
    }

    fn from_word(word: &str) -> Option<GuestPhase> {
        Self::ALL.into_iter().find(|p| p.word() == word)
    }
}

impl From<Phase> for GuestPhase {
    fn from(phase: Phase) -> Self {
        match phase {
            Phase::Loaded => GuestPhase::Loaded,
            Phase::Unloaded => GuestPhase::Unloaded,
        }
    }
}

impl fmt::Display for GuestPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// The part of the run a kernel message was read after: `/init` reads the
/// kernel log at the end of each part and reports what is new.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// The boot, up to `/init`.
    Boot,
    /// Loading the modules and patches that come before the patch.
    Setup,
    /// Loading the patch (and the modules after it), refused or not.
    Loaded,
    /// Reloading the test's modules while the patch is applied.
    Reload,
    /// Disabling and unloading the patch.
    Unloaded,
    /// Running the checks of a phase.
    Checks(GuestPhase),
    /// The last messages, read just before the guest powers off.
    End,
}

impl Segment {
    /// Whether the messages were logged on the way into `phase` or while its checks ran.
    pub fn of_phase(self, phase: GuestPhase) -> bool {
        match self {
            Segment::Loaded => phase == GuestPhase::Loaded,
            Segment::Unloaded => phase == GuestPhase::Unloaded,
            Segment::Checks(checked) => checked == phase,
            Segment::Boot | Segment::Setup | Segment::Reload | Segment::End => false,
        }
    }

    pub const ALL: [Segment; 10] = [
        Segment::Boot,
        Segment::Setup,
        Segment::Checks(GuestPhase::Before),
        Segment::Loaded,
        Segment::Checks(GuestPhase::Loaded),
        Segment::Reload,
        Segment::Unloaded,
        Segment::Checks(GuestPhase::Unloaded),
        Segment::Checks(GuestPhase::Refused),
        Segment::End,
    ];

    fn from_word(word: &str) -> Option<Segment> {
        Self::ALL.into_iter().find(|s| s.to_string() == word)
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Boot => f.write_str("boot"),
            Segment::Setup => f.write_str("setup"),
            Segment::Loaded => f.write_str("loaded"),
            Segment::Reload => f.write_str("reload"),
            Segment::Unloaded => f.write_str("unloaded"),
            Segment::Checks(phase) => write!(f, "{phase}{CHECKS_SUFFIX}"),
            Segment::End => f.write_str("end"),
        }
    }
}

/// How a wait for a transition (or for a disabled patch to go) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// Whether it finished in time.
    pub done: bool,
    /// How long the guest waited, in tenths of a second.
    pub tenths: u64,
}

/// One line of the guest's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestReport {
    /// `/init` started, in the kernel of this release.
    Boot { release: String },
    /// The CPUs online in the guest, as `/sys/devices/system/cpu/online`
    /// lists them (`0-1`, `0,2-3`).
    Cpus { online: String },
    /// The checks of a phase start.
    Phase(GuestPhase),
    /// One line a check printed.
    Output {
        check: usize,
        phase: GuestPhase,
        line: String,
    },
    /// A check's exit status, after its output.
    Status {
        check: usize,
        phase: GuestPhase,
        status: i32,
    },
    /// One line the setup script printed.
    SetupOutput { line: String },
    /// The setup script's exit status, after its output.
    Setup { status: i32 },
    /// One line `insmod` or `rmmod` printed about a module, before its status.
    Error { module: String, line: String },
    /// `insmod`'s exit status for a module.
    Insmod { module: String, status: i32 },
    /// `rmmod`'s exit status for a module.
    Rmmod { module: String, status: i32 },
    /// The wait for a livepatch's transition. A finished one's line also
    /// says whether the patch is enabled, which nothing reads.
    Transition { patch: String, wait: Wait },
    /// The wait for a disabled livepatch to be freed.
    Disable { patch: String, wait: Wait },
    /// A task that had not switched when a wait timed out.
    Blocker { pid: u32, comm: String },
    /// A frame of a blocking task's kernel stack, top first.
    Stack { pid: u32, frame: String },
    /// A kernel message, with the part of the run it was read after.
    Kmsg { segment: Segment, line: String },
    /// `/init` reached its end.
    End,
}

/// A line that starts like the protocol's but that the parser cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub line: String,
    pub why: &'static str,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.line, self.why)
    }
}

/// Reads one line of a guest's report, `KGPC WORD FIELDS`, with `parse`
/// reading the word and fields: `None` for a line that is not the report's
/// (the kernel's own console output), an error for one that cannot be read.
pub fn read_line<T>(
    line: &str,
    parse: impl FnOnce(&str, &str) -> Result<T, &'static str>,
) -> Option<Result<T, Malformed>> {
    let line = line.trim_end_matches('\r');
    let rest = line.strip_prefix(PREFIX)?.strip_prefix(' ')?;
    let (word, fields) = rest.split_once(' ').unwrap_or((rest, ""));
    Some(parse(word, fields).map_err(|why| Malformed {
        line: line.to_string(),
        why,
    }))
}

impl GuestReport {
    /// Reads one line of the serial port: `None` for a line that is not the
    /// protocol's, an error for one that starts like it but cannot be read.
    pub fn from_line(line: &str) -> Option<Result<GuestReport, Malformed>> {
        read_line(line, Self::from_fields)
    }

    fn from_fields(word: &str, fields: &str) -> Result<GuestReport, &'static str> {
        // Fields that end a line (a release, a check's output, a kernel
        // message) are taken whole, empty or with spaces.
        let (first, last) = fields.split_once(' ').unwrap_or((fields, ""));
        Ok(match word {
            BOOT => GuestReport::Boot {
                release: fields.to_string(),
            },
            CPUS => {
                cpu_count(fields).ok_or("not a list of CPUs")?;
                GuestReport::Cpus {
                    online: fields.to_string(),
                }
            }
            PHASE => GuestReport::Phase(phase(fields)?),
            OUT => {
                let mut parts = fields.splitn(3, ' ');
                GuestReport::Output {
                    check: index(parts.next())?,
                    phase: phase(parts.next().ok_or("no phase")?)?,
                    line: parts.next().unwrap_or("").to_string(),
                }
            }
            CHECK => {
                let [check, phase_word, status] = exactly_three(fields)?;
                GuestReport::Status {
                    check: index(Some(check))?,
                    phase: phase(phase_word)?,
                    status: exit_status(status)?,
                }
            }
            SETUP_OUT => GuestReport::SetupOutput {
                line: fields.to_string(),
            },
            SETUP_STATUS => GuestReport::Setup {
                status: exit_status(fields)?,
            },
            ERR => GuestReport::Error {
                module: first.to_string(),
                line: last.to_string(),
            },
            INSMOD | RMMOD => {
                let (module, status) = fields.rsplit_once(' ').ok_or("no exit status")?;
                let (module, status) = (module.to_string(), exit_status(status)?);
                if word == INSMOD {
                    GuestReport::Insmod { module, status }
                } else {
                    GuestReport::Rmmod { module, status }
                }
            }
            TRANSITION | DISABLE => {
                let (patch, wait) = waited(fields)?;
                if word == TRANSITION {
                    GuestReport::Transition { patch, wait }
                } else {
                    GuestReport::Disable { patch, wait }
                }
            }
            BLOCKER => GuestReport::Blocker {
                pid: pid(first)?,
                comm: last.to_string(),
            },
            STACK => GuestReport::Stack {
                pid: pid(first)?,
                frame: last.to_string(),
            },
            KMSG => GuestReport::Kmsg {
                segment: Segment::from_word(first).ok_or("not a segment of the run")?,
                line: last.to_string(),
            },
            END => GuestReport::End,
            _ => return Err("not a word of the protocol"),
        })
    }

    /// The word that names the line's kind.
    pub fn word(&self) -> &'static str {
        match self {
            GuestReport::Boot { .. } => BOOT,
            GuestReport::Cpus { .. } => CPUS,
            GuestReport::Phase(_) => PHASE,
            GuestReport::Output { .. } => OUT,
            GuestReport::Status { .. } => CHECK,
            GuestReport::SetupOutput { .. } => SETUP_OUT,
            GuestReport::Setup { .. } => SETUP_STATUS,
            GuestReport::Error { .. } => ERR,
            GuestReport::Insmod { .. } => INSMOD,
            GuestReport::Rmmod { .. } => RMMOD,
            GuestReport::Transition { .. } => TRANSITION,
            GuestReport::Disable { .. } => DISABLE,
            GuestReport::Blocker { .. } => BLOCKER,
            GuestReport::Stack { .. } => STACK,
            GuestReport::Kmsg { .. } => KMSG,
            GuestReport::End => END,
        }
    }
}

/// The line as the guest writes it.
impl fmt::Display for GuestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX} {}", self.word())?;
        match self {
            GuestReport::Boot { release } => write!(f, " {release}"),
            GuestReport::Cpus { online } => write!(f, " {online}"),
            GuestReport::Phase(phase) => write!(f, " {phase}"),
            GuestReport::Output { check, phase, line } => write!(f, " {check} {phase} {line}"),
            GuestReport::Status {
                check,
                phase,
                status,
            } => write!(f, " {check} {phase} {status}"),
            GuestReport::SetupOutput { line } => write!(f, " {line}"),
            GuestReport::Setup { status } => write!(f, " {status}"),
            GuestReport::Error { module, line } => write!(f, " {module} {line}"),
            GuestReport::Insmod { module, status } | GuestReport::Rmmod { module, status } => {
                write!(f, " {module} {status}")
            }
            GuestReport::Transition { patch, wait } | GuestReport::Disable { patch, wait } => {
                let state = if wait.done { DONE } else { TIMEOUT };
                write!(f, " {patch} {state} {}", wait.tenths)
            }
            GuestReport::Blocker { pid, comm } => write!(f, " {pid} {comm}"),
            GuestReport::Stack { pid, frame } => write!(f, " {pid} {frame}"),
            GuestReport::Kmsg { segment, line } => write!(f, " {segment} {line}"),
            GuestReport::End => Ok(()),
        }
    }
}

/// How many CPUs a kernel CPU list names (`0-1,4` is three), or `None`
/// when it is not one.
pub fn cpu_count(list: &str) -> Option<usize> {
    let mut count = 0;
    for part in list.split(',') {
        let (first, last) = part.split_once('-').unwrap_or((part, part));
        let (first, last): (usize, usize) = (first.parse().ok()?, last.parse().ok()?);
        count += last.checked_sub(first)? + 1;
    }
    Some(count)
}

fn phase(word: &str) -> Result<GuestPhase, &'static str> {
    GuestPhase::from_word(word).ok_or("not a phase of the test")
}

fn index(word: Option<&str>) -> Result<usize, &'static str> {
    word.and_then(|w| w.parse().ok())
        .ok_or("no index of a check")
}

fn exit_status(word: &str) -> Result<i32, &'static str> {
    word.parse().map_err(|_| "not an exit status")
}

fn pid(word: &str) -> Result<u32, &'static str> {
    word.parse().map_err(|_| "not a process id")
}

fn exactly_three(fields: &str) -> Result<[&str; 3], &'static str> {
    let parts: Vec<&str> = fields.split(' ').collect();
    <[&str; 3]>::try_from(parts).map_err(|_| "not three fields")
}

/// `PATCH done|timeout TENTHS [...]`.
fn waited(fields: &str) -> Result<(String, Wait), &'static str> {
    let mut parts = fields.splitn(4, ' ');
    let patch = parts.next().unwrap_or("").to_string();
    let done = match parts.next() {
        Some(DONE) => true,
        Some(TIMEOUT) => false,
        _ => return Err("neither done nor timeout"),
    };
    let tenths = parts
        .next()
        .and_then(|t| t.parse().ok())
        .ok_or("no time waited")?;
    Ok((patch, Wait { done, tenths }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One line of every kind, with the edge cases the guest writes: empty
    /// output and messages, and text with spaces.
    fn every_kind() -> Vec<GuestReport> {
        let wait = |done, tenths| Wait { done, tenths };
        let mut lines = vec![
            GuestReport::Boot {
                release: "6.1.0-57-cloud-amd64".into(),
            },
            GuestReport::Cpus {
                online: "0-1".into(),
            },
            GuestReport::Cpus {
                online: "0,2-3".into(),
            },
            GuestReport::Output {
                check: 0,
                phase: GuestPhase::Before,
                line: "console=ttyS0 panic=-1".into(),
            },
            GuestReport::Output {
                check: 12,
                phase: GuestPhase::Refused,
                line: String::new(),
            },
            GuestReport::Status {
                check: 3,
                phase: GuestPhase::Unloaded,
                status: -1,
            },
            GuestReport::Error {
                module: "livepatch_x".into(),
                line: "insmod: can't insert 'x': unknown symbol".into(),
            },
            GuestReport::Error {
                module: "livepatch_x".into(),
                line: String::new(),
            },
            GuestReport::SetupOutput {
                line: "mkdir: can't create directory".into(),
            },
            GuestReport::SetupOutput {
                line: String::new(),
            },
            GuestReport::Setup { status: 2 },
            GuestReport::Insmod {
                module: "livepatch_x".into(),
                status: 1,
            },
            GuestReport::Rmmod {
                module: "nfsd".into(),
                status: 0,
            },
            GuestReport::Transition {
                patch: "livepatch_x".into(),
                wait: wait(true, 3),
            },
            GuestReport::Disable {
                patch: "livepatch_x".into(),
                wait: wait(false, 100),
            },
            GuestReport::Blocker {
                pid: 42,
                comm: "kworker/0:1 x".into(),
            },
            GuestReport::Stack {
                pid: 42,
                frame: "[<0>] msleep+0x28/0x40".into(),
            },
            GuestReport::Kmsg {
                segment: Segment::Loaded,
                line: String::new(),
            },
            GuestReport::End,
        ];
        lines.extend(GuestPhase::ALL.map(GuestReport::Phase));
        lines.extend(Segment::ALL.map(|segment| GuestReport::Kmsg {
            segment,
            line: "[    1.0] livepatch: enabling patch 'x'".into(),
        }));
        lines
    }

    #[test]
    fn every_line_reads_back_as_it_was_written() {
        for line in every_kind() {
            let text = line.to_string();
            assert_eq!(GuestReport::from_line(&text), Some(Ok(line)), "{text}");
            let carriage = format!("{text}\r");
            assert!(matches!(GuestReport::from_line(&carriage), Some(Ok(_))));
        }
    }

    #[test]
    fn other_lines_are_not_the_protocols() {
        for line in [
            "",
            "KGPC",
            "KGPCX BOOT 6.1",
            "Linux version 6.1",
            " KGPC END",
        ] {
            assert_eq!(GuestReport::from_line(line), None, "{line}");
        }
    }

    #[test]
    fn malformed_lines_are_reported_with_the_reason() {
        let cases = [
            ("KGPC NONSENSE 1", "not a word of the protocol"),
            ("KGPC PHASE during", "not a phase of the test"),
            ("KGPC CPUS", "not a list of CPUs"),
            ("KGPC CPUS 1-0", "not a list of CPUs"),
            ("KGPC CPUS 0,,1", "not a list of CPUs"),
            ("KGPC OUT x before text", "no index of a check"),
            ("KGPC OUT 0", "no phase"),
            ("KGPC CHECK 0 before", "not three fields"),
            ("KGPC CHECK 0 before 0 1", "not three fields"),
            ("KGPC CHECK 0 before zero", "not an exit status"),
            ("KGPC INSMOD livepatch_x", "no exit status"),
            ("KGPC RMMOD livepatch_x ok", "not an exit status"),
            (
                "KGPC TRANSITION livepatch_x tim",
                "neither done nor timeout",
            ),
            ("KGPC DISABLE livepatch_x done", "no time waited"),
            ("KGPC BLOCKER init 1", "not a process id"),
            ("KGPC STACK -1 frame", "not a process id"),
            ("KGPC KMSG later text", "not a segment of the run"),
            ("KGPC KMSG during-checks text", "not a segment of the run"),
        ];
        for (line, why) in cases {
            let malformed = GuestReport::from_line(line).and_then(Result::err);
            assert_eq!(
                malformed,
                Some(Malformed {
                    line: line.to_string(),
                    why
                }),
                "{line}"
            );
        }
    }

    #[test]
    fn a_finished_transition_may_say_whether_the_patch_is_enabled() {
        let line = GuestReport::from_line("KGPC TRANSITION livepatch_x done 3 1");
        let wait = Wait {
            done: true,
            tenths: 3,
        };
        assert_eq!(
            line,
            Some(Ok(GuestReport::Transition {
                patch: "livepatch_x".into(),
                wait
            }))
        );
    }

    #[test]
    fn a_cpu_list_counts_its_ranges_and_single_cpus() {
        assert_eq!(cpu_count("0"), Some(1));
        assert_eq!(cpu_count("0-1"), Some(2));
        assert_eq!(cpu_count("0,2-3,7"), Some(4));
        assert_eq!(cpu_count("0-x"), None);
    }

    #[test]
    fn segments_belong_to_the_phase_they_lead_into() {
        assert!(Segment::Loaded.of_phase(GuestPhase::Loaded));
        assert!(Segment::Checks(GuestPhase::Loaded).of_phase(GuestPhase::Loaded));
        assert!(!Segment::Unloaded.of_phase(GuestPhase::Loaded));
        assert!(!Segment::Checks(GuestPhase::Before).of_phase(GuestPhase::Loaded));
        assert!(!Segment::Setup.of_phase(GuestPhase::Before));
        assert!(Segment::Unloaded.of_phase(GuestPhase::Unloaded));
    }
}
