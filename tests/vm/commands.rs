//! `kgpc kernel fetch` without a network, and the JSON summary record of `kgpc test`.

use super::*;

/// `kgpc kernel fetch` without network access: a clear error and a non-zero exit.
#[test]
fn kernel_fetch_without_network_fails_clearly() {
    let bin = tempfile::tempdir().unwrap();
    // apt-cache knows nothing and apt-get cannot reach the archive, as on a machine offline.
    let apt_get = bin.path().join("apt-get");
    fs::write(
        &apt_get,
        "#!/bin/sh\necho \"W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'\" >&2\nexit 100\n",
    )
    .unwrap();
    let apt_cache = bin.path().join("apt-cache");
    fs::write(&apt_cache, "#!/bin/sh\nexit 0\n").unwrap();
    for tool in [&apt_get, &apt_cache] {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tool, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let cache = tempfile::tempdir().unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let outcome = kgpc(
        &["kernel", "fetch", "6.1.0-1-cloud-amd64"],
        &[
            ("PATH", &path),
            ("KGPC_CACHE_DIR", &cache.path().display().to_string()),
        ],
    );
    assert_eq!(outcome.status, 4, "{}", outcome.output);
    assert!(
        outcome.output.contains("error[KGP0207]")
            && outcome.output.contains("Temporary failure resolving"),
        "{}",
        outcome.output
    );
    let outcome = kgpc(
        &["kernel", "fetch", "not-a-release"],
        &[("KGPC_CACHE_DIR", &cache.path().display().to_string())],
    );
    assert_eq!(outcome.status, 4, "{}", outcome.output);
    assert!(
        outcome.output.contains("is not a kernel release"),
        "{}",
        outcome.output
    );
}

#[test]
fn kgpc_test_ends_its_json_output_with_a_summary_record() {
    let release = release();
    let outcome = kgpc(
        &[
            "test",
            "examples/livepatch-sample.kgp",
            "--release",
            &release,
            "--message-format",
            "json",
        ],
        &[],
    );
    assert_eq!(outcome.status, 0, "{}", outcome.output);
    let summary = outcome
        .output
        .lines()
        .rfind(|l| l.starts_with("{\"summary\""))
        .unwrap_or_else(|| panic!("no summary record:\n{}", outcome.output));
    let record: serde_json::Value = serde_json::from_str(summary).unwrap();
    let summary = &record["summary"];
    assert_eq!(summary["command"], "test", "{summary}");
    assert_eq!(summary["status"], "ok", "{summary}");
    assert_eq!(summary["release"], release.as_str(), "{summary}");
    assert_eq!(summary["checked"], true, "{summary}");
}
