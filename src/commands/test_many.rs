//! `kgpc test` of several specs: each proved by its own `kgpc test` child
//! process, in its own work directory and VM, `--jobs` at a time, with a line
//! when each starts and ends and one summary at the end.
//!
//! A child is this same program, run on one spec with the same options, so a
//! spec proved among many behaves as it does alone; what one spec does (a
//! compiler error, a failed build, a panic) cannot stop the others.

use super::session::Session;
use super::test_summary::{self, Row, Status};
use crate::cli::{MessageFormat, TestArgs};
use crate::error::Error;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Whether the arguments ask for more than one spec: several paths, or a directory.
pub fn asks_for_many(args: &TestArgs) -> bool {
    !args.more.is_empty() || args.spec.spec.is_dir()
}

/// Proves every spec the arguments name and prints the summary.
pub fn test_many(args: &TestArgs) -> Result<(), Error> {
    let started = Instant::now();
    let specs = match gather(args) {
        Ok(specs) => specs,
        Err(error) => {
            let mut session = Session::new(args.spec.message_format);
            return Err(session.fail(error, "test the specs"));
        }
    };
    let jobs = args
        .jobs
        .map(|j| j as usize)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .min(specs.len())
        .max(1);
    let works = work_dirs(args.keep_work.as_deref(), &specs);
    let rows = run_all(args, &specs, &works, jobs);
    let shown = test_summary::Shown {
        format: args.spec.message_format,
        jobs,
        wall: started.elapsed(),
    };
    test_summary::render(&shown, &rows);
    match rows.iter().filter_map(Row::failure_status).max() {
        None => Ok(()),
        Some(status) => Err(Error::SpecsFailed {
            failed: rows.iter().filter(|r| r.status != Status::Passed).count(),
            status,
        }),
    }
}

/// The specs to prove, in the order given, each once: a directory stands for
/// its `*.kgp` specs that have a test block, sorted by name.
fn gather(args: &TestArgs) -> Result<Vec<PathBuf>, Error> {
    let mut specs: Vec<PathBuf> = Vec::new();
    for path in std::iter::once(&args.spec.spec).chain(&args.more) {
        let found = if path.is_dir() {
            let found = specs_in(path);
            if found.is_empty() {
                return Err(Error::NoTestSpecs { dir: path.clone() });
            }
            found
        } else {
            vec![path.clone()]
        };
        for spec in found {
            if !specs.contains(&spec) {
                specs.push(spec);
            }
        }
    }
    Ok(specs)
}

/// The `*.kgp` files of `dir` that have a test block, or that cannot be read
/// (their own run says why), sorted.
fn specs_in(dir: &Path) -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "kgp") && path.is_file())
        .filter(|path| has_test_block(path))
        .collect();
    specs.sort();
    specs
}

/// Whether the spec at `path` has a `test` item, or cannot be read.
fn has_test_block(path: &Path) -> bool {
    let Ok(text) = crate::read::read_text(path) else {
        return true;
    };
    let (ast, _) = crate::syntax::parse(crate::source::FileId(0), &text);
    ast.items
        .iter()
        .any(|item| matches!(item, crate::syntax::ast::Item::Test(_)))
}

/// Each spec's work directory under `--keep-work DIR`: `DIR/<name of the
/// spec>`, numbered when two specs share a name; none without it.
fn work_dirs(keep: Option<&Path>, specs: &[PathBuf]) -> Vec<Option<PathBuf>> {
    let Some(keep) = keep else {
        return vec![None; specs.len()];
    };
    let stem = |spec: &PathBuf| {
        spec.file_stem()
            .map_or("spec".into(), |s| s.to_string_lossy().into_owned())
    };
    specs
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let name = stem(spec);
            let shared = specs.iter().filter(|other| stem(other) == name).count() > 1;
            Some(if shared {
                keep.join(format!("{name}-{}", index + 1))
            } else {
                keep.join(name)
            })
        })
        .collect()
}

/// Runs the specs' children, `jobs` at a time; returns their rows in the order of `specs`.
fn run_all(args: &TestArgs, specs: &[PathBuf], works: &[Option<PathBuf>], jobs: usize) -> Vec<Row> {
    let next = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<Row>>> = Mutex::new(vec![None; specs.len()]);
    let total = specs.len();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(spec) = specs.get(index) else {
                    break;
                };
                crate::errln!("kgpc: [{}/{total}] started {}", index + 1, spec.display());
                let row = run_one(args, spec, works[index].as_deref());
                crate::errln!("kgpc: [{}/{total}] {}", index + 1, row.line());
                if let Ok(mut rows) = rows.lock() {
                    rows[index] = Some(row);
                }
            });
        }
    });
    rows.into_inner()
        .unwrap_or_default()
        .into_iter()
        .zip(specs)
        .map(|(row, spec)| row.unwrap_or_else(|| Row::not_run(spec, "its run was lost")))
        .collect()
}

/// Proves one spec with a `kgpc test` child and reads how it ended.
fn run_one(args: &TestArgs, spec: &Path, work: Option<&Path>) -> Row {
    let started = Instant::now();
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(e) => return Row::not_run(spec, &format!("cannot find kgpc itself: {e}")),
    };
    let output = Command::new(program)
        .args(child_args(args, spec, work))
        .stdin(Stdio::null())
        .output();
    match output {
        Ok(output) => Row::read(spec, args.spec.message_format, &output, started.elapsed()),
        Err(e) => Row::not_run(spec, &format!("cannot run kgpc: {e}")),
    }
}

