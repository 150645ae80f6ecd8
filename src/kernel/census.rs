//! The census of tasks at rest: which functions each kernel thread of a
//! kernel sits in while the system is idle, read from `/proc/PID/stack`.
//!
//! Livepatch switches a kernel thread only when no replaced function is on
//! its stack, and a kernel thread never returns to user space, so a function
//! a kernel thread always rests in (its wait loop, `kthread()`) stalls the
//! transition for good. The census learns those functions from the kernel
//! itself: a boot of the target under QEMU (`crate::vm::census`) or the
//! `/proc` of a running system, sampled a few times.
//!
//! A census is kept beside the index in `<kgpc cache>/index/`, named by the
//! kernel's build id. `/proc/PID/stack` leaves out scheduler and lock
//! functions (`.sched.text`), and idle tasks are not in `/proc`: those are
//! covered by the index's section flags instead.

use super::error::CensusError;
use super::module_name::kernel_module_name;
use object::elf::{FileHeader64, ELF_NOTE_GNU, NT_GNU_BUILD_ID};
use object::read::elf::NoteIterator;
use object::Endianness;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `PF_KTHREAD` in `/proc/PID/stat`'s flags field.
const PF_KTHREAD: u64 = 0x0020_0000;

/// One frame of a kernel stack: a function and the module it is in (`None` for vmlinux).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Frame {
    pub function: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
}

/// One task as one sample saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub pid: u32,
    pub comm: String,
    /// The state letter of `/proc/PID/stat`: `S`, `D`, `I`, `R`, ...
    pub state: char,
    pub kthread: bool,
    pub frames: Vec<Frame>,
}

/// A task and the frames it was in every time it was seen asleep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub pid: u32,
    pub comm: String,
    pub kthread: bool,
    pub frames: Vec<Frame>,
}

/// The at-rest stacks of one kernel build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Census {
    pub release: String,
    pub build_id: Option<String>,
    /// Where the stacks were read, in words: a boot under QEMU, or a running system.
    pub source: String,
    pub samples: u32,
    /// The modules that were loaded (`/proc/modules`); a census boot loads none.
    #[serde(default)]
    pub modules: Vec<String>,
    pub tasks: Vec<Task>,
}

impl Census {
    /// Kernel threads at rest inside `function` of `object` (`vmlinux` or a module's name).
    pub fn resting_in(&self, object: &str, function: &str) -> Vec<&Task> {
        let module = (object != "vmlinux").then(|| kernel_module_name(object));
        self.tasks
            .iter()
            .filter(|t| t.kthread)
            .filter(|t| {
                t.frames.iter().any(|f| {
                    f.function == function
                        && f.module.as_ref().map(|m| kernel_module_name(m)) == module
                })
            })
            .collect()
    }

    /// How many kernel threads the census saw at rest.
    pub fn kernel_threads(&self) -> usize {
        self.tasks.iter().filter(|t| t.kthread).count()
    }

    /// Whether the census saw any frame of module `object`: a boot loads none.
    pub fn covers_module(&self, object: &str) -> bool {
        let want = kernel_module_name(object);
        self.tasks.iter().any(|t| {
            t.frames.iter().any(|f| {
                f.module
                    .as_ref()
                    .is_some_and(|m| kernel_module_name(m) == want)
            })
        })
    }
}

/// Parses one line of `/proc/PID/stack`: `[<0>] ksm_scan_thread+0x1d1/0x2f0` or
/// `[<0>] xfsaild+0x9f/0x8b0 [xfs]`.
pub fn parse_frame(line: &str) -> Option<Frame> {
    let rest = line.trim();
    let rest = match rest.find("] ") {
        Some(i) if rest.starts_with('[') => &rest[i + 2..],
        _ => rest,
    };
    let (symbol, module) = match rest.split_once(' ') {
        Some((s, m)) => (s, m.trim().strip_prefix('[')?.strip_suffix(']')),
        None => (rest, None),
    };
    let function = symbol.split('+').next().unwrap_or(symbol);
    if function.is_empty() || function.starts_with("0x") {
        return None;
    }
    Some(Frame {
        function: function.to_string(),
        module: module.map(str::to_string),
    })
}

