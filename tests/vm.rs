//! `kgpc build` and `kgpc test` against the real target kernel: every example is built,
//! booted under QEMU (TCG) and proven; every failure mode of building and testing is
//! produced on purpose from `tests/vm/` and must give its diagnostic code and exit status.
//!
//! The kernel comes from the kgpc cache, filled by `kgpc kernel fetch` (run here, it
//! reuses the cache). The VMs run two at a time; the timings are printed (`--nocapture`,
//! or nextest's output of a failing test).

mod common;

use common::root;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

/// The number of VMs that run side by side.
const JOBS: usize = 2;
/// One spec's build and VM test must stay below this (the issue asks for 15 s on an idle
/// machine; two jobs share the machine's cores here, hence the margin).
const PER_SPEC: Duration = Duration::from_secs(40);

/// The release of Debian's current cloud kernel, whose image the kgpc cache holds.
fn release() -> String {
    let image = common::debian_kernel("vmlinuz");
    let name = image.file_name().unwrap().to_string_lossy().into_owned();
    name.strip_prefix("vmlinuz-")
        .unwrap_or_else(|| panic!("unexpected image name {}", image.display()))
        .to_string()
}

struct Outcome {
    status: i32,
    output: String,
    elapsed: Duration,
}

fn kgpc(args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let start = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kgpc"));
    command
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("KGPC_KDIR")
        .stdin(Stdio::null());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("kgpc runs");
    Outcome {
        status: output.status.code().unwrap_or(-1),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        elapsed: start.elapsed(),
    }
}

/// A run of kgpc and what it must give.
struct Case {
    name: String,
    args: Vec<String>,
    status: i32,
    /// Texts the output must contain, such as a diagnostic code `[KGP0210]`.
    expect: Vec<String>,
}

fn case(name: &str, args: &[&str], status: i32, expect: &[&str]) -> Case {
    Case {
        name: name.to_string(),
        args: args.iter().map(|a| a.to_string()).collect(),
        status,
        expect: expect.iter().map(|e| e.to_string()).collect(),
    }
}

/// Runs the cases, `JOBS` at a time; returns the failures.
fn run_all(cases: &[Case]) -> Vec<String> {
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for _ in 0..JOBS.min(cases.len()) {
            scope.spawn(|| {
                while let Some(case) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
                    let outcome = kgpc(&args, &[]);
                    let missing: Vec<&String> = case
                        .expect
                        .iter()
                        .filter(|e| !outcome.output.contains(e.as_str()))
                        .collect();
                    eprintln!(
                        "{} {} (exit {}) in {:.1} s",
                        if outcome.status == case.status && missing.is_empty() {
                            "ok"
                        } else {
                            "FAILED"
                        },
                        case.name,
                        outcome.status,
                        outcome.elapsed.as_secs_f64()
                    );
                    let mut problems = Vec::new();
                    if outcome.status != case.status {
                        problems.push(format!(
                            "exit status {} instead of {}",
                            outcome.status, case.status
                        ));
                    }
                    if !missing.is_empty() {
                        problems.push(format!("the output lacks {missing:?}"));
                    }
                    if outcome.elapsed > PER_SPEC {
                        problems.push(format!(
                            "took {:.1} s, more than {} s",
                            outcome.elapsed.as_secs_f64(),
                            PER_SPEC.as_secs()
                        ));
                    }
                    if !problems.is_empty() {
                        failures.lock().unwrap().push(format!(
                            "==== {} ({}): {}\n{}",
                            case.name,
                            case.args.join(" "),
                            problems.join("; "),
                            outcome.output
                        ));
                    }
                }
            });
        }
    });
    failures.into_inner().unwrap()
}

fn examples() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = fs::read_dir(root().join("examples"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "kgp"))
        .collect();
    specs.sort();
    specs
}

