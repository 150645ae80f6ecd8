//! Tests of the command line as a user meets it: subcommands other than
//! `check`, input that is not a spec at all, and the writing of output.
//!
//! The messages of `kgpc check` are compared with golden files in
//! `tests/golden.rs`; here only exit statuses, codes and invariants are
//! checked, such as "never panics" and "never touches a user's file".

mod common;

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

// ------------------------------------------------------------ compile output

#[test]
fn compile_writes_into_a_new_directory() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    kgpc_in(
        dir.path(),
        &["compile", "fix.kgp", "-o", "out", "--release", RELEASE],
        None,
    )
    .expect(0);
    assert_eq!(
        listing(&dir.path().join("out")),
        [".kgpc-manifest", "Kbuild", "Makefile", "livepatch-sample.c"]
    );
    // A second compile replaces kgpc's own files without complaint.
    kgpc_in(
        dir.path(),
        &["compile", "fix.kgp", "-o", "out", "--release", RELEASE],
        None,
    )
    .expect(0);
}

#[test]
fn compile_refuses_a_directory_holding_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine, not kgpc's\n").unwrap();

    let run = kgpc_in(
        dir.path(),
        &["compile", "fix.kgp", "-o", "out", "--release", RELEASE],
        None,
    )
    .expect(3);
    assert!(run.stderr.contains("error[KGP0028]"), "{}", run.stderr);
    assert!(run.stderr.contains("notes.txt"), "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);

    // Nothing was written, and the user's file is untouched.
    assert_eq!(listing(&out), ["notes.txt"]);
    assert_eq!(
        fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine, not kgpc's\n"
    );
    // No staging directory is left behind either.
    assert_eq!(listing(dir.path()), ["fix.kgp", "out"]);
}

#[test]
fn compile_refuses_generated_files_edited_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    let args = ["compile", "fix.kgp", "-o", "out", "--release", RELEASE];
    kgpc_in(dir.path(), &args, None).expect(0);
    let c_file = dir.path().join("out/livepatch-sample.c");
    fs::write(&c_file, "/* my own fix */\n").unwrap();

    let run = kgpc_in(dir.path(), &args, None).expect(3);
    assert!(run.stderr.contains("error[KGP0028]"), "{}", run.stderr);
    assert!(run.stderr.contains("edited"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(&c_file).unwrap(), "/* my own fix */\n");

    // --force overwrites it.
    let mut forced = args.to_vec();
    forced.push("--force");
    kgpc_in(dir.path(), &forced, None).expect(0);
    assert_ne!(fs::read_to_string(&c_file).unwrap(), "/* my own fix */\n");
}

#[test]
fn compile_below_a_regular_file_is_an_output_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    fs::write(dir.path().join("plain"), "a regular file\n").unwrap();

    let run = kgpc_in(
        dir.path(),
        &[
            "compile",
            "fix.kgp",
            "-o",
            "plain/out",
            "--release",
            RELEASE,
        ],
        None,
    )
    .expect(3);
    assert!(run.stderr.contains("error[KGP0034]"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("plain")).unwrap(),
        "a regular file\n"
    );
    assert_eq!(listing(dir.path()), ["fix.kgp", "plain"]);
}

#[test]
fn compile_onto_a_regular_file_is_an_output_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    fs::write(dir.path().join("plain"), "a regular file\n").unwrap();

    let run = kgpc_in(
        dir.path(),
        &["compile", "fix.kgp", "-o", "plain", "--release", RELEASE],
        None,
    )
    .expect(3);
    assert!(run.stderr.contains("error[KGP0034]"), "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("plain")).unwrap(),
        "a regular file\n"
    );
}

#[test]
fn compile_with_spec_errors_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("fix.kgp"),
        SPEC.replace("arch x86_64", "arch x86_46"),
    )
    .unwrap();
    let run = kgpc_in(
        dir.path(),
        &["compile", "fix.kgp", "-o", "out", "--release", RELEASE],
        None,
    )
    .expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0022]"), "{}", run.stderr);
    assert_eq!(listing(dir.path()), ["fix.kgp"]);
}

// ------------------------------------------------------------ other subcommands

