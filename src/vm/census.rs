//! The census boot: the target kernel is booted once under QEMU with an
//! initramfs whose `/init` waits for the boot to settle and then reads every
//! task's `/proc/PID/stat` and `/proc/PID/stack` a few times, one second
//! apart, reporting them on the second serial port in the lines of
//! [`super::census_protocol`]. The host joins the samples into a [`Census`]
//! (see [`crate::kernel::census`]) and keeps it by build id.
//!
//! [`obtain`] is what `kgpc check` asks: the running system's `/proc` when it
//! runs the target, else the kept census, else a boot of the cached image.

pub use super::census_error::CensusBootError;
use super::census_protocol::words::*;
use super::census_protocol::CensusReport;
use super::protocol::Malformed;
use super::{initramfs, run_watched, Machine};
use crate::kernel::census::{self, Census, CensusQuery, Seen};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Samples taken, and the seconds between them.
const SAMPLES: u32 = 3;
/// Seconds the guest waits after `/init` starts, for the kernel's own threads to settle.
const SETTLE_SECS: u32 = 2;

/// The start of `/init`: busybox's commands, the file systems, and the
/// report's serial port as file descriptor 3.
const SETUP: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
exec 3>/dev/ttyS1
"#;

/// The guest's `/init`, which writes its report in the words of
/// [`super::census_protocol`]: builtins only while sampling, so the census
/// perturbs nothing.
pub fn init_script() -> String {
    format!(
        r#"{SETUP}echo "{PREFIX} {BOOT} $(uname -r)" >&3
echo "{PREFIX} {NOTES} $(od -An -v -tx1 /sys/kernel/notes | tr -d ' \n')" >&3
sleep {SETTLE_SECS}
while read -r m rest; do echo "{PREFIX} {MODULE} $m" >&3; done < /proc/modules
n=1
while [ $n -le {SAMPLES} ]; do
  for d in /proc/[0-9]*; do
    p=${{d#/proc/}}
    [ "$p" = 1 ] && continue
    read -r stat < $d/stat 2>/dev/null || continue
    echo "{PREFIX} {TASK} $n $stat" >&3
    while read -r line; do echo "{PREFIX} {STACK} $n $p $line" >&3; done < $d/stack 2>/dev/null
  done
  n=$((n + 1))
  [ $n -le {SAMPLES} ] && sleep 1
done
echo "{PREFIX} {END}" >&3
sync
poweroff -f
"#
    )
}

/// What the guest reported: its release, build id and samples.
#[derive(Debug, Default)]
pub struct Report {
    pub release: Option<String>,
    pub build_id: Option<String>,
    pub samples: Vec<Vec<Seen>>,
    pub modules: Vec<String>,
    pub complete: bool,
    /// Lines that looked like the report's but could not be read, such as
    /// the last one of a boot killed while writing it; the census goes by
    /// the lines it could read.
    pub malformed: Vec<Malformed>,
}

/// Gathers the `KGPC` lines of a census boot; other lines are skipped.
pub fn parse_report(text: &str) -> Report {
    let mut report = Report::default();
    let mut samples: BTreeMap<u32, Vec<Seen>> = BTreeMap::new();
    for line in text.lines() {
        let line = match CensusReport::from_line(line) {
            None => continue,
            Some(Ok(line)) => line,
            Some(Err(malformed)) => {
                report.malformed.push(malformed);
                continue;
            }
        };
        match line {
            CensusReport::Boot { release } => report.release = Some(release),
            CensusReport::Notes { notes } => report.build_id = census::build_id_of_notes(&notes),
            CensusReport::Module { name } => report.modules.push(name),
            CensusReport::Task { sample, task } => samples.entry(sample).or_default().push(task),
            CensusReport::Stack { sample, pid, frame } => {
                let task = samples
                    .get_mut(&sample)
                    .and_then(|s| s.iter_mut().rev().find(|t| t.pid == pid));
                if let (Some(task), Some(frame)) = (task, frame) {
                    task.frames.push(frame);
                }
            }
            CensusReport::End => report.complete = true,
        }
    }
    report.samples = samples.into_values().collect();
    report
}

/// Where a census boot is, from the report so far: booting, settling, or taking sample N.
fn stage(report: &str) -> String {
    let lines: Vec<CensusReport> = report
        .lines()
        .filter_map(|line| CensusReport::from_line(line)?.ok())
        .collect();
    let taken = lines
        .iter()
        .filter_map(|line| match line {
            CensusReport::Task { sample, .. } => Some(*sample),
            _ => None,
        })
        .max();
    if let Some(taken) = taken {
        format!("reading every task's stack, sample {taken} of {SAMPLES}")
    } else if lines
        .iter()
        .any(|line| matches!(line, CensusReport::Boot { .. }))
    {
        "booted; letting the kernel's threads settle".into()
    } else {
        "booting".into()
    }
}

/// Boots `machine.kernel` and records its census; on a terminal, shows where the boot is.
pub fn record(machine: &Machine) -> Result<Census, CensusBootError> {
    let initrd = machine.work.join("census.cpio");
    initramfs(&initrd, &machine.busybox, &init_script(), &[], &[])
        .map_err(CensusBootError::Machine)?;
    let terminal = std::io::stderr().is_terminal();
    let watch = |elapsed: Duration, report: &Path| {
        if terminal {
            let text = std::fs::read_to_string(report).unwrap_or_default();
            crate::err!(
                "\r\x1b[2Kkgpc: census: {}, {:.0} s",
                stage(&text),
                elapsed.as_secs_f64()
            );
        }
    };
    let boot = run_watched(machine, &initrd, &watch);
    if terminal {
        crate::err!("\r\x1b[2K");
    }
    let boot = boot.map_err(CensusBootError::Machine)?;
    let report = parse_report(&boot.report_text);
    if boot.timed_out || !report.complete || report.samples.is_empty() {
        let mut console_tail: Vec<String> = boot
            .console
            .lines()
            .rev()
            .take(8)
            .map(str::to_string)
            .collect();
        console_tail.reverse();
        return Err(CensusBootError::Incomplete {
            timed_out_after: boot.timed_out.then_some(machine.timeout.as_secs()),
            console_tail,
        });
    }
    Ok(Census {
        release: report.release.unwrap_or_default(),
        build_id: report.build_id,
        source: format!(
            "a boot of {} under QEMU (TCG), {SAMPLES} samples of /proc/*/stack one second apart",
            machine.kernel.display()
        ),
        samples: report.samples.len() as u32,
        modules: report.modules,
        tasks: census::at_rest(&report.samples),
    })
}

/// What a census request knows.
#[derive(Debug, Clone)]
pub struct Request {
    pub release: String,
    /// The build id of the vmlinux the spec is checked against.
    pub build_id: Option<String>,
    pub cache_dir: PathBuf,
    /// The release of the running kernel, if known.
    pub running: Option<String>,
    pub qemu: PathBuf,
    pub busybox: PathBuf,
}

impl Request {
    /// A request that boots, when it must, with the default QEMU and busybox.
    pub fn new(
        release: String,
        build_id: Option<String>,
        cache_dir: PathBuf,
        running: Option<String>,
    ) -> Request {
        Request {
            release,
            build_id,
            cache_dir,
            running,
            qemu: super::DEFAULT_QEMU.into(),
            busybox: super::DEFAULT_BUSYBOX.into(),
        }
    }
}

pub use crate::kernel::census::Outcome;

/// The census a check asks for, with the default QEMU and busybox: the
/// [`crate::kernel::census::CensusSource`] the pipeline gives the checks.
pub fn answer(query: &CensusQuery) -> Outcome {
    obtain(&Request::new(
        query.release.clone(),
        query.build_id.clone(),
        query.cache_dir.clone(),
        query.running.clone(),
    ))
}

/// The census for a check: the running system's, the kept one, or a new boot.
pub fn obtain(request: &Request) -> Outcome {
    let release = &request.release;
    // The running system's own stacks come first; without root, the kept census or a boot.
    let mut live = None;
    if request.running.as_deref() == Some(release.as_str()) {
        match census::read_live(Path::new("/proc"), release) {
            Ok(c) => return Outcome::Found(c),
            Err(why) => live = Some(format!("{release} is the running kernel, but {why}")),
        }
    }
    let unavailable = |why: String, help: String| Outcome::Unavailable {
        why: match &live {
            Some(live) => format!("{live}; and {why}"),
            None => why,
        },
        help,
    };
    let Some(build_id) = request.build_id.as_deref() else {
        return unavailable(
            "the vmlinux has no build id to name its census by".into(),
            "check against a vmlinux with a build id (Debian's debug vmlinux has one)".into(),
        );
    };
    let path = census::path_for(&request.cache_dir, build_id);
    if let Some(c) = census::load(&path) {
        return Outcome::Found(c);
    }
    // A tree another kgpc is still unpacking is waited for, never booted half-made.
    let image = crate::fetch::ready(&request.cache_dir, release)
        .ok()
        .flatten()
        .unwrap_or_else(|| crate::fetch::KernelPaths::in_cache(&request.cache_dir, release))
        .vmlinuz();
    if !image.is_file() {
        let no_image = "the kgpc cache has no image of it to boot".to_string();
        return unavailable(
            if live.is_some() {
                no_image
            } else {
                format!("there is no census of {release}: it is not the running kernel, and {no_image}")
            },
            format!(
                "fetch the kernel with `kgpc kernel fetch {release}`; kgpc check then boots it once under QEMU to record the census"
            ),
        );
    }
    // Runs take turns: another one may be recording this census right now.
    let _lock = crate::fetch::Lock::take(&request.cache_dir.join("census.lock"));
    if let Some(c) = census::load(&path) {
        return Outcome::Found(c);
    }
    match boot(request, &image) {
        Ok(c) if c.build_id.as_deref() == Some(build_id) => Outcome::Found(c),
        Ok(c) => unavailable(
            format!(
                "the cached image of {release} is build {}, not the vmlinux's {build_id}",
                c.build_id.as_deref().unwrap_or("without a build id")
            ),
            format!("fetch the vmlinux and image of one build: `kgpc kernel fetch {release}`"),
        ),
        Err(why) => unavailable(
            why.to_string(),
            format!(
                "install QEMU and busybox-static, then record the census with `kgpc kernel census {release}`"
            ),
        ),
    }
}

/// Boots the image, keeps the census by the build id the guest reports, and says so.
pub fn boot(request: &Request, image: &Path) -> Result<Census, CensusBootError> {
    let release = &request.release;
    crate::errln!(
        "kgpc: recording the census of {release}: booting it under QEMU to read every task's stack at rest (takes some seconds)"
    );
    let start = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("kgpc-census.")
        .tempdir()
        .map_err(CensusBootError::WorkDir)?;
    let machine = Machine {
        qemu: request.qemu.clone(),
        kernel: image.to_path_buf(),
        busybox: request.busybox.clone(),
        timeout: Duration::from_secs(60),
        // The kernel turns transparent huge pages, and so khugepaged, off below 512 MiB.
        memory_mb: 1024,
        cpus: 1,
        multi_threaded: false,
        work: work.path().to_path_buf(),
    };
    let mut recorded = record(&machine)?;
    if recorded.release != *release {
        return Err(CensusBootError::WrongRelease {
            image: image.to_path_buf(),
            booted: recorded.release,
            wanted: release.clone(),
        });
    }
    recorded.release = release.clone();
    let kept = match recorded.build_id.as_deref() {
        Some(id) => {
            let path = census::path_for(&request.cache_dir, id);
            match census::store(&path, &recorded) {
                Ok(()) => format!("kept in {}", path.display()),
                Err(e) => format!("not kept ({}: {e})", path.display()),
            }
        }
        None => "not kept: the guest reported no build id".to_string(),
    };
    crate::errln!(
        "kgpc: census of {release}: {} kernel threads at rest in {} samples, {:.1} s; {kept}",
        recorded.kernel_threads(),
        recorded.samples,
        start.elapsed().as_secs_f64()
    );
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_read_back() {
        let text = "KGPC BOOT 6.1.0-57-cloud-amd64\n\
            KGPC NOTES 040000000300000003000000474e5500abcdef00\n\
            KGPC TASK 1 31 (ksmd) S 2 0 0 0 -1 2129984 0\n\
            KGPC STACK 1 31 [<0>] ksm_scan_thread+0x1d1/0x2f0\n\
            KGPC STACK 1 31 [<0>] kthread+0xd7/0x100\n\
            KGPC TASK 2 31 (ksmd) S 2 0 0 0 -1 2129984 0\n\
            KGPC STACK 2 31 [<0>] ksm_scan_thread+0x1d1/0x2f0\n\
            KGPC END\n";
        let report = parse_report(text);
        assert!(report.complete);
        assert_eq!(report.release.as_deref(), Some("6.1.0-57-cloud-amd64"));
        assert_eq!(report.build_id.as_deref(), Some("abcdef"));
        assert_eq!(report.samples.len(), 2);
        assert_eq!(stage(text), "reading every task's stack, sample 2 of 3");
        assert_eq!(
            stage("KGPC BOOT 6.1.0\n"),
            "booted; letting the kernel's threads settle"
        );
        assert_eq!(stage(""), "booting");
        let tasks = census::at_rest(&report.samples);
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].frames.len(), 1);
        assert_eq!(tasks[0].frames[0].function, "ksm_scan_thread");
    }

    /// Runs the script without its setup in `dir`, whose files stand in for
    /// the guest's `/proc` and `/sys/kernel/notes`, with shell functions in
    /// place of the commands that need the guest; returns what it wrote on
    /// the report's serial port.
    fn run_in(dir: &Path) -> String {
        let scratch = dir.display();
        let script = init_script();
        let body = script
            .strip_prefix(SETUP)
            .expect("the script starts with its setup")
            .replace("/proc/", &format!("{scratch}/proc/"))
            .replace("/sys/kernel/notes", &format!("{scratch}/notes"));
        let stubs = "uname() { echo 6.1.0-57-cloud-amd64; }\nsleep() { :; }\nsync() { :; }\n\
                     poweroff() { exit 0; }\n";
        crate::vm::run_script_for_test(dir, stubs, &body)
    }

    /// Writes a task's `/proc/PID` files into `proc`.
    fn task(proc: &Path, pid: u32, stat: &str, stack: &str) {
        let dir = proc.join(pid.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("stat"), format!("{stat}\n")).unwrap();
        std::fs::write(dir.join("stack"), stack).unwrap();
    }

    /// Every line the script writes, in the words of the census protocol,
    /// reads back, and the census comes out of them.
    #[test]
    fn the_scripts_lines_read_back_into_the_census() {
        let dir = tempfile::tempdir().unwrap();
        let proc = dir.path().join("proc");
        task(&proc, 1, "1 (init) S 0 1 1 0 -1 4194560 0", "");
        task(
            &proc,
            31,
            "31 (ksmd) S 2 0 0 0 -1 2129984 0",
            "[<0>] ksm_scan_thread+0x1d1/0x2f0\n[<0>] kthread+0xd7/0x100\n",
        );
        task(&proc, 77, "77 (my shell) R 1 77 77 0 -1 4194560 0", "");
        std::fs::create_dir_all(proc.join("78")).unwrap();
        std::fs::write(proc.join("modules"), "virtio_net 61440 0 - Live 0x0\n").unwrap();
        let notes = b"\x04\0\0\0\x03\0\0\0\x03\0\0\0GNU\0\xab\xcd\xef\0";
        std::fs::write(dir.path().join("notes"), notes).unwrap();
        let text = run_in(dir.path());
        for line in text.lines() {
            assert!(
                matches!(CensusReport::from_line(line), Some(Ok(_))),
                "{line}\nin:\n{text}"
            );
        }
        let report = parse_report(&text);
        assert!(report.complete && report.malformed.is_empty());
        assert_eq!(report.release.as_deref(), Some("6.1.0-57-cloud-amd64"));
        assert_eq!(report.build_id.as_deref(), Some("abcdef"));
        assert_eq!(report.modules, ["virtio_net"]);
        assert_eq!(report.samples.len(), SAMPLES as usize);
        for sample in &report.samples {
            let seen: Vec<(u32, &str, usize)> = sample
                .iter()
                .map(|s| (s.pid, s.comm.as_str(), s.frames.len()))
                .collect();
            assert_eq!(seen, [(31, "ksmd", 2), (77, "my shell", 0)]);
        }
        let tasks = census::at_rest(&report.samples);
        assert_eq!(tasks.len(), 1);
        let functions: Vec<&str> = tasks[0]
            .frames
            .iter()
            .map(|f| f.function.as_str())
            .collect();
        assert_eq!(functions, ["ksm_scan_thread", "kthread"]);
    }

    /// A boot killed mid-line leaves a report without its end whose last
    /// line is reported as malformed; what came before it still counts.
    #[test]
    fn a_report_cut_off_mid_line_is_incomplete_and_says_so() {
        let text = "KGPC BOOT 6.1.0-57-cloud-amd64\n\
            KGPC TASK 1 31 (ksmd) S 2 0 0 0 -1 2129984 0\n\
            KGPC STACK 1 31 [<0>] ksm_scan_thread+0x1d1/0x2f0\n\
            KGPC TASK 2 31 (ksmd) S 2 0";
        let report = parse_report(text);
        assert!(!report.complete);
        assert_eq!(report.samples.len(), 1);
        assert_eq!(report.samples[0][0].frames.len(), 1);
        assert_eq!(report.malformed.len(), 1);
        assert_eq!(report.malformed[0].line, "KGPC TASK 2 31 (ksmd) S 2 0");
        assert_eq!(stage(text), "reading every task's stack, sample 1 of 3");
    }
}
