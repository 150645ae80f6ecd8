//! The rules and facts on Debian 12's real debug vmlinux, fetched and cached by `kgpc kernel fetch`; none hard-codes an address of one build.

use super::*;

fn real_vmlinux() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| common::debian_kernel("vmlinux"))
        .clone()
}

/// The cache the real vmlinux's index is kept in, shared by these tests.
fn real_cache() -> PathBuf {
    std::env::var_os("KGPC_CACHE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/kgpc"))
}

fn real_release(vmlinux: &Path) -> String {
    vmlinux
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .trim_start_matches("vmlinux-")
        .to_string()
}

fn check_real(body: &str, cmd: &str) -> (i32, String, PathBuf, tempfile::TempDir) {
    let v = real_vmlinux();
    let work = tempfile::tempdir().unwrap();
    fs::write(
        work.path().join("fix.kgp"),
        format!("patch real {{ description \"x\" }}\ntarget {{ release \"{}\" arch x86_64 }}\ninclude <linux/seq_file.h>\n{body}", real_release(&v)),
    )
    .unwrap();
    let v = v.to_str().unwrap();
    let args: Vec<&str> = if cmd == "check" {
        vec!["check", "fix.kgp", "--vmlinux", v]
    } else {
        vec![cmd, "fix.kgp", "-o", "out", "--vmlinux", v]
    };
    let (code, _, stderr) = kgpc(work.path(), &real_cache(), &args);
    let out = work.path().join("out");
    (code, stderr, out, work)
}

#[test]
fn real_vmlinux_inspect() {
    let v = real_vmlinux();
    let facts = inspect_json(
        &v,
        &real_cache(),
        &[
            "cmdline_proc_show",
            "type_show",
            "kernel_init_freeable",
            "schedule",
        ],
    );
    let first = |n: &str| facts.iter().find(|f| f["name"] == n).unwrap().clone();
    let cmdline = first("cmdline_proc_show");
    assert_eq!(cmdline["patchable"], true);
    assert_eq!(cmdline["file"], "fs/proc/cmdline.c");
    assert_eq!(cmdline["sympos"], 0);
    assert_eq!(
        cmdline["prototype"],
        "int cmdline_proc_show(struct seq_file *m, void *v)"
    );
    let types: Vec<&Value> = facts.iter().filter(|f| f["name"] == "type_show").collect();
    assert!(types.len() >= 2);
    for (i, t) in types.iter().enumerate() {
        assert_eq!(t["sympos"], i as u64 + 1);
    }
    let init = first("kernel_init_freeable");
    assert_eq!(init["patchable"], false);
    assert!(init["reason"].as_str().unwrap().contains(".init.text"));
    assert!(first("schedule")["always_on_stack"].is_string());
}

#[test]
fn real_vmlinux_inlined_into_never_lists_the_function_itself() {
    // gcc puts an inlined copy of inet6_create inside its own out-of-line
    // instance; the only copies worth a warning are in other functions.
    let v = real_vmlinux();
    let facts = inspect_json(&v, &real_cache(), &["inet6_create", "cpumask_weight"]);
    for f in &facts {
        let name = f["name"].as_str().unwrap();
        let callers = f["inlined_into"].as_array().unwrap();
        assert!(
            !callers.iter().any(|c| c.as_str() == Some(name)),
            "{name} is listed as inlined into itself: {f}"
        );
    }
    let inet6 = facts.iter().find(|f| f["name"] == "inet6_create").unwrap();
    assert_eq!(inet6["inlined_into"], serde_json::json!([]), "{inet6}");
    let (code, stderr, _, _w) = check_real(
        "include <linux/net.h>\nobject vmlinux {\n    replace int inet6_create(struct net *net, struct socket *sock, int protocol, int kern) { return 0; }\n}\n",
        "check",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("KGP0106"), "{stderr}");
}

