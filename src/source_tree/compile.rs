//! Compiling one file of the release's source tree as the kernel's build
//! compiled it: kbuild's external-module mode on a copy of the file's
//! directories (`mirror.rs`), with the build tree's flags and `.config`, plus
//! `-ffunction-sections -fdata-sections` so that each function and each data
//! item has a section of its own to compare.

use super::compile_error::{located_messages, CompileError};
use super::header_overlay::{linuxinclude_line, write_headers, PatchedHeader};
use super::mirror::{self, Layout, UnitPath, MEMBERSHIP_MARK};
use std::fs;
use std::io::{Read, Seek};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The longest a compile may take; gcc takes seconds for the largest file of the kernel.
const COMPILE_TIMEOUT: Duration = Duration::from_secs(300);

/// The largest `.cmd` file read; the command and the dependency list of a large file are ~200 KiB.
const CMD_FILE_LIMIT: u64 = 16 << 20;

/// The largest build log kept.
const LOG_LIMIT: u64 = 16 << 20;

/// The flags added to the build tree's own. The prefix map makes `__FILE__`
/// the path inside the tree, as the kernel's build has it.
fn added_flags(tree: &Path) -> String {
    format!(
        "-ffunction-sections -fdata-sections -fmacro-prefix-map={}/=",
        tree.display()
    )
}

/// How the object is linked, as kbuild decided under the build tree's `.config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UnitKind {
    /// Built into vmlinux (no `-DMODULE`).
    BuiltIn,
    /// Part of a module (`-DMODULE`).
    Module,
}

/// One compiled source file.
#[derive(Debug, Clone)]
pub struct CompiledUnit {
    /// The object file, inside the work directory.
    pub object: PathBuf,
    /// The exact command kbuild ran, from its `.cmd` file.
    pub command: String,
    pub kind: UnitKind,
    /// `KBUILD_MODNAME`: the module's name, or the built-in object's (`proc` for `fs/proc/*.c`).
    pub modname: String,
    /// What make and the compiler printed (warnings among it).
    pub log: String,
    pub elapsed: Duration,
}

/// Compiles `text` as the file `rel_path` (such as `fs/proc/cmdline.c`) of
/// the source tree `source`, with the flags of the build tree `build`, in the
/// work directory `work` (created if missing; nothing is written outside it).
/// A second compile in the same `work` replaces the first's object.
pub fn compile_unit(
    build: &Path,
    source: &Path,
    rel_path: &str,
    text: &str,
    work: &Path,
) -> Result<CompiledUnit, CompileError> {
    compile_unit_with(build, source, rel_path, text, &[], work)
}

/// [`compile_unit`] with the fix's patched `headers` laid over the build
/// tree's and the source tree's (`header_overlay.rs`).
pub fn compile_unit_with(
    build: &Path,
    source: &Path,
    rel_path: &str,
    text: &str,
    headers: &[PatchedHeader],
    work: &Path,
) -> Result<CompiledUnit, CompileError> {
    let start = Instant::now();
    let unit = UnitPath::parse(rel_path).map_err(|reason| CompileError::BadPath {
        rel_path: rel_path.to_string(),
        reason,
    })?;
    if !build.join("Makefile").is_file() {
        return Err(CompileError::NoBuildTree(build.to_path_buf()));
    }
    let work = std::path::absolute(work).map_err(|e| CompileError::io(work, e))?;
    let tree = work.join("tree");
    let temp = work.join("tmp");
    for dir in [&tree, &temp] {
        fs::create_dir_all(dir).map_err(|e| CompileError::io(dir, e))?;
    }
    let include = linuxinclude_line(headers, &tree.display().to_string()).unwrap_or_default();
    let layout = mirror::lay_out(source, &tree, &unit, &include)?;
    write_headers(&tree, headers).map_err(|e| CompileError::io(&tree, e))?;
    let object = tree.join(unit.object());
    let cmd_file = tree.join(unit.dir()).join(format!(".{}.o.cmd", unit.stem));
    for stale in [&object, &cmd_file] {
        match fs::remove_file(stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(CompileError::io(stale, e))
            }
            _ => {}
        }
    }
    let source_file = tree.join(unit.source());
    fs::write(&source_file, text).map_err(|e| CompileError::io(&source_file, e))?;
    let (status, log) = run_make(build, &tree, &temp, &unit)?;
    let kind = membership(&log);
    if !status.success() || !object.is_file() {
        return Err(failure(&unit, &layout, &log, kind, build, source, &tree));
    }
    let kind = match kind {
        Some(Some(kind)) => kind,
        // Make compiled the file without reading its directory's Makefile.
        _ => return Err(not_reached(&unit, log)),
    };
    let command = read_command(&cmd_file)?;
    let modname = modname_of(&command).unwrap_or_else(|| unit.stem.clone());
    Ok(CompiledUnit {
        object,
        command,
        kind,
        modname,
        log,
        elapsed: start.elapsed(),
    })
}

