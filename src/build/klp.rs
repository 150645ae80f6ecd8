//! Livepatch relocations: the post-link rewrite of a built livepatch module.
//!
//! A spec's `extern` declarations name symbols the kernel does not export. The
//! generated C records each with `KGPC_KLP_SYMBOL(object, symbol, sympos)`: a
//! string `"<object>.<symbol>,<sympos>"` in the section `.kgpc.klp_syms`.
//! Kbuild leaves the symbols undefined (modpost only warns, under
//! `KBUILD_MODPOST_WARN=1`) and the module loader would refuse them.
//!
//! The generated C also records each module it patches with
//! `KGPC_KLP_OBJECT(object)` in `.kgpc.klp_objects`. A patch for a module must
//! load while that module is absent, so every undefined symbol that such a
//! module exports (by `Module.symvers`) is treated like a recorded one, at
//! position 0, and the module's name leaves `depends=` and its symbols leave
//! `__versions` ([`super::depends`]).
//!
//! This pass turns those symbols into what the kernel's livepatch module ELF
//! format describes (Documentation/livepatch/module-elf-format.rst):
//!
//! - each such undefined symbol is renamed `.klp.sym.<object>.<symbol>,<sympos>`,
//!   bound GLOBAL, typed NOTYPE and placed in section `SHN_LIVEPATCH`;
//! - each relocation that references one of them moves from `.rela<section>` to
//!   `.klp.rela.<object>.<section>`, an `SHT_RELA` section flagged `SHF_ALLOC |
//!   SHF_RELA_LIVEPATCH`, with one such section per object and target section, so
//!   that a module's relocation section never references a vmlinux symbol (the
//!   kernel refuses that: "invalid access to vmlinux symbol");
//! - `.kgpc.klp_syms`, `.kgpc.klp_objects` and their symbols are dropped.
//!
//! The symbol table keeps its order: symbols are renamed in place, and the only
//! ones removed are the local records, which nothing references once converted.

use super::depends;
use super::symvers::Exports;
use object::build::elf::{Builder, Relocation, SectionData, SectionId};
use object::build::{ByteString, Id};
use object::elf;
use object::read::elf::{ElfFile64, FileHeader};
use object::{Endianness, Object, ObjectSection};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// The section of the generated C that records the non-exported symbols.
pub const RECORD_SECTION: &str = ".kgpc.klp_syms";
/// The section of the generated C that names the modules the patch patches.
pub const OBJECT_SECTION: &str = ".kgpc.klp_objects";
/// `SHF_RELA_LIVEPATCH` from include/uapi/linux/elf.h.
pub const SHF_RELA_LIVEPATCH: u64 = 0x0010_0000;
/// `SHN_LIVEPATCH` from include/uapi/linux/elf.h.
pub const SHN_LIVEPATCH: u16 = 0xff20;

/// Sections the module loader processes before a module object's livepatch
/// relocations are written (they are written only when that module arrives):
/// a reference from them to a module's symbol would be used unrelocated.
const EARLY_SECTIONS: &[&str] = &[
    "__jump_table",
    ".altinstructions",
    ".altinstr_replacement",
    ".parainstructions",
    ".static_call_sites",
    ".smp_locks",
    "__ex_table",
    "__bug_table",
    ".retpoline_sites",
    ".return_sites",
    ".ibt_endbr_seal",
    ".orc_unwind_ip",
];

/// A symbol the spec declared with `extern`, as recorded in the module.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KlpSymbol {
    /// `vmlinux` or a module's name (with underscores).
    pub object: String,
    pub name: String,
    pub sympos: u64,
}

impl KlpSymbol {
    /// The name of the livepatch symbol: `.klp.sym.<object>.<name>,<sympos>`.
    pub fn klp_name(&self) -> String {
        format!(".klp.sym.{}.{},{}", self.object, self.name, self.sympos)
    }
}

/// What a conversion did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conversion {
    /// The records found in `.kgpc.klp_syms`, sorted.
    pub records: Vec<KlpSymbol>,
    /// The modules the patch patches, from `.kgpc.klp_objects`, sorted.
    pub objects: Vec<String>,
    /// The symbols that the module references, now livepatch symbols: records,
    /// and exports of the patched modules.
    pub converted: Vec<KlpSymbol>,
    /// The patched modules removed from `depends=` in `.modinfo`.
    pub dropped_depends: Vec<String>,
    /// The `__versions` entries removed with them.
    pub dropped_versions: usize,
    /// The livepatch relocation sections written, with their number of relocations.
    pub sections: Vec<(String, usize)>,
}