/// The command line of the child that proves `spec`: this run's options,
/// with `work` as its kept work directory.
fn child_args(args: &TestArgs, spec: &Path, work: Option<&Path>) -> Vec<OsString> {
    let mut line: Vec<OsString> = vec!["test".into(), spec.into()];
    let mut option = |name: &str, value: &dyn AsRef<std::ffi::OsStr>| {
        line.push(name.into());
        line.push(value.as_ref().to_os_string());
    };
    let spec_args = &args.spec;
    if let Some(release) = &spec_args.release {
        option("--release", release);
    }
    let format = match spec_args.message_format {
        MessageFormat::Human => "human",
        MessageFormat::Json => "json",
    };
    option("--message-format", &format);
    if let Some(vmlinux) = &spec_args.vmlinux {
        option("--vmlinux", vmlinux);
    }
    if let Some(modules) = &spec_args.modules {
        option("--modules", modules);
    }
    for allowed in &spec_args.allow_path {
        option("--allow-path", allowed);
    }
    if let Some(kdir) = &args.kdir {
        option("--kdir", kdir);
    }
    if spec_args.no_kernel_checks {
        line.push("--no-kernel-checks".into());
    }
    line.extend(machine_args(args, work));
    line
}

/// The options of the proof itself that a child takes from this run: its
/// VM, its cycles and where its work is kept.
pub fn machine_args(args: &TestArgs, work: Option<&Path>) -> Vec<OsString> {
    let mut line: Vec<OsString> = Vec::new();
    let mut option = |name: &str, value: &dyn AsRef<std::ffi::OsStr>| {
        line.push(name.into());
        line.push(value.as_ref().to_os_string());
    };
    if let (Some(key), Some(cert)) = (&args.sign.sign_key, &args.sign.sign_cert) {
        option("--sign-key", key);
        option("--sign-cert", cert);
    }
    if let Some(work) = work {
        option("--keep-work", &work);
    }
    option("--timeout", &args.timeout.to_string());
    option("--transition-timeout", &args.transition_timeout.to_string());
    option("--qemu", &args.qemu);
    option("--busybox", &args.busybox);
    option("--smp", &args.smp.to_string());
    option("--cycles", &args.cycles.to_string());
    if args.mttcg {
        line.push("--mttcg".into());
    }
    if args.modules_after_patch {
        line.push("--modules-after-patch".into());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parsed(line: &[&str]) -> TestArgs {
        let cli = crate::cli::Cli::parse_from(line);
        match cli.command {
            crate::cli::Command::Test(args) => args,
            _ => panic!("not kgpc test"),
        }
    }

    #[test]
    fn a_child_gets_every_option_of_the_run_and_its_own_work_directory() {
        let args = parsed(&[
            "kgpc",
            "test",
            "a.kgp",
            "b.kgp",
            "--release",
            "6.1.0-57-cloud-amd64",
            "--smp",
            "3",
            "--mttcg",
            "--cycles",
            "5",
            "--timeout",
            "99",
            "--no-kernel-checks",
            "--modules-after-patch",
            "--allow-path",
            "lib",
            "--sign-key",
            "k.pem",
            "--sign-cert",
            "c.pem",
        ]);
        let line = child_args(&args, Path::new("b.kgp"), Some(Path::new("w/b")));
        let line: Vec<String> = line
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let line = line.join(" ");
        for part in [
            "test b.kgp ",
            "--release 6.1.0-57-cloud-amd64",
            "--message-format human",
            "--smp 3",
            "--mttcg",
            "--cycles 5",
            "--timeout 99",
            "--transition-timeout 20",
            "--keep-work w/b",
            "--allow-path lib",
            "--no-kernel-checks",
            "--modules-after-patch",
            "--sign-key k.pem --sign-cert c.pem",
        ] {
            assert!(line.contains(part), "{part} is not in {line}");
        }
        assert!(!line.contains("a.kgp"), "{line}");
        // The child parses what it is given.
        let child = parsed(&[&["kgpc"][..], &line.split(' ').collect::<Vec<_>>()].concat());
        assert_eq!(child.smp, 3);
        assert!(child.mttcg);
        assert_eq!(child.cycles, 5);
        assert!(child.more.is_empty());
    }

    #[test]
    fn a_directory_stands_for_its_specs_with_a_test_block_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let with = "patch p { description \"d\" }\ntest { always \"true\" contains \"\" }\n";
        std::fs::write(dir.path().join("b.kgp"), with).unwrap();
        std::fs::write(dir.path().join("a.kgp"), with).unwrap();
        std::fs::write(dir.path().join("c.kgp"), "patch p { description \"d\" }\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), with).unwrap();
        let names: Vec<String> = specs_in(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.kgp", "b.kgp"]);
        let dir_arg = dir.path().display().to_string();
        let a = dir.path().join("a.kgp").display().to_string();
        let args = parsed(&["kgpc", "test", &a, &dir_arg]);
        assert!(asks_for_many(&args));
        let specs = gather(&args).unwrap();
        assert_eq!(specs.len(), 2, "a spec given twice is proved once");
        let empty = tempfile::tempdir().unwrap();
        let args = parsed(&["kgpc", "test", &empty.path().display().to_string()]);
        assert!(matches!(gather(&args), Err(Error::NoTestSpecs { .. })));
        assert!(!asks_for_many(&parsed(&["kgpc", "test", &a])));
    }

    #[test]
    fn kept_work_directories_are_one_per_spec() {
        let specs = [
            PathBuf::from("x/a.kgp"),
            PathBuf::from("y/a.kgp"),
            PathBuf::from("b.kgp"),
        ];
        let works = work_dirs(Some(Path::new("w")), &specs);
        let works: Vec<PathBuf> = works.into_iter().flatten().collect();
        assert_eq!(
            works,
            [
                PathBuf::from("w/a-1"),
                PathBuf::from("w/a-2"),
                PathBuf::from("w/b")
            ]
        );
        assert_eq!(work_dirs(None, &specs), vec![None, None, None]);
    }
}
