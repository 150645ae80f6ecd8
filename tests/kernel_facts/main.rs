//! Kernel facts and the checks against the real kernel (issue 3).
//!
//! Fast exact tests use a small "vmlinux" and module that
//! `tests/kernel_fixtures/build.sh` builds with gcc (`-pg -mfentry
//! -mrecord-mcount -g`, linked like the kernel with the ftrace table between
//! `__start_mcount_loc` and `__stop_mcount_loc`, and `--emit-relocs`). The tests at the end run on the
//! real Debian 12 debug vmlinux, fetched and cached by
//! `kgpc kernel fetch`; none hard-codes an address of one build.

#[path = "../common/mod.rs"]
mod common;
mod damaged_files;
mod fixture_rules;
mod inspect;
mod modules;
mod real_vmlinux;

use common::root;

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    vmlinux: PathBuf,
    modules: PathBuf,
}

/// Builds the fixture kernel once per test process.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().to_path_buf();
        run(Command::new("sh")
            .arg(root().join("tests/kernel_fixtures/build.sh"))
            .arg(&dir));
        let modules = dir.join("modules");
        fs::create_dir_all(modules.join("extra")).unwrap();
        fs::copy(dir.join("module.o"), modules.join("extra/fixture-mod.ko")).unwrap();
        Fixture {
            vmlinux: dir.join("vmlinux"),
            modules,
            dir,
            _dir: tmp,
        }
    })
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs kgpc in `dir` with its own cache and no running kernel.
fn kgpc(dir: &Path, cache: &Path, args: &[&str]) -> (i32, String, String) {
    common::kgpc_in(dir, cache, "", args)
}

fn inspect_json(vmlinux: &Path, cache: &Path, names: &[&str]) -> Vec<Value> {
    let v = vmlinux.to_str().unwrap();
    let mut args = vec!["inspect", "--vmlinux", v, "--format", "json"];
    args.extend_from_slice(names);
    let (code, stdout, stderr) = kgpc(Path::new("."), cache, &args);
    assert_eq!(code, 0, "{stderr}");
    match serde_json::from_str(&stdout).expect("inspect prints JSON") {
        Value::Array(a) => a,
        other => panic!("not an array: {other}"),
    }
}

const FIXTURE_HEAD: &str = r#"patch fixture { description "kernel facts test" }
target { release "6.1.0-999-fixture" arch x86_64 }
"#;

/// Checks a spec (written into a fresh directory) against the fixture kernel.
fn check_fixture(body: &str, extra: &[&str]) -> (i32, String) {
    let f = fixture();
    let work = tempfile::tempdir().unwrap();
    fs::write(work.path().join("fix.kgp"), format!("{FIXTURE_HEAD}{body}")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut args = vec!["check", "fix.kgp", "--vmlinux", f.vmlinux.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, _, stderr) = kgpc(work.path(), cache.path(), &args);
    (code, stderr)
}

/// Compiles a spec against the fixture kernel; returns the generated C.
fn compile_fixture(body: &str) -> String {
    let f = fixture();
    let work = tempfile::tempdir().unwrap();
    fs::write(work.path().join("fix.kgp"), format!("{FIXTURE_HEAD}{body}")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let vmlinux = f.vmlinux.to_str().unwrap();
    let (code, _, stderr) = kgpc(
        work.path(),
        cache.path(),
        &["compile", "fix.kgp", "-o", "out", "--vmlinux", vmlinux],
    );
    assert_eq!(code, 0, "{stderr}");
    fs::read_to_string(work.path().join("out/livepatch-fixture.c")).unwrap()
}
