//! The index: kernel facts in one flat little-endian byte layout, queried in
//! place. The same bytes are kept on disk (see [`super::index_cache`]) and mapped
//! again by later runs, so a check against a known vmlinux reads only the
//! few records it asks about.
//!
//! Layout: the magic, the checksum of everything after it
//! ([`super::checksum`]), a table of sections (offset, length), then the
//! sections: strings (each a `u32` length and the bytes), metadata (JSON),
//! symbols sorted by name then kallsyms order, DWARF functions, inlining
//! edges sorted by callee, file-scope variables and exported names, both
//! sorted by name. The checksum is checked before anything else is read,
//! so a damaged file (a flipped byte in the cache) is refused, and rebuilt,
//! rather than read as different facts.

use super::build_hash::BuildMap;
use super::checksum::checksum;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

pub const MAGIC: &[u8; 8] = b"KGPCIDX6";
/// Where the checksum is, a little-endian `u64`.
const CHECKSUM: std::ops::Range<usize> = 8..16;
/// Where the table of sections starts.
const TABLE: usize = CHECKSUM.end;
pub const NONE: u32 = u32::MAX;

pub const SECTION_STRINGS: usize = 0;
pub const SECTION_META: usize = 1;
pub const SECTION_SYMBOLS: usize = 2;
pub const SECTION_FUNCTIONS: usize = 3;
pub const SECTION_INLINED: usize = 4;
pub const SECTION_VARIABLES: usize = 5;
pub const SECTION_EXPORTS: usize = 6;
pub const SECTIONS: usize = 7;

pub const SYMBOL_SIZE: usize = 40;
pub const FUNCTION_SIZE: usize = 40;
pub const INLINED_SIZE: usize = 8;
pub const VARIABLE_SIZE: usize = 24;
pub const EXPORT_SIZE: usize = 4;

/// Symbol flags.
pub mod flag {
    pub const FUNC: u32 = 1;
    pub const OBJECT: u32 = 1 << 1;
    pub const LOCAL: u32 = 1 << 2;
    pub const WEAK: u32 = 1 << 3;
    /// The function has an ftrace call site.
    pub const MCOUNT: u32 = 1 << 4;
    pub const INIT: u32 = 1 << 5;
    pub const EXIT: u32 = 1 << 6;
    pub const EXEC: u32 = 1 << 7;
    pub const NOINSTR: u32 = 1 << 8;
    pub const SCHED: u32 = 1 << 9;
    pub const CPUIDLE: u32 = 1 << 10;
    pub const ENTRY: u32 = 1 << 11;
    pub const KPROBES: u32 = 1 << 12;
    pub const EXPORTED: u32 = 1 << 13;
}

/// Facts about the whole file.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Meta {
    /// The file the index was built from, when it was built.
    pub path: String,
    pub size: u64,
    pub build_id: Option<String>,
    pub arch: String,
    /// An object file or module (`ET_REL`): kallsyms order is symbol-table order.
    pub relocatable: bool,
    pub banner: Option<String>,
    pub release: Option<String>,
    pub has_dwarf: bool,
    pub has_btf: bool,
    pub symbol_count: u64,
    /// Where the ftrace call-site table was found, and how many entries it has.
    pub mcount_source: Option<String>,
    pub mcount_entries: u64,
    /// `klp_enable_patch` is defined: the kernel was built with CONFIG_LIVEPATCH.
    pub has_livepatch: bool,
    pub dwarf_units: u64,
    /// What is lost to damaged sections, one sentence each ([`super::damage`]).
    #[serde(default)]
    pub damaged: Vec<String>,
    /// Why the ftrace call-site table the object declares cannot be read.
    #[serde(default)]
    pub mcount_damaged: Option<String>,
}

/// A view of index bytes.
pub struct Index<B: AsRef<[u8]>> {
    bytes: B,
    sections: [(usize, usize); SECTIONS],
    pub meta: Meta,
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes(s.try_into().unwrap_or([0; 4])))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .map_or(0, |s| u64::from_le_bytes(s.try_into().unwrap_or([0; 8])))
}

/// A symbol as the index records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    /// The `STT_FILE` name before a local symbol.
    pub stt_file: Option<String>,
    /// The address in the index's layout (object files' sections get bases of their own).
    pub addr: u64,
    /// The value `nm` shows: the address in a linked file, the offset in its section in a module.
    pub value: u64,
    pub size: u64,
    pub flags: u32,
    pub function: Option<Function>,
    /// The kallsyms position among symbols of the same name (1-based).
    pub position: u64,
    /// How many symbols of the object share the name.
    pub same_name: u64,
}

