//! An object file read as the pieces kgpc compares: every function and data
//! symbol with its bytes and its relocations, each relocation described by
//! what it points to rather than by where (a symbol by its name, a string by
//! its text), so that two compiles of one file can be compared piece by piece.

use super::targets::{resolve, Covering, RawTarget};
use object::read::elf::{ElfFile64, ElfSection64, SectionHeader};
use object::{
    elf, Endianness, Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget,
    SectionIndex, SymbolKind, SymbolSection,
};
use std::collections::{BTreeMap, HashMap};

/// What a relocation points to, comparable across two compiles.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A symbol of the object (by its key) or not defined in it (by its name),
    /// with the offset into it.
    Symbol {
        key: String,
        class: SymbolClass,
        offset: i64,
    },
    /// Near the boundary of two symbols: each candidate with its offset.
    Straddle(Vec<(String, i64)>),
    /// Bytes with no symbol (a string, a constant, an alternative's
    /// replacement): the section's name, the bytes around the place pointed
    /// to and where the addend points into them.
    Content {
        section: String,
        /// In a section of NUL-terminated strings.
        strings: bool,
        bytes: Vec<u8>,
        at: i64,
    },
    /// A place in a section kgpc cannot describe by contents.
    Place { section: String, addend: i64 },
}

/// What kind of symbol a relocation names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SymbolClass {
    /// A `static` function of the object.
    LocalFunction,
    /// `static` data of the object.
    LocalData,
    /// A function or data the object defines and exports to the link.
    DefinedGlobal,
    /// A symbol the object uses but does not define.
    Undefined,
}

/// One relocation of a piece, at an offset from the piece's start.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reloc {
    pub offset: u64,
    pub r_type: u32,
    pub target: Target,
}

/// A function or a data item.
#[derive(Debug, Clone)]
pub struct Piece {
    /// The symbol's name, such as `cmdline_proc_show` or `__already_done.3`.
    pub name: String,
    /// The name it is matched by across compiles: the name, except for
    /// numbered statics (`__already_done.3`), which gcc numbers in order of
    /// appearance and which are matched by the function that uses them.
    pub key: String,
    pub section: String,
    pub global: bool,
    pub writable: bool,
    pub bytes: Vec<u8>,
    pub relocs: Vec<Reloc>,
}

/// An entry of a table section (`__bug_table`, `__jump_table`, `__ex_table`,
/// `.altinstructions`, `__ksymtab`...) that points at a piece.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub section: String,
    /// The key of the piece the entry's first relocation points to.
    pub owner: String,
    /// The entry's bytes, its line number (if it has one) left out.
    pub bytes: Vec<u8>,
    pub relocs: Vec<Reloc>,
    /// The line number a `__bug_table` entry holds.
    pub line: Option<u16>,
}

/// An object's pieces and table entries.
#[derive(Debug, Clone, Default)]
pub struct Pieces {
    pub functions: Vec<Piece>,
    pub data: Vec<Piece>,
    pub entries: Vec<Entry>,
}

/// A defined function or data symbol, before its relocations are described.
pub(super) struct Sym {
    pub index: object::SymbolIndex,
    pub name: String,
    pub key: String,
    pub section: SectionIndex,
    pub start: u64,
    pub size: u64,
    pub function: bool,
    pub global: bool,
}

/// Table sections whose entries have a fixed size, and where a line number sits in them.
const TABLES: &[(&str, u64, Option<usize>)] = &[
    ("__bug_table", 12, Some(8)),
    ("__jump_table", 16, None),
    ("__ex_table", 12, None),
    (".altinstructions", 12, None),
    (".static_call_sites", 8, None),
    (".smp_locks", 4, None),
    (".parainstructions", 16, None),
];

/// Sections derived from the code by objtool or the compiler, or never
/// loaded, whose entries say nothing the code does not.
const DERIVED: &[&str] = &[
    "__mcount_loc",
    ".orc_unwind",
    ".orc_unwind_ip",
    ".return_sites",
    ".retpoline_sites",
    ".ibt_endbr_seal",
    ".modinfo",
    ".comment",
    ".eh_frame",
];

