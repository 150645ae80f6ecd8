//! The CI run of the fuzz harness: every target for a few seconds over the
//! repository's seeds, from a fixed seed; any panic, hang or broken
//! property fails the test and is saved under `target/fuzz-findings/smoke`.

use kgpc_fuzz::{runner, seeds_of, TARGETS};
use std::path::PathBuf;
use std::time::Duration;

const SECONDS: u64 = 3;
const MUTANTS: u64 = 100;

fn smoke(name: &str) {
    runner::quiet_panics();
    let target = TARGETS.iter().find(|t| t.name == name).expect("a target");
    let seeds = &seeds_of(name).expect("the seed corpus builds (gcc, ld and pahole)");
    assert!(!seeds.is_empty(), "no seeds for {name}");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/fuzz-findings/smoke");
    // Every seed, and some mutants of them, even in a slow debug build.
    let options = runner::Options {
        min_execs: seeds.len() as u64 + MUTANTS,
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
    assert!(
        report.execs >= seeds.len() as u64 + MUTANTS,
        "{name} ran only {} execs",
        report.execs
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
