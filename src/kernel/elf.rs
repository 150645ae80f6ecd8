//! ELF: the file, its symbols, sections, build id and banner.
//!
//! A linked vmlinux (`ET_EXEC`) carries final values everywhere: the Debian
//! vmlinux was linked with `--emit-relocs`, and its `.rela.*` sections must
//! not be applied again. A module or object file (`ET_REL`) has unrelocated
//! sections; each allocated section gets a base address here, laid out one
//! after the other as the module loader would, and its debug sections are
//! relocated against those bases.

use super::error::KernelError;
use memmap2::Mmap;
use object::{
    Architecture, Endianness, Object, ObjectSection, ObjectSymbol, RelocationFlags,
    RelocationTarget, SectionKind, SymbolKind, SymbolSection,
};
use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// An ELF file mapped into memory.
pub struct ElfFile {
    pub path: PathBuf,
    map: Mmap,
}

impl ElfFile {
    /// Opens and maps `path`, checking that it is a 64-bit ELF file.
    pub fn open(path: &Path) -> Result<ElfFile, KernelError> {
        let (file, meta) = crate::read::open_regular(path).map_err(|e| match e {
            crate::read::ReadError::Directory => {
                KernelError::new(path, "it is a directory, not an ELF file")
            }
            e => KernelError::new(path, format!("cannot open it: {e}")),
        })?;
        if meta.len() < 64 {
            return Err(KernelError::new(
                path,
                format!("it is too short to be an ELF file ({} bytes)", meta.len()),
            ));
        }
        // SAFETY: the map is read-only; kgpc reads kernel images that nobody
        // rewrites while it runs. A file truncated under the map would fault,
        // which is why every length read from the file is checked against the
        // map's length before use.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| map_failed(path, &e))?;
        check_ident(path, &map)?;
        Ok(ElfFile {
            path: path.to_path_buf(),
            map,
        })
    }

    /// Reads an ELF file held in memory, named `path` in errors, with the
    /// checks `open` makes. The fuzz targets read mutated objects this way.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<ElfFile, KernelError> {
        if bytes.len() < 64 {
            return Err(KernelError::new(
                path,
                format!("it is too short to be an ELF file ({} bytes)", bytes.len()),
            ));
        }
        let mut map = memmap2::MmapMut::map_anon(bytes.len()).map_err(|e| map_failed(path, &e))?;
        map.copy_from_slice(bytes);
        let map = map.make_read_only().map_err(|e| map_failed(path, &e))?;
        check_ident(path, &map)?;
        Ok(ElfFile {
            path: path.to_path_buf(),
            map,
        })
    }

    pub fn data(&self) -> &[u8] {
        &self.map
    }

    pub fn parse(&self) -> Result<object::File<'_>, KernelError> {
        object::File::parse(self.data()).map_err(|e| {
            KernelError::new(
                &self.path,
                format!("its ELF headers are corrupted or truncated ({e})"),
            )
        })
    }
}

/// The error of a map that could not be made.
fn map_failed(path: &Path, e: &std::io::Error) -> KernelError {
    KernelError::new(
        path,
        format!("cannot map it: {}", crate::read::describe_io(e)),
    )
}

/// Refuses what is not a 64-bit ELF file; `bytes` holds at least 64 bytes.
fn check_ident(path: &Path, bytes: &[u8]) -> Result<(), KernelError> {
    if &bytes[..4] != b"\x7fELF" {
        return Err(KernelError::new(path, "it is not an ELF file"));
    }
    if bytes[4] != 2 {
        return Err(KernelError::new(
            path,
            "it is a 32-bit ELF file; kgpc reads 64-bit kernels only",
        ));
    }
    Ok(())
}

