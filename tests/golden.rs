//! Golden tests: diagnostics and generated files compared with files kept in
//! the repository.
//!
//! - `tests/ui/NAME.kgp` is checked with `kgpc check`; the exit status and
//!   everything printed go to `tests/ui/NAME.out`. A first line
//!   `# args: ...` adds command-line arguments.
//! - `tests/emit/NAME.kgp` and every `examples/*.kgp` are compiled; each
//!   generated file is compared with `tests/emit/NAME/FILE`.
//!
//! Run with `KGPC_BLESS=1` to write the expected files from the current
//! output, then review the diff.

mod common;

use common::{compare, root};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A release the specs' patterns match and that no machine has.
const RELEASE: &str = "6.1.0-999-cloud-amd64";

fn kgpc(dir: &Path, args: &[&str], cache: &Path) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .current_dir(dir)
        .env("KGPC_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .env("KGPC_RUNNING_RELEASE", "6.1.0-1-cloud-amd64")
        .output()
        .expect("kgpc runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn specs(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "kgp"))
                .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('_'))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// The ui cases too large to keep in the repository, written by the test:
/// each name with its text. Their expected output is `tests/ui/NAME.out`.
fn generated_cases() -> Vec<(&'static str, String)> {
    let spec = "patch deep { description \"Nests too deeply\" }\n\
                target { release \"6.1.0-*-cloud-amd64\" arch x86_64 }\n\
                object vmlinux {\n    replace int cmdline_proc_show(struct seq_file *m, void *v) {\n";
    // A body that opens a block on each of its 20,001 lines, one more than the limit.
    vec![(
        "KGP0040-deep-nesting.kgp",
        format!("{spec}{}", "        if (m) {\n".repeat(20_001)),
    )]
}

#[test]
fn diagnostics_match_golden_files() {
    let dir = root().join("tests/ui");
    let cache = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let cases = specs(&dir);
    assert!(
        cases.len() >= 30,
        "expected a ui case per diagnostic code, found {}",
        cases.len()
    );
    for spec in &cases {
        let name = spec.file_name().unwrap().to_str().unwrap();
        let text = fs::read_to_string(spec).unwrap_or_default();
        let mut args = vec!["check".to_string(), name.to_string()];
        if let Some(extra) = text.lines().next().and_then(|l| l.strip_prefix("# args:")) {
            args.extend(extra.split_whitespace().map(String::from));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, stdout, stderr) = kgpc(&dir, &args, cache.path());
        let actual = format!("exit status: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}");
        compare(&spec.with_extension("out"), &actual, &mut failures);
    }
    let generated = tempfile::tempdir().unwrap();
    for (name, text) in generated_cases() {
        fs::write(generated.path().join(name), text).unwrap();
        let (code, stdout, stderr) = kgpc(generated.path(), &["check", name], cache.path());
        let actual = format!("exit status: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}");
        compare(
            &dir.join(name).with_extension("out"),
            &actual,
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The source of the test binary `name`: `tests/NAME.rs`, or every file of
/// `tests/NAME/`. A test that is gone fails here, so no code loses its case
/// unnoticed.
fn test_source(name: &str) -> String {
    let file = root().join("tests").join(format!("{name}.rs"));
    if let Ok(text) = fs::read_to_string(&file) {
        return text;
    }
    let dir = root().join("tests").join(name);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("neither {} nor {}: {e}", file.display(), dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no test source", dir.display());
    files
        .iter()
        .map(|f| fs::read_to_string(f).unwrap())
        .collect()
}

#[test]
fn every_diagnostic_code_has_a_golden_case() {
    let dir = root().join("tests/ui");
    let mut all = String::new();
    for spec in specs(&dir) {
        all.push_str(&fs::read_to_string(spec.with_extension("out")).unwrap_or_default());
    }
    for (name, _) in generated_cases() {
        let out = dir.join(name).with_extension("out");
        all.push_str(&fs::read_to_string(out).unwrap_or_default());
    }
    // Codes only `kgpc compile` raises are shown by tests/cli/, those of `kgpc build`,
    // `kgpc test` and `kgpc kernel` by tests/vm/.
    // KGP0043 guards text given to the library, which this file shows.
    for test in ["cli", "golden", "vm"] {
        all.push_str(&test_source(test));
    }
    // Codes of `kgpc diff` are shown by the golden diffs in tests/review.
    for entry in fs::read_dir(root().join("tests/review"))
        .into_iter()
        .flatten()
        .flatten()
    {
        if entry.path().extension().is_some_and(|e| e == "out") {
            all.push_str(&fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    // Codes of the checks against a real kernel are shown by tests/kernel_facts/, those
    // of the census and of module objects by tests/census.rs and tests/module_facts.rs,
    // those of `kgpc source` by tests/source.rs, those of a spec's `fix` by the
    // golden outputs of tests/fix/, those of debuginfod and of a full disk by
    // tests/debuginfod.rs, those of a fleet (`--all-releases`, `kgpc kernel list
    // --available`) by tests/fleet/, those of a release whose debug files were
    // dropped and of `kgpc kernel gc` by tests/index_only.rs.
    for test in [
        "kernel_facts",
        "census",
        "module_facts",
        "source",
        "debuginfod",
        "fleet",
        "index_only",
    ] {
        all.push_str(&test_source(test));
    }
    for entry in fs::read_dir(root().join("tests/fix"))
        .into_iter()
        .flatten()
        .flatten()
    {
        all.push_str(&fs::read_to_string(entry.path().join("check.out")).unwrap_or_default());
    }
    let (_, list, _) = kgpc(&root(), &["explain", "--list"], Path::new("/nonexistent"));
    let missing: Vec<&str> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|code| !all.contains(&format!("[{code}]")))
        .collect();
    assert!(
        missing.is_empty(),
        "no tests/ui case shows: {}",
        missing.join(", ")
    );
}

#[test]
fn generated_files_match_golden_files() {
    let cache = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut cases = specs(&root().join("tests/emit"));
    cases.extend(specs(&root().join("examples")));
    assert!(cases.len() >= 5);
    for spec in &cases {
        let stem = spec.file_stem().unwrap().to_str().unwrap();
        // Compile a copy next to the output so that the paths in the output
        // do not depend on where the checkout is.
        let work = tempfile::tempdir().unwrap();
        let source_dir = spec.parent().unwrap();
        for entry in fs::read_dir(source_dir).unwrap().flatten() {
            if entry.path().is_file() {
                fs::copy(entry.path(), work.path().join(entry.file_name())).unwrap();
            }
        }
        let spec_name = format!("{stem}.kgp");
        let (code, _, stderr) = kgpc(
            work.path(),
            &["compile", &spec_name, "-o", "out", "--release", RELEASE],
            cache.path(),
        );
        if code != 0 {
            failures.push(format!("{} did not compile:\n{stderr}", spec.display()));
            continue;
        }
        let mut names: Vec<String> = fs::read_dir(work.path().join("out"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names.len(),
            4,
            "{stem}: expected three files and the manifest, got {names:?}"
        );
        for name in names {
            let actual = fs::read_to_string(work.path().join("out").join(&name)).unwrap();
            compare(
                &root().join("tests/emit").join(stem).join(&name),
                &actual,
                &mut failures,
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn output_is_deterministic() {
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // All first: a spec's test block may name another (`patch_first`).
    for spec in specs(&root().join("examples")) {
        fs::copy(&spec, work.path().join(spec.file_name().unwrap())).unwrap();
    }
    for spec in specs(&root().join("examples")) {
        let name = spec.file_name().unwrap().to_str().unwrap();
        for out in ["a", "b"] {
            let (code, _, stderr) = kgpc(
                work.path(),
                &["compile", name, "-o", out, "--release", RELEASE],
                cache.path(),
            );
            assert_eq!(code, 0, "{stderr}");
        }
        for entry in fs::read_dir(work.path().join("a")).unwrap().flatten() {
            let a = fs::read(entry.path()).unwrap();
            let b = fs::read(work.path().join("b").join(entry.file_name())).unwrap();
            assert_eq!(
                a,
                b,
                "{name}: {:?} differs between two compiles",
                entry.file_name()
            );
        }
        fs::remove_dir_all(work.path().join("a")).unwrap();
        fs::remove_dir_all(work.path().join("b")).unwrap();
    }
}

/// A spec file with a NUL is refused before it is parsed (`tests/ui/nul-in-spec-file`); text
/// given to the library directly reaches the check, which refuses a NUL in a description or
/// author with KGP0043 rather than letting MODULE_DESCRIPTION end at it.
#[test]
fn a_nul_in_a_description_given_as_text_is_refused() {
    use kgpc::check::release::ReleaseRequest;
    use kgpc::check::{lower, LowerOptions};
    use kgpc::diagnostic::Diagnostics;
    use kgpc::load::{load, Input};
    use kgpc::scope::ReadScope;
    use kgpc::source::SourceMap;
    let text = "patch nul {\n    description \"Fix the leak\0 and the race\"\n}\n\
                target {\n    release \"6.1.0-1-cloud-amd64\"\n    arch x86_64\n}\n\
                object vmlinux {\n    replace int f(void) {\n        return 0;\n    }\n}\n";
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::default();
    let scope = ReadScope::new(None, &[]).unwrap();
    let input = Input::Text {
        name: "nul.kgp",
        text: text.to_string(),
    };
    let loaded = load(input, scope, &mut sources, &mut diagnostics).expect("the text loads");
    let options = LowerOptions {
        release: ReleaseRequest {
            explicit: None,
            candidates: vec![("6.1.0-1-cloud-amd64".into(), "the test".into())],
        },
        prototypes_from_kernel: false,
    };
    lower(&loaded, &mut sources, &options, &mut diagnostics);
    let codes: Vec<String> = diagnostics
        .iter()
        .map(|d| format!("[{}]", d.code.as_str()))
        .collect();
    assert_eq!(codes, ["[KGP0043]"]);
}
