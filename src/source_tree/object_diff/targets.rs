//! What a relocation of an object file points to. The assembler writes a
//! reference to a `static` symbol as its section plus an offset, and a string
//! as a place in a merged string section; both are turned back into what they
//! name: the symbol that covers the place, or the bytes found there.

use super::pieces::{bytes_of, sh_flags, Sym, SymbolClass, Target};
use object::read::elf::ElfFile64;
use object::{
    elf, Endianness, Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget,
    SectionIndex, SymbolIndex, SymbolKind, SymbolSection,
};
use std::collections::HashMap;

/// A relocation's target, by the index of the object's symbols.
#[derive(Debug, Clone)]
pub enum RawTarget {
    Symbol {
        sym: usize,
        offset: i64,
    },
    Straddle(Vec<(usize, i64)>),
    Undefined {
        name: String,
        addend: i64,
    },
    Content {
        section: String,
        /// In a section of NUL-terminated strings.
        strings: bool,
        bytes: Vec<u8>,
        at: i64,
        /// Relocations inside the bytes: offset, type, symbol name, addend.
        inner: Vec<(u64, u32, String, i64)>,
    },
    Place {
        section: String,
        addend: i64,
    },
}

impl RawTarget {
    /// The object's symbols it points to.
    pub fn symbols(&self) -> Vec<usize> {
        match self {
            RawTarget::Symbol { sym, .. } => vec![*sym],
            RawTarget::Straddle(candidates) => candidates.iter().map(|(s, _)| *s).collect(),
            _ => Vec::new(),
        }
    }

    /// The target by the symbols' keys, comparable across compiles.
    pub fn describe(&self, syms: &HashMap<usize, &Sym>) -> Target {
        let key = |sym: &usize| syms.get(sym).map_or_else(String::new, |s| s.key.clone());
        match self {
            RawTarget::Symbol { sym, offset } => Target::Symbol {
                key: key(sym),
                class: syms
                    .get(sym)
                    .map_or(SymbolClass::Undefined, |s| class_of(s)),
                offset: *offset,
            },
            RawTarget::Straddle(candidates) => {
                Target::Straddle(candidates.iter().map(|(s, o)| (key(s), *o)).collect())
            }
            RawTarget::Undefined { name, addend } => Target::Symbol {
                key: name.clone(),
                class: SymbolClass::Undefined,
                offset: *addend,
            },
            RawTarget::Content {
                section,
                strings,
                bytes,
                at,
                inner,
            } => {
                let mut bytes = bytes.clone();
                // The inner relocations' names and addends are part of the contents.
                for (offset, r_type, name, addend) in inner {
                    bytes.extend_from_slice(
                        format!("\0{offset}:{r_type}:{name}{addend:+}").as_bytes(),
                    );
                }
                Target::Content {
                    section: section.clone(),
                    strings: *strings,
                    bytes,
                    at: *at,
                }
            }
            RawTarget::Place { section, addend } => Target::Place {
                section: section.clone(),
                addend: *addend,
            },
        }
    }
}

fn class_of(sym: &Sym) -> SymbolClass {
    match (sym.global, sym.function) {
        (true, _) => SymbolClass::DefinedGlobal,
        (false, true) => SymbolClass::LocalFunction,
        (false, false) => SymbolClass::LocalData,
    }
}

/// Which symbol covers each place of each section, and where references
/// without a symbol cut anonymous sections into pieces.
pub struct Covering {
    by_section: HashMap<SectionIndex, Vec<(u64, u64, usize)>>,
    by_index: HashMap<SymbolIndex, usize>,
    cuts: HashMap<SectionIndex, Vec<u64>>,
}

impl Covering {
    pub fn new(file: &ElfFile64<'_, Endianness>, syms: &[Sym]) -> Covering {
        let mut by_section: HashMap<SectionIndex, Vec<(u64, u64, usize)>> = HashMap::new();
        let mut cuts: HashMap<SectionIndex, Vec<u64>> = HashMap::new();
        for (i, sym) in syms.iter().enumerate() {
            let end = sym.start.saturating_add(sym.size.max(1));
            by_section
                .entry(sym.section)
                .or_default()
                .push((sym.start, end, i));
            cuts.entry(sym.section).or_default().push(sym.start);
        }
        for list in by_section.values_mut() {
            list.sort();
        }
        let by_index = syms.iter().enumerate().map(|(i, s)| (s.index, i)).collect();
        for section in file.sections() {
            let code = (sh_flags(&section) & u64::from(elf::SHF_EXECINSTR) != 0)
                .then(|| section.data().unwrap_or(&[]));
            for (offset, relocation) in section.relocations() {
                let (RelocationTarget::Symbol(index), RelocationFlags::Elf { r_type }) =
                    (relocation.target(), relocation.flags())
                else {
                    continue;
                };
                let Ok(symbol) = file.symbol_by_index(index) else {
                    continue;
                };
                if let (SymbolKind::Section, Some(target)) = (symbol.kind(), symbol.section_index())
                {
                    let (lo, _) = bias(r_type, code.map(|bytes| (bytes, offset)));
                    let point = relocation.addend().saturating_add(lo).max(0);
                    cuts.entry(target).or_default().push(point.unsigned_abs());
                }
            }
        }
        for list in cuts.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        Covering {
            by_section,
            by_index,
            cuts,
        }
    }

