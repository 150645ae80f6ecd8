//! The compiler's view of a fix, on Debian 12's real kernel: files of the
//! cached source tree compiled with the cached build tree's own flags, the
//! original and a changed text, and the two objects compared function by
//! function. Needs `kgpc kernel fetch --source` (the build tree and the
//! source tree in the kgpc cache); without them every test fails and says so.

use gimli::Reader;
use kgpc::source_tree::{
    compare, compile_unit, mark_line_only, renumbered, Change, CompileError, ObjectChanges,
    UnitKind,
};
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

/// The debug vmlinux of the release whose build tree is `build`.
fn debug_vmlinux(build: &Path) -> PathBuf {
    let release = kgpc::build::kbuild::kdir_release(build).expect("the build tree's release");
    let vmlinux = kgpc::fetch::KernelPaths::in_cache(&kgpc::fetch::cache_dir(), &release).vmlinux();
    assert!(
        vmlinux.is_file(),
        "{} is missing: run `kgpc kernel fetch --source`",
        vmlinux.display()
    );
    vmlinux
}

/// `DW_AT_producer` of the compilation unit named `unit` of an ELF file:
/// the compiler's version and the flags that shape code.
fn producer(path: &Path, unit: &str) -> String {
    let file = fs::File::open(path).expect("the file opens");
    // SAFETY: the file is kgpc's cache's or the test's own, not written while mapped.
    let map = unsafe { memmap2::Mmap::map(&file) }.expect("the file maps");
    let elf = object::File::parse(&*map).expect("an ELF file");
    let layout = kgpc::kernel::elf::Layout::read(&elf);
    let sections = kgpc::kernel::dwarf_sections::DwarfSections::load(&layout, &elf);
    let dwarf = sections.dwarf(&map);
    let mut headers = dwarf.units();
    while let Ok(Some(header)) = headers.next() {
        let Ok(cu) = dwarf.unit(header) else { continue };
        let mut entries = cu.entries();
        let Ok(Some(root)) = entries.next_dfs() else {
            continue;
        };
        let text = |at: gimli::DwAt| -> Option<String> {
            let value = root.attr_value(at)?;
            let text = dwarf.attr_string(&cu, value).ok()?;
            Some(text.to_string_lossy().ok()?.into_owned())
        };
        if text(gimli::DW_AT_name)
            .is_some_and(|name| name == unit || name.ends_with(&format!("/{unit}")))
        {
            return text(gimli::DW_AT_producer).expect("the unit names its producer");
        }
    }
    panic!("{} has no compilation unit {unit}", path.display());
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
fn compile_and_compare(rel_path: &str, patched: impl Fn(&str) -> String) -> ObjectChanges {
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

fn change_of(changes: &ObjectChanges, name: &str) -> Change {
    changes
        .function(name)
        .unwrap_or_else(|| panic!("no function {name} in {changes:#?}"))
        .change
}

#[test]
fn a_changed_string_changes_only_its_function() {
    let changes = compile_and_compare("fs/proc/cmdline.c", |text| {
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
        // A file of a module of many files, in a directory without a Makefile
        // (fs/xfs/Makefile lists libxfs/xfs_ag.o), with the module's -I flags.
        ("fs/xfs/libxfs/xfs_ag.c", UnitKind::Module, "xfs"),
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

#[test]
fn a_change_to_an_inlined_static_function_changes_its_caller() {
    let changes = compile_and_compare("fs/proc/stat.c", |text| {
        edited(
            text,
            "seq_write(p, zeros, 2 * inc);",
            "seq_write(p, zeros, 2 * inc - 1);",
        )
    });
    // gcc inlined show_irq_gap (through show_all_irqs) into show_stat: it has no symbol.
    assert!(changes.function("show_irq_gap").is_none(), "{changes:#?}");
    assert!(changes.function("show_all_irqs").is_none(), "{changes:#?}");
    assert_eq!(change_of(&changes, "show_stat"), Change::Changed);
    let show_stat = changes.function("show_stat").expect("show_stat");
    assert!(
        show_stat.local_data.iter().any(|d| d.starts_with("zeros")),
        "{show_stat:?}"
    );
    assert!(
        show_stat.undefined.contains(&"seq_write".to_string()),
        "{show_stat:?}"
    );
    for unchanged in ["stat_open", "proc_stat_init"] {
        assert_eq!(
            change_of(&changes, unchanged),
            Change::Unchanged,
            "{unchanged}"
        );
    }
    assert_eq!(changes.changed_functions().count(), 1, "{changes:#?}");
}

#[test]
fn a_change_to_an_init_function_is_in_init_text() {
    let changes = compile_and_compare("fs/proc/cmdline.c", |text| {
        edited(
            text,
            "proc_create_single(\"cmdline\", 0,",
            "proc_create_single(\"cmdline\", 0444,",
        )
    });
    let init = changes
        .function("proc_cmdline_init")
        .expect("the init function");
    assert_eq!(init.change, Change::Changed);
    assert!(init.init, "{init:?}");
    assert_eq!(change_of(&changes, "cmdline_proc_show"), Change::Unchanged);
    assert!(!changes.function("cmdline_proc_show").expect("show").init);
}

#[test]
fn changed_initial_values_of_data_are_reported() {
    // A constant table of a function (read-only, local) and a global variable.
    let changes = compile_and_compare("fs/proc/stat.c", |text| {
        edited(
            text,
            "\" 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\"",
            "\" 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1\"",
        )
    });
    let zeros = changes
        .data
        .iter()
        .find(|d| d.name.starts_with("zeros"))
        .unwrap_or_else(|| panic!("no zeros in {:?}", changes.data));
    assert_eq!(zeros.change, Change::Changed);
    assert!(!zeros.writable && !zeros.global, "{zeros:?}");
    assert_eq!(changes.changed_data().count(), 1, "{:?}", changes.data);
    // The code that uses the table is the same.
    assert_eq!(changes.changed_functions().count(), 0, "{changes:#?}");

    let globals = compile_and_compare("kernel/capability.c", |text| {
        edited(
            text,
            "int file_caps_enabled = 1;",
            "int file_caps_enabled = 0;",
        )
    });
    let caps = globals
        .data_item("file_caps_enabled")
        .expect("the variable");
    assert_eq!(caps.change, Change::Changed);
    assert!(caps.writable && caps.global, "{caps:?}");
    assert_eq!(globals.changed_data().count(), 1, "{:?}", globals.data);
    assert_eq!(globals.changed_functions().count(), 0, "{globals:#?}");
}

#[test]
fn a_comment_is_no_change() {
    let changes = compile_and_compare("fs/proc/cmdline.c", |text| {
        edited(
            text,
            "\tseq_puts(m, saved_command_line);\n",
            "\t/*\n\t * The command line, as the boot loader gave it.\n\t */\n\tseq_puts(m, saved_command_line);\n",
        )
    });
    assert!(changes.functions.len() >= 2, "{changes:#?}");
    assert_eq!(changes.changed_functions().count(), 0, "{changes:#?}");
    assert_eq!(changes.changed_data().count(), 0, "{:?}", changes.data);
}

#[test]
fn lines_that_only_move_are_told_from_changes() {
    let (build, source) = trees();
    let work = tempfile::tempdir().expect("a temporary directory");
    let rel_path = "fs/proc/generic.c";
    let text = original(&source, rel_path);
    // Three lines more at the top of the file, and one real change further down.
    let patched = edited(
        &edited(
            &text,
            "#include <linux/cache.h>\n",
            "#include <linux/cache.h>\n\n/*\n */\n",
        ),
        "WARN(1, \"name '.'\\n\");",
        "WARN(1, \"name '.' (a dot)\\n\");",
    );
    let compile = |text: &str, dir: &str| {
        compile_unit(&build, &source, rel_path, text, &work.path().join(dir))
            .unwrap_or_else(|e| panic!("{dir} compiles: {e}"))
            .object
    };
    let original_object = compile(&text, "a");
    let patched_object = compile(&patched, "b");
    let mapped_object = compile(&renumbered(&text, &patched), "c");
    let mut changes = compare(&original_object, &patched_object).expect("the objects compare");
    // Only the moved lines of the WARN entries differ in these functions.
    assert_eq!(
        change_of(&changes, "remove_proc_entry"),
        Change::LineOnly,
        "{changes:#?}"
    );
    assert_eq!(change_of(&changes, "proc_register"), Change::LineOnly);
    // A function without WARN entries.
    assert_eq!(change_of(&changes, "proc_lookup_de"), Change::Unchanged);
    let mapped = compare(&original_object, &mapped_object).expect("the objects compare");
    mark_line_only(&mut changes, &mapped);
    assert_eq!(change_of(&changes, "remove_proc_entry"), Change::LineOnly);
    let changed: Vec<&str> = changes
        .functions
        .iter()
        .filter(|f| f.change == Change::Changed)
        .map(|f| f.name.as_str())
        .collect();
    eprintln!("{changed:?}");
    assert!(
        changes.data.iter().all(|d| d.change != Change::Changed),
        "{:?}",
        changes.data
    );
}

#[test]
fn dynamic_debug_records_that_only_move_are_line_only() {
    let (build, source) = trees();
    let work = tempfile::tempdir().expect("a temporary directory");
    let rel_path = "kernel/freezer.c";
    let text = original(&source, rel_path);
    let patched = edited(
        &text,
        "#include <linux/kthread.h>\n",
        "#include <linux/kthread.h>\n\n\n",
    );
    let compile = |text: &str, dir: &str| {
        compile_unit(&build, &source, rel_path, text, &work.path().join(dir))
            .unwrap_or_else(|e| panic!("{dir} compiles: {e}"))
            .object
    };
    let original_object = compile(&text, "a");
    let mut changes = compare(&original_object, &compile(&patched, "b")).expect("compared");
    // The records of pr_debug hold their line numbers.
    let records = changes.changed_data().count();
    assert!(records >= 2, "{:?}", changes.data);
    assert!(
        changes.changed_data().all(|d| d.section == "__dyndbg"),
        "{:?}",
        changes.data
    );
    // Their functions' code is the same; their WARN entries moved.
    assert!(
        changes
            .changed_functions()
            .all(|f| f.change == Change::LineOnly),
        "{changes:#?}"
    );
    let mapped = compare(
        &original_object,
        &compile(&renumbered(&text, &patched), "c"),
    )
    .expect("compared");
    mark_line_only(&mut changes, &mapped);
    assert_eq!(changes.changed_data().count(), records);
    assert!(
        changes.changed_data().all(|d| d.change == Change::LineOnly),
        "{:?}",
        changes.data
    );
}

#[test]
fn the_flags_are_the_kernels_own_plus_sections_per_function() {
    let (build, source) = trees();
    let work = tempfile::tempdir().expect("a temporary directory");
    let rel_path = "fs/proc/cmdline.c";
    let unit = compile_unit(
        &build,
        &source,
        rel_path,
        &original(&source, rel_path),
        work.path(),
    )
    .unwrap_or_else(|e| panic!("{rel_path} compiles: {e}"));
    let ours = producer(&unit.object, rel_path);
    let theirs = producer(&debug_vmlinux(&build), rel_path);
    assert_eq!(
        ours,
        format!("{theirs} -ffunction-sections -fdata-sections")
    );
}
