//! What a build that fails or a module the kernel would refuse reads like, and the livepatch relocations that make declared symbols load.

use super::*;

/// Failures before the VM: compiler errors mapped to the spec and to a body file, a warning, a broken build
/// tree, a missing kernel, an undeclared non-exported symbol, a relocation kgpc refuses to
/// write, a spec without a test block, a module that cannot be found, QEMU missing.
// One scenario in the order a user meets it (every way a build fails, each with its code); its steps share
// what the earlier ones built, so it reads best whole.
#[test]
fn build_failures_are_reported_with_their_codes() {
    let release = release();
    let broken = tempfile::tempdir().unwrap();
    fs::write(
        broken.path().join("Makefile"),
        "modules:\n\t@echo 'this is not a kernel build tree' >&2; false\n",
    )
    .unwrap();
    let broken_kdir = broken.path().display().to_string();
    let out = tempfile::tempdir().unwrap();
    let o = |name: &str| out.path().join(name).display().to_string();
    let spec = |name: &str| format!("tests/vm/{name}.kgp");
    let (e, w, d, u, x) = (o("e"), o("w"), o("d"), o("u"), o("x"));
    let b = o("b");
    let cases = vec![
        case(
            "compiler error",
            &["build", &spec("compiler-error"), "--release", &release, "-o", &e],
            4,
            &[
                "error[KGP0200]: C compiler: ",
                "kgpc_undeclared_name",
                "tests/vm/compiler-error.kgp:15:9",
                "[KGP0202]",
            ],
        ),
        // A body file the spec may read is shown at gcc's line in it.
        case(
            "compiler error in a body file",
            &["build", &spec("compiler-error-in-body-file"), "--release", &release, "-o", &b],
            4,
            &[
                "error[KGP0200]: C compiler: ‘kgpc_undeclared_in_body_file’ undeclared",
                "tests/vm/bodies/compiler-error.c:2:2",
                "kgpc_undeclared_in_body_file);",
            ],
        ),
        case(
            "compiler warning",
            &["build", &spec("compiler-warning"), "--release", &release, "-o", &w],
            0,
            &["warning[KGP0201]: C compiler: unused variable", "tests/vm/compiler-warning.kgp:15:9"],
        ),
        case(
            "broken build tree",
            &["build", "examples/livepatch-sample.kgp", "--release", &release, "--kdir", &broken_kdir, "-o", &d],
            4,
            &["error[KGP0202]", "this is not a kernel build tree"],
        ),
        // kgpc check would refuse the use (KGP0112) before the build.
        case(
            "undeclared symbol",
            &["build", &spec("undeclared-symbol"), "--release", &release, "-o", &u, "--no-kernel-checks"],
            4,
            &[
                "error[KGP0204]: livepatch-undeclared-symbol.ko uses `saved_command_line`, which vmlinux does not export",
                "tests/vm/undeclared-symbol.kgp:15:41",
                "declare it in `object vmlinux`: `extern char *saved_command_line;`",
            ],
        ),
        // kgpc check refuses the made-up symbol (KGP0108) once binfmt_misc's debug
        // object is in the kgpc cache.
        case(
            "module symbol in __jump_table",
            &["build", &spec("early-section"), "--release", &release, "-o", &x, "--no-kernel-checks"],
            4,
            &["error[KGP0205]", "`kgpc_some_key` is referenced from `__jump_table`"],
        ),
        case(
            "no test block",
            &["test", &spec("no-test-block"), "--release", &release],
            1,
            &["error[KGP0208]"],
        ),
        case(
            "missing module",
            &["test", &spec("missing-load"), "--release", &release],
            4,
            &["error[KGP0214]: the kernel has no module `kgpc_no_such_module`"],
        ),
        case(
            "missing QEMU",
            &["test", "examples/livepatch-sample.kgp", "--release", &release, "--qemu", "/nonexistent/qemu-system-x86_64"],
            4,
            &["error[KGP0206]: QEMU (`/nonexistent/qemu-system-x86_64`) is not installed"],
        ),
    ];
    let failures = run_all(&cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // A release nothing on this machine has.
    let cache = tempfile::tempdir().unwrap();
    let outcome = kgpc(
        &[
            "build",
            "examples/livepatch-sample.kgp",
            "--release",
            "6.1.0-999-cloud-amd64",
            "-o",
            &o("m"),
        ],
        &[("KGPC_CACHE_DIR", &cache.path().display().to_string())],
    );
    assert_eq!(outcome.status, 4, "{}", outcome.output);
    assert!(
        outcome
            .output
            .contains("error[KGP0203]: no kernel build tree for 6.1.0-999-cloud-amd64")
            && outcome
                .output
                .contains("kgpc kernel fetch 6.1.0-999-cloud-amd64"),
        "{}",
        outcome.output
    );
}

/// The twelve non-exported functions of tests/vm/undeclared-among-many.kgp: with two of
/// them undeclared, `kgpc build` names exactly those two (modpost lists only ten
/// undefined symbols and suppresses the rest), with their objects and declarations; with
/// the two declarations added, the module keeps no undefined symbol that the kernel does
/// not export, and it loads and works in the VM.
// One scenario in the order a user meets it (build, read the errors, declare, build and boot); its steps share
// what the earlier ones built, so it reads best whole.
#[test]
fn every_undeclared_symbol_is_named_and_the_declared_ones_load() {
    use object::read::elf::{ElfFile64, Sym};
    use object::{Endianness, Object, ObjectSymbol};
    let release = release();
    let out = tempfile::tempdir().unwrap();
    let failed = out.path().join("failed").display().to_string();
    let spec = "tests/vm/undeclared-among-many.kgp";
    // Without the kernel checks, which would report the same two uses (KGP0112).
    let outcome = kgpc(
        &[
            "build",
            spec,
            "--release",
            &release,
            "-o",
            &failed,
            "--no-kernel-checks",
        ],
        &[],
    );
    assert_eq!(outcome.status, 4, "{}", outcome.output);
    let errors: Vec<&str> = outcome
        .output
        .lines()
        .filter(|l| l.starts_with("error[KGP0204]"))
        .collect();
    assert_eq!(
        errors,
        [
            "error[KGP0204]: livepatch-undeclared-among-many.ko uses `nr_blockdev_pages`, which vmlinux does not export",
            "error[KGP0204]: livepatch-undeclared-among-many.ko uses `task_curr`, which vmlinux does not export",
        ],
        "{}",
        outcome.output
    );
    for expected in [
        "vmlinux defines `nr_blockdev_pages` in block/bdev.c and does not export it",
        "declare it in `object vmlinux`: `extern long int nr_blockdev_pages(void);`",
        "vmlinux defines `task_curr` in kernel/sched/core.c and does not export it",
        "declare it in `object vmlinux`: `extern int task_curr(const struct task_struct *p);`",
        "tests/vm/undeclared-among-many.kgp:48:20",
        "tests/vm/undeclared-among-many.kgp:48:41",
    ] {
        assert!(
            outcome.output.contains(expected),
            "missing {expected:?} in\n{}",
            outcome.output
        );
    }
    // modpost alone would not have said so: it suppressed some of the twelve.
    assert!(
        outcome
            .output
            .contains("suppressed 2 unresolved symbol warnings"),
        "{}",
        outcome.output
    );

    // The same spec with the two declarations added.
    let text = fs::read_to_string(root().join(spec)).unwrap();
    let declared = text.replace(
        "    extern int nr_processes(void);\n",
        "    extern int nr_processes(void);\n    extern long nr_blockdev_pages(void);\n    extern int task_curr(const struct task_struct *p);\n",
    );
    assert_ne!(text, declared);
    let fixed = out.path().join("declared.kgp");
    fs::write(&fixed, declared).unwrap();
    let fixed = fixed.display().to_string();
    let built = out.path().join("built").display().to_string();
    let outcome = kgpc(&["build", &fixed, "--release", &release, "-o", &built], &[]);
    assert_eq!(outcome.status, 0, "{}", outcome.output);
    assert!(
        outcome.output.contains("12 livepatch relocation(s)"),
        "{}",
        outcome.output
    );
    // Every undefined symbol left is one the kernel exports (read here from the build
    // tree's Module.symvers).
    let symvers = fs::read_to_string(common::debian_kernel("kdir").join("Module.symvers")).unwrap();
    let exported: std::collections::HashSet<&str> = symvers
        .lines()
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    let data = fs::read(out.path().join("built/livepatch-undeclared-among-many.ko")).unwrap();
    let file = ElfFile64::<Endianness>::parse(&*data).unwrap();
    let undefined: Vec<String> = file
        .symbols()
        .filter(|s| s.elf_symbol().st_shndx(file.endian()) == object::elf::SHN_UNDEF)
        .filter_map(|s| s.name().ok().map(str::to_string))
        .filter(|n| !n.is_empty())
        .collect();
    assert!(
        undefined
            .iter()
            .any(|n| n == "_printk" || n == "seq_printf"),
        "{undefined:?}"
    );
    let unresolved: Vec<&String> = undefined
        .iter()
        .filter(|n| !exported.contains(n.as_str()) && *n != "__this_module")
        .collect();
    assert!(unresolved.is_empty(), "not exported: {unresolved:?}");
    // And the kernel accepts it.
    let outcome = kgpc(&["test", &fixed, "--release", &release], &[]);
    assert_eq!(outcome.status, 0, "{}", outcome.output);
    assert!(
        outcome
            .output
            .contains("Tested livepatch-undeclared-among-many"),
        "{}",
        outcome.output
    );
}

/// The relocations of a built module are the kernel's livepatch ELF format.
#[test]
fn extern_symbols_become_livepatch_relocations() {
    use object::read::elf::{ElfFile64, SectionHeader, Sym};
    use object::{Endianness, Object, ObjectSymbol};
    let release = release();
    let out = tempfile::tempdir().unwrap();
    for (spec, object_name, symbol) in [
        (
            "examples/livepatch-cmdline-unexported.kgp",
            "vmlinux",
            "saved_command_line",
        ),
        ("examples/binfmt-misc-status.kgp", "binfmt_misc", "enabled"),
    ] {
        let dir = out.path().join(object_name);
        let outcome = kgpc(
            &[
                "build",
                spec,
                "--release",
                &release,
                "-o",
                &dir.display().to_string(),
            ],
            &[],
        );
        assert_eq!(outcome.status, 0, "{}", outcome.output);
        assert!(
            outcome.output.contains("1 livepatch relocation(s)"),
            "{}",
            outcome.output
        );
        let ko = fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|e| e == "ko"))
            .expect("a .ko");
        let data = fs::read(&ko).unwrap();
        let file = ElfFile64::<Endianness>::parse(&*data).unwrap();
        let endian = file.endian();
        assert!(file.section_by_name(".kgpc.klp_syms").is_none());
        let klp = file
            .section_by_name(&format!(".klp.rela.{object_name}.text"))
            .unwrap_or_else(|| panic!("no .klp.rela.{object_name}.text in {}", ko.display()));
        let header = klp.elf_section_header();
        assert_eq!(header.sh_type(endian), object::elf::SHT_RELA);
        assert_eq!(
            header.sh_flags(endian) & 0x0010_0002,
            0x0010_0002,
            "SHF_ALLOC | SHF_RELA_LIVEPATCH"
        );
        let name = format!(".klp.sym.{object_name}.{symbol},0");
        let klp_symbol = file
            .symbols()
            .find(|s| s.name() == Ok(name.as_str()))
            .unwrap_or_else(|| panic!("no symbol {name}"));
        let raw = klp_symbol.elf_symbol();
        assert_eq!(raw.st_shndx(endian), 0xff20, "SHN_LIVEPATCH");
        assert_eq!(raw.st_bind(), object::elf::STB_GLOBAL);
        assert_eq!(raw.st_type(), object::elf::STT_NOTYPE);
        assert!(file.symbols().all(|s| s.name() != Ok(symbol)));
        // Every relocation of a livepatch section uses a livepatch symbol, and no relocation
        // of an allocated section outside them does.
        let symbols = file.elf_symbol_table();
        for header in file.elf_section_table().iter() {
            let Ok(Some((relas, _))) = header.rela(endian, &*data) else {
                continue;
            };
            let name = file
                .elf_section_table()
                .section_name(endian, header)
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default();
            let is_klp = name.starts_with(".klp.rela.");
            if header.sh_flags(endian) & u64::from(object::elf::SHF_ALLOC) == 0 && !is_klp {
                let target = file
                    .elf_section_table()
                    .section(object::SectionIndex(header.sh_info(endian) as usize))
                    .unwrap();
                if target.sh_flags(endian) & u64::from(object::elf::SHF_ALLOC) == 0 {
                    continue; // debug information
                }
            }
            for rela in relas {
                let index = rela.r_sym(endian, false) as usize;
                let used = symbols.symbol(object::SymbolIndex(index)).unwrap();
                let used_name = String::from_utf8_lossy(symbols.symbol_name(endian, used).unwrap());
                assert_eq!(
                    is_klp,
                    used_name.starts_with(".klp.sym."),
                    "{name}: a relocation against {used_name}"
                );
            }
        }
    }
}
