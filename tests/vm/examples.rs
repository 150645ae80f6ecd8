//! Every example passes in the kernel, and every failure mode of `tests/vm/*.kgp` gives its code; no test VM outlives its run.

use super::*;

/// Every example passes in the VM, and every failure of a test in the VM is reported with
/// its code: a failing check, a refused module with its reason, a stalled transition, a
/// kernel warning, a panic and a VM that runs out of time.
// One scenario in the order a user meets it (every example and every failure mode in one batch of VMs); its steps share
// what the earlier ones built, so it reads best whole.
#[test]
fn examples_pass_and_failures_are_caught_in_the_vm() {
    let start = Instant::now();
    let release = release();
    let mut cases = Vec::new();
    for spec in examples() {
        let path = spec.strip_prefix(root()).unwrap().display().to_string();
        cases.push(case(
            &path,
            &["test", &path, "--release", &release],
            0,
            &["Tested livepatch-"],
        ));
    }
    assert!(cases.len() >= 9, "expected at least 9 examples");
    // Two static functions of one name from two files, each chosen by `in "FILE"`.
    cases.push(case(
        "tests/vm/same-name-two-files.kgp",
        &[
            "test",
            "tests/vm/same-name-two-files.kgp",
            "--release",
            &release,
        ],
        0,
        &["Tested livepatch-same-name-two-files"],
    ));
    let vm = |name: &str, status: i32, expect: &[&str], extra: &[&str]| {
        let path = format!("tests/vm/{name}.kgp");
        let mut args = vec!["test", &path, "--release", &release];
        args.extend_from_slice(extra);
        case(&path, &args, status, expect)
    };
    cases.push(vm(
        "check-fails",
        5,
        &[
            "error[KGP0209]",
            "should not print \"Linux\" before the patch is loaded",
        ],
        &[],
    ));
    cases.push(vm(
        "unknown-symbol",
        5,
        &[
            "error[KGP0210]",
            "symbol 'kgpc_no_such_symbol' not found",
            "reason: a replaced function or extern symbol does not exist",
        ],
        // kgpc check would refuse the missing symbol (KGP0108) before the VM runs.
        &["--no-kernel-checks"],
    ));
    cases.push(vm(
        "transition-stalls",
        5,
        &[
            "error[KGP0211]",
            "did not finish within 2 s",
            "tasks not yet switched:",
            "sleepy_wait",
            "the kernel's console",
        ],
        &["--transition-timeout", "2"],
    ));
    cases.push(vm(
        "warns",
        5,
        &[
            "error[KGP0212]",
            "WARNING:",
            "kgpc test: a warning on purpose",
        ],
        &[],
    ));
    cases.push(vm(
        "panics",
        5,
        &[
            "error[KGP0213]",
            "Kernel panic - not syncing: kgpc test: a panic on purpose",
        ],
        &[],
    ));
    cases.push(vm(
        "runs-out-of-memory",
        5,
        &[
            "error[KGP0220]",
            "the guest ran out of memory",
            "Out of memory: Killed process",
        ],
        &[],
    ));
    cases.push(case(
        "a VM that runs out of time",
        &[
            "test",
            "examples/livepatch-sample.kgp",
            "--release",
            &release,
            "--timeout",
            "1",
        ],
        5,
        &["error[KGP0213]", "did not finish within 1 s and was killed"],
    ));
    let failures = run_all(&cases);
    eprintln!(
        "{} VM runs in {:.1} s",
        cases.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // No QEMU of ours is left behind: a QEMU whose kgpc has exited is
    // re-parented to init. (QEMUs of other kgpc runs still have their parent.)
    let orphans = orphaned_test_vms();
    assert!(
        orphans.is_empty(),
        "QEMU processes left behind: {orphans:?}"
    );
}

/// QEMU processes of `kgpc test` whose parent has gone.
fn orphaned_test_vms() -> Vec<u32> {
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !(cmdline.starts_with("qemu-system") && cmdline.contains("kgpc-test.")) {
            continue;
        }
        // The parent pid is the fourth field of /proc/PID/stat, after the command in parentheses.
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(1) {
            orphans.push(pid);
        }
    }
    orphans
}
