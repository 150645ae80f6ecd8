//! DWARF: one scan over every compilation unit, in parallel, for the facts
//! kgpc indexes: out-of-line functions (name, entry address, source file, the
//! DIE holding their prototype), where functions were inlined, and file-scope
//! variables.
//!
//! The scan reads only what it needs: attributes of subprograms, inlined
//! subroutines and file-scope variables; it jumps over the members of
//! structures, unions and enumerations with `DW_AT_sibling`. Prototypes are
//! not rendered here: the index keeps each function's DIE offset and
//! [`super::dwarf_types`] renders one when it is asked for.

pub use super::dwarf_sections::{DwarfSections, R};

use super::dwarf_sections::bytes;
use gimli::{constants, AttributeValue, DebugInfoOffset, Dwarf, Unit, UnitHeader, UnitOffset};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

/// An out-of-line function: a subprogram with code.
#[derive(Clone, Debug)]
pub struct DwarfFunction<'a> {
    pub name: &'a [u8],
    /// The entry address.
    pub entry: u64,
    /// The compilation unit's source file, such as `fs/proc/cmdline.c`.
    pub cu: u32,
    /// The file the function is declared in (a header for a `static inline`).
    pub decl_file: Option<String>,
    /// The concrete DIE and its unit, in `.debug_info` offsets.
    pub die: u64,
    pub unit: u64,
}

/// A file-scope variable that has storage.
#[derive(Clone, Debug)]
pub struct DwarfVariable<'a> {
    pub name: &'a [u8],
    pub cu: u32,
    pub die: u64,
    pub unit: u64,
}

/// Everything the scan found.
#[derive(Default)]
pub struct DwarfFacts<'a> {
    pub cu_names: Vec<String>,
    pub functions: Vec<DwarfFunction<'a>>,
    pub variables: Vec<DwarfVariable<'a>>,
    /// A function's name and the entry address of a function holding an inlined copy.
    pub inlined: Vec<(&'a [u8], u64)>,
}

#[derive(Default, Clone, Copy)]
struct SubInfo<'a> {
    name: Option<&'a [u8]>,
    origin: Option<u64>,
    decl_file: Option<u64>,
}

struct UnitFacts<'a> {
    cu_name: String,
    functions: Vec<DwarfFunction<'a>>,
    variables: Vec<DwarfVariable<'a>>,
    inlined: Vec<(&'a [u8], u64)>,
    /// References to DIEs in other units, resolved after the scan.
    foreign_functions: Vec<(u64, DwarfFunction<'a>)>,
    foreign_inlined: Vec<(u64, u64)>,
}

/// Scans every unit. `progress` is told how many bytes of `.debug_info` are done.
pub fn scan<'a>(
    dwarf: &Dwarf<R<'a>>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<DwarfFacts<'a>, gimli::Error> {
    let mut headers = Vec::new();
    let mut iter = dwarf.units();
    while let Some(header) = iter.next()? {
        headers.push(header);
    }
    let done = AtomicU64::new(0);
    let results: Vec<Result<UnitFacts<'a>, gimli::Error>> = headers
        .par_iter()
        .with_max_len(1)
        .map(|header| {
            let len = header.length_including_self() as u64;
            let r = scan_unit(dwarf, header.clone());
            progress(done.fetch_add(len, Ordering::Relaxed) + len);
            r
        })
        .collect();
    let mut facts = DwarfFacts::default();
    let mut foreign_functions = Vec::new();
    let mut foreign_inlined = Vec::new();
    for result in results {
        let mut unit = result?;
        let cu = facts.cu_names.len() as u32;
        facts.cu_names.push(unit.cu_name);
        for f in &mut unit.functions {
            f.cu = cu;
        }
        for v in &mut unit.variables {
            v.cu = cu;
        }
        for (_, f) in &mut unit.foreign_functions {
            f.cu = cu;
        }
        facts.functions.append(&mut unit.functions);
        facts.variables.append(&mut unit.variables);
        facts.inlined.append(&mut unit.inlined);
        foreign_functions.append(&mut unit.foreign_functions);
        foreign_inlined.append(&mut unit.foreign_inlined);
    }
    if !foreign_functions.is_empty() || !foreign_inlined.is_empty() {
        let mut units: Vec<u64> = headers.iter().map(|h| h.offset().0 as u64).collect();
        units.sort_unstable();
        for (target, mut f) in foreign_functions {
            if let Some((name, _)) = name_at(dwarf, &units, target) {
                f.name = name;
                facts.functions.push(f);
            }
        }
        for (target, caller) in foreign_inlined {
            if let Some((name, _)) = name_at(dwarf, &units, target) {
                facts.inlined.push((name, caller));
            }
        }
    }
    Ok(facts)
}

/// A variable's DIE offset, its name and the offset of its type.
type VariableDie<'a> = (u64, Option<&'a [u8]>, Option<u64>);

