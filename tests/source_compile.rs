//! The compiler's view of a fix, on Debian 12's real kernel: files of the
//! cached source tree compiled with the cached build tree's own flags, the
//! original and a changed text, and the two objects compared function by
//! function. Needs `kgpc kernel fetch --source` (the build tree and the
//! source tree in the kgpc cache); without them every test fails and says so.

use kgpc::source_tree::{compare, compile_unit, Change, CompileError, ObjectChanges, UnitKind};
use std::fs;
use std::path::{Path, PathBuf};

/// The build tree and the source tree of the newest cached release that has both.
fn trees() -> (PathBuf, PathBuf) {
    let cache = kgpc::fetch::cache_dir();
    let mut releases = kgpc::fetch::cached_releases(&cache);
    releases.sort_by_key(|r| kgpc::fetch::natural_key(r));
    for release in releases.iter().rev() {
        let build = kgpc::fetch::ready(&cache, release).ok().flatten();
        let source = kgpc::fetch::source_ready(&cache, release);
        if let (Some(build), Some(source)) = (build, source) {
            return (build.kdir(), source.dir);
        }
    }
    panic!(
        "no kernel of the kgpc cache {} has both its build tree and its source tree: \
         run `kgpc kernel fetch --source` first",
        cache.display()
    );
}

/// The text of a file of the source tree.
fn original(source: &Path, rel_path: &str) -> String {
    fs::read_to_string(source.join(rel_path)).expect("the file is in the source tree")
}

/// `text` with `from` replaced once by `to`, which must be there.
fn edited(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the source has no {from:?}");
    text.replacen(from, to, 1)
}

/// Compiles the original and the patched text of `rel_path` and compares them.
fn changes(rel_path: &str, patched: impl Fn(&str) -> String) -> ObjectChanges {
    let (build, source) = trees();
    let work = tempfile::tempdir().expect("a temporary directory");
    let text = original(&source, rel_path);
    let before = compile_unit(&build, &source, rel_path, &text, &work.path().join("a"))
        .unwrap_or_else(|e| panic!("the original compiles: {e}"));
    let after = compile_unit(
        &build,
        &source,
        rel_path,
        &patched(&text),
        &work.path().join("b"),
    )
    .unwrap_or_else(|e| panic!("the patched text compiles: {e}"));
    compare(&before.object, &after.object).expect("the objects compare")
}

#[allow(dead_code)]
fn change_of(changes: &ObjectChanges, name: &str) -> Change {
    changes
        .function(name)
        .unwrap_or_else(|| panic!("no function {name} in {changes:#?}"))
        .change
}

#[test]
fn a_changed_string_changes_only_its_function() {
    let changes = changes("fs/proc/cmdline.c", |text| {
        edited(text, "seq_putc(m, '\\n');", "seq_puts(m, \" kgpc\\n\");")
    });
    let show = changes.function("cmdline_proc_show").expect("the function");
    assert_eq!(show.change, Change::Changed);
    assert!(show.strings.contains(&" kgpc\n".to_string()), "{show:?}");
    assert!(show.undefined.contains(&"seq_puts".to_string()), "{show:?}");
    assert!(
        show.undefined.contains(&"saved_command_line".to_string()),
        "{show:?}"
    );
    let init = changes
        .function("proc_cmdline_init")
        .expect("the init function");
    assert_eq!(
        init.change,
        Change::Unchanged,
        "the string \"cmdline\" moved, nothing else"
    );
    assert!(init.init);
    assert!(
        init.local_functions
            .contains(&"cmdline_proc_show".to_string()),
        "{init:?}"
    );
    assert_eq!(changes.changed_functions().count(), 1);
    assert_eq!(changes.changed_data().count(), 0, "{:?}", changes.data);
}

#[test]
fn files_of_vmlinux_and_of_modules_compile_as_the_kernel_built_them() {
    let (build, source) = trees();
    let work = tempfile::tempdir().expect("a temporary directory");
    for (rel_path, kind, modname) in [
        ("fs/proc/cmdline.c", UnitKind::BuiltIn, "proc"),
        ("kernel/fork.c", UnitKind::BuiltIn, "fork"),
        ("net/sched/sch_netem.c", UnitKind::Module, "sch_netem"),
    ] {
        let text = original(&source, rel_path);
        let unit = compile_unit(&build, &source, rel_path, &text, &work.path().join(modname))
            .unwrap_or_else(|e| panic!("{rel_path} compiles: {e}"));
        eprintln!("{rel_path}: {:.2} s", unit.elapsed.as_secs_f64());
        assert_eq!(unit.kind, kind, "{rel_path}");
        assert_eq!(unit.modname, modname, "{rel_path}");
        assert!(
            unit.object.starts_with(work.path()),
            "{}",
            unit.object.display()
        );
        assert!(
            unit.command
                .contains(" -ffunction-sections -fdata-sections "),
            "{}",
            unit.command
        );
        assert!(unit.command.contains(" -g "), "{}", unit.command);
        assert_eq!(
            unit.command.contains(" -DMODULE "),
            kind == UnitKind::Module,
            "{}",
            unit.command
        );
        for word in unit.command.split_whitespace() {
            let path = word
                .trim_start_matches("-I")
                .trim_start_matches("-fmacro-prefix-map=");
            for host in ["/usr/src", "/lib/modules", "/usr/lib/linux-kbuild"] {
                assert!(!path.starts_with(host), "the host's {host} is used: {word}");
            }
        }
    }
}

#[test]
fn a_file_the_config_does_not_build_is_refused() {
    let (build, source) = trees();
    let work = tempfile::tempdir().expect("a temporary directory");
    // fs/proc/Makefile replaces nommu.o by task_mmu.o when CONFIG_MMU is set.
    let text = original(&source, "fs/proc/nommu.c");
    match compile_unit(&build, &source, "fs/proc/nommu.c", &text, work.path()) {
        Err(CompileError::NotBuilt { rel_path, makefile }) => {
            assert_eq!(rel_path, "fs/proc/nommu.c");
            assert_eq!(makefile, "fs/proc/Makefile");
        }
        other => panic!("not refused: {other:?}"),
    }
    // fs/Makefile does not enter reiserfs/ without CONFIG_REISERFS_FS.
    let text = original(&source, "fs/reiserfs/super.c");
    match compile_unit(&build, &source, "fs/reiserfs/super.c", &text, work.path()) {
        Err(CompileError::NotReached { dir, .. }) => assert_eq!(dir, "fs/reiserfs"),
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn compiler_errors_are_located_at_the_lines_of_the_file() {
    let (build, source) = trees();
    let work = tempfile::tempdir().expect("a temporary directory");
    let text = edited(
        &original(&source, "fs/proc/cmdline.c"),
        "seq_putc(m, '\\n');",
        "seq_putc(m, no_such_variable);",
    );
    let line = 1 + text
        .lines()
        .position(|l| l.contains("no_such_variable"))
        .expect("the line");
    match compile_unit(&build, &source, "fs/proc/cmdline.c", &text, work.path()) {
        Err(CompileError::Compiler { messages, .. }) => {
            let error = messages.iter().find(|m| m.error).expect("an error");
            assert_eq!(error.file, "fs/proc/cmdline.c");
            assert_eq!(error.line, line);
            assert!(error.text.contains("no_such_variable"), "{error:?}");
        }
        other => panic!("not refused: {other:?}"),
    }
    let path_error = compile_unit(&build, &source, "../etc/passwd.c", "", work.path());
    assert!(
        matches!(path_error, Err(CompileError::BadPath { .. })),
        "{path_error:?}"
    );
}
