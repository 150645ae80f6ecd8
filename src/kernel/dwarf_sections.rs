//! The DWARF sections of one object, read once and kept for the run: where
//! each section's bytes are in the file, or the bytes themselves when the
//! section is compressed (`SHF_COMPRESSED`, or a `.zdebug_*` section), and,
//! in an object file, its relocations, which gimli applies as it reads
//! ([`super::relocate`]). A linked vmlinux's `.rela.debug_*` are never applied.
//!
//! Nothing here borrows the file, so a [`super::Kernel`] keeps the sections
//! beside its mapped file and lends gimli a [`Dwarf`] over both on demand.

use super::elf::Layout;
use super::relocate::Relocations;
use gimli::{Dwarf, EndianSlice, RelocateReader, RunTimeEndian, SectionId};
use object::{Object, ObjectSection};
use std::borrow::Cow;
use std::convert::Infallible;
use std::ops::Range;

/// The reader of every DWARF section: its bytes, relocated as they are read.
pub type R<'a> = RelocateReader<EndianSlice<'a, RunTimeEndian>, &'a Relocations>;

/// The DWARF sections kgpc reads.
pub const SECTIONS: [SectionId; 9] = [
    SectionId::DebugInfo,
    SectionId::DebugAbbrev,
    SectionId::DebugStr,
    SectionId::DebugLineStr,
    SectionId::DebugLine,
    SectionId::DebugRngLists,
    SectionId::DebugRanges,
    SectionId::DebugAddr,
    SectionId::DebugStrOffsets,
];

/// Where a section's bytes are.
enum Bytes {
    /// A range of the file: the section as it is stored.
    InFile(Range<usize>),
    /// A compressed section, decompressed.
    Decompressed(Vec<u8>),
}

impl Bytes {
    fn len(&self) -> usize {
        match self {
            Bytes::InFile(range) => range.len(),
            Bytes::Decompressed(bytes) => bytes.len(),
        }
    }
}

struct Section {
    id: SectionId,
    bytes: Bytes,
    relocations: Relocations,
}

/// The debug sections of one file.
pub struct DwarfSections {
    sections: Vec<Section>,
    endian: RunTimeEndian,
    /// The relocations of a section the file does not have: none.
    none: Relocations,
}

impl DwarfSections {
    /// Finds the DWARF sections of `file`; one that cannot be read or
    /// decompressed is left out, as if it were missing.
    pub fn load(layout: &Layout, file: &object::File<'_>) -> DwarfSections {
        let endian = if file.is_little_endian() {
            RunTimeEndian::Little
        } else {
            RunTimeEndian::Big
        };
        let sections = SECTIONS
            .iter()
            .filter_map(|id| {
                let section = file.section_by_name(id.name())?;
                let bytes = match section.uncompressed_data().ok()? {
                    Cow::Owned(bytes) => Bytes::Decompressed(bytes),
                    Cow::Borrowed(bytes) => {
                        let start = usize::try_from(section.file_range()?.0).ok()?;
                        Bytes::InFile(start..start.checked_add(bytes.len())?)
                    }
                };
                Some(Section {
                    id: *id,
                    bytes,
                    relocations: Relocations::of(layout, file, &section),
                })
            })
            .collect();
        DwarfSections {
            sections,
            endian,
            none: Relocations::default(),
        }
    }

    fn section(&self, id: SectionId) -> Option<&Section> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// Whether the file has DWARF debug information.
    pub fn present(&self) -> bool {
        self.info_len() > 0
    }

    pub fn info_len(&self) -> u64 {
        self.section(SectionId::DebugInfo)
            .map_or(0, |s| s.bytes.len() as u64)
    }

    /// The DWARF of `file`, the bytes of the file these sections were loaded from.
    pub fn dwarf<'a>(&'a self, file: &'a [u8]) -> Dwarf<R<'a>> {
        let reader = |id: SectionId| -> Result<R<'a>, Infallible> {
            let (bytes, relocations) = match self.section(id) {
                Some(section) => (
                    match &section.bytes {
                        Bytes::InFile(range) => file.get(range.clone()).unwrap_or(&[]),
                        Bytes::Decompressed(bytes) => &bytes[..],
                    },
                    &section.relocations,
                ),
                None => (&[][..], &self.none),
            };
            Ok(RelocateReader::new(
                EndianSlice::new(bytes, self.endian),
                relocations,
            ))
        };
        match Dwarf::load(reader) {
            Ok(dwarf) => dwarf,
            Err(never) => match never {},
        }
    }
}

/// The bytes a reader reads, borrowed from the section.
pub fn bytes<'a>(reader: &R<'a>) -> &'a [u8] {
    reader.inner().slice()
}
