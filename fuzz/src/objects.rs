//! The kernel-object targets: each reader of `src/kernel/` over mutated
//! bytes, then the queries kgpc makes of what it read.

use kgpc::kernel::btf::Btf;
use kgpc::kernel::dwarf::{self, DwarfSections};
use kgpc::kernel::dwarf_types::UnitTypes;
use kgpc::kernel::elf::{release_of_banner, ElfFacts, ElfFile};
use kgpc::kernel::mcount::CallSites;
use kgpc::kernel::relocate::Relocations;
use kgpc::kernel::{build, Index};
use object::Object;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

/// How many names each target asks about, so that one exec stays short.
const QUERIES: usize = 64;

/// A signature of an error message without its numbers, so that offsets do not count as news.
fn error_signature(stage: u64, message: &str) -> u64 {
    let mut h = DefaultHasher::new();
    stage.hash(&mut h);
    message
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect::<String>()
        .hash(&mut h);
    h.finish()
}

fn open(input: &[u8]) -> Result<ElfFile, u64> {
    ElfFile::from_bytes(Path::new("fuzz.o"), input).map_err(|e| error_signature(1, &e.problem))
}

/// ELF: the headers, symbols and sections, and the lookups made of them.
pub fn elf(input: &[u8]) -> Result<u64, String> {
    let elf = match open(input) {
        Ok(elf) => elf,
        Err(sig) => return Ok(sig),
    };
    let file = match elf.parse() {
        Ok(file) => file,
        Err(e) => return Ok(error_signature(2, &e.problem)),
    };
    let facts = match ElfFacts::read(&elf, &file) {
        Ok(facts) => facts,
        Err(e) => return Ok(error_signature(3, &e.problem)),
    };
    for s in facts.symbols.iter().take(QUERIES) {
        let _ = facts.symbol(s.name);
        let _ = facts.layout.bytes_at(&file, s.addr, s.size.min(4096));
    }
    for section in facts.layout.sections.iter().take(QUERIES) {
        let _ = facts.section_named(&section.name);
        let _ = file
            .section_by_name(&section.name)
            .map(|s| Relocations::of(&facts.layout, &file, &s));
        let _ = facts.layout.address_table(&file, &section.name);
    }
    if let Some(banner) = facts.banner(&file) {
        let _ = release_of_banner(&banner);
    }
    Ok(error_signature(
        4,
        &format!(
            "{} {} {}",
            facts.layout.relocatable,
            facts.arch,
            facts.layout.sections.len()
        ),
    ))
}

/// The ftrace call-site table, and whether it covers each function.
pub fn mcount(input: &[u8]) -> Result<u64, String> {
    let Ok(elf) = open(input) else { return Ok(0) };
    let Ok(file) = elf.parse() else { return Ok(1) };
    let Ok(facts) = ElfFacts::read(&elf, &file) else {
        return Ok(2);
    };
    let sites = CallSites::read(&facts, &file);
    let covered = facts
        .symbols
        .iter()
        .take(QUERIES * 4)
        .filter(|s| sites.covers(s.addr, s.size))
        .count();
    Ok(error_signature(
        3,
        &format!("{:?} {}", sites.source, covered.min(4)),
    ))
}

/// DWARF: the scan of every unit, the prototypes and declarations read on
/// demand, and the whole index build that joins them with the symbols.
pub fn dwarf(input: &[u8]) -> Result<u64, String> {
    let Ok(elf) = open(input) else { return Ok(0) };
    let Ok(file) = elf.parse() else { return Ok(1) };
    let Ok(facts) = ElfFacts::read(&elf, &file) else {
        return Ok(2);
    };
    let sections = DwarfSections::load(&facts.layout, &file);
    if !sections.present() {
        return Ok(3);
    }
    let dwarf_data = sections.dwarf(elf.data());
    let scanned = match dwarf::scan(&dwarf_data, &|_| {}) {
        Ok(scanned) => scanned,
        Err(e) => return Ok(error_signature(4, &e.to_string())),
    };
    let mut prototypes = 0;
    for f in scanned.functions.iter().take(QUERIES) {
        let name = String::from_utf8_lossy(f.name);
        if let Ok(types) = UnitTypes::new(&dwarf_data, f.unit) {
            prototypes += usize::from(types.prototype(f.die, &name).is_ok());
        }
    }
    for v in scanned.variables.iter().take(QUERIES) {
        let name = String::from_utf8_lossy(v.name);
        if let Ok(types) = UnitTypes::new(&dwarf_data, v.unit) {
            let _ = types.variable(v.die, &name);
        }
    }
    let units: Vec<u64> = scanned.functions.iter().map(|f| f.unit).collect();
    for f in scanned.functions.iter().take(8) {
        let _ = dwarf::name_at(&dwarf_data, &units, f.die);
    }
    let built = match build::build(&elf, &|_, _| {}) {
        Ok(bytes) => bytes,
        Err(e) => return Ok(error_signature(5, &e.problem)),
    };
    if Index::new(built).is_none() {
        return Err("kgpc built an index from the object that it cannot read".to_string());
    }
    Ok(error_signature(
        6,
        &format!(
            "{} {} {}",
            scanned.functions.len().min(4),
            scanned.variables.len().min(4),
            prototypes.min(4)
        ),
    ))
}

