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
use super::dwarf_unit::{reference, scan_unit, UnitFacts};
use gimli::{constants, DebugInfoOffset, Dwarf, Unit, UnitOffset};
use rayon::prelude::*;
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

/// The DIE a DIE takes its declaration from, its abstract origin or the
/// declaration it specifies, within the same unit; `None` when it has none.
pub fn origin_of(entry: &gimli::DebuggingInformationEntry<R<'_>>) -> Option<gimli::UnitOffset> {
    match entry
        .attr_value(gimli::constants::DW_AT_abstract_origin)
        .or_else(|| entry.attr_value(gimli::constants::DW_AT_specification))
    {
        Some(gimli::AttributeValue::UnitRef(next)) => Some(next),
        _ => None,
    }
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
pub(super) fn under(comp_dir: Option<&str>, path: &str) -> String {
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
