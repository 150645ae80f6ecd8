//! One spec for every build of the distribution's kernel: the archive's
//! builds as apt's metadata lists them, `--all-releases` over the cached
//! ones, the comparison of a replaced function across builds, the CI plan,
//! and the errors of a fleet (a pattern that matches nothing, a build whose
//! packages are gone; no network and a full disk are tests/fetch_faults.rs').
//!
//! The fleet these tests run over is Debian 12's cloud kernel in the kgpc
//! cache: its current build (as every kernel test fetches it) and the oldest
//! build the archive still has headers for, which `oldest_build` fetches with
//! its debug package and source the first time. Which builds those are comes
//! from apt's metadata, never from this file.

#[path = "../common/mod.rs"]
mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CLOUD: &str = "6.1.0-*-cloud-amd64";

fn kgpc(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(args)
        .current_dir(common::root())
        .env("LC_ALL", "C")
        .env_remove("KGPC_KDIR")
        .stdin(Stdio::null())
        .output()
        .expect("kgpc runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The archive's cloud builds, as `kgpc kernel list --available` reads them.
fn available() -> Vec<Value> {
    let (code, out, err) = kgpc(&[
        "kernel",
        "list",
        "--available",
        CLOUD,
        "--message-format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    json_lines(&out)
        .into_iter()
        .filter_map(|v| v.get("build").cloned())
        .collect()
}

/// The oldest cloud build the archive has headers for, fetched into the
/// cache with its debug vmlinux and source, and the current one.
fn oldest_and_newest() -> (String, String) {
    let newest = common::release_of(&common::debian_kernel("vmlinux"));
    let oldest = available()
        .into_iter()
        .find(|b| b["headers"] == true && b["dbg"] == true)
        .and_then(|b| b["release"].as_str().map(str::to_string))
        .expect("the archive has a cloud build with headers");
    let (code, _, err) = kgpc(&["kernel", "fetch", &oldest]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = kgpc(&["kernel", "fetch", "--source", &oldest]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = kgpc(&["kernel", "fetch", "--source", &newest]);
    assert_eq!(code, 0, "{err}");
    assert_ne!(oldest, newest, "the archive has more than one build");
    (oldest, newest)
}

/// A copy of example `name` whose target is exactly `releases`.
fn example_for(name: &str, releases: &[&str], dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(common::root().join("examples").join(name)).unwrap();
    let quoted: Vec<String> = releases.iter().map(|r| format!("\"{r}\"")).collect();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("release "))
        .expect("the example names its releases");
    let spec = dir.join(name);
    std::fs::write(
        &spec,
        text.replace(line, &format!("    release {}", quoted.join(" "))),
    )
    .unwrap();
    spec
}

#[test]
fn the_archive_lists_each_build_with_what_it_still_has() {
    let builds = available();
    assert!(builds.len() >= 2, "{builds:?}");
    for build in &builds {
        let release = build["release"].as_str().unwrap();
        assert!(release.starts_with("6.1.0-") && release.ends_with("-cloud-amd64"));
        assert!(build["version"].as_str().unwrap().starts_with("6.1."));
        for field in ["headers", "dbg", "cached", "dbg_cached"] {
            assert!(build[field].is_boolean(), "{field} of {build}");
        }
    }
    let newest = common::release_of(&common::debian_kernel("vmlinux"));
    let current = builds
        .iter()
        .find(|b| b["release"] == newest.as_str())
        .expect("the current build is listed");
    assert_eq!(current["headers"], true);
    assert_eq!(current["cached"], true);
    assert_eq!(current["dbg_cached"], true);

    // Without --available, JSON lists the cache: what each release keeps and its size.
    let (code, out, err) = kgpc(&["kernel", "list", "--message-format", "json"]);
    assert_eq!(code, 0, "{err}");
    let cached = json_lines(&out)
        .into_iter()
        .filter_map(|v| v.get("build").cloned())
        .find(|b| b["release"] == newest.as_str())
        .expect("the current build is in the cache's list");
    assert_eq!(cached["debug"], "debug vmlinux");
    assert!(cached["bytes"].as_u64().unwrap() > cached["index_bytes"].as_u64().unwrap());

    // A spec stands for its target's patterns; text lists the same builds.
    let (code, out, err) = kgpc(&[
        "kernel",
        "list",
        "--available",
        "examples/livepatch-sample.kgp",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("BUILD "), "{out}");
    assert_eq!(out.lines().count(), builds.len() + 1, "{out}");
    assert!(
        err.contains(&format!("{} builds in apt's lists", builds.len())),
        "{err}"
    );
}

#[test]
fn a_pattern_that_matches_no_build_and_a_build_whose_headers_are_gone_are_coded_errors() {
    let (code, _, err) = kgpc(&["kernel", "fetch", "6.1.0-*-clod-amd64"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("error[KGP0219]"), "{err}");
    let (code, _, err) = kgpc(&["kernel", "list", "--available", "9.9.*"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("error[KGP0219]"), "{err}");

    // Debian keeps images longer than headers; such a build is refused by
    // name, and nothing of it is left in the cache.
    let Some(gone) = available()
        .into_iter()
        .find(|b| b["headers"] == false && b["cached"] == false)
    else {
        // Every build the archive lists still has its headers: nothing to refuse.
        return;
    };
    let release = gone["release"].as_str().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(["kernel", "fetch", release])
        .env("KGPC_CACHE_DIR", cache.path())
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{err}");
    assert!(err.contains("error[KGP0221]"), "{err}");
    assert!(err.contains(&format!("linux-headers-{release}")), "{err}");
    assert!(!cache.path().join("kernels").join(release).exists());
}

#[test]
fn every_build_gets_its_own_module_with_its_own_vermagic_and_a_table() {
    let (oldest, newest) = oldest_and_newest();
    let dir = tempfile::tempdir().unwrap();
    let spec = example_for("livepatch-sample.kgp", &[&oldest, &newest], dir.path());
    let out = dir.path().join("out");
    let (code, stdout, err) = kgpc(&[
        "build",
        spec.to_str().unwrap(),
        "--all-releases",
        "-o",
        out.to_str().unwrap(),
        "--message-format",
        "json",
    ]);
    assert_eq!(code, 0, "{stdout}{err}");
    let records = json_lines(&stdout);
    let builds: Vec<&Value> = records.iter().filter_map(|r| r.get("build")).collect();
    assert_eq!(builds.len(), 2, "{stdout}");
    for (build, release) in builds.iter().zip([&oldest, &newest]) {
        assert_eq!(build["release"], release.as_str());
        assert_eq!(build["status"], "passed");
        assert!(
            build["facts"]
                .as_str()
                .unwrap()
                .starts_with("debug vmlinux"),
            "{build}"
        );
        let module = out.join(release).join("livepatch-sample.ko");
        assert_eq!(build["module"], module.to_str().unwrap());
        let vermagic = Command::new("modinfo")
            .args(["-F", "vermagic"])
            .arg(&module)
            .output()
            .expect("modinfo runs");
        let vermagic = String::from_utf8_lossy(&vermagic.stdout);
        assert!(vermagic.starts_with(&format!("{release} ")), "{vermagic}");
    }
    let summary = records.iter().find_map(|r| r.get("summary")).unwrap();
    assert_eq!(summary["builds"], 2);
    assert_eq!(summary["passed"], 2);
    assert_eq!(summary["all_releases"], true);

    // For people: a row per build under a heading, and the totals.
    let (code, _, err) = kgpc(&["check", spec.to_str().unwrap(), "--all-releases"]);
    assert_eq!(code, 0, "{err}");
    let heading = err
        .lines()
        .position(|l| l.trim_start().starts_with("BUILD "))
        .expect(&err);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[heading + 1].trim_start().starts_with(&oldest),
        "{err}"
    );
    assert!(
        lines[heading + 2].trim_start().starts_with(&newest),
        "{err}"
    );
    assert!(
        err.contains("2 builds: 2 passed, 0 skipped, 0 failed"),
        "{err}"
    );
}

#[test]
fn one_body_for_a_function_that_differs_between_builds_is_refused_naming_them() {
    let (oldest, newest) = oldest_and_newest();
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::root().join("tests/fleet/function-differs.kgp"))
        .unwrap()
        .replace(
            "release \"6.1.0-*-cloud-amd64\"",
            &format!("release \"{oldest}\" \"{newest}\""),
        );
    let spec = dir.path().join("function-differs.kgp");
    std::fs::write(&spec, text).unwrap();
    let (code, out, err) = kgpc(&[
        "check",
        spec.to_str().unwrap(),
        "--all-releases",
        "--message-format",
        "json",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let records = json_lines(&out);
    let differs = records
        .iter()
        .find(|r| r["code"] == "KGP0222")
        .expect("KGP0222 is reported");
    assert_eq!(differs["severity"], "error");
    assert_eq!(differs["spans"][0]["line_start"], 19);
    let notes: Vec<&str> = differs["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].starts_with("version 1 ") && notes[0].ends_with(&oldest),
        "{notes:?}"
    );
    assert!(
        notes[1].starts_with("version 2 ") && notes[1].ends_with(&newest),
        "{notes:?}"
    );
    // For people, the diagnostic points at the spec's line, with the groups as notes.
    let (code, _, err) = kgpc(&["check", spec.to_str().unwrap(), "--all-releases"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error[KGP0222]: `proc_register` is not the same function in every build"),
        "{err}"
    );
    assert!(err.contains("one body replaces it in every build"), "{err}");
    // Each build on its own is fine: the difference is the fleet's.
    let builds: Vec<&Value> = records.iter().filter_map(|r| r.get("build")).collect();
    assert!(builds.iter().all(|b| b["status"] == "passed"), "{out}");

    // The same body for a function no build changed passes.
    let same = example_for("livepatch-sample.kgp", &[&oldest, &newest], dir.path());
    let (code, out, err) = kgpc(&[
        "check",
        same.to_str().unwrap(),
        "--all-releases",
        "--message-format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!out.contains("KGP0222"), "{out}");
}

#[test]
fn the_plan_is_a_matrix_a_ci_system_takes() {
    let newest = common::release_of(&common::debian_kernel("vmlinux"));
    let (code, out, err) = kgpc(&[
        "build",
        "examples/livepatch-sample.kgp",
        "--all-releases",
        "--fetch",
        "--plan",
        "github",
        "-o",
        "out",
    ]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(out.trim()).expect("one JSON object");
    let include = plan["include"].as_array().unwrap();
    let fetchable: Vec<String> = available()
        .into_iter()
        .filter(|b| b["headers"] == true)
        .map(|b| b["release"].as_str().unwrap().to_string())
        .collect();
    let planned: Vec<&str> = include
        .iter()
        .map(|j| j["release"].as_str().unwrap())
        .collect();
    assert_eq!(planned, fetchable, "one job per build the archive can give");
    assert!(planned.contains(&newest.as_str()));
    for job in include {
        let release = job["release"].as_str().unwrap();
        assert_eq!(
            job["build"],
            format!(
                "kgpc build examples/livepatch-sample.kgp --release {release} -o out/{release}"
            )
        );
        assert_eq!(job["fetch"], format!("kgpc kernel fetch {release}"));
    }
    // Builds the archive cannot give are named, not planned.
    let gone = available().iter().filter(|b| b["headers"] == false).count();
    assert_eq!(
        err.matches("is left out of the plan").count(),
        gone,
        "{err}"
    );

    let (code, out, err) = kgpc(&[
        "build",
        "examples/livepatch-sample.kgp",
        "--all-releases",
        "--plan",
        "gitlab",
        "-o",
        "out",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("build-out:\n  parallel:\n    matrix:\n      - RELEASE:\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!("          - \"{newest}\"\n")),
        "{out}"
    );
    assert!(out.contains("    - kgpc build examples/livepatch-sample.kgp --release \"$RELEASE\" -o \"out/$RELEASE\"\n"), "{out}");
}

#[test]
fn the_example_is_proven_in_the_vm_of_each_build() {
    let (oldest, newest) = oldest_and_newest();
    let dir = tempfile::tempdir().unwrap();
    let spec = example_for("livepatch-sample.kgp", &[&oldest, &newest], dir.path());
    let (code, out, err) = kgpc(&[
        "test",
        spec.to_str().unwrap(),
        "--all-releases",
        "--smp",
        "1",
        "--message-format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let records = json_lines(&out);
    let builds: Vec<&Value> = records.iter().filter_map(|r| r.get("build")).collect();
    assert_eq!(builds.len(), 2);
    for (build, release) in builds.iter().zip([&oldest, &newest]) {
        assert_eq!(build["status"], "passed", "{build}");
        assert_eq!(
            build["summary"]["vm"]["booted"],
            release.as_str(),
            "{build}"
        );
    }
}
