//! Proving a patch in its kernel: an initramfs made on the fly, a QEMU boot
//! under software emulation (TCG), and the judgement of what the guest saw.
//!
//! [`Plan`] says what to load and check; [`script`] writes the guest's `/init`;
//! [`cpio`] packs it with busybox and the modules; [`run`] boots QEMU, always
//! killing it on timeout; [`protocol`] holds the words of the guest's report
//! and reads its lines, [`report`] gathers them and [`results`] judges them.

pub mod census;
pub mod census_error;
pub mod census_protocol;
pub mod cpio;
pub mod load_protocol;
pub mod load_report;
pub mod load_results;
pub mod load_script;
pub mod modules;
pub mod protocol;
pub mod report;
pub mod results;
pub mod script;

use crate::check::model::{DmesgExpectation, TestCheck};
use crate::read::ReadError;
use std::fs;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The QEMU `kgpc test` and the census boot run unless told otherwise.
pub const DEFAULT_QEMU: &str = "qemu-system-x86_64";
/// The statically linked busybox the initramfs is made of unless told otherwise.
pub const DEFAULT_BUSYBOX: &str = "/bin/busybox";
/// The most CPUs QEMU's default machine (`pc`, i440FX) gives a guest.
pub const MAX_CPUS: u32 = 255;

/// A module file in the initramfs (`/m/<file>`) and its name in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestModule {
    pub file: String,
    pub kernel_name: String,
}

/// A module unloaded and loaded again while the patch is applied, and the
/// kernel log it must cause: in order, lines each holding every text given.
#[derive(Debug, Clone)]
pub struct GuestReload {
    pub module: GuestModule,
    pub expected: Vec<ExpectedLine>,
}

/// A line of the kernel log a reload must cause: what it is, and the texts it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedLine {
    pub what: String,
    pub texts: Vec<String>,
}

/// What one test run does in the guest.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Target modules, loaded first in this order (dependencies before their users).
    pub modules_first: Vec<GuestModule>,
    /// Target modules loaded once the patch is enabled, in this order: the kernel
    /// patches each as it arrives.
    pub modules_after: Vec<GuestModule>,
    /// Livepatch modules loaded before the patch and left enabled.
    pub patches_first: Vec<GuestModule>,
    pub patch: GuestModule,
    /// The script run once before the patch, after the modules first.
    pub setup: Option<String>,
    /// Modules unloaded and loaded again, in order, once the loaded phase's checks ran.
    pub reloads: Vec<GuestReload>,
    pub checks: Vec<TestCheck>,
    pub dmesg: Vec<DmesgExpectation>,
    /// The patch must be refused, and the kernel log must say this.
    pub refused: Option<String>,
    pub transition_timeout_secs: u64,
    /// How many times the patch is loaded, enabled, disabled and unloaded (`--cycles`).
    pub cycles: u32,
    /// The command run on every CPU while the patch is enabled and disabled.
    pub workload: Option<String>,
    /// The CPUs the guest is given (`--smp`), which it must have online.
    pub cpus: u32,
}

/// The memory of a test's guest, in MiB.
pub const GUEST_MEMORY_MB: u32 = 512;

/// Where the VM's pieces come from.
#[derive(Debug, Clone)]
pub struct Machine {
    pub qemu: PathBuf,
    pub kernel: PathBuf,
    pub busybox: PathBuf,
    pub timeout: Duration,
    /// The guest's memory in MiB.
    pub memory_mb: u32,
    /// The guest's CPUs.
    pub cpus: u32,
    /// Whether each CPU runs on a host thread of its own (QEMU's
    /// multi-threaded TCG) instead of all in turn on one.
    pub multi_threaded: bool,
    /// Where the initramfs and the logs go.
    pub work: PathBuf,
}

/// What a run left.
#[derive(Debug)]
pub struct Run {
    /// The kernel's console (first serial port).
    pub console: String,
    /// The guest's `KGPC` lines (second serial port).
    pub report_text: String,
    pub elapsed: Duration,
    pub timed_out: bool,
    pub console_path: PathBuf,
}

/// Why the VM could not be run at all.
#[derive(Debug)]
pub enum VmError {
    MissingQemu(PathBuf),
    MissingBusybox(PathBuf),
    MissingKernel(PathBuf),
    Io(String),
}

impl std::fmt::Display for VmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VmError::MissingQemu(p) => write!(f, "QEMU (`{}`) is not installed", p.display()),
            VmError::MissingBusybox(p) => write!(
                f,
                "no statically linked busybox at `{}` for the test initramfs",
                p.display()
            ),
            VmError::MissingKernel(p) => write!(f, "no kernel image at `{}`", p.display()),
            VmError::Io(message) => f.write_str(message),
        }
    }
}

