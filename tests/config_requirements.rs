//! `requires` against the real configs of Debian's builds in the kgpc cache:
//! `/boot/config-RELEASE` of each image package. A requirement every build
//! meets, one it does not meet failing the build or skipping it, and an
//! object left out of the builds whose config lacks what it needs, which
//! Debian's 6.1 and 6.12 cloud kernels differ in (bcachefs, a module from 6.7 on).

mod common;

use common::{debian_kernel, root};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs kgpc in `dir` with the default kgpc cache; returns its exit status, stdout and stderr.
fn kgpc(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("KGPC_RUNNING_RELEASE", "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kgpc runs");
    use std::io::Write;
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    let out = child.wait_with_output().expect("kgpc finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The JSON lines of a `--message-format json` run: the diagnostics and the summary record.
fn json_lines(stdout: &str) -> (Vec<Value>, Value) {
    let mut lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let summary = lines.pop().expect("a summary record")["summary"].clone();
    (lines, summary)
}

/// The release of Debian 12's current cloud kernel, fetched without its debug package.
fn current_release() -> String {
    let vmlinuz = debian_kernel("vmlinuz");
    let name = vmlinuz.file_name().unwrap().to_string_lossy().into_owned();
    name.strip_prefix("vmlinuz-")
        .expect("vmlinuz-RELEASE")
        .to_string()
}

/// The cached releases with a complete tree and an image config, `current` among them.
fn cached_releases(current: &str) -> Vec<(String, PathBuf)> {
    let cache = kgpc::fetch::cache_dir();
    let mut found: Vec<(String, PathBuf)> = kgpc::fetch::cached_releases(&cache)
        .into_iter()
        .filter_map(|r| {
            let paths = kgpc::fetch::KernelPaths::in_cache(&cache, &r);
            let config = paths.root().join(format!("boot/config-{r}"));
            (paths.is_complete() && config.is_file()).then_some((r, config))
        })
        .collect();
    assert!(
        found.iter().any(|(r, _)| r == current),
        "the current release {current} is in the cache"
    );
    found.sort();
    found
}

fn dir() -> PathBuf {
    root().join("tests/config")
}

#[test]
fn each_cached_build_keeps_or_leaves_out_the_bcachefs_object_as_its_config_says() {
    let current = current_release();
    let releases = cached_releases(&current);
    let mut seen = Vec::new();
    for (release, config) in &releases {
        let args = [
            "check",
            "gated-objects.kgp",
            "--release",
            release,
            "--no-kernel-checks",
            "--message-format",
            "json",
        ];
        let (code, stdout, stderr) = kgpc(&dir(), &args, "");
        assert_eq!(code, 0, "{release}: {stdout}{stderr}");
        let (diagnostics, summary) = json_lines(&stdout);
        let text = std::fs::read_to_string(config).unwrap();
        let has_bcachefs = text.lines().any(|l| l == "CONFIG_BCACHEFS_FS=m");
        let config = &summary["config"];
        assert_eq!(config["file"], config_path(release).display().to_string());
        let requirements = config["requirements"].as_array().unwrap();
        let met = |name: &str| {
            requirements
                .iter()
                .find(|r| r["requirement"] == name)
                .unwrap_or_else(|| panic!("{name} in {summary}"))["met"]
                .clone()
        };
        // Every build has livepatch, is x86-64 and has 8192 CPUs at most.
        for name in [
            "CONFIG_LIVEPATCH=y",
            "CONFIG_X86_64=y",
            "CONFIG_NR_CPUS=8192",
            "CONFIG_PROC_FS",
        ] {
            assert_eq!(met(name), Value::Bool(true), "{release}: {name}");
        }
        assert_eq!(met("CONFIG_BCACHEFS_FS=m"), Value::Bool(has_bcachefs));
        let left_out: Vec<&Value> = diagnostics
            .iter()
            .filter(|d| d["code"] == "KGP0135")
            .collect();
        if has_bcachefs {
            assert!(left_out.is_empty(), "{release}: {stdout}");
        } else {
            assert_eq!(left_out.len(), 1, "{release}: {stdout}");
            assert_eq!(left_out[0]["severity"], "note");
            let note = left_out[0]["notes"][0].as_str().unwrap();
            assert!(
                note.ends_with(&format!(
                    "config-{release} does not mention CONFIG_BCACHEFS_FS"
                )),
                "{note}"
            );
        }
        assert_eq!(summary["status"], "ok");
        seen.push(format!("{release}: bcachefs {has_bcachefs}"));
    }
    eprintln!("{}", seen.join("\n"));
}

fn config_path(release: &str) -> PathBuf {
    kgpc::fetch::KernelPaths::in_cache(&kgpc::fetch::cache_dir(), release)
        .root()
        .join(format!("boot/config-{release}"))
}

#[test]
fn a_build_whose_config_leaves_an_object_out_builds_the_others() {
    let release = current_release();
    let out = tempfile::tempdir().unwrap();
    let module_dir = out.path().join("gated");
    let args = [
        "build",
        "gated-objects.kgp",
        "--release",
        &release,
        "-o",
        module_dir.to_str().unwrap(),
        "--message-format",
        "json",
    ];
    let (code, stdout, stderr) = kgpc(&dir(), &args, "");
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (_, summary) = json_lines(&stdout);
    assert_eq!(summary["status"], "ok");
    // Whether the kernel can be live patched was read from the config, not guessed.
    let livepatch = summary["config"]["livepatch"].as_str().unwrap();
    let config = config_path(&release).display().to_string();
    assert!(
        livepatch.starts_with(&format!("read from the config: {config}:"))
            && livepatch.ends_with(": CONFIG_LIVEPATCH=y"),
        "{livepatch}"
    );
    let c = std::fs::read_to_string(module_dir.join("livepatch-gated.c")).unwrap();
    assert!(c.contains("cmdline_proc_show"), "{c}");
    assert!(
        !c.contains("bch2_fs_read_write") && !c.contains("\"bcachefs\""),
        "{c}"
    );
    assert!(module_dir.join("livepatch-gated.ko").is_file());
}

#[test]
fn a_build_without_bluetooth_is_skipped_by_check_build_and_test_and_writes_nothing() {
    let release = current_release();
    let out = tempfile::tempdir().unwrap();
    let module_dir = out.path().join("bt");
    for command in ["check", "compile", "build", "test"] {
        let mut args = vec![
            command,
            "needs-bluetooth.kgp",
            "--release",
            &release,
            "--message-format",
            "json",
        ];
        if command == "compile" || command == "build" {
            args.extend(["-o", module_dir.to_str().unwrap()]);
        }
        if command == "test" {
            args.extend(["--keep-work", module_dir.to_str().unwrap()]);
        }
        let (code, stdout, stderr) = kgpc(&dir(), &args, "");
        assert_eq!(code, 0, "{command}: {stdout}{stderr}");
        let (diagnostics, summary) = json_lines(&stdout);
        let codes: Vec<&str> = diagnostics
            .iter()
            .map(|d| d["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["KGP0136"], "{command}: {stdout}");
        assert_eq!(diagnostics[0]["severity"], "warning");
        assert_eq!(
            diagnostics[0]["notes"][0],
            format!(
                "the config of {release} says: {}:{}: # CONFIG_BT is not set",
                config_path(&release).display(),
                line_of(&release, "# CONFIG_BT is not set")
            )
        );
        assert_eq!(summary["status"], "skipped", "{command}");
        assert_eq!(summary["command"], command);
        assert_eq!(summary["files"], Value::Array(Vec::new()));
        assert!(
            !module_dir.exists(),
            "{command} wrote {}",
            module_dir.display()
        );
    }
    // For people, the last line says so.
    let (code, _, stderr) = kgpc(
        &dir(),
        &["build", "needs-bluetooth.kgp", "--release", &release],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.lines().last().unwrap().starts_with(&format!(
            "Skipped livepatch-bluetooth for {release} (given with --release): requires CONFIG_BT (y or m) is not met"
        )),
        "{stderr}"
    );
}

#[test]
fn an_unmet_requirement_without_skip_fails_the_build_naming_the_config_line() {
    let release = current_release();
    let spec = std::fs::read_to_string(dir().join("needs-bluetooth.kgp"))
        .unwrap()
        .replace("requires CONFIG_BT else skip", "requires CONFIG_BT");
    let (code, stdout, stderr) = kgpc(&dir(), &["check", "-", "--release", &release], &spec);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let line = line_of(&release, "# CONFIG_BT is not set");
    assert!(
        stderr.contains(&format!(
            "error[KGP0135]: the build of {release} does not meet `requires CONFIG_BT`"
        )) && stderr.contains(&format!(
            "= note: the config of {release} says: {}:{line}: # CONFIG_BT is not set",
            config_path(&release).display()
        )) && stderr.contains("^^^^^^^^^^^^^^^^^^ not met by this build's config"),
        "{stderr}"
    );
}

/// The line number of `text` in the config of `release`.
fn line_of(release: &str, text: &str) -> usize {
    std::fs::read_to_string(config_path(release))
        .unwrap()
        .lines()
        .position(|l| l == text)
        .expect("the line is in the config")
        + 1
}
