//! Facts without the disks, on Debian 12's real debug vmlinux: in a kgpc
//! cache of the test's own (hard links to the fetched files, so nothing of
//! the real cache is removed), `kgpc kernel drop-debug` removes the vmlinux
//! and the `-dbg` package, and every example compiles to the same
//! diagnostics and the same C from the index alone as it did with the
//! vmlinux; a question the index does not hold is a warning (KGP0237), a
//! missing index an error (KGP0238); `kgpc kernel list` tells the two kinds
//! of release apart and `kgpc kernel gc` keeps the cache within a size.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

/// Links `from` to `to`, hard where the file system allows it.
fn link(from: &Path, to: &Path) {
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    if fs::hard_link(from, to).is_err() {
        std::os::unix::fs::symlink(from, to).unwrap();
    }
}

/// A cache of the test's own holding the release's debug vmlinux, its
/// tree's marks, its `-dbg` package and the real cache's index files of the
/// vmlinux (its index and census), all linked, not copied.
fn own_cache(vmlinux: &Path, release: &str) -> tempfile::TempDir {
    let real_root = vmlinux.ancestors().nth(5).unwrap().to_path_buf();
    let real_cache = real_root.ancestors().nth(3).unwrap().to_path_buf();
    let cache = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let tree = cache.path().join("kernels").join(release);
    let root = tree.join("root");
    link(
        vmlinux,
        &root
            .join("usr/lib/debug/boot")
            .join(format!("vmlinux-{release}")),
    );
    for mark in [".kgpc-complete", ".kgpc-dbg-complete"] {
        fs::copy(real_root.join(mark), root.join(mark)).unwrap();
    }
    fs::write(tree.join("release"), format!("{release}\n")).unwrap();
    for entry in fs::read_dir(real_cache.join("debs")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!("linux-image-{release}-dbg_")) {
            link(&entry.path(), &cache.path().join("debs").join(&name));
        }
    }
    let build_id = build_id_of(vmlinux);
    for entry in fs::read_dir(real_cache.join("index")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&build_id) && !name.ends_with(".json") || name.ends_with(".census.json")
        {
            link(&entry.path(), &cache.path().join("index").join(&name));
        }
    }
    cache
}

/// Links the image's modules and the debug objects of modules the real
/// cache took from the `-dbg` package into the test's cache, for the
/// examples that patch a module.
fn with_modules(vmlinux: &Path, release: &str, cache: &Path) {
    let real_root = vmlinux.ancestors().nth(5).unwrap();
    let root = cache.join("kernels").join(release).join("root");
    for dir in [
        format!("lib/modules/{release}"),
        format!("usr/lib/debug/lib/modules/{release}"),
    ] {
        if !real_root.join(&dir).is_dir() {
            continue;
        }
        let parent = root.join(&dir).parent().unwrap().to_path_buf();
        fs::create_dir_all(&parent).unwrap();
        let status = std::process::Command::new("cp")
            .arg("-al")
            .arg(real_root.join(&dir))
            .arg(&parent)
            .status()
            .expect("cp runs");
        assert!(status.success());
    }
}

/// The build id `kgpc inspect` reports for `vmlinux`.
fn build_id_of(vmlinux: &Path) -> String {
    let out = std::process::Command::new("readelf")
        .args(["-n"])
        .arg(vmlinux)
        .output()
        .expect("readelf runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Build ID: "))
        .expect("a build id")
        .trim()
        .to_string()
}

/// What one compile printed and wrote.
#[derive(Debug, PartialEq, Eq)]
struct Compiled {
    status: i32,
    stdout: String,
    stderr: String,
    files: Vec<(String, String)>,
}

fn compile(cache: &Path, release: &str, spec: &Path, out: &Path) -> Compiled {
    let args = [
        "compile",
        spec.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--release",
        release,
        "--force",
    ];
    let (status, stdout, stderr) = common::kgpc_in(&common::root(), cache, "", &args);
    let mut files: Vec<(String, String)> = fs::read_dir(out)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read_to_string(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    Compiled {
        status,
        stdout,
        stderr,
        files,
    }
}

fn examples() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = fs::read_dir(common::root().join("examples"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "kgp"))
        .collect();
    specs.sort();
    specs
}