/// Parses `/proc/PID/stat`: the pid, the command name, the state and whether it is a kernel thread.
pub fn parse_stat(text: &str) -> Option<(u32, String, char, bool)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = text[close + 1..].split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let flags: u64 = fields.get(6)?.parse().ok()?;
    Some((pid, comm, state, flags & PF_KTHREAD != 0))
}

/// A sleeping task is at rest; a runnable one may be anywhere.
fn asleep(state: char) -> bool {
    matches!(state, 'S' | 'D' | 'I')
}

/// Joins samples into tasks: a task seen asleep in at least two samples (or in
/// the only one), keeping the frames it was in every time it was asleep.
pub fn at_rest(samples: &[Vec<Seen>]) -> Vec<Task> {
    let needed = samples.len().clamp(1, 2);
    let mut by_task: BTreeMap<(u32, String), (bool, usize, Vec<Frame>)> = BTreeMap::new();
    for sample in samples {
        for seen in sample.iter().filter(|s| asleep(s.state)) {
            let key = (seen.pid, seen.comm.clone());
            match by_task.get_mut(&key) {
                Some((_, count, frames)) => {
                    *count += 1;
                    frames.retain(|f| seen.frames.contains(f));
                }
                None => {
                    by_task.insert(key, (seen.kthread, 1, seen.frames.clone()));
                }
            }
        }
    }
    by_task
        .into_iter()
        .filter(|(_, (_, count, _))| *count >= needed)
        .map(|((pid, comm), (kthread, _, frames))| Task {
            pid,
            comm,
            kthread,
            frames,
        })
        .collect()
}

/// The GNU build id in ELF notes such as `/sys/kernel/notes`, in hex: the
/// notes read by object, as an ELF file's are ([`super::elf::build_id`]).
pub fn build_id_of_notes(notes: &[u8]) -> Option<String> {
    let endian = Endianness::Little;
    let mut iter = NoteIterator::<FileHeader64<Endianness>>::new(endian, 4, notes).ok()?;
    while let Some(note) = iter.next().ok()? {
        if note.name() == ELF_NOTE_GNU && note.n_type(endian) == NT_GNU_BUILD_ID {
            return Some(crate::digest::hex(note.desc()));
        }
    }
    None
}

/// Reads one sample of every task's stack from a `/proc`.
pub fn sample_proc(proc: &Path) -> Result<Vec<Seen>, CensusError> {
    let entries =
        std::fs::read_dir(proc).map_err(|e| CensusError::Unlisted(proc.to_path_buf(), e))?;
    let mut sample = Vec::new();
    let mut denied = false;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let dir = entry.path();
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        let Some((pid, comm, state, kthread)) = parse_stat(&stat) else {
            continue;
        };
        let stack = match std::fs::read_to_string(dir.join("stack")) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                denied = true;
                continue;
            }
            Err(_) => continue,
        };
        sample.push(Seen {
            pid,
            comm,
            state,
            kthread,
            frames: stack.lines().filter_map(parse_frame).collect(),
        });
    }
    if sample.is_empty() && denied {
        return Err(CensusError::NeedsRoot(proc.to_path_buf()));
    }
    Ok(sample)
}

