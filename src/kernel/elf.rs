//! ELF: the file, its symbols, sections, build id and banner.
//!
//! A linked vmlinux (`ET_EXEC`) carries final values everywhere: the Debian
//! vmlinux was linked with `--emit-relocs`, and its `.rela.*` sections must
//! not be applied again. A module or object file (`ET_REL`) has unrelocated
//! sections; each allocated section gets a base address here ([`Layout`]),
//! laid out one after the other as the module loader would, and its debug
//! sections are relocated against those bases ([`super::relocate`]).

use super::error::KernelError;
use super::relocate::Relocations;
use memmap2::Mmap;
use object::{
    Architecture, Endianness, Object, ObjectSection, ObjectSymbol, RelocationTarget, SectionIndex,
    SectionKind, SymbolKind, SymbolSection,
};
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
    /// Index into [`Layout::sections`].
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

/// Where the sections are: the final addresses of a linked file, or the
/// bases kgpc gives an object file's allocated sections, laid out one after
/// the other as the module loader would.
pub struct Layout {
    pub relocatable: bool,
    /// Every section, in section-table order.
    pub sections: Vec<SectionInfo>,
    /// Section bases by ELF section index (object files).
    bases: Vec<u64>,
    /// Positions in `sections` by ELF section index.
    positions: Vec<Option<usize>>,
}

impl Layout {
    pub fn read(file: &object::File<'_>) -> Layout {
        let relocatable = file.kind() == object::ObjectKind::Relocatable;
        let mut layout = Layout {
            relocatable,
            sections: Vec::new(),
            bases: Vec::new(),
            positions: Vec::new(),
        };
        let mut next = 0x1000u64;
        for (pos, section) in file.sections().enumerate() {
            let index = section.index().0;
            if layout.bases.len() <= index {
                layout.bases.resize(index + 1, 0);
                layout.positions.resize(index + 1, None);
            }
            let alloc = match section.flags() {
                object::SectionFlags::Elf { sh_flags } => {
                    sh_flags & u64::from(object::elf::SHF_ALLOC) != 0
                }
                _ => false,
            };
            let addr = match (relocatable, alloc) {
                (false, _) => section.address(),
                (true, false) => 0,
                (true, true) => {
                    let align = section.align().max(1);
                    next = next.div_ceil(align).saturating_mul(align);
                    let base = next;
                    next = next.saturating_add(section.size());
                    base
                }
            };
            layout.bases[index] = addr;
            layout.positions[index] = Some(pos);
            layout.sections.push(SectionInfo {
                name: section.name().unwrap_or("").to_string(),
                addr,
                size: section.size(),
                exec: section.kind() == SectionKind::Text,
            });
        }
        layout
    }

    /// The base added to values in section `index`: 0 in a linked file.
    fn base(&self, index: SectionIndex) -> u64 {
        if self.relocatable {
            self.bases.get(index.0).copied().unwrap_or(0)
        } else {
            0
        }
    }

    /// The base of the section a relocation's target is in.
    pub fn target_base(&self, file: &object::File<'_>, target: RelocationTarget) -> u64 {
        match target {
            RelocationTarget::Symbol(index) => match file.symbol_by_index(index) {
                Ok(sym) => self.symbol_base(&sym),
                Err(_) => 0,
            },
            RelocationTarget::Section(index) => self.base(index),
            _ => 0,
        }
    }

    fn symbol_base(&self, sym: &object::Symbol<'_, '_>) -> u64 {
        match sym.section() {
            SymbolSection::Section(index) => self.base(index),
            _ => 0,
        }
    }

