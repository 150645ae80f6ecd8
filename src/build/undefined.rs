//! The symbols a built module leaves for the module loader to resolve, read
//! from the module's own symbol table, that no export resolves.
//!
//! modpost's log is no source for this: it stops listing unresolved symbols
//! after ten and says "suppressed N unresolved symbol warnings". The module
//! loader resolves an undefined symbol against the exports of vmlinux and of
//! the loaded modules (a weak one may stay unresolved); the `Module.symvers`
//! files ([`super::symvers`]) list the exports of vmlinux, of the kernel's modules
//! and of the out-of-tree modules the build was given.

use super::symvers::Exports;
use object::read::elf::{ElfFile64, Sym};
use object::{elf, Endianness, Object, ObjectSymbol};
use std::collections::BTreeSet;

/// Symbols the module loader never looks up: `__this_module` is the module
/// itself, and the global offset table belongs to the linker.
const LOADER_INTERNAL: &[&str] = &["__this_module", "_GLOBAL_OFFSET_TABLE_"];

/// The global, non-weak undefined symbols of a module, sorted. Livepatch
/// symbols (`SHN_LIVEPATCH`) are not undefined: the livepatch core resolves them.
pub fn undefined_symbols(data: &[u8]) -> Result<Vec<String>, String> {
    let file = ElfFile64::<Endianness>::parse(data).map_err(|e| e.to_string())?;
    let endian = file.endian();
    let mut names = BTreeSet::new();
    for symbol in file.symbols() {
        let raw = symbol.elf_symbol();
        if raw.st_shndx(endian) != elf::SHN_UNDEF || raw.st_bind() != elf::STB_GLOBAL {
            continue;
        }
        let name = symbol.name().map_err(|e| e.to_string())?;
        if !name.is_empty() && !LOADER_INTERNAL.contains(&name) {
            names.insert(name.to_string());
        }
    }
    Ok(names.into_iter().collect())
}

/// The undefined symbols of a module that no export resolves, sorted.
pub fn unresolved(data: &[u8], exports: &Exports) -> Result<Vec<String>, String> {
    Ok(undefined_symbols(data)?
        .into_iter()
        .filter(|name| exports.owner(name).is_none())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(undefined_symbols(b"not an elf file").is_err());
        assert!(unresolved(&[0x7f, b'E', b'L', b'F', 2, 1, 1], &Exports::default()).is_err());
    }
}