/// Packs busybox, the `/init` script, the modules (in `/m`) and the test's
/// files (in `/test`, executable if they are on the host) into an
/// uncompressed initramfs.
pub fn initramfs(
    path: &Path,
    busybox: &Path,
    init: &str,
    modules: &[(String, PathBuf)],
    test_files: &[(String, PathBuf)],
) -> Result<(), VmError> {
    let io = |what: &str, e: io::Error| VmError::Io(format!("{what}: {e}"));
    let busybox_data = crate::read::read_regular(busybox, u64::MAX).map_err(|e| match e {
        ReadError::Io(e) if e.kind() == io::ErrorKind::NotFound => {
            VmError::MissingBusybox(busybox.to_path_buf())
        }
        e => VmError::Io(format!("{}: {e}", busybox.display())),
    })?;
    if !is_static_elf(&busybox_data) {
        return Err(VmError::MissingBusybox(busybox.to_path_buf()));
    }
    let file = fs::File::create(path).map_err(|e| io(&path.display().to_string(), e))?;
    let mut cpio = cpio::CpioWriter::new(BufWriter::new(file));
    let result = (|| -> io::Result<()> {
        for dir in ["bin", "sbin", "dev", "proc", "sys", "tmp", "m", "test"] {
            cpio.dir(dir)?;
        }
        cpio.char_device("dev/console", 0o600, 5, 1)?;
        cpio.char_device("dev/null", 0o666, 1, 3)?;
        cpio.char_device("dev/ttyS1", 0o600, 4, 65)?;
        cpio.file("bin/busybox", 0o755, &busybox_data)?;
        cpio.file("init", 0o755, init.as_bytes())?;
        for (name, source) in modules {
            let data = crate::read::read_regular(source, u64::MAX)
                .map_err(|e| io::Error::other(format!("{}: {e}", source.display())))?;
            cpio.file(&format!("m/{name}"), 0o644, &data)?;
        }
        for (name, source) in test_files {
            let data = crate::read::read_regular(source, u64::MAX)
                .map_err(|e| io::Error::other(format!("{}: {e}", source.display())))?;
            cpio.file(&format!("test/{name}"), guest_mode(source)?, &data)?;
        }
        cpio.finish()?;
        Ok(())
    })();
    result.map_err(|e| io(&format!("writing {}", path.display()), e))
}

/// A test file's mode in the guest: executable if it is on the host.
fn guest_mode(source: &Path) -> io::Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(source)?.permissions().mode();
    Ok(if mode & 0o111 != 0 { 0o755 } else { 0o644 })
}

/// A statically linked ELF executable has no program interpreter.
fn is_static_elf(data: &[u8]) -> bool {
    use object::read::elf::{ElfFile64, ProgramHeader};
    use object::Endianness;
    let Ok(file) = ElfFile64::<Endianness>::parse(data) else {
        return false;
    };
    let endian = file.endian();
    !file
        .elf_program_headers()
        .iter()
        .any(|ph| ph.p_type(endian) == object::elf::PT_INTERP)
}

/// Boots the machine with the initramfs; kills QEMU when the timeout passes.
pub fn run(machine: &Machine, initrd: &Path) -> Result<Run, VmError> {
    run_watched(machine, initrd, &|_, _| {})
}

/// [`run`], calling `watch` with the time so far and the guest's report file a few
/// times a second while QEMU runs.
pub fn run_watched(
    machine: &Machine,
    initrd: &Path,
    watch: &dyn Fn(Duration, &Path),
) -> Result<Run, VmError> {
    if !machine.kernel.is_file() {
        return Err(VmError::MissingKernel(machine.kernel.clone()));
    }
    let console_path = machine.work.join("console.log");
    let report_path = machine.work.join("report.log");
    for path in [&console_path, &report_path] {
        fs::write(path, "").map_err(|e| VmError::Io(format!("{}: {e}", path.display())))?;
    }
    let start = Instant::now();
    let mut next_watch = Duration::ZERO;
    let mut child = Command::new(&machine.qemu)
        .arg("-accel")
        .arg(if machine.multi_threaded {
            "tcg,thread=multi"
        } else {
            "tcg,thread=single"
        })
        .args(["-cpu", "max", "-smp"])
        .arg(machine.cpus.to_string())
        .arg("-m")
        .arg(format!("{}M", machine.memory_mb))
        .args([
            "-no-reboot",
            "-nodefaults",
            "-display",
            "none",
            "-net",
            "none",
        ])
        .arg("-serial")
        .arg(format!("file:{}", console_path.display()))
        .arg("-serial")
        .arg(format!("file:{}", report_path.display()))
        .arg("-kernel")
        .arg(&machine.kernel)
        .arg("-initrd")
        .arg(initrd)
        .arg("-append")
        // A kernel log of 16 MiB keeps every line of many cycles: once the
        // default ring is full, old lines fall out and a count of lines, the
        // guest's and a check's way to find the new ones, stops growing.
        .arg("console=ttyS0 panic=-1 log_buf_len=16M rdinit=/init")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => VmError::MissingQemu(machine.qemu.clone()),
            _ => VmError::Io(format!("cannot run {}: {e}", machine.qemu.display())),
        })?;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(VmError::Io(format!("waiting for QEMU: {e}")));
            }
        }
        if start.elapsed() > machine.timeout {
            timed_out = true;
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
        if start.elapsed() >= next_watch {
            watch(start.elapsed(), &report_path);
            next_watch = start.elapsed() + Duration::from_millis(250);
        }
    };
    let elapsed = start.elapsed();
    let stderr = child
        .stderr
        .take()
        .map(|mut e| {
            let mut text = String::new();
            let _ = io::Read::read_to_string(&mut e, &mut text);
            text
        })
        .unwrap_or_default();
    let read =
        |path: &Path| String::from_utf8_lossy(&fs::read(path).unwrap_or_default()).into_owned();
    let console = read(&console_path);
    let report_text = read(&report_path);
    if let Some(status) = status {
        if !status.success() && report_text.is_empty() && console.is_empty() {
            return Err(VmError::Io(format!(
                "QEMU failed ({status}): {}",
                stderr.trim()
            )));
        }
    }
    Ok(Run {
        console,
        report_text,
        elapsed,
        timed_out,
        console_path,
    })
}

/// Runs a guest script with `sh` in `dir`, its kernel commands replaced by the
/// shell functions `stubs`, and returns what it wrote to its report (fd 3),
/// for the tests of the scripts' words.
#[cfg(test)]
pub(crate) fn run_script_for_test(dir: &Path, stubs: &str, body: &str) -> String {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("exec 3>report\n{stubs}{body}"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    std::fs::read_to_string(dir.join("report")).unwrap()
}