#[test]
fn explain_prints_the_explanation() {
    let run = kgpc(&["explain", "KGP0012"]).expect(0);
    assert!(run.stdout.starts_with("# KGP0012"), "{}", run.stdout);
    assert!(run.stdout.contains("```kgp"), "{}", run.stdout);
    // Codes are accepted in any case.
    let lower = kgpc(&["explain", "kgp0012"]).expect(0);
    assert_eq!(lower.stdout, run.stdout);
}

#[test]
fn explain_rejects_an_unknown_code_with_help() {
    let run = kgpc(&["explain", "KGP9999"]).expect(2);
    assert!(run.stderr.contains("KGP9999"), "{}", run.stderr);
    assert!(run.stderr.contains("help:"), "{}", run.stderr);
    assert!(run.stderr.contains("--list"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

#[test]
fn explain_lists_every_code_with_a_title() {
    let run = kgpc(&["explain", "--list"]).expect(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    // Codes are listed in increasing order; KGP0029 and KGP0033 were dropped
    // before the first release and never come back.
    let codes: Vec<String> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    assert!(codes.len() >= 33, "{}", run.stdout);
    assert!(
        codes.windows(2).all(|w| w[0] < w[1]),
        "codes are not in order: {codes:?}"
    );
    assert!(
        !codes.iter().any(|c| c == "KGP0029" || c == "KGP0033"),
        "dropped codes are back"
    );
    for (line, code) in lines.iter().zip(&codes) {
        assert!(line.starts_with(code.as_str()), "{line}");
        assert!(line.len() > code.len() + 2, "{code} has no title");
        // Every listed code is explained, with its title as the heading.
        let title = line[code.len()..].trim();
        let explained = kgpc(&["explain", code]).expect(0);
        assert_eq!(
            explained.stdout.lines().next().unwrap(),
            format!("# {code}: {title}"),
        );
    }
}

#[test]
fn help_shows_examples() {
    let run = kgpc(&["--help"]).expect(0);
    assert!(run.stdout.contains("Examples"), "{}", run.stdout);
    assert!(run.stdout.contains("Exit status"), "{}", run.stdout);
}

#[test]
fn completions_are_printed() {
    let run = kgpc(&["completions", "bash"]).expect(0);
    assert!(run.stdout.contains("kgpc"), "{}", run.stdout);
}

#[test]
fn a_wrong_command_line_exits_with_2() {
    kgpc(&["check"]).expect(2);
    kgpc(&["frobnicate"]).expect(2);
    kgpc(&["check", "fix.kgp", "--message-format", "xml"]).expect(2);
}

// ------------------------------------------------------------ closed pipes

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

// ------------------------------------------------------------ reading specs

#[test]
fn check_reads_the_spec_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let run = kgpc_in(
        dir.path(),
        &["check", "-", "--release", RELEASE],
        Some(SPEC.as_bytes()),
    )
    .expect(0);
    assert!(
        run.stderr.contains("Checked livepatch-sample"),
        "{}",
        run.stderr
    );

    // Diagnostics name the input `<stdin>`.
    let broken = SPEC.replace("description", "descripton");
    let run = kgpc_in(
        dir.path(),
        &["check", "-", "--release", RELEASE],
        Some(broken.as_bytes()),
    )
    .expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0003]"), "{}", run.stderr);
    assert!(run.stderr.contains("<stdin>:2:5"), "{}", run.stderr);
}

#[test]
fn a_spec_from_standard_input_cannot_import_relative_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("_common.kgp"), "include <linux/printk.h>\n").unwrap();
    let spec = format!("import \"_common.kgp\"\n{SPEC}");
    let run = kgpc_in(
        dir.path(),
        &["check", "-", "--release", RELEASE],
        Some(spec.as_bytes()),
    )
    .expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0015]"), "{}", run.stderr);
    // The standard library needs no directory.
    let spec = format!("import std/shadow_lock\n{SPEC}");
    kgpc_in(
        dir.path(),
        &["check", "-", "--release", RELEASE],
        Some(spec.as_bytes()),
    )
    .expect(0);
}

#[test]
fn non_utf8_standard_input_is_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let run = kgpc_in(
        dir.path(),
        &["check", "-", "--release", RELEASE],
        Some(b"patch caf\xe9 {\n}\n"),
    )
    .expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0018]"), "{}", run.stderr);
}

