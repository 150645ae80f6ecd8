//! `kgpc new --from-patch`: the spec it writes parses and is formatted; what
//! it refuses (a malformed patch, a patch outside the spec's directory, an
//! existing spec, no release); and, checked with `kgpc check` against the
//! real cached source of Debian's 6.1 kernel, a fix that applies, one that
//! applies with fuzz, a hunk that does not and a file the target lacks.

use super::{kgpc_in, RELEASE};
use std::fs;
use std::path::Path;

/// A 6.1 stable backport of a one-line change to `fs/proc/cmdline.c`.
const BACKPORT: &str = r#"From 3c1d2a8f4e5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d Mon Sep 17 00:00:00 2001
From: Jane Hacker <jane@example.org>
Date: Tue, 12 Mar 2024 10:21:07 +0100
Subject: [PATCH 6.1 3/9] proc: print the command line in one call

commit 0123456789abcdef0123456789abcdef01234567 upstream.

Fixes CVE-2024-99999.

Link: https://lore.kernel.org/r/20240312-cmdline@example.org
Signed-off-by: Jane Hacker <jane@example.org>
---
 fs/proc/cmdline.c | 3 +--
 1 file changed, 1 insertion(+), 2 deletions(-)

diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c
index 1234567..89abcde 100644
--- a/fs/proc/cmdline.c
+++ b/fs/proc/cmdline.c
@@ -6,8 +6,7 @@
 
 static int cmdline_proc_show(struct seq_file *m, void *v)
 {
-	seq_puts(m, saved_command_line);
-	seq_putc(m, '\n');
+	seq_printf(m, "%s\n", saved_command_line);
 	return 0;
 }
 
-- 
2.39.2
"#;

/// Runs `kgpc ARGS` in `dir` with an empty kernel cache.
fn new_in(dir: &Path, args: &[&str]) -> super::Run {
    let mut all = vec!["new"];
    all.extend_from_slice(args);
    kgpc_in(dir, &all, None)
}

#[test]
fn the_written_spec_is_formatted_and_parses() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("fixes")).unwrap();
    fs::write(dir.path().join("fixes/0003-cmdline.patch"), BACKPORT).unwrap();
    let run = new_in(
        dir.path(),
        &[
            "--from-patch",
            "fixes/0003-cmdline.patch",
            "-o",
            "cmdline.kgp",
            "--release",
            RELEASE,
        ],
    )
    .expect(0);
    assert_eq!(
        run.stderr,
        "Wrote cmdline.kgp; fill in its test block and check it with `kgpc check`.\n"
    );
    let spec = fs::read_to_string(dir.path().join("cmdline.kgp")).unwrap();
    for line in [
        "patch proc-print-the-command-line-in-one-call {",
        "    reference commit \"0123456789abcdef0123456789abcdef01234567\"",
        "    reference cve \"CVE-2024-99999\"",
        "    reference url \"https://lore.kernel.org/r/20240312-cmdline@example.org\"",
        "    author \"Jane Hacker <jane@example.org>\"",
        "    release \"6.1.0-*-cloud-amd64\"",
        "fix \"fixes/0003-cmdline.patch\"",
    ] {
        assert!(
            spec.lines().any(|l| l == line),
            "no line {line:?} in\n{spec}"
        );
    }
    kgpc_in(dir.path(), &["fmt", "--check", "cmdline.kgp"], None).expect(0);
    // With no source in the cache, the check gets as far as applying the fix.
    let checked = kgpc_in(
        dir.path(),
        &["check", "cmdline.kgp", "--release", RELEASE],
        None,
    );
    let errors: Vec<&str> = checked
        .stderr
        .lines()
        .filter(|l| l.starts_with("error["))
        .collect();
    assert_eq!(
        errors,
        ["error[KGP0118]: the fix is applied to the source of 6.1.0-999-cloud-amd64, which is not in the kgpc cache"],
        "{}",
        checked.stderr
    );
    let printed = new_in(
        dir.path(),
        &[
            "--from-patch",
            "fixes/0003-cmdline.patch",
            "--release",
            RELEASE,
        ],
    )
    .expect(0);
    assert_eq!(printed.stdout, spec, "without -o the same spec is printed");
}