#[test]
fn real_vmlinux_prototypes_copied_from_the_source_match() {
    // Each prototype and declaration is copied verbatim from linux-source-6.1
    // (fs/read_write.c, fs/seq_file.c, arch/x86/mm/ioremap.c, mm/percpu.c,
    // mm/gup.c, mm/mlock.c, kernel/kthread.c, fs/namespace.c, fs/buffer.c,
    // net/core/gen_estimator.c, include/linux/buildid.h, kernel/audit.c).
    let (code, stderr, _, _w) = check_real(
        r#"object vmlinux {
    replace ssize_t vfs_read(struct file *file, char __user *buf, size_t count, loff_t *pos) { return 0; }
    replace ssize_t ksys_read(unsigned int fd, char __user *buf, size_t count) { return 0; }
    replace int seq_open_private(struct file *filp, const struct seq_operations *ops,
		int psize) { return 0; }
    replace void seq_printf(struct seq_file *m, const char *f, ...) { }
    replace void __iomem *ioremap(resource_size_t phys_addr, unsigned long size) { return NULL; }
    replace void free_percpu(void __percpu *ptr) { }
    replace bool __must_check try_grab_page(struct page *page, unsigned int flags) { return false; }
    replace static __must_check int do_mlock(unsigned long start, size_t len, vm_flags_t flags) { return 0; }
    replace struct kthread_worker *
kthread_create_worker(unsigned int flags, const char namefmt[], ...) { return NULL; }
    replace void kern_unmount_array(struct vfsmount *mnt[], unsigned int num) { }
    replace void __bh_read_batch(int nr, struct buffer_head *bhs[],
		     blk_opf_t op_flags, bool force_lock) { }
    replace void gen_kill_estimator(struct net_rate_estimator __rcu **rate_est) { }
    extern unsigned char vmlinux_build_id[BUILD_ID_SIZE_MAX];
    extern struct list_head audit_inode_hash[AUDIT_INODE_BUCKETS];
    extern void gen_kill_estimator(struct net_rate_estimator __rcu **rate_est);
}
"#,
        "check",
    );
    assert!(!stderr.contains("KGP0107"), "{stderr}");
    assert!(!stderr.contains("KGP0108"), "{stderr}");
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn real_vmlinux_unpatchable_functions_point_at_what_to_replace() {
    let (code, stderr, _, _w) = check_real(
        "include <linux/utsname.h>\nobject vmlinux {\n    replace long __do_sys_newuname(struct new_utsname *name) { return 0; }\n    replace long __se_sys_kill(long pid, long sig) { return 0; }\n    replace void set_local_port_range(struct net *net, int range[2]) { }\n}\n",
        "check",
    );
    assert_eq!(code, 1, "{stderr}");
    for expected in [
        // A syscall body with a symbol but no ftrace call site.
        "error[KGP0104]: livepatch cannot replace `__do_sys_newuname`: it has no ftrace call site",
        "help: replace its entry wrappers instead: `__x64_sys_newuname`, `__ia32_sys_newuname`",
        "declares: long int __x64_sys_newuname(const struct pt_regs *regs)",
        // A syscall part inlined into its wrappers.
        "error[KGP0104]: livepatch cannot replace `__se_sys_kill`: it has no symbol of its own in vmlinux",
        "help: replace its entry wrappers instead: `__x64_sys_kill`, `__ia32_sys_kill`",
        // A static function inlined into its only caller.
        "error[KGP0104]: livepatch cannot replace `set_local_port_range`: it has no symbol of its own",
        "help: replace the functions that hold its inlined copies instead: `ipv4_local_port_range`",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in\n{stderr}");
    }
}