#[test]
fn a_non_utf8_spec_is_unreadable() {
    let mut latin1 = SPEC.as_bytes().to_vec();
    // "café" in ISO 8859-1 inside the description.
    let at = SPEC.find("live patched").unwrap();
    latin1.splice(at..at, b"caf\xe9 ".iter().copied());
    let run = check_bytes(&latin1).expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0018]"), "{}", run.stderr);
    assert!(run.stderr.contains("not UTF-8"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("offset {}", at + 3)),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_spec_is_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let run = kgpc_in(dir.path(), &["check", "no-such-spec.kgp"], None).expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0018]"), "{}", run.stderr);
    assert!(run.stderr.contains("no-such-spec.kgp"), "{}", run.stderr);
    assert!(run.stderr.contains("help:"), "{}", run.stderr);
}

#[test]
fn a_directory_is_not_a_spec() {
    let dir = tempfile::tempdir().unwrap();
    let run = kgpc_in(dir.path(), &["check", "."], None).expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0018]"), "{}", run.stderr);
}

#[test]
fn an_empty_spec_lacks_patch_and_target() {
    for text in ["", "\n", "   \n\t\n", "# only a comment\n"] {
        let run = check_bytes(text.as_bytes()).expect_diagnostics();
        assert!(
            run.stderr.contains("error[KGP0005]"),
            "{text:?}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("error[KGP0006]"),
            "{text:?}: {}",
            run.stderr
        );
    }
}

/// A small deterministic generator, so that failures can be replayed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as u8
    }
}

#[test]
fn random_bytes_give_diagnostics_not_a_crash() {
    let mut rng = Lcg(0x6b67_7063);
    for round in 0..20 {
        let mut bytes: Vec<u8> = (0..64 + round * 50).map(|_| rng.next()).collect();
        bytes.push(0xff); // never valid UTF-8
        let run = check_bytes(&bytes).expect_diagnostics();
        assert!(run.stderr.contains("error[KGP0018]"), "{}", run.stderr);
    }
}

#[test]
fn garbage_text_gives_diagnostics_not_a_crash() {
    const ALPHABET: &[u8] = b"{}()[]<>\"'\\#*/|;:,.-_ \t\n\rabcxyz0189";
    const WORDS: &[&str] = &[
        "patch",
        "target",
        "object",
        "replace",
        "shadow",
        "template",
        "state",
        "helper",
        "data",
        "api",
        "import",
        "include",
        "like",
        "for",
        "id",
        "sympos",
        "in",
        "body",
        "release",
        "arch",
        "version",
        "extern",
        "pre_patch",
        "std/",
        "0x",
        "é",
        "\u{feff}",
    ];
    let mut rng = Lcg(42);
    for round in 0..150 {
        let mut text = String::new();
        for _ in 0..(20 + round * 3) {
            let r = rng.next();
            if r < 60 {
                text.push_str(WORDS[usize::from(rng.next()) % WORDS.len()]);
                text.push(' ');
            } else {
                text.push(char::from(ALPHABET[usize::from(r) % ALPHABET.len()]));
            }
        }
        let run = check_bytes(text.as_bytes());
        assert!(
            !run.stderr.contains("panicked"),
            "kgpc panicked on {text:?}:\n{}",
            run.stderr
        );
        assert_eq!(run.code, 1, "{text:?}:\n{}", run.stderr);
    }
}

#[test]
fn broken_specs_give_diagnostics_not_a_crash() {
    let deep = format!(
        "{}{}{}",
        SPEC.replace("return 0;\n    }\n}", "return 0;"),
        "{".repeat(50_000),
        "}".repeat(50_000)
    );
    let cases: Vec<String> = vec![
        "patch".into(),
        "patch x".into(),
        "patch x {".into(),
        "patch x { description".into(),
        "patch x { description \"unterminated }".into(),
        "patch x { description \"ends in a backslash\\".into(),
        "target { release }".into(),
        "target { release \"\" arch x86_64 }".into(),
        "object vmlinux { replace".into(),
        "object vmlinux { replace int f(void".into(),
        "object vmlinux { replace int f(void) {".into(),
        "object vmlinux { replace int f(void) { /* } */".into(),
        "object vmlinux { extern ; }".into(),
        "shadow s for { }".into(),
        "shadow s for struct x like { }".into(),
        "state { id 1 }".into(),
        "include <".into(),
        "import".into(),
        "import std/".into(),
        "import \"\"".into(),
        "import \"/\"".into(),
        "api x since".into(),
        "}}}}".into(),
        "\u{feff}patch x { }".into(),
        "\0\0\0".into(),
        "patch x {\r\n description \"crlf\"\r\n}\r\n".into(),
        SPEC.replace("6.1.0-*-cloud-amd64", ""),
        SPEC.replace(
            "    arch x86_64\n",
            "    arch x86_64\n    version 99999999999.1\n",
        ),
        SPEC.replace(
            "    arch x86_64\n",
            "    arch x86_64\n    version 6.1.99999999999\n",
        ),
        SPEC.replace("}\n\ntarget", "}\n\ntarget {\n}\n\ntarget"),
        deep,
    ];
    for text in cases {
        let run = check_bytes(text.as_bytes());
        let shown: String = text.chars().take(200).collect();
        assert!(
            !run.stderr.contains("panicked"),
            "kgpc panicked on {shown:?}:\n{}",
            run.stderr
        );
        assert_eq!(run.code, 1, "{shown:?}:\n{}", run.stderr);
        assert!(
            run.stderr.contains("error[KGP"),
            "{shown:?}:\n{}",
            run.stderr
        );
    }
}

