//! The fast path of the tokenizer: the ASCII subset of UAX #29, 64 bytes at a time.

/// Byte classes of the ASCII tokenizer.
const WORD: u8 = 1;
const ALPHA: u8 = 2;
const DIGIT: u8 = 4;
/// Joins two letters: `'`, `.`, `:`.
const LETTER_JOIN: u8 = 8;
/// Joins two digits: `'`, `.`, `,`, `;`.
const DIGIT_JOIN: u8 = 16;

/// The class bits of every byte (non-ASCII bytes have none).
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        let mut class = 0;
        if c.is_ascii_alphabetic() {
            class |= WORD | ALPHA;
        }
        if c.is_ascii_digit() {
            class |= WORD | DIGIT;
        }
        if c == b'_' {
            class |= WORD;
        }
        if matches!(c, b'\'' | b'.' | b':') {
            class |= LETTER_JOIN;
        }
        if matches!(c, b'\'' | b'.' | b',' | b';') {
            class |= DIGIT_JOIN;
        }
        table[b] = class;
        b += 1;
    }
    table
};

/// The ASCII subset of UAX #29, as `f(start, end)` (plus `offset`): runs of letters, digits
/// and `_` (not of `_` alone); `'`, `.` and `:` join two letters; `'`, `.`, `,` and `;` join
/// two digits.
///
/// Each block of 64 bytes becomes a mask of the bytes inside a token, eight bytes at a time
/// (`Classes`); tokens are then read off the mask's runs of ones, a few instructions per
/// token. (A loop deciding byte by byte mispredicts at nearly every token's start and end.)
pub fn ascii_tokens(bytes: &[u8], offset: usize, f: &mut impl FnMut(usize, usize)) {
    let mut emit = |start: usize, end: usize| {
        // A run of `_` alone is no word; a letter or digit comes first in nearly every token.
        if bytes[start..end]
            .iter()
            .any(|&b| CLASS[b as usize] & (ALPHA | DIGIT) != 0)
        {
            f(offset + start, offset + end);
        }
    };
    // The start of a token that runs on into the next block.
    let mut open: Option<usize> = None;
    // Whether the byte before the block is a letter, a digit (bit 0).
    let (mut letter_before, mut digit_before) = (0, 0);
    for (block, base) in bytes.chunks(64).zip((0..).step_by(64)) {
        let c = Classes::of(block);
        let after = bytes.get(base + 64).map_or(0, |&b| CLASS[b as usize]);
        let letter_around =
            (c.alpha << 1 | letter_before) & (c.alpha >> 1 | u64::from(after & ALPHA != 0) << 63);
        let digit_around =
            (c.digit << 1 | digit_before) & (c.digit >> 1 | u64::from(after & DIGIT != 0) << 63);
        let inside = c.word | c.letter_join & letter_around | c.digit_join & digit_around;
        (letter_before, digit_before) = (c.alpha >> 63, c.digit >> 63);
        // Bits past the text's end are zeros: a token open there ends at the end.
        let mut from = 0;
        while from < block.len() {
            let rest = u64::MAX << from;
            match open {
                None => {
                    let starts = inside & rest;
                    if starts == 0 {
                        break;
                    }
                    from = starts.trailing_zeros() as usize;
                    open = Some(base + from);
                }
                Some(start) => {
                    let ends = !inside & rest;
                    if ends == 0 {
                        break;
                    }
                    from = ends.trailing_zeros() as usize;
                    emit(start, base + from);
                    open = None;
                }
            }
        }
    }
    if let Some(start) = open {
        emit(start, bytes.len());
    }
}

/// The byte classes of a block of up to 64 ASCII bytes as bit masks (bit `i`: byte `i`),
/// computed eight bytes at a time in a `u64` (SWAR): no table lookup and no branch per byte.
#[derive(Debug, PartialEq, Eq)]
struct Classes {
    word: u64,
    alpha: u64,
    digit: u64,
    letter_join: u64,
    digit_join: u64,
}

/// One in each byte of a `u64`.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of each byte of a `u64`.
const HIGHS: u64 = 0x8080_8080_8080_8080;

impl Classes {
    fn of(block: &[u8]) -> Classes {
        let mut classes = Classes {
            word: 0,
            alpha: 0,
            digit: 0,
            letter_join: 0,
            digit_join: 0,
        };
        let mut chunks = block.chunks_exact(8);
        for (k, chunk) in (&mut chunks).enumerate() {
            let eight: [u8; 8] = chunk.try_into().unwrap_or_default();
            classes.add(k, u64::from_le_bytes(eight));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            // Past the end, zero bytes: in no class.
            let mut eight = [0u8; 8];
            eight[..rest.len()].copy_from_slice(rest);
            classes.add(block.len() / 8, u64::from_le_bytes(eight));
        }
        classes
    }

    /// Adds the classes of the eight bytes `x` (little-endian) as bits `8k..8k + 8`.
    fn add(&mut self, k: usize, x: u64) {
        let lower = x | (0x20 * ONES);
        let alpha = at_least(lower, b'a') & !at_least(lower, b'z' + 1);
        let digit = at_least(x, b'0') & !at_least(x, b'9' + 1);
        let apostrophe_or_dot = equal(x, b'\'') | equal(x, b'.');
        let shift = 8 * k;
        self.alpha |= pack(alpha) << shift;
        self.digit |= pack(digit) << shift;
        self.word |= pack(alpha | digit | equal(x, b'_')) << shift;
        self.letter_join |= pack(apostrophe_or_dot | equal(x, b':')) << shift;
        self.digit_join |= pack(apostrophe_or_dot | equal(x, b',') | equal(x, b';')) << shift;
    }
}

/// The high bit of each byte of `x` (bytes below 128) that is at least `n` (at most 128):
/// adding `128 - n` carries into the high bit exactly then, and never into the next byte.
fn at_least(x: u64, n: u8) -> u64 {
    x.wrapping_add(u64::from(0x80 - n) * ONES) & HIGHS
}

/// The high bit of each byte of `x` (bytes below 128) equal to `c` (below 128).
fn equal(x: u64, c: u8) -> u64 {
    let differ = (x ^ (u64::from(c) * ONES)).wrapping_add(0x7f * ONES);
    !differ & HIGHS
}

/// The high bits of the eight bytes of `m` (its only bits) as the low eight bits: byte `i`'s
/// bit moves to bit `i` through one multiplication.
fn pack(m: u64) -> u64 {
    (m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Oracle: the eight-bytes-at-a-time classes are the table's, byte by byte.
        #[test]
        fn classes_match_the_table(block in proptest::collection::vec(0u8..128, 0..=64)) {
            let c = Classes::of(&block);
            let bit = |mask: u64, i: usize| mask >> i & 1 == 1;
            for (i, &b) in block.iter().enumerate() {
                let class = CLASS[b as usize];
                prop_assert_eq!(bit(c.word, i), class & WORD != 0);
                prop_assert_eq!(bit(c.alpha, i), class & ALPHA != 0);
                prop_assert_eq!(bit(c.digit, i), class & DIGIT != 0);
                prop_assert_eq!(bit(c.letter_join, i), class & LETTER_JOIN != 0);
                prop_assert_eq!(bit(c.digit_join, i), class & DIGIT_JOIN != 0);
            }
            let beyond = u64::MAX.checked_shl(block.len() as u32).unwrap_or(0);
            prop_assert_eq!((c.word | c.letter_join | c.digit_join) & beyond, 0);
        }
    }
}
