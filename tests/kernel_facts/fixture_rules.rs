//! Every kernel rule on the fixture kernel, through `kgpc check` and `kgpc compile`.

use super::*;

#[test]
fn rule_identity_release_arch_and_build_id() {
    let f = fixture();
    let work = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    fs::write(
        work.path().join("fix.kgp"),
        "patch fixture { description \"x\" }\ntarget { release \"6.1.0-998-fixture\" arch x86_64 build_id \"0123456789abcdef0123456789abcdef01234567\" }\nobject vmlinux {\n    replace int show(struct seq_file *m, void *v) { return 0; }\n}\n",
    )
    .unwrap();
    let (code, _, stderr) = kgpc(
        work.path(),
        cache.path(),
        &["check", "fix.kgp", "--vmlinux", f.vmlinux.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains(
            "error[KGP0101]: the vmlinux is release `6.1.0-999-fixture`, not `6.1.0-998-fixture`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("the vmlinux's build id is"), "{stderr}");
}

#[test]
fn release_comes_from_the_vmlinux_banner() {
    // A pattern, no --release: the vmlinux's banner names the release, even
    // where the running kernel also matches the pattern.
    let f = fixture();
    let work = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    fs::write(
        work.path().join("fix.kgp"),
        "patch fixture { description \"x\" }\ntarget { release \"6.1.0-*-fixture\" arch x86_64 }\nobject vmlinux {\n    replace int show(struct seq_file *m, void *v) { return 0; }\n}\n",
    )
    .unwrap();
    let vmlinux = f.vmlinux.to_str().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_kgpc"))
            .args(args)
            .current_dir(work.path())
            .env("KGPC_CACHE_DIR", cache.path())
            .env("KGPC_RUNNING_RELEASE", "6.1.0-1-fixture")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run(&["check", "fix.kgp", "--vmlinux", vmlinux]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("for 6.1.0-999-fixture (the banner of {vmlinux})")),
        "{stderr}"
    );
    // --release still wins, and then the vmlinux is the wrong one.
    let (code, stderr) = run(&[
        "check",
        "fix.kgp",
        "--vmlinux",
        vmlinux,
        "--release",
        "6.1.0-1-fixture",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "error[KGP0101]: the vmlinux is release `6.1.0-999-fixture`, not `6.1.0-1-fixture`"
        ),
        "{stderr}"
    );
    // Without --vmlinux, the running kernel is chosen as before.
    let (_, stderr) = run(&["check", "fix.kgp"]);
    assert!(
        stderr.contains("6.1.0-1-fixture (the running kernel)"),
        "{stderr}"
    );
}

#[test]
fn rule_existence_with_suggestions_and_prototype_error() {
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    replace int shoe(struct seq_file *m, void *v) { return 0; }\n    replace nothing_like_it { return 0; }\n    replace int only_clone(int x, int y) { return 0; }\n}\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error[KGP0102]: no function `shoe` in vmlinux"),
        "{stderr}"
    );
    assert!(stderr.contains("help: did you mean `show`?"), "{stderr}");
    assert!(
        stderr.contains("error[KGP0024]: no function `nothing_like_it`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the compiler emitted only clones of it: only_clone.constprop.0"),
        "{stderr}"
    );
}

#[test]
fn rule_position_of_duplicated_locals() {
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    replace int dup_fn(int x) { return x; }\n}\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error[KGP0103]: `dup_fn` names 2 symbols in vmlinux; say which one"),
        "{stderr}"
    );
    assert!(
        stderr.contains("sympos 1: core.c") && stderr.contains("sympos 2: other.c"),
        "{stderr}"
    );
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    replace int dup_fn(int x) sympos 3 { return x; }\n}\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no symbol `dup_fn` at position 3: vmlinux has 2"),
        "{stderr}"
    );
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    replace int dup_fn(int x) in \"nowhere.c\" { return x; }\n}\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no `dup_fn` of vmlinux comes from \"nowhere.c\""),
        "{stderr}"
    );
    // `in "other.c"` resolves to position 2, which the generated module uses.
    let c = compile_fixture(
        "object vmlinux {\n    replace int dup_fn(int x) in \"other.c\" { return x; }\n}\n",
    );
    assert!(c.contains(".old_sympos = 2"), "{c}");
    // Both, each by its file: two new functions with distinct C names, each at its position.
    let c = compile_fixture(
        "object vmlinux {\n    replace int dup_fn(int x) in \"core.c\" { return x; }\n    replace int dup_fn(int x) in \"other.c\" { return -x; }\n}\n",
    );
    for (name, sympos) in [("livepatch_dup_fn_core", 1), ("livepatch_dup_fn_other", 2)] {
        assert!(
            c.contains(&format!(".new_func = {name},\n\t\t.old_sympos = {sympos},")),
            "{c}"
        );
    }
}

