//! The scan of one compilation unit: a walk over its DIEs in their raw form
//! that reads the attributes of subprograms, inlined subroutines and
//! file-scope variables, and jumps over the members of structures, unions
//! and enumerations with `DW_AT_sibling`; then the names of what it found,
//! followed through abstract origins and specifications. A reference into
//! another unit is left for [`super::dwarf::scan`] to resolve.

use super::build_hash::{BuildMap, BuildSet};
use super::dwarf::{under, DwarfFunction, DwarfVariable, FileNames, R};
use super::dwarf_sections::bytes;
use gimli::{
    constants, Abbreviation, AttributeValue, DebugInfoOffset, Dwarf, EntriesRaw, Unit, UnitHeader,
    UnitOffset,
};

/// How many origins or specifications are followed to a name.
const ORIGIN_HOPS: usize = 6;

/// What one unit holds, its names resolved.
pub(super) struct UnitFacts<'a> {
    pub cu_name: String,
    pub functions: Vec<DwarfFunction<'a>>,
    pub variables: Vec<DwarfVariable<'a>>,
    pub inlined: Vec<(&'a [u8], u64)>,
    /// References to DIEs in other units, resolved after the scan: the DIE
    /// named, with the function that needs its name or the entry address of
    /// the function holding an inlined copy of it.
    pub foreign_functions: Vec<(u64, DwarfFunction<'a>)>,
    pub foreign_inlined: Vec<(u64, u64)>,
}

/// A subprogram's own name, origin and declaring file.
#[derive(Default, Clone, Copy)]
struct SubInfo<'a> {
    name: Option<&'a [u8]>,
    origin: Option<u64>,
    decl_file: Option<u64>,
}

/// A variable with storage: its DIE, its name and the DIE it specifies.
type VariableDie<'a> = (u64, Option<&'a [u8]>, Option<u64>);

/// What the walk over a unit's DIEs collects, before names are resolved.
#[derive(Default)]
struct UnitDies<'a> {
    subprograms: BuildMap<u64, SubInfo<'a>>,
    /// Subprograms with code: the DIE and the entry address.
    concrete: Vec<(u64, u64)>,
    /// Inlined copies: the DIE of the function inlined and the entry address
    /// of the function holding the copy.
    inlined: BuildSet<(u64, u64)>,
    variables: Vec<VariableDie<'a>>,
    variable_names: BuildMap<u64, &'a [u8]>,
}

/// A subprogram that encloses the DIEs after it: its depth, its entry
/// address and the DIE it is an instance of.
type Enclosing = (isize, Option<u64>, u64);

/// A `.debug_info` offset from a reference attribute of the unit at `unit`.
pub(super) fn reference(value: AttributeValue<R<'_>>, unit: u64) -> Option<u64> {
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

/// Scans the unit `header` starts.
pub(super) fn scan_unit<'a>(
    dwarf: &Dwarf<R<'a>>,
    header: UnitHeader<R<'a>>,
) -> Result<UnitFacts<'a>, gimli::Error> {
    let unit = dwarf.unit(header)?;
    let comp_dir = unit
        .comp_dir
        .as_ref()
        .map(|d| String::from_utf8_lossy(bytes(d)).into_owned());
    let cu_name = unit
        .name
        .as_ref()
        .map(|n| under(comp_dir.as_deref(), &String::from_utf8_lossy(bytes(n))))
        .unwrap_or_default();
    let dies = walk(dwarf, &unit)?;
    Ok(dies.resolve(dwarf, &unit, cu_name))
}

/// Walks every DIE of the unit once, in its raw form.
fn walk<'a>(dwarf: &Dwarf<R<'a>>, unit: &Unit<R<'a>>) -> Result<UnitDies<'a>, gimli::Error> {
    let unit_off = unit.header.offset().0 as u64;
    let mut dies = UnitDies::default();
    let mut stack: Vec<Enclosing> = Vec::new();
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
                let (info, entry) = read_subprogram(dwarf, unit, &mut raw, abbrev)?;
                if abbrev.has_children() {
                    stack.push((depth, entry, info.origin.unwrap_or(global)));
                }
                dies.subprograms.insert(global, info);
                if let Some(entry) = entry.filter(|e| *e != 0) {
                    dies.concrete.push((global, entry));
                }
            }
            constants::DW_TAG_inlined_subroutine => {
                let origin = read_origin(&mut raw, abbrev, unit_off)?;
                // A function inlined into its own out-of-line copy (a recursive
                // call, or gcc's copy of the body inside its concrete instance)
                // is not a copy elsewhere: replacing the function replaces it.
                let caller = stack
                    .iter()
                    .rev()
                    .find_map(|(_, e, own)| e.map(|e| (e, *own)));
                if let (Some(origin), Some((caller, own))) = (origin, caller) {
                    if origin != own {
                        dies.inlined.insert((origin, caller));
                    }
                }
            }
            constants::DW_TAG_variable if depth == 1 => {
                read_variable(dwarf, unit, &mut raw, abbrev, global, &mut dies)?;
            }
            constants::DW_TAG_structure_type
            | constants::DW_TAG_union_type
            | constants::DW_TAG_enumeration_type
            | constants::DW_TAG_class_type
                if abbrev.has_children() =>
            {
                if let Some(sibling) = read_sibling(&mut raw, abbrev)?.filter(|s| s.0 > offset.0) {
                    raw = unit.entries_raw(Some(sibling))?;
                    base_depth = depth;
                }
            }
            _ => raw.skip_attributes(abbrev.attributes())?,
        }
    }
    Ok(dies)
}

