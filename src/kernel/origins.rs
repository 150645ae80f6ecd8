//! Where a function that exists only as inlined copies was declared.
//!
//! The index records that `name` was inlined into some callers, not where
//! `name` came from. A `static inline` of a header and a `static` function of
//! one `.c` file look alike there; the abstract origin of an inlined copy
//! tells them apart with its `DW_AT_decl_file`. This reads it on demand from
//! the DIEs of a caller.

use super::dwarf::{origin_of, FileNames, R};
use super::dwarf_sections::bytes;
use super::Kernel;
use gimli::{constants, AttributeValue, DebugInfoOffset, Dwarf, Unit, UnitOffset};
use std::collections::HashMap;

/// How many callers are looked into for one name before giving up.
const CALLERS_TRIED: usize = 4;

impl Kernel {
    /// For each name, the file its inlined copies were declared in (such as
    /// `include/linux/list.h` or `kernel/fork.c`); `None` when the index has
    /// no inlined copy of it or the DWARF does not say.
    pub fn inlined_origin_files(&self, names: &[&str]) -> HashMap<String, Option<String>> {
        if self.index_only() {
            return names
                .iter()
                .map(|name| (name.to_string(), self.rendered_origin(name)))
                .collect();
        }
        let mut out: HashMap<String, Option<String>> =
            names.iter().map(|n| (n.to_string(), None)).collect();
        // The callers of each name, as (unit, DIE) of their concrete subprograms.
        let mut wanted: Vec<(&str, Vec<(u64, u64)>)> = Vec::new();
        for name in names {
            let mut places = Vec::new();
            for caller in self.index().inlined_into(name).iter().take(CALLERS_TRIED) {
                for symbol in self.index().symbols_named(caller) {
                    if let Some(f) = symbol.function {
                        places.push((f.unit, f.die));
                        break;
                    }
                }
            }
            if !places.is_empty() {
                wanted.push((name, places));
            }
        }
        if wanted.is_empty() {
            return out;
        }
        let found = self.with_dwarf(|dwarf| {
            let mut units: HashMap<u64, Unit<R<'_>>> = HashMap::new();
            let mut found = Vec::new();
            for (name, places) in &wanted {
                for (unit_off, die) in places {
                    let Some(unit) = unit_at(dwarf, &mut units, *unit_off) else {
                        continue;
                    };
                    if let Some(file) = origin_file(dwarf, unit, *unit_off, *die, name) {
                        found.push((name.to_string(), file));
                        break;
                    }
                }
            }
            Ok(found)
        });
        if let Some(Ok(found)) = found {
            for (name, file) in found {
                out.insert(name, Some(file));
            }
        }
        out
    }
}

impl Kernel {
    /// The declaring file of `name`'s inlined copies, from the rendered facts;
    /// a name the index has no inlined copy of has none, as with DWARF.
    fn rendered_origin(&self, name: &str) -> Option<String> {
        if self.index().inlined_into(name).is_empty() {
            return None;
        }
        self.rendered_answer(
            || format!("where the inlined copies of `{name}` were declared"),
            |facts| facts.origin(name),
            None,
        )
        .flatten()
    }
}

fn unit_at<'u, 'a>(
    dwarf: &Dwarf<R<'a>>,
    units: &'u mut HashMap<u64, Unit<R<'a>>>,
    offset: u64,
) -> Option<&'u Unit<R<'a>>> {
    match units.entry(offset) {
        std::collections::hash_map::Entry::Occupied(unit) => Some(unit.into_mut()),
        std::collections::hash_map::Entry::Vacant(slot) => {
            let header = dwarf
                .unit_header(DebugInfoOffset(usize::try_from(offset).ok()?))
                .ok()?;
            Some(slot.insert(dwarf.unit(header).ok()?))
        }
    }
}

/// Searches the subtree of the caller's DIE for an inlined copy of `name` and
/// returns the declaring file of its origin.
fn origin_file(
    dwarf: &Dwarf<R<'_>>,
    unit: &Unit<R<'_>>,
    unit_off: u64,
    die: u64,
    name: &str,
) -> Option<String> {
    let local = UnitOffset(usize::try_from(die.checked_sub(unit_off)?).ok()?);
    let mut entries = unit.entries_at_offset(local).ok()?;
    let mut top = None;
    while let Some(entry) = entries.next_dfs().ok()? {
        let depth = entry.depth();
        match top {
            None => top = Some(depth),
            Some(top) if depth <= top => break,
            Some(_) => {}
        }
        if entry.tag() != constants::DW_TAG_inlined_subroutine {
            continue;
        }
        let Some(AttributeValue::UnitRef(origin)) =
            entry.attr_value(constants::DW_AT_abstract_origin)
        else {
            continue;
        };
        if let Some(file) = named_decl_file(dwarf, unit, origin, name) {
            return Some(file);
        }
    }
    None
}

/// Follows origins within the unit to the DIE carrying the name; its file if the name is `name`.
fn named_decl_file(
    dwarf: &Dwarf<R<'_>>,
    unit: &Unit<R<'_>>,
    start: UnitOffset,
    name: &str,
) -> Option<String> {
    let mut at = start;
    let mut decl_file = None;
    for _ in 0..6 {
        let entry = unit.entry(at).ok()?;
        if decl_file.is_none() {
            decl_file = entry
                .attr(constants::DW_AT_decl_file)
                .and_then(|a| a.udata_value());
        }
        if let Some(value) = entry.attr_value(constants::DW_AT_name) {
            let own = dwarf.attr_string(unit, value).ok()?;
            if bytes(&own) != name.as_bytes() {
                return None;
            }
            return FileNames::new(dwarf, unit).name(decl_file?);
        }
        at = origin_of(&entry)?;
    }
    None
}
