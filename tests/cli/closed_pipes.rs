//! Output to a reader that has gone, and output that cannot be written.

use super::*;

/// Runs kgpc in `dir` with its standard output (or, with `stderr`, its
/// standard error) a pipe whose reader has already gone, as under `| head`.
fn kgpc_into_closed_pipe(dir: &Path, args: &[&str], stderr: bool) -> Run {
    let cache = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut command = Command::new(env!("CARGO_BIN_EXE_kgpc"));
    command
        .args(args)
        .current_dir(dir)
        .env("KGPC_CACHE_DIR", cache.path())
        .env("KGPC_RUNNING_RELEASE", "")
        .stdin(Stdio::null());
    if stderr {
        command.stderr(writer).stdout(Stdio::piped());
    } else {
        command.stdout(writer).stderr(Stdio::piped());
    }
    let output = command.output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn every_command_exits_cleanly_when_its_reader_goes() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    fs::write(
        dir.path().join("bad.kgp"),
        SPEC.replace("arch x86_64", "arch x86_46"),
    )
    .unwrap();
    let release = ["--release", RELEASE];
    let cases: &[(&[&str], i32)] = &[
        (&["explain", "--list"], 0),
        (&["explain", "KGP0012"], 0),
        (&["--help"], 0),
        (&["completions", "bash"], 0),
        (&["fmt", "fix.kgp", "--check"], 0),
        (&["review", "fix.kgp"], 0),
        (&["check", "bad.kgp", "--message-format", "json"], 1),
        (&["check", "fix.kgp", "--message-format", "json"], 0),
    ];
    for (args, code) in cases {
        let mut args = args.to_vec();
        if ["check", "review"].contains(&args[0]) {
            args.extend(release);
        }
        let run = kgpc_into_closed_pipe(dir.path(), &args, false);
        assert!(
            !run.stderr.contains("panicked") && !run.stderr.contains("Broken pipe"),
            "kgpc {}: {}",
            args.join(" "),
            run.stderr
        );
        run.expect(*code);
    }
    // A closed standard error is as quiet: the human diagnostics go there.
    let run = kgpc_into_closed_pipe(
        dir.path(),
        &["check", "bad.kgp", "--release", RELEASE],
        true,
    );
    run.expect(1);
    let run = kgpc_into_closed_pipe(
        dir.path(),
        &["compile", "fix.kgp", "-o", "out", "--release", RELEASE],
        true,
    );
    run.expect(0);
    assert!(dir.path().join("out/livepatch-sample.c").exists());
}

#[test]
fn output_that_cannot_be_written_is_exit_status_3() {
    let full = fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(["explain", "--list"])
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("cannot write to standard output"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
