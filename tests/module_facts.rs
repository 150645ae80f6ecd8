//! Module objects get the facts vmlinux gets, on Debian 12's real `nfsd`
//! module: its debug object is taken from the `-dbg` package when a spec
//! names it (and no other module's), the image's module is found in kgpc's
//! own cache without `--modules`, its split BTF is read against vmlinux's BTF,
//! and addresses are what `nm` shows for the `.ko`.

mod common;

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const MODULE: &str = "kernel/fs/nfsd/nfsd.ko";

/// A cache of its own holding the image's nfsd module, the debug vmlinux and the
/// downloaded packages (`debs`), but no module debug object.
fn cache_with_image(release: &str, root: &Path, debs: &Path) -> tempfile::TempDir {
    let cache = tempfile::tempdir().unwrap();
    let new_root = cache.path().join("kernels").join(release).join("root");
    let module = new_root.join(format!("lib/modules/{release}")).join(MODULE);
    fs::create_dir_all(module.parent().unwrap()).unwrap();
    fs::copy(
        root.join(format!("lib/modules/{release}")).join(MODULE),
        &module,
    )
    .unwrap();
    let boot = new_root.join("usr/lib/debug/boot");
    fs::create_dir_all(&boot).unwrap();
    let vmlinux = format!("vmlinux-{release}");
    std::os::unix::fs::symlink(
        root.join("usr/lib/debug/boot").join(&vmlinux),
        boot.join(&vmlinux),
    )
    .unwrap();
    std::os::unix::fs::symlink(debs, cache.path().join("debs")).unwrap();
    cache
}

/// Runs kgpc in `dir` with its own cache and no running kernel.
fn kgpc(dir: &Path, cache: &Path, args: &[&str]) -> (i32, String, String) {
    common::kgpc_in(dir, cache, "", args)
}

fn spec(release: &str, object: &str) -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    fs::write(
        work.path().join("fix.kgp"),
        format!("patch nfsd-fix {{ description \"x\" }}\ntarget {{ release \"{release}\" arch x86_64 }}\n{object}"),
    )
    .unwrap();
    work
}

/// `nm`'s values of the symbols called `name` in `ko`, in symbol-table order.
fn nm_values(ko: &Path, name: &str) -> Vec<u64> {
    let out = Command::new("nm").arg("-p").arg(ko).output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.split_whitespace().nth(2) == Some(name))
        .map(|l| u64::from_str_radix(l.split_whitespace().next().unwrap(), 16).unwrap())
        .collect()
}

fn hex(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn a_named_module_gets_its_debug_object_from_the_dbg_package() {
    let (release, root, debs) = common::debian_kernel_and_debs();
    let cache = cache_with_image(&release, &root, &debs);
    let work = spec(
        &release,
        "object nfsd {\n    replace nfsd_setattr {\n        return 0;\n    }\n}\n",
    );
    // No --modules: the image's module is found in the cache, and its debug object taken.
    let (code, _, stderr) = kgpc(
        work.path(),
        cache.path(),
        &["compile", "fix.kgp", "-o", "out"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "kgpc kernel: taking the debug object of {MODULE} from linux-image-{release}-dbg_"
        )),
        "{stderr}"
    );
    assert!(
        !stderr.contains("KGP0110") && !stderr.contains("KGP0116"),
        "{stderr}"
    );
    // This cache has no image to boot for a census; a spec of modules only hears it too.
    assert_eq!(stderr.matches("warning[KGP0115]").count(), 1, "{stderr}");
    let debug_dir = cache
        .path()
        .join("kernels")
        .join(&release)
        .join("root/usr/lib/debug/lib/modules")
        .join(&release);
    let debug_object = debug_dir.join(MODULE);
    assert!(debug_object.is_file());
    // Only the module the spec names was taken.
    let taken: Vec<_> = walk(&debug_dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "ko"))
        .collect();
    assert_eq!(taken, vec![debug_object.clone()]);
    // The prototype came from the module's DWARF.
    let c = fs::read_to_string(work.path().join("out/livepatch-nfsd-fix.c")).unwrap();
    assert!(
        c.contains("__be32 livepatch_nfsd_setattr(struct svc_rqst *rqstp, struct svc_fh *fhp, struct nfsd_attrs *attr, int check_guard, time64_t guardtime)"),
        "{c}"
    );

    // Later runs use it, and report what nm shows for the .ko: section offsets.
    let (code, stdout, stderr) = kgpc(
        work.path(),
        cache.path(),
        &[
            "inspect",
            "--release",
            &release,
            "--module",
            "nfsd",
            "--format",
            "json",
            "nfsd_open",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("taking the debug object"), "{stderr}");
    let facts: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let files: Vec<&str> = facts.iter().map(|f| f["file"].as_str().unwrap()).collect();
    assert_eq!(files, ["fs/nfsd/stats.c", "fs/nfsd/vfs.c"]);
    let addresses: Vec<u64> = facts.iter().map(|f| hex(&f["address"])).collect();
    assert_eq!(addresses, nm_values(&debug_object, "nfsd_open"));
    assert_eq!(
        facts[0]["prototype"],
        "int nfsd_open(struct inode *inode, struct file *file)"
    );
}

#[test]
fn an_image_module_is_read_with_split_btf_against_vmlinux() {
    let (release, root, _) = common::debian_kernel_and_debs();
    let image_dir = root.join(format!("lib/modules/{release}"));
    let image = image_dir.join(MODULE);
    let cache = root.ancestors().nth(3).unwrap().to_path_buf();
    let vmlinux = common::debian_kernel("vmlinux");
    // The image's module has no DWARF: every prototype comes from its split BTF,
    // whose types are mostly vmlinux's.
    let (code, stdout, stderr) = kgpc(
        Path::new("."),
        &cache,
        &[
            "inspect",
            "--vmlinux",
            vmlinux.to_str().unwrap(),
            "--module",
            "nfsd",
            "--modules",
            image_dir.to_str().unwrap(),
            "--format",
            "json",
            "nfsd_setattr",
            "nfsd_svc",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let facts: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let of = |n: &str| facts.iter().find(|f| f["name"] == n).unwrap().clone();
    assert!(of("nfsd_setattr")["file"].is_null(), "no DWARF: {stdout}");
    assert_eq!(
        of("nfsd_setattr")["prototype"],
        "__be32 nfsd_setattr(struct svc_rqst *rqstp, struct svc_fh *fhp, struct nfsd_attrs *attr, int check_guard, time64_t guardtime)"
    );
    assert_eq!(
        of("nfsd_svc")["prototype"],
        "int nfsd_svc(int nrservs, struct net *net, const struct cred *cred)"
    );
    assert_eq!(
        hex(&of("nfsd_setattr")["address"]),
        nm_values(&image, "nfsd_setattr")[0]
    );

    // When the debug object cannot be had (here: a damaged -dbg package), the check
    // says it used the image's module, and still gets the prototype from BTF.
    let broken = tempfile::tempdir().unwrap();
    fs::write(
        broken
            .path()
            .join(format!("linux-image-{release}-dbg_0_amd64.deb")),
        "not a package",
    )
    .unwrap();
    let own = cache_with_image(&release, &root, broken.path());
    let work = spec(
        &release,
        "object nfsd {\n    replace nfsd_setattr {\n        return 0;\n    }\n}\n",
    );
    let (code, _, stderr) = kgpc(work.path(), own.path(), &["check", "fix.kgp"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("note[KGP0116]: module `nfsd` was checked without its debug information"),
        "{stderr}"
    );
    assert!(
        stderr.contains("its debug object could not be taken from the -dbg package"),
        "{stderr}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}