#[test]
fn real_vmlinux_rules() {
    let v = real_vmlinux();
    // A replacement without a prototype gets the kernel's; a duplicated
    // static is resolved from its file to the position inspect reports.
    let facts = inspect_json(&v, &real_cache(), &["type_show"]);
    let reboot = facts
        .iter()
        .find(|f| f["file"] == "kernel/reboot.c")
        .expect("type_show of kernel/reboot.c");
    let (code, stderr, out, _work) = check_real(
        "include <linux/kobject.h>\nobject vmlinux {\n    replace cmdline_proc_show {\n        seq_puts(m, \"patched\\n\");\n        return 0;\n    }\n    replace ssize_t type_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf) in \"kernel/reboot.c\" {\n        return 0;\n    }\n    extern char *saved_command_line;\n}\n",
        "compile",
    );
    assert_eq!(code, 0, "{stderr}");
    let c = fs::read_to_string(out.join("livepatch-real.c")).unwrap();
    assert!(
        c.contains("int livepatch_cmdline_proc_show(struct seq_file *m, void *v)"),
        "{c}"
    );
    assert!(
        c.contains(&format!(".old_sympos = {}", reboot["sympos"])),
        "{c}"
    );
    // Every error rule on real functions.
    let (code, stderr, _, _w) = check_real(
        "object vmlinux {\n    replace int cmdline_proc_shoe(struct seq_file *m, void *v) { return 0; }\n    replace ssize_t type_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf) { return 0; }\n    replace void kernel_init_freeable(void) { }\n    replace int show_stat(struct seq_file *p) { return 0; }\n    replace void schedule(void) { }\n    extern void *high_memory;\n}\n",
        "check",
    );
    assert_eq!(code, 1);
    for expected in [
        "error[KGP0102]: no function `cmdline_proc_shoe` in vmlinux",
        "did you mean `cmdline_proc_show`?",
        "error[KGP0103]: `type_show` names",
        "error[KGP0104]: livepatch cannot replace `kernel_init_freeable`",
        "error[KGP0107]: `show_stat` takes 2 parameters in the kernel, not 1",
        "warning[KGP0111]: the transition to this patch may never complete",
        "warning[KGP0109]: `high_memory` is exported",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
    // Clones and inlined copies: a duplicated helper with both.
    let facts = inspect_json(&v, &real_cache(), &["cpumask_weight"]);
    let sched = facts
        .iter()
        .find(|f| f["file"] == "kernel/sched/core.c")
        .expect("cpumask_weight in kernel/sched/core.c");
    assert!(!sched["inlined_into"].as_array().unwrap().is_empty());
    let (_, stderr, _, _w) = check_real(
        "object vmlinux {\n    replace unsigned int cpumask_weight(const struct cpumask *srcp) in \"kernel/sched/core.c\" { return 0; }\n}\n",
        "check",
    );
    assert!(
        stderr.contains("warning[KGP0105]: the compiler also emitted clones of `cpumask_weight`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning[KGP0106]: `cpumask_weight` was also inlined into"),
        "{stderr}"
    );
    // `allow_inlined` acknowledges the inlined copies: the warning goes away
    // when it names every caller, and stays for the ones it leaves out.
    let callers: Vec<String> = sched["inlined_into"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("\"{}\"", c.as_str().unwrap()))
        .collect();
    let spec = |allowed: &[String]| {
        format!(
            "object vmlinux {{\n    replace unsigned int cpumask_weight(const struct cpumask *srcp) in \"kernel/sched/core.c\" allow_inlined {} {{ return 0; }}\n}}\n",
            allowed.join(" ")
        )
    };
    let (_, stderr, _, _w) = check_real(&spec(&callers), "check");
    assert!(!stderr.contains("KGP0106"), "{stderr}");
    if callers.len() > 1 {
        let (_, stderr, _, _w) = check_real(&spec(&callers[1..]), "check");
        assert!(
            stderr.contains("warning[KGP0106]: `cpumask_weight` was also inlined into 1 function"),
            "{stderr}"
        );
    }
}

/// Two static functions named `m_show`, in kernel/module/procfs.c and fs/namespace.c,
/// each replaced by its file: distinct C names at the positions inspect reports, and
/// a replacement whose `sympos` names one of them again is refused.
#[test]
fn real_vmlinux_same_named_functions_of_two_files() {
    let v = real_vmlinux();
    let facts = inspect_json(&v, &real_cache(), &["m_show"]);
    let position = |file: &str| {
        facts
            .iter()
            .find(|f| f["file"] == file)
            .unwrap_or_else(|| panic!("m_show of {file}"))["sympos"]
            .as_u64()
            .unwrap()
    };
    let (modules, mounts) = (
        position("kernel/module/procfs.c"),
        position("fs/namespace.c"),
    );
    assert_ne!(modules, mounts);
    let spec = "object vmlinux {\n    replace int m_show(struct seq_file *m, void *p) in \"kernel/module/procfs.c\" { return 0; }\n    replace int m_show(struct seq_file *m, void *v) in \"fs/namespace.c\" { return 0; }\n}\n";
    let (code, stderr, out, _work) = check_real(spec, "compile");
    assert_eq!(code, 0, "{stderr}");
    let c = fs::read_to_string(out.join("livepatch-real.c")).unwrap();
    for (name, sympos) in [
        ("livepatch_m_show_kernel_module_procfs", modules),
        ("livepatch_m_show_fs_namespace", mounts),
    ] {
        assert!(
            c.contains(&format!(".new_func = {name},\n\t\t.old_sympos = {sympos},")),
            "{c}"
        );
    }
    let again = format!(
        "object vmlinux {{\n    replace int m_show(struct seq_file *m, void *v) in \"fs/namespace.c\" {{ return 0; }}\n    replace int m_show(struct seq_file *m, void *v) sympos {mounts} {{ return 0; }}\n}}\n"
    );
    let (code, stderr, _, _w) = check_real(&again, "check");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error[KGP0011]: `m_show` at position {mounts} of vmlinux is replaced twice"
        )),
        "{stderr}"
    );
}