fn reference(value: AttributeValue<R<'_>>, unit: u64) -> Option<u64> {
    match value {
        AttributeValue::UnitRef(UnitOffset(o)) => Some(unit + o as u64),
        AttributeValue::DebugInfoRef(DebugInfoOffset(o)) => Some(o as u64),
        _ => None,
    }
}

fn string<'a>(
    dwarf: &Dwarf<R<'a>>,
    unit: &Unit<R<'a>>,
    value: AttributeValue<R<'a>>,
) -> Option<&'a [u8]> {
    dwarf.attr_string(unit, value).ok().map(|s| bytes(&s))
}

fn scan_unit<'a>(
    dwarf: &Dwarf<R<'a>>,
    header: UnitHeader<R<'a>>,
) -> Result<UnitFacts<'a>, gimli::Error> {
    let unit = dwarf.unit(header)?;
    let unit_off = unit.header.offset().0 as u64;
    let comp_dir = unit
        .comp_dir
        .as_ref()
        .map(|d| String::from_utf8_lossy(bytes(d)).into_owned());
    let cu_name = unit
        .name
        .as_ref()
        .map(|n| under(comp_dir.as_deref(), &String::from_utf8_lossy(bytes(n))))
        .unwrap_or_default();
    let mut subs: HashMap<u64, SubInfo<'a>> = HashMap::new();
    // (DIE, entry address)
    let mut concrete: Vec<(u64, u64)> = Vec::new();
    let mut inlined: HashSet<(u64, u64)> = HashSet::new();
    let mut variables: Vec<VariableDie<'a>> = Vec::new();
    let mut variable_names: HashMap<u64, &'a [u8]> = HashMap::new();
    // Enclosing subprograms: depth, entry address and the DIE they are an instance of.
    let mut stack: Vec<(isize, Option<u64>, u64)> = Vec::new();

    let mut raw = unit.entries_raw(None)?;
    let mut base_depth: isize = 0;
    while !raw.is_empty() {
        let offset = raw.next_offset();
        let depth = base_depth + raw.next_depth();
        let Some(abbrev) = raw.read_abbreviation()? else {
            continue;
        };
        while stack.last().is_some_and(|(d, _, _)| *d >= depth) {
            stack.pop();
        }
        let global = unit_off + offset.0 as u64;
        match abbrev.tag() {
            constants::DW_TAG_subprogram => {
                let mut info = SubInfo::default();
                let mut entry = None;
                let mut ranges = None;
                for spec in abbrev.attributes() {
                    let attr = raw.read_attribute(*spec)?;
                    match attr.name() {
                        constants::DW_AT_name => info.name = string(dwarf, &unit, attr.value()),
                        constants::DW_AT_low_pc => {
                            entry = dwarf.attr_address(&unit, attr.value()).ok().flatten()
                        }
                        constants::DW_AT_ranges => ranges = Some(attr.value()),
                        constants::DW_AT_abstract_origin | constants::DW_AT_specification => {
                            info.origin = reference(attr.value(), unit_off)
                        }
                        constants::DW_AT_decl_file => info.decl_file = attr.udata_value(),
                        _ => {}
                    }
                }
                if entry.is_none() {
                    if let Some(value) = ranges {
                        if let Ok(Some(mut iter)) = dwarf.attr_ranges(&unit, value) {
                            if let Ok(Some(range)) = iter.next() {
                                entry = Some(range.begin);
                            }
                        }
                    }
                }
                if abbrev.has_children() {
                    stack.push((depth, entry, info.origin.unwrap_or(global)));
                }
                subs.insert(global, info);
                if let Some(entry) = entry.filter(|e| *e != 0) {
                    concrete.push((global, entry));
                }
            }
            constants::DW_TAG_inlined_subroutine => {
                let mut origin = None;
                for spec in abbrev.attributes() {
                    if spec.name() == constants::DW_AT_abstract_origin {
                        origin = reference(raw.read_attribute(*spec)?.value(), unit_off);
                    } else {
                        raw.skip_attributes(std::slice::from_ref(spec))?;
                    }
                }
                // A function inlined into its own out-of-line copy (a recursive
                // call, or gcc's copy of the body inside its concrete instance)
                // is not a copy elsewhere: replacing the function replaces it.
                let caller = stack
                    .iter()
                    .rev()
                    .find_map(|(_, e, own)| e.map(|e| (e, *own)));
                if let (Some(origin), Some((caller, own))) = (origin, caller) {
                    if origin != own {
                        inlined.insert((origin, caller));
                    }
                }
            }
            constants::DW_TAG_variable if depth == 1 => {
                let mut name = None;
                let mut has_location = false;
                let mut spec_ref = None;
                for spec in abbrev.attributes() {
                    let attr = raw.read_attribute(*spec)?;
                    match attr.name() {
                        constants::DW_AT_name => name = string(dwarf, &unit, attr.value()),
                        constants::DW_AT_location => has_location = true,
                        constants::DW_AT_specification => {
                            spec_ref = reference(attr.value(), unit_off)
                        }
                        _ => {}
                    }
                }
                if let Some(name) = name {
                    variable_names.insert(global, name);
                }
                if has_location {
                    variables.push((global, name, spec_ref));
                }
            }
            constants::DW_TAG_structure_type
            | constants::DW_TAG_union_type
            | constants::DW_TAG_enumeration_type
            | constants::DW_TAG_class_type
                if abbrev.has_children() =>
            {
                let mut sibling = None;
                for spec in abbrev.attributes() {
                    if spec.name() == constants::DW_AT_sibling {
                        if let AttributeValue::UnitRef(o) = raw.read_attribute(*spec)?.value() {
                            sibling = Some(o);
                        }
                    } else {
                        raw.skip_attributes(std::slice::from_ref(spec))?;
                    }
                }
                if let Some(sib) = sibling.filter(|s| s.0 > offset.0) {
                    raw = unit.entries_raw(Some(sib))?;
                    base_depth = depth;
                }
            }
            _ => raw.skip_attributes(abbrev.attributes())?,
        }
    }

    let files = FileNames::new(dwarf, &unit);
    // Follows origins to the DIE that carries the name.
    let resolve = |start: u64| -> Result<SubInfo<'a>, u64> {
        let mut at = start;
        let mut decl_file = None;
        for _ in 0..6 {
            let Some(info) = subs.get(&at) else {
                return Err(at);
            };
            decl_file = decl_file.or(info.decl_file);
            if let Some(name) = info.name {
                return Ok(SubInfo {
                    name: Some(name),
                    origin: None,
                    decl_file,
                });
            }
            match info.origin {
                Some(next) => at = next,
                None => break,
            }
        }
        Ok(SubInfo::default())
    };
    let mut facts = UnitFacts {
        cu_name,
        functions: Vec::with_capacity(concrete.len()),
        variables: Vec::new(),
        inlined: Vec::with_capacity(inlined.len()),
        foreign_functions: Vec::new(),
        foreign_inlined: Vec::new(),
    };
    let mut file_cache: HashMap<u64, Option<String>> = HashMap::new();
    for (die, entry) in concrete {
        let mut f = DwarfFunction {
            name: b"",
            entry,
            cu: 0,
            decl_file: None,
            die,
            unit: unit_off,
        };
        match resolve(die) {
            Ok(info) => {
                let Some(name) = info.name else { continue };
                f.name = name;
                if let Some(index) = info.decl_file {
                    f.decl_file = file_cache
                        .entry(index)
                        .or_insert_with(|| files.name(index))
                        .clone();
                }
                facts.functions.push(f);
            }
            Err(foreign) => facts.foreign_functions.push((foreign, f)),
        }
    }
    let mut inlined: Vec<(u64, u64)> = inlined.into_iter().collect();
    inlined.sort_unstable();
    for (origin, caller) in inlined {
        match resolve(origin) {
            Ok(SubInfo {
                name: Some(name), ..
            }) => facts.inlined.push((name, caller)),
            Ok(_) => {}
            Err(foreign) => facts.foreign_inlined.push((foreign, caller)),
        }
    }
    for (die, name, spec_ref) in variables {
        let name = name.or_else(|| spec_ref.and_then(|r| variable_names.get(&r).copied()));
        if let Some(name) = name {
            facts.variables.push(DwarfVariable {
                name,
                cu: 0,
                die,
                unit: unit_off,
            });
        }
    }
    Ok(facts)
}

