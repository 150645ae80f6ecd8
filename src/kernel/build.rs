//! Building an index from a kernel object: the ELF symbols, the ftrace
//! call sites and the DWARF scan, joined by address.

use super::build_hash::BuildMap;
use super::dwarf::{self, DwarfFacts, DwarfSections, DwarfVariable};
use super::elf::{release_of_banner, ElfFacts, ElfFile, RawSymbol, SectionInfo, SymKind};
use super::error::{dwarf_problem, KernelError};
use super::index::{flag, put_u32, put_u64, Meta, Writer, NONE};
use super::mcount::CallSites;
use object::Object;
use rayon::slice::ParallelSliceMut;

/// Text ranges the kernel marks with start and end symbols, and the flag each gives.
const RANGES: &[(&str, &str, u32)] = &[
    ("__noinstr_text_start", "__noinstr_text_end", flag::NOINSTR),
    ("__sched_text_start", "__sched_text_end", flag::SCHED),
    ("__cpuidle_text_start", "__cpuidle_text_end", flag::CPUIDLE),
    ("__entry_text_start", "__entry_text_end", flag::ENTRY),
    ("__kprobes_text_start", "__kprobes_text_end", flag::KPROBES),
];

/// Reads `elf` and returns the bytes of its index.
pub fn build(elf: &ElfFile, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<Vec<u8>, KernelError> {
    let file = elf.parse()?;
    let facts = ElfFacts::read(elf, &file)?;
    if facts.symbols.is_empty() {
        return Err(KernelError::new(
            &elf.path,
            "it has no symbol table (it was stripped); use the debug vmlinux or module from the -dbg package",
        ));
    }
    let sites = CallSites::read(&facts, &file);
    let damage = super::damage::find(&facts, &file, &sites);
    let sections = DwarfSections::load(&facts.layout, &file);
    let total = sections.info_len();
    let dwarf_facts = if sections.present() {
        let dwarf = sections.dwarf(elf.data());
        Some(
            dwarf::scan(&dwarf, &|done| progress(done, total))
                .map_err(|e| KernelError::new(&elf.path, dwarf_problem(e)))?,
        )
    } else {
        None
    };
    let banner = facts.banner(&file);
    let exported = exported_names(&facts);
    // Strings are interned in the order the tables are written.
    let mut w = Writer::default();
    let mut units = UnitNames::new(dwarf_facts.as_ref().map_or(&[][..], |d| &d.cu_names));
    let (functions, by_entry) = function_records(&mut w, &mut units, dwarf_facts.as_ref());
    let symbols = SymbolTable::write(&mut w, &facts, &sites, &exported, &by_entry);
    let (inlined, variables) = match &dwarf_facts {
        Some(d) => (
            inlined_records(&mut w, d, &symbols.entry_names, &by_entry),
            variable_records(&mut w, &mut units, d),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let mut exports = Vec::new();
    for name in &exported {
        let at = w.intern(name.as_bytes());
        put_u32(&mut exports, at);
    }
    let meta = Meta {
        path: elf.path.display().to_string(),
        size: elf.data().len() as u64,
        build_id: facts.build_id.clone(),
        arch: facts.arch.clone(),
        relocatable: facts.layout.relocatable,
        release: banner.as_deref().and_then(release_of_banner),
        banner,
        has_dwarf: dwarf_facts.is_some(),
        has_btf: file.section_by_name(".BTF").is_some(),
        symbol_count: symbols.count,
        mcount_source: sites.source.clone(),
        mcount_entries: sites.addrs.len() as u64,
        has_livepatch: facts.symbol("klp_enable_patch").is_some(),
        dwarf_units: dwarf_facts.as_ref().map_or(0, |d| d.cu_names.len() as u64),
        damaged: damage.losses,
        mcount_damaged: damage.mcount,
    };
    Ok(w.finish(
        &meta,
        [symbols.records, functions, inlined, variables, exports],
    ))
}

/// The name of each compilation unit, interned the first time a record
/// needs it, as a plain intern would, but hashed once rather than once for
/// every function and variable of the unit.
struct UnitNames<'s> {
    names: &'s [String],
    interned: Vec<Option<u32>>,
}

impl<'s> UnitNames<'s> {
    fn new(names: &'s [String]) -> Self {
        UnitNames {
            names,
            interned: vec![None; names.len()],
        }
    }

    fn intern(&mut self, w: &mut Writer<'s>, cu: u32) -> u32 {
        let cu = cu as usize;
        if let Some(at) = self.interned[cu] {
            return at;
        }
        let at = w.intern(self.names[cu].as_bytes());
        self.interned[cu] = Some(at);
        at
    }
}

/// The names the object exports (`__ksymtab_NAME`), sorted.
fn exported_names<'a>(facts: &ElfFacts<'a>) -> Vec<&'a str> {
    let mut exported: Vec<&str> = facts
        .symbols
        .iter()
        .filter_map(|s| s.name.strip_prefix("__ksymtab_"))
        .collect();
    exported.sort_unstable();
    exported.dedup();
    exported
}