/// The names of the loaded modules, from the text of `/proc/modules`.
pub fn parse_modules(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The census of the running system: three samples of `/proc`, 100 ms apart.
pub fn read_live(proc: &Path, release: &str) -> Result<Census, CensusError> {
    let mut samples = Vec::new();
    for n in 0..3 {
        if n > 0 {
            std::thread::sleep(Duration::from_millis(100));
        }
        samples.push(sample_proc(proc)?);
    }
    let build_id = std::fs::read(Path::new("/sys/kernel/notes"))
        .ok()
        .and_then(|n| build_id_of_notes(&n));
    let modules = std::fs::read_to_string(proc.join("modules"))
        .map(|m| parse_modules(&m))
        .unwrap_or_default();
    Ok(Census {
        release: release.to_string(),
        build_id,
        modules,
        source: format!("{}/*/stack of the running kernel", proc.display()),
        samples: samples.len() as u32,
        tasks: at_rest(&samples),
    })
}

/// The census file of a build: `<cache>/index/<build id>.census.json`.
pub fn path_for(cache_dir: &Path, build_id: &str) -> PathBuf {
    cache_dir
        .join("index")
        .join(format!("{build_id}.census.json"))
}

/// A stored census, if there is a readable one.
pub fn load(path: &Path) -> Option<Census> {
    let bytes = crate::read::read_regular(path, crate::read::DATA_LIMIT).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Stores a census atomically.
pub fn store(path: &Path, census: &Census) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(census).map_err(std::io::Error::other)?;
    super::index_cache::store(path, &text)
}

/// A census, or why there is none.
#[derive(Debug, Clone)]
pub enum Outcome {
    Found(Census),
    Unavailable { why: String, help: String },
}

/// What a check asks the census for: the tasks at rest of the target it is
/// checked against.
#[derive(Debug, Clone)]
pub struct CensusQuery {
    pub release: String,
    /// The build id of the vmlinux the spec is checked against.
    pub build_id: Option<String>,
    pub cache_dir: PathBuf,
    /// The release of the running kernel, if known.
    pub running: Option<String>,
}

/// Where the checks get a census: the VM layer's `crate::vm::census::answer`
/// (the live system, the kept census or a boot), or a test's stand-in. The
/// checks are given it, so that they never boot a kernel themselves.
pub type CensusSource = fn(&CensusQuery) -> Outcome;

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(f: &str) -> Frame {
        Frame {
            function: f.into(),
            module: None,
        }
    }

    #[test]
    fn frames_and_stats() {
        assert_eq!(
            parse_frame("[<0>] ksm_scan_thread+0x1d1/0x2f0"),
            Some(frame("ksm_scan_thread"))
        );
        assert_eq!(
            parse_frame("[<0>] xfsaild+0x9f/0x8b0 [xfs]"),
            Some(Frame {
                function: "xfsaild".into(),
                module: Some("xfs".into())
            })
        );
        assert_eq!(parse_frame("[<0>] 0xffffffffc0001000"), None);
        assert_eq!(
            parse_stat("31 (ksmd) S 2 0 0 0 -1 2129984 0 0"),
            Some((31, "ksmd".into(), 'S', true))
        );
        assert_eq!(
            parse_stat("7 (a (b) c) R 1 7 7 0 -1 4194304 0"),
            Some((7, "a (b) c".into(), 'R', false))
        );
    }

    #[test]
    fn at_rest_keeps_what_every_sleeping_sample_shows() {
        let seen = |state, frames: &[&str]| Seen {
            pid: 9,
            comm: "k".into(),
            state,
            kthread: true,
            frames: frames.iter().map(|f| frame(f)).collect(),
        };
        let samples = vec![
            vec![seen('S', &["work_a", "loop", "kthread"])],
            vec![seen('R', &["busy", "loop", "kthread"])],
            vec![seen('I', &["loop", "kthread"])],
        ];
        let tasks = at_rest(&samples);
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].frames, vec![frame("loop"), frame("kthread")]);
        // Asleep in only one of two or three samples: not at rest.
        assert!(at_rest(&samples[..2]).is_empty());
        let once = [samples[0].clone(), samples[1].clone(), samples[1].clone()];
        assert!(at_rest(&once).is_empty());
        // The only sample counts.
        assert_eq!(at_rest(&samples[..1]).len(), 1);
    }

    #[test]
    fn build_id_from_notes() {
        let mut notes = Vec::new();
        for (name, kind, desc) in [
            (&b"Xen\0"[..], 1u32, &[1u8, 2][..]),
            (b"GNU\0", 3, &[0xab, 0xcd, 0xef]),
        ] {
            notes.extend_from_slice(&(name.len() as u32).to_le_bytes());
            notes.extend_from_slice(&(desc.len() as u32).to_le_bytes());
            notes.extend_from_slice(&kind.to_le_bytes());
            notes.extend_from_slice(name);
            notes.extend_from_slice(desc);
            while notes.len() % 4 != 0 {
                notes.push(0);
            }
        }
        assert_eq!(build_id_of_notes(&notes).as_deref(), Some("abcdef"));
        assert_eq!(build_id_of_notes(&notes[..10]), None);
    }
}
