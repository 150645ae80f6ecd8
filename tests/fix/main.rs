//! Specs that carry their fix as a patch (`fix "FILE.patch"`), on Debian
//! 12's real kernel and its exact source: the fix is applied to the cached
//! linux-source, its changed functions become replacements with their
//! closure worked out from DWARF, and what a live patch cannot carry is
//! refused. Each case is a directory holding `fix.kgp`, the patch and
//! `check.out`, the output of `kgpc check` (run with `KGPC_BLESS=1` to
//! write it); the cases that can be built are built, and one is proven in
//! the VM.

#[path = "../common/mod.rs"]
mod common;

use std::fs;
use std::path::{Path, PathBuf};

/// The kgpc cache holding the current kernel, its debug vmlinux and its source.
fn cache() -> PathBuf {
    common::debian_kernel("vmlinux");
    common::cache_of_source(&common::debian_kernel("source"))
}

fn case(name: &str) -> PathBuf {
    common::root().join("tests/fix").join(name)
}

/// The output of `kgpc check` with what differs between machines and ABIs
/// (the cache's place, the release, the build id) written as names.
fn normalized(text: &str, cache: &Path) -> String {
    let release = common::release_of(&common::debian_kernel("vmlinux"));
    let mut out = text
        .replace(&cache.display().to_string(), "<cache>")
        .replace(&release, "<release>");
    let mut from = 0;
    while let Some(at) = out[from..].find("build id ") {
        let start = from + at + "build id ".len();
        let end = out[start..]
            .find(|c: char| !c.is_ascii_hexdigit())
            .map_or(out.len(), |e| start + e);
        out.replace_range(start..end, "<build-id>");
        from = start + "<build-id>".len();
    }
    out
}

