//! Open-addressing maps keyed by uniform 64-bit hashes, emptied and reused from one document
//! to the next: the distinct n-grams and weights of the signature paths, and the analyzer's
//! vocabulary.

/// A map from uniform 64-bit hashes to small values by open addressing, emptied and reused:
/// a lookup costs a probe or two in a table that stays in cache, where a general hash map
/// hashes the key again and a sort costs a log factor. With `V = ()` it is a set (the
/// distinct n-grams of the word path).
#[derive(Debug, Default)]
pub(crate) struct ProbeMap<V> {
    /// Cells, a power of two in number; the key 0 marks an empty cell (the hash 0 is `zero`).
    cells: Vec<(u64, V)>,
    /// The cells holding a key, in insertion order: what iterating and emptying visit, so
    /// that both cost the keys present rather than the table's size.
    filled: Vec<u32>,
    zero: Option<V>,
}

impl<V: Copy + Default> ProbeMap<V> {
    /// Empties the map, sized for `n` insertions up to [`KEPT_CELLS`] cells (it grows past
    /// them). The table a huge document grew is released rather than kept for the next ones.
    pub(crate) fn reset(&mut self, n: usize) {
        let size = (2 * n).next_power_of_two().clamp(16, KEPT_CELLS);
        if self.cells.len() == size {
            for &i in &self.filled {
                self.cells[i as usize] = (0, V::default());
            }
        } else {
            if self.cells.capacity() > KEPT_CELLS {
                self.cells = Vec::new();
                self.filled = Vec::new();
            }
            self.cells.clear();
            self.cells.resize(size, (0, V::default()));
        }
        self.filled.clear();
        self.zero = None;
    }

    /// The value of `h`, `make()` inserted first when it is absent; and whether it was.
    /// Hashes are uniform, so their low bits are the cell.
    #[inline]
    pub(crate) fn entry(&mut self, h: u64, make: impl FnOnce() -> V) -> (&mut V, bool) {
        if h == 0 {
            let fresh = self.zero.is_none();
            return (self.zero.get_or_insert_with(make), fresh);
        }
        if 2 * (self.filled.len() + 1) > self.cells.len() {
            self.grow();
        }
        let mask = self.cells.len() - 1;
        let mut i = h as usize & mask;
        loop {
            match self.cells[i].0 {
                0 => {
                    self.filled.push(i as u32);
                    self.cells[i] = (h, make());
                    return (&mut self.cells[i].1, true);
                }
                s if s == h => return (&mut self.cells[i].1, false),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// Whether the table has no cells yet: never reset, never inserted into.
    pub(crate) fn is_unsized(&self) -> bool {
        self.cells.is_empty()
    }

    /// Every key and its value, in insertion order (the key 0 last).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, V)> + '_ {
        let zero = self.zero.map(|v| (0, v));
        self.filled
            .iter()
            .map(|&i| self.cells[i as usize])
            .chain(zero)
    }

    /// Doubles the table (or sizes an unused one), keeping every key.
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.cells);
        let filled = std::mem::take(&mut self.filled);
        self.cells = vec![(0, V::default()); (2 * old.len()).max(16)];
        for i in filled {
            let (h, v) = old[i as usize];
            *self.entry(h, V::default).0 = v;
        }
    }
}

/// Cells a [`ProbeMap`] starts with at most, and keeps from one document to the next.
const KEPT_CELLS: usize = 1 << 16;

impl ProbeMap<()> {
    /// Inserts `h`; `true` when it was not in the set.
    #[inline]
    pub(crate) fn insert(&mut self, h: u64) -> bool {
        self.entry(h, || ()).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Oracle: the reused open-addressing map answers as a `HashMap` does, across resets
        /// (hash 0 included): the value first inserted, and whether the hash was new.
        #[test]
        fn probe_map_matches_a_hash_map(
            docs in proptest::collection::vec(proptest::collection::vec(0u64..40, 0..80), 1..5),
        ) {
            let mut cells = ProbeMap::<usize>::default();
            for (d, doc) in docs.into_iter().enumerate() {
                // Sized for none, some or all of the insertions: the table grows past them.
                cells.reset(doc.len() * (d % 3) / 2);
                let mut oracle = std::collections::HashMap::new();
                for (i, h) in doc.into_iter().enumerate() {
                    // Spread the small values over the high bits too, keeping 0 as 0.
                    let h = h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    let fresh = !oracle.contains_key(&h);
                    let first = *oracle.entry(h).or_insert(i);
                    let (value, new) = cells.entry(h, || i);
                    proptest::prop_assert_eq!((*value, new), (first, fresh));
                }
                let mut all: Vec<(u64, usize)> = cells.iter().collect();
                all.sort_unstable();
                let mut expected: Vec<(u64, usize)> = oracle.into_iter().collect();
                expected.sort_unstable();
                proptest::prop_assert_eq!(all, expected);
            }
        }
    }
}
