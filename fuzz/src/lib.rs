//! kgpc's fuzz harness: in-process, on stable Rust, with no fuzzing engine.
//!
//! Each target is a function from bytes to a signature of where the exec
//! went, or to a broken property. [`runner`] feeds it mutants of a seed
//! corpus taken from the repository ([`seeds`]), made by the
//! structure-aware mutators of [`mutate`], keeps mutants that reach a new
//! signature, and runs every exec under a watchdog with panics caught.

pub mod mutate;
pub mod objects;
pub mod rng;
pub mod runner;
pub mod seeds;
pub mod spec;

use runner::{Input, Target};

/// Sections the DWARF target mutates most.
const DWARF: &[&str] = &[".debug_"];
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

/// The seeds of every target, by name.
pub struct Corpus {
    pub specs: Vec<Vec<u8>>,
    pub objects: seeds::Objects,
}

impl Corpus {
    /// Reads the specs and builds the kernel fixtures.
    pub fn load() -> Result<Corpus, String> {
        Ok(Corpus {
            specs: seeds::specs(),
            objects: seeds::objects()?,
        })
    }

    pub fn seeds(&self, target: &str) -> &[Vec<u8>] {
        match target {
            "elf" | "mcount" | "dwarf" => &self.objects.elf,
            "btf" => &self.objects.btf,
            "btf-split" => &self.objects.btf_split,
            "index" => &self.objects.index,
            _ => &self.specs,
        }
    }
}
