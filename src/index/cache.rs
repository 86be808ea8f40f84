//! Document frequencies kept in memory from one check to the next.
//!
//! A check weights its own terms and its candidates' terms with the index's document
//! frequencies: a few thousand B-tree lookups, mostly of terms the previous checks looked up
//! too. [`FreqCache`] keeps the frequencies read for one state of the index, so that a later
//! check of the same state reads them from memory.
//!
//! **A state is named by its stamp**: the next sequence number and the number of documents,
//! both read in the check's own transaction. Every commit that changes a frequency either adds
//! a document (the next sequence number grows) or only removes documents (the count falls and
//! the sequence number stays). Stamps ordered by (sequence number, fewer documents) therefore
//! only grow from one commit to the next that changes frequencies, and one stamp names one set
//! of frequencies: a reader never takes a frequency from another state than its transaction's.

use std::cmp::Reverse;
use std::sync::{PoisonError, RwLock};

use ahash::AHashMap;

use crate::features::DocFreq;

/// Frequencies cached beyond this many terms are dropped and read again: the cache holds at
/// most a few tens of megabytes, whatever the index's vocabulary.
pub const MAX_CACHED_TERMS: usize = 1 << 20;

/// The state of an index as the cache tells states apart: (next sequence number, number of
/// documents, reversed so that removals make the stamp grow).
pub type Stamp = (u64, Reverse<u64>);

/// The stamp of an index with `next_seq` as next sequence number, holding `documents`.
pub fn stamp(next_seq: u64, documents: u64) -> Stamp {
    (next_seq, Reverse(documents))
}

/// Document frequencies read for one state of the index (see the module documentation).
#[derive(Debug, Default)]
pub struct FreqCache {
    inner: RwLock<Cached>,
}

#[derive(Debug, Default)]
struct Cached {
    stamp: Option<Stamp>,
    counts: AHashMap<u64, u64>,
}

impl FreqCache {
    /// Moves the frequencies of `keys` cached for state `stamp` into `freq` and removes those
    /// keys from `keys`; the others are left to read from the index.
    pub fn take(&self, stamp: Stamp, keys: &mut Vec<u64>, freq: &mut DocFreq) {
        let cached = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        if cached.stamp != Some(stamp) {
            return;
        }
        keys.retain(|key| match cached.counts.get(key) {
            Some(&df) => {
                freq.counts.insert(*key, df);
                false
            }
            None => true,
        });
    }

    /// Keeps frequencies read from the index in state `stamp`. A newer state than the cached
    /// one replaces it; frequencies of an older state (a transaction begun before the last
    /// commit) are not kept.
    pub fn keep(&self, stamp: Stamp, read: &[(u64, u64)]) {
        if read.is_empty() {
            return;
        }
        let mut cached = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if cached.stamp > Some(stamp) {
            return;
        }
        if cached.stamp < Some(stamp) || cached.counts.len() + read.len() > MAX_CACHED_TERMS {
            cached.counts.clear();
            cached.stamp = Some(stamp);
        }
        cached.counts.extend(read.iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(cache: &FreqCache, stamp: Stamp, keys: &[u64]) -> (Vec<u64>, Vec<(u64, u64)>) {
        let mut keys = keys.to_vec();
        let mut freq = DocFreq::default();
        cache.take(stamp, &mut keys, &mut freq);
        let mut found: Vec<(u64, u64)> = freq.counts.into_iter().collect();
        found.sort_unstable();
        (keys, found)
    }

    #[test]
    fn frequencies_are_served_only_for_the_state_they_were_read_in() {
        let cache = FreqCache::default();
        let first = stamp(10, 10);
        cache.keep(first, &[(1, 3), (2, 0)]);
        assert_eq!(
            taken(&cache, first, &[1, 2, 3]),
            (vec![3], vec![(1, 3), (2, 0)])
        );
        // A document added, then one removed: both are other states.
        let added = stamp(11, 11);
        let removed = stamp(11, 10);
        assert!(added > first && removed > added);
        assert_eq!(taken(&cache, added, &[1]), (vec![1], vec![]));
        cache.keep(removed, &[(1, 2)]);
        assert_eq!(taken(&cache, removed, &[1, 2]), (vec![2], vec![(1, 2)]));
        // A reader of an older state neither sees nor replaces the newer frequencies.
        cache.keep(first, &[(2, 0)]);
        assert_eq!(taken(&cache, first, &[1, 2]), (vec![1, 2], vec![]));
        assert_eq!(taken(&cache, removed, &[1, 2]), (vec![2], vec![(1, 2)]));
    }
}
