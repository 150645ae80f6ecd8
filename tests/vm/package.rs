//! `kgpc package`: one Debian package of the sample patch for every cached
//! build (a cache of this test's own holding 6.1.0-57 and 6.1.0-50, linked
//! to the shared one), checked by lintian and dpkg-deb, rebuilt byte for
//! byte, and its maintainer scripts run in Debian's kernel in the VM: the
//! patch is live after postinst and gone after prerm.

use super::*;
use std::path::Path;

const RELEASES: [&str; 2] = ["6.1.0-50-cloud-amd64", "6.1.0-57-cloud-amd64"];

/// A kgpc cache of the test's own whose kernels are the shared cache's
/// (linked, never written) and whose index files are hard links of its.
fn own_cache(dir: &Path) -> PathBuf {
    let shared = common::debian_kernel("root");
    let shared = shared.ancestors().nth(3).unwrap().to_path_buf();
    let cache = dir.join("cache");
    fs::create_dir_all(cache.join("kernels")).unwrap();
    for release in RELEASES {
        let tree = shared.join("kernels").join(release);
        assert!(
            tree.join("root/.kgpc-complete").is_file(),
            "the shared cache needs {release}: kgpc kernel fetch {release}"
        );
        std::os::unix::fs::symlink(&tree, cache.join("kernels").join(release)).unwrap();
    }
    fs::create_dir_all(cache.join("index")).unwrap();
    for entry in fs::read_dir(shared.join("index")).unwrap().flatten() {
        let to = cache.join("index").join(entry.file_name());
        if fs::hard_link(entry.path(), &to).is_err() {
            fs::copy(entry.path(), &to).unwrap();
        }
    }
    cache
}

fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (scripts/setup.sh installs it): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{program} {args:?}:\n{text}");
    text
}

fn sha256(path: &Path) -> String {
    run("sha256sum", &[path.to_str().unwrap()])
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// The spec whose test block runs the extracted scripts in the guest: its
/// own patch (`probe`) is loaded by `kgpc test` only after the setup has
/// installed, loaded, disabled and unloaded the packaged one.
const PROBE: &str = r#"patch probe {
    description "Runs a package's maintainer scripts in the guest"
    author "kgpc tests <kgpc@example.org>"
}

target {
    release "6.1.0-*-cloud-amd64"
    arch x86_64
}

include <linux/seq_file.h>

object vmlinux {
    replace int cmdline_proc_show(struct seq_file *m, void *v) {
        seq_printf(m, "%s\n", "probe");
        return 0;
    }
}

test {
    file "postinst"
    file "prerm"
    file "postrm"
    file "livepatch-sample.ko"
    setup """
        set -e
        log=/tmp/package.log
        release="$(uname -r)"
        # What the image package would have installed: its module list.
        mkdir -p "/lib/modules/$release/updates"
        touch "/lib/modules/$release/modules.order"
        # What dpkg unpacks before it runs postinst.
        cp livepatch-sample.ko "/lib/modules/$release/updates/"
        sh ./postinst configure
        [ -e "/lib/modules/$release/modules.dep" ] && echo "depmod ran" >> $log
        [ "$(cat /sys/kernel/livepatch/livepatch_sample/enabled)" = 1 ] && echo "enabled after postinst" >> $log
        grep -q "this has been live patched" /proc/cmdline && echo "patched after postinst" >> $log
        sh ./prerm remove
        [ ! -e /sys/kernel/livepatch/livepatch_sample ] && echo "disabled after prerm" >> $log
        [ ! -e /sys/module/livepatch_sample ] && echo "unloaded after prerm" >> $log
        rm "/lib/modules/$release/updates/livepatch-sample.ko"
        sh ./postrm remove
        grep -q livepatch-sample "/lib/modules/$release/modules.dep" || echo "forgotten after postrm" >> $log
        sh ./prerm remove && echo "prerm without the patch" >> $log
        """
    fixed "cat /proc/cmdline" contains "probe"
    always "cat /tmp/package.log" contains "depmod ran" contains "enabled after postinst" contains "patched after postinst" contains "disabled after prerm" contains "unloaded after prerm" contains "forgotten after postrm" contains "prerm without the patch"
}
"#;