/// Why a module could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KlpError {
    /// The file is not a 64-bit relocatable ELF object that `object` can edit.
    Elf(String),
    /// A record in `.kgpc.klp_syms` is malformed.
    BadRecord(String),
    /// A recorded symbol is defined in the module itself.
    Defined(String),
    /// A module object's symbol is referenced from a section the loader
    /// processes before module livepatch relocations are written.
    EarlySection { symbol: String, section: String },
    /// The module holds livepatch relocations already, from another tool.
    AlreadyConverted,
}

impl fmt::Display for KlpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KlpError::Elf(message) => write!(f, "cannot edit the module's ELF: {message}"),
            KlpError::BadRecord(record) => write!(
                f,
                "malformed record `{record}` in {RECORD_SECTION}: expected `<object>.<symbol>,<sympos>`"
            ),
            KlpError::Defined(name) => write!(
                f,
                "`{name}` is declared `extern` but the module defines it itself"
            ),
            KlpError::EarlySection { symbol, section } => write!(
                f,
                "`{symbol}` is referenced from `{section}`, which the module loader processes before \
                 the target module's livepatch relocations are written"
            ),
            KlpError::AlreadyConverted => write!(
                f,
                "the module already has livepatch relocations and no {RECORD_SECTION} records"
            ),
        }
    }
}

impl std::error::Error for KlpError {}

/// Reads the records of `.kgpc.klp_syms` from a module, sorted; none if it has no such section.
pub fn records(data: &[u8]) -> Result<Vec<KlpSymbol>, KlpError> {
    let file = ElfFile64::<Endianness>::parse(data).map_err(|e| KlpError::Elf(e.to_string()))?;
    let Some(section) = file.section_by_name(RECORD_SECTION) else {
        return Ok(Vec::new());
    };
    let bytes = section.data().map_err(|e| KlpError::Elf(e.to_string()))?;
    parse_records(bytes)
}

/// Parses NUL-separated `<object>.<symbol>,<sympos>` strings.
pub fn parse_records(bytes: &[u8]) -> Result<Vec<KlpSymbol>, KlpError> {
    let mut records: Vec<KlpSymbol> = parse_entries(bytes)?
        .into_iter()
        .map(|(record, _)| record)
        .collect();
    records.sort();
    records.dedup();
    Ok(records)
}

/// Parses the records with the name under which the module references each:
/// `<object>.<symbol>,<sympos>` names `<symbol>` itself, and
/// `<object>.<symbol>,<sympos>=<local>` names `<local>` (a patched module's
/// `__this_module`, which the patch module cannot reference under its name).
fn parse_entries(bytes: &[u8]) -> Result<Vec<(KlpSymbol, String)>, KlpError> {
    let mut entries = Vec::new();
    for raw in bytes.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let text = String::from_utf8_lossy(raw).into_owned();
        let bad = || KlpError::BadRecord(text.clone());
        let (record, local) = match text.split_once('=') {
            Some((record, local)) => (record, Some(local)),
            None => (text.as_str(), None),
        };
        let (object, rest) = record.split_once('.').ok_or_else(bad)?;
        let (name, sympos) = rest.rsplit_once(',').ok_or_else(bad)?;
        if !is_identifier(object) || !is_identifier(name) || object.len() > 55 || name.len() > 511 {
            return Err(bad());
        }
        if local.is_some_and(|l| !is_identifier(l) || l == name) {
            return Err(bad());
        }
        let sympos = sympos.trim().parse::<u64>().map_err(|_| bad())?;
        entries.push((
            KlpSymbol {
                object: object.to_string(),
                name: name.to_string(),
                sympos,
            },
            local.unwrap_or(name).to_string(),
        ));
    }
    entries.sort();
    entries.dedup();
    Ok(entries)
}

