//! The output directory under faults: kgpc killed with SIGKILL at every
//! point of a recompile, compiles racing into one directory, and what a
//! recompile keeps (modes, Kbuild's products, the user's files under
//! `--force`) and drops (kgpc's own leftovers).

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A release the specs match and that no machine has.
const RELEASE: &str = "6.1.0-999-cloud-amd64";

/// A spec whose generated files differ with `what`.
fn spec(what: &str) -> String {
    format!(
        r#"patch sample {{
    description "Make /proc/cmdline say {what}"
}}

target {{
    release "6.1.0-*-cloud-amd64"
    arch x86_64
}}

include <linux/seq_file.h>

object vmlinux {{
    replace int cmdline_proc_show(struct seq_file *m, void *v) {{
        seq_printf(m, "%s\n", "{what}");
        return 0;
    }}
}}
"#
    )
}

/// A work directory with two versions of the spec, `a.kgp` and `b.kgp`,
/// and the files each one generates.
struct Work {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    versions: [BTreeMap<String, Vec<u8>>; 2],
}

impl Work {
    fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.kgp"), spec("version a")).unwrap();
        fs::write(dir.path().join("b.kgp"), spec("version b")).unwrap();
        let mut work = Work {
            dir,
            cache,
            versions: [BTreeMap::new(), BTreeMap::new()],
        };
        for (i, spec) in ["a.kgp", "b.kgp"].iter().enumerate() {
            let reference = format!("ref-{i}");
            assert!(work.compile(spec, &reference, &[]).success());
            work.versions[i] = files(&work.dir.path().join(&reference));
            fs::remove_dir_all(work.dir.path().join(&reference)).unwrap();
        }
        assert_ne!(work.versions[0], work.versions[1]);
        work
    }

    fn command(&self, spec: &str, out: &str, env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kgpc"));
        command
            .args(["compile", spec, "-o", out, "--release", RELEASE])
            .current_dir(self.dir.path())
            .env("KGPC_CACHE_DIR", self.cache.path())
            .env("KGPC_RUNNING_RELEASE", "")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    fn compile(&self, spec: &str, out: &str, env: &[(&str, &str)]) -> std::process::ExitStatus {
        let output = self.command(spec, out, env).output().unwrap();
        if !output.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
        }
        output.status
    }

    fn spawn(&self, spec: &str, out: &str, env: &[(&str, &str)]) -> Child {
        self.command(spec, out, env).spawn().unwrap()
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Which version the output directory holds, failing the test unless it
    /// is exactly one of them plus `extra`, the files kgpc must carry over.
    fn version(&self, extra: &BTreeMap<String, Vec<u8>>, when: &str) -> usize {
        let mut found = files(&self.out());
        found.retain(|name, _| !extra.contains_key(name));
        let which = self.versions.iter().position(|v| *v == found);
        let Some(which) = which else {
            panic!(
                "{when}: the directory is neither version:\n{:?}",
                found.keys().collect::<Vec<_>>()
            );
        };
        for (name, contents) in extra {
            assert_eq!(
                fs::read(self.out().join(name)).ok().as_ref(),
                Some(contents),
                "{when}: {name} was not kept"
            );
        }
        which
    }

    /// The names beside the specs and the output directory.
    fn leftovers(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !["a.kgp", "b.kgp", "out"].contains(&n.as_str()))
            .collect();
        names.sort();
        names
    }
}

/// Every regular file in `dir` by name, with its contents.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read(e.path()).unwrap())
        })
        .collect()
}

/// A small deterministic generator of kill delays (xorshift).
struct Delays(u64);