#[test]
fn a_package_of_every_cached_build_passes_lintian_and_its_scripts_work_in_the_guest() {
    let dir = tempfile::tempdir().unwrap();
    let cache = own_cache(dir.path());
    let env = [("KGPC_CACHE_DIR", cache.to_str().unwrap())];
    let dist = dir.path().join("dist");
    let dist_arg = dist.to_str().unwrap();
    let args = ["package", "examples/livepatch-sample.kgp", "-o", dist_arg];
    let packaged = kgpc(&args, &env);
    assert_eq!(packaged.status, 0, "{}", packaged.output);
    eprintln!(
        "packaged two builds in {:.1} s",
        packaged.elapsed.as_secs_f64()
    );
    let debs: Vec<PathBuf> = fs::read_dir(&dist)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    assert_eq!(debs.len(), 1, "{debs:?}");
    let deb = &debs[0];
    let name = deb.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("livepatch-sample_0+") && name.ends_with("_amd64.deb"),
        "{name}"
    );
    assert!(packaged.output.contains(&deb.display().to_string()));
    let no_temporaries = fs::read_dir(&dist)
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().starts_with(".kgpc-"));
    assert!(no_temporaries, "the staging directory is gone");

    let deb_arg = deb.to_str().unwrap();
    let info = run("dpkg-deb", &["-I", deb_arg]);
    for field in [
        "Package: livepatch-sample\n",
        "Architecture: amd64\n",
        "Maintainer: kgpc examples <kgpc@example.org>\n",
        "Depends: kmod, linux-image-6.1.0-50-cloud-amd64 | linux-image-6.1.0-57-cloud-amd64\n",
        "Enhances: linux-image-6.1.0-50-cloud-amd64, linux-image-6.1.0-57-cloud-amd64\n",
        "   6.1.0-50-cloud-amd64\n",
        " postinst ",
        " prerm ",
        " postrm ",
        " md5sums ",
    ] {
        assert!(info.contains(field), "no {field:?} in:\n{info}");
    }
    let contents = run("dpkg-deb", &["-c", deb_arg]);
    for release in RELEASES {
        let module = format!(
            "-rw-r--r-- root/root {{}} ./lib/modules/{release}/updates/livepatch-sample.ko"
        );
        let found = contents.lines().any(|l| {
            l.starts_with("-rw-r--r-- root/root")
                && l.ends_with(&format!(
                    "./lib/modules/{release}/updates/livepatch-sample.ko"
                ))
        });
        assert!(found, "no {module} in:\n{contents}");
    }
    for file in [
        "./lib/systemd/system/livepatch-sample.service",
        "./usr/share/doc/livepatch-sample/copyright",
        "./usr/share/doc/livepatch-sample/changelog.gz",
    ] {
        assert!(contents.contains(file), "no {file} in:\n{contents}");
    }
    // Every file carries the newest kernel's build day, 6.1.0-57's.
    assert!(
        contents.lines().all(|l| l.contains(" 2026-11-26 00:00 ")),
        "{contents}"
    );

    let lintian = Command::new("lintian")
        .args(["--pedantic", "--info", deb_arg])
        .env("LC_ALL", "C")
        .output()
        .expect("lintian runs (scripts/setup.sh installs it)");
    let report = String::from_utf8_lossy(&lintian.stdout).into_owned();
    let tags: Vec<&str> = report
        .lines()
        .filter(|l| l.len() > 2 && l.as_bytes()[1] == b':' && !l.starts_with("N:"))
        .collect();
    eprintln!("lintian:\n{}", tags.join("\n"));
    assert!(
        !tags.iter().any(|l| l.starts_with("E:")),
        "lintian errors:\n{report}"
    );
    assert!(lintian.status.success(), "{report}");

    // systemd accepts the boot-time unit, and its condition names the booted
    // kernel's release: on this host's kernel, which the package does not
    // cover, the unit is skipped rather than failed.
    let unit_dir = dir.path().join("unit");
    run("dpkg-deb", &["-x", deb_arg, unit_dir.to_str().unwrap()]);
    let unit = unit_dir.join("lib/systemd/system/livepatch-sample.service");
    run("systemd-analyze", &["verify", unit.to_str().unwrap()]);
    let text = fs::read_to_string(&unit).unwrap();
    let condition = text
        .lines()
        .find(|l| l.starts_with("ConditionPathExists=/lib/modules/%v/updates/"))
        .expect("the unit names the booted kernel's module");
    let host = run("uname", &["-r"]);
    let checked = Command::new("systemd-analyze")
        .args(["condition", condition])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stderr).into_owned();
    assert!(
        said.contains(&format!("/lib/modules/{}/updates/", host.trim())),
        "{said}"
    );
    if !RELEASES.contains(&host.trim()) {
        assert!(!checked.status.success(), "{said}");
    }

    // The same spec and builds give the same package, byte for byte.
    let first = sha256(deb);
    fs::remove_dir_all(dist.join("build")).unwrap();
    fs::remove_file(deb).unwrap();
    let again = kgpc(&args, &env);
    assert_eq!(again.status, 0, "{}", again.output);
    assert_eq!(sha256(deb), first, "the package is reproducible");

    // The scripts, run in the guest as dpkg would run them.
    let unpacked = dir.path().join("unpacked");
    run("dpkg-deb", &["-R", deb_arg, unpacked.to_str().unwrap()]);
    let probe = dir.path().join("probe");
    fs::create_dir(&probe).unwrap();
    for script in ["postinst", "prerm", "postrm"] {
        let text = fs::read_to_string(unpacked.join("DEBIAN").join(script)).unwrap();
        assert!(text.starts_with("#!/bin/sh\n") && text.contains("\nset -e\n"));
        fs::write(probe.join(script), text).unwrap();
    }
    let release = release();
    fs::copy(
        unpacked.join(format!("lib/modules/{release}/updates/livepatch-sample.ko")),
        probe.join("livepatch-sample.ko"),
    )
    .unwrap();
    fs::write(probe.join("probe.kgp"), PROBE).unwrap();
    let spec = probe.join("probe.kgp");
    let tested = kgpc(
        &["test", spec.to_str().unwrap(), "--release", &release],
        &env,
    );
    assert_eq!(tested.status, 0, "{}", tested.output);
    assert!(tested.output.contains(": passed"), "{}", tested.output);
}

