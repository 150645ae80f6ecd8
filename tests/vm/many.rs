//! `kgpc test` of several specs and of a directory: each proved in its own VM,
//! `--jobs` at a time, a line as each starts and ends, one summary at the end,
//! and an exit status of 0 only if every spec passed.

use super::*;

#[test]
fn several_specs_run_side_by_side_with_one_summary() {
    let release = release();
    let args = [
        "test",
        "examples/livepatch-sample.kgp",
        "tests/vm/check-fails.kgp",
        "tests/vm/compiler-error.kgp",
        "--release",
        &release,
        "--jobs",
        "2",
    ];
    let outcome = kgpc(&args, &[]);
    // check-fails fails in the VM (5); compiler-error, which has no test block, does not stop the others.
    assert_eq!(outcome.status, 5, "{}", outcome.output);
    let output = &outcome.output;
    for line in [
        "kgpc: [1/3] started examples/livepatch-sample.kgp",
        "kgpc: [2/3] started tests/vm/check-fails.kgp",
        "kgpc: [3/3] started tests/vm/compiler-error.kgp",
        "---- tests/vm/check-fails.kgp (failed) ----",
        "error[KGP0209]: `cat /proc/version` should not print \"Linux\" before the patch is loaded",
        "---- tests/vm/compiler-error.kgp (failed) ----",
        "error[KGP0208]: tests/vm/compiler-error.kgp has no `test` block",
        "Summary of 3 specs, 2 at a time:",
        "3 specs: 1 passed, 2 failed, 0 errors;",
    ] {
        assert!(output.contains(line), "no {line:?} in:\n{output}");
    }
    let finished = |status: &str, spec: &str| {
        output
            .lines()
            .any(|l| l.starts_with("kgpc: [") && l.contains(&format!("] {status} {spec} in ")))
    };
    assert!(
        finished("passed", "examples/livepatch-sample.kgp"),
        "{output}"
    );
    assert!(finished("failed", "tests/vm/check-fails.kgp"), "{output}");
    let summary_row = |status: &str, spec: &str, cpus: &str| {
        output
            .lines()
            .any(|l| l.starts_with(&format!("  {status:<6}  {spec}")) && l.ends_with(cpus))
    };
    assert!(
        summary_row("passed", "examples/livepatch-sample.kgp", " s  2 CPUs"),
        "{output}"
    );
    assert!(
        summary_row("failed", "tests/vm/check-fails.kgp", " s  2 CPUs"),
        "{output}"
    );
    assert!(
        summary_row("failed", "tests/vm/compiler-error.kgp", " s"),
        "{output}"
    );
    // The passing spec's own output is not repeated; its row says it passed.
    assert!(
        !output.contains("---- examples/livepatch-sample.kgp"),
        "{output}"
    );
}

#[test]
fn a_directory_gives_one_json_record_per_spec_with_a_test_block_and_a_summary() {
    let release = release();
    let dir = tempfile::tempdir().unwrap();
    let sample = fs::read_to_string(root().join("examples/livepatch-sample.kgp")).unwrap();
    fs::write(dir.path().join("a-passes.kgp"), &sample).unwrap();
    let broken = sample.replace("return 0;", "return kgpc_undeclared_name;");
    assert_ne!(broken, sample);
    fs::write(dir.path().join("b-does-not-build.kgp"), broken).unwrap();
    let untested = &sample[..sample.find("# `kgpc test`").unwrap()];
    fs::write(dir.path().join("c-no-test.kgp"), untested).unwrap();
    let dir_arg = dir.path().display().to_string();
    let args = [
        "test",
        &dir_arg,
        "--release",
        &release,
        "--message-format",
        "json",
        "--jobs",
        "1",
    ];
    let outcome = kgpc(&args, &[]);
    // The spec that does not build gives its build's status.
    assert_eq!(outcome.status, 4, "{}", outcome.output);
    let records: Vec<serde_json::Value> = outcome
        .output
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3, "{}", outcome.output);
    let (passed, failed) = (&records[0]["spec"], &records[1]["spec"]);
    assert!(
        passed["spec"].as_str().unwrap().ends_with("a-passes.kgp"),
        "{passed}"
    );
    assert_eq!(passed["status"], "passed", "{passed}");
    assert_eq!(passed["cpus"], 2, "{passed}");
    assert_eq!(
        passed["summary"]["vm"]["booted"],
        release.as_str(),
        "{passed}"
    );
    assert!(
        failed["spec"]
            .as_str()
            .unwrap()
            .ends_with("b-does-not-build.kgp"),
        "{failed}"
    );
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(failed["exit"], 4, "{failed}");
    let codes: Vec<&str> = failed["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"KGP0200"), "{failed}");
    let summary = &records[2]["summary"];
    assert_eq!(summary["command"], "test", "{summary}");
    assert_eq!(summary["status"], "error", "{summary}");
    assert_eq!(summary["specs"], 2, "{summary}");
    assert_eq!(summary["passed"], 1, "{summary}");
    assert_eq!(summary["failed"], 1, "{summary}");
    assert_eq!(summary["jobs"], 1, "{summary}");
    assert!(summary["wall_seconds"].as_f64().unwrap() > 0.0, "{summary}");
    // Progress goes to standard error, one line as each spec starts and ends.
    assert!(
        outcome.output.contains("kgpc: [1/2] started ")
            && outcome.output.contains("kgpc: [2/2] failed "),
        "{}",
        outcome.output
    );
}

#[test]
fn a_directory_without_a_tested_spec_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "not a spec").unwrap();
    let dir_arg = dir.path().display().to_string();
    let outcome = kgpc(&["test", &dir_arg], &[]);
    assert_eq!(outcome.status, 1, "{}", outcome.output);
    assert!(
        outcome.output.contains(&format!(
            "error[KGP0208]: `{dir_arg}` holds no spec with a `test` block"
        )),
        "{}",
        outcome.output
    );
}