/// The golden files of KGP0023 show the releases of the machine that blessed
/// them; this test holds on any machine.
#[test]
fn a_release_must_be_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let old = SPEC.replace("6.1.0-*-cloud-amd64", "4.9.0-*-cloud-amd64");
    fs::write(dir.path().join("fix.kgp"), &old).unwrap();
    let run = kgpc_in(dir.path(), &["check", "fix.kgp"], None).expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0023]"), "{}", run.stderr);
    assert!(run.stderr.contains("--release"), "{}", run.stderr);

    // --release must match the spec.
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    let run = kgpc_in(
        dir.path(),
        &["check", "fix.kgp", "--release", "6.1.0-999-amd64"],
        None,
    )
    .expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0023]"), "{}", run.stderr);

    // Without --release, the running kernel is taken when a pattern matches it.
    let cache = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(["check", "fix.kgp"])
        .current_dir(dir.path())
        .env("KGPC_CACHE_DIR", cache.path())
        .env("KGPC_RUNNING_RELEASE", "6.1.0-58-cloud-amd64")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("6.1.0-58-cloud-amd64 (the running kernel)"),
        "{stderr}"
    );

    // A single literal release needs no --release.
    let literal = SPEC.replace("6.1.0-*-cloud-amd64", "6.1.0-57-cloud-amd64");
    fs::write(dir.path().join("fix.kgp"), literal).unwrap();
    let run = kgpc_in(dir.path(), &["check", "fix.kgp"], None).expect(0);
    assert!(
        run.stderr
            .contains("6.1.0-57-cloud-amd64 (the only release the spec names)"),
        "{}",
        run.stderr
    );
}

/// The last JSON record says what was checked against what, and what was written.
#[test]
fn json_output_ends_with_a_summary_record() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    let last = |stdout: &str| -> serde_json::Value {
        let line = stdout.lines().last().expect("a summary record");
        serde_json::from_str::<serde_json::Value>(line).unwrap()["summary"].clone()
    };
    let run = kgpc_in(
        dir.path(),
        &[
            "check",
            "fix.kgp",
            "--release",
            RELEASE,
            "--no-kernel-checks",
            "--message-format",
            "json",
        ],
        None,
    )
    .expect(0);
    let summary = last(&run.stdout);
    assert_eq!(summary["command"], "check");
    assert_eq!(summary["status"], "ok");
    assert_eq!(summary["release"], RELEASE);
    assert_eq!(summary["release_source"], "given with --release");
    assert_eq!(summary["checked"], false);
    assert_eq!(summary["kernel_checks"]["ran"], false);
    assert_eq!(
        summary["kernel_checks"]["skipped"],
        "--no-kernel-checks was given"
    );
    assert_eq!(summary["files"], serde_json::json!([]));
    // Without a vmlinux: skipped, and why.
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args([
            "compile",
            "fix.kgp",
            "--release",
            RELEASE,
            "-o",
            "out",
            "--message-format",
            "json",
        ])
        .current_dir(dir.path())
        .env("KGPC_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let summary = last(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(summary["command"], "compile");
    assert!(
        summary["kernel_checks"]["skipped"]
            .as_str()
            .unwrap()
            .starts_with(&format!("no debug vmlinux found for {RELEASE}")),
        "{summary}"
    );
    assert_eq!(
        summary["files"],
        serde_json::json!(["out/livepatch-sample.c", "out/Kbuild", "out/Makefile"])
    );
    assert!(summary["module"].is_null());
}

