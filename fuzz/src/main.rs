//! `cargo run -p kgpc-fuzz --release -- [--seconds N] [--target NAME]... [--findings DIR] [--seed N] [--max-len BYTES] [--execs N]`:
//! runs each target for N seconds (10 by default), or until it has made
//! `--execs` execs if that comes first, and prints, per target,
//! the execs, execs per second, corpus size and findings. Exits 1 if
//! anything was found.
//!
//! Each target runs in a child process of its own (this program with
//! `--child`), so that a worker stuck in a hang ends with its target instead
//! of taking a core from the targets after it.

use kgpc_fuzz::crash_log::CrashLog;
use kgpc_fuzz::{runner, seeds_of, TARGETS};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

struct Args {
    seconds: f64,
    targets: Vec<String>,
    findings: PathBuf,
    seed: u64,
    max_len: usize,
    execs: u64,
    child: bool,
}

const USAGE: &str = "usage: kgpc-fuzz [--seconds N] [--target NAME]... [--findings DIR] [--seed N] [--max-len BYTES] [--execs N] [--list]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 10.0,
        targets: Vec::new(),
        findings: PathBuf::from("target/fuzz-findings"),
        seed: 1,
        max_len: kgpc_fuzz::mutate::MAX_TEXT,
        execs: u64::MAX,
        child: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--seconds" => {
                args.seconds = value()?.parse().map_err(|e| format!("--seconds: {e}"))?
            }
            "--target" => args.targets.push(value()?),
            "--findings" => args.findings = PathBuf::from(value()?),
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--max-len" => {
                args.max_len = value()?.parse().map_err(|e| format!("--max-len: {e}"))?
            }
            "--execs" => args.execs = value()?.parse().map_err(|e| format!("--execs: {e}"))?,
            "--child" => args.child = true,
            "--list" => {
                for t in TARGETS {
                    println!("{}", t.name);
                }
                std::process::exit(0);
            }
            _ => return Err(USAGE.to_string()),
        }
    }
    for t in &args.targets {
        if !TARGETS.iter().any(|x| x.name == t) {
            let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
            return Err(format!(
                "no target `{t}`; the targets are {}",
                names.join(", ")
            ));
        }
    }
    if args.targets.is_empty() {
        args.targets = TARGETS.iter().map(|t| t.name.to_string()).collect();
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("kgpc-fuzz: {e}");
            std::process::exit(2);
        }
    };
    if args.child {
        std::process::exit(child(&args));
    }
    println!(
        "{:<10} {:>10} {:>8} {:>10} {:>8} {:>9}",
        "target", "execs", "seconds", "execs/s", "corpus", "findings"
    );
    let mut status = 0;
    for target in &args.targets {
        // /proc/self/exe still runs this program when a rebuild has replaced its file.
        let exe = match Path::new("/proc/self/exe") {
            p if p.exists() => p.to_path_buf(),
            _ => std::env::current_exe().unwrap_or_default(),
        };
        let exit = Command::new(exe)
            .args(["--child", "--target", target])
            .args(["--seconds", &args.seconds.to_string()])
            .args(["--seed", &args.seed.to_string()])
            .args(["--max-len", &args.max_len.to_string()])
            .args(["--execs", &args.execs.to_string()])
            .arg("--findings")
            .arg(&args.findings)
            .status();
        let code = match exit {
            Ok(exit) if matches!(exit.code(), Some(0..=2)) => exit.code().unwrap_or(2),
            Ok(exit) => {
                crashed(&args.findings, target, &format!("{exit}"));
                1
            }
            Err(e) => {
                eprintln!("kgpc-fuzz: cannot run the target {target}: {e}");
                2
            }
        };
        status = status.max(code);
    }
    if status == 1 {
        println!("findings are saved under {}", args.findings.display());
    }
    std::process::exit(status);
}

/// Saves the input a dead child was running, as a crash of its target.
fn crashed(findings: &Path, target: &str, how: &str) {
    let input = CrashLog::read(&crash_log(findings, target)).unwrap_or_default();
    let message = format!("the process running {target} died: {how}");
    let saved = runner::save(findings, target, &runner::Kind::Crash, &message, &input);
    let saved = saved.map(|p| p.display().to_string()).unwrap_or_default();
    println!("{target:<10} {message}  [{saved}]");
}

/// Where a target's child keeps the input it is running.
fn crash_log(findings: &Path, target: &str) -> PathBuf {
    findings.join(target).join("running")
}

/// Runs one target and prints its line; 1 if it found anything.
fn child(args: &Args) -> i32 {
    // The DWARF scan runs on rayon's pool; one thread keeps a target to one core.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let Some(target) = TARGETS
        .iter()
        .find(|t| args.targets.first() == Some(&t.name.to_string()))
    else {
        return 2;
    };
    let seeds = match seeds_of(target.name) {
        Ok(seeds) => seeds,
        Err(e) => {
            eprintln!("kgpc-fuzz: cannot build the seeds of {}: {e}", target.name);
            return 2;
        }
    };
    runner::quiet_panics();
    let options = runner::Options {
        seed: args.seed,
        findings_dir: Some(args.findings.clone()),
        max_text: args.max_len,
        max_execs: args.execs,
        crash_log: std::fs::create_dir_all(args.findings.join(target.name))
            .ok()
            .map(|()| crash_log(&args.findings, target.name)),
        ..runner::Options::new(Duration::from_secs_f64(args.seconds))
    };
    let report = runner::run(target, &seeds, &options);
    println!(
        "{:<10} {:>10} {:>8.1} {:>10.0} {:>8} {:>9}",
        report.target,
        report.execs,
        report.elapsed.as_secs_f64(),
        report.execs_per_second(),
        report.corpus,
        report.findings.len()
    );
    for f in &report.findings {
        let saved = f
            .saved
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        println!(
            "  {:?} x{}: {}  [{saved}]",
            f.kind,
            f.hits,
            f.message.lines().next().unwrap_or("")
        );
    }
    if let Some(why) = &report.stopped {
        println!("  stopped: {why}");
    }
    i32::from(!report.findings.is_empty())
}