#[test]
fn nothing_to_package_is_a_coded_error() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("empty-cache");
    fs::create_dir_all(cache.join("kernels")).unwrap();
    let dist = dir.path().join("dist");
    let outcome = kgpc(
        &[
            "package",
            "examples/livepatch-sample.kgp",
            "-o",
            dist.to_str().unwrap(),
        ],
        &[("KGPC_CACHE_DIR", cache.to_str().unwrap())],
    );
    assert_eq!(outcome.status, 4, "{}", outcome.output);
    assert!(
        outcome.output.contains("error[KGP0228]")
            && outcome.output.contains("6.1.0-*-cloud-amd64")
            && outcome.output.contains("kgpc kernel fetch"),
        "{}",
        outcome.output
    );
    assert!(!dist.exists(), "nothing was written");
}

#[test]
fn a_package_that_cannot_be_written_is_a_coded_error() {
    let dir = tempfile::tempdir().unwrap();
    let cache = own_cache(dir.path());
    // The output is a file, so neither the builds nor the package can go there.
    let dist = dir.path().join("dist");
    fs::write(&dist, "a file\n").unwrap();
    let outcome = kgpc(
        &[
            "package",
            "examples/livepatch-sample.kgp",
            "--release",
            "6.1.0-57-cloud-amd64",
            "--no-kernel-checks",
            "-o",
            dist.to_str().unwrap(),
        ],
        &[("KGPC_CACHE_DIR", cache.to_str().unwrap())],
    );
    assert_eq!(outcome.status, 3, "{}", outcome.output);
    assert_eq!(fs::read_to_string(&dist).unwrap(), "a file\n");
}

#[test]
fn a_spec_without_a_maintainer_is_a_coded_error() {
    let dir = tempfile::tempdir().unwrap();
    let cache = own_cache(dir.path());
    let sample = fs::read_to_string(root().join("examples/livepatch-sample.kgp")).unwrap();
    let spec = dir.path().join("anonymous.kgp");
    let without: String = sample
        .lines()
        .filter(|l| !l.trim_start().starts_with("author "))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&spec, without).unwrap();
    let dist = dir.path().join("dist");
    let mut command = Command::new(env!("CARGO_BIN_EXE_kgpc"));
    let output = command
        .args(["package", spec.to_str().unwrap(), "--no-kernel-checks"])
        .args([
            "--release",
            "6.1.0-57-cloud-amd64",
            "-o",
            dist.to_str().unwrap(),
        ])
        .env("KGPC_CACHE_DIR", &cache)
        .env_remove("DEBEMAIL")
        .env_remove("KGPC_KDIR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{text}");
    assert!(
        text.contains("error[KGP0229]") && text.contains("DEBEMAIL"),
        "{text}"
    );
    let debs = fs::read_dir(&dist)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name() != "build")
        .count();
    assert_eq!(debs, 0, "no package and no staging directory is left");
}

#[test]
fn a_signed_package_holds_signed_modules() {
    let dir = tempfile::tempdir().unwrap();
    let cache = own_cache(dir.path());
    let (key, cert) = super::signing::make_key(dir.path(), "kgpc-package-test");
    let dist = dir.path().join("dist");
    let outcome = kgpc(
        &[
            "package",
            "examples/livepatch-sample.kgp",
            "--release",
            "6.1.0-57-cloud-amd64",
            "--no-kernel-checks",
            "--sign-key",
            key.to_str().unwrap(),
            "--sign-cert",
            cert.to_str().unwrap(),
            "-o",
            dist.to_str().unwrap(),
        ],
        &[("KGPC_CACHE_DIR", cache.to_str().unwrap())],
    );
    assert_eq!(outcome.status, 0, "{}", outcome.output);
    let deb = fs::read_dir(&dist)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "deb"))
        .expect("a package");
    let files = dir.path().join("files");
    run(
        "dpkg-deb",
        &["-x", deb.to_str().unwrap(), files.to_str().unwrap()],
    );
    let module = files.join("lib/modules/6.1.0-57-cloud-amd64/updates/livepatch-sample.ko");
    assert_eq!(
        super::signing::modinfo("signer", &module),
        "kgpc-package-test"
    );
    assert_eq!(super::signing::modinfo("sig_hashalgo", &module), "sha256");
}