/// Parses the NUL-separated module names of `.kgpc.klp_objects`, sorted.
pub fn parse_objects(bytes: &[u8]) -> Result<Vec<String>, KlpError> {
    let mut objects = Vec::new();
    for raw in bytes.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let text = String::from_utf8_lossy(raw).into_owned();
        if !is_identifier(&text) || text.len() > 55 || text == "vmlinux" {
            return Err(KlpError::BadRecord(text));
        }
        objects.push(text);
    }
    objects.sort();
    objects.dedup();
    Ok(objects)
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The data of the section named `name`, if the module has one.
fn section_data(builder: &Builder, name: &str) -> Result<Option<(SectionId, Vec<u8>)>, KlpError> {
    let Some(section) = builder
        .sections
        .iter()
        .find(|s| !s.delete && s.name.as_slice() == name.as_bytes())
    else {
        return Ok(None);
    };
    match &section.data {
        SectionData::Data(bytes) => Ok(Some((section.id(), bytes.to_vec()))),
        _ => Err(KlpError::Elf(format!("{name} holds no data"))),
    }
}

/// Converts a built module. Returns `None` when it has neither `.kgpc.klp_syms`
/// nor `.kgpc.klp_objects`, which leaves nothing to do; else the new file and
/// what changed. `exports` says which module exports an undefined symbol.
pub fn convert(data: &[u8], exports: &Exports) -> Result<Option<(Vec<u8>, Conversion)>, KlpError> {
    if !has_records(data)? {
        return Ok(None);
    }
    let mut builder = Builder::read(data).map_err(|e| KlpError::Elf(e.to_string()))?;
    let mut conversion = Conversion::default();

    // The records, and the sections that hold them, which go away with their symbols.
    let records = section_data(&builder, RECORD_SECTION)?;
    let objects = section_data(&builder, OBJECT_SECTION)?;
    let mut entries = Vec::new();
    if let Some((_, bytes)) = &records {
        entries = parse_entries(bytes)?;
        conversion.records = parse_records(bytes)?;
    }
    if let Some((_, bytes)) = &objects {
        conversion.objects = parse_objects(bytes)?;
    }
    let patched: BTreeSet<String> = conversion.objects.iter().cloned().collect();

    let klp_symbols = rename_symbols(&mut builder, &entries, &patched, exports)?;
    conversion.converted = {
        let mut converted: Vec<KlpSymbol> = klp_symbols.values().cloned().collect();
        converted.sort();
        converted
    };
    let record_sections: Vec<SectionId> = records
        .iter()
        .chain(objects.iter())
        .map(|(id, _)| *id)
        .collect();
    drop_records(&mut builder, &record_sections);

    let symtab = builder
        .sections
        .iter()
        .find(|s| matches!(s.data, SectionData::Symbol))
        .map(|s| s.id())
        .ok_or_else(|| KlpError::Elf("the module has no symbol table".into()))?;
    let moved = take_klp_relocations(&mut builder, &klp_symbols)?;
    conversion.sections = add_klp_sections(&mut builder, symtab, moved);

    forget_patched_modules(&mut builder, &patched, &mut conversion)?;

    let mut out = Vec::new();
    builder
        .write(&mut out)
        .map_err(|e| KlpError::Elf(e.to_string()))?;
    Ok(Some((out, conversion)))
}

/// Whether a module holds records to convert; one converted already is an error.
fn has_records(data: &[u8]) -> Result<bool, KlpError> {
    let file = ElfFile64::<Endianness>::parse(data).map_err(|e| KlpError::Elf(e.to_string()))?;
    let header = file.elf_header();
    if header.e_type(file.endian()) != elf::ET_REL {
        return Err(KlpError::Elf("not a relocatable object (a .ko)".into()));
    }
    let has_records = file.section_by_name(RECORD_SECTION).is_some()
        || file.section_by_name(OBJECT_SECTION).is_some();
    let has_klp = file
        .sections()
        .any(|s| s.name().is_ok_and(|n| n.starts_with(".klp.rela.")));
    if has_records && has_klp {
        return Err(KlpError::AlreadyConverted);
    }
    Ok(has_records)
}