#[test]
fn each_case_checks_as_its_golden_output_says() {
    let cache = cache();
    let mut failures = Vec::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(common::root().join("tests/fix"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("fix.kgp").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 8, "the cases are missing: {dirs:?}");
    for dir in &dirs {
        let (code, stdout, stderr) = common::kgpc_in(dir, &cache, "", &["check", "fix.kgp"]);
        let actual = normalized(&format!("exit {code}\n{stderr}{stdout}"), &cache);
        common::compare(&dir.join("check.out"), &actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_changed_function_becomes_a_replacement_with_its_closure() {
    let cache = cache();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("module");
    let (code, _, stderr) = common::kgpc_in(
        &case("cmdline"),
        &cache,
        "",
        &["compile", "fix.kgp", "-o", dir.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    let c = fs::read_to_string(dir.join("livepatch-cmdline.c")).unwrap();
    // The body is the patched file's, with #line directives into it.
    assert!(c.contains("#line 7 \"fs/proc/cmdline.c\"\nstatic int livepatch_cmdline_proc_show(struct seq_file *m, void *v)\n"), "{c}");
    assert!(c.contains("\tseq_puts(m, \" live-patched\\n\");\n"), "{c}");
    // saved_command_line is not exported: an extern typed from DWARF.
    assert!(
        c.contains("KGPC_KLP_SYMBOL(vmlinux, saved_command_line, 0);"),
        "{c}"
    );
    assert!(c.contains("extern char *saved_command_line;"), "{c}");
    // The file's includes are the context the body is compiled in.
    assert!(c.contains("#include <linux/seq_file.h>"), "{c}");
    assert!(c.contains(".old_name = \"cmdline_proc_show\","), "{c}");
}

#[test]
fn a_private_header_of_the_file_is_copied_and_the_module_builds() {
    let cache = cache();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("module");
    let (code, stdout, stderr) = common::kgpc_in(
        &case("version"),
        &cache,
        "",
        &["build", "fix.kgp", "-o", dir.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let c = fs::read_to_string(dir.join("livepatch-version.c")).unwrap();
    assert!(
        c.contains("/* internal.h, as fs/proc/version.c includes it. */"),
        "{c}"
    );
    assert!(c.contains("static inline void pde_make_permanent"), "{c}");
    assert!(
        c.contains("KGPC_KLP_SYMBOL(vmlinux, linux_proc_banner, 0);"),
        "{c}"
    );
    assert!(dir.join("livepatch-version.ko").is_file());
}

#[test]
fn a_fix_given_as_a_patch_is_proven_in_the_kernel() {
    let cache = cache();
    let (code, stdout, stderr) =
        common::kgpc_in(&case("cmdline"), &cache, "", &["test", "fix.kgp"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stderr.contains("Tested livepatch-cmdline on ") && stderr.contains(": passed"),
        "{stderr}"
    );
}

/// Runs `kgpc test` on each case and asserts that it passed.
fn proven(names: &[&str]) {
    let cache = cache();
    for name in names {
        let (code, stdout, stderr) = common::kgpc_in(&case(name), &cache, "", &["test", "fix.kgp"]);
        assert_eq!(code, 0, "{name}: {stdout}{stderr}");
        assert!(stderr.contains(": passed"), "{name}: {stderr}");
    }
}

#[test]
fn fixes_of_modules_are_proven_in_the_kernel() {
    // The binfmt_misc fix's code reads vmlinux's unexported saved_command_line.
    proven(&["module", "module-uses-vmlinux"]);
}

/// Real upstream fixes (tests/fix/UPSTREAM.md), each as `kgpc new
/// --from-patch` wrote its spec, proven with its test block.
#[test]
fn real_upstream_fixes_are_proven_in_the_kernel() {
    proven(&[
        // dm-stripe changes a function of dm_mod.
        "upstream-dm-stripe",
        // nbd changes the prototype of nbd_handle_cmd(), which nbd.ko has
        // only inlined into nbd_queue_rq().
        "upstream-nbd-signals",
        // A static inline function of include/linux/virtio_net.h, in vmlinux
        // and three modules.
        "upstream-virtio-net-hdr",
        // elf_load() is one of two local functions of that name.
        "upstream-elf-padzero",
        // mark_idle() exists only inlined into idle_store() in zram.ko.
        "upstream-zram-mark-idle",
        // A new field of journal_s carried in a shadow variable.
        "upstream-jbd2-commit-loop",
        "upstream-bridge-boolopts",
        // Two files of fs/proc; task_mmu.c needs asm/tlbflush.h's part
        // hidden from modules.
        "upstream-proc-mem-open",
        // A new wait queue, data of the patch module; do_swap_page() reaches
        // the unexported __count_memcg_events() through a header's inline.
        "upstream-swapcache-wq",
        // A new static function of loop.c, in loop.ko, whose changed code
        // uses THIS_MODULE (loop's, reached as a livepatch relocation).
        "upstream-loop-check-backing-file",
        // The vmsplice system call: its changed helpers exist only inlined
        // into __do_sys_vmsplice, so its entry points are replaced.
        "upstream-vmsplice-fsnotify",
        // do_tee(), on the tee system call's path.
        "upstream-tee-fsnotify",
    ]);
}

#[test]
fn a_fix_to_an_inlined_helper_replaces_its_caller_and_copies_the_helpers() {
    let cache = cache();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("module");
    let (code, _, stderr) = common::kgpc_in(
        &case("inlined"),
        &cache,
        "",
        &["compile", "fix.kgp", "-o", dir.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    let c = fs::read_to_string(dir.join("livepatch-inlined.c")).unwrap();
    // show_irq_gap() changed; gcc inlined it, through show_all_irqs(), into show_stat().
    assert!(
        c.contains("static int livepatch_show_stat(struct seq_file *p, void *v)"),
        "{c}"
    );
    assert!(
        c.contains("static void show_irq_gap(struct seq_file *p, unsigned int gap)"),
        "{c}"
    );
    assert!(
        c.contains("static void show_all_irqs(struct seq_file *p)"),
        "{c}"
    );
    assert!(
        c.find("show_irq_gap(struct") < c.find("show_all_irqs(struct"),
        "{c}"
    );
    // A static of the file with a symbol is relocated, not copied.
    assert!(
        c.contains("KGPC_KLP_SYMBOL(vmlinux, get_idle_time, 0);"),
        "{c}"
    );
    // Only the compiled code shows that for_each_irq_nr() calls irq_get_next_irq().
    assert!(
        c.contains("KGPC_KLP_SYMBOL(vmlinux, irq_get_next_irq, 0);"),
        "{c}"
    );
}

#[test]
fn the_review_shows_the_change_and_what_kgpc_declared() {
    let cache = cache();
    let (code, stdout, stderr) =
        common::kgpc_in(&case("cmdline"), &cache, "", &["review", "fix.kgp"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("## The fix, on the target's source"),
        "{stdout}"
    );
    assert!(
        stdout.contains("```diff\n--- fs/proc/cmdline.c (target)\n+++ fs/proc/cmdline.c (with the fix)\n@@ -7,6 +7,6 @@\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-\tseq_putc(m, '\\n');\n+\tseq_puts(m, \" live-patched\\n\");\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("declared by kgpc from the kernel's debug information"),
        "{stdout}"
    );
    // A system call's entry points say what they are; the change is shown once, with its body.
    let (code, stdout, stderr) =
        common::kgpc_in(&case("syscall"), &cache, "", &["review", "fix.kgp"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("### `__x64_sys_newuname()` of `kernel/sys.c` in vmlinux, replaced\n\nThe entry point of the system call"), "{stdout}");
    assert_eq!(
        stdout.matches("+\tstrlcat(tmp.version").count(),
        1,
        "{stdout}"
    );
}

#[test]
fn a_duplicated_local_function_gets_its_sympos_and_new_data_is_the_modules() {
    let cache = cache();
    let out = tempfile::tempdir().unwrap();
    let compile = |name: &str| {
        let dir = out.path().join(name);
        let (code, _, stderr) = common::kgpc_in(
            &case(name),
            &cache,
            "",
            &["compile", "fix.kgp", "-o", dir.to_str().unwrap()],
        );
        assert_eq!(code, 0, "{stderr}");
        fs::read_to_string(dir.join(format!("livepatch-{name}.c"))).unwrap()
    };
    let c = compile("duplicated-local");
    assert!(
        c.contains(
            ".old_name = \"m_show\",\n\t\t.new_func = livepatch_m_show,\n\t\t.old_sympos = 1,"
        ),
        "{c}"
    );
    let c = compile("new-data");
    assert!(
        c.contains("static atomic_t version_reads = ATOMIC_INIT(0);"),
        "{c}"
    );
}

#[test]
fn each_category_of_change_is_proven_in_the_kernel() {
    proven(&[
        "duplicated-local",
        "inlined",
        "new-data",
        "new-function",
        "shadow",
        "syscall",
        "annotated-helpers",
        "kpatch-macros",
    ]);
}

#[test]
fn without_the_kernels_facts_the_closure_is_said_to_be_missing() {
    let cache = cache();
    let (code, _, stderr) = common::kgpc_in(
        &case("cmdline"),
        &cache,
        "",
        &["check", "fix.kgp", "--no-kernel-checks"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("warning[KGP0128]: without the kernel's debug information, kgpc cannot work out what the fix's functions use"),
        "{stderr}"
    );
}

#[test]
fn a_changed_header_function_is_followed_into_every_object_that_uses_it() {
    let cache = cache();
    let (code, stdout, stderr) = common::kgpc_in(
        &case("upstream-virtio-net-hdr"),
        &cache,
        "",
        &["review", "fix.kgp"],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    // virtio_net_hdr_to_skb() of include/linux/virtio_net.h is inlined into
    // tap_get_user(), tun_get_user() and receive_buf(), and into
    // packet_snd(), which gcc inlined into packet_sendmsg().
    for row in [
        "| tap | `tap_get_user()` (`drivers/net/tap.c`)",
        "| tun | `tun_get_user()` (`drivers/net/tun.c`)",
        "| virtio_net | `receive_buf()` (`drivers/net/virtio_net.c`)",
        "| vmlinux | `packet_sendmsg()` (`net/packet/af_packet.c`)",
    ] {
        assert!(stdout.contains(row), "{row}\n{stdout}");
    }
    assert!(
        stdout.contains("Compiled with the patched headers, since they use a header function the fix changes: `drivers/net/tap.c`, `drivers/net/tun.c`, `drivers/net/virtio_net.c`, `net/packet/af_packet.c`."),
        "{stdout}"
    );
}

/// The section of a review between two headings.
fn review_section(stdout: &str, from: &str, to: &str) -> String {
    let start = stdout
        .find(from)
        .unwrap_or_else(|| panic!("no {from}:\n{stdout}"));
    let end = stdout[start..].find(to).map_or(stdout.len(), |e| start + e);
    stdout[start..end].to_string()
}

/// A fix written in the spec, whole (`fix """ ... """`, as `kgpc new
/// --inline` writes it) or function by function (`replace NAME in "FILE"
/// fix """ ... """`), is the same fix as the patch file it came from.
#[test]
fn a_fix_written_in_the_spec_replaces_what_its_patch_file_replaces() {
    let cache = cache();
    for (written, from_file) in [
        ("function-diffs", "upstream-proc-mem-open"),
        ("function-diff", "upstream-dm-stripe"),
        ("inline-diff", "upstream-zram-mark-idle"),
    ] {
        let replaced = |name: &str| {
            let (code, stdout, stderr) =
                common::kgpc_in(&case(name), &cache, "", &["review", "fix.kgp"]);
            assert_eq!(code, 0, "{name}: {stderr}");
            review_section(
                &stdout,
                "## Replaced functions",
                "## The fix, on the target's source",
            )
        };
        let expected = replaced(from_file);
        assert!(
            expected.contains("| vmlinux |")
                || expected.contains("| dm_mod |")
                || expected.contains("| zram |"),
            "{expected}"
        );
        assert_eq!(replaced(written), expected, "{written} against {from_file}");
    }
    // The review says where the diff was written.
    let (_, stdout, _) =
        common::kgpc_in(&case("function-diffs"), &cache, "", &["review", "fix.kgp"]);
    assert!(
        stdout.contains("The diff written in `fix.kgp` applied to the source of"),
        "{stdout}"
    );
}

#[test]
fn a_fix_written_in_the_spec_is_proven_in_the_kernel() {
    proven(&["function-diff", "function-diffs", "inline-diff"]);
}

/// The patch's code for virtio_net calls virtio_ring's exports, so the patch
/// depends on virtio_ring: that module is loaded before the patch even when
/// the test's modules (tun, tap, virtio_net) arrive only after it. (The
/// case's `always` check, which counts those modules, is left out: after the
/// patch they are not there before it.)
#[test]
fn a_patch_whose_modules_arrive_later_still_gets_the_modules_it_depends_on() {
    let cache = cache();
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(case("upstream-virtio-net-hdr"))
        .unwrap()
        .flatten()
    {
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let spec = dir.path().join("fix.kgp");
    let text = fs::read_to_string(&spec).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("always "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(kept, text, "the case's always check is gone");
    fs::write(&spec, kept).unwrap();
    let (code, stdout, stderr) = common::kgpc_in(
        dir.path(),
        &cache,
        "",
        &["test", "fix.kgp", "--modules-after-patch"],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains(": passed"), "{stderr}");
}