impl Symbol {
    pub fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }

    /// `old_sympos` for this symbol: 0 when its name is unique.
    pub fn sympos(&self) -> u64 {
        if self.same_name > 1 {
            self.position
        } else {
            0
        }
    }

    /// Whether the symbol comes from the source file `wanted`: its compilation
    /// unit, its declaration's file or its `STT_FILE`, by whole path components.
    pub fn comes_from(&self, wanted: &str) -> bool {
        let declared = self.function.as_ref().and_then(|f| f.decl_file.as_deref());
        self.compiled_from(wanted)
            || declared.is_some_and(|file| same_source_file(file, wanted.trim_start_matches("./")))
    }

    /// Whether the symbol was compiled from the source file `wanted` itself:
    /// its compilation unit or its `STT_FILE`, not only its declaration's
    /// file, which a file that `#include`s another's code shares with it
    /// (fs/compat_binfmt_elf.c compiles fs/binfmt_elf.c's functions again).
    pub fn compiled_from(&self, wanted: &str) -> bool {
        let wanted = wanted.trim_start_matches("./");
        let candidates = [
            self.function.as_ref().map(|f| f.cu.as_str()),
            self.stt_file.as_deref(),
        ];
        candidates
            .into_iter()
            .flatten()
            .any(|file| same_source_file(file, wanted))
    }

    /// The source file: the compilation unit's, else the `STT_FILE` name.
    pub fn file(&self) -> Option<&str> {
        self.function
            .as_ref()
            .map(|f| f.cu.as_str())
            .filter(|c| !c.is_empty())
            .or(self.stt_file.as_deref())
    }
}

/// The symbols of `symbols` that come from the source file `file`: those
/// compiled from it when there are any, else those declared in it. A
/// function of a file that another file `#include`s is compiled twice, and
/// both copies are declared in the file; the one meant is its own.
pub fn from_file<'s>(symbols: impl IntoIterator<Item = &'s Symbol>, file: &str) -> Vec<&'s Symbol> {
    let from: Vec<&Symbol> = symbols.into_iter().filter(|s| s.comes_from(file)).collect();
    let compiled: Vec<&Symbol> = from
        .iter()
        .copied()
        .filter(|s| s.compiled_from(file))
        .collect();
    if compiled.is_empty() {
        from
    } else {
        compiled
    }
}

/// Whether `file` (a compilation unit, a declaration's file or an
/// `STT_FILE`) is the source file `wanted` names, by whole path components:
/// `fs/proc/cmdline.c`, `proc/cmdline.c` and `cmdline.c` all name
/// `fs/proc/cmdline.c`.
pub fn same_source_file(file: &str, wanted: &str) -> bool {
    let wanted = wanted.trim_start_matches("./");
    file == wanted
        || file.ends_with(&format!("/{wanted}"))
        || (!wanted.contains('/') && file.rsplit('/').next() == Some(wanted))
        || wanted.ends_with(&format!("/{file}"))
}

/// A function as DWARF describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    pub cu: String,
    pub decl_file: Option<String>,
    pub entry: u64,
    pub die: u64,
    pub unit: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub cu: String,
    pub die: u64,
    pub unit: u64,
}

impl<B: AsRef<[u8]>> Index<B> {
    /// Checks the checksum and the layout; `None` if the bytes are not a
    /// whole, undamaged index of this version.
    pub fn new(bytes: B) -> Option<Index<B>> {
        let b = bytes.as_ref();
        if b.len() < TABLE + SECTIONS * 16 || &b[..8] != MAGIC {
            return None;
        }
        if checksum(&b[TABLE..]) != u64_at(b, CHECKSUM.start) {
            return None;
        }
        let mut sections = [(0usize, 0usize); SECTIONS];
        for (i, s) in sections.iter_mut().enumerate() {
            let off = usize::try_from(u64_at(b, TABLE + i * 16)).ok()?;
            let len = usize::try_from(u64_at(b, TABLE + 8 + i * 16)).ok()?;
            if off.checked_add(len)? > b.len() {
                return None;
            }
            *s = (off, len);
        }
        let sizes = [
            (SECTION_SYMBOLS, SYMBOL_SIZE),
            (SECTION_FUNCTIONS, FUNCTION_SIZE),
            (SECTION_INLINED, INLINED_SIZE),
            (SECTION_VARIABLES, VARIABLE_SIZE),
            (SECTION_EXPORTS, EXPORT_SIZE),
        ];
        if sizes.iter().any(|(s, n)| sections[*s].1 % n != 0) {
            return None;
        }
        let (mo, ml) = sections[SECTION_META];
        let meta: Meta = serde_json::from_slice(&b[mo..mo + ml]).ok()?;
        Some(Index {
            bytes,
            sections,
            meta,
        })
    }