    /// The symbol whose bytes hold `offset` of `section`.
    pub fn symbol_at(&self, section: SectionIndex, offset: u64) -> Option<usize> {
        let list = self.by_section.get(&section)?;
        let at = list.partition_point(|(start, ..)| *start <= offset);
        list[..at]
            .iter()
            .rev()
            .find(|(start, end, _)| *start <= offset && offset < *end)
            .map(|(.., i)| *i)
    }

    /// The window of an anonymous section around `[lo, hi]`: from the last cut
    /// at or before `lo` to the first cut after `hi`.
    fn window(&self, section: SectionIndex, lo: u64, hi: u64, size: u64) -> (u64, u64) {
        let cuts = self.cuts.get(&section).map(Vec::as_slice).unwrap_or(&[]);
        let start = cuts.iter().rev().find(|c| **c <= lo).copied().unwrap_or(0);
        let end = cuts.iter().find(|c| **c > hi).copied().unwrap_or(size);
        (start, end.max(start))
    }
}

/// How far past a relocation's addend the place it means may be. A
/// PC-relative field of an instruction is followed by the rest of the
/// instruction: nothing for a branch and for an instruction kgpc recognises
/// as having no immediate operand (the place is 4 bytes past the addend), up
/// to a 4-byte immediate otherwise (4 to 8 bytes). A field of data means its
/// addend exactly.
fn bias(r_type: u32, code: Option<(&[u8], u64)>) -> (i64, i64) {
    let pc_relative = matches!(
        r_type,
        elf::R_X86_64_PC32
            | elf::R_X86_64_PLT32
            | elf::R_X86_64_GOTPCREL
            | elf::R_X86_64_GOTPCRELX
            | elf::R_X86_64_REX_GOTPCRELX
    );
    match code {
        Some((bytes, at)) if pc_relative => {
            if ends_without_immediate(bytes, usize::try_from(at).unwrap_or(usize::MAX)) {
                (4, 4)
            } else {
                (4, 8)
            }
        }
        _ => (0, 0),
    }
}

/// One-byte opcodes that take a ModR/M operand and no immediate: `lea`,
/// `mov`, `cmp`, `test`, the ALU operations with a register, `inc`/`call`/`jmp`/`push` of memory.
const NO_IMMEDIATE: &[u8] = &[
    0x8d, 0x8b, 0x89, 0x8a, 0x88, 0x3b, 0x39, 0x3a, 0x38, 0x85, 0x84, 0x03, 0x01, 0x2b, 0x29, 0x0b,
    0x09, 0x23, 0x21, 0x33, 0x31, 0xff,
];

/// Whether the 4-byte field at `at` ends its instruction: a `call`/`jmp`
/// `rel32`, a `jcc rel32`, or a RIP-relative operand of an opcode in [`NO_IMMEDIATE`].
fn ends_without_immediate(bytes: &[u8], at: usize) -> bool {
    let byte = |back: usize| at.checked_sub(back).and_then(|i| bytes.get(i)).copied();
    match (byte(3), byte(2), byte(1)) {
        (_, _, Some(0xe8 | 0xe9)) => true,
        (_, Some(0x0f), Some(0x80..=0x8f)) => true,
        (Some(0x0f), _, _) => false,
        (_, Some(opcode), Some(modrm)) => modrm & 0xc7 == 0x05 && NO_IMMEDIATE.contains(&opcode),
        _ => false,
    }
}

/// What the relocation with `addend` against the symbol `index` points to.
pub fn resolve(
    file: &ElfFile64<'_, Endianness>,
    covering: &Covering,
    index: SymbolIndex,
    addend: i64,
    r_type: u32,
    code: Option<(&[u8], u64)>,
) -> RawTarget {
    let place = |section: &str| RawTarget::Place {
        section: section.to_string(),
        addend,
    };
    let Ok(symbol) = file.symbol_by_index(index) else {
        return place("");
    };
    if symbol.section() == SymbolSection::Undefined {
        return RawTarget::Undefined {
            name: symbol.name().unwrap_or("").to_string(),
            addend,
        };
    }
    if let Some(&sym) = covering.by_index.get(&index) {
        return RawTarget::Symbol {
            sym,
            offset: addend,
        };
    }
    let Some(section_index) = symbol.section_index() else {
        return place(symbol.name().unwrap_or(""));
    };
    let Ok(section) = file.section_by_index(section_index) else {
        return place("");
    };
    let name = section.name().unwrap_or("");
    // A section symbol's value is 0; a local label's is its place.
    let base = i64::try_from(symbol.address()).unwrap_or(0);
    let meant = base.saturating_add(addend);
    let (lo, hi) = bias(r_type, code);
    let (lo, hi) = (
        meant.saturating_add(lo).max(0).unsigned_abs(),
        meant.saturating_add(hi).max(0).unsigned_abs(),
    );
    let mut candidates: Vec<usize> = [lo, hi]
        .iter()
        .filter_map(|point| covering.symbol_at(section_index, *point))
        .collect();
    candidates.dedup();
    let offset_in = |sym: usize, syms: &Covering| -> i64 {
        let start = syms
            .by_section
            .get(&section_index)
            .and_then(|list| list.iter().find(|(.., i)| *i == sym))
            .map_or(0, |(start, ..)| *start);
        meant.saturating_sub(i64::try_from(start).unwrap_or(0))
    };
    match candidates.as_slice() {
        [one] => {
            return RawTarget::Symbol {
                sym: *one,
                offset: offset_in(*one, covering),
            }
        }
        [_, _] => {
            return RawTarget::Straddle(
                candidates
                    .iter()
                    .map(|c| (*c, offset_in(*c, covering)))
                    .collect(),
            )
        }
        _ => {}
    }
    content(file, covering, &section, name, lo, hi)
}

