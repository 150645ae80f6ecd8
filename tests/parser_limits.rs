//! The parser's limits: its work stays linear in the input, whatever the
//! input, and no nesting runs a stack out.
//!
//! The work is counted, not timed: pest's call limit caps the rule calls of
//! each run of pest, and the parser reports how many bytes its runs read.

mod common;

use common::root;
use kgpc::codes::Code;
use kgpc::source::FileId;
use kgpc::syntax::parse_measured;
use std::num::NonZeroUsize;
use std::process::Command;

/// A valid start of a spec, for the shapes that break only what follows.
const HEAD: &str =
    "patch p { description \"x\" }\ntarget { release \"6.1.0-1-cloud-amd64\" arch x86_64 }\n";

/// Inputs that once made recovery rescan the rest of the file at each line:
/// a name and the text repeated `n` times after a head.
fn shapes(n: usize) -> Vec<(&'static str, String)> {
    let rep = |head: &str, line: &str| format!("{HEAD}{head}{}", line.repeat(n));
    vec![
        ("unclosed braces in a bad entry", rep("target {\n", "{")),
        (
            "unclosed replace bodies",
            rep("object v {\n", "replace int f(void) {\n"),
        ),
        ("unclosed object blocks", rep("", "object x {\n")),
        (
            "unclosed parameter lists",
            rep("object v {\n", "replace int f(\n"),
        ),
        ("unclosed comments in a body", rep("data {\n", "/*\n")),
        (
            "escaped quotes in an unclosed string",
            rep("data {\n\"", "\\\""),
        ),
        (
            "prototypes without parameters",
            rep("object v {\n", "replace a\n"),
        ),
        (
            "unclosed array declarators",
            rep("object v {\n", "extern int x[\n"),
        ),
        ("unclosed helper prototypes", rep("", "helper int f(\n")),
        ("unclosed callbacks", rep("object v {\n", "pre_patch {\n")),
        (
            "unclosed payloads",
            rep("shadow x for int {\n", "payload {\n"),
        ),
        (
            "strings continued over lines",
            rep("patch q {\n", "description \"\\\n"),
        ),
        (
            "unclosed extern parentheses",
            rep("object v {\n", "extern int (\n"),
        ),
        ("unclosed shadow types", rep("", "shadow x for int\n")),
    ]
}

#[test]
fn recovery_work_is_linear_in_the_input() {
    for n in [300, 3000] {
        for (name, text) in shapes(n) {
            // About a hundred rule calls a byte suffice; a rescan at every line of
            // 3000 would take thousands.
            let calls = NonZeroUsize::new(300 * text.len() + 100_000).unwrap();
            pest::set_call_limit(Some(calls));
            let (_, diagnostics, work) = parse_measured(FileId(0), &text);
            pest::set_call_limit(None);
            assert!(
                !diagnostics.iter().any(|d| d.code == Code::NestingTooDeep),
                "{name} (n = {n}): pest needed more than {calls} calls for {} bytes",
                text.len()
            );
            assert!(
                work.bytes <= 6 * text.len() + 1000,
                "{name} (n = {n}): the parser read {} bytes of {}",
                work.bytes,
                text.len()
            );
            assert!(
                work.runs <= 3 * text.lines().count() + 10,
                "{name} (n = {n}): pest ran {} times over {} lines",
                work.runs,
                text.lines().count()
            );
        }
    }
}

/// A spec holding `open` 100,000 times, then `close` as many times.
fn nested(before: &str, open: &str, close: &str) -> String {
    format!(
        "{HEAD}{before}{}{}\n",
        open.repeat(100_000),
        close.repeat(100_000)
    )
}

#[test]
fn every_construct_that_nests_stops_at_the_limit_with_one_error() {
    let cases = [
        ("braces in a body", nested("data {\n", "{", "}")),
        (
            "braces in a bad entry",
            nested("object v {\n  oops ", "{", "}"),
        ),
        ("braces at the top level", nested("", "{", "}")),
        (
            "parentheses in a prototype",
            nested("helper int f", "(", ")"),
        ),
        (
            "parentheses in a declarator",
            nested("object v {\n  extern int x", "(", ")"),
        ),
        ("parentheses in a body", nested("data {\n", "(", ")")),
        (
            "brackets in a declarator",
            nested("object v {\n  extern int x", "[", "]"),
        ),
        (
            "blocks left open",
            nested("object v {\n  replace int f(void) ", "{\n", ""),
        ),
    ];
    for (name, text) in cases {
        let (ast, diagnostics, _) = parse_measured(FileId(0), &text);
        let codes: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["KGP0040"], "{name}: {diagnostics:?}");
        assert!(ast.unread.is_some(), "{name}: the rest is marked unread");
        assert_eq!(
            ast.patches().count(),
            1,
            "{name}: the items before are kept"
        );
    }
}

/// Runs kgpc on a spec; returns its exit status and stderr.
fn kgpc(args: &[&str], spec: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deep.kgp"), spec).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .arg("deep.kgp")
        .current_dir(dir.path())
        .env("KGPC_CACHE_DIR", dir.path().join("cache"))
        .env("NO_COLOR", "1")
        .output()
        .expect("kgpc runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_formatter_and_the_checks_survive_the_deepest_nesting_allowed() {
    // 19,990 levels of blocks in a body, closed: under the limit, so everything runs on it.
    let depth = 19_990;
    let spec = format!(
        "{HEAD}include <linux/seq_file.h>\nobject vmlinux {{\n    replace int cmdline_proc_show(struct seq_file *m, void *v) {{\n{}{}        return 0;\n    }}\n}}\n",
        "{".repeat(depth),
        "}".repeat(depth)
    );
    let (code, stderr) = kgpc(&["check", "--no-kernel-checks"], &spec);
    assert_eq!(code, Some(0), "check: {stderr}");
    let (code, stderr) = kgpc(&["fmt", "--check"], &spec);
    assert!(
        matches!(code, Some(0 | 1)),
        "fmt ended by a signal: {stderr}"
    );
    let (code, stderr) = kgpc(&["check"], &nested("data {\n", "{", "}"));
    assert_eq!(code, Some(1));
    assert!(stderr.contains("error[KGP0040]"), "{stderr}");
    assert!(
        !stderr.contains("KGP0005") && !stderr.contains("KGP0001"),
        "{stderr}"
    );
    assert!(root().join("docs/diagnostics/KGP0040.md").exists());
}
