//! `kgpc kernel fetch` when the machine fails it: no network (a network namespace of its own,
//! where nothing but a downed loopback exists) and a disk that fills while the packages are
//! unpacked (a small tmpfs in a mount namespace of its own). Each is a coded error, and the cache
//! holds nothing half-made afterwards. tests/debuginfod.rs shows the same for debuginfod.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `script` with `sh` in new user and `namespaces` (as `unshare` spells them) with the
/// cache `cache`; returns everything it printed.
fn in_namespaces(namespaces: &[&str], cache: &Path, script: &str) -> String {
    let out = Command::new("unshare")
        .arg("--map-root-user")
        .args(namespaces)
        .args(["sh", "-c", script])
        .env("KGPC_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("unshare (util-linux) runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Everything under `dir`, relative to it, but the downloaded packages.
fn contents(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            if name.ends_with(".deb") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            }
            found.push(name);
        }
    }
    found.sort();
    found
}

/// The release of the fetched kernel and its cache's downloads.
fn kernel() -> (String, std::path::PathBuf) {
    let root = common::debian_kernel("root");
    let release = root
        .parent()
        .and_then(Path::file_name)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    (release, root.ancestors().nth(3).unwrap().join("debs"))
}

#[test]
fn without_a_network_a_fetch_says_so_and_leaves_no_partial_download() {
    let (release, _) = kernel();
    let cache = tempfile::tempdir().unwrap();
    let script = format!(
        "'{}' kernel fetch {release} --no-dbg; echo status=$?",
        env!("CARGO_BIN_EXE_kgpc")
    );
    let text = in_namespaces(&["--net"], cache.path(), &script);
    assert!(text.contains("status=4"), "{text}");
    assert!(
        text.contains("error[KGP0207]: could not download "),
        "{text}"
    );
    assert!(
        text.contains("check the network access to the archive (apt's messages follow)"),
        "{text}"
    );
    assert!(text.contains("Temporary failure resolving"), "{text}");
    // apt downloads into a temporary directory, removed with what it held.
    assert_eq!(
        contents(cache.path()),
        ["debs", "kernels", &format!("kernels/{release}"), "lock"]
    );
}

#[test]
fn a_disk_that_fills_while_a_kernel_is_unpacked_is_reported_and_nothing_half_made_is_kept() {
    let (release, shared_debs) = kernel();
    let cache = tempfile::tempdir().unwrap();
    // The packages the fetch takes (from the shared cache, whose apt lists name them), on a
    // tmpfs 8 MB larger than they are: too small for what they unpack to.
    let names: Vec<String> = fs::read_dir(&shared_debs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.starts_with(&format!("linux-image-{release}_"))
                || n.starts_with(&format!("linux-headers-{release}_"))
                || n.starts_with("linux-headers-") && n.contains("-common_")
                || n.starts_with("linux-kbuild-")
                || n.starts_with("linux-compiler-")
        })
        .collect();
    let bytes: u64 = names
        .iter()
        .map(|n| fs::metadata(shared_debs.join(n)).unwrap().len())
        .sum();
    let size_kib = bytes / 1024 + 8 * 1024;
    let copies: Vec<String> = names
        .iter()
        .map(|n| {
            format!(
                "cp '{}' \"$KGPC_CACHE_DIR/debs/\"",
                shared_debs.join(n).display()
            )
        })
        .collect();
    let script = format!(
        "mount -t tmpfs -o size={size_kib}k kgpc-test \"$KGPC_CACHE_DIR\" || exit 99\n\
         mkdir \"$KGPC_CACHE_DIR/debs\" && {copies} || exit 98\n\
         '{kgpc}' kernel fetch {release} --no-dbg; echo status=$?\n\
         cd \"$KGPC_CACHE_DIR\" && find . -mindepth 1 ! -name '*.deb' | sort | tr '\\n' ' '; echo",
        copies = copies.join(" && "),
        kgpc = env!("CARGO_BIN_EXE_kgpc"),
    );
    let text = in_namespaces(&["--mount"], cache.path(), &script);
    assert!(text.contains("status=4"), "{text}");
    assert!(
        text.contains("error[KGP0236]: the disk filled while kgpc wrote the files of linux-"),
        "{text}"
    );
    assert!(
        text.contains("; what was written is removed, which leaves "),
        "{text}"
    );
    // The tree was neither renamed into place nor left as a temporary directory.
    assert!(
        text.contains(&format!("./debs ./kernels ./kernels/{release} ./lock \n")),
        "{text}"
    );
}
