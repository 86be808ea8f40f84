//! A feature set held for exact measures against many others: a document judged against
//! each of its candidates.

use super::intersection;
use crate::features::Feature;

/// A feature set sorted by hash and its weighted size, measured against other sets. Indexed
/// ([`Held::indexed`]), it keeps the positions of its hashes ([`Positions`]), and an intersection probes
/// it once per feature of the other set: look-ups that do not wait on each other, where a
/// merge waits at each step on the comparison before. The other set is walked in hash
/// order, so its shared weights are summed in the merge's order: the same sum, bit for bit.
pub(crate) struct Held<'a> {
    features: &'a [Feature],
    size: f64,
    table: Option<Positions>,
}

impl<'a> Held<'a> {
    /// `features` (sorted by hash) of weighted size `size`, measured by merging.
    pub(crate) fn merged(features: &'a [Feature], size: f64) -> Held<'a> {
        Held {
            features,
            size,
            table: None,
        }
    }

    /// `features` (sorted by hash, distinct) of weighted size `size`, measured by probing a
    /// table of them: worth building for several intersections.
    pub(crate) fn indexed(features: &'a [Feature], size: f64) -> Held<'a> {
        Held {
            features,
            size,
            table: Some(Positions::new(features)),
        }
    }

    /// The features.
    pub(crate) fn features(&self) -> &'a [Feature] {
        self.features
    }

    /// The weighted size.
    pub(crate) fn size(&self) -> f64 {
        self.size
    }

    /// Σ min of the weights shared with `other` (sorted by hash), as [`intersection`] sums
    /// them.
    pub(crate) fn intersection(&self, other: &[Feature]) -> f64 {
        match &self.table {
            None => intersection(self.features, other),
            Some(table) => {
                let mut min = 0.0;
                table.for_each_shared(other, |at, &(_, weight)| {
                    min += self.features[at].1.min(weight);
                });
                min
            }
        }
    }
}

/// The positions of a feature set's hashes, for look-ups by hash: an open-addressing table,
/// at most half full, probed linearly, behind a filter of one bit per slot of a table eight times larger: most probes are for
/// features the set does not have, and the filter answers most of them in one look, where a
/// probe walks on to a vacant slot.
pub(crate) struct Positions {
    /// Bit `b` is set when a feature's spread hash has `b` in its top bits.
    filter: Vec<u64>,
    /// Bits of the filter's index, from the top of the spread hash.
    filter_shift: u32,
    /// The hash in each slot, [`VACANT`] for none.
    hashes: Vec<u64>,
    /// The position of the feature in each slot.
    positions: Vec<u32>,
    /// Bits of the slot index, taken from the top of the hash's product with
    /// [`SPREAD`].
    shift: u32,
    /// The position of the feature whose hash is [`VACANT`], if the set has it.
    vacant_position: Option<usize>,
}

/// The hash of a slot holding none.
const VACANT: u64 = 0;

/// Fibonacci hashing's multiplier (2⁶⁴ / φ): spreads any hashes over the slots.
const SPREAD: u64 = 0x9E37_79B9_7F4A_7C15;

impl Positions {
    /// The positions of `features` (distinct hashes).
    pub(crate) fn new(features: &[Feature]) -> Positions {
        let slots = (2 * features.len()).next_power_of_two().max(2);
        let filter_bits = (8 * slots).max(64);
        let mut table = Positions {
            filter: vec![0; filter_bits / 64],
            filter_shift: 64 - filter_bits.trailing_zeros(),
            hashes: vec![VACANT; slots],
            positions: vec![0; slots],
            shift: 64 - slots.trailing_zeros(),
            vacant_position: None,
        };
        let mask = slots - 1;
        for (at, &(hash, _)) in features.iter().enumerate() {
            if hash == VACANT {
                table.vacant_position = Some(at);
                continue;
            }
            let bit = table.filter_bit(hash);
            table.filter[bit / 64] |= 1 << (bit % 64);
            let mut slot = table.slot(hash);
            while table.hashes[slot] != VACANT {
                slot = (slot + 1) & mask;
            }
            table.hashes[slot] = hash;
            table.positions[slot] = at as u32;
        }
        table
    }

