//! `kgpc inspect` on the fixture kernel: its facts exactly, in JSON and in words.

use super::*;

#[test]
fn inspect_reports_fixture_facts_exactly() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let facts = inspect_json(
        &f.vmlinux,
        cache.path(),
        &[
            "dup_fn",
            "cloned",
            "init_fn",
            "notrace_fn",
            "show",
            "use_core_dup",
            "tree_sum",
            "caller_one",
        ],
    );
    let by = |name: &str| -> Vec<&Value> { facts.iter().filter(|v| v["name"] == name).collect() };
    let dups = by("dup_fn");
    assert_eq!(dups.len(), 2, "{facts:?}");
    assert_eq!(dups[0]["sympos"], 1);
    assert_eq!(dups[1]["sympos"], 2);
    assert_eq!(dups[0]["file"], "core.c");
    assert_eq!(dups[1]["file"], "other.c");
    assert_eq!(dups[0]["prototype"], "int dup_fn(int x)");
    let cloned = by("cloned")[0];
    assert_eq!(cloned["clones"], serde_json::json!(["cloned.cold"]));
    assert_eq!(cloned["patchable"], true);
    let init = by("init_fn")[0];
    assert_eq!(init["patchable"], false);
    assert!(init["reason"].as_str().unwrap().contains(".init.text"));
    let notrace = by("notrace_fn")[0];
    assert_eq!(notrace["patchable"], false);
    assert!(notrace["reason"]
        .as_str()
        .unwrap()
        .contains("no ftrace call site"));
    // Inlined into its own out-of-line copy only: that is no inlined copy elsewhere.
    let tree_sum = by("tree_sum")[0];
    assert_eq!(
        tree_sum["inlined_into"],
        serde_json::json!([]),
        "{tree_sum}"
    );
    assert_eq!(by("caller_one")[0]["inlined_into"], serde_json::json!([]));
    let show = by("show")[0];
    assert_eq!(show["prototype"], "int show(struct seq_file *m, void *v)");
    assert_eq!(show["sympos"], 0);
    // Every key the issue asks for is there.
    for key in [
        "name",
        "object",
        "address",
        "size",
        "sympos",
        "file",
        "patchable",
        "reason",
        "clones",
        "inlined_into",
        "prototype",
    ] {
        assert!(show.get(key).is_some(), "missing {key}");
    }
    // Addresses agree with the symbol table, read here with nm.
    let nm = Command::new("nm").arg(&f.vmlinux).output().unwrap();
    let nm = String::from_utf8_lossy(&nm.stdout);
    let addr = nm
        .lines()
        .find(|l| l.ends_with(" T show"))
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    assert_eq!(show["address"], format!("0x{addr}"));
}

#[test]
fn inspect_human_and_missing_functions() {
    let f = fixture();
    let cache = tempfile::tempdir().unwrap();
    let v = f.vmlinux.to_str().unwrap();
    let (code, stdout, stderr) = kgpc(
        Path::new("."),
        cache.path(),
        &[
            "inspect",
            "--vmlinux",
            v,
            "kthread",
            "sched_fn",
            "inlined_helper",
            "only_clone",
            "shoe",
        ],
    );
    assert_eq!(code, 1);
    assert!(stdout.contains("kthread (vmlinux)"), "{stdout}");
    // Only the scheduler function: without a census a name says nothing.
    assert_eq!(stdout.matches("may never complete").count(), 1, "{stdout}");
    assert!(
        stdout.contains("transition   may never complete: `sched_fn` is a scheduler function"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning[KGP0115]: no census of tasks at rest: kernel threads that rest in these functions were not looked for"),
        "{stderr}"
    );
    // Every problem is a diagnostic with its code, as in `kgpc check`.
    assert_eq!(
        stderr.matches("error[KGP0102]: no function `").count(),
        3,
        "{stderr}"
    );
    assert!(
        stderr.contains("no function `inlined_helper`")
            && stderr.contains("only inlined, into caller_one, caller_two"),
        "{stderr}"
    );
    assert!(
        stderr.contains("only clones: only_clone.constprop.0"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean show?"), "{stderr}");
    // The second run maps the index from the cache.
    let index_dir = cache.path().join("index");
    assert_eq!(fs::read_dir(&index_dir).unwrap().count(), 1);
    let (code2, stdout2, _) = kgpc(
        Path::new("."),
        cache.path(),
        &["inspect", "--vmlinux", v, "kthread"],
    );
    assert_eq!(code2, 0);
    assert!(stdout2.contains("kthread (vmlinux)"));
}
