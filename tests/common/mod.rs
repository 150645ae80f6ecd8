//! Helpers shared by the integration tests.
#![allow(dead_code)] // Each test file uses some of them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `actual` with the file at `expected`, or writes it when
/// `KGPC_BLESS` is set; a difference is added to `failures` as a diff.
pub fn compare(expected: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("KGPC_BLESS").is_some() {
        if let Some(parent) = expected.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(expected, actual).unwrap();
        return;
    }
    match fs::read_to_string(expected) {
        Ok(text) if text == actual => {}
        Ok(text) => failures.push(format!(
            "{} differs:\n{}",
            expected.display(),
            pretty_assertions::StrComparison::new(&text, actual)
        )),
        Err(_) => failures.push(format!(
            "{} is missing; run with KGPC_BLESS=1\n--- actual:\n{actual}",
            expected.display()
        )),
    }
}

/// A part (`kdir`, `vmlinuz`, `vmlinux`, ...) of Debian 12's current cloud
/// kernel, fetched into the kgpc cache by `kgpc kernel fetch` the first time.
/// Only `vmlinux` needs the 283 MB debug package.
pub fn debian_kernel(part: &str) -> PathBuf {
    let mut args = vec!["kernel", "fetch", "--print", part];
    if part != "vmlinux" {
        args.push("--no-dbg");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(&args)
        .stdin(Stdio::null())
        .output()
        .expect("kgpc runs");
    assert!(
        output.status.success(),
        "kgpc {} failed; it needs network access to Debian's archive the first time:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// The kgpc cache that holds a release's source tree `tree`
/// (`<cache>/kernels/<release>/source`).
pub fn cache_of_source(tree: &Path) -> PathBuf {
    tree.ancestors()
        .nth(3)
        .expect("the kgpc cache")
        .to_path_buf()
}

/// Runs kgpc in `dir` with the cache `cache`, as if the running kernel were
/// `running` (empty: none); returns its exit status, stdout and stderr.
pub fn kgpc_in(dir: &Path, cache: &Path, running: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .current_dir(dir)
        .env("KGPC_CACHE_DIR", cache)
        .env("KGPC_RUNNING_RELEASE", running)
        .env("NO_COLOR", "1")
        .output()
        .expect("kgpc runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs kgpc like [`kgpc_in`], with `env` added, and fails the test if it has
/// not finished within 30 s: for input that could make kgpc wait for ever.
pub fn kgpc_bounded(
    dir: &Path,
    cache: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .current_dir(dir)
        .env("KGPC_CACHE_DIR", cache)
        .env("KGPC_RUNNING_RELEASE", "")
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kgpc runs");
    let start = std::time::Instant::now();
    while child.try_wait().expect("kgpc can be waited for").is_none() {
        if start.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kgpc {args:?} did not finish within 30 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("kgpc's output is read");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The release of a debug vmlinux named `vmlinux-RELEASE`, as `kgpc kernel fetch` leaves it.
pub fn release_of(vmlinux: &Path) -> String {
    vmlinux
        .file_name()
        .and_then(|f| f.to_str())
        .and_then(|f| f.strip_prefix("vmlinux-"))
        .expect("a vmlinux-RELEASE")
        .to_string()
}

/// Debian 12's current cloud kernel with its debug vmlinux fetched: its
/// release, its unpacked root, and the kgpc cache's downloaded packages.
pub fn debian_kernel_and_debs() -> (String, PathBuf, PathBuf) {
    let root = debian_kernel("root");
    let release = release_of(&debian_kernel("vmlinux"));
    let debs = root
        .ancestors()
        .nth(3)
        .expect("the kgpc cache")
        .join("debs");
    (release, root, debs)
}