/// Runs `make -C build M=tree DIR/FILE.o` in its own process group, killed
/// with its children when the timeout passes.
fn run_make(
    build: &Path,
    tree: &Path,
    temp: &Path,
    unit: &UnitPath,
) -> Result<(ExitStatus, String), CompileError> {
    // Both streams go to one file, which keeps the order of messages.
    let mut log_file = tempfile::tempfile_in(temp).map_err(|e| CompileError::io(temp, e))?;
    let stream = || log_file.try_clone().map_err(|e| CompileError::io(temp, e));
    let mut command = Command::new("make");
    command
        .arg("-C")
        .arg(build)
        .arg(format!("M={}", tree.display()))
        .arg(format!("KCFLAGS={}", added_flags(tree)))
        .arg(unit.object())
        .env("LC_ALL", "C")
        // gcc's temporary files stay in the work directory.
        .env("TMPDIR", temp);
    for name in ENV_REMOVED {
        command.env_remove(name);
    }
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes one system call, which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            // make dies with kgpc, which waits for it in this thread.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(stream()?)
        .stderr(stream()?)
        .process_group(0)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => CompileError::NoMake,
            _ => CompileError::io(Path::new("make"), e),
        })?;
    let status = wait_bounded(child, COMPILE_TIMEOUT)?;
    let mut bytes = Vec::new();
    log_file
        .seek(std::io::SeekFrom::Start(0))
        .and_then(|_| (&mut log_file).take(LOG_LIMIT).read_to_end(&mut bytes))
        .map_err(|e| CompileError::io(temp, e))?;
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// Variables of the environment that would change what kbuild builds or with what.
const ENV_REMOVED: &[&str] = &[
    "KCFLAGS",
    "KCPPFLAGS",
    "KAFLAGS",
    "KBUILD_OUTPUT",
    "KBUILD_EXTMOD",
    "KBUILD_EXTRA_SYMBOLS",
    "O",
    "V",
    "C",
    "W",
    "ARCH",
    "CROSS_COMPILE",
    "MAKEFLAGS",
    "MFLAGS",
    "MAKELEVEL",
    "MAKEFILES",
    "DEBIAN_KERNEL_USE_CCACHE",
];