/// The bytes around `[lo, hi]` of a section no symbol covers there.
fn content(
    file: &ElfFile64<'_, Endianness>,
    covering: &Covering,
    section: &object::read::elf::ElfSection64<'_, '_, Endianness>,
    name: &str,
    lo: u64,
    hi: u64,
) -> RawTarget {
    use object::read::elf::SectionHeader;
    let header = section.elf_section_header();
    let flags = sh_flags(section);
    let size = section.size();
    let strings = flags & u64::from(elf::SHF_STRINGS) != 0;
    let (start, end) = if strings {
        let data = section.data().unwrap_or(&[]);
        string_window(data, lo, hi)
    } else if flags & u64::from(elf::SHF_MERGE) != 0 {
        let entry = header.sh_entsize(Endianness::Little).max(1);
        (
            lo - lo % entry,
            (hi - hi % entry).saturating_add(entry).min(size),
        )
    } else {
        covering.window(section.index(), lo, hi, size)
    };
    let inner = section
        .relocations()
        .filter(|(offset, _)| (start..end).contains(offset))
        .map(|(offset, relocation)| {
            let r_type = match relocation.flags() {
                RelocationFlags::Elf { r_type } => r_type,
                _ => 0,
            };
            let target = match relocation.target() {
                RelocationTarget::Symbol(index) => file
                    .symbol_by_index(index)
                    .ok()
                    .and_then(|s| s.name().ok().map(str::to_string))
                    .unwrap_or_default(),
                _ => String::new(),
            };
            (offset - start, r_type, target, relocation.addend())
        })
        .collect();
    RawTarget::Content {
        section: name.to_string(),
        strings,
        bytes: bytes_of(section, start, end - start),
        // Where the reference means: past its addend by the instruction's rest.
        at: i64::try_from(lo).unwrap_or(0) - i64::try_from(start).unwrap_or(0),
        inner,
    }
}

/// From the start of the string that holds `lo` to the end (its NUL) of the
/// string that holds `hi`.
fn string_window(data: &[u8], lo: u64, hi: u64) -> (u64, u64) {
    let len = data.len();
    let lo = usize::try_from(lo).unwrap_or(len).min(len);
    let hi = usize::try_from(hi).unwrap_or(len).min(len);
    let start = data[..lo]
        .iter()
        .rposition(|b| *b == 0)
        .map_or(0, |nul| nul + 1);
    let end = data[hi..]
        .iter()
        .position(|b| *b == 0)
        .map_or(len, |nul| hi + nul + 1);
    (start as u64, end as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_window_spans_the_strings_an_instruction_may_mean() {
        let data = b"ab\0cdef\0gh\0";
        // An absolute reference to "cdef" means exactly it.
        assert_eq!(string_window(data, 3, 3), (3, 8));
        // A PC-relative one may mean four bytes further: into "gh".
        assert_eq!(string_window(data, 5, 9), (3, 11));
        // The start of the section.
        assert_eq!(string_window(data, 0, 0), (0, 3));
    }

    #[test]
    fn only_pc_relative_fields_of_code_point_past_their_addend() {
        // lea 0x0(%rip),%rdi; call rel32; jne rel32; movl $1,0x0(%rip).
        let code = [
            0x48, 0x8d, 0x3d, 0, 0, 0, 0, 0xe8, 0, 0, 0, 0, 0x0f, 0x85, 0, 0, 0, 0,
        ];
        assert_eq!(bias(elf::R_X86_64_PC32, Some((&code, 3))), (4, 4));
        assert_eq!(bias(elf::R_X86_64_PLT32, Some((&code, 8))), (4, 4));
        assert_eq!(bias(elf::R_X86_64_PC32, Some((&code, 14))), (4, 4));
        let store = [0xc7, 0x05, 0, 0, 0, 0, 1, 0, 0, 0];
        assert_eq!(bias(elf::R_X86_64_PC32, Some((&store, 2))), (4, 8));
        assert_eq!(bias(elf::R_X86_64_PC32, None), (0, 0));
        assert_eq!(bias(elf::R_X86_64_32S, Some((&code, 3))), (0, 0));
    }
}
