//! What a spec may read: FIFOs, devices and huge files, files outside its tree and `--allow-path`, files that are not text.

use super::*;

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