/// Waits for make, killing its whole process group once `timeout` passes.
fn wait_bounded(mut child: Child, timeout: Duration) -> Result<ExitStatus, CompileError> {
    let start = Instant::now();
    let group = i32::try_from(child.id()).unwrap_or(0);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(e) => {
                kill_group(group);
                let _ = child.wait();
                return Err(CompileError::io(Path::new("make"), e));
            }
        }
        if start.elapsed() > timeout {
            kill_group(group);
            let _ = child.wait();
            return Err(CompileError::TimedOut {
                seconds: timeout.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends SIGKILL to the process group make leads (its compiler and tools).
fn kill_group(group: i32) {
    if group > 0 {
        // SAFETY: kill(2) with a negative pid signals the group this child leads.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
    }
}

/// What the added rule printed: `None` if it did not run (make never read
/// the unit's Makefile), `Some(None)` if kbuild does not build the object.
fn membership(log: &str) -> Option<Option<UnitKind>> {
    let word = log
        .lines()
        .find_map(|line| line.trim().strip_prefix(MEMBERSHIP_MARK))?;
    Some(match word.trim() {
        "built-in" => Some(UnitKind::BuiltIn),
        "module" => Some(UnitKind::Module),
        _ => None,
    })
}

/// The error for a build that failed or left no object.
fn failure(
    unit: &UnitPath,
    layout: &Layout,
    log: &str,
    kind: Option<Option<UnitKind>>,
    build: &Path,
    source: &Path,
    tree: &Path,
) -> CompileError {
    match kind {
        Some(None) => CompileError::NotBuilt {
            rel_path: unit.source(),
            makefile: layout.makefile.clone(),
        },
        // The object was compiled by a directory above its own, which does
        // not enter it: kbuild's pattern rule matches the deeper path too.
        None if compiled_elsewhere(log, tree, unit) => not_reached(unit, log.to_string()),
        None => CompileError::Make {
            log: log.to_string(),
        },
        _ => {
            let messages = located_messages(log, &[tree, source], build);
            if messages.iter().any(|m| m.error) {
                CompileError::Compiler {
                    rel_path: unit.source(),
                    messages,
                    log: log.to_string(),
                }
            } else {
                CompileError::Make {
                    log: log.to_string(),
                }
            }
        }
    }
}

/// Whether kbuild's log shows it compiling the object (`CC [M]  PATH`).
fn compiled_elsewhere(log: &str, tree: &Path, unit: &UnitPath) -> bool {
    let object = tree.join(unit.object()).display().to_string();
    log.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with("CC") && line.trim_end().ends_with(&object)
    })
}

fn not_reached(unit: &UnitPath, log: String) -> CompileError {
    CompileError::NotReached {
        rel_path: unit.source(),
        dir: unit.dir(),
        log,
    }
}

/// The command of a `.cmd` file's first line, `cmd_OBJECT := COMMAND`, with
/// make's escapes undone.
fn read_command(cmd_file: &Path) -> Result<String, CompileError> {
    let bytes = crate::read::read_regular(cmd_file, CMD_FILE_LIMIT).map_err(|e| {
        CompileError::NoCommand {
            path: cmd_file.to_path_buf(),
            error: e.to_string(),
        }
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let first = text.lines().next().unwrap_or("");
    let command = first
        .strip_prefix("cmd_")
        .and_then(|rest| rest.split_once(" := "))
        .map(|(_, command)| command)
        .ok_or_else(|| CompileError::NoCommand {
            path: cmd_file.to_path_buf(),
            error: "its first line is not `cmd_OBJECT := COMMAND`".to_string(),
        })?;
    Ok(unescape_make(command.trim()))
}

/// Undoes kbuild's escapes of a command in a `.cmd` file (`$$` and `$(pound)`).
fn unescape_make(command: &str) -> String {
    command.replace("$(pound)", "#").replace("$$", "$")
}

/// `KBUILD_MODNAME` of a compile command: `-DKBUILD_MODNAME='"proc"'`.
fn modname_of(command: &str) -> Option<String> {
    let rest = command.split("-DKBUILD_MODNAME=").nth(1)?;
    let value = rest.split_whitespace().next()?;
    Some(value.trim_matches(|c| c == '\'' || c == '"').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compile_past_its_time_is_killed_with_its_children() {
        let start = Instant::now();
        let child = Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30"])
            .process_group(0)
            .spawn()
            .expect("sh runs");
        let result = wait_bounded(child, Duration::from_millis(200));
        assert!(
            matches!(result, Err(CompileError::TimedOut { .. })),
            "{result:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn the_membership_line_says_how_the_object_is_built() {
        assert_eq!(
            membership("x\n  kgpc-membership: module\n"),
            Some(Some(UnitKind::Module))
        );
        assert_eq!(
            membership("kgpc-membership: built-in"),
            Some(Some(UnitKind::BuiltIn))
        );
        assert_eq!(membership("kgpc-membership: none"), Some(None));
        assert_eq!(membership("  CC      x.o\n"), None);
    }

    #[test]
    fn commands_lose_make_escapes_and_give_their_module_name() {
        let command = "gcc -DX='\"a$$b$(pound)\"' -DKBUILD_MODNAME='\"sch_netem\"' -c -o x.o x.c";
        assert_eq!(
            unescape_make(command),
            "gcc -DX='\"a$b#\"' -DKBUILD_MODNAME='\"sch_netem\"' -c -o x.o x.c"
        );
        assert_eq!(modname_of(command).as_deref(), Some("sch_netem"));
        assert_eq!(modname_of("gcc -c x.c"), None);
    }
}