/// Reads a subprogram's attributes: what it says of itself, and its entry
/// address (its low pc, else the start of its first range).
fn read_subprogram<'a>(
    dwarf: &Dwarf<R<'a>>,
    unit: &Unit<R<'a>>,
    raw: &mut EntriesRaw<'_, R<'a>>,
    abbrev: &Abbreviation,
) -> Result<(SubInfo<'a>, Option<u64>), gimli::Error> {
    let unit_off = unit.header.offset().0 as u64;
    let mut info = SubInfo::default();
    let mut entry = None;
    let mut ranges = None;
    for spec in abbrev.attributes() {
        let attr = raw.read_attribute(*spec)?;
        match attr.name() {
            constants::DW_AT_name => info.name = string(dwarf, unit, attr.value()),
            constants::DW_AT_low_pc => {
                entry = dwarf.attr_address(unit, attr.value()).ok().flatten()
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
            if let Ok(Some(mut iter)) = dwarf.attr_ranges(unit, value) {
                if let Ok(Some(range)) = iter.next() {
                    entry = Some(range.begin);
                }
            }
        }
    }
    Ok((info, entry))
}

/// Reads an inlined subroutine's attributes for its abstract origin.
fn read_origin(
    raw: &mut EntriesRaw<'_, R<'_>>,
    abbrev: &Abbreviation,
    unit_off: u64,
) -> Result<Option<u64>, gimli::Error> {
    let mut origin = None;
    for spec in abbrev.attributes() {
        if spec.name() == constants::DW_AT_abstract_origin {
            origin = reference(raw.read_attribute(*spec)?.value(), unit_off);
        } else {
            raw.skip_attributes(std::slice::from_ref(spec))?;
        }
    }
    Ok(origin)
}

/// Reads a file-scope variable's attributes: its name, kept for the
/// definitions that name it by specification, and whether it has storage.
fn read_variable<'a>(
    dwarf: &Dwarf<R<'a>>,
    unit: &Unit<R<'a>>,
    raw: &mut EntriesRaw<'_, R<'a>>,
    abbrev: &Abbreviation,
    global: u64,
    dies: &mut UnitDies<'a>,
) -> Result<(), gimli::Error> {
    let unit_off = unit.header.offset().0 as u64;
    let mut name = None;
    let mut has_location = false;
    let mut spec_ref = None;
    for spec in abbrev.attributes() {
        let attr = raw.read_attribute(*spec)?;
        match attr.name() {
            constants::DW_AT_name => name = string(dwarf, unit, attr.value()),
            constants::DW_AT_location => has_location = true,
            constants::DW_AT_specification => spec_ref = reference(attr.value(), unit_off),
            _ => {}
        }
    }
    if let Some(name) = name {
        dies.variable_names.insert(global, name);
    }
    if has_location {
        dies.variables.push((global, name, spec_ref));
    }
    Ok(())
}

/// Reads an aggregate type's attributes for its `DW_AT_sibling`.
fn read_sibling(
    raw: &mut EntriesRaw<'_, R<'_>>,
    abbrev: &Abbreviation,
) -> Result<Option<UnitOffset>, gimli::Error> {
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
    Ok(sibling)
}

impl<'a> UnitDies<'a> {
    /// Follows origins from `start` to the DIE that carries the name; the
    /// DIE outside this unit where the chain leaves it, as the error.
    fn named(&self, start: u64) -> Result<SubInfo<'a>, u64> {
        let mut at = start;
        let mut decl_file = None;
        for _ in 0..ORIGIN_HOPS {
            let Some(info) = self.subprograms.get(&at) else {
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
    }

    /// Names what the walk found.
    fn resolve(self, dwarf: &Dwarf<R<'a>>, unit: &Unit<R<'a>>, cu_name: String) -> UnitFacts<'a> {
        let unit_off = unit.header.offset().0 as u64;
        let mut facts = UnitFacts {
            cu_name,
            functions: Vec::with_capacity(self.concrete.len()),
            variables: Vec::new(),
            inlined: Vec::with_capacity(self.inlined.len()),
            foreign_functions: Vec::new(),
            foreign_inlined: Vec::new(),
        };
        self.resolve_functions(dwarf, unit, &mut facts);
        let mut inlined: Vec<(u64, u64)> = self.inlined.iter().copied().collect();
        inlined.sort_unstable();
        for (origin, caller) in inlined {
            match self.named(origin) {
                Ok(SubInfo {
                    name: Some(name), ..
                }) => facts.inlined.push((name, caller)),
                Ok(_) => {}
                Err(foreign) => facts.foreign_inlined.push((foreign, caller)),
            }
        }
        for &(die, name, spec_ref) in &self.variables {
            let name = name.or_else(|| spec_ref.and_then(|r| self.variable_names.get(&r).copied()));
            if let Some(name) = name {
                facts.variables.push(DwarfVariable {
                    name,
                    cu: 0,
                    die,
                    unit: unit_off,
                });
            }
        }
        facts
    }

    /// Names the out-of-line functions, with the files they were declared in.
    fn resolve_functions(
        &self,
        dwarf: &Dwarf<R<'a>>,
        unit: &Unit<R<'a>>,
        facts: &mut UnitFacts<'a>,
    ) {
        let files = FileNames::new(dwarf, unit);
        let mut file_cache: BuildMap<u64, Option<String>> = BuildMap::default();
        for &(die, entry) in &self.concrete {
            let mut f = DwarfFunction {
                name: b"",
                entry,
                cu: 0,
                decl_file: None,
                die,
                unit: unit.header.offset().0 as u64,
            };
            match self.named(die) {
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
    }
}