#[test]
fn with_inline_the_spec_holds_the_diff_and_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let patch = outside.path().join("0003-cmdline.patch");
    fs::write(&patch, BACKPORT).unwrap();
    let patch = patch.to_str().unwrap();
    let args = ["--from-patch", patch, "--inline", "--release", RELEASE];
    let run = new_in(dir.path(), &[&args[..], &["-o", "cmdline.kgp"]].concat()).expect(0);
    assert!(
        run.stderr.starts_with("Wrote cmdline.kgp"),
        "{}",
        run.stderr
    );
    let spec = fs::read_to_string(dir.path().join("cmdline.kgp")).unwrap();
    // The message as comments, then the diff from its `diff --git` line to
    // the last hunk, without the mail's signature.
    let diff = &BACKPORT[BACKPORT.find("diff --git").unwrap()..BACKPORT.find("-- \n2.39").unwrap()];
    assert!(
        spec.contains(&format!("fix \"\"\"\n{diff}\"\"\"\n")),
        "{spec}"
    );
    assert!(spec.contains("# Fixes CVE-2024-99999.\n"), "{spec}");
    assert!(!spec.contains("2.39.2"), "{spec}");
    kgpc_in(dir.path(), &["fmt", "--check", "cmdline.kgp"], None).expect(0);
    // A diff holding `"""` cannot be a text block, and nothing is written.
    let quoted = outside.path().join("0004-quotes.patch");
    fs::write(&quoted, BACKPORT.replace("\"%s\\n\"", "\"\"\"")).unwrap();
    let run = new_in(
        dir.path(),
        &[
            "--from-patch",
            quoted.to_str().unwrap(),
            "--inline",
            "--release",
            RELEASE,
            "-o",
            "quoted.kgp",
        ],
    )
    .expect(1);
    assert!(
        run.stderr.contains(
            "error[KGP0132]: cannot write the fix into the spec: the diff contains `\"\"\"`"
        ),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("quoted.kgp").exists());
}

#[test]
fn an_existing_spec_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.patch"), BACKPORT).unwrap();
    fs::write(dir.path().join("fix.kgp"), "mine\n").unwrap();
    let args = [
        "--from-patch",
        "fix.patch",
        "-o",
        "fix.kgp",
        "--release",
        RELEASE,
    ];
    let refused = new_in(dir.path(), &args).expect(3);
    assert!(
        refused.stderr.contains(
            "error[KGP0034]: cannot write `fix.kgp`: it exists; pass --force to replace it"
        ),
        "{}",
        refused.stderr
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("fix.kgp")).unwrap(),
        "mine\n"
    );
    new_in(dir.path(), &[&args[..], &["--force"]].concat()).expect(0);
    let spec = fs::read_to_string(dir.path().join("fix.kgp")).unwrap();
    assert!(spec.contains("fix \"fix.patch\""), "{spec}");
    assert_eq!(
        super::listing(dir.path()),
        ["fix.kgp", "fix.patch"],
        "no temporary file is left"
    );
}

#[test]
fn a_patch_outside_the_specs_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("spec")).unwrap();
    fs::write(dir.path().join("fix.patch"), BACKPORT).unwrap();
    let run = new_in(
        dir.path(),
        &[
            "--from-patch",
            "fix.patch",
            "-o",
            "spec/fix.kgp",
            "--release",
            RELEASE,
        ],
    )
    .expect_diagnostics();
    assert!(
        run.stderr.contains(
            "error[KGP0042]: the patch `fix.patch` is outside the spec's directory `spec`"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("copy the patch next to the spec"),
        "{}",
        run.stderr
    );
    assert!(super::listing(&dir.path().join("spec")).is_empty());
}

