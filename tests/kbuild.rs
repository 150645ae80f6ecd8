//! Builds the module that `kgpc compile` generates for every `examples/*.kgp` (and
//! `tests/emit/faithful.kgp`) with the real
//! kernel build system, against the Debian 12 cloud kernel headers that
//! `kgpc kernel fetch` fetches and caches (or the build tree named by `KGPC_KDIR`).
//! A build passes when make succeeds, leaves a `livepatch-*.ko` and prints no warning or error.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Instant;

/// The examples directory is expected to hold at least this many specs.
const MIN_EXAMPLES: usize = 4;

#[test]
fn examples_build_cleanly_with_kbuild() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut specs: Vec<PathBuf> = fs::read_dir(root.join("examples"))
        .expect("cannot read examples/")
        .map(|entry| entry.expect("cannot read examples/").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "kgp"))
        .collect();
    specs.sort();
    // Text kgpc must escape or keep byte for byte (`??`, bidirectional
    // controls, a `//` comment in a parameter list, a string continuation).
    specs.push(root.join("tests/emit/faithful.kgp"));
    assert!(
        specs.len() >= MIN_EXAMPLES,
        "expected at least {MIN_EXAMPLES} examples/*.kgp, found {}",
        specs.len()
    );

    let kdir = kdir();
    let release = release(&kdir);
    let kgpc = Path::new(env!("CARGO_BIN_EXE_kgpc"));
    let work = tempfile::tempdir().expect("cannot create a temporary directory");

    // The builds run side by side, one per core; each result keeps its example's index.
    let jobs = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(specs.len());
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while let Some(spec) = specs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = build(kgpc, &kdir, &release, spec, work.path());
                    results.lock().unwrap().push((spec, result));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(b.0));

    let failures: Vec<String> = results
        .iter()
        .filter_map(|(spec, result)| {
            let failure = result.as_ref().err()?;
            Some(format!("==== {}: {failure}", spec.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} examples did not build cleanly against {}:\n\n{}",
        failures.len(),
        specs.len(),
        kdir.display(),
        failures.join("\n")
    );
}

/// The kernel build tree: `KGPC_KDIR` if set, else Debian's from the kgpc cache.
fn kdir() -> PathBuf {
    let kdir = match std::env::var_os("KGPC_KDIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => common::debian_kernel("kdir"),
    };
    assert!(
        kdir.join("Makefile").is_file(),
        "{} is not a kernel build tree (it has no Makefile)",
        kdir.display()
    );
    kdir
}

/// The release that the build tree is for, from its `include/generated/utsrelease.h`.
fn release(kdir: &Path) -> String {
    let header = kdir.join("include/generated/utsrelease.h");
    let text = fs::read_to_string(&header)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", header.display()));
    text.split('"')
        .nth(1)
        .unwrap_or_else(|| panic!("{} defines no UTS_RELEASE string", header.display()))
        .to_string()
}

/// Compiles `spec` into `<work>/<stem>` and builds the module there with make; on failure,
/// returns what went wrong followed by the commands and everything they printed.
fn build(kgpc: &Path, kdir: &Path, release: &str, spec: &Path, work: &Path) -> Result<(), String> {
    let start = Instant::now();
    let stem = spec.file_stem().unwrap().to_string_lossy();
    let out = work.join(&*stem);

    let mut compile = Command::new(kgpc);
    compile
        .arg("compile")
        .arg(spec)
        .arg("-o")
        .arg(&out)
        .args(["--release", release]);
    let (compiled, compile_log) = run(compile, &work.join(format!("{stem}.compile.log")));
    if !compiled {
        return Err(format!("kgpc compile failed\n{compile_log}"));
    }

    // The generated Makefile's `all` target runs `$(MAKE) -C $(KDIR) M=$(CURDIR) modules`.
    // LC_ALL=C keeps gcc's and make's messages in English, so that the checks below see them.
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(&out)
        .arg(format!("KDIR={}", kdir.display()))
        .env("LC_ALL", "C");
    let (made, make_log) = run(make, &work.join(format!("{stem}.make.log")));

    let mut problems = Vec::new();
    if !made {
        problems.push("make failed".to_string());
    }
    let has_ko = fs::read_dir(&out)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.starts_with("livepatch-") && name.ends_with(".ko")
        });
    if !has_ko {
        problems.push(format!("no livepatch-*.ko in {}", out.display()));
    }
    // modpost cannot resolve the symbols a spec declares `extern` and, under the
    // KBUILD_MODPOST_WARN=1 of the generated Makefile, warns about each; `kgpc build` turns
    // them into livepatch relocations (tests/vm/ proves that). Exactly those lines are
    // dropped; any other warning still fails the build.
    let externs = declared_externs(&out);
    let make_log: String = make_log
        .lines()
        .filter(|line| {
            !(line.starts_with("WARNING: modpost: \"")
                && line.ends_with("undefined!")
                && externs
                    .iter()
                    .any(|name| line.starts_with(&format!("WARNING: modpost: \"{name}\" ["))))
        })
        .map(|line| format!("{line}\n"))
        .collect();
    // Paths and the example's name are blanked out first, lest a directory called "error" match.
    let scanned = make_log
        .replace(&*out.to_string_lossy(), "<out>")
        .replace(&*kdir.to_string_lossy(), "<kdir>")
        .replace(&*stem, "<name>")
        .to_lowercase();
    for word in ["warning:", "error"] {
        if scanned.contains(word) {
            problems.push(format!("the build printed `{word}`"));
        }
    }

    if problems.is_empty() {
        eprintln!(
            "ok {} ({:.1} s)",
            spec.display(),
            start.elapsed().as_secs_f64()
        );
        Ok(())
    } else {
        Err(format!("{}\n{compile_log}{make_log}", problems.join(", ")))
    }
}

/// The symbols the generated C records as not exported: `KGPC_KLP_SYMBOL(object, name, pos);`.
fn declared_externs(out: &Path) -> Vec<String> {
    fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "c"))
        .flat_map(|e| {
            let text = fs::read_to_string(e.path()).unwrap_or_default();
            text.lines()
                .filter_map(|l| l.strip_prefix("KGPC_KLP_SYMBOL("))
                .filter_map(|l| l.split(',').nth(1).map(|n| n.trim().to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs `command` with its output and errors both going to `log`, and returns whether it
/// succeeded and a transcript: the command line, what it printed and how it ended.
fn run(mut command: Command, log: &Path) -> (bool, String) {
    let file = fs::File::create(log).expect("cannot create a log file");
    let shown = format!("$ {command:?}\n");
    command
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("cannot duplicate a log file"))
        .stderr(file);
    match command.status() {
        Ok(status) => {
            let printed = String::from_utf8_lossy(&fs::read(log).unwrap_or_default()).into_owned();
            (status.success(), format!("{shown}{printed}[{status}]\n"))
        }
        Err(e) => (false, format!("{shown}cannot run it: {e}\n")),
    }
}