/// The file names of a unit's line program, for `DW_AT_decl_file`.
pub(crate) struct FileNames<'u, 'a> {
    dwarf: &'u Dwarf<R<'a>>,
    unit: &'u Unit<R<'a>>,
}

impl<'u, 'a> FileNames<'u, 'a> {
    pub(crate) fn new(dwarf: &'u Dwarf<R<'a>>, unit: &'u Unit<R<'a>>) -> Self {
        FileNames { dwarf, unit }
    }

    pub(crate) fn name(&self, index: u64) -> Option<String> {
        let program = self.unit.line_program.as_ref()?;
        let header = program.header();
        let file = header.file(index)?;
        let name = self.dwarf.attr_string(self.unit, file.path_name()).ok()?;
        let name = String::from_utf8_lossy(bytes(&name)).into_owned();
        if name.starts_with('/') {
            return Some(name);
        }
        let dir = if file.directory_index() == 0 && header.version() >= 5 {
            None
        } else {
            file.directory(header)
                .and_then(|d| self.dwarf.attr_string(self.unit, d).ok())
                .map(|d| String::from_utf8_lossy(bytes(&d)).into_owned())
        };
        let comp_dir = self
            .unit
            .comp_dir
            .as_ref()
            .map(|d| String::from_utf8_lossy(bytes(d)).into_owned());
        let joined = match dir {
            Some(d) if Some(&d) != comp_dir.as_ref() && !d.is_empty() => format!("{d}/{name}"),
            _ => name,
        };
        Some(under(comp_dir.as_deref(), &joined))
    }
}

