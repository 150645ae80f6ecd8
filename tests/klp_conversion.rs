//! The post-link conversion on a gcc-built object, exactly: a patch for module `my_mod`
//! whose references to my_mod's exported and recorded symbols become livepatch
//! relocations of my_mod, while vmlinux's export stays an ordinary undefined symbol,
//! and whose `depends=` and `__versions` no longer name my_mod or its symbol.

mod common;

use common::root;
use kgpc::build::klp::{convert, KlpSymbol};
use kgpc::build::symvers::Exports;
use object::read::elf::{ElfFile64, SectionHeader, Sym};
use object::{Endianness, Object, ObjectSection, ObjectSymbol};
use std::fs;
use std::process::Command;

fn built_fixture() -> Vec<u8> {
    built("patch_module")
}

fn built(fixture: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("{fixture}.o"));
    let status = Command::new("gcc")
        .args(["-O2", "-fno-pic", "-fno-asynchronous-unwind-tables", "-c"])
        .arg(root().join(format!("tests/kernel_fixtures/{fixture}.c")))
        .arg("-o")
        .arg(&out)
        .status()
        .expect("gcc runs");
    assert!(status.success());
    fs::read(out).unwrap()
}

#[test]
fn a_patched_modules_symbols_become_its_livepatch_relocations() {
    let data = built_fixture();
    let mut exports = Exports::default();
    exports.add(
        "0x2\texport_fn\t/tmp/my-mod\tEXPORT_SYMBOL\t\n0x3\tother_export\tvmlinux\tEXPORT_SYMBOL\t\n",
    );
    let (bytes, done) = convert(&data, &exports).unwrap().expect("records found");
    let symbol = |name: &str| KlpSymbol {
        object: "my_mod".into(),
        name: name.into(),
        sympos: 0,
    };
    assert_eq!(done.objects, vec!["my_mod".to_string()]);
    assert_eq!(done.converted, vec![symbol("export_fn"), symbol("hidden")]);
    assert_eq!(
        done.sections,
        vec![(".klp.rela.my_mod.text".to_string(), 2)]
    );
    assert_eq!(done.dropped_depends, vec!["my-mod".to_string()]);
    assert_eq!(done.dropped_versions, 1);

    let file = ElfFile64::<Endianness>::parse(&*bytes).unwrap();
    let endian = file.endian();
    for name in ["export_fn", "hidden"] {
        let klp = format!(".klp.sym.my_mod.{name},0");
        let s = file
            .symbols()
            .find(|s| s.name() == Ok(klp.as_str()))
            .unwrap_or_else(|| panic!("no {klp}"));
        assert_eq!(s.elf_symbol().st_shndx(endian), 0xff20);
        assert!(file.symbols().all(|s| s.name() != Ok(name)));
    }
    let other = file
        .symbols()
        .find(|s| s.name() == Ok("other_export"))
        .expect("vmlinux's export stays");
    assert!(other.is_undefined());
    // Each relocation section of .text references only its own kind of symbol.
    let relocated = |section: &str| -> Vec<String> {
        let symbols = file.elf_symbol_table();
        let table = file.elf_section_table();
        let (_, header) = table
            .section_by_name(endian, section.as_bytes())
            .unwrap_or_else(|| panic!("no {section}"));
        let (relas, _) = header.rela(endian, &*bytes).unwrap().unwrap();
        relas
            .iter()
            .map(|r| {
                let sym = symbols
                    .symbol(object::SymbolIndex(r.r_sym(endian, false) as usize))
                    .unwrap();
                String::from_utf8_lossy(symbols.symbol_name(endian, sym).unwrap()).into_owned()
            })
            .collect()
    };
    assert_eq!(relocated(".rela.text"), vec!["other_export".to_string()]);
    let mut klp = relocated(".klp.rela.my_mod.text");
    klp.sort();
    assert_eq!(
        klp,
        vec![".klp.sym.my_mod.export_fn,0", ".klp.sym.my_mod.hidden,0"]
    );
    for gone in [".kgpc.klp_syms", ".kgpc.klp_objects"] {
        assert!(file.section_by_name(gone).is_none(), "{gone} is left");
    }
    let modinfo = file.section_by_name(".modinfo").unwrap().data().unwrap();
    let entries: Vec<&[u8]> = modinfo
        .split(|&b| b == 0)
        .filter(|e| !e.is_empty())
        .collect();
    assert_eq!(entries, vec![&b"depends=other_mod"[..]]);
    let versions = file.section_by_name("__versions").unwrap().data().unwrap();
    let names: Vec<String> = versions
        .chunks(64)
        .map(|e| {
            let name = &e[8..];
            String::from_utf8_lossy(&name[..name.iter().position(|&b| b == 0).unwrap()])
                .into_owned()
        })
        .collect();
    assert_eq!(names, vec!["module_layout", "other_export"]);
}

/// An export of a module the patch does not patch stays an ordinary undefined symbol,
/// a dependency the kernel resolves when the patch loads.
#[test]
fn exports_of_modules_the_patch_does_not_patch_stay_dependencies() {
    let data = built_fixture();
    let mut exports = Exports::default();
    exports.add("0x2\texport_fn\t/tmp/other-mod\tEXPORT_SYMBOL\t\n");
    let (_, done) = convert(&data, &exports).unwrap().expect("records found");
    assert_eq!(done.converted.len(), 1, "{:?}", done.converted);
    assert_eq!(done.converted[0].name, "hidden");
    assert!(done.dropped_depends.iter().all(|m| m != "other_mod"));
    assert_eq!(done.dropped_versions, 0);
}

/// A patched module's `__this_module`, recorded under another name because the
/// patch module defines its own, becomes the module's livepatch symbol, while
/// the patch module's own stays as it is.
#[test]
fn a_patched_modules_this_module_is_reached_under_its_alias() {
    let data = built("this_module");
    let (bytes, done) = convert(&data, &Exports::default())
        .unwrap()
        .expect("records found");
    let this_module = KlpSymbol {
        object: "my_mod".into(),
        name: "__this_module".into(),
        sympos: 0,
    };
    assert_eq!(done.records, vec![this_module.clone()]);
    assert_eq!(done.converted, vec![this_module]);

    let file = ElfFile64::<Endianness>::parse(&*bytes).unwrap();
    let endian = file.endian();
    let klp = file
        .symbols()
        .find(|s| s.name() == Ok(".klp.sym.my_mod.__this_module,0"))
        .expect("my_mod's __this_module is a livepatch symbol");
    assert_eq!(klp.elf_symbol().st_shndx(endian), 0xff20);
    let own = file
        .symbols()
        .find(|s| s.name() == Ok("__this_module"))
        .expect("the patch module's own __this_module stays");
    assert!(!own.is_undefined());
    assert!(file
        .symbols()
        .all(|s| s.name() != Ok("kgpc_my_mod_this_module")));
    assert!(done
        .sections
        .iter()
        .any(|(name, n)| name == ".klp.rela.my_mod.text" && *n == 1));
}