    fn section(&self, s: usize) -> &[u8] {
        let (o, l) = self.sections[s];
        &self.bytes.as_ref()[o..o + l]
    }

    fn count(&self, s: usize, size: usize) -> usize {
        self.sections[s].1 / size
    }

    fn record(&self, s: usize, size: usize, i: usize) -> &[u8] {
        &self.section(s)[i * size..(i + 1) * size]
    }

    /// The string at an offset of the string section.
    pub fn str_at(&self, at: u32) -> &str {
        if at == NONE {
            return "";
        }
        let strings = self.section(SECTION_STRINGS);
        let at = at as usize;
        let len = u32_at(strings, at) as usize;
        strings
            .get(at + 4..at + 4 + len)
            .and_then(|s| std::str::from_utf8(s).ok())
            .unwrap_or("")
    }

    fn opt_str(&self, at: u32) -> Option<String> {
        (at != NONE).then(|| self.str_at(at).to_string())
    }

    /// The first record whose key is not less than `key`, in a table sorted by name.
    fn lower_bound(&self, s: usize, size: usize, key: &str) -> usize {
        let (mut lo, mut hi) = (0, self.count(s, size));
        while lo < hi {
            let mid = (lo + hi) / 2;
            let name = self.str_at(u32_at(self.record(s, size, mid), 0));
            if name.as_bytes().cmp(key.as_bytes()) == Ordering::Less {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Records `i..` of a name-sorted table while their name is `name`.
    fn named(&self, s: usize, size: usize, name: &str) -> std::ops::Range<usize> {
        let start = self.lower_bound(s, size, name);
        let mut end = start;
        let n = self.count(s, size);
        while end < n && self.str_at(u32_at(self.record(s, size, end), 0)) == name {
            end += 1;
        }
        start..end
    }

    fn symbol(&self, i: usize) -> Symbol {
        let r = self.record(SECTION_SYMBOLS, SYMBOL_SIZE, i);
        let func = u32_at(r, 28);
        Symbol {
            name: self.str_at(u32_at(r, 0)).to_string(),
            stt_file: self.opt_str(u32_at(r, 4)),
            addr: u64_at(r, 8),
            value: u64_at(r, 32),
            size: u64_at(r, 16),
            flags: u32_at(r, 24),
            function: (func != NONE)
                .then(|| self.function(func as usize))
                .flatten(),
            position: 0,
            same_name: 0,
        }
    }

    fn function(&self, i: usize) -> Option<Function> {
        if i >= self.count(SECTION_FUNCTIONS, FUNCTION_SIZE) {
            return None;
        }
        let r = self.record(SECTION_FUNCTIONS, FUNCTION_SIZE, i);
        Some(Function {
            name: self.str_at(u32_at(r, 0)).to_string(),
            cu: self.str_at(u32_at(r, 4)).to_string(),
            decl_file: self.opt_str(u32_at(r, 8)),
            entry: u64_at(r, 16),
            die: u64_at(r, 24),
            unit: u64_at(r, 32),
        })
    }

    /// Every symbol of that name (functions and data), in kallsyms order,
    /// each with its position.
    pub fn symbols_named(&self, name: &str) -> Vec<Symbol> {
        let range = self.named(SECTION_SYMBOLS, SYMBOL_SIZE, name);
        let n = range.len() as u64;
        range
            .enumerate()
            .map(|(k, i)| {
                let mut s = self.symbol(i);
                s.position = k as u64 + 1;
                s.same_name = n;
                s
            })
            .collect()
    }

    /// Symbols whose names start with `prefix`, such as `foo.` for clones.
    pub fn symbols_with_prefix(&self, prefix: &str) -> Vec<String> {
        let n = self.count(SECTION_SYMBOLS, SYMBOL_SIZE);
        let mut i = self.lower_bound(SECTION_SYMBOLS, SYMBOL_SIZE, prefix);
        let mut out: Vec<String> = Vec::new();
        while i < n {
            let name = self.str_at(u32_at(self.record(SECTION_SYMBOLS, SYMBOL_SIZE, i), 0));
            if !name.starts_with(prefix) {
                break;
            }
            if out.last().map(String::as_str) != Some(name) {
                out.push(name.to_string());
            }
            i += 1;
        }
        out
    }

    /// The functions holding inlined copies of `name`.
    pub fn inlined_into(&self, name: &str) -> Vec<String> {
        self.named(SECTION_INLINED, INLINED_SIZE, name)
            .map(|i| {
                self.str_at(u32_at(self.record(SECTION_INLINED, INLINED_SIZE, i), 4))
                    .to_string()
            })
            .collect()
    }

    pub fn variables_named(&self, name: &str) -> Vec<Variable> {
        self.named(SECTION_VARIABLES, VARIABLE_SIZE, name)
            .map(|i| {
                let r = self.record(SECTION_VARIABLES, VARIABLE_SIZE, i);
                Variable {
                    name: self.str_at(u32_at(r, 0)).to_string(),
                    cu: self.str_at(u32_at(r, 4)).to_string(),
                    die: u64_at(r, 8),
                    unit: u64_at(r, 16),
                }
            })
            .collect()
    }

    pub fn is_exported(&self, name: &str) -> bool {
        !self.named(SECTION_EXPORTS, EXPORT_SIZE, name).is_empty()
    }

    /// Every symbol, in name order (positions are not counted).
    pub fn all_symbols(&self) -> impl Iterator<Item = Symbol> + '_ {
        (0..self.count(SECTION_SYMBOLS, SYMBOL_SIZE)).map(move |i| self.symbol(i))
    }

    /// Every file-scope variable DWARF describes, in name order.
    pub fn all_variables(&self) -> impl Iterator<Item = Variable> + '_ {
        (0..self.count(SECTION_VARIABLES, VARIABLE_SIZE)).map(move |i| {
            let r = self.record(SECTION_VARIABLES, VARIABLE_SIZE, i);
            Variable {
                name: self.str_at(u32_at(r, 0)).to_string(),
                cu: self.str_at(u32_at(r, 4)).to_string(),
                die: u64_at(r, 8),
                unit: u64_at(r, 16),
            }
        })
    }

    /// Every distinct name that has inlined copies, in order.
    pub fn inlined_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for i in 0..self.count(SECTION_INLINED, INLINED_SIZE) {
            let name = self.str_at(u32_at(self.record(SECTION_INLINED, INLINED_SIZE, i), 0));
            if out.last().map(String::as_str) != Some(name) {
                out.push(name.to_string());
            }
        }
        out
    }

