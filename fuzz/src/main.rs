//! `cargo run -p kgpc-fuzz --release -- [--seconds N] [--target NAME]... [--findings DIR] [--seed N]`:
//! runs each target for N seconds (10 by default) and prints, per target,
//! the execs, execs per second and findings. Exits 1 if anything was found.

use kgpc_fuzz::{runner, Corpus, TARGETS};
use std::path::PathBuf;
use std::time::Duration;

struct Args {
    seconds: f64,
    targets: Vec<String>,
    findings: PathBuf,
    seed: u64,
}

const USAGE: &str = "usage: kgpc-fuzz [--seconds N] [--target NAME]... [--findings DIR] [--seed N]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 10.0,
        targets: Vec::new(),
        findings: PathBuf::from("target/fuzz-findings"),
        seed: 1,
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
    // The DWARF scan runs on rayon's pool; one thread keeps a run to one core.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    let corpus = match Corpus::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kgpc-fuzz: cannot build the seed corpus: {e}");
            std::process::exit(2);
        }
    };
    runner::quiet_panics();
    let mut total = 0;
    println!(
        "{:<10} {:>10} {:>8} {:>10} {:>8} {:>9}",
        "target", "execs", "seconds", "execs/s", "corpus", "findings"
    );
    for target in TARGETS
        .iter()
        .filter(|t| args.targets.is_empty() || args.targets.iter().any(|n| n == t.name))
    {
        let options = runner::Options {
            seed: args.seed,
            findings_dir: Some(args.findings.clone()),
            ..runner::Options::new(Duration::from_secs_f64(args.seconds))
        };
        let report = runner::run(target, corpus.seeds(target.name), &options);
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
        total += report.findings.len();
    }
    if total > 0 {
        println!("{total} findings, saved under {}", args.findings.display());
        std::process::exit(1);
    }
}