impl Delays {
    fn next_micros(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn a_recompile_killed_at_any_point_leaves_one_complete_version() {
    let work = Work::new();
    assert!(work.compile("a.kgp", "out", &[]).success());
    // Kbuild's product in the directory must survive every swap.
    fs::write(work.out().join("livepatch-sample.o"), "object").unwrap();
    let extra = BTreeMap::from([("livepatch-sample.o".to_string(), b"object".to_vec())]);
    // The kills spread over the whole run, from start-up to the last step:
    // a run's length is the median of five, so that one run slowed by a
    // loaded machine does not spread the kills far past the write.
    let mut runs: Vec<u64> = (0..5)
        .map(|i| {
            let start = std::time::Instant::now();
            let timing = work.spawn(
                ["b.kgp", "a.kgp"][i % 2],
                "out",
                &[("KGPC_TEST_OUTPUT_PAUSE_MS", "2")],
            );
            assert!(timing.wait_with_output().unwrap().status.success());
            start.elapsed().as_micros() as u64
        })
        .collect();
    runs.sort_unstable();
    // The last of the five compiled b.kgp, the version the rounds start from.
    let window = runs[2].max(1000) * 11 / 10;
    let mut delays = Delays(0x9e37_79b9_7f4a_7c15);
    let mut current = 1;
    let (mut kept_old, mut took_new, mut left_behind) = (0, 0, 0);
    for round in 0..200 {
        let next = 1 - current;
        let spec = ["a.kgp", "b.kgp"][next];
        let mut child = work.spawn(spec, "out", &[("KGPC_TEST_OUTPUT_PAUSE_MS", "2")]);
        std::thread::sleep(Duration::from_micros(delays.next_micros(window)));
        let _ = child.kill();
        let finished = child.wait().unwrap().success();
        let when = format!("round {round}, after the kill");
        let found = work.version(&extra, &when);
        if finished {
            assert_eq!(
                found, next,
                "{when}: a finished compile left the old version"
            );
        }
        if found == current {
            kept_old += 1;
        } else {
            took_new += 1;
        }
        if !work.leftovers().is_empty() {
            left_behind += 1;
        }
        // The next compile always works and cleans up what the kill left.
        let again = ["a.kgp", "b.kgp"][1 - found];
        assert!(
            work.compile(again, "out", &[]).success(),
            "round {round}: the compile after the kill failed"
        );
        assert_eq!(
            work.version(&extra, &format!("round {round}, recompiled")),
            1 - found
        );
        assert_eq!(work.leftovers(), Vec::<String>::new(), "round {round}");
        current = 1 - found;
    }
    eprintln!(
        "200 killed recompiles over {window} µs: {kept_old} kept the old version, \
         {took_new} the new one, {left_behind} left a staging directory behind"
    );
    // The kills did land inside the write, not only before or after it.
    assert!(kept_old > 0 && took_new > 0 && left_behind > 0);
}

#[test]
fn concurrent_compiles_into_one_directory_end_consistent() {
    let work = Work::new();
    assert!(work.compile("a.kgp", "out", &[]).success());
    for round in 0..20 {
        let children: Vec<Child> = (0..6)
            .map(|i| work.spawn(["a.kgp", "b.kgp"][i % 2], "out", &[]))
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        work.version(&BTreeMap::new(), &format!("round {round}"));
        assert_eq!(work.leftovers(), Vec::<String>::new(), "round {round}");
    }
}

#[test]
fn a_recompile_keeps_modes_and_honours_the_umask() {
    let work = Work::new();
    let umask_compile = |spec: &str| {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "umask 027 && exec '{}' compile {spec} -o out --release {RELEASE}",
                env!("CARGO_BIN_EXE_kgpc")
            ))
            .current_dir(work.dir.path())
            .env("KGPC_CACHE_DIR", work.cache.path())
            .env("KGPC_RUNNING_RELEASE", "")
            .status()
            .unwrap();
        assert!(status.success());
    };
    let mode = |name: &str| {
        fs::metadata(work.out().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    umask_compile("a.kgp");
    assert_eq!(mode(""), 0o750, "the directory follows the umask");
    assert_eq!(mode("livepatch-sample.c"), 0o640);
    fs::set_permissions(
        work.out().join("Makefile"),
        fs::Permissions::from_mode(0o604),
    )
    .unwrap();
    fs::set_permissions(work.out(), fs::Permissions::from_mode(0o711)).unwrap();
    umask_compile("b.kgp");
    assert_eq!(work.version(&BTreeMap::new(), "recompiled"), 1);
    assert_eq!(mode("Makefile"), 0o604, "a replaced file keeps its mode");
    assert_eq!(mode("livepatch-sample.c"), 0o640);
    assert_eq!(mode(""), 0o711, "the directory keeps its mode");
}

#[test]
fn a_recompile_carries_other_files_and_drops_kgpcs_leftovers() {
    let work = Work::new();
    assert!(work.compile("a.kgp", "out", &[]).success());
    let out = work.out();
    // Kbuild's products, including a directory, are carried over.
    fs::create_dir(out.join(".tmp_versions")).unwrap();
    fs::write(out.join(".tmp_versions/sample.mod"), "mod").unwrap();
    fs::write(out.join("livepatch-sample.ko"), "module").unwrap();
    // A temporary file of an older kgpc killed mid-write is kgpc's own.
    fs::write(out.join(".kgpc-a1b2c3"), "half").unwrap();
    // A staging directory of a killed kgpc beside the output is removed.
    fs::create_dir(work.dir.path().join(".out.kgpc-new-0000dead")).unwrap();
    assert!(work.compile("b.kgp", "out", &[]).success());
    let extra = BTreeMap::from([("livepatch-sample.ko".to_string(), b"module".to_vec())]);
    assert_eq!(work.version(&extra, "recompiled"), 1);
    assert_eq!(
        fs::read_to_string(out.join(".tmp_versions/sample.mod")).unwrap(),
        "mod"
    );
    assert!(!out.join(".kgpc-a1b2c3").exists());
    assert_eq!(work.leftovers(), Vec::<String>::new());

    // With --force, a user's file survives and an edited file is replaced.
    fs::write(out.join("notes.txt"), "mine").unwrap();
    fs::write(out.join("Kbuild"), "edited").unwrap();
    let status = work
        .command("a.kgp", "out", &[])
        .arg("--force")
        .status()
        .unwrap();
    assert!(status.success());
    let extra = BTreeMap::from([
        ("livepatch-sample.ko".to_string(), b"module".to_vec()),
        ("notes.txt".to_string(), b"mine".to_vec()),
    ]);
    assert_eq!(work.version(&extra, "forced"), 0);
}

#[test]
fn the_current_directory_is_not_an_output_directory() {
    let work = Work::new();
    let inner = work.dir.path().join("inner");
    fs::create_dir(&inner).unwrap();
    let name = work
        .dir
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let cases = [
        (work.dir.path().to_path_buf(), ".".to_string()),
        (work.dir.path().to_path_buf(), format!("../{name}")),
        (inner.clone(), "..".to_string()),
        (inner.clone(), format!("../../{name}")),
    ];
    let spec = work.dir.path().join("a.kgp").display().to_string();
    for (cwd, out) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_kgpc"))
            .args(["compile", &spec, "-o", &out, "--release", RELEASE])
            .current_dir(&cwd)
            .env("KGPC_CACHE_DIR", work.cache.path())
            .env("KGPC_RUNNING_RELEASE", "")
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "-o {out}: {stderr}");
        assert!(stderr.contains("error[KGP0034]"), "-o {out}: {stderr}");
        assert!(stderr.contains("current directory"), "-o {out}: {stderr}");
    }
    assert!(work.dir.path().join("a.kgp").exists());
}

#[test]
fn an_output_through_a_symbolic_link_replaces_the_target_and_keeps_the_link() {
    let work = Work::new();
    assert!(work.compile("a.kgp", "real", &[]).success());
    std::os::unix::fs::symlink("real", work.dir.path().join("out")).unwrap();
    assert!(work.compile("b.kgp", "out", &[]).success());
    let link = fs::symlink_metadata(work.out()).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a directory"
    );
    assert_eq!(work.version(&BTreeMap::new(), "through the link"), 1);
    let mut names: Vec<String> = fs::read_dir(work.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["a.kgp", "b.kgp", "out", "real"]);
}
