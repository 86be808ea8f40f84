//! Radix sorting for the LSH stage: band keys are uniform 64-bit numbers, where a
//! least-significant-digit radix sort moves each entry once per byte instead of comparing it
//! log n times.

/// Entries below this count are sorted by comparison: a radix pass costs a histogram.
const SMALL: usize = 512;

/// Sorts `v` by `key`, keeping the input order of entries with equal keys (stable): one pass
/// over the entries per byte of the key, least significant first, and none for a byte every
/// key shares.
///
/// ```
/// let mut v = vec![(3u64, 'a'), (1, 'b'), (3, 'c'), (0, 'd')];
/// storyprint::sort::radix_sort_by_key(&mut v, |e| e.0);
/// assert_eq!(v, [(0, 'd'), (1, 'b'), (3, 'a'), (3, 'c')]);
/// ```
pub fn radix_sort_by_key<T: Copy>(v: &mut Vec<T>, key: impl Fn(&T) -> u64) {
    let n = v.len();
    if n < SMALL {
        v.sort_by_key(&key);
        return;
    }
    let mut counts = [[0usize; 256]; 8];
    for entry in v.iter() {
        let k = key(entry);
        for (byte, count) in counts.iter_mut().enumerate() {
            count[(k >> (8 * byte)) as u8 as usize] += 1;
        }
    }
    // Every pass writes all n places of `spare`, so its initial contents never survive.
    let mut spare: Vec<T> = v.clone();
    for (byte, count) in counts.iter().enumerate() {
        if count.contains(&n) {
            continue;
        }
        let mut next = [0usize; 256];
        let mut sum = 0;
        for (start, &c) in next.iter_mut().zip(count) {
            *start = sum;
            sum += c;
        }
        for entry in v.iter() {
            let digit = (key(entry) >> (8 * byte)) as u8 as usize;
            spare[next[digit]] = *entry;
            next[digit] += 1;
        }
        std::mem::swap(v, &mut spare);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Oracle: the radix sort orders entries exactly as the standard library's stable
        /// sort does, across the small-input cut-off, for keys using few or all of their bits.
        #[test]
        fn radix_sort_equals_the_stable_sort(
            keys in proptest::collection::vec(any::<u64>(), 0..3000),
            bits in 1u32..=64,
        ) {
            let mask = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
            let mut entries: Vec<(u64, usize)> =
                keys.iter().enumerate().map(|(i, &k)| (k & mask, i)).collect();
            let mut expected = entries.clone();
            expected.sort_by_key(|e| e.0);
            radix_sort_by_key(&mut entries, |e| e.0);
            prop_assert_eq!(entries, expected);
        }
    }
}
