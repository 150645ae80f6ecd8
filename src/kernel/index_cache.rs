//! The on-disk index cache: one file per kernel object, named by its build
//! id and size (a debug vmlinux and the stripped one share a build id) and by
//! the index format's magic (so kgpc versions sharing a cache keep their own
//! files), kept in `<kgpc cache>/index/`. Files are written atomically and checked when
//! mapped, against the checksum the index carries over its contents
//! ([`Index::new`]); a damaged or stale file is simply rebuilt.

use super::elf::ElfFile;
use super::index::{Index, MAGIC};
use memmap2::Mmap;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The cache file for `elf`.
pub fn path_for(dir: &Path, elf: &ElfFile, build_id: Option<&str>) -> PathBuf {
    let size = elf.data().len();
    let key = match build_id {
        Some(id) => key_of(id, size as u64),
        None => {
            // No build id: key on the file's identity and contents' edges.
            let mut h = Sha256::new();
            h.update(elf.path.display().to_string().as_bytes());
            h.update(size.to_le_bytes());
            if let Ok(m) = std::fs::metadata(&elf.path).and_then(|m| m.modified()) {
                h.update(format!("{m:?}").as_bytes());
            }
            let data = elf.data();
            h.update(&data[..data.len().min(4096)]);
            let digest = h.finalize();
            let hex = crate::digest::hex(&digest[..16]);
            format!("nobuildid-{hex}")
        }
    };
    path_for_key(dir, &key)
}

/// The key of an object with a build id: `BUILD-ID-SIZE`, what the mark of a
/// release whose debug vmlinux was dropped records.
pub fn key_of(build_id: &str, size: u64) -> String {
    format!("{build_id}-{size}")
}

/// The cache file of the object whose key is `key`.
pub fn path_for_key(dir: &Path, key: &str) -> PathBuf {
    let format = String::from_utf8_lossy(MAGIC).to_ascii_lowercase();
    dir.join("index").join(format!("{key}.{format}.kgpi"))
}

/// Maps a cached index, if there is a valid one. Anything but a regular file
/// there is no index: the rebuilt one replaces it by rename.
pub fn load(path: &Path) -> Option<Index<Mmap>> {
    let (file, _) = crate::read::open_regular(path).ok()?;
    // SAFETY: cache files are written once, by rename, and never changed in
    // place; `Index::new` checks the checksum and every length before use.
    let map = unsafe { Mmap::map(&file) }.ok()?;
    Index::new(map)
}

/// Writes an index atomically; failures only cost the next run a rebuild.
pub fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    crate::atomic_write::write_atomically(path, bytes)
}