/// Every example passes in the VM, and every failure of a test in the VM is reported with
/// its code: a failing check, a refused module with its reason, a stalled transition, a
/// kernel warning, a panic and a VM that runs out of time.
#[test]
fn examples_pass_and_failures_are_caught_in_the_vm() {
    let start = Instant::now();
    let release = release();
    let mut cases = Vec::new();
    for spec in examples() {
        let path = spec.strip_prefix(root()).unwrap().display().to_string();
        cases.push(case(
            &path,
            &["test", &path, "--release", &release],
            0,
            &["Tested livepatch-"],
        ));
    }
    assert!(cases.len() >= 9, "expected at least 9 examples");
    // Two static functions of one name from two files, each chosen by `in "FILE"`.
    cases.push(case(
        "tests/vm/same-name-two-files.kgp",
        &[
            "test",
            "tests/vm/same-name-two-files.kgp",
            "--release",
            &release,
        ],
        0,
        &["Tested livepatch-same-name-two-files"],
    ));
    let vm = |name: &str, status: i32, expect: &[&str], extra: &[&str]| {
        let path = format!("tests/vm/{name}.kgp");
        let mut args = vec!["test", &path, "--release", &release];
        args.extend_from_slice(extra);
        case(&path, &args, status, expect)
    };
    cases.push(vm(
        "check-fails",
        5,
        &[
            "error[KGP0209]",
            "should not print \"Linux\" before the patch is loaded",
        ],
        &[],
    ));
    cases.push(vm(
        "unknown-symbol",
        5,
        &[
            "error[KGP0210]",
            "symbol 'kgpc_no_such_symbol' not found",
            "reason: a replaced function or extern symbol does not exist",
        ],
        // kgpc check would refuse the missing symbol (KGP0108) before the VM runs.
        &["--no-kernel-checks"],
    ));
    cases.push(vm(
        "transition-stalls",
        5,
        &[
            "error[KGP0211]",
            "did not finish within 2 s",
            "tasks not yet switched:",
            "sleepy_wait",
            "the kernel's console",
        ],
        &["--transition-timeout", "2"],
    ));
    cases.push(vm(
        "warns",
        5,
        &[
            "error[KGP0212]",
            "WARNING:",
            "kgpc test: a warning on purpose",
        ],
        &[],
    ));
    cases.push(vm(
        "panics",
        5,
        &[
            "error[KGP0213]",
            "Kernel panic - not syncing: kgpc test: a panic on purpose",
        ],
        &[],
    ));
    cases.push(case(
        "a VM that runs out of time",
        &[
            "test",
            "examples/livepatch-sample.kgp",
            "--release",
            &release,
            "--timeout",
            "1",
        ],
        5,
        &["error[KGP0213]", "did not finish within 1 s and was killed"],
    ));
    let failures = run_all(&cases);
    eprintln!(
        "{} VM runs in {:.1} s",
        cases.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // No QEMU of ours is left behind: a QEMU whose kgpc has exited is
    // re-parented to init. (QEMUs of other kgpc runs still have their parent.)
    let orphans = orphaned_test_vms();
    assert!(
        orphans.is_empty(),
        "QEMU processes left behind: {orphans:?}"
    );
}

/// QEMU processes of `kgpc test` whose parent has gone.
fn orphaned_test_vms() -> Vec<u32> {
    let mut orphans = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !(cmdline.starts_with("qemu-system") && cmdline.contains("kgpc-test.")) {
            continue;
        }
        // The parent pid is the fourth field of /proc/PID/stat, after the command in parentheses.
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(1) {
            orphans.push(pid);
        }
    }
    orphans
}

/// Failures before the VM: compiler errors mapped to the spec and to a body file, a warning, a broken build
/// tree, a missing kernel, an undeclared non-exported symbol, a relocation kgpc refuses to
/// write, a spec without a test block, a module that cannot be found, QEMU missing.
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

