//! `kgpc compile`: what it writes, and what it refuses to overwrite.

use super::*;

#[test]
fn compile_writes_into_a_new_directory() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    kgpc_in(
        dir.path(),
        &["compile", "fix.kgp", "-o", "out", "--release", RELEASE],
        None,
    )
    .expect(0);
    assert_eq!(
        listing(&dir.path().join("out")),
        [".kgpc-manifest", "Kbuild", "Makefile", "livepatch-sample.c"]
    );
    // A second compile replaces kgpc's own files without complaint.
    kgpc_in(
        dir.path(),
        &["compile", "fix.kgp", "-o", "out", "--release", RELEASE],
        None,
    )
    .expect(0);
}

#[test]
fn compile_refuses_a_directory_holding_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("notes.txt"), "mine, not kgpc's\n").unwrap();

    let run = kgpc_in(
        dir.path(),
        &["compile", "fix.kgp", "-o", "out", "--release", RELEASE],
        None,
    )
    .expect(3);
    assert!(run.stderr.contains("error[KGP0028]"), "{}", run.stderr);
    assert!(run.stderr.contains("notes.txt"), "{}", run.stderr);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);

    // Nothing was written, and the user's file is untouched.
    assert_eq!(listing(&out), ["notes.txt"]);
    assert_eq!(
        fs::read_to_string(out.join("notes.txt")).unwrap(),
        "mine, not kgpc's\n"
    );
    // No staging directory is left behind either.
    assert_eq!(listing(dir.path()), ["fix.kgp", "out"]);
}

#[test]
fn compile_refuses_generated_files_edited_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    let args = ["compile", "fix.kgp", "-o", "out", "--release", RELEASE];
    kgpc_in(dir.path(), &args, None).expect(0);
    let c_file = dir.path().join("out/livepatch-sample.c");
    fs::write(&c_file, "/* my own fix */\n").unwrap();

    let run = kgpc_in(dir.path(), &args, None).expect(3);
    assert!(run.stderr.contains("error[KGP0028]"), "{}", run.stderr);
    assert!(run.stderr.contains("edited"), "{}", run.stderr);
    assert_eq!(fs::read_to_string(&c_file).unwrap(), "/* my own fix */\n");

    // --force overwrites it.
    let mut forced = args.to_vec();
    forced.push("--force");
    kgpc_in(dir.path(), &forced, None).expect(0);
    assert_ne!(fs::read_to_string(&c_file).unwrap(), "/* my own fix */\n");
}

#[test]
fn compile_below_a_regular_file_is_an_output_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    fs::write(dir.path().join("plain"), "a regular file\n").unwrap();

    let run = kgpc_in(
        dir.path(),
        &[
            "compile",
            "fix.kgp",
            "-o",
            "plain/out",
            "--release",
            RELEASE,
        ],
        None,
    )
    .expect(3);
    assert!(run.stderr.contains("error[KGP0034]"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("plain")).unwrap(),
        "a regular file\n"
    );
    assert_eq!(listing(dir.path()), ["fix.kgp", "plain"]);
}

#[test]
fn compile_onto_a_regular_file_is_an_output_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("fix.kgp"), SPEC).unwrap();
    fs::write(dir.path().join("plain"), "a regular file\n").unwrap();

    let run = kgpc_in(
        dir.path(),
        &["compile", "fix.kgp", "-o", "plain", "--release", RELEASE],
        None,
    )
    .expect(3);
    assert!(run.stderr.contains("error[KGP0034]"), "{}", run.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("plain")).unwrap(),
        "a regular file\n"
    );
}

#[test]
fn compile_with_spec_errors_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("fix.kgp"),
        SPEC.replace("arch x86_64", "arch x86_46"),
    )
    .unwrap();
    let run = kgpc_in(
        dir.path(),
        &["compile", "fix.kgp", "-o", "out", "--release", RELEASE],
        None,
    )
    .expect_diagnostics();
    assert!(run.stderr.contains("error[KGP0022]"), "{}", run.stderr);
    assert_eq!(listing(dir.path()), ["fix.kgp"]);
}