#[test]
fn json_diagnostics_are_one_object_per_line() {
    let broken = SPEC
        .replace("description", "descripton")
        .replace("arch x86_64", "arch x86_46");
    let dir = tempfile::tempdir().unwrap();
    let run = kgpc_in(
        dir.path(),
        &[
            "check",
            "-",
            "--release",
            RELEASE,
            "--message-format",
            "json",
        ],
        Some(broken.as_bytes()),
    )
    .expect(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let (summary, diagnostics) = lines.split_last().expect("output");
    let summary: serde_json::Value = serde_json::from_str(summary).expect("a JSON object");
    assert_eq!(summary["summary"]["status"], "error", "{summary}");
    assert_eq!(summary["summary"]["errors"], 2, "{summary}");
    assert_eq!(summary["summary"]["checked"], false, "{summary}");
    let codes: Vec<String> = diagnostics
        .iter()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).expect("a JSON object");
            assert_eq!(value["severity"], "error", "{line}");
            assert!(value["spans"][0]["line_start"].is_u64(), "{line}");
            value["code"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(codes, ["KGP0003", "KGP0022"]);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

/// A spec that imports `import` (when given) and whose replacement has `body`.
fn spec_reading(import: Option<&str>, body: &str) -> String {
    let import = import.map_or(String::new(), |i| format!("import \"{i}\"\n"));
    format!(
        "{import}{}",
        SPEC.replace(
            "{\n        seq_printf(m, \"%s\\n\", \"this has been live patched\");\n        return 0;\n    }",
            body
        )
    )
}

const BODY: &str = "{ return 0; }";

/// Checks `spec.kgp` in `tree` (written with `text`) with `extra` arguments, bounded in time.
fn check_in_tree(tree: &Path, text: &str, extra: &[&str]) -> Run {
    fs::write(tree.join("spec.kgp"), text).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut args = vec!["check", "spec.kgp", "--release", RELEASE];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = common::kgpc_bounded(tree, cache.path(), &[], &args);
    Run {
        code,
        stdout,
        stderr,
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn fifos_devices_and_huge_files_are_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path();
    mkfifo(&tree.join("fifo.kgp"));
    let cases: Vec<(String, Vec<&str>, &str)> = vec![
        (
            spec_reading(Some("fifo.kgp"), BODY),
            vec![],
            "it is a FIFO, not a regular file",
        ),
        (
            spec_reading(None, "body \"fifo.kgp\""),
            vec![],
            "it is a FIFO, not a regular file",
        ),
        (
            spec_reading(Some("/dev/zero"), BODY),
            vec!["--allow-path", "/dev"],
            "it is a character device, not a regular file",
        ),
        (
            spec_reading(None, "body \"/dev/zero\""),
            vec!["--allow-path", "/dev"],
            "it is a character device, not a regular file",
        ),
        (
            spec_reading(Some("huge.kgp"), BODY),
            vec![],
            "larger than the limit of 4 MiB",
        ),
    ];
    fs::write(tree.join("huge.kgp"), vec![b' '; (4 << 20) + 1]).unwrap();
    for (text, extra, message) in &cases {
        let run = check_in_tree(tree, text, extra).expect_diagnostics();
        assert!(run.stderr.contains("error[KGP0041]"), "{}", run.stderr);
        assert!(run.stderr.contains(message), "{message}: {}", run.stderr);
    }
    // The spec itself, for check and fmt, and the FIFO as a vmlinux.
    let cache = tempfile::tempdir().unwrap();
    for args in [
        vec!["check", "fifo.kgp"],
        vec!["fmt", "--check", "fifo.kgp"],
    ] {
        let (code, _, stderr) = common::kgpc_bounded(tree, cache.path(), &[], &args);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains("error[KGP0041]") && stderr.contains("FIFO"),
            "{stderr}"
        );
    }
    fs::write(tree.join("spec.kgp"), spec_reading(None, BODY)).unwrap();
    let (code, _, stderr) = common::kgpc_bounded(
        tree,
        cache.path(),
        &[],
        &[
            "check",
            "spec.kgp",
            "--release",
            RELEASE,
            "--vmlinux",
            "fifo.kgp",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("error[KGP0100]"), "{stderr}");
    assert!(
        stderr.contains("it is a FIFO, not a regular file"),
        "{stderr}"
    );
}

#[test]
fn a_spec_reads_only_inside_its_directory_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let outside = dir.path().join("outside");
    fs::create_dir_all(tree.join("sub")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(
        outside.join("secret.kgp"),
        "# SECRET-LINE\ninclude <linux/printk.h>\n",
    )
    .unwrap();
    fs::write(outside.join("secret.c"), "{ /* SECRET-LINE */ return 0; }").unwrap();
    std::os::unix::fs::symlink("../outside/secret.kgp", tree.join("link.kgp")).unwrap();
    std::os::unix::fs::symlink("../outside", tree.join("linked-dir")).unwrap();
    let absolute = outside.join("secret.kgp").display().to_string();
    let refused = [
        spec_reading(Some("../outside/secret.kgp"), BODY),
        spec_reading(Some(&absolute), BODY),
        spec_reading(Some("sub/../../outside/secret.kgp"), BODY),
        spec_reading(Some("link.kgp"), BODY),
        spec_reading(Some("linked-dir/secret.kgp"), BODY),
        spec_reading(None, "body \"../outside/secret.c\""),
        spec_reading(None, "body \"linked-dir/secret.c\""),
    ];
    for text in &refused {
        let run = check_in_tree(&tree, text, &[]).expect_diagnostics();
        assert!(
            run.stderr.contains("error[KGP0042]"),
            "{text}\n{}",
            run.stderr
        );
        assert!(run.stderr.contains("--allow-path"), "{}", run.stderr);
        assert!(!run.stderr.contains("SECRET-LINE"), "{}", run.stderr);
    }
    // `..` that stays inside the tree is fine, from an import in a subdirectory too.
    fs::write(tree.join("sub/a.kgp"), "import \"../b.kgp\"\n").unwrap();
    fs::write(tree.join("b.kgp"), "include <linux/printk.h>\n").unwrap();
    check_in_tree(&tree, &spec_reading(Some("sub/../sub/a.kgp"), BODY), &[]).expect(0);
    // --allow-path widens the tree: each refused read then works.
    let allowed = outside.display().to_string();
    for text in &refused {
        let run = check_in_tree(&tree, text, &["--allow-path", &allowed]);
        assert_eq!(run.code, 0, "{text}\n{}", run.stderr);
    }
    let run =
        check_in_tree(&tree, &refused[0], &["--allow-path", "no-such-dir"]).expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0018]"), "{}", run.stderr);
    assert!(run.stderr.contains("no-such-dir"), "{}", run.stderr);
}

#[test]
fn files_that_are_not_text_are_named_but_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path();
    fs::write(
        tree.join("nul.kgp"),
        b"root:SECRET-HASH:19000::\0HOME=/root\n",
    )
    .unwrap();
    fs::write(
        tree.join("latin1.kgp"),
        b"patch SECRET-NAME { description \"caf\xe9\" }\n",
    )
    .unwrap();
    fs::write(tree.join("nul.c"), b"{ SECRET-BODY\0 }").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let texts = [
        (spec_reading(Some("nul.kgp"), BODY), "KGP0015", "nul.kgp"),
        (
            spec_reading(Some("latin1.kgp"), BODY),
            "KGP0015",
            "latin1.kgp",
        ),
        (spec_reading(None, "body \"nul.c\""), "KGP0018", "nul.c"),
        (
            spec_reading(Some("/proc/self/environ"), BODY),
            "KGP0015",
            "/proc/self/environ",
        ),
    ];
    for (text, code, name) in &texts {
        fs::write(tree.join("spec.kgp"), text).unwrap();
        for format in ["human", "json"] {
            let (status, stdout, stderr) = common::kgpc_bounded(
                tree,
                cache.path(),
                &[("KGPC_TEST_SECRET", "SECRET-ENVIRONMENT")],
                &[
                    "check",
                    "spec.kgp",
                    "--release",
                    RELEASE,
                    "--allow-path",
                    "/proc",
                    "--message-format",
                    format,
                ],
            );
            let all = format!("{stdout}{stderr}");
            assert_eq!(status, 1, "{all}");
            assert!(all.contains(code) && all.contains(name), "{all}");
            assert!(!all.contains("SECRET"), "{all}");
        }
    }
}
