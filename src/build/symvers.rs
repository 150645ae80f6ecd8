//! Which object exports a symbol: the `Module.symvers` files modpost resolves against.
//!
//! Each line is `CRC<TAB>SYMBOL<TAB>MODULE<TAB>EXPORT_TYPE<TAB>NAMESPACE`, where MODULE is
//! `vmlinux` or a module's path without `.ko` (`fs/binfmt_misc`, or an absolute path for
//! a module built out of tree). The build tree's file lists vmlinux and its in-tree
//! modules; out-of-tree modules have their own, given to kbuild as `KBUILD_EXTRA_SYMBOLS`.

use crate::kernel::module_name::kernel_module_name;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The exported symbols of vmlinux and of modules, by symbol name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exports {
    owners: HashMap<String, String>,
}

impl Exports {
    /// Reads the build tree's `Module.symvers` and the extra files; a missing or unreadable
    /// file contributes nothing (modpost has reported it already).
    pub fn read(kdir: &Path, extra: &[PathBuf]) -> Exports {
        let mut exports = Exports::default();
        let files = std::iter::once(kdir.join("Module.symvers")).chain(extra.iter().cloned());
        for file in files {
            if let Ok(text) = crate::read::read_data_text(&file) {
                exports.add(&text);
            }
        }
        exports
    }

    /// Adds the lines of one `Module.symvers`; a later file wins, as in modpost.
    pub fn add(&mut self, text: &str) {
        for line in text.lines() {
            let mut fields = line.split('\t');
            let (Some(_crc), Some(symbol), Some(module)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            if symbol.is_empty() || module.is_empty() {
                continue;
            }
            self.owners
                .insert(symbol.to_string(), module_name(module).to_string());
        }
    }

    /// The object that exports `symbol`: `vmlinux` or a module's name with underscores.
    pub fn owner(&self, symbol: &str) -> Option<&str> {
        self.owners.get(symbol).map(String::as_str)
    }
}

/// A module's name in the kernel from its path in `Module.symvers`: the file name,
/// with `-` written `_`.
pub fn module_name(path: &str) -> String {
    kernel_module_name(path.rsplit('/').next().unwrap_or(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_come_from_the_module_column() {
        let mut exports = Exports::default();
        exports.add(
            "0x4c9d28b0\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n\
             0x7c7bf6e0\ttwofish_enc_blk\tarch/x86/crypto/twofish-x86_64\tEXPORT_SYMBOL_GPL\t\n\
             garbage\n\
             0x1\tkgpc_answer\t/tmp/x/livepatch-export-mod\tEXPORT_SYMBOL\tNS\n",
        );
        assert_eq!(exports.owner("phys_base"), Some("vmlinux"));
        assert_eq!(exports.owner("twofish_enc_blk"), Some("twofish_x86_64"));
        assert_eq!(exports.owner("kgpc_answer"), Some("livepatch_export_mod"));
        assert_eq!(exports.owner("garbage"), None);
    }
}
