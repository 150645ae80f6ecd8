//! Where a function is defined in the source: the `DW_AT_decl_file` and
//! `DW_AT_decl_line` of the DIE the index records for its symbol, read on
//! demand, following the DIE's abstract origin or specification to the DIE
//! that carries them.

use super::dwarf::{origin_of, FileNames, R};
use super::index::Function;
use super::Kernel;
use gimli::{constants, DebugInfoOffset, Dwarf, Unit, UnitOffset};

/// How many origins or specifications are followed before giving up.
const ORIGINS_FOLLOWED: usize = 6;

/// A file and line of the source, as DWARF names them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeclPlace {
    /// The path DWARF gives, relative to the build directory where it lies under it.
    pub file: String,
    /// 1-based.
    pub line: u64,
}

impl Kernel {
    /// Where DWARF says `function` is declared; `None` when the object has no
    /// DWARF or the DIE names no file and line.
    pub fn decl_place(&self, function: &Function) -> Option<DeclPlace> {
        if let Some(answer) = self.rendered_answer(
            || format!("where `{}` is declared", function.name),
            |facts| facts.place(function),
            None,
        ) {
            return answer;
        }
        self.with_dwarf(|dwarf| Ok(place_of(dwarf, function.unit, function.die)))?
            .ok()
            .flatten()
    }
}

fn place_of(dwarf: &Dwarf<R<'_>>, unit_off: u64, die: u64) -> Option<DeclPlace> {
    let header = dwarf
        .unit_header(DebugInfoOffset(usize::try_from(unit_off).ok()?))
        .ok()?;
    let unit: Unit<R<'_>> = dwarf.unit(header).ok()?;
    place_in(dwarf, &unit, unit_off, die)
}

/// Where the DIE at `die` of the parsed `unit` (at `unit_off`) says it is declared.
pub(super) fn place_in(
    dwarf: &Dwarf<R<'_>>,
    unit: &Unit<R<'_>>,
    unit_off: u64,
    die: u64,
) -> Option<DeclPlace> {
    let mut at = UnitOffset(usize::try_from(die.checked_sub(unit_off)?).ok()?);
    let (mut file, mut line) = (None, None);
    for _ in 0..ORIGINS_FOLLOWED {
        let entry = unit.entry(at).ok()?;
        file = file.or_else(|| {
            entry
                .attr(constants::DW_AT_decl_file)
                .and_then(|a| a.udata_value())
        });
        line = line.or_else(|| {
            entry
                .attr(constants::DW_AT_decl_line)
                .and_then(|a| a.udata_value())
        });
        if let (Some(file), Some(line)) = (file, line) {
            let file = FileNames::new(dwarf, unit).name(file)?;
            return Some(DeclPlace { file, line });
        }
        at = origin_of(&entry)?;
    }
    None
}