#[test]
fn a_malformed_patch_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let cut = BACKPORT.replace("+\tseq_printf(m, \"%s\\n\", saved_command_line);\n", "");
    fs::write(dir.path().join("fix.patch"), cut).unwrap();
    let run = new_in(
        dir.path(),
        &[
            "--from-patch",
            "fix.patch",
            "-o",
            "fix.kgp",
            "--release",
            RELEASE,
        ],
    )
    .expect_diagnostics();
    assert!(
        run.stderr.contains(
            "error[KGP0045]: the hunk's `@@` line counts 8 old and 7 new lines, but it holds 8 and 6"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("fix.patch:20:1"), "{}", run.stderr);
    assert_eq!(super::listing(dir.path()), ["fix.patch"]);
}

#[test]
fn without_a_release_or_a_cached_kernel_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.patch"), BACKPORT).unwrap();
    let run = new_in(dir.path(), &["--from-patch", "fix.patch"]).expect_diagnostics();
    assert!(
        run.stderr
            .contains("error[KGP0023]: no kernel release to write the spec for"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

/// The kgpc cache holding the source of Debian's 6.1 kernel, and its release.
fn cache_with_source() -> (std::path::PathBuf, &'static str) {
    let release = "6.1.0-57-cloud-amd64";
    let cache = kgpc::fetch::cache_dir();
    assert!(
        kgpc::fetch::source_ready(&cache, release).is_some(),
        "the source of {release} is not in the kgpc cache: run `kgpc kernel fetch --source {release}`"
    );
    (cache, release)
}

/// Writes a spec for `patch` with `kgpc new` and checks it with `kgpc
/// check` against the real cached source: the check's status and stderr.
fn new_and_check(patch: &str) -> (i32, String) {
    let (cache, release) = cache_with_source();
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.patch"), patch).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_kgpc"))
            .args(args)
            .current_dir(dir.path())
            .env("KGPC_CACHE_DIR", &cache)
            .env("KGPC_RUNNING_RELEASE", "")
            .env("NO_COLOR", "1")
            .output()
            .expect("kgpc runs");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code().unwrap_or(-1), err)
    };
    let (code, err) = run(&[
        "new",
        "--from-patch",
        "fix.patch",
        "-o",
        "fix.kgp",
        "--release",
        release,
    ]);
    assert_eq!(code, 0, "{err}");
    run(&["check", "fix.kgp"])
}

#[test]
fn against_the_real_source_a_fix_applies_and_what_does_not_is_an_error() {
    let (code, err) = new_and_check(BACKPORT);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no errors"), "{err}");

    let rebased_elsewhere = BACKPORT.replace("-\tseq_putc(m, '\\n');", "-\tseq_putc(m, '\\r');");
    let (code, err) = new_and_check(&rebased_elsewhere);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error[KGP0121]: hunk #1 of the fix does not apply to fs/proc/cmdline.c"),
        "{err}"
    );
    assert!(
        err.contains("most of its lines match at line 6 of the target's fs/proc/cmdline.c"),
        "{err}"
    );
    assert!(
        err.contains("`kgpc source cmdline_proc_show` prints what the target has"),
        "{err}"
    );

    let moved = BACKPORT.replace("fs/proc/cmdline.c", "fs/proc/cmdline_show.c");
    let (code, err) = new_and_check(&moved);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error[KGP0122]: the fix changes fs/proc/cmdline_show.c, which the target's source does not have"),
        "{err}"
    );

    let fuzzed = BACKPORT.replace(
        " static int cmdline_proc_show",
        " static  int cmdline_proc_show",
    );
    let (code, err) = new_and_check(&fuzzed);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "warning[KGP0121]: hunk #1 of the fix applies to fs/proc/cmdline.c only with fuzz 2"
        ),
        "{err}"
    );
}
