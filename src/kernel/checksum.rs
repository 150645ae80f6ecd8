//! The checksum of an index file: a fast 64-bit sum that finds damage.
//!
//! The index is checked on every run that maps it, so its checksum must be
//! far cheaper than the 20-30 ms such a run takes: SHA-256 of Debian's
//! 10 MB vmlinux index costs about 10 ms here, this sum about 1 ms. It
//! guards against damage (a flipped bit, a torn or truncated write), not
//! against someone who can write the cache, who could write any facts.
//!
//! Four lanes each take every fourth 64-bit word: `h = rotl((h ^ w) * K, 31)`.
//! Each step is a bijection of `h` for a given word and of the word for a
//! given `h`, so a change in any one word always changes its lane's result
//! and the sum; the rotation spreads every bit, so that wider damage goes
//! unnoticed only by chance (about 2^-64). The lanes are mixed with the
//! length at the end.

/// An odd multiplier with well-spread bits.
const K: u64 = 0x9E37_79B9_7F4A_7C15;
/// The lanes' different starting values.
const SEEDS: [u64; 4] = [
    0x243F_6A88_85A3_08D3,
    0x1319_8A2E_0370_7344,
    0xA409_3822_299F_31D0,
    0x082E_FA98_EC4E_6C89,
];

/// The checksum of `bytes`.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut lanes = SEEDS;
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            *lane = step(*lane, word);
        }
    }
    let mut tail = [0u8; 32];
    let rest = blocks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    for (lane, word) in lanes.iter_mut().zip(tail.chunks_exact(8)) {
        *lane = step(*lane, word);
    }
    let mut sum = (bytes.len() as u64).wrapping_mul(K);
    for (i, lane) in lanes.iter().enumerate() {
        sum ^= finish(*lane).rotate_left(16 * i as u32);
        sum = finish(sum);
    }
    sum
}

fn step(lane: u64, word: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(word);
    (lane ^ u64::from_le_bytes(w))
        .wrapping_mul(K)
        .rotate_left(31)
}

/// A bijective mix of all 64 bits into all 64 bits.
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::checksum;

    #[test]
    fn every_single_flip_and_truncation_changes_the_sum() {
        let bytes: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
        let clean = checksum(&bytes);
        for at in 0..bytes.len() {
            for bit in 0..8 {
                let mut damaged = bytes.clone();
                damaged[at] ^= 1 << bit;
                assert_ne!(checksum(&damaged), clean, "bit {bit} of byte {at}");
            }
            assert_ne!(checksum(&bytes[..at]), clean, "cut at {at}");
        }
        // Trailing zeros are not a truncation that goes unnoticed.
        let mut longer = bytes.clone();
        longer.push(0);
        assert_ne!(checksum(&longer), clean);
    }

    #[test]
    fn two_flips_of_one_bit_in_one_lane_do_not_cancel() {
        let bytes = vec![0u8; 256];
        let clean = checksum(&bytes);
        for second in (32..256).step_by(32) {
            let mut damaged = bytes.clone();
            damaged[7] ^= 0x80;
            damaged[second + 7] ^= 0x80;
            assert_ne!(checksum(&damaged), clean, "words 0 and {}", second / 8);
        }
    }
}