/// The names in a BTF blob's string section, to ask it about.
fn btf_names(input: &[u8]) -> Vec<String> {
    let word = |at: usize| {
        input
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, |b| u32::from_le_bytes(b) as usize)
    };
    let (hdr, str_off, str_len) = (word(4), word(16), word(20));
    let start = hdr.saturating_add(str_off).min(input.len());
    let end = start.saturating_add(str_len).min(input.len());
    input[start..end]
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .take(QUERIES)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// BTF: the blob, and a prototype for every name in it; the second half of
/// the input, when it has a BTF header of its own, is read as split BTF.
pub fn btf(input: &[u8]) -> Result<u64, String> {
    let btf = match Btf::parse(input) {
        Ok(btf) => btf,
        Err(e) => return Ok(error_signature(1, &e.to_string())),
    };
    let mut found = 0;
    for name in btf_names(input) {
        if let Some(Ok(_)) = btf.prototype(&name) {
            found += 1;
        }
    }
    Ok(error_signature(2, &format!("{}", found.min(8))))
}

/// Split BTF read against a base: the input is the base's length (u32), the base, then the split blob.
pub fn btf_split(input: &[u8]) -> Result<u64, String> {
    let Some(len) = input.get(..4).and_then(|b| b.try_into().ok()) else {
        return Ok(0);
    };
    let len = (u32::from_le_bytes(len) as usize).min(input.len() - 4);
    let (base, split) = input[4..].split_at(len);
    let base = match Btf::parse(base) {
        Ok(base) => base,
        Err(e) => return Ok(error_signature(1, &e.to_string())),
    };
    let btf = match Btf::parse_split(split, base) {
        Ok(btf) => btf,
        Err(e) => return Ok(error_signature(2, &e.to_string())),
    };
    let mut found = 0;
    for name in btf_names(split) {
        if let Some(Ok(_)) = btf.prototype(&name) {
            found += 1;
        }
    }
    Ok(error_signature(3, &format!("{}", found.min(8))))
}

/// The index: `Index::new` over the bytes, then every lookup kgpc makes.
pub fn index(input: &[u8]) -> Result<u64, String> {
    let Some(index) = Index::new(input) else {
        return Ok(0);
    };
    let names: Vec<String> = index
        .names()
        .take(QUERIES)
        .map(|(n, _)| n.to_string())
        .collect();
    let mut found = 0;
    for name in &names {
        for s in index.symbols_named(name) {
            let _ = (s.sympos(), s.file());
            found += 1;
        }
        let _ = index.symbols_with_prefix(name.get(..3).unwrap_or(name));
        let _ = index.inlined_into(name);
        let _ = index.variables_named(name);
        let _ = index.is_exported(name);
    }
    if let Some(name) = names.first() {
        let _ = index.suggestions(name, 3);
        let _ = index.suggestions(&format!("{name}x"), 3);
    }
    let _ = index.symbols_named("");
    let _ = index.suggestions("cmdline_proc_show", 3);
    Ok(error_signature(1, &format!("{}", found.min(8))))
}

/// The `.BTF` section of an ELF file, if it has one.
pub fn btf_section(bytes: &[u8]) -> Option<Vec<u8>> {
    let file = object::File::parse(bytes).ok()?;
    let section = object::ObjectSection::data(&file.section_by_name(".BTF")?).ok()?;
    Some(section.to_vec())
}
