//! The relocations of one section of an object file (`ET_REL`), applied in
//! kgpc's layout of the object.
//!
//! object's `RelocationMap` reads each relocation (its type, size, encoding
//! and addend, for every architecture and byte order object knows) and gives
//! the value it stands for as the file states it: a symbol's value or a
//! section's address, which in an object file are offsets in sections not yet
//! placed. kgpc places the allocated sections one after the other
//! ([`super::elf::Layout`]), so the base of the target's section is added.
//! gimli's `RelocateReader` applies them as it reads addresses and offsets.
//! A linked vmlinux's `.rela.*` are never applied: its values are final.

use super::elf::Layout;
use object::read::RelocationMap;
use object::{Endianness, ObjectSection};

/// The relocations of one section; empty for a linked file.
#[derive(Debug, Default)]
pub struct Relocations {
    map: RelocationMap,
    /// Each relocated offset and the base of its target's section, by offset.
    targets: Vec<(u64, u64)>,
}

impl Relocations {
    /// The relocations of `section` in `file`, laid out as `layout` says.
    /// A relocation object cannot apply (a type it does not know, or a second
    /// one at the same offset) is left out, and the bytes there are read as
    /// they are.
    pub fn of(
        layout: &Layout,
        file: &object::File<'_>,
        section: &object::Section<'_, '_>,
    ) -> Relocations {
        let mut out = Relocations::default();
        if !layout.relocatable {
            return out;
        }
        for (offset, relocation) in section.relocations() {
            let base = layout.target_base(file, relocation.target());
            if out.map.add(file, offset, relocation).is_ok() {
                out.targets.push((offset, base));
            }
        }
        out.targets.sort_unstable();
        out
    }

    /// The value read as `value` at `offset` of the section, relocated.
    pub fn apply(&self, offset: u64, value: u64) -> u64 {
        match self.targets.binary_search_by_key(&offset, |(at, _)| *at) {
            Ok(i) => self
                .map
                .relocate(offset, value)
                .wrapping_add(self.targets[i].1),
            Err(_) => value,
        }
    }

    /// The relocated 64-bit value at every relocated offset of `data`, in
    /// offset order: the entries of a table of addresses.
    pub fn table(&self, data: &[u8], endian: Endianness) -> Vec<u64> {
        self.targets
            .iter()
            .map(|(offset, _)| {
                let stored = usize::try_from(*offset)
                    .ok()
                    .and_then(|at| data.get(at..at.checked_add(8)?))
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map_or(0, |b| match endian {
                        Endianness::Little => u64::from_le_bytes(b),
                        Endianness::Big => u64::from_be_bytes(b),
                    });
                self.apply(*offset, stored)
            })
            .collect()
    }
}

impl gimli::Relocate<usize> for &Relocations {
    fn relocate_address(&self, offset: usize, value: u64) -> gimli::Result<u64> {
        Ok(self.apply(offset as u64, value))
    }

    fn relocate_offset(&self, offset: usize, value: usize) -> gimli::Result<usize> {
        let relocated = self.apply(offset as u64, value as u64);
        <usize as gimli::ReaderOffset>::from_u64(relocated)
    }
}