/// The records of the DWARF functions, and each entry address's first function.
fn function_records<'s>(
    w: &mut Writer<'s>,
    units: &mut UnitNames<'s>,
    dwarf: Option<&'s DwarfFacts<'_>>,
) -> (Vec<u8>, BuildMap<u64, u32>) {
    let mut functions = Vec::new();
    let mut by_entry: BuildMap<u64, u32> = BuildMap::default();
    let Some(d) = dwarf else {
        return (functions, by_entry);
    };
    for (i, f) in d.functions.iter().enumerate() {
        by_entry.entry(f.entry).or_insert(i as u32);
        let name = w.intern(f.name);
        let cu = units.intern(w, f.cu);
        let decl = w.intern_opt(f.decl_file.as_deref().map(str::as_bytes));
        put_u32(&mut functions, name);
        put_u32(&mut functions, cu);
        put_u32(&mut functions, decl);
        put_u32(&mut functions, 0);
        put_u64(&mut functions, f.entry);
        put_u64(&mut functions, f.die);
        put_u64(&mut functions, f.unit);
    }
    (functions, by_entry)
}

/// The symbol records, written.
struct SymbolTable<'a> {
    records: Vec<u8>,
    count: u64,
    /// The name each function entry address goes by: a plain name over a clone's.
    entry_names: BuildMap<u64, &'a str>,
}

impl<'a> SymbolTable<'a> {
    /// Writes the symbols that are functions, objects or in code, sorted by
    /// name and then kallsyms order: by address in a linked image,
    /// symbol-table order in a module.
    fn write(
        w: &mut Writer<'a>,
        facts: &'a ElfFacts<'a>,
        sites: &CallSites,
        exported: &[&'a str],
        by_entry: &BuildMap<u64, u32>,
    ) -> SymbolTable<'a> {
        let symbols = &facts.symbols;
        let sections = &facts.layout.sections;
        let mut order: Vec<usize> = (0..symbols.len()).collect();
        if !facts.layout.relocatable {
            order.par_sort_by_key(|i| (symbols[*i].addr, *i));
        }
        let mut rank = vec![0u32; symbols.len()];
        for (r, i) in order.iter().enumerate() {
            rank[*i] = r as u32;
        }
        let mut entries: Vec<usize> = (0..symbols.len())
            .filter(|i| {
                let s = &symbols[*i];
                s.kind != SymKind::Other || s.section.is_some_and(|x| sections[x].exec)
            })
            .collect();
        entries.par_sort_by(|a, b| {
            symbols[*a]
                .name
                .cmp(symbols[*b].name)
                .then(rank[*a].cmp(&rank[*b]))
        });
        let ranges: Vec<(u64, u64, u32)> = RANGES
            .iter()
            .filter_map(|(a, b, f)| Some((facts.symbol(a)?.addr, facts.symbol(b)?.addr, *f)))
            .collect();
        let mut table = SymbolTable {
            records: Vec::with_capacity(entries.len() * 40),
            count: entries.len() as u64,
            entry_names: BuildMap::default(),
        };
        for &i in &entries {
            let s = &symbols[i];
            let section = s.section.map(|x| &sections[x]);
            let is_func = s.kind == SymKind::Func;
            if is_func {
                let better = table
                    .entry_names
                    .get(&s.addr)
                    .is_none_or(|old| old.contains('.') && !s.name.contains('.'));
                if better {
                    table.entry_names.insert(s.addr, s.name);
                }
            }
            let mut flags = symbol_flags(s, section, &ranges) | section_flags(section);
            if is_func && sites.covers(s.addr, s.size) {
                flags |= flag::MCOUNT;
            }
            if exported.binary_search(&s.name).is_ok() {
                flags |= flag::EXPORTED;
            }
            let func = if is_func {
                by_entry.get(&s.addr).copied().unwrap_or(NONE)
            } else {
                NONE
            };
            let name = w.intern(s.name.as_bytes());
            let file = w.intern_opt(s.file.map(str::as_bytes));
            let records = &mut table.records;
            put_u32(records, name);
            put_u32(records, file);
            put_u64(records, s.addr);
            put_u64(records, s.size);
            put_u32(records, flags);
            put_u32(records, func);
            // What nm shows: in an object file, the offset in the symbol's section.
            let value = match section {
                Some(section) if facts.layout.relocatable => s.addr.wrapping_sub(section.addr),
                _ => s.addr,
            };
            put_u64(records, value);
        }
        table
    }
}

