//! The test block's language in the real VM: files and programs in the guest,
//! a setup script, multi-line checks and several expectations per check.

use super::*;

/// `tests/vm/language.kgp` passes: a C program built for the guest calls
/// system calls directly (`exits`, `contains`, `lacks` across the phases), a
/// file and an executable script are in `/test`, and the setup script ran
/// once before the patch. A setup that fails is reported with its output, a
/// reloaded module whose callbacks log nothing is caught (the examples'
/// callbacks demo proves a reload that logs them), and a program that does
/// not compile is reported at its line without a VM.
#[test]
fn guest_programs_files_setup_and_expectations_prove_in_the_vm() {
    let release = release();
    let test = |name: &str, status: i32, expect: &[&str]| {
        let path = format!("tests/vm/{name}.kgp");
        case(
            &path,
            &["test", &path, "--release", &release],
            status,
            expect,
        )
    };
    let cases = [
        test(
            "language",
            0,
            &["Tested livepatch-language", "passed (5 test entries, 2 CPUs)"],
        ),
        test(
            "setup-fails",
            5,
            &[
                "error[KGP0216]",
                "the setup script exited with status 1, so the patch was not loaded",
                "    preparing",
                "can't create directory '/proc/kgpc-cannot-be-made'",
            ],
        ),
        test(
            "reload-silent",
            5,
            &[
                "error[KGP0209]: reloading livepatch_callbacks_mod with the patch applied",
                "should show its post_unpatch callback",
                "reverting patch 'livepatch_reload_silent' on unloading module 'livepatch_callbacks_mod'",
                "reloaded here",
            ],
        ),
        test(
            "program-fails",
            4,
            &[
                "error[KGP0215]: the test's program `broken.c` did not compile",
                "error[KGP0215]: C compiler:",
                "undeclared_on_purpose",
                "tests/vm/language/broken.c:6:",
            ],
        ),
    ];
    // One VM at a time: the machine is shared.
    let mut failures = Vec::new();
    for case in &cases {
        failures.extend(run_all(std::slice::from_ref(case)));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A program that does not compile stops the test before the patch is built
/// or a VM started: its run takes no longer than gcc does.
#[test]
fn a_program_that_does_not_compile_starts_no_vm() {
    let outcome = kgpc(
        &[
            "test",
            "tests/vm/program-fails.kgp",
            "--release",
            &release(),
        ],
        &[],
    );
    assert_eq!(outcome.status, 4, "{}", outcome.output);
    // A run of the VM ends with a line that names the patch and the VM's time.
    assert!(
        !outcome.output.contains("livepatch-program-fails"),
        "{}",
        outcome.output
    );
    assert!(
        outcome.output.contains("the VM was not started"),
        "{}",
        outcome.output
    );
    assert!(
        outcome.elapsed < Duration::from_secs(5),
        "took {:.1} s",
        outcome.elapsed.as_secs_f64()
    );
}