#[test]
fn rules_patchability_clones_inlining_and_transition() {
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    replace int init_fn(void) { return 0; }\n    replace int notrace_fn(int x) { return x; }\n    replace int cloned(int x) { return x; }\n    replace int kthread(void *data) { return 0; }\n    replace int sched_fn(int x) { return x; }\n}\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error[KGP0104]: livepatch cannot replace `init_fn`: it is in .init.text"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "error[KGP0104]: livepatch cannot replace `notrace_fn`: it has no ftrace call site"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "note[KGP0105]: `cloned` has a cold part, cloned.cold, split off by the compiler"
        ),
        "{stderr}"
    );
    // The scheduler rule needs no census; a name alone draws nothing.
    assert!(
        stderr.contains("warning[KGP0111]: the transition to this patch may never complete: `sched_fn` is a scheduler function (.sched.text)"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("[KGP0111]").count(), 1, "{stderr}");
    // The fixture's release is not running and has no image to boot: no census, said once.
    assert!(
        stderr.contains("warning[KGP0115]: no census of the target's tasks at rest: kgpc could not check that the transition completes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("there is no census of 6.1.0-999-fixture: it is not the running kernel, and the kgpc cache has no image of it to boot"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: fetch the kernel with `kgpc kernel fetch 6.1.0-999-fixture`"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("[KGP0115]").count(), 1, "{stderr}");
    // Inlining: the fixture's inlined_helper has no symbol; check the rule
    // through a function that has a symbol and inlined copies.
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    replace int caller_one(int x) { return x; }\n}\n",
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn rule_unpatchable_functions_point_at_what_to_replace() {
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    replace long __do_sys_fixture(long x) { return x; }\n    replace int inlined_helper(int x) { return x; }\n}\n",
        &[],
    );
    assert_eq!(code, 1, "{stderr}");
    // A system call's body: its wrappers, only those the kernel has.
    assert!(
        stderr.contains("error[KGP0104]: livepatch cannot replace `__do_sys_fixture`: it has no ftrace call site"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: replace its entry wrapper instead: `__x64_sys_fixture` (a replacement of a wrapper does the whole system call)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("declares: long int __x64_sys_fixture(const struct pt_regs *regs)"),
        "{stderr}"
    );
    assert!(!stderr.contains("__ia32_sys_fixture"), "{stderr}");
    // Inlined everywhere, no symbol: the functions that hold it.
    assert!(
        stderr.contains("error[KGP0104]: livepatch cannot replace `inlined_helper`: it has no symbol of its own in vmlinux"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: replace the functions that hold its inlined copies instead: `caller_one`, `caller_two`"),
        "{stderr}"
    );
}

#[test]
fn rule_prototypes_from_dwarf_and_checked() {
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    replace int show(struct seq_file *m) { return 0; }\n}\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("error[KGP0107]: `show` takes 2 parameters in the kernel, not 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("declares: int show(struct seq_file *m, void *v)"),
        "{stderr}"
    );
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    replace long show(struct seq_file *m, char *v) { return 0; }\n}\n",
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning[KGP0107]: the prototype of `show` differs from the kernel's"),
        "{stderr}"
    );
    assert!(
        stderr.contains("parameter 2: `char*` here, `void*` in the kernel"),
        "{stderr}"
    );
    // Without a prototype, the generated function takes the kernel's.
    let c = compile_fixture("object vmlinux {\n    replace show {\n        return 0;\n    }\n}\n");
    assert!(
        c.contains("int livepatch_show(struct seq_file *m, void *v)"),
        "{c}"
    );
}

