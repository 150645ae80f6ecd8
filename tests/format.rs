//! `kgpc fmt`: the canonical layout, its stability, and its refusals.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kgpc(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kgpc runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn kgp_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(root().join(dir))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "kgp"))
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    files.sort();
    files
}

#[test]
fn examples_std_specs_and_test_specs_are_formatted() {
    let mut files = kgp_files("examples");
    files.extend(kgp_files("std-specs"));
    files.extend(kgp_files("tests/emit"));
    assert!(files.len() >= 9);
    let mut args = vec!["fmt", "--check"];
    args.extend(files.iter().map(String::as_str));
    let (code, diff, stderr) = kgpc(&args, "");
    assert_eq!(code, 0, "run `kgpc fmt` on these files:\n{diff}{stderr}");
}

#[test]
fn messy_spec_gets_the_canonical_layout_with_comments_in_place() {
    let messy = fs::read_to_string(root().join("tests/fmt/messy.kgp")).unwrap();
    let (code, formatted, stderr) = kgpc(&["fmt"], &messy);
    assert_eq!(code, 0, "{stderr}");
    let expected_path = root().join("tests/fmt/messy.formatted.kgp");
    if std::env::var_os("KGPC_BLESS").is_some() {
        fs::write(&expected_path, &formatted).unwrap();
    }
    assert_eq!(formatted, fs::read_to_string(&expected_path).unwrap());
    let comments = |text: &str| {
        text.lines()
            .filter_map(|l| l.find('#').map(|i| l[i..].to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        comments(&messy),
        comments(&formatted),
        "every comment survives, in order"
    );
}

#[test]
fn formatting_is_idempotent_on_every_spec_that_parses() {
    let mut files = kgp_files("examples");
    files.extend(kgp_files("std-specs"));
    files.extend(kgp_files("tests/emit"));
    files.extend(kgp_files("tests/ui"));
    files.push("tests/fmt/messy.kgp".into());
    let mut checked = 0;
    for file in &files {
        let text = fs::read_to_string(root().join(file)).unwrap_or_default();
        let (code, once, _) = kgpc(&["fmt"], &text);
        if code != 0 {
            continue; // A spec with syntax errors is not formatted; see the next test.
        }
        let (_, twice, _) = kgpc(&["fmt"], &once);
        assert_eq!(once, twice, "formatting {file} twice changes it");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} specs parsed");
}

#[test]
fn a_file_that_does_not_parse_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.kgp");
    let text = "patch x {\n    descripton \"typo\"\n}\n";
    fs::write(&path, text).unwrap();
    let (code, _, stderr) = kgpc(&["fmt", path.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(stderr.contains("KGP0003"), "{stderr}");
    assert!(stderr.contains("left as it was"), "{stderr}");
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn check_mode_shows_a_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path: &Path = &dir.path().join("loose.kgp");
    let text = "patch   x {\ndescription \"d\"\n}\n";
    fs::write(path, text).unwrap();
    let (code, diff, _) = kgpc(&["fmt", "--check", path.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(
        diff.contains("-patch   x {") && diff.contains("+patch x {"),
        "{diff}"
    );
    assert_eq!(fs::read_to_string(path).unwrap(), text);
    let (code, _, _) = kgpc(&["fmt", path.to_str().unwrap()], "");
    assert_eq!(code, 0);
    assert_eq!(
        fs::read_to_string(path).unwrap(),
        "patch x {\n    description \"d\"\n}\n"
    );
}