/// The flags a symbol's kind and binding give, and the text ranges it is in.
fn symbol_flags(
    s: &RawSymbol<'_>,
    section: Option<&SectionInfo>,
    ranges: &[(u64, u64, u32)],
) -> u32 {
    let mut flags = 0;
    if s.kind == SymKind::Func {
        flags |= flag::FUNC;
    }
    if s.kind == SymKind::Object {
        flags |= flag::OBJECT;
    }
    if s.local {
        flags |= flag::LOCAL;
    }
    if s.weak {
        flags |= flag::WEAK;
    }
    if section.is_some_and(|section| section.exec) {
        flags |= flag::EXEC;
    }
    for (start, end, f) in ranges {
        if s.addr >= *start && s.addr < *end {
            flags |= f;
        }
    }
    flags
}

/// The flags the name of a symbol's section gives.
fn section_flags(section: Option<&SectionInfo>) -> u32 {
    let Some(section) = section else { return 0 };
    [
        (".init.", flag::INIT),
        (".exit.", flag::EXIT),
        (".noinstr.", flag::NOINSTR),
        (".sched.", flag::SCHED),
    ]
    .iter()
    .filter(|(prefix, _)| section.name.starts_with(prefix))
    .fold(0, |flags, (_, f)| flags | f)
}

/// The inlining edges, each caller named by its symbol, sorted and unique.
fn inlined_records<'s>(
    w: &mut Writer<'s>,
    d: &'s DwarfFacts<'_>,
    entry_names: &BuildMap<u64, &'s str>,
    by_entry: &BuildMap<u64, u32>,
) -> Vec<u8> {
    let mut edges: Vec<(&[u8], &[u8])> = d
        .inlined
        .iter()
        .filter_map(|(callee, entry)| {
            let caller = entry_names
                .get(entry)
                .map(|s| s.as_bytes())
                .or_else(|| by_entry.get(entry).map(|i| d.functions[*i as usize].name))?;
            Some((*callee, caller))
        })
        .collect();
    edges.par_sort_unstable();
    edges.dedup();
    let mut records = Vec::new();
    for (callee, caller) in edges {
        let a = w.intern(callee);
        let b = w.intern(caller);
        put_u32(&mut records, a);
        put_u32(&mut records, b);
    }
    records
}

/// The file-scope variables, sorted by name and DIE.
fn variable_records<'s>(
    w: &mut Writer<'s>,
    units: &mut UnitNames<'s>,
    d: &'s DwarfFacts<'_>,
) -> Vec<u8> {
    let mut vars: Vec<&DwarfVariable> = d.variables.iter().collect();
    vars.par_sort_by(|a, b| a.name.cmp(b.name).then(a.die.cmp(&b.die)));
    let mut records = Vec::new();
    for v in vars {
        let name = w.intern(v.name);
        let cu = units.intern(w, v.cu);
        put_u32(&mut records, name);
        put_u32(&mut records, cu);
        put_u64(&mut records, v.die);
        put_u64(&mut records, v.unit);
    }
    records
}
