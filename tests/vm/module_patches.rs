//! A patch of a module, loaded before the module and after it.

use super::*;

/// A patch for a module loads while the module is absent, and the kernel applies it when
/// the module arrives: the references to the module's exported symbol and to its
/// non-exported one are livepatch relocations of that module, and neither `depends=` nor
/// `__versions` names the module or its symbols. The same patch also works with the
/// module loaded first.
// One scenario in the order a user meets it (build, then the module before and after the patch in one boot); its steps share
// what the earlier ones built, so it reads best whole.
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