    /// Every distinct symbol name, in order (for suggestions).
    pub fn names(&self) -> impl Iterator<Item = (&str, u32)> + '_ {
        let n = self.count(SECTION_SYMBOLS, SYMBOL_SIZE);
        (0..n).map(move |i| {
            let r = self.record(SECTION_SYMBOLS, SYMBOL_SIZE, i);
            (self.str_at(u32_at(r, 0)), u32_at(r, 24))
        })
    }

    /// The function symbols whose names are closest to `name`.
    pub fn suggestions(&self, name: &str, limit: usize) -> Vec<String> {
        let max = (name.len() / 3).clamp(1, 3);
        let mut found: Vec<(usize, String)> = Vec::new();
        let mut last = "";
        for (candidate, flags) in self.names() {
            if flags & flag::FUNC == 0 || candidate == last {
                continue;
            }
            last = candidate;
            if candidate.len().abs_diff(name.len()) > max || candidate.contains('.') {
                continue;
            }
            let d = crate::suggest::distance(name, candidate);
            if d <= max {
                found.push((d, candidate.to_string()));
            }
        }
        found.sort();
        found.dedup();
        found.into_iter().take(limit).map(|(_, n)| n).collect()
    }

    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// The same index over other storage of the same bytes (checked once).
    pub fn map_bytes<C: AsRef<[u8]>>(self, f: impl FnOnce(B) -> C) -> Index<C> {
        Index {
            bytes: f(self.bytes),
            sections: self.sections,
            meta: self.meta,
        }
    }
}

/// Builds index bytes from records; strings, which outlive it, are interned
/// as they come.
#[derive(Default)]
pub struct Writer<'s> {
    strings: Vec<u8>,
    interned: BuildMap<&'s [u8], u32>,
}