#[test]
fn rule_prototypes_ignore_annotations_and_macro_array_sizes() {
    // What is empty for gcc, an array parameter (a pointer to C) with its
    // size written as a macro, and a variable's macro size all match.
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    extern unsigned char fixture_mac[ETH_ALEN];\n    extern static __must_check int __always_unused set_mac(unsigned char addr[], int n);\n    replace static noinline int __must_check set_mac(unsigned char __user addr[ETH_ALEN], int __maybe_unused n) { return 0; }\n    replace int show(struct seq_file __rcu *m, void __iomem *v) { return 0; }\n}\n",
        &[],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("KGP0107"), "{stderr}");
    assert!(!stderr.contains("KGP0108"), "{stderr}");
    // A different numeric size, element type or pointer level still differs.
    let (_, stderr) = check_fixture(
        "object vmlinux {\n    extern unsigned char fixture_mac[5];\n    replace int set_mac(int addr[ETH_ALEN], int n) { return 0; }\n    replace int show(struct seq_file __rcu **m, void *v) { return 0; }\n}\n",
        &[],
    );
    for expected in [
        "warning[KGP0108]: the declaration of `fixture_mac` differs from the kernel's",
        "parameter 1: `int*` here, `unsigned char*` in the kernel",
        "parameter 1: `struct seq_file**` here, `struct seq_file*` in the kernel",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
}

#[test]
fn summaries_say_which_objects_were_checked_against_what() {
    let f = fixture();
    let modules = f.modules.to_str().unwrap();
    let spec = "object vmlinux {\n    replace int show(struct seq_file *m, void *v) { return 0; }\n}\nobject fixture_mod {\n    replace int mod_fn(int a, long b) { return a; }\n}\n";
    let build_id = {
        let out = Command::new("readelf")
            .arg("-n")
            .arg(&f.vmlinux)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.trim().strip_prefix("Build ID: ").map(str::to_string))
            .expect("a build id")
    };
    let vmlinux = f.vmlinux.to_str().unwrap();
    // The module's object is not found: it is unchecked, in both forms.
    let (code, stderr) = check_fixture(spec, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!("vmlinux checked against {vmlinux} (build id {build_id}); fixture_mod unchecked: no object of module `fixture_mod` found in")),
        "{stderr}"
    );
    let (code, json) = check_fixture(spec, &["--message-format", "json"]);
    assert_eq!(code, 0, "{json}");
    let work = tempfile::tempdir().unwrap();
    fs::write(work.path().join("fix.kgp"), format!("{FIXTURE_HEAD}{spec}")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let summary = |extra: &[&str]| -> Value {
        let mut args = vec!["check", "fix.kgp", "--message-format", "json"];
        args.extend_from_slice(extra);
        let (_, stdout, _) = kgpc(work.path(), cache.path(), &args);
        let last = stdout.lines().last().expect("a summary record").to_string();
        serde_json::from_str::<Value>(&last).unwrap()["summary"].clone()
    };
    let s = summary(&["--vmlinux", vmlinux]);
    assert_eq!(s["checked"], false, "{s}");
    assert_eq!(s["release"], "6.1.0-999-fixture");
    assert_eq!(s["kernel_checks"]["ran"], true);
    assert_eq!(s["kernel_checks"]["vmlinux"]["build_id"], build_id.as_str());
    let objects = s["kernel_checks"]["objects"].as_array().unwrap();
    assert_eq!(objects[0]["name"], "vmlinux");
    assert_eq!(objects[0]["checked"], true);
    assert_eq!(objects[0]["file"], vmlinux);
    assert_eq!(objects[1]["name"], "fixture_mod");
    assert_eq!(objects[1]["checked"], false);
    assert!(objects[1]["file"].is_null());
    assert!(objects[1]["reason"]
        .as_str()
        .unwrap()
        .contains("no object of module"));
    // Found with --modules: checked against its file.
    let s = summary(&["--vmlinux", vmlinux, "--modules", modules]);
    assert_eq!(s["checked"], true, "{s}");
    let module = &s["kernel_checks"]["objects"][1];
    assert_eq!(module["checked"], true);
    assert!(
        module["file"]
            .as_str()
            .unwrap()
            .ends_with("extra/fixture-mod.ko"),
        "{s}"
    );
    // --no-kernel-checks: skipped, and why.
    let s = summary(&["--no-kernel-checks"]);
    assert_eq!(s["kernel_checks"]["ran"], false);
    assert_eq!(
        s["kernel_checks"]["skipped"],
        "--no-kernel-checks was given"
    );
    assert_eq!(s["kernel_checks"]["objects"], serde_json::json!([]));
}

