//! The seeds are what the targets need: real specs, and kernel fixtures that
//! every reader reads in full, so that mutants start from deep inputs.

use kgpc::kernel::btf::Btf;
use kgpc::kernel::dwarf::{self, DwarfSections};
use kgpc::kernel::elf::{ElfFacts, ElfFile};
use kgpc::kernel::mcount::CallSites;
use kgpc::kernel::Index;
use kgpc_fuzz::{fixtures, seeds_of};
use std::path::Path;

#[test]
fn spec_seeds_are_every_spec_of_the_repository() {
    let seeds = seeds_of("parse").unwrap();
    assert!(seeds.len() >= 50, "only {} specs", seeds.len());
    for file in [
        "examples/livepatch-sample.kgp",
        "std-specs/api.kgp",
        "tests/fmt/messy.kgp",
    ] {
        let bytes = std::fs::read(kgpc_fuzz::seeds::root().join(file)).unwrap();
        assert!(seeds.contains(&bytes), "{file} is not a seed");
    }
}

#[test]
fn object_seeds_are_read_in_full_by_every_reader() {
    let objects = fixtures().unwrap();
    assert_eq!(objects.elf.len(), 5);
    let vmlinux = ElfFile::from_bytes(Path::new("vmlinux"), &objects.elf[0]).unwrap();
    let file = vmlinux.parse().unwrap();
    let facts = ElfFacts::read(&vmlinux, &file).unwrap();
    assert!(facts.symbol("tree_sum").is_some());
    let sites = CallSites::read(&facts, &file);
    let tree_sum = facts.symbol("tree_sum").unwrap();
    assert!(
        sites.covers(tree_sum.addr, tree_sum.size),
        "{:?}",
        sites.source
    );
    let sections = DwarfSections::load(&facts.layout, &file);
    let scanned = dwarf::scan(&sections.dwarf(vmlinux.data()), &|_| {}).unwrap();
    assert!(scanned.functions.iter().any(|f| f.name == b"tree_sum"));

    let btf = Btf::parse(&objects.btf[0]).unwrap();
    let prototype = btf.prototype("tree_sum").expect("in BTF").unwrap();
    assert!(format!("{prototype:?}").contains("tree_sum"));
    assert!(!objects.btf_split.is_empty());

    let index = Index::new(objects.index[0].as_slice()).unwrap();
    assert_eq!(index.symbols_named("caller_one").len(), 1);
    assert_eq!(index.inlined_into("inlined_helper").len(), 2);
    let module = Index::new(objects.index[1].as_slice()).unwrap();
    assert_eq!(module.symbols_named("mod_fn").len(), 1);
}

#[test]
fn a_short_object_is_refused_from_memory_as_from_a_file() {
    let e = ElfFile::from_bytes(Path::new("x.o"), b"\x7fELF")
        .err()
        .unwrap();
    assert!(e.problem.contains("too short"), "{e}");
    let e = ElfFile::from_bytes(Path::new("x.o"), &[0; 64])
        .err()
        .unwrap();
    assert!(e.problem.contains("not an ELF file"), "{e}");
}