    /// The home slot of `hash`.
    #[inline]
    fn slot(&self, hash: u64) -> usize {
        (hash.wrapping_mul(SPREAD) >> self.shift) as usize
    }

    /// The filter bit of `hash`.
    #[inline]
    fn filter_bit(&self, hash: u64) -> usize {
        (hash.wrapping_mul(SPREAD) >> self.filter_shift) as usize
    }

    /// Whether the set may have the feature `hash`: its filter bit is set, or it is
    /// [`VACANT`].
    #[inline]
    fn may_have(&self, hash: u64) -> bool {
        let bit = self.filter_bit(hash);
        self.filter[bit / 64] & (1 << (bit % 64)) != 0 || hash == VACANT
    }

    /// Calls `f` with the position in the set of each feature of `other` the set has, and
    /// that feature, in `other`'s order. Block by block: the filter picks out, without a
    /// branch, the few features the set may have, and only those are looked up.
    pub(crate) fn for_each_shared(&self, other: &[Feature], mut f: impl FnMut(usize, &Feature)) {
        const BLOCK: usize = 64;
        let mut passed = [0u8; BLOCK];
        for block in other.chunks(BLOCK) {
            let mut count = 0;
            for (x, &(hash, _)) in block.iter().enumerate() {
                passed[count] = x as u8;
                count += usize::from(self.may_have(hash));
            }
            for &x in &passed[..count] {
                let feature = &block[usize::from(x)];
                if let Some(at) = self.get(feature.0) {
                    f(at, feature);
                }
            }
        }
    }

    /// The position of the feature `hash`, if the set has it.
    #[inline]
    fn get(&self, hash: u64) -> Option<usize> {
        if hash == VACANT {
            return self.vacant_position;
        }
        let mask = self.hashes.len() - 1;
        let mut slot = self.slot(hash);
        loop {
            let here = self.hashes[slot];
            if here == hash {
                return Some(self.positions[slot] as usize);
            }
            if here == VACANT {
                return None;
            }
            slot = (slot + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_finds_its_features_and_no_other() {
        let features: Vec<Feature> = [0, 3, 17, 1 << 40, u64::MAX]
            .into_iter()
            .map(|h| (h, h as f64 + 0.5))
            .collect();
        let table = Positions::new(&features);
        for (at, &(hash, _)) in features.iter().enumerate() {
            assert_eq!(table.get(hash), Some(at));
        }
        for hash in [1, 2, 16, 18, 1 << 41, u64::MAX - 1] {
            assert_eq!(table.get(hash), None);
        }
        let others: Vec<Feature> = (0..200).map(|h| (h * 5, 1.0)).collect();
        let mut shared = Vec::new();
        table.for_each_shared(&others, |at, &(hash, _)| shared.push((at, hash)));
        let expected: Vec<(usize, u64)> = (others.iter())
            .filter_map(|&(hash, _)| table.get(hash).map(|at| (at, hash)))
            .collect();
        assert_eq!(shared, expected);
        assert_eq!(shared, [(0, 0)]);
        assert_eq!(Positions::new(&[]).get(0), None);
        assert_eq!(Positions::new(&[]).get(5), None);
    }

    #[test]
    fn indexed_and_merged_intersections_agree_bit_for_bit() {
        let a: Vec<Feature> = (0..300)
            .map(|h| (h * 7, 1.0 + (h % 13) as f64 / 3.0))
            .collect();
        let b: Vec<Feature> = (0..500)
            .map(|h| (h * 3, 0.1 + (h % 7) as f64 / 9.0))
            .collect();
        for (x, y) in [(&a, &b), (&b, &a), (&a, &a)] {
            let merged = Held::merged(x, 0.0).intersection(y);
            let indexed = Held::indexed(x, 0.0).intersection(y);
            assert_eq!(merged.to_bits(), indexed.to_bits());
            assert!(merged > 0.0);
        }
    }
}