#[test]
fn rule_externs() {
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    extern char *saved_command_line;\n    extern int exported_counter;\n    extern long saved_command_lines;\n    replace int show(struct seq_file *m, void *v) { return 0; }\n}\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(!stderr.contains("`saved_command_line` differs"), "{stderr}");
    assert!(
        stderr.contains("warning[KGP0109]: `exported_counter` is exported"),
        "{stderr}"
    );
    assert!(
        stderr.contains("error[KGP0108]: no symbol `saved_command_lines` in vmlinux"),
        "{stderr}"
    );
    let (code, stderr) = check_fixture(
        "object vmlinux {\n    extern int saved_command_line;\n    replace int show(struct seq_file *m, void *v) { return 0; }\n}\n",
        &[],
    );
    assert_eq!(code, 0);
    assert!(
        stderr.contains(
            "warning[KGP0108]: the declaration of `saved_command_line` differs from the kernel's"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("declares: char *saved_command_line"),
        "{stderr}"
    );
}

/// Rule 11 (KGP0112), the golden case: every kind of use a body makes, checked
/// against the fixture kernel and its module; `KGPC_BLESS=1` rewrites the output.
#[test]
fn rule_body_symbols_golden() {
    let f = fixture();
    let work = tempfile::tempdir().unwrap();
    let spec = root().join("tests/kernel_fixtures/body-symbols.kgp");
    fs::copy(&spec, work.path().join("body-symbols.kgp")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = kgpc(
        work.path(),
        cache.path(),
        &[
            "check",
            "body-symbols.kgp",
            "--vmlinux",
            f.vmlinux.to_str().unwrap(),
            "--modules",
            f.modules.to_str().unwrap(),
        ],
    );
    let actual = format!("exit status: {code}\n--- stdout\n{stdout}--- stderr\n{stderr}");
    let mut failures = Vec::new();
    common::compare(&spec.with_extension("out"), &actual, &mut failures);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // What the golden output must say, so that blessing cannot hide a regression.
    assert_eq!(code, 1, "{stderr}");
    for expected in [
        "error[KGP0112]: `use_core_dup` is not exported by vmlinux",
        "declare it in `object vmlinux`: `extern int use_core_dup(int x);`",
        "error[KGP0112]: `inlined_helper` exists only inlined in vmlinux",
        "copy `inlined_helper` from core.c into the spec as a `helper`",
        "error[KGP0112]: `dup_fn` is not exported by vmlinux",
        "`extern int dup_fn(int x) sympos N;`",
        "error[KGP0112]: `use_other_dup` is not exported by vmlinux",
        "vmlinux defines `use_other_dup` in other.c and does not export it",
        "error[KGP0112]: `linux_banner` is not exported by vmlinux",
        "vmlinux defines `linux_banner` in core.c",
        "error[KGP0112]: `mod_local` is not exported by fixture_mod",
        "error[KGP0112]: `mod_fn` is not exported by fixture_mod",
        "declare it in `object fixture_mod`: `extern int mod_fn(int a, long int b);`",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
    // Declared, exported, generated and header-inline names, parameters,
    // locals and members draw nothing.
    for quiet in [
        "saved_command_line",
        "exported_counter",
        "header_inline",
        "twice",
        "show_data",
        "`m`",
        "`v`",
        "`local`",
        "count",
    ] {
        assert!(
            !stderr
                .lines()
                .any(|l| l.starts_with("error") && l.contains(quiet)),
            "{quiet} was reported:\n{stderr}"
        );
    }
    assert_eq!(stderr.matches("error[KGP0112]").count(), 7, "{stderr}");
}