/// Renames the undefined symbols the records name (under the name the module
/// references each by), and those the patched modules export, to livepatch
/// symbols. Returns them by symbol index.
fn rename_symbols(
    builder: &mut Builder,
    records: &[(KlpSymbol, String)],
    patched: &BTreeSet<String>,
    exports: &Exports,
) -> Result<HashMap<usize, KlpSymbol>, KlpError> {
    let by_name: HashMap<&str, &KlpSymbol> = records
        .iter()
        .map(|(r, local)| (local.as_str(), r))
        .collect();
    let mut klp_symbols: HashMap<usize, KlpSymbol> = HashMap::new();
    for symbol in &mut builder.symbols {
        if symbol.st_type() == elf::STT_SECTION || symbol.st_type() == elf::STT_FILE {
            continue;
        }
        let name = String::from_utf8_lossy(symbol.name.as_slice()).into_owned();
        let undefined = symbol.section.is_none() && symbol.st_shndx == elf::SHN_UNDEF;
        let klp = match by_name.get(name.as_str()) {
            Some(_) if !undefined => return Err(KlpError::Defined(name)),
            Some(record) => (*record).clone(),
            None => match exports.owner(&name) {
                Some(owner) if undefined && !name.is_empty() && patched.contains(owner) => {
                    KlpSymbol {
                        object: owner.to_string(),
                        name: name.clone(),
                        sympos: 0,
                    }
                }
                _ => continue,
            },
        };
        symbol.name = ByteString::from(klp.klp_name().into_bytes());
        symbol.set_st_info(elf::STB_GLOBAL, elf::STT_NOTYPE);
        symbol.st_shndx = SHN_LIVEPATCH;
        symbol.st_value = 0;
        symbol.st_size = 0;
        klp_symbols.insert(symbol.id().index(), klp);
    }
    Ok(klp_symbols)
}

/// Drops the record sections and everything that points at them (debug information does).
fn drop_records(builder: &mut Builder, record_sections: &[SectionId]) {
    for id in record_sections {
        builder.sections.get_mut(*id).delete = true;
        for section in &mut builder.sections {
            if section.sh_info_section == Some(*id) {
                section.delete = true;
            }
        }
    }
    builder.delete_orphan_symbols();
    builder.delete_orphan_relocations();
}

/// The relocations moved out of a module, by owning object and target section
/// index, with the target section.
type MovedRelocations = BTreeMap<(String, usize), (SectionId, Vec<Relocation>)>;

/// Takes the relocations that reference livepatch symbols out of their
/// sections, deleting a section they leave empty.
fn take_klp_relocations(
    builder: &mut Builder,
    klp_symbols: &HashMap<usize, KlpSymbol>,
) -> Result<MovedRelocations, KlpError> {
    let mut moved = MovedRelocations::new();
    let mut emptied = Vec::new();
    let ids: Vec<SectionId> = builder.sections.iter().map(|s| s.id()).collect();
    for id in ids {
        let section = builder.sections.get(id);
        if section.delete {
            continue;
        }
        let Some(target) = section.sh_info_section else {
            continue;
        };
        let target_section = builder.sections.get(target);
        // The kernel writes only relocations of allocated sections; the others
        // (debug information) may keep referencing the symbols.
        if target_section.sh_flags & u64::from(elf::SHF_ALLOC) == 0 {
            continue;
        }
        let target_name = String::from_utf8_lossy(target_section.name.as_slice()).into_owned();
        let SectionData::Relocation(relocations) = &section.data else {
            continue;
        };
        if !relocations.iter().any(|r| {
            r.symbol
                .is_some_and(|s| klp_symbols.contains_key(&s.index()))
        }) {
            continue;
        }
        let mut kept = Vec::new();
        for relocation in relocations {
            match relocation.symbol.and_then(|s| klp_symbols.get(&s.index())) {
                Some(symbol) => {
                    if symbol.object != "vmlinux" && is_early(&target_name) {
                        return Err(KlpError::EarlySection {
                            symbol: symbol.name.clone(),
                            section: target_name,
                        });
                    }
                    moved
                        .entry((symbol.object.clone(), target.index()))
                        .or_insert_with(|| (target, Vec::new()))
                        .1
                        .push(*relocation);
                }
                None => kept.push(*relocation),
            }
        }
        if kept.is_empty() {
            emptied.push(id);
        }
        builder.sections.get_mut(id).data = SectionData::Relocation(kept);
    }
    for id in emptied {
        builder.sections.get_mut(id).delete = true;
    }
    Ok(moved)
}