/// A patch for a module loads while the module is absent, and the kernel applies it when
/// the module arrives: the references to the module's exported symbol and to its
/// non-exported one are livepatch relocations of that module, and neither `depends=` nor
/// `__versions` names the module or its symbols. The same patch also works with the
/// module loaded first.
#[test]
fn a_module_patch_loads_before_its_module() {
    use object::read::elf::{ElfFile64, Sym};
    use object::{Endianness, Object, ObjectSection, ObjectSymbol};
    let release = release();
    let work = tempfile::tempdir().unwrap();
    let keep = work.path().join("after");
    let spec = "tests/vm/module-absent.kgp";
    let cases = vec![
        case(
            "module loaded after the patch",
            &[
                "test",
                spec,
                "--release",
                &release,
                "--modules-after-patch",
                "--keep-work",
                &keep.display().to_string(),
            ],
            0,
            &["Tested livepatch-module-absent"],
        ),
        case(
            "module loaded before the patch",
            &["test", spec, "--release", &release],
            0,
            &["Tested livepatch-module-absent"],
        ),
    ];
    let failures = run_all(&cases);
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let console = fs::read_to_string(keep.join("console.log")).unwrap();
    assert!(
        console.contains(
            "applying patch 'livepatch_module_absent' to loading module 'livepatch_export_mod'"
        ),
        "{console}"
    );
    let ko = keep.join("patch/livepatch-module-absent.ko");
    // modpost named the module: the rewrite is what keeps it out of the patch's dependencies.
    let mod_c = fs::read_to_string(keep.join("patch/livepatch-module-absent.mod.c")).unwrap();
    assert!(
        mod_c.contains("MODULE_INFO(depends, \"livepatch-export-mod\")"),
        "{mod_c}"
    );
    let modinfo = Command::new("modinfo")
        .args(["-F", "depends"])
        .arg(&ko)
        .output()
        .expect("modinfo (kmod) runs");
    assert!(modinfo.status.success());
    let depends = String::from_utf8_lossy(&modinfo.stdout).replace('-', "_");
    assert!(
        !depends.contains("livepatch_export_mod"),
        "modinfo -F depends: {depends}"
    );

    let data = fs::read(&ko).unwrap();
    let file = ElfFile64::<Endianness>::parse(&*data).unwrap();
    let endian = file.endian();
    for symbol in ["export_mod_answer", "export_mod_reads"] {
        let name = format!(".klp.sym.livepatch_export_mod.{symbol},0");
        let klp = file
            .symbols()
            .find(|s| s.name() == Ok(name.as_str()))
            .unwrap_or_else(|| panic!("no symbol {name}"));
        assert_eq!(klp.elf_symbol().st_shndx(endian), 0xff20, "SHN_LIVEPATCH");
        assert!(
            file.symbols().all(|s| s.name() != Ok(symbol)),
            "{symbol} is left"
        );
    }
    assert!(file
        .section_by_name(".klp.rela.livepatch_export_mod.text")
        .is_some());
    assert!(file.section_by_name(".kgpc.klp_objects").is_none());
    let versions = file.section_by_name("__versions").unwrap().data().unwrap();
    assert!(
        !String::from_utf8_lossy(versions).contains("export_mod_answer"),
        "__versions keeps the module's symbol"
    );

    // `kgpc build` learns the out-of-tree module's exports from its Module.symvers, as
    // `kgpc test` does; without it, the exported symbol is unknown (KGP0204).
    let symvers = keep.join("load-0/Module.symvers").display().to_string();
    let out = work.path().join("build").display().to_string();
    let built = kgpc(
        &[
            "build",
            spec,
            "--release",
            &release,
            "-o",
            &out,
            "--symvers",
            &symvers,
        ],
        &[],
    );
    assert_eq!(built.status, 0, "{}", built.output);
    assert!(
        built
            .output
            .contains("no longer depends on the patched livepatch-export-mod"),
        "{}",
        built.output
    );
    let unknown = kgpc(
        &["build", spec, "--release", &release, "-o", &out, "--force"],
        &[],
    );
    assert_eq!(unknown.status, 4, "{}", unknown.output);
    assert!(
        unknown.output.contains("error[KGP0204]") && unknown.output.contains("export_mod_answer"),
        "{}",
        unknown.output
    );
}

/// `kgpc kernel fetch` without network access: a clear error and a non-zero exit.
#[test]
fn kernel_fetch_without_network_fails_clearly() {
    let bin = tempfile::tempdir().unwrap();
    // apt-cache knows nothing and apt-get cannot reach the archive, as on a machine offline.
    let apt_get = bin.path().join("apt-get");
    fs::write(
        &apt_get,
        "#!/bin/sh\necho \"W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'\" >&2\nexit 100\n",
    )
    .unwrap();
    let apt_cache = bin.path().join("apt-cache");
    fs::write(&apt_cache, "#!/bin/sh\nexit 0\n").unwrap();
    for tool in [&apt_get, &apt_cache] {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tool, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let cache = tempfile::tempdir().unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.path().display());
    let outcome = kgpc(
        &["kernel", "fetch", "6.1.0-1-cloud-amd64"],
        &[
            ("PATH", &path),
            ("KGPC_CACHE_DIR", &cache.path().display().to_string()),
        ],
    );
    assert_eq!(outcome.status, 4, "{}", outcome.output);
    assert!(
        outcome.output.contains("error[KGP0207]")
            && outcome.output.contains("Temporary failure resolving"),
        "{}",
        outcome.output
    );
    let outcome = kgpc(
        &["kernel", "fetch", "not-a-release"],
        &[("KGPC_CACHE_DIR", &cache.path().display().to_string())],
    );
    assert_eq!(outcome.status, 4, "{}", outcome.output);
    assert!(
        outcome.output.contains("is not a kernel release"),
        "{}",
        outcome.output
    );
}

#[test]
fn kgpc_test_ends_its_json_output_with_a_summary_record() {
    let release = release();
    let outcome = kgpc(
        &[
            "test",
            "examples/livepatch-sample.kgp",
            "--release",
            &release,
            "--message-format",
            "json",
        ],
        &[],
    );
    assert_eq!(outcome.status, 0, "{}", outcome.output);
    let summary = outcome
        .output
        .lines()
        .rfind(|l| l.starts_with("{\"summary\""))
        .unwrap_or_else(|| panic!("no summary record:\n{}", outcome.output));
    let record: serde_json::Value = serde_json::from_str(summary).unwrap();
    let summary = &record["summary"];
    assert_eq!(summary["command"], "test", "{summary}");
    assert_eq!(summary["status"], "ok", "{summary}");
    assert_eq!(summary["release"], release.as_str(), "{summary}");
    assert_eq!(summary["checked"], true, "{summary}");
}
