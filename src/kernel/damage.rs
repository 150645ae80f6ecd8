//! Damaged sections of a kernel object, found while its index is built.
//!
//! A section kgpc reads that cannot be read (its header points outside the
//! file) or whose contents are not what its name says is not taken for a
//! missing one: each is described in a sentence naming the section and what
//! its loss costs, kept in the index, and reported as a warning (KGP0117)
//! by every command that uses the object.

use super::dwarf_sections;
use super::elf::ElfFacts;
use super::mcount::CallSites;
use object::{Object, ObjectSection};

/// The magic at the start of a `.BTF` section, little-endian.
const BTF_MAGIC: u16 = 0xeb9f;

/// What is damaged in an object: every loss, and the ftrace table's alone,
/// which decides what "no ftrace call site" means.
#[derive(Default)]
pub struct Damage {
    pub losses: Vec<String>,
    pub mcount: Option<String>,
}

/// Looks at every section the index reads.
pub fn find(facts: &ElfFacts<'_>, file: &object::File<'_>, sites: &CallSites) -> Damage {
    let mut damage = Damage::default();
    let unreadable: Vec<String> = dwarf_sections::SECTIONS
        .iter()
        .filter_map(|id| {
            let name = id.name();
            let section = file.section_by_name(name)?;
            // A compressed section whose bytes are there may still not decompress.
            let error = section
                .data()
                .err()
                .or_else(|| section.uncompressed_data().err())?;
            Some(format!("section `{name}`: {error}"))
        })
        .collect();
    if !unreadable.is_empty() {
        damage.losses.push(format!(
            "its DWARF cannot be read ({}): the source files, prototypes, inlined copies and file-scope variables of its functions are lost, and only its symbol table (and BTF) are used",
            unreadable.join(", ")
        ));
    }
    if let Err(error) = file.build_id() {
        damage.losses.push(format!(
            "its notes (`.notes`) are damaged ({error}): its build id is lost, so it cannot be matched with its census, its cached index or a target's build id"
        ));
    }
    if let Some(section) = file.section_by_name(".BTF") {
        let problem = match section.data() {
            Err(error) => Some(error.to_string()),
            Ok(data) if data.len() < 24 || u16::from_le_bytes([data[0], data[1]]) != BTF_MAGIC => {
                Some("its header has no BTF magic".to_string())
            }
            Ok(_) => None,
        };
        if let Some(problem) = problem {
            damage.losses.push(format!(
                "its `.BTF` section is damaged ({problem}): the prototypes BTF would give are lost"
            ));
        }
    }
    if let Some(problem) = mcount_problem(facts, file, sites) {
        damage.losses.push(format!(
            "its ftrace call-site table cannot be read ({problem}): whether a function can be patched is not known"
        ));
        damage.mcount = Some(problem);
    }
    damage
}

/// Why the ftrace call-site table the object declares cannot be read.
fn mcount_problem(
    facts: &ElfFacts<'_>,
    file: &object::File<'_>,
    sites: &CallSites,
) -> Option<String> {
    let read = sites.source.as_deref().unwrap_or("");
    if let (Some(start), Some(stop)) = (
        facts.symbol("__start_mcount_loc"),
        facts.symbol("__stop_mcount_loc"),
    ) {
        if stop.addr > start.addr && !read.contains("__start_mcount_loc") {
            return Some(
                "the section holding `__start_mcount_loc..__stop_mcount_loc` is damaged".into(),
            );
        }
    }
    ["__mcount_loc", "__patchable_function_entries"]
        .iter()
        .find_map(|name| {
            let error = file.section_by_name(name)?.data().err()?;
            Some(format!("section `{name}` is damaged: {error}"))
        })
}
