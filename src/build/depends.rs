//! What a built module says about the modules it needs, rewritten for a livepatch.
//!
//! modpost records every module whose exports a module uses twice: in `.modinfo`
//! (`depends=a,b`, read by modprobe and `modinfo -F depends`) and with CRCs in
//! `__versions` (with CONFIG_MODVERSIONS). A livepatch must load while the module
//! it patches is absent, so once its references to that module have become
//! livepatch relocations, neither may name the module or its symbols any more.

use crate::kernel::module_name::kernel_module_name;
use std::collections::BTreeSet;

/// The size of one `struct modversion_info`: an `unsigned long` CRC and a
/// `MODULE_NAME_LEN` (64 - 8 bytes) name.
const MODVERSION_INFO: usize = 64;
const CRC: usize = 8;

/// Removes `objects` from the `depends=` entry of `.modinfo` data; module names with
/// `-` and `_` match. The section keeps its size: the entry is shortened and NUL bytes
/// follow it, which the kernel and kmod skip between entries. Returns the new data
/// and the names removed.
pub fn drop_depends(modinfo: &[u8], objects: &BTreeSet<String>) -> (Vec<u8>, Vec<String>) {
    let mut out = modinfo.to_vec();
    let mut removed = Vec::new();
    let mut start = 0;
    while start < modinfo.len() {
        let end = modinfo[start..]
            .iter()
            .position(|&b| b == 0)
            .map_or(modinfo.len(), |n| start + n);
        if let Some(list) = modinfo[start..end].strip_prefix(b"depends=") {
            let list = String::from_utf8_lossy(list);
            let (gone, kept): (Vec<&str>, Vec<&str>) = list
                .split(',')
                .filter(|m| !m.is_empty())
                .partition(|m| objects.contains(&kernel_module_name(m)));
            if !gone.is_empty() {
                let entry = format!("depends={}", kept.join(","));
                out[start..end].fill(0);
                out[start..start + entry.len()].copy_from_slice(entry.as_bytes());
                removed.extend(gone.iter().map(|m| m.to_string()));
            }
        }
        start = end + 1;
    }
    (out, removed)
}

/// Removes the `__versions` entries of `symbols`; returns the new data and how
/// many entries went. Data that is not a whole number of entries is left alone.
pub fn drop_versions(versions: &[u8], symbols: &BTreeSet<String>) -> (Vec<u8>, usize) {
    if !versions.len().is_multiple_of(MODVERSION_INFO) {
        return (versions.to_vec(), 0);
    }
    let mut out = Vec::with_capacity(versions.len());
    let mut dropped = 0;
    for entry in versions.chunks(MODVERSION_INFO) {
        let name = &entry[CRC..];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        if symbols.contains(String::from_utf8_lossy(name).as_ref()) {
            dropped += 1;
        } else {
            out.extend_from_slice(entry);
        }
    }
    (out, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn depends_loses_the_patched_modules_only() {
        let data = b"license=GPL\0depends=livepatch-export-mod,crc32c_generic\0name=x\0";
        let (out, removed) = drop_depends(data, &set(&["livepatch_export_mod"]));
        assert_eq!(out.len(), data.len());
        assert_eq!(removed, vec!["livepatch-export-mod"]);
        let entries: Vec<&[u8]> = out.split(|&b| b == 0).filter(|e| !e.is_empty()).collect();
        assert_eq!(
            entries,
            vec![&b"license=GPL"[..], b"depends=crc32c_generic", b"name=x"]
        );
        let (same, removed) = drop_depends(data, &set(&["binfmt_misc"]));
        assert_eq!(same, data);
        assert!(removed.is_empty());
        let (out, _) = drop_depends(b"depends=binfmt_misc\0", &set(&["binfmt_misc"]));
        assert_eq!(&out[..9], b"depends=\0");
    }

    #[test]
    fn versions_lose_the_converted_symbols() {
        let mut data = Vec::new();
        for name in ["module_layout", "kgpc_answer", "printk"] {
            let mut entry = vec![0u8; MODVERSION_INFO];
            entry[..CRC].copy_from_slice(&0x1234u64.to_le_bytes());
            entry[CRC..CRC + name.len()].copy_from_slice(name.as_bytes());
            data.extend(entry);
        }
        let (out, dropped) = drop_versions(&data, &set(&["kgpc_answer"]));
        assert_eq!(dropped, 1);
        assert_eq!(out.len(), 2 * MODVERSION_INFO);
        assert_eq!(
            &out[MODVERSION_INFO + CRC..MODVERSION_INFO + CRC + 6],
            b"printk"
        );
        assert_eq!(drop_versions(&data[1..], &set(&["printk"])).1, 0);
    }
}
