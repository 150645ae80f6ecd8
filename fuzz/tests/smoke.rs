//! The CI run of the fuzz harness: every target over the repository's
//! seeds and a fixed number of mutants from a fixed seed, so that every run
//! makes the same inputs (a few seconds each); any panic, hang or broken
//! property fails the test and is saved under `target/fuzz-findings/smoke`.

use kgpc_fuzz::{runner, seeds_of, TARGETS};
use std::path::PathBuf;
use std::time::Duration;

/// Mutants per target: spec targets run the whole compiler front end, object
/// readers are a hundred times faster.
const TEXT_MUTANTS: u64 = 300;
const BINARY_MUTANTS: u64 = 5000;
/// The most a target may take, even in a debug build on a busy machine.
const SECONDS: u64 = 120;

fn smoke(name: &str) {
    runner::quiet_panics();
    let target = TARGETS.iter().find(|t| t.name == name).expect("a target");
    let seeds = &seeds_of(name).expect("the seed corpus builds (gcc, ld and pahole)");
    assert!(!seeds.is_empty(), "no seeds for {name}");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-findings/smoke");
    let mutants = match target.input {
        runner::Input::Text => TEXT_MUTANTS,
        _ => BINARY_MUTANTS,
    };
    let budget = seeds.len() as u64 + mutants;
    let options = runner::Options {
        max_execs: budget,
        // A debug build runs the compiler ten times slower than a release build.
        hang: runner::HANG * if cfg!(debug_assertions) { 10 } else { 1 },
        findings_dir: Some(dir),
        ..runner::Options::new(Duration::from_secs(SECONDS))
    };
    let report = runner::run(target, seeds, &options);
    eprintln!(
        "{name}: {} execs in {:.1} s ({:.0}/s), corpus {}",
        report.execs,
        report.elapsed.as_secs_f64(),
        report.execs_per_second(),
        report.corpus
    );
    let found: Vec<String> = report
        .findings
        .iter()
        .map(|f| {
            format!(
                "{:?} x{}: {} [{}]",
                f.kind,
                f.hits,
                f.message,
                f.saved
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )
        })
        .collect();
    assert!(found.is_empty(), "{name} found:\n{}", found.join("\n"));
    assert!(
        report.execs == budget,
        "{name} ran only {} execs in {SECONDS} s",
        report.execs
    );
}

macro_rules! smoke_tests {
    ($($test:ident: $name:literal,)*) => {
        $(#[test] fn $test() { smoke($name); })*

        #[test]
        fn every_target_has_a_smoke_test() {
            let tested = [$($name),*];
            for t in TARGETS {
                assert!(tested.contains(&t.name), "no smoke test for {}", t.name);
            }
        }
    };
}

smoke_tests! {
    parse: "parse",
    lower: "lower",
    fmt: "fmt",
    generate: "generate",
    elf: "elf",
    mcount: "mcount",
    dwarf: "dwarf",
    btf: "btf",
    btf_split: "btf-split",
    index: "index",
}
