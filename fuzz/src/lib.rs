//! kgpc's fuzz harness: in-process, on stable Rust, with no fuzzing engine.
//!
//! Each target is a function from bytes to a signature of where the exec
//! went, or to a broken property. [`runner`] feeds it mutants of a seed
//! corpus taken from the repository ([`seeds`]), made by the
//! structure-aware mutators of [`mutate`], keeps mutants that reach a new
//! signature, and runs every exec under a watchdog with panics caught.

pub mod crash_log;
pub mod mutate;
pub mod objects;
pub mod rng;
pub mod runner;
pub mod seeds;
pub mod spec;

use runner::{Input, Target};

/// Sections the DWARF target mutates most.
const DWARF: &[&str] = &[".debug_", ".rela.debug_"];
/// Sections the ftrace target mutates most: the table and the symbols that bound it.
const MCOUNT: &[&str] = &["__mcount_loc", ".symtab", ".strtab", ".rela__mcount_loc"];
/// Sections the ELF target mutates most.
const ELF: &[&str] = &[
    ".symtab",
    ".strtab",
    ".shstrtab",
    ".rela",
    ".notes",
    ".rodata",
];

/// Every target, spec targets first.
pub const TARGETS: &[Target] = &[
    Target {
        name: "parse",
        input: Input::Text,
        run: spec::parse_and_render,
    },
    Target {
        name: "lower",
        input: Input::Text,
        run: spec::load_and_lower,
    },
    Target {
        name: "fmt",
        input: Input::Text,
        run: spec::format_properties,
    },
    Target {
        name: "generate",
        input: Input::Text,
        run: spec::generate_module,
    },
    Target {
        name: "elf",
        input: Input::Elf(ELF),
        run: objects::elf,
    },
    Target {
        name: "mcount",
        input: Input::Elf(MCOUNT),
        run: objects::mcount,
    },
    Target {
        name: "dwarf",
        input: Input::Elf(DWARF),
        run: objects::dwarf,
    },
    Target {
        name: "btf",
        input: Input::Bytes,
        run: objects::btf,
    },
    Target {
        name: "btf-split",
        input: Input::Bytes,
        run: objects::btf_split,
    },
    Target {
        name: "index",
        input: Input::Bytes,
        run: objects::index,
    },
];

/// The seeds of a target: the repository's specs, or what the kernel fixtures give it.
pub fn seeds_of(target: &str) -> Result<Vec<Vec<u8>>, String> {
    Ok(match target {
        "elf" | "mcount" | "dwarf" => fixtures()?.elf.clone(),
        "btf" => fixtures()?.btf.clone(),
        "btf-split" => fixtures()?.btf_split.clone(),
        "index" => fixtures()?.index.clone(),
        _ => seeds::specs(),
    })
}

/// The kernel fixtures, built once per process.
pub fn fixtures() -> Result<&'static seeds::Objects, String> {
    static OBJECTS: std::sync::OnceLock<Result<seeds::Objects, String>> =
        std::sync::OnceLock::new();
    OBJECTS
        .get_or_init(seeds::objects)
        .as_ref()
        .map_err(Clone::clone)
}
