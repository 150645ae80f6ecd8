//! `kgpc review` and `kgpc diff`: their reports compared with golden files.
//!
//! - Every example and `tests/emit/full.kgp` is reviewed; the report goes to
//!   `tests/review/NAME.md`.
//! - Each line of `tests/review/diffs.txt` names two specs of
//!   `tests/review/` and extra arguments; `kgpc diff` output goes to
//!   `tests/review/OLD--NEW.out`.
//!
//! `KGPC_BLESS=1` rewrites the expected files.

mod common;

use common::{compare, root};
use std::fs;
use std::path::Path;
use std::process::Command;

fn kgpc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let cache = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .current_dir(dir)
        .env("KGPC_CACHE_DIR", cache.path())
        .env("KGPC_RUNNING_RELEASE", "6.1.0-1-cloud-amd64")
        .env("NO_COLOR", "1")
        .output()
        .expect("kgpc runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn reviews_match_golden_files() {
    let mut failures = Vec::new();
    let mut specs: Vec<String> = fs::read_dir(root().join("examples"))
        .unwrap()
        .flatten()
        .map(|e| format!("examples/{}", e.file_name().to_string_lossy()))
        .filter(|n| n.ends_with(".kgp"))
        .collect();
    specs.sort();
    specs.push("tests/emit/full.kgp".into());
    specs.push("tests/review/hostile-markdown.kgp".into());
    for spec in &specs {
        let (code, stdout, stderr) = kgpc(
            &root(),
            &["review", spec, "--release", "6.1.0-999-cloud-amd64"],
        );
        assert_eq!(code, 0, "{spec}: {stderr}");
        let stem = Path::new(spec)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        compare(
            &root().join("tests/review").join(format!("{stem}.md")),
            &stdout,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn review_reports_risks_a_reviewer_must_weigh() {
    let (_, report, _) = kgpc(
        &root(),
        &[
            "review",
            "examples/livepatch-callbacks-demo.kgp",
            "--release",
            "6.1.0-999-cloud-amd64",
        ],
    );
    assert!(
        report.contains("The `pre_patch` callback of vmlinux can fail"),
        "{report}"
    );
    assert!(
        report.contains("Not run: no debug vmlinux found for 6.1.0-999-cloud-amd64"),
        "{report}"
    );
    let (_, report, _) = kgpc(
        &root(),
        &[
            "review",
            "examples/livepatch-shadow-fix2.kgp",
            "--release",
            "6.1.0-999-cloud-amd64",
        ],
    );
    assert!(
        report.contains("| `counter` | 2 | `struct dummy` | replacement of `dummy_check()`"),
        "{report}"
    );
    assert!(
        report.contains("relies on another patch to create it"),
        "{report}"
    );
}

/// Spec text holding `|`, newlines, headings and HTML comments stays inside
/// its line and cell: the review has its own sections and nothing else, no
/// HTML comment opens, and every table row has its table's columns.
#[test]
fn spec_text_cannot_forge_or_hide_review_sections() {
    let (code, report, stderr) = kgpc(
        &root(),
        &[
            "review",
            "tests/review/hostile-markdown.kgp",
            "--release",
            "6.1.0-999-cloud-amd64",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let headings: Vec<&str> = report.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headings,
        [
            "# Live patch review: `livepatch-hostile-markdown`",
            "## Replaced functions",
            "## New code",
            "## Checks against the kernel",
            "## Risks to weigh",
        ],
        "{report}"
    );
    let unescaped = |line: &str, what: char| {
        let mut count = 0;
        let mut escaped = false;
        for c in line.chars() {
            count += usize::from(c == what && !escaped);
            escaped = c == '\\' && !escaped;
        }
        count
    };
    let mut columns = None;
    for line in report.lines() {
        assert_eq!(
            unescaped(line, '<'),
            0,
            "an HTML tag or comment opens: {line}"
        );
        if line.starts_with('|') {
            let cells = unescaped(line, '|');
            assert_eq!(
                *columns.get_or_insert(cells),
                cells,
                "a cell was split: {line}"
            );
        } else {
            columns = None;
        }
        if line.starts_with('>') {
            let quoted = line.trim_start_matches('>').trim_start();
            assert!(
                !quoted.starts_with(['#', '-', '=', '<', '>', '*', '+']),
                "a quoted line opens a block: {line}"
            );
        }
    }
}

#[test]
fn review_as_json_is_one_object_per_line() {
    let (code, stdout, _) = kgpc(
        &root(),
        &[
            "review",
            "examples/livepatch-sample.kgp",
            "--release",
            "6.1.0-999-cloud-amd64",
            "--message-format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(summary["summary"]["command"], "review", "{stdout}");
    let value: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert!(value["report"]
        .as_str()
        .unwrap()
        .starts_with("# Live patch review: `livepatch-sample`"));
}

#[test]
fn diffs_match_golden_files() {
    let dir = root().join("tests/review");
    let list = fs::read_to_string(dir.join("diffs.txt")).unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    for line in list
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        let mut args = vec!["diff"];
        args.extend(&words);
        let (code, stdout, stderr) = kgpc(&dir, &args);
        let name = format!(
            "{}--{}.out",
            words[0].trim_end_matches(".kgp"),
            words[1].trim_end_matches(".kgp")
        );
        compare(
            &dir.join(name),
            &format!("exit status: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}"),
            &mut failures,
        );
        cases += 1;
    }
    assert!(cases >= 3);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// With the target's debug vmlinux, the review says what was checked against
/// the real kernel and lists the kernel's findings among the risks.
#[test]
fn review_with_the_debian_vmlinux_reports_kernel_checks() {
    let vmlinux = common::debian_kernel("vmlinux").display().to_string();
    let release = vmlinux.rsplit("vmlinux-").next().unwrap().to_string();
    let (code, report, stderr) = kgpc(
        &root(),
        &[
            "review",
            "examples/livepatch-shadow-fix1.kgp",
            "--release",
            &release,
            "--vmlinux",
            &vmlinux,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        report.contains(&format!(
            "The target's release, build id and architecture were checked against `{vmlinux}` (build id `"
        )),
        "{report}"
    );
    assert!(!report.contains("Not run"), "{report}");
    // The sample's target module is not part of Debian's kernel: the review
    // says its functions were not checked, and never that they were.
    assert!(report.contains("(KGP0110)"), "{report}");
    assert!(
        report.contains("| livepatch_shadow_mod | not checked: no object of module `livepatch_shadow_mod` found in "),
        "{report}"
    );
    assert!(
        report.contains("No object of the spec was checked"),
        "{report}"
    );
    assert!(!report.contains("| livepatch_shadow_mod | `/"), "{report}");
}

/// The review lists every file the spec reads, as the generated C's header does:
/// the same files, by their SHA-256, in the same order.
#[test]
fn review_lists_every_file_the_generated_header_lists() {
    let out = tempfile::tempdir().unwrap();
    for spec in ["tests/emit/full.kgp", "examples/livepatch-shadow-fix2.kgp"] {
        let dir = out.path().join(Path::new(spec).file_stem().unwrap());
        let dir = dir.to_str().unwrap();
        let release = "6.1.0-999-cloud-amd64";
        let (code, _, stderr) = kgpc(&root(), &["compile", spec, "-o", dir, "--release", release]);
        assert_eq!(code, 0, "{spec}: {stderr}");
        let c = fs::read_dir(dir)
            .unwrap()
            .flatten()
            .find(|e| e.path().extension().is_some_and(|x| x == "c"))
            .map(|e| fs::read_to_string(e.path()).unwrap())
            .unwrap();
        let hash = |line: &str| {
            let after = line.rsplit("sha256 ").next().unwrap();
            after.trim_start_matches('`')[..16].to_string()
        };
        let header: Vec<String> = c
            .lines()
            .filter(|l| l.starts_with(" * Reads:"))
            .map(hash)
            .collect();
        let (code, review, stderr) = kgpc(&root(), &["review", spec, "--release", release]);
        assert_eq!(code, 0, "{spec}: {stderr}");
        let listed: Vec<String> = review
            .lines()
            .filter(|l| l.starts_with("| Reads |"))
            .map(hash)
            .collect();
        // full.kgp reads a standard module, an import, std/api and a body file.
        assert!(
            header.len() >= if spec.contains("full") { 4 } else { 1 },
            "{spec}: {c}"
        );
        assert_eq!(header, listed, "{spec}:\n{review}");
    }
}
