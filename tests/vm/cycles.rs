//! `kgpc test --cycles` and a test block's `workload` in the real kernel: a
//! patch loaded and unloaded 100 times in one boot, a check that fails only
//! in a later cycle, and an example proven under load, with the transition
//! times with and without it; a workload that ends early is KGP0218.

use super::*;

/// The seconds after `label` in the report's `Cycles:` line, such as
/// `enable 0.05 s` or `enable min 0.02 / median 0.05 / max 0.36 s` (the median).
fn seconds_after(line: &str, label: &str) -> f64 {
    let rest = &line[line
        .find(label)
        .unwrap_or_else(|| panic!("no `{label}` in {line}"))
        + label.len()..];
    let rest = rest.trim_start();
    let number = match rest.strip_prefix("min ") {
        Some(spread) => spread.split(" median ").nth(1).unwrap(),
        None => rest,
    };
    number
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no time after `{label}` in {line}"))
}

fn cycles_line(output: &str) -> &str {
    output
        .lines()
        .find(|l| l.starts_with("Cycles: "))
        .unwrap_or_else(|| panic!("no Cycles: line in\n{output}"))
}

/// 100 cycles of the kernel's sample pass with a clean kernel log. One CPU:
/// the count of cycles is what this proves, and with two a transition waits
/// about a second for the consistency model's retry, which would make this
/// one test take minutes (the other tests run with two).
#[test]
fn a_hundred_cycles_of_the_sample_pass_with_a_clean_log() {
    let release = release();
    let outcome = kgpc(
        &[
            "test",
            "examples/livepatch-sample.kgp",
            "--release",
            &release,
            "--smp",
            "1",
            "--cycles",
            "100",
            "--timeout",
            "600",
        ],
        &[],
    );
    eprintln!(
        "100 cycles in {:.1} s:\n{}",
        outcome.elapsed.as_secs_f64(),
        outcome.output
    );
    assert_eq!(outcome.status, 0, "{}", outcome.output);
    assert!(!outcome.output.contains("error["), "{}", outcome.output);
    let line = cycles_line(&outcome.output);
    assert!(
        line.starts_with("Cycles: 100 cycles ran; enable "),
        "{line}"
    );
    assert!(seconds_after(line, "disable") > 0.0, "{line}");
}

/// A check that fails from cycle 2 on names the cycle; the example under
/// load gives its transition times with and without the workload; a
/// workload that ends early is KGP0218 with its status and output.
#[test]
fn cycles_and_workloads_are_judged_in_the_vm() {
    let release = release();
    let cases = [
        case(
            "a check that fails from cycle 2 on",
            &[
                "test",
                "tests/vm/fails-in-cycle-two.kgp",
                "--release",
                &release,
                "--cycles",
                "3",
            ],
            5,
            &["error[KGP0209]: in cycle 2 of 3: `n=$(cat /tmp/runs", "Cycles: 3 cycles ran"],
        ),
        case(
            "a workload that ends early",
            &["test", "tests/vm/workload-ends.kgp", "--release", &release],
            5,
            &[
                "error[KGP0218]: the workload `cat /proc/cmdline; exit 7` ended before it was stopped: copy 0 exited with status 7",
                "    console=ttyS0",
            ],
        ),
    ];
    let failures = run_all(&cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let outcome = kgpc(
        &[
            "test",
            "examples/cmdline-under-load.kgp",
            "--release",
            &release,
        ],
        &[],
    );
    assert_eq!(outcome.status, 0, "{}", outcome.output);
    let line = cycles_line(&outcome.output);
    eprintln!("{line}");
    // One copy per CPU: the guest has two by default.
    assert!(line.contains("with the workload (2 copies)"), "{line}");
    let loaded = seconds_after(line, "; enable");
    let unloaded = seconds_after(line, "without the workload: enable");
    assert!(loaded > 0.0 && loaded < 20.0, "{line}");
    assert!((0.0..20.0).contains(&unloaded), "{line}");
}
