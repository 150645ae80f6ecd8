//! Specs as they arrive: from standard input, not UTF-8, missing, empty or random, and what `check` reports about them (the release, JSON).

use super::*;

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
