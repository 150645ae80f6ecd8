//! The census of tasks at rest, on Debian 12's real cloud kernel: booted under
//! QEMU by `kgpc check` when it is missing, kept by build id, recorded by
//! `kgpc kernel census`, read from `/proc` when the target is the running
//! kernel, and used by KGP0111.

mod common;

use std::path::{Path, PathBuf};

/// The release of the fetched kernel and its directory in the shared kgpc cache.
fn kernel() -> (String, PathBuf) {
    let vmlinux = common::debian_kernel("vmlinux");
    let release = common::release_of(&vmlinux);
    let dir = vmlinux
        .ancestors()
        .find(|p| p.file_name().and_then(|f| f.to_str()) == Some(release.as_str()))
        .expect("the release's directory in the cache")
        .to_path_buf();
    (release, dir)
}

/// A cache of its own that holds the fetched kernel but no index and no census.
fn fresh_cache(release: &str, kernel_dir: &Path) -> tempfile::TempDir {
    let cache = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(cache.path().join("kernels")).unwrap();
    std::os::unix::fs::symlink(kernel_dir, cache.path().join("kernels").join(release)).unwrap();
    cache
}

fn kgpc(dir: &Path, cache: &Path, running: &str, args: &[&str]) -> (i32, String, String) {
    common::kgpc_in(dir, cache, running, args)
}

/// Writes a spec replacing `body`'s functions for `release` into a new directory.
fn spec(release: &str, body: &str) -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("fix.kgp"),
        format!("patch census {{ description \"x\" }}\ntarget {{ release \"{release}\" arch x86_64 }}\ninclude <linux/seq_file.h>\nobject vmlinux {{\n{body}}}\n"),
    )
    .unwrap();
    work
}

/// The kernel threads' loops that used to pass `kgpc check`, each with the thread resting in it.
const LOOPS: &[(&str, &str, &str)] = &[
    ("ksm_scan_thread", "void *nothing", "ksmd"),
    ("khugepaged", "void *none", "khugepaged"),
    ("kcompactd", "void *p", "kcompactd0"),
    ("oom_reaper", "void *unused", "oom_reaper"),
    ("kauditd_thread", "void *dummy", "kauditd"),
];

/// The KGP0111 headline for `function`, if there is one.
fn stall_line<'a>(stderr: &'a str, function: &str) -> Option<&'a str> {
    stderr
        .lines()
        .find(|l| l.starts_with("warning[KGP0111]") && l.ends_with(&format!("in `{function}`")))
}

// One scenario in the order a user meets it (one boot, then the checks that reuse its census); its steps share
// what the earlier ones built, so it reads best whole.
#[test]
fn check_boots_the_census_once_and_names_the_threads_resting_in_replaced_loops() {
    let (release, dir) = kernel();
    let cache = fresh_cache(&release, &dir);
    let mut body: String = LOOPS
        .iter()
        .map(|(f, p, _)| format!("    replace int {f}({p}) {{ return 0; }}\n"))
        .collect();
    body.push_str("    replace int cmdline_proc_show(struct seq_file *m, void *v) { return 0; }\n");
    body.push_str("}\nobject nfsd {\n    replace nfsd_setattr {\n        return 0;\n    }\n");
    let work = spec(&release, &body);

    // A release without an image in the cache cannot be booted.
    let (code, _, stderr) = kgpc(
        work.path(),
        cache.path(),
        "",
        &["kernel", "census", "6.1.0-999-cloud-amd64"],
    );
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains(
            "error[KGP0203]: the kgpc cache has no kernel image of `6.1.0-999-cloud-amd64` to boot"
        ),
        "{stderr}"
    );

    // A census boot that cannot run says so, with its own code.
    let (code, _, stderr) = kgpc(
        work.path(),
        cache.path(),
        "",
        &["kernel", "census", &release, "--qemu", "/nonexistent/qemu"],
    );
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error[KGP0115]: cannot record the census of {release}"
        )),
        "{stderr}"
    );

    // The first check records the census, visibly, and uses it.
    let (code, _, stderr) = kgpc(work.path(), cache.path(), "", &["check", "fix.kgp"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "kgpc: recording the census of {release}: booting it under QEMU"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("kernel threads at rest in 3 samples"),
        "{stderr}"
    );
    for (function, _, thread) in LOOPS {
        let line = stall_line(&stderr, function)
            .unwrap_or_else(|| panic!("no KGP0111 for {function} in\n{stderr}"));
        assert!(
            line.contains(&format!("kernel thread {thread} (pid ")),
            "{line}"
        );
    }
    assert!(
        stall_line(&stderr, "cmdline_proc_show").is_none(),
        "{stderr}"
    );
    // A census boot loads no modules, and says what that leaves unchecked.
    assert!(
        stderr.contains(&format!(
            "note[KGP0115]: the census of {release} had no module `nfsd` loaded"
        )),
        "{stderr}"
    );
    assert_eq!(stderr.matches("[KGP0115]").count(), 1, "{stderr}");
    let kept: Vec<PathBuf> = std::fs::read_dir(cache.path().join("index"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".census.json"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");

    // The next check reads the kept census: no boot.
    let (code, _, stderr) = kgpc(work.path(), cache.path(), "", &["check", "fix.kgp"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("recording the census"), "{stderr}");
    assert!(stall_line(&stderr, "ksm_scan_thread").is_some(), "{stderr}");

    // `kgpc kernel census` records it again and prints every kernel thread at rest.
    let (code, stdout, stderr) = kgpc(
        work.path(),
        cache.path(),
        "",
        &["kernel", "census", &release],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains(&kept[0].display().to_string()), "{stderr}");
    for (function, _, thread) in LOOPS {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with(&format!("{thread} (")) && l.contains(function)),
            "no {thread} resting in {function} in\n{stdout}"
        );
    }
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("kthreadd (2): kthreadd")),
        "{stdout}"
    );
}