/// kgpc's name of an ELF file's architecture, as the spec's `arch` spells it.
pub fn arch_name(file: &object::File<'_>) -> String {
    match (file.architecture(), file.endianness()) {
        (Architecture::X86_64, _) => "x86_64".into(),
        (Architecture::Aarch64, _) => "arm64".into(),
        (Architecture::PowerPc64, Endianness::Little) => "ppc64le".into(),
        (Architecture::PowerPc64, Endianness::Big) => "ppc64".into(),
        (Architecture::S390x, _) => "s390x".into(),
        (Architecture::LoongArch64, _) => "loongarch64".into(),
        (other, _) => format!("{other:?}").to_lowercase(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymKind {
    Func,
    Object,
    Other,
}

/// A named symbol of the symbol table, in symbol-table order.
#[derive(Clone, Debug)]
pub struct RawSymbol<'a> {
    pub name: &'a str,
    pub addr: u64,
    pub size: u64,
    pub kind: SymKind,
    pub local: bool,
    pub weak: bool,
    /// Index into [`ElfFacts::sections`].
    pub section: Option<usize>,
    /// The `STT_FILE` symbol before it, for local symbols.
    pub file: Option<&'a str>,
}

#[derive(Clone, Debug)]
pub struct SectionInfo {
    pub name: String,
    /// The address: `sh_addr` in a linked file, the assigned base in an object file.
    pub addr: u64,
    pub size: u64,
    pub exec: bool,
}

/// What the symbol table and headers say.
pub struct ElfFacts<'a> {
    pub relocatable: bool,
    pub arch: String,
    pub build_id: Option<String>,
    pub symbols: Vec<RawSymbol<'a>>,
    pub sections: Vec<SectionInfo>,
    /// Section bases by ELF section index (object files).
    bases: Vec<u64>,
}

impl<'a> ElfFacts<'a> {
    pub fn read(_elf: &'a ElfFile, file: &object::File<'a>) -> Result<ElfFacts<'a>, KernelError> {
        let relocatable = file.kind() == object::ObjectKind::Relocatable;
        let build_id = file.build_id().ok().flatten().map(crate::digest::hex);
        let mut sections = Vec::new();
        let mut bases = Vec::new();
        let mut next = 0x1000u64;
        for section in file.sections() {
            let index = section.index().0;
            if bases.len() <= index {
                bases.resize(index + 1, 0);
            }
            let exec = section.kind() == SectionKind::Text;
            let alloc = match section.flags() {
                object::SectionFlags::Elf { sh_flags } => {
                    sh_flags & u64::from(object::elf::SHF_ALLOC) != 0
                }
                _ => false,
            };
            let addr = if relocatable {
                if alloc {
                    let align = section.align().max(1);
                    next = next.div_ceil(align).saturating_mul(align);
                    let base = next;
                    next = next.saturating_add(section.size());
                    base
                } else {
                    0
                }
            } else {
                section.address()
            };
            bases[index] = addr;
            sections.push(SectionInfo {
                name: section.name().unwrap_or("").to_string(),
                addr,
                size: section.size(),
                exec,
            });
        }
        // Positions of sections by ELF index, computed once.
        let mut pos_by_index = vec![None; bases.len()];
        for (pos, s) in file.sections().enumerate() {
            if let Some(slot) = pos_by_index.get_mut(s.index().0) {
                *slot = Some(pos);
            }
        }
        let mut symbols = Vec::new();
        let mut current_file: Option<&'a str> = None;
        for sym in file.symbols() {
            let Ok(name) = sym.name() else { continue };
            match sym.kind() {
                SymbolKind::File => {
                    current_file = Some(name).filter(|n| !n.is_empty());
                    continue;
                }
                SymbolKind::Section => continue,
                _ => {}
            }
            if name.is_empty() {
                continue;
            }
            let (section, base) = match sym.section() {
                SymbolSection::Section(index) => (
                    pos_by_index.get(index.0).copied().flatten(),
                    if relocatable {
                        bases.get(index.0).copied().unwrap_or(0)
                    } else {
                        0
                    },
                ),
                SymbolSection::Absolute => (None, 0),
                _ => continue,
            };
            let kind = match sym.kind() {
                SymbolKind::Text => SymKind::Func,
                SymbolKind::Data | SymbolKind::Tls => SymKind::Object,
                _ => SymKind::Other,
            };
            symbols.push(RawSymbol {
                name,
                addr: base.wrapping_add(sym.address()),
                size: sym.size(),
                kind,
                local: sym.is_local(),
                weak: sym.is_weak(),
                section,
                file: if sym.is_local() { current_file } else { None },
            });
        }
        Ok(ElfFacts {
            relocatable,
            arch: arch_name(file),
            build_id,
            symbols,
            sections,
            bases,
        })
    }

    pub fn symbol(&self, name: &str) -> Option<&RawSymbol<'a>> {
        self.symbols.iter().find(|s| s.name == name)
    }

    pub fn section_named(&self, name: &str) -> Option<&SectionInfo> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The bytes at `addr..addr + len` of allocated section data, if the file holds them.
    pub fn bytes_at<'f>(&self, file: &object::File<'f>, addr: u64, len: u64) -> Option<&'f [u8]> {
        for (pos, section) in file.sections().enumerate() {
            let info = self.sections.get(pos)?;
            if info.size > 0 && addr >= info.addr && addr - info.addr < info.size {
                let data = section.data().ok()?;
                let start = usize::try_from(addr - info.addr).ok()?;
                let end = start.checked_add(usize::try_from(len).ok()?)?;
                return data.get(start..end.min(data.len()));
            }
        }
        None
    }

    /// The address a relocation target resolves to in this file's layout.
    fn target_address(&self, file: &object::File<'a>, target: RelocationTarget) -> Option<u64> {
        match target {
            RelocationTarget::Symbol(index) => {
                let sym = file.symbol_by_index(index).ok()?;
                let base = match sym.section() {
                    SymbolSection::Section(s) => self.bases.get(s.0).copied().unwrap_or(0),
                    _ => 0,
                };
                Some(base.wrapping_add(sym.address()))
            }
            RelocationTarget::Section(s) => self.bases.get(s.0).copied(),
            RelocationTarget::Absolute => Some(0),
            _ => None,
        }
    }

    /// The contents of a section, relocated if this is an object file.
    /// Linked files are returned as they are: their values are final.
    pub fn section_data(&self, file: &object::File<'a>, name: &str) -> Option<Cow<'a, [u8]>> {
        let section = file.section_by_name(name)?;
        let data = section.data().ok()?;
        if !self.relocatable {
            return Some(Cow::Borrowed(data));
        }
        let mut owned: Option<Vec<u8>> = None;
        for (offset, reloc) in section.relocations() {
            let Some(s) = self.target_address(file, reloc.target()) else {
                continue;
            };
            let value = s.wrapping_add(reloc.addend() as u64);
            let size = match reloc.flags() {
                RelocationFlags::Elf { r_type } => match r_type {
                    object::elf::R_X86_64_64 | object::elf::R_AARCH64_ABS64 => 8,
                    object::elf::R_X86_64_32 | object::elf::R_X86_64_32S => 4,
                    _ => usize::from(reloc.size() / 8),
                },
                _ => usize::from(reloc.size() / 8),
            };
            let buf = owned.get_or_insert_with(|| data.to_vec());
            let Ok(start) = usize::try_from(offset) else {
                continue;
            };
            match size {
                8 => {
                    if let Some(slot) = buf.get_mut(start..start + 8) {
                        slot.copy_from_slice(&value.to_le_bytes());
                    }
                }
                4 => {
                    if let Some(slot) = buf.get_mut(start..start + 4) {
                        slot.copy_from_slice(&(value as u32).to_le_bytes());
                    }
                }
                _ => {}
            }
        }
        Some(owned.map_or(Cow::Borrowed(data), Cow::Owned))
    }

    /// The values a table section of 64-bit addresses holds: relocation
    /// targets in an object file, the data itself in a linked file.
    pub fn address_table(&self, file: &object::File<'a>, name: &str) -> Option<Vec<u64>> {
        let section = file.section_by_name(name)?;
        if self.relocatable {
            let mut out: Vec<u64> = section
                .relocations()
                .filter_map(|(_, r)| {
                    self.target_address(file, r.target())
                        .map(|s| s.wrapping_add(r.addend() as u64))
                })
                .collect();
            out.sort_unstable();
            return Some(out);
        }
        let data = section.data().ok()?;
        Some(le_u64s(data))
    }

    /// The banner string at `linux_banner`, such as `Linux version 6.1.0-57-cloud-amd64 (...)`.
    pub fn banner(&self, file: &object::File<'a>) -> Option<String> {
        let sym = self.symbol("linux_banner")?;
        let len = if sym.size > 0 { sym.size } else { 512 };
        let bytes = self.bytes_at(file, sym.addr, len.min(4096))?;
        let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
        Some(
            String::from_utf8_lossy(&bytes[..end])
                .trim_end()
                .to_string(),
        )
    }
}

pub fn le_u64s(data: &[u8]) -> Vec<u64> {
    data.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect()
}

/// The release a kernel file's `linux_banner` names, read without indexing the file.
pub fn release_of_file(path: &Path) -> Option<String> {
    let elf = ElfFile::open(path).ok()?;
    let file = elf.parse().ok()?;
    let facts = ElfFacts::read(&elf, &file).ok()?;
    release_of_banner(&facts.banner(&file)?)
}

/// The release in a banner: the word after `Linux version`.
pub fn release_of_banner(banner: &str) -> Option<String> {
    banner
        .strip_prefix("Linux version ")?
        .split_whitespace()
        .next()
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_release() {
        assert_eq!(
            release_of_banner(
                "Linux version 6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) (gcc-12)"
            )
            .as_deref(),
            Some("6.1.0-57-cloud-amd64")
        );
        assert_eq!(release_of_banner("something else"), None);
    }
}