#[test]
fn real_vmlinux_later_checks_use_the_index() {
    let v = real_vmlinux();
    let facts = inspect_json(&v, &real_cache(), &["cmdline_proc_show"]);
    assert_eq!(facts.len(), 1);
    let start = std::time::Instant::now();
    let (code, stderr, _, _w) = check_real(
        "object vmlinux {\n    replace int cmdline_proc_show(struct seq_file *m, void *v) { return 0; }\n}\n",
        "check",
    );
    assert_eq!(code, 0, "{stderr}");
    // bench/check-speed.sh measures the 50 ms target; here, only that no
    // rebuild happened on a loaded test machine.
    assert!(
        start.elapsed().as_secs_f64() < 2.0,
        "took {:?}",
        start.elapsed()
    );
}

/// Rule 11 on the real kernel: non-exported functions and variables a body uses
/// without declaring them, and a static that exists only inlined, are reported at
/// their uses; header inlines, exported functions and macros are not.
#[test]
fn real_vmlinux_body_symbols() {
    let (code, stderr, _, _w) = check_real(
        "include <linux/slab.h>\ninclude <linux/list.h>\ninclude <linux/sched/stat.h>\nobject vmlinux {\n    replace int cmdline_proc_show(struct seq_file *m, void *v) {\n        struct list_head head;\n        void *p = kmalloc(16, GFP_KERNEL);\n        INIT_LIST_HEAD(&head);\n        list_add(p, &head);\n        spin_lock(&init_task.alloc_lock);\n        spin_unlock(&init_task.alloc_lock);\n        pr_info(\"%d\\n\", current->pid);\n        show_val_kb(m, \"x\", 1);\n        kfree(p);\n        return nr_processes() + nr_threads + min(1, 2);\n    }\n}\n",
        "check",
    );
    assert_eq!(code, 1, "{stderr}");
    let reported: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error[KGP0112]"))
        .collect();
    assert_eq!(reported.len(), 3, "{stderr}");
    for expected in [
        "error[KGP0112]: `show_val_kb` exists only inlined in vmlinux",
        "`show_val_kb` is a static function of fs/proc/meminfo.c",
        "copy `show_val_kb` from fs/proc/meminfo.c into the spec as a `helper`",
        "error[KGP0112]: `nr_processes` is not exported by vmlinux",
        "vmlinux defines `nr_processes` in kernel/fork.c and does not export it",
        "declare it in `object vmlinux`: `extern int nr_processes(void);`",
        "error[KGP0112]: `nr_threads` is not exported by vmlinux",
        "declare it in `object vmlinux`: `extern int nr_threads;`",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in\n{stderr}"
        );
    }
}

/// The specs the VM tests build: `kgpc check` finds, without building, the same two
/// undeclared symbols that `kgpc build` finds in the module (tests/vm/).
#[test]
fn real_vmlinux_body_symbols_of_the_vm_specs() {
    let v = real_vmlinux();
    let release = real_release(&v);
    for (spec, expected) in [
        (
            "tests/vm/undeclared-among-many.kgp",
            &["nr_blockdev_pages", "task_curr"][..],
        ),
        (
            "tests/vm/undeclared-symbol.kgp",
            &["saved_command_line"][..],
        ),
    ] {
        let (code, _, stderr) = kgpc(
            &root(),
            &real_cache(),
            &[
                "check",
                spec,
                "--vmlinux",
                v.to_str().unwrap(),
                "--release",
                &release,
            ],
        );
        assert_eq!(code, 1, "{spec}: {stderr}");
        let mut reported: Vec<&str> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("error[KGP0112]: `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        reported.sort();
        assert_eq!(reported, expected, "{spec}: {stderr}");
    }
}

/// No example and no golden spec draws KGP0112 against the real kernel: every name
/// their bodies use is exported, declared, generated or a header's inline.
#[test]
fn real_vmlinux_no_false_body_symbols() {
    let v = real_vmlinux();
    let release = real_release(&v);
    let mut specs = Vec::new();
    for dir in ["examples", "tests/emit"] {
        for entry in fs::read_dir(root().join(dir)).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.extension().is_some_and(|e| e == "kgp") && !name.starts_with('_') {
                specs.push(path);
            }
        }
    }
    specs.sort();
    assert!(specs.len() >= 10, "{specs:?}");
    for spec in specs {
        let dir = spec.parent().unwrap();
        let (_, _, stderr) = kgpc(
            dir,
            &real_cache(),
            &[
                "check",
                spec.to_str().unwrap(),
                "--vmlinux",
                v.to_str().unwrap(),
                "--release",
                &release,
            ],
        );
        assert!(
            !stderr.contains("KGP0112") && !stderr.contains("KGP0100"),
            "{}:\n{stderr}",
            spec.display()
        );
    }
}