/// Reads an object file's pieces.
pub fn read(data: &[u8]) -> Result<Pieces, String> {
    let file = ElfFile64::<Endianness>::parse(data).map_err(|e| e.to_string())?;
    if file.kind() != object::ObjectKind::Relocatable {
        return Err("it is not a relocatable object (.o)".to_string());
    }
    // The relocations are read as x86-64's, in its byte order.
    if file.architecture() != object::Architecture::X86_64 {
        return Err(format!("it is for {:?}, not x86-64", file.architecture()));
    }
    let mut syms = defined_symbols(&file);
    let covering = Covering::new(&file, &syms);
    let resolved = resolve_all(&file, &covering);
    rename_numbered(&mut syms, &resolved);
    let keys: HashMap<usize, &Sym> = syms.iter().enumerate().collect();
    let describe = |raw: &RawTarget| raw.describe(&keys);
    let mut pieces = Pieces::default();
    for (i, sym) in syms.iter().enumerate() {
        let Ok(section) = file.section_by_index(sym.section) else {
            continue;
        };
        let piece = Piece {
            name: sym.name.clone(),
            key: sym.key.clone(),
            section: section.name().unwrap_or("").to_string(),
            global: sym.global,
            writable: sh_flags(&section) & u64::from(elf::SHF_WRITE) != 0,
            bytes: bytes_of(&section, sym.start, sym.size),
            relocs: resolved
                .by_symbol
                .get(&i)
                .map(|relocs| {
                    relocs
                        .iter()
                        .map(|(offset, r_type, raw)| Reloc {
                            offset: offset - sym.start,
                            r_type: *r_type,
                            target: describe(raw),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        if sym.function {
            pieces.functions.push(piece);
        } else {
            pieces.data.push(piece);
        }
    }
    pieces.entries = table_entries(&file, &resolved, &describe);
    Ok(pieces)
}

/// The function and data symbols the object defines in sections it loads.
fn defined_symbols(file: &ElfFile64<'_, Endianness>) -> Vec<Sym> {
    let mut syms = Vec::new();
    for symbol in file.symbols() {
        let function = match symbol.kind() {
            SymbolKind::Text => true,
            SymbolKind::Data => false,
            _ => continue,
        };
        let SymbolSection::Section(index) = symbol.section() else {
            continue;
        };
        let Ok(section) = file.section_by_index(index) else {
            continue;
        };
        let name = section.name().unwrap_or("");
        if sh_flags(&section) & u64::from(elf::SHF_ALLOC) == 0 || is_derived(name) {
            continue;
        }
        let Ok(symbol_name) = symbol.name() else {
            continue;
        };
        syms.push(Sym {
            index: symbol.index(),
            name: symbol_name.to_string(),
            key: symbol_name.to_string(),
            section: index,
            start: symbol.address(),
            size: symbol.size(),
            function,
            global: symbol.is_global(),
        });
    }
    syms
}

/// Whether a section's entries are derived from the code or never loaded.
fn is_derived(name: &str) -> bool {
    DERIVED.contains(&name) || name.starts_with(".discard") || name.starts_with(".note")
}

pub(super) fn sh_flags(section: &ElfSection64<'_, '_, Endianness>) -> u64 {
    section.elf_section_header().sh_flags(Endianness::Little)
}

/// The bytes of `size` at `start` of a section; zeros for `.bss`.
pub(super) fn bytes_of(
    section: &ElfSection64<'_, '_, Endianness>,
    start: u64,
    size: u64,
) -> Vec<u8> {
    let header = section.elf_section_header();
    if header.sh_type(Endianness::Little) == elf::SHT_NOBITS {
        return vec![0; usize::try_from(size).unwrap_or(0).min(1 << 28)];
    }
    let data = section.data().unwrap_or(&[]);
    let from = usize::try_from(start).unwrap_or(usize::MAX).min(data.len());
    let to = usize::try_from(start.saturating_add(size))
        .unwrap_or(usize::MAX)
        .min(data.len());
    data[from..to].to_vec()
}

/// Every relocation of the object's loaded sections, resolved: those inside
/// a symbol grouped by it, those of table sections grouped by section.
pub(super) struct Resolved {
    pub by_symbol: HashMap<usize, Vec<(u64, u32, RawTarget)>>,
    pub by_table: BTreeMap<usize, Vec<(u64, u32, RawTarget)>>,
}

fn resolve_all(file: &ElfFile64<'_, Endianness>, covering: &Covering) -> Resolved {
    let mut resolved = Resolved {
        by_symbol: HashMap::new(),
        by_table: BTreeMap::new(),
    };
    for section in file.sections() {
        let name = section.name().unwrap_or("");
        let flags = sh_flags(&section);
        if flags & u64::from(elf::SHF_ALLOC) == 0 || is_derived(name) {
            continue;
        }
        let code =
            (flags & u64::from(elf::SHF_EXECINSTR) != 0).then(|| section.data().unwrap_or(&[]));
        for (offset, relocation) in section.relocations() {
            let RelocationFlags::Elf { r_type } = relocation.flags() else {
                continue;
            };
            let raw = match relocation.target() {
                RelocationTarget::Symbol(index) => resolve(
                    file,
                    covering,
                    index,
                    relocation.addend(),
                    r_type,
                    code.map(|bytes| (bytes, offset)),
                ),
                _ => RawTarget::Place {
                    section: String::new(),
                    addend: relocation.addend(),
                },
            };
            match covering.symbol_at(section.index(), offset) {
                Some(owner) => resolved
                    .by_symbol
                    .entry(owner)
                    .or_default()
                    .push((offset, r_type, raw)),
                None => resolved
                    .by_table
                    .entry(section.index().0)
                    .or_default()
                    .push((offset, r_type, raw)),
            }
        }
    }
    resolved
}

/// Gives numbered statics (`NAME.N`, `__UNIQUE_ID_NAMEN`) the key
/// `NAME@FUNCTION#K`: the first function that uses them, and their order among
/// those of one name used first by that function.
fn rename_numbered(syms: &mut [Sym], resolved: &Resolved) {
    let mut first_user: HashMap<usize, String> = HashMap::new();
    let mut functions: Vec<usize> = (0..syms.len()).filter(|&i| syms[i].function).collect();
    functions.sort_by(|&a, &b| syms[a].name.cmp(&syms[b].name));
    for f in functions {
        for (_, _, raw) in resolved.by_symbol.get(&f).into_iter().flatten() {
            for used in raw.symbols() {
                first_user
                    .entry(used)
                    .or_insert_with(|| parent_name(&syms[f].name).to_string());
            }
        }
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, sym) in syms.iter_mut().enumerate() {
        if sym.function || sym.global {
            continue;
        }
        let Some(base) = numbered_base(&sym.name) else {
            continue;
        };
        let user = first_user.get(&i).map(String::as_str).unwrap_or("");
        let stem = format!("{base}@{user}");
        let count = seen.entry(stem.clone()).or_insert(0);
        sym.key = format!("{stem}#{count}");
        *count += 1;
    }
}

/// The name without gcc's number (`NAME.N`) and `__UNIQUE_ID`'s
/// (`__UNIQUE_ID_NAMEN`), for a numbered static.
fn numbered_base(name: &str) -> Option<&str> {
    let mut base = name;
    if let Some((stem, number)) = name.rsplit_once('.') {
        if !stem.is_empty() && !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
            base = stem;
        }
    }
    if base.starts_with("__UNIQUE_ID_") {
        base = base.trim_end_matches(|c: char| c.is_ascii_digit());
    }
    (base.len() < name.len()).then_some(base)
}

/// The function a gcc clone (`.part.N`, `.isra.N`, `.constprop.N`, `.cold`)
/// was made from; a function's own name otherwise.
pub fn parent_name(name: &str) -> &str {
    const CLONES: &[&str] = &[
        ".part.",
        ".isra.",
        ".constprop.",
        ".cold",
        ".lto_priv.",
        ".localalias",
    ];
    CLONES
        .iter()
        .filter_map(|suffix| name.find(suffix))
        .min()
        .map_or(name, |at| &name[..at])
}

/// The entries of table sections that point at a piece of the object.
fn table_entries(
    file: &ElfFile64<'_, Endianness>,
    resolved: &Resolved,
    describe: &dyn Fn(&RawTarget) -> Target,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    for (index, relocs) in &resolved.by_table {
        let Ok(section) = file.section_by_index(SectionIndex(*index)) else {
            continue;
        };
        let name = section.name().unwrap_or("").to_string();
        let table = TABLES.iter().find(|(table, ..)| *table == name);
        let size = section.size();
        let (entry_size, line_at) = match table {
            Some((_, entry, line)) if size % entry == 0 => (Some(*entry), *line),
            _ => (None, None),
        };
        let mut groups: BTreeMap<u64, Vec<Reloc>> = BTreeMap::new();
        for (offset, r_type, raw) in relocs {
            let start = entry_size.map_or(*offset, |entry| offset - offset % entry);
            groups.entry(start).or_default().push(Reloc {
                offset: offset - start,
                r_type: *r_type,
                target: describe(raw),
            });
        }
        for (start, mut relocs) in groups {
            relocs.sort();
            let Some(owner) = relocs.iter().find_map(|r| match &r.target {
                Target::Symbol { key, class, .. } if *class != SymbolClass::Undefined => {
                    Some(key.clone())
                }
                _ => None,
            }) else {
                continue;
            };
            let mut bytes =
                entry_size.map_or_else(Vec::new, |entry| bytes_of(&section, start, entry));
            let line = line_at.and_then(|at| {
                let field = bytes.get_mut(at..at + 2)?;
                let line = u16::from_le_bytes([field[0], field[1]]);
                field.fill(0);
                Some(line)
            });
            entries.push(Entry {
                section: name.clone(),
                owner,
                bytes,
                relocs,
                line,
            });
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_belong_to_the_function_they_were_made_from() {
        assert_eq!(parent_name("show_map"), "show_map");
        assert_eq!(parent_name("do_thing.part.0"), "do_thing");
        assert_eq!(parent_name("do_thing.constprop.0.isra.0"), "do_thing");
        assert_eq!(parent_name("do_thing.cold"), "do_thing");
        assert_eq!(parent_name("do_thing.part.0.cold"), "do_thing");
    }

    #[test]
    fn numbered_statics_lose_their_number() {
        assert_eq!(numbered_base("__already_done.12"), Some("__already_done"));
        assert_eq!(
            numbered_base("__UNIQUE_ID_ddebug345"),
            Some("__UNIQUE_ID_ddebug")
        );
        assert_eq!(numbered_base("__func__.0"), Some("__func__"));
        assert_eq!(numbered_base("buffer"), None);
        assert_eq!(numbered_base("v4.x"), None);
        assert_eq!(numbered_base(".5"), None);
    }
}
