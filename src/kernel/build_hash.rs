//! The hash of the maps an index build fills, keyed by names and addresses:
//! a word at a time, far cheaper than the standard library's SipHash on the
//! hundreds of thousands of names and addresses of a vmlinux. It does not
//! resist inputs chosen to collide; a crafted object can only slow down its
//! own index build.

use std::hash::{BuildHasherDefault, Hasher};

/// 2^64 divided by the golden ratio, an odd constant that spreads bits.
const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

/// The hasher of [`BuildMap`].
#[derive(Default)]
pub struct WordHasher(u64);

impl WordHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(SPREAD).rotate_left(29);
    }
}

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.add(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map of the index build, hashed with [`WordHasher`].
pub type BuildMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<WordHasher>>;

/// A set of the index build, hashed with [`WordHasher`].
pub type BuildSet<K> = std::collections::HashSet<K, BuildHasherDefault<WordHasher>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn names_that_differ_hash_apart() {
        let hasher = BuildHasherDefault::<WordHasher>::default();
        let names: [&[u8]; 5] = [
            b"",
            b"a",
            b"a\0",
            b"cmdline_proc_show",
            b"cmdline_proc_shox",
        ];
        let hashes: Vec<u64> = names.iter().map(|n| hasher.hash_one(n)).collect();
        for (i, a) in hashes.iter().enumerate() {
            for b in &hashes[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(hasher.hash_one(b"name"), hasher.hash_one(b"name"));
    }
}