    /// The address of a symbol in this layout.
    fn symbol_address(&self, sym: &object::Symbol<'_, '_>) -> u64 {
        self.symbol_base(sym).wrapping_add(sym.address())
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

    /// The values a table section of 64-bit addresses holds: relocation
    /// targets in an object file, the data itself in a linked file.
    pub fn address_table(&self, file: &object::File<'_>, name: &str) -> Option<Vec<u64>> {
        let section = file.section_by_name(name)?;
        if self.relocatable {
            let data = section.data().unwrap_or(&[]);
            let mut out = Relocations::of(self, file, &section).table(data, file.endianness());
            out.sort_unstable();
            return Some(out);
        }
        let data = section.data().ok()?;
        Some(le_u64s(data))
    }

    /// The banner string at `linux_banner`, such as `Linux version 6.1.0-57-cloud-amd64 (...)`.
    fn banner_at(&self, file: &object::File<'_>, addr: u64, size: u64) -> Option<String> {
        let len = if size > 0 { size } else { 512 };
        let bytes = self.bytes_at(file, addr, len.min(4096))?;
        let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
        Some(
            String::from_utf8_lossy(&bytes[..end])
                .trim_end()
                .to_string(),
        )
    }
}

/// The GNU build id of an ELF file, in hex.
pub fn build_id(file: &object::File<'_>) -> Option<String> {
    crate::build_id::of_object(file)
}

/// What the symbol table and headers say.
pub struct ElfFacts<'a> {
    pub layout: Layout,
    pub arch: String,
    pub build_id: Option<String>,
    pub symbols: Vec<RawSymbol<'a>>,
}

impl<'a> ElfFacts<'a> {
    pub fn read(_elf: &'a ElfFile, file: &object::File<'a>) -> Result<ElfFacts<'a>, KernelError> {
        let layout = Layout::read(file);
        let symbols = raw_symbols(&layout, file);
        Ok(ElfFacts {
            arch: arch_name(file),
            build_id: build_id(file),
            symbols,
            layout,
        })
    }

    pub fn symbol(&self, name: &str) -> Option<&RawSymbol<'a>> {
        self.symbols.iter().find(|s| s.name == name)
    }

    pub fn section_named(&self, name: &str) -> Option<&SectionInfo> {
        self.layout.sections.iter().find(|s| s.name == name)
    }

    /// The banner string at `linux_banner`, such as `Linux version 6.1.0-57-cloud-amd64 (...)`.
    pub fn banner(&self, file: &object::File<'a>) -> Option<String> {
        let sym = self.symbol("linux_banner")?;
        self.layout.banner_at(file, sym.addr, sym.size)
    }
}

/// Every named symbol of the symbol table but file and section symbols, in
/// symbol-table order, each local one with the `STT_FILE` name before it.
fn raw_symbols<'a>(layout: &Layout, file: &object::File<'a>) -> Vec<RawSymbol<'a>> {
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
        let section = match sym.section() {
            SymbolSection::Section(index) => layout.positions.get(index.0).copied().flatten(),
            SymbolSection::Absolute => None,
            _ => continue,
        };
        let kind = match sym.kind() {
            SymbolKind::Text => SymKind::Func,
            SymbolKind::Data | SymbolKind::Tls => SymKind::Object,
            _ => SymKind::Other,
        };
        symbols.push(RawSymbol {
            name,
            addr: layout.symbol_address(&sym),
            size: sym.size(),
            kind,
            local: sym.is_local(),
            weak: sym.is_weak(),
            section,
            file: if sym.is_local() { current_file } else { None },
        });
    }
    symbols
}

pub fn le_u64s(data: &[u8]) -> Vec<u64> {
    data.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect()
}

/// The release a kernel file's `linux_banner` names, read without indexing
/// the file or reading its whole symbol table into memory.
pub fn release_of_file(path: &Path) -> Option<String> {
    let elf = ElfFile::open(path).ok()?;
    let file = elf.parse().ok()?;
    let layout = Layout::read(&file);
    let sym = file.symbol_by_name("linux_banner")?;
    let banner = layout.banner_at(&file, layout.symbol_address(&sym), sym.size())?;
    release_of_banner(&banner)
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