/// A path relative to the compilation directory when it lies under it, without `./`.
fn under(comp_dir: Option<&str>, path: &str) -> String {
    let path = comp_dir
        .and_then(|c| path.strip_prefix(c))
        .and_then(|rest| rest.strip_prefix('/'))
        .unwrap_or(path);
    path.trim_start_matches("./").to_string()
}

/// The name of the DIE at a `.debug_info` offset, following origins.
pub fn name_at<'a>(dwarf: &Dwarf<R<'a>>, units: &[u64], at: u64) -> Option<(&'a [u8], u64)> {
    let mut at = at;
    for _ in 0..6 {
        let i = units.partition_point(|u| *u <= at).checked_sub(1)?;
        let header = dwarf
            .unit_header(DebugInfoOffset(usize::try_from(units[i]).ok()?))
            .ok()?;
        let unit = dwarf.unit(header).ok()?;
        let local = UnitOffset(usize::try_from(at - units[i]).ok()?);
        let entry = unit.entry(local).ok()?;
        if let Some(name) = entry.attr_value(constants::DW_AT_name) {
            return dwarf
                .attr_string(&unit, name)
                .ok()
                .map(|s| (bytes(&s), units[i]));
        }
        let origin = entry
            .attr_value(constants::DW_AT_abstract_origin)
            .or_else(|| entry.attr_value(constants::DW_AT_specification))?;
        at = reference(origin, units[i])?;
    }
    None
}
