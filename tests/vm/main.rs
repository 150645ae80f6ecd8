//! `kgpc build` and `kgpc test` against the real target kernel: every example is built,
//! booted under QEMU (TCG) and proven; every failure mode of building and testing is
//! produced on purpose from `tests/vm/` and must give its diagnostic code and exit status.
//!
//! The kernel comes from the kgpc cache, filled by `kgpc kernel fetch` (run here, it
//! reuses the cache). The VMs run two at a time; the timings are printed (`--nocapture`,
//! or nextest's output of a failing test).

mod build_failures;
mod commands;
#[path = "../common/mod.rs"]
mod common;
mod config;
mod cycles;
mod examples;
mod language;
mod many;
mod module_patches;
mod package;
mod signing;
mod smp;

use common::root;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// The number of VMs that run side by side.
const JOBS: usize = 2;
/// One spec's build and VM test must stay below this (the issue asks for 15 s on an idle
/// machine; two jobs share the machine's cores here, hence the margin).
const PER_SPEC: Duration = Duration::from_secs(40);

/// The release of Debian's current cloud kernel, whose image the kgpc cache holds.
fn release() -> String {
    let image = common::debian_kernel("vmlinuz");
    let name = image.file_name().unwrap().to_string_lossy().into_owned();
    name.strip_prefix("vmlinuz-")
        .unwrap_or_else(|| panic!("unexpected image name {}", image.display()))
        .to_string()
}

struct Outcome {
    status: i32,
    output: String,
    elapsed: Duration,
}

fn kgpc(args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let start = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kgpc"));
    command
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("KGPC_KDIR")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("kgpc runs");
    Outcome {
        status: output.status.code().unwrap_or(-1),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        elapsed: start.elapsed(),
    }
}

/// A run of kgpc and what it must give.
struct Case {
    name: String,
    args: Vec<String>,
    status: i32,
    /// Texts the output must contain, such as a diagnostic code `[KGP0210]`.
    expect: Vec<String>,
}

fn case(name: &str, args: &[&str], status: i32, expect: &[&str]) -> Case {
    Case {
        name: name.to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
        status,
        expect: expect.iter().map(|e| e.to_string()).collect(),
    }
}

/// Runs the cases, `JOBS` at a time; returns the failures.
fn run_all(cases: &[Case]) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..JOBS.min(cases.len()) {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
                    let outcome = kgpc(&args, &[]);
                    let missing: Vec<&String> = case
                        .expect
                        .iter()
                        .filter(|e| !outcome.output.contains(e.as_str()))
                        .collect();
                    eprintln!(
                        "{} {} (exit {}) in {:.1} s",
                        if outcome.status == case.status && missing.is_empty() {
                            "ok"
                        } else {
                            "FAILED"
                        },
                        case.name,
                        outcome.status,
                        outcome.elapsed.as_secs_f64()
                    );
                    let mut problems = Vec::new();
                    if outcome.status != case.status {
                        problems.push(format!(
                            "exit status {} instead of {}",
                            outcome.status, case.status
                        ));
                    }
                    if !missing.is_empty() {
                        problems.push(format!("the output lacks {missing:?}"));
                    }
                    if outcome.elapsed > PER_SPEC {
                        problems.push(format!(
                            "took {:.1} s, more than {} s",
                            outcome.elapsed.as_secs_f64(),
                            PER_SPEC.as_secs()
                        ));
                    }
                    if !problems.is_empty() {
                        failures.lock().unwrap().push(format!(
                            "==== {} ({}): {}\n{}",
                            case.name,
                            case.args.join(" "),
                            problems.join("; "),
                            outcome.output
                        ));
                    }
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

fn examples() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = fs::read_dir(root().join("examples"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "kgp"))
        .collect();
    specs.sort();
    specs
}
