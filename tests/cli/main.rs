//! Tests of the command line as a user meets it: subcommands other than
//! `check`, input that is not a spec at all, and the writing of output.
//!
//! The messages of `kgpc check` are compared with golden files in
//! `tests/golden.rs`; here only exit statuses, codes and invariants are
//! checked, such as "never panics" and "never touches a user's file".

mod closed_pipes;
#[path = "../common/mod.rs"]
mod common;
mod compile_output;
mod new_from_patch;
mod reading_specs;
mod spec_scope;
mod subcommands;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// A release the specs below match and that no machine has.
const RELEASE: &str = "6.1.0-999-cloud-amd64";

const SPEC: &str = r#"patch sample {
    description "Make /proc/cmdline report that the kernel has been live patched"
}

target {
    release "6.1.0-*-cloud-amd64"
    arch x86_64
}

include <linux/seq_file.h>

object vmlinux {
    replace int cmdline_proc_show(struct seq_file *m, void *v) {
        seq_printf(m, "%s\n", "this has been live patched");
        return 0;
    }
}
"#;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts the exit status, showing everything printed when it differs.
    fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit status\n--- stdout\n{}--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts that kgpc failed with diagnostics, not with a crash.
    fn expect_diagnostics(self) -> Run {
        assert!(
            !self.stderr.contains("panicked"),
            "kgpc panicked:\n{}",
            self.stderr
        );
        let run = self.expect(1);
        assert!(
            run.stderr.contains("error[KGP"),
            "expected a diagnostic with a code:\n{}",
            run.stderr
        );
        run
    }
}

/// Runs kgpc in `dir` with an empty kernel cache, feeding `stdin` if given.
fn kgpc_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let cache = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .current_dir(dir)
        .env("KGPC_CACHE_DIR", cache.path())
        // No running kernel: results must not depend on the machine.
        .env("KGPC_RUNNING_RELEASE", "")
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kgpc runs");
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn kgpc(args: &[&str]) -> Run {
    kgpc_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, None)
}

/// Checks a spec file holding `bytes` in a fresh directory.
fn check_bytes(bytes: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("spec.kgp"), bytes).unwrap();
    kgpc_in(
        dir.path(),
        &["check", "spec.kgp", "--release", RELEASE],
        None,
    )
}

/// The names in a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