impl<'s> Writer<'s> {
    pub fn intern(&mut self, s: &'s [u8]) -> u32 {
        if let Some(at) = self.interned.get(s) {
            return *at;
        }
        let at = self.strings.len() as u32;
        self.strings
            .extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.strings.extend_from_slice(s);
        self.interned.insert(s, at);
        at
    }

    pub fn intern_opt(&mut self, s: Option<&'s [u8]>) -> u32 {
        s.map_or(NONE, |s| self.intern(s))
    }

    /// Lays out the sections: `tables` are symbols, functions, inlined, variables, exports.
    pub fn finish(self, meta: &Meta, tables: [Vec<u8>; 5]) -> Vec<u8> {
        let meta = serde_json::to_vec(meta).unwrap_or_default();
        let mut parts: Vec<Vec<u8>> = vec![self.strings, meta];
        parts.extend(tables);
        let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum::<usize>() + 256);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[0; CHECKSUM.end - CHECKSUM.start]);
        let mut offset = TABLE + SECTIONS * 16;
        for p in &parts {
            out.extend_from_slice(&(offset as u64).to_le_bytes());
            out.extend_from_slice(&(p.len() as u64).to_le_bytes());
            offset += p.len();
        }
        for p in parts {
            out.extend_from_slice(&p);
        }
        let sum = checksum(&out[TABLE..]);
        out[CHECKSUM].copy_from_slice(&sum.to_le_bytes());
        out
    }
}

pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_and_truncation() {
        assert!(Index::new(&b"not an index"[..]).is_none());
        let mut w = Writer::default();
        let name = w.intern(b"f");
        let mut symbols = Vec::new();
        put_u32(&mut symbols, name);
        put_u32(&mut symbols, NONE);
        put_u64(&mut symbols, 0x10);
        put_u64(&mut symbols, 4);
        put_u32(&mut symbols, flag::FUNC);
        put_u32(&mut symbols, NONE);
        put_u64(&mut symbols, 0);
        let bytes = w.finish(&Meta::default(), [symbols, vec![], vec![], vec![], vec![]]);
        let index = Index::new(&bytes[..]).expect("valid");
        assert_eq!(index.symbols_named("f").len(), 1);
        assert!(index.symbols_named("g").is_empty());
        assert!(Index::new(&bytes[..bytes.len() - 3]).is_none());
        // Every flipped bit anywhere is refused.
        for at in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[at] ^= 1 << bit;
                assert!(Index::new(&damaged[..]).is_none(), "bit {bit} of byte {at}");
            }
        }
    }

    fn compiled(name: &str, cu: &str, position: u64) -> Symbol {
        Symbol {
            name: name.to_string(),
            stt_file: None,
            addr: position * 0x100,
            value: position * 0x100,
            size: 0x10,
            flags: flag::FUNC | flag::LOCAL,
            function: Some(Function {
                name: name.to_string(),
                cu: cu.to_string(),
                decl_file: Some("fs/binfmt_elf.c".to_string()),
                entry: position * 0x100,
                die: position,
                unit: position,
            }),
            position,
            same_name: 2,
        }
    }

    #[test]
    fn a_file_that_another_includes_means_its_own_copy() {
        // fs/compat_binfmt_elf.c includes fs/binfmt_elf.c: vmlinux has two
        // `elf_load`s, both declared in fs/binfmt_elf.c.
        let symbols = [
            compiled("elf_load", "fs/binfmt_elf.c", 1),
            compiled("elf_load", "fs/compat_binfmt_elf.c", 2),
        ];
        assert!(symbols.iter().all(|s| s.comes_from("fs/binfmt_elf.c")));
        let own = from_file(&symbols, "fs/binfmt_elf.c");
        assert_eq!(own.iter().map(|s| s.position).collect::<Vec<_>>(), [1]);
        let compat = from_file(&symbols, "compat_binfmt_elf.c");
        assert_eq!(compat.iter().map(|s| s.position).collect::<Vec<_>>(), [2]);
        // A file no copy was compiled from keeps the declared ones.
        let declared = [compiled("elf_load", "fs/other.c", 1)];
        assert_eq!(from_file(&declared, "fs/binfmt_elf.c").len(), 1);
        assert!(from_file(&declared, "fs/unrelated.c").is_empty());
    }
}