#[test]
fn every_example_compiles_the_same_from_the_index_alone() {
    let vmlinux = common::debian_kernel("vmlinux");
    let release = common::release_of(&vmlinux);
    let cache = own_cache(&vmlinux, &release);
    with_modules(&vmlinux, &release, cache.path());
    let out = tempfile::tempdir().unwrap();
    let specs = examples();
    assert!(specs.len() >= 10, "the examples are there");
    let with_vmlinux: Vec<Compiled> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            compile(
                cache.path(),
                &release,
                spec,
                &out.path().join(i.to_string()),
            )
        })
        .collect();
    for (spec, compiled) in specs.iter().zip(&with_vmlinux) {
        assert!(
            compiled.stderr.contains("vmlinux-"),
            "{} was checked against the vmlinux: {compiled:?}",
            spec.display()
        );
    }

    let (status, stdout, stderr) = common::kgpc_in(
        &common::root(),
        cache.path(),
        "",
        &["kernel", "drop-debug", &release],
    );
    assert_eq!(status, 0, "{stdout}{stderr}");
    let own_vmlinux = cache.path().join(format!(
        "kernels/{release}/root/usr/lib/debug/boot/vmlinux-{release}"
    ));
    assert!(!own_vmlinux.exists(), "the vmlinux was dropped: {stdout}");
    assert!(
        stdout.contains(&format!("linux-image-{release}-dbg_")),
        "{stdout}"
    );
    assert!(vmlinux.is_file(), "the real cache keeps its vmlinux");
    let (_, list, _) = common::kgpc_in(&common::root(), cache.path(), "", &["kernel", "list"]);
    assert!(
        list.contains(&release) && list.contains("index only"),
        "{list}"
    );

    for ((spec, before), i) in specs.iter().zip(&with_vmlinux).zip(0..) {
        let after = compile(
            cache.path(),
            &release,
            spec,
            &out.path().join(i.to_string()),
        );
        assert_eq!(
            &after,
            before,
            "{} compiles the same from the index alone",
            spec.display()
        );
    }

    // A question the rendered facts do not hold is a coded warning.
    let facts = fs::read_dir(cache.path().join("index"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".facts1.json"))
        .expect("the rendered facts");
    let mut table: serde_json::Value = serde_json::from_slice(&fs::read(&facts).unwrap()).unwrap();
    table["prototypes"] = serde_json::json!({});
    fs::write(&facts, serde_json::to_vec(&table).unwrap()).unwrap();
    let sample = common::root().join("examples/livepatch-sample.kgp");
    let gapped = compile(cache.path(), &release, &sample, &out.path().join("gap"));
    assert!(
        gapped.stderr.contains("warning[KGP0237]")
            && gapped
                .stderr
                .contains("the prototype of `cmdline_proc_show`"),
        "{}",
        gapped.stderr
    );

    // Without its index, the release cannot be checked, and says why.
    fs::remove_file(&facts).unwrap();
    let missing = compile(cache.path(), &release, &sample, &out.path().join("missing"));
    assert_eq!(missing.status, 1, "{missing:?}");
    assert!(
        missing.stderr.contains("error[KGP0238]"),
        "{}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("--restore-debug"),
        "{}",
        missing.stderr
    );
}

#[test]
fn gc_keeps_the_cache_within_its_size_and_refuses_bad_sizes() {
    let vmlinux = common::debian_kernel("vmlinux");
    let release = common::release_of(&vmlinux);
    let cache = own_cache(&vmlinux, &release);
    let root = common::root();
    let (status, _, stderr) = common::kgpc_in(
        &root,
        cache.path(),
        "",
        &["kernel", "gc", "--max-size", "5Q"],
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("error[KGP0239]"), "{stderr}");

    let (status, dry, stderr) = common::kgpc_in(
        &root,
        cache.path(),
        "",
        &["kernel", "gc", "--max-size", "1", "--dry-run"],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        dry.contains(&format!("would remove the debug files of {release}")),
        "{dry}"
    );
    assert!(
        dry.contains(&format!("would remove the release {release}")),
        "{dry}"
    );
    let tree = cache.path().join("kernels").join(&release);
    assert!(tree
        .join("root/usr/lib/debug/boot")
        .join(format!("vmlinux-{release}"))
        .is_file());

    // 200 MB holds the index and its rendered facts, not the vmlinux or the package.
    let (status, done, stderr) = common::kgpc_in(
        &root,
        cache.path(),
        "",
        &["kernel", "gc", "--max-size", "200M"],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        done.contains(&format!("removed the debug files of {release}")),
        "{done}"
    );
    assert!(!done.contains("removed the release"), "{done}");
    assert!(tree.join("release").is_file(), "the release's tree is kept");
    let (_, list, _) = common::kgpc_in(&root, cache.path(), "", &["kernel", "list"]);
    assert!(list.contains("index only"), "{list}");

    let (status, done, stderr) = common::kgpc_in(
        &root,
        cache.path(),
        "",
        &["kernel", "gc", "--max-size", "1"],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        done.contains(&format!("removed the release {release}")),
        "{done}"
    );
    assert!(!tree.exists());
    assert!(vmlinux.is_file(), "the real cache keeps its vmlinux");
}
