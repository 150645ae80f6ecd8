//! `--sign-key` and `--sign-cert`: the module signed with the build tree's own
//! `sign-file`, with a key and certificate made by openssl here, shown by
//! modinfo, loaded by Debian's kernel in the VM, and every way signing fails.

use super::*;
use std::path::Path;

/// A fresh RSA key and self-signed certificate whose subject is `/CN=NAME/`.
pub(super) fn make_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key.pem"));
    let cert = dir.join(format!("{name}.cert.pem"));
    let status = Command::new("openssl")
        .args(["req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes"])
        .arg("-subj")
        .arg(format!("/CN={name}/"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-days", "1", "-outform", "PEM"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs (apt-get install openssl)");
    assert!(status.success(), "openssl made no key");
    (key, cert)
}

/// What `modinfo -F FIELD` says of a module, trimmed.
pub(super) fn modinfo(field: &str, module: &Path) -> String {
    let output = Command::new("modinfo")
        .args(["-F", field])
        .arg(module)
        .output()
        .expect("modinfo runs (apt-get install kmod)");
    assert!(output.status.success(), "modinfo {}", module.display());
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The files kgpc left beside the module while signing it.
fn temporaries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".kgpc-") && n != ".kgpc-manifest")
        .collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_signed_module_names_its_signer_and_loads_in_the_guest() {
    let release = release();
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = make_key(dir.path(), "kgpc-test");
    let out = dir.path().join("out");
    let sign = ["--sign-key", path(&key), "--sign-cert", path(&cert)];
    let mut args = vec!["build", "tests/vm/signed.kgp", "--release", &release];
    args.extend(["-o", path(&out)]);
    args.extend(sign);
    let built = kgpc(&args, &[]);
    assert_eq!(built.status, 0, "{}", built.output);
    let module = out.join("livepatch-signed.ko");
    assert_eq!(modinfo("signer", &module), "kgpc-test");
    // The hash is the build tree's: Debian's config says sha256.
    let kdir = common::debian_kernel("kdir");
    let config = fs::read_to_string(kdir.join("include/config/auto.conf")).unwrap();
    assert!(
        config.contains("CONFIG_MODULE_SIG_HASH=\"sha256\"")
            || config.contains("CONFIG_MODULE_SIG_HASH=sha256")
    );
    assert_eq!(modinfo("sig_hashalgo", &module), "sha256");
    assert!(
        built.output.contains("signed (sha256) with"),
        "{}",
        built.output
    );
    assert!(temporaries(&out).is_empty(), "{:?}", temporaries(&out));

    // Signing again (the module make did not relink) keeps one signature.
    let size = fs::metadata(&module).unwrap().len();
    let again = kgpc(&args, &[]);
    assert_eq!(again.status, 0, "{}", again.output);
    assert_eq!(fs::metadata(&module).unwrap().len(), size);

    // The module `kgpc test` proves is the signed one, and the kernel, which
    // does not know the key, loads it and says so.
    let work = dir.path().join("work");
    let mut args = vec!["test", "tests/vm/signed.kgp", "--release", &release];
    args.extend(["--keep-work", path(&work)]);
    args.extend(sign);
    let tested = kgpc(&args, &[]);
    assert_eq!(tested.status, 0, "{}", tested.output);
    assert!(tested.output.contains(": passed"), "{}", tested.output);
    let proved = work.join("patch/livepatch-signed.ko");
    assert_eq!(modinfo("signer", &proved), "kgpc-test");
    let console = fs::read_to_string(work.join("console.log")).unwrap();
    assert!(
        console.contains(
            "livepatch_signed: module verification failed: signature and/or required key missing - tainting kernel"
        ),
        "{console}"
    );
}

#[test]
fn signing_failures_are_coded_and_leave_the_module_unsigned() {
    let release = release();
    let dir = tempfile::tempdir().unwrap();
    let (key, _) = make_key(dir.path(), "one");
    let (_, other_cert) = make_key(dir.path(), "other");
    let build = |out: &Path, key: &Path, cert: &Path, extra: &[&str]| {
        let mut args = vec!["build", "tests/vm/signed.kgp", "--release", &release];
        args.extend(["-o", path(out)]);
        args.extend(["--sign-key", path(key), "--sign-cert", path(cert)]);
        args.extend(extra);
        kgpc(&args, &[])
    };

    // A key that is not the certificate's: the module is built and left unsigned.
    let out = dir.path().join("mismatch");
    let run = build(&out, &key, &other_cert, &[]);
    assert_eq!(run.status, 4, "{}", run.output);
    assert!(run.output.contains("error[KGP0226]"), "{}", run.output);
    let module = out.join("livepatch-signed.ko");
    assert!(module.is_file(), "{}", run.output);
    assert_eq!(modinfo("signer", &module), "");
    assert!(temporaries(&out).is_empty(), "{:?}", temporaries(&out));

    // A missing key is found before anything is built or written.
    let out = dir.path().join("missing");
    let run = build(&out, &dir.path().join("absent.pem"), &other_cert, &[]);
    assert_eq!(run.status, 4, "{}", run.output);
    assert!(run.output.contains("error[KGP0225]"), "{}", run.output);
    assert!(run.output.contains("signing key"), "{}", run.output);
    assert!(!out.exists());

    // A certificate that is no certificate is named as such by sign-file's messages.
    let junk = dir.path().join("junk.pem");
    fs::write(&junk, "not a certificate\n").unwrap();
    let out = dir.path().join("junk");
    let run = build(&out, &key, &junk, &[]);
    assert_eq!(run.status, 4, "{}", run.output);
    assert!(
        run.output.contains("error[KGP0225]") && run.output.contains("as a certificate"),
        "{}",
        run.output
    );

    // A build tree without sign-file.
    let tree = dir.path().join("tree");
    fs::create_dir(&tree).unwrap();
    fs::write(tree.join("Makefile"), "").unwrap();
    let out = dir.path().join("no-sign-file");
    let run = build(&out, &key, &other_cert, &["--kdir", path(&tree)]);
    assert_eq!(run.status, 4, "{}", run.output);
    assert!(
        run.output.contains("error[KGP0227]") && run.output.contains("scripts/sign-file"),
        "{}",
        run.output
    );
    assert!(!out.exists());

    // Only one of the two options is a usage error.
    let run = kgpc(
        &["build", "tests/vm/signed.kgp", "--sign-key", path(&key)],
        &[],
    );
    assert_eq!(run.status, 2, "{}", run.output);
    assert!(run.output.contains("--sign-cert"), "{}", run.output);
}
