//! Building an index from a kernel object: the ELF symbols, the ftrace
//! call sites and the DWARF scan, joined by address.

use super::dwarf::{self, DwarfSections};
use super::elf::{release_of_banner, ElfFacts, ElfFile, SymKind};
use super::error::{dwarf_problem, KernelError};
use super::index::{flag, put_u32, put_u64, Meta, Writer, NONE};
use super::mcount::CallSites;
use object::Object;
use std::collections::HashMap;

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
    let has_btf = file.section_by_name(".BTF").is_some();
    let banner = facts.banner(&file);
    let mut w = Writer::default();

    let ranges: Vec<(u64, u64, u32)> = RANGES
        .iter()
        .filter_map(|(a, b, f)| Some((facts.symbol(a)?.addr, facts.symbol(b)?.addr, *f)))
        .collect();
    let mut exported: Vec<&str> = facts
        .symbols
        .iter()
        .filter_map(|s| s.name.strip_prefix("__ksymtab_"))
        .collect();
    exported.sort_unstable();
    exported.dedup();

    // DWARF functions by entry address.
    let mut functions = Vec::new();
    let mut by_entry: HashMap<u64, u32> = HashMap::new();
    if let Some(d) = &dwarf_facts {
        for (i, f) in d.functions.iter().enumerate() {
            by_entry.entry(f.entry).or_insert(i as u32);
            let name = w.intern(f.name);
            let cu = w.intern(d.cu_names[f.cu as usize].as_bytes());
            let decl = w.intern_opt(f.decl_file.as_deref().map(str::as_bytes));
            put_u32(&mut functions, name);
            put_u32(&mut functions, cu);
            put_u32(&mut functions, decl);
            put_u32(&mut functions, 0);
            put_u64(&mut functions, f.entry);
            put_u64(&mut functions, f.die);
            put_u64(&mut functions, f.unit);
        }
    }

    // kallsyms order: by address in a linked image, symbol-table order in a module.
    let mut order: Vec<usize> = (0..facts.symbols.len()).collect();
    if !facts.layout.relocatable {
        order.sort_by_key(|i| (facts.symbols[*i].addr, *i));
    }
    let mut rank = vec![0u32; facts.symbols.len()];
    for (r, i) in order.iter().enumerate() {
        rank[*i] = r as u32;
    }
    let mut entries: Vec<usize> = (0..facts.symbols.len())
        .filter(|i| {
            let s = &facts.symbols[*i];
            s.kind != SymKind::Other || s.section.is_some_and(|x| facts.layout.sections[x].exec)
        })
        .collect();
    entries.sort_by(|a, b| {
        facts.symbols[*a]
            .name
            .cmp(facts.symbols[*b].name)
            .then(rank[*a].cmp(&rank[*b]))
    });
    let mut symbols = Vec::with_capacity(entries.len() * 40);
    let mut entry_names: HashMap<u64, &str> = HashMap::new();
    for &i in &entries {
        let s = &facts.symbols[i];
        let section = s.section.map(|x| &facts.layout.sections[x]);
        let mut flags = 0;
        let is_func = s.kind == SymKind::Func;
        if is_func {
            flags |= flag::FUNC;
            let better = entry_names
                .get(&s.addr)
                .is_none_or(|old| old.contains('.') && !s.name.contains('.'));
            if better {
                entry_names.insert(s.addr, s.name);
            }
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
        if let Some(section) = section {
            if section.exec {
                flags |= flag::EXEC;
            }
            if section.name.starts_with(".init.") {
                flags |= flag::INIT;
            }
            if section.name.starts_with(".exit.") {
                flags |= flag::EXIT;
            }
            if section.name.starts_with(".noinstr.") {
                flags |= flag::NOINSTR;
            }
            if section.name.starts_with(".sched.") {
                flags |= flag::SCHED;
            }
        }
        for (start, end, f) in &ranges {
            if s.addr >= *start && s.addr < *end {
                flags |= f;
            }
        }
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
        put_u32(&mut symbols, name);
        put_u32(&mut symbols, file);
        put_u64(&mut symbols, s.addr);
        put_u64(&mut symbols, s.size);
        put_u32(&mut symbols, flags);
        put_u32(&mut symbols, func);
        // What nm shows: in an object file, the offset in the symbol's section.
        let value = match section {
            Some(section) if facts.layout.relocatable => s.addr.wrapping_sub(section.addr),
            _ => s.addr,
        };
        put_u64(&mut symbols, value);
    }

    // Inlining edges, callers named by their symbols.
    let mut inlined_records = Vec::new();
    let mut variables = Vec::new();
    if let Some(d) = &dwarf_facts {
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
        edges.sort_unstable();
        edges.dedup();
        for (callee, caller) in edges {
            let a = w.intern(callee);
            let b = w.intern(caller);
            put_u32(&mut inlined_records, a);
            put_u32(&mut inlined_records, b);
        }
        let mut vars: Vec<&dwarf::DwarfVariable> = d.variables.iter().collect();
        vars.sort_by(|a, b| a.name.cmp(b.name).then(a.die.cmp(&b.die)));
        for v in vars {
            let name = w.intern(v.name);
            let cu = w.intern(d.cu_names[v.cu as usize].as_bytes());
            put_u32(&mut variables, name);
            put_u32(&mut variables, cu);
            put_u64(&mut variables, v.die);
            put_u64(&mut variables, v.unit);
        }
    }
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
        has_btf,
        symbol_count: entries.len() as u64,
        mcount_source: sites.source.clone(),
        mcount_entries: sites.addrs.len() as u64,
        has_livepatch: facts.symbol("klp_enable_patch").is_some(),
        dwarf_units: dwarf_facts.as_ref().map_or(0, |d| d.cu_names.len() as u64),
        damaged: damage.losses,
        mcount_damaged: damage.mcount,
    };
    Ok(w.finish(
        &meta,
        [symbols, functions, inlined_records, variables, exports],
    ))
}
