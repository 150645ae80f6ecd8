//! `kgpc test --smp N`: the guest has N CPUs (one host thread, or one each with --mttcg), says so
//! itself, and a number of CPUs it cannot have is refused before anything is built.

use super::*;

/// livepatch-sample with a check that the guest sees `cpus` CPUs, in a directory of its own.
fn counting_spec(cpus: u32) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let sample = fs::read_to_string(root().join("examples/livepatch-sample.kgp")).unwrap();
    let counting = sample.replace(
        "    dmesg loaded",
        &format!("    always \"nproc\" contains \"{cpus}\"\n    dmesg loaded"),
    );
    assert_ne!(counting, sample, "the sample's test block changed");
    let spec = dir.path().join("smp-count.kgp");
    fs::write(&spec, counting).unwrap();
    (dir, spec.display().to_string())
}

#[test]
fn the_guest_has_the_cpus_smp_asks_for_and_reports_them() {
    let release = release();
    let (_dir, spec) = counting_spec(3);
    let args = ["test", &spec, "--release", &release, "--smp", "3"];
    let outcome = kgpc(&args, &[]);
    assert_eq!(outcome.status, 0, "{}", outcome.output);
    assert!(
        outcome.output.contains("(3 test entries, 3 CPUs)"),
        "{}",
        outcome.output
    );
    // The same spec with one CPU fails its check: `nproc` in the guest says 1.
    let one = kgpc(&["test", &spec, "--release", &release, "--smp", "1"], &[]);
    assert_eq!(one.status, 5, "{}", one.output);
    assert!(
        one.output.contains("error[KGP0209]") && one.output.contains("1 CPU)"),
        "{}",
        one.output
    );
}

#[test]
fn the_json_summary_gives_the_cpus_the_guest_had_two_by_default() {
    let release = release();
    let args = [
        "test",
        "examples/livepatch-sample.kgp",
        "--release",
        &release,
        "--message-format",
        "json",
    ];
    let outcome = kgpc(&args, &[]);
    assert_eq!(outcome.status, 0, "{}", outcome.output);
    let summary = outcome
        .output
        .lines()
        .rfind(|l| l.starts_with("{\"summary\""))
        .unwrap_or_else(|| panic!("no summary record:\n{}", outcome.output));
    let record: serde_json::Value = serde_json::from_str(summary).unwrap();
    assert_eq!(record["summary"]["vm"]["cpus"], 2, "{record}");
    assert_eq!(
        record["summary"]["vm"]["booted"],
        release.as_str(),
        "{record}"
    );
}

#[test]
fn no_cpus_or_more_than_qemu_gives_are_refused_before_building() {
    let release = release();
    for (smp, message) in [
        ("0", "the test's VM needs at least one CPU"),
        ("256", "the test's VM cannot have 256 CPUs: at most 255"),
    ] {
        let args = [
            "test",
            "examples/livepatch-sample.kgp",
            "--release",
            &release,
            "--smp",
            smp,
        ];
        let outcome = kgpc(&args, &[]);
        assert_eq!(outcome.status, 2, "{}", outcome.output);
        assert!(
            outcome
                .output
                .contains(&format!("error[KGP0217]: {message}"))
                && outcome
                    .output
                    .contains("help: pass --smp with a number from 1 to 255")
                && !outcome.output.contains("Tested"),
            "{}",
            outcome.output
        );
    }
}
