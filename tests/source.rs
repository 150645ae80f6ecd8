//! `kgpc source` on Debian 12's real kernel: the source of the cached
//! 6.1.0-57-cloud-amd64 is fetched (`kgpc kernel fetch --source`, about 140 MB
//! the first time, then cached) and the definitions printed are compared
//! with the lines of the files themselves, with every error's code.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

/// The fetched kernel's release, its debug vmlinux and its source tree.
fn kernel() -> (String, PathBuf, PathBuf) {
    let vmlinux = common::debian_kernel("vmlinux");
    let release = common::release_of(&vmlinux);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kgpc"))
        .args(["kernel", "fetch", "--source", &release])
        .output()
        .expect("kgpc runs");
    assert!(
        out.status.success(),
        "kgpc kernel fetch --source failed; it needs network access to Debian's archive the first time:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (release, vmlinux, tree)
}

/// The kgpc cache the fetch used (the one holding the vmlinux's index).
fn cache_of(tree: &Path) -> PathBuf {
    common::cache_of_source(tree)
}

fn kgpc_source(cache: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["source"];
    all.extend_from_slice(args);
    common::kgpc_in(Path::new("/"), cache, "", &all)
}

/// Lines `start..=end` (1-based) of a file of the tree, each with its line break.
fn lines_of(tree: &Path, file: &str, start: usize, end: usize) -> String {
    let text = fs::read(tree.join(file)).unwrap();
    let text = String::from_utf8_lossy(&text);
    text.split_inclusive('\n')
        .skip(start - 1)
        .take(end + 1 - start)
        .collect()
}

/// The 1-based number of the line of `file` that is exactly `line`.
fn line_number(tree: &Path, file: &str, line: &str) -> usize {
    let text = fs::read_to_string(tree.join(file)).unwrap();
    1 + text
        .lines()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{file} has no line {line:?}"))
}

#[test]
fn cmdline_proc_show_is_printed_exactly_as_the_file_has_it() {
    let (release, vmlinux, tree) = kernel();
    let file = "fs/proc/cmdline.c";
    let start = line_number(
        &tree,
        file,
        "static int cmdline_proc_show(struct seq_file *m, void *v)",
    );
    let end = start + 5;
    assert_eq!(lines_of(&tree, file, end, end), "}\n");
    let vmlinux = vmlinux.to_str().unwrap();
    let (code, out, err) = kgpc_source(
        &cache_of(&tree),
        &[
            "cmdline_proc_show",
            "--vmlinux",
            vmlinux,
            "--release",
            &release,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let expected = format!(
        "/* {file}:{start}-{end} in {release} */\n{}",
        lines_of(&tree, file, start, end)
    );
    assert_eq!(out, expected);

    let (code, json, err) = kgpc_source(
        &cache_of(&tree),
        &[
            "cmdline_proc_show",
            "--vmlinux",
            vmlinux,
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["name"], "cmdline_proc_show");
    assert_eq!(json["file"], file);
    assert_eq!(json["start_line"], start);
    assert_eq!(json["end_line"], end);
    assert_eq!(json["text"], lines_of(&tree, file, start, end));
}

#[test]
fn a_multi_line_signature_is_printed_from_its_first_line() {
    let (release, vmlinux, tree) = kernel();
    let file = "kernel/fork.c";
    let start = line_number(
        &tree,
        file,
        "static __latent_entropy struct task_struct *copy_process(",
    );
    let (code, out, err) = kgpc_source(
        &cache_of(&tree),
        &["copy_process", "--vmlinux", vmlinux.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    let (header, text) = out.split_once('\n').unwrap();
    let range = header
        .strip_prefix(&format!("/* {file}:{start}-"))
        .and_then(|r| r.strip_suffix(&format!(" in {release} */")))
        .unwrap_or_else(|| panic!("header {header:?}"));
    let end: usize = range.parse().unwrap();
    assert_eq!(text, lines_of(&tree, file, start, end));
    assert!(text.ends_with("\n}\n"), "{text}");
    assert_eq!(
        lines_of(&tree, file, start + 1, start + 1),
        "\t\t\t\t\tstruct pid *pid,\n"
    );
}

#[test]
fn a_duplicated_static_name_is_resolved_with_in() {
    let (_, vmlinux, tree) = kernel();
    let vmlinux = vmlinux.to_str().unwrap();
    let cache = cache_of(&tree);
    let (code, out, err) = kgpc_source(
        &cache,
        &["type_show", "--vmlinux", vmlinux, "--in", "kernel/reboot.c"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("/* kernel/reboot.c:"), "{out}");
    assert!(
        out.contains("static ssize_t type_show(struct kobject *kobj,"),
        "{out}"
    );

    let (code, _, err) = kgpc_source(&cache, &["type_show", "--vmlinux", vmlinux]);
    assert_eq!(code, 1);
    assert!(
        err.contains("error[KGP0103]: 12 functions are named `type_show`"),
        "{err}"
    );
    assert!(err.contains("sympos 2: kernel/reboot.c"), "{err}");
    assert!(err.contains("--in FILE"), "{err}");

    let (code, _, err) = kgpc_source(
        &cache,
        &["type_show", "--vmlinux", vmlinux, "--in", "nowhere.c"],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("error[KGP0103]: no function `type_show` comes from \"nowhere.c\""),
        "{err}"
    );
}

#[test]
fn an_unknown_function_is_an_error_with_a_suggestion() {
    let (_, vmlinux, tree) = kernel();
    let (code, out, err) = kgpc_source(
        &cache_of(&tree),
        &["cmdline_proc_sho", "--vmlinux", vmlinux.to_str().unwrap()],
    );
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.contains("error[KGP0102]: no function `cmdline_proc_sho` in vmlinux"),
        "{err}"
    );
    assert!(err.contains("did you mean `cmdline_proc_show`?"), "{err}");
}

#[test]
fn a_function_in_assembly_has_no_line() {
    let (_, vmlinux, tree) = kernel();
    let (code, _, err) = kgpc_source(
        &cache_of(&tree),
        &["entry_SYSCALL_64", "--vmlinux", vmlinux.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("error[KGP0119]: the DWARF of vmlinux does not say"),
        "{err}"
    );
}

#[test]
fn a_release_without_its_source_is_told_how_to_fetch_it() {
    let (_, vmlinux, tree) = kernel();
    let (code, _, err) = kgpc_source(
        &cache_of(&tree),
        &[
            "cmdline_proc_show",
            "--vmlinux",
            vmlinux.to_str().unwrap(),
            "--release",
            "6.1.0-99-cloud-amd64",
        ],
    );
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("error[KGP0118]: the kgpc cache has no source of 6.1.0-99-cloud-amd64"),
        "{err}"
    );
    assert!(
        err.contains("kgpc kernel fetch --source 6.1.0-99-cloud-amd64"),
        "{err}"
    );
}

/// A cache sharing the real one's index, whose source tree of `release` is
/// complete by its mark but holds only `files`.
fn cache_with_tree(real: &Path, release: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let cache = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(real.join("index"), cache.path().join("index")).unwrap();
    let real_tree = real.join("kernels").join(release).join("source");
    let tree = cache.path().join("kernels").join(release).join("source");
    fs::create_dir_all(&tree).unwrap();
    fs::copy(
        real_tree.join(".kgpc-source-complete"),
        tree.join(".kgpc-source-complete"),
    )
    .unwrap();
    for (file, text) in files {
        fs::create_dir_all(tree.join(file).parent().unwrap()).unwrap();
        fs::write(tree.join(file), text).unwrap();
    }
    cache
}

#[test]
fn a_tree_without_the_file_or_the_definition_is_an_error() {
    let (release, vmlinux, tree) = kernel();
    let vmlinux = vmlinux.to_str().unwrap();
    let args = [
        "cmdline_proc_show",
        "--vmlinux",
        vmlinux,
        "--release",
        &release,
    ];
    let empty = cache_with_tree(&cache_of(&tree), &release, &[]);
    let (code, _, err) = kgpc_source(empty.path(), &args);
    assert_eq!(code, 1);
    assert!(
        err.contains("error[KGP0120]: `cmdline_proc_show` is defined in fs/proc/cmdline.c, which the source tree"),
        "{err}"
    );
    let other = cache_with_tree(
        &cache_of(&tree),
        &release,
        &[("fs/proc/cmdline.c", "int x;\n")],
    );
    let (code, _, err) = kgpc_source(other.path(), &args);
    assert_eq!(code, 1);
    assert!(
        err.contains("error[KGP0120]: fs/proc/cmdline.c:7 starts no definition"),
        "{err}"
    );
}
