//! The fixed hash functions under every fingerprint, frozen across versions and platforms
//! like xxh3: the stages above ([`crate::tokenize`], [`crate::features`],
//! [`crate::signature`]) build their hashes from these.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// MurmurHash3's 64-bit finaliser: a fixed bijective mixer.
#[inline]
pub fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The key under which a term's document frequency is counted: xxh3 of its stem.
pub fn term_key(stem: &str) -> u64 {
    xxh3_64_with_seed(stem.as_bytes(), 0x7e57_ab1e)
}

/// Hash of a sequence of term keys, seeded per family: [`mix`] chained over the keys in
/// order, from the mixed seed. The keys are xxh3 hashes of the stems already, so one
/// multiply-xorshift round per key is all a shingle costs; [`mix`] is a fixed function,
/// frozen like xxh3.
pub(crate) fn hash_keys(keys: impl IntoIterator<Item = u64>, seed: u64) -> u64 {
    keys.into_iter().fold(mix(seed), |h, key| mix(h ^ key))
}