#[test]
fn inspect_reports_the_resting_threads() {
    let (release, _) = kernel();
    let cache = common::debian_kernel("root")
        .ancestors()
        .nth(3)
        .expect("the kgpc cache")
        .to_path_buf();
    let vmlinux = common::debian_kernel("vmlinux");
    let (code, stdout, stderr) = kgpc(
        Path::new("."),
        &cache,
        "",
        &[
            "inspect",
            "--vmlinux",
            vmlinux.to_str().unwrap(),
            "--format",
            "json",
            "ksm_scan_thread",
            "cmdline_proc_show",
        ],
    );
    assert_eq!(code, 0, "{release}: {stderr}");
    let facts: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let of = |name: &str| {
        facts
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()
            .clone()
    };
    let ksm = of("ksm_scan_thread");
    assert_eq!(ksm["patchable"], true);
    assert!(
        ksm["always_on_stack"]
            .as_str()
            .is_some_and(|w| w.starts_with("kernel thread ksmd (pid ")),
        "{ksm}"
    );
    assert!(of("cmdline_proc_show")["always_on_stack"].is_null());
}

/// On a system running the target, the census is that system's own `/proc`. The
/// machine running the tests stands in for one: every kernel has kthreadd resting in
/// `kthreadd()` as pid 2.
#[test]
fn a_running_target_is_read_from_proc() {
    let (release, _) = kernel();
    let cache = common::debian_kernel("root")
        .ancestors()
        .nth(3)
        .expect("the kgpc cache")
        .to_path_buf();
    let vmlinux = common::debian_kernel("vmlinux");
    let work = spec(
        &release,
        "    replace int kthreadd(void *unused) { return 0; }\n",
    );
    let (code, _, stderr) = kgpc(
        work.path(),
        &cache,
        &release,
        &["check", "fix.kgp", "--vmlinux", vmlinux.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("recording the census"), "{stderr}");
    let line = stall_line(&stderr, "kthreadd").unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("kernel thread kthreadd (pid 2)"), "{line}");
    assert!(
        stderr.contains("/proc/*/stack of the running kernel"),
        "{stderr}"
    );
    // The JSON summary says what stalls were checked against.
    let (_, stdout, _) = kgpc(
        work.path(),
        &cache,
        &release,
        &[
            "check",
            "fix.kgp",
            "--vmlinux",
            vmlinux.to_str().unwrap(),
            "--message-format",
            "json",
        ],
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap();
    assert_eq!(
        summary["summary"]["kernel_checks"]["stalls"],
        format!("the census of {release}: /proc/*/stack of the running kernel"),
        "{stdout}"
    );
}

/// What the census predicts is what the kernel does: a patch of `ksm_scan_thread`, which
/// `kgpc check` warns about, never finishes its transition in `kgpc test`, and the task
/// holding it is ksmd.
#[test]
fn the_census_prediction_holds_in_the_kernel() {
    let (release, _) = kernel();
    let work = spec(
        &release,
        "    replace int ksm_scan_thread(void *nothing) {\n        return 0;\n    }\n",
    );
    let text = std::fs::read_to_string(work.path().join("fix.kgp")).unwrap();
    std::fs::write(
        work.path().join("fix.kgp"),
        format!("{text}test {{\n    fixed \"cat /proc/cmdline\" contains \"never\"\n}}\n"),
    )
    .unwrap();
    let cache = common::debian_kernel("root")
        .ancestors()
        .nth(3)
        .expect("the kgpc cache")
        .to_path_buf();
    let (code, _, stderr) = kgpc(
        work.path(),
        &cache,
        "",
        &["test", "fix.kgp", "--transition-timeout", "3"],
    );
    assert!(stall_line(&stderr, "ksm_scan_thread").is_some(), "{stderr}");
    assert_eq!(code, 5, "{stderr}");
    let blockers = stderr
        .split("error[KGP0211]")
        .nth(1)
        .unwrap_or_else(|| panic!("no KGP0211 in\n{stderr}"));
    assert!(
        blockers.contains("tasks not yet switched:\n  ksmd (pid "),
        "{stderr}"
    );
    assert!(blockers.contains("] ksm_scan_thread+"), "{stderr}");
}
