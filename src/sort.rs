//! Radix sorting for the LSH stage: band keys are uniform 64-bit numbers, where a radix sort
//! moves each entry once per byte instead of comparing it log n times.

/// Entries below this count are sorted by comparison: a radix pass costs a histogram.
const SMALL: usize = 512;

/// Sorts `v` by `key`, keeping the input order of entries with equal keys (stable). The
/// entries are first spread by the most significant byte that differs among the keys, then
/// each of the 256 parts, small enough to stay in cache, is sorted on the bytes below it by
/// one pass per byte, least significant first (none for a byte its keys share): an entry
/// crosses main memory twice instead of once per byte, which leaves two threads sorting at
/// once less to wait for.
pub fn radix_sort_by_key<T: Copy>(v: &mut Vec<T>, key: impl Fn(&T) -> u64) {
    let n = v.len();
    if n < SMALL {
        v.sort_by_key(&key);
        return;
    }
    let mut varying = 0u64;
    let first = key(&v[0]);
    for entry in v.iter() {
        varying |= key(entry) ^ first;
    }
    if varying == 0 {
        return;
    }
    let top = (63 - varying.leading_zeros()) / 8;
    let digit = |entry: &T, byte: u32| byte_of(key(entry), byte);
    // Every place of `spare` is written by the spread, so its initial contents never survive.
    let mut spare: Vec<T> = v.clone();
    let mut starts = [0usize; 257];
    for entry in v.iter() {
        starts[digit(entry, top) + 1] += 1;
    }
    for d in 0..256 {
        starts[d + 1] += starts[d];
    }
    let mut next = starts;
    for entry in v.iter() {
        let d = digit(entry, top);
        spare[next[d]] = *entry;
        next[d] += 1;
    }
    std::mem::swap(v, &mut spare);
    for d in 0..256 {
        let part = &mut v[starts[d]..starts[d + 1]];
        sort_low_bytes(part, &mut spare[..part.len()], top, &key);
    }
}

/// Sorts `part` (a part of [`radix_sort_by_key`]'s entries) stably on its keys' bytes below
/// `top`, with `scratch` as large as it for the passes' other half.
fn sort_low_bytes<T: Copy>(part: &mut [T], scratch: &mut [T], top: u32, key: &impl Fn(&T) -> u64) {
    let n = part.len();
    if n < SMALL {
        let low = (1u64 << (8 * top)) - 1;
        part.sort_by_key(|entry| key(entry) & low);
        return;
    }
    let digit = |entry: &T, byte: u32| byte_of(key(entry), byte);
    let mut counts = [[0usize; 256]; 8];
    for entry in part.iter() {
        for (byte, count) in counts.iter_mut().enumerate().take(top as usize) {
            count[digit(entry, byte as u32)] += 1;
        }
    }
    let (mut from, mut to) = (part, scratch);
    let mut swapped = false;
    for (byte, count) in counts.iter().enumerate().take(top as usize) {
        if count.contains(&n) {
            continue;
        }
        let mut next = [0usize; 256];
        let mut sum = 0;
        for (start, &c) in next.iter_mut().zip(count) {
            *start = sum;
            sum += c;
        }
        for entry in from.iter() {
            let d = digit(entry, byte as u32);
            to[next[d]] = *entry;
            next[d] += 1;
        }
        std::mem::swap(&mut from, &mut to);
        swapped = !swapped;
    }
    if swapped {
        // The sorted entries are in the scratch half: copy them back.
        to.copy_from_slice(from);
    }
}

/// Byte `byte` of `key`, least significant first.
fn byte_of(key: u64, byte: u32) -> usize {
    (key >> (8 * byte)) as u8 as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn equal_keys_keep_their_input_order() {
        let mut v = vec![(3u64, 'a'), (1, 'b'), (3, 'c'), (0, 'd')];
        radix_sort_by_key(&mut v, |e| e.0);
        assert_eq!(v, [(0, 'd'), (1, 'b'), (3, 'a'), (3, 'c')]);
    }

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