/// Adds one `.klp.rela.<object>.<section>` per object and target section.
/// Returns the sections' names with their number of relocations.
fn add_klp_sections(
    builder: &mut Builder,
    symtab: SectionId,
    moved: MovedRelocations,
) -> Vec<(String, usize)> {
    let mut added = Vec::new();
    for ((object, _), (target, relocations)) in moved {
        let target_name =
            String::from_utf8_lossy(builder.sections.get(target).name.as_slice()).into_owned();
        let name = format!(
            ".klp.rela.{object}.{}",
            target_name.strip_prefix('.').unwrap_or(&target_name)
        );
        added.push((name.clone(), relocations.len()));
        let section = builder.sections.add();
        section.name = ByteString::from(name.into_bytes());
        section.sh_type = elf::SHT_RELA;
        section.sh_flags =
            u64::from(elf::SHF_ALLOC) | u64::from(elf::SHF_INFO_LINK) | SHF_RELA_LIVEPATCH;
        section.sh_link_section = Some(symtab);
        section.sh_info_section = Some(target);
        section.sh_addralign = 8;
        section.sh_entsize = std::mem::size_of::<elf::Rela64<Endianness>>() as u64;
        section.data = SectionData::Relocation(relocations);
    }
    added
}

/// Removes the patched modules from `depends=` and their converted symbols from
/// `__versions`, so that nothing makes the patch need a module it patches.
fn forget_patched_modules(
    builder: &mut Builder,
    patched: &BTreeSet<String>,
    conversion: &mut Conversion,
) -> Result<(), KlpError> {
    if let Some((id, bytes)) = section_data(builder, ".modinfo")? {
        let (bytes, removed) = depends::drop_depends(&bytes, patched);
        builder.sections.get_mut(id).data = SectionData::Data(bytes.into());
        conversion.dropped_depends = removed;
    }
    let converted: BTreeSet<String> = conversion
        .converted
        .iter()
        .filter(|s| s.object != "vmlinux")
        .map(|s| s.name.clone())
        .collect();
    if let Some((id, bytes)) = section_data(builder, "__versions")? {
        let (bytes, dropped) = depends::drop_versions(&bytes, &converted);
        if dropped > 0 {
            let size = bytes.len() as u64;
            builder.sections.get_mut(id).data = SectionData::Data(bytes.into());
            for symbol in &mut builder.symbols {
                if symbol.section == Some(id) && symbol.st_value == 0 {
                    symbol.st_size = size;
                }
            }
        }
        conversion.dropped_versions = dropped;
    }
    Ok(())
}

fn is_early(section: &str) -> bool {
    EARLY_SECTIONS
        .iter()
        .any(|s| section == *s || section.starts_with(&format!("{s}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_and_reject_garbage() {
        let records =
            parse_records(b"vmlinux.saved_command_line,0\0binfmt_misc.enabled,2\0\0").unwrap();
        assert_eq!(
            records,
            vec![
                KlpSymbol {
                    object: "binfmt_misc".into(),
                    name: "enabled".into(),
                    sympos: 2
                },
                KlpSymbol {
                    object: "vmlinux".into(),
                    name: "saved_command_line".into(),
                    sympos: 0
                },
            ]
        );
        assert_eq!(
            records[1].klp_name(),
            ".klp.sym.vmlinux.saved_command_line,0"
        );
        for bad in [
            &b"vmlinux"[..],
            b"vmlinux.x",
            b"vmlinux.x,y",
            b".x,0",
            b"a.b c,0",
        ] {
            assert!(parse_records(bad).is_err(), "{:?}", bad);
        }
    }

    #[test]
    fn a_record_may_name_the_symbol_under_another_name() {
        let this_module = KlpSymbol {
            object: "loop".into(),
            name: "__this_module".into(),
            sympos: 0,
        };
        let bytes = b"loop.__this_module,0=kgpc_loop_this_module\0vmlinux.x,0\0";
        assert_eq!(
            parse_entries(bytes).unwrap()[0],
            (this_module.clone(), "kgpc_loop_this_module".to_string())
        );
        assert_eq!(parse_entries(bytes).unwrap()[1].1, "x");
        assert_eq!(parse_records(bytes).unwrap()[0], this_module);
        for bad in [
            &b"loop.__this_module,0="[..],
            b"loop.__this_module,0=a b",
            b"loop.__this_module,0=__this_module",
            b"=x",
        ] {
            assert!(parse_records(bad).is_err(), "{:?}", bad);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let exports = Exports::default();
        assert!(convert(b"not an elf file", &exports).is_err());
        assert!(convert(&[0x7f, b'E', b'L', b'F', 2, 1, 1], &exports).is_err());
        assert!(parse_objects(b"binfmt_misc\0vmlinux\0").is_err());
        assert_eq!(
            parse_objects(b"b\0a\0b\0").unwrap(),
            vec!["a".to_string(), "b".to_string()]
        );
        assert!(records(&[]).is_err());
    }
}
