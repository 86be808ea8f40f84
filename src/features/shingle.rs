//! The shingles of a document: its content terms, the n-grams of each family over them, and
//! the hashes that name them.

use xxhash_rust::const_xxh3::const_custom_default_secret;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use super::facts::{number_facts, quote_runs};
use super::statements::{is_statement, statement_of};
use crate::config::{Config, Family, LONGEST_SHINGLE};
use crate::hash::hash_keys;
use crate::tokenize::{TermLike, word_hash};

/// Hash of a word n-gram from its words' hashes (at most [`LONGEST_SHINGLE`]): xxh3 of their
/// little-endian bytes, seeded per family so that the families never collide with each
/// other. Each word is hashed once, however many n-grams hold it.
fn hash_words(hashes: &[u64], seed: u64) -> u64 {
    let mut bytes = [0u8; 8 * LONGEST_SHINGLE];
    for (slot, hash) in bytes.chunks_exact_mut(8).zip(hashes) {
        slot.copy_from_slice(&hash.to_le_bytes());
    }
    xxh3_64_with_seed(&bytes[..8 * hashes.len()], seed)
}

/// The first 128 bytes of xxh3's default secret as little-endian words: what inputs of 17 to
/// 128 bytes are mixed with.
const SECRET: [u64; 16] = {
    let bytes = const_custom_default_secret(0);
    let mut words = [0u64; 16];
    let mut i = 0;
    while i < 16 {
        let mut word = [0u8; 8];
        let mut b = 0;
        while b < 8 {
            word[b] = bytes[8 * i + b];
            b += 1;
        }
        words[i] = u64::from_le_bytes(word);
        i += 1;
    }
    words
};

/// [`hash_words`] for windows of one length, computed from the words themselves: xxh3 of 17
/// to 128 bytes (3 to 16 words) adds the folded 128-bit products of 16-byte pieces of the
/// input, each keyed by its own 16 bytes of the seeded secret. Every piece starts on a word
/// here, so the keys are made once per length and seed, and a window costs its products,
/// without copying it to bytes or choosing a path by its length (which took a sixth of the
/// classic preset's signing time).
#[derive(Debug, Clone, Copy)]
pub(super) struct WindowHasher {
    /// How many words a window has.
    n: usize,
    seed: u64,
    /// The input's length times xxh3's first prime, where the sum starts.
    start: u64,
    /// Each piece: the index of its first word in the window and its two keys.
    pieces: [(usize, u64, u64); 8],
    /// How many of `pieces` the length has; 0 for 1 or 2 words, hashed as bytes.
    count: usize,
}

impl WindowHasher {
    /// The hasher of `n`-word windows (at most [`LONGEST_SHINGLE`]) with `seed`.
    pub(super) fn new(n: usize, seed: u64) -> WindowHasher {
        // xxh3's pieces of an input of 8n bytes (17 to 128), in words: from each end, pairs
        // keyed by secret words (0, 1), (2, 3) ... one more pair of each every 32 bytes.
        let key = |s: usize, at: usize| {
            (
                at,
                SECRET[s].wrapping_add(seed),
                SECRET[s + 1].wrapping_sub(seed),
            )
        };
        let mut pieces = [(0, 0, 0); 8];
        let mut count = 0;
        if (3..=LONGEST_SHINGLE).contains(&n) {
            for round in 0..n.div_ceil(4) {
                pieces[count] = key(4 * round, 2 * round);
                pieces[count + 1] = key(4 * round + 2, n - 2 - 2 * round);
                count += 2;
            }
        }
        WindowHasher {
            n,
            seed,
            start: (8 * n as u64).wrapping_mul(PRIME_1),
            pieces,
            count,
        }
    }

    /// The hash of one window of `n` words: [`hash_words`] of it.
    #[inline]
    pub(super) fn hash(&self, window: &[u64]) -> u64 {
        debug_assert_eq!(window.len(), self.n);
        if self.count == 0 {
            return hash_words(window, self.seed);
        }
        let mut acc = self.start;
        for &(at, low, high) in &self.pieces[..self.count] {
            let product = u128::from(window[at] ^ low) * u128::from(window[at + 1] ^ high);
            acc = acc.wrapping_add(product as u64 ^ (product >> 64) as u64);
        }
        avalanche(acc)
    }
}

/// xxh64's first prime, which xxh3 multiplies an input's length by.
const PRIME_1: u64 = 0x9E37_79B1_85EB_CA87;

/// xxh3's final mix of a short input's sum.
fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 37;
    h = h.wrapping_mul(0x1656_6791_9E37_79F9);
    h ^ (h >> 32)
}

pub(super) fn family_seed(family: Family, seed: u64) -> u64 {
    let tag = match family {
        Family::Stems { n } => 0x100 + n as u64,
        Family::Words { n } => 0x200 + n as u64,
        Family::Chars { n } => 0x300 + n as u64,
        Family::Facts => 0x400,
        Family::Pairs { w } => 0x500 + w as u64,
    };
    seed ^ tag.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The terms a shingle is made of, by position: what weights it under IDF (the largest IDF of
/// its terms) and what an index keeps of it (their keys).
#[derive(Debug, Clone, Copy)]
pub(super) enum Parts {
    /// None that weights it: a character n-gram, a statement's stop word.
    Unweighted,
    /// The content terms `start..end` (stem n-grams, quotes, a statement's content word).
    Run(usize, usize),
    /// Two content terms (stem pairs, number facts), in the order their keys are hashed.
    Pair(usize, usize),
    /// The document's terms `start..end`, stop words included (word n-grams).
    Words(usize, usize),
}

impl Parts {
    /// Calls `f` with the value of each part, in order: `content[i]` for a content term,
    /// `word(i)` for the document's term `i`.
    pub(super) fn each<X: Copy>(
        self,
        content: &[X],
        mut word: impl FnMut(usize) -> X,
        mut f: impl FnMut(X),
    ) {
        match self {
            Parts::Unweighted => {}
            Parts::Run(start, end) => content[start..end].iter().for_each(|&x| f(x)),
            Parts::Pair(i, j) => {
                f(content[i]);
                f(content[j]);
            }
            Parts::Words(start, end) => (start..end).for_each(|i| f(word(i))),
        }
    }
}

/// The terms shingles are made of: a document's terms but its stop words (when
/// `config.stop_words`), with their keys side by side, so that each term's word is read once
/// from the vocabulary however many shingles hold it.
pub(super) struct Content<'t, T> {
    /// Every term of the document.
    pub(super) all: &'t [T],
    /// Its content terms.
    pub(super) terms: Vec<&'t T>,
    /// Their keys.
    pub(super) keys: Vec<u64>,
}

impl<'t, T: TermLike> Content<'t, T> {
    pub(super) fn new(terms: &'t [T], config: &Config) -> Content<'t, T> {
        let mut content = Content {
            all: terms,
            terms: Vec::with_capacity(terms.len()),
            keys: Vec::with_capacity(terms.len()),
        };
        for term in terms.iter().filter(|t| !(config.stop_words && t.stop())) {
            content.terms.push(term);
            content.keys.push(term.key());
        }
        content
    }
}

/// Word n-gram hashes from the words' hashes: xxh3 of the window's hashes (little-endian),
/// seeded per family, so each word is hashed once however many n-grams hold it. `emit` gets
/// each n-gram's hash and the index of its first word (a single n-gram of everything when
/// there are fewer than `n` words). Inlined: out of line, its caller's `emit` is a call per
/// n-gram.
#[inline]
pub(super) fn word_ngrams(hashes: &[u64], n: usize, seed: u64, mut emit: impl FnMut(u64, usize)) {
    if hashes.is_empty() {
        return;
    }
    let n = n.min(hashes.len());
    let hasher = WindowHasher::new(n, seed);
    for (i, window) in hashes.windows(n).enumerate() {
        emit(hasher.hash(window), i);
    }
}

/// n-grams over a sequence of term keys (a single shingle of everything when it is shorter),
/// as `emit(hash, parts)`.
fn ngrams(keys: &[u64], n: usize, seed: u64, mut emit: impl FnMut(u64, Parts)) {
    if keys.is_empty() {
        return;
    }
    let n = n.min(keys.len());
    for (i, window) in keys.windows(n).enumerate() {
        emit(
            hash_keys(window.iter().copied(), seed),
            Parts::Run(i, i + n),
        );
    }
}

impl<T: TermLike> Content<'_, T> {
    /// Every shingle of the document, in family order, repeats included: `sink` gets its hash,
    /// its family's weight, and the terms whose IDF weights it ([`Parts::Unweighted`] for
    /// character n-grams and a statement's stop words; never empty otherwise), by position in
    /// the content terms or in all the terms. A statement ([`is_statement`]) gets its word stems
    /// instead of the families.
    pub(super) fn each_shingle(
        &self,
        text: &str,
        config: &Config,
        mut sink: impl FnMut(u64, f64, Parts),
    ) {
        let (terms, keys) = (self.all, &self.keys[..]);
        // Without stop words, the content terms are the content words, counted already.
        let statement = if config.stop_words {
            statement_of(config, || keys.len())
        } else {
            is_statement(terms, config)
        };
        if statement {
            // Hashed as the `stems:1` family, so that a statement's words meet an article's.
            let seed = family_seed(Family::Stems { n: 1 }, config.seed);
            // The position among the content terms of the next one.
            let mut next = 0;
            for term in terms {
                let parts = if term.stop() {
                    Parts::Unweighted
                } else {
                    Parts::Run(next, next + 1)
                };
                next += usize::from(!(config.stop_words && term.stop()));
                sink(hash_keys([term.key()], seed), 1.0, parts);
            }
            return;
        }
        for spec in &config.features.0 {
            let seed = family_seed(spec.family, config.seed);
            let mut emit = |hash: u64, parts: Parts| sink(hash, spec.weight, parts);
            match spec.family {
                Family::Stems { n } => ngrams(keys, n, seed, &mut emit),
                Family::Pairs { w } => {
                    for i in 0..keys.len() {
                        for j in (i + 1..keys.len()).take(w) {
                            let (first, second) = if keys[i] <= keys[j] { (i, j) } else { (j, i) };
                            let hash = hash_keys([keys[first], keys[second]], seed);
                            emit(hash, Parts::Pair(first, second));
                        }
                    }
                }
                Family::Words { n } => {
                    let hashes: Vec<u64> = terms.iter().map(|t| word_hash(t.word())).collect();
                    word_ngrams(&hashes, n, seed, |h, i| {
                        emit(h, Parts::Words(i, (i + n).min(terms.len())));
                    });
                }
                Family::Chars { n } => {
                    let folded: Vec<char> = terms
                        .iter()
                        .flat_map(|t| t.word().chars().chain(std::iter::once(' ')))
                        .collect();
                    let n = n.min(folded.len());
                    let mut buf = String::new();
                    for window in folded.windows(n.max(1)) {
                        buf.clear();
                        buf.extend(window);
                        emit(xxh3_64_with_seed(buf.as_bytes(), seed), Parts::Unweighted);
                    }
                }
                Family::Facts => {
                    for (i, j) in number_facts(&self.terms) {
                        emit(hash_keys([keys[i], keys[j]], seed), Parts::Pair(i, j));
                    }
                    for run in quote_runs(text, &self.terms) {
                        let hash = hash_keys(keys[run.clone()].iter().copied(), seed);
                        emit(hash, Parts::Run(run.start, run.end));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Oracle: a word n-gram's hash is xxh3 of its words' little-endian bytes, for every
        /// length a configuration allows, by bytes and by the window hasher.
        #[test]
        fn hash_words_hashes_the_words_bytes(
            hashes in proptest::collection::vec(proptest::num::u64::ANY, 0..=LONGEST_SHINGLE),
            seed in proptest::num::u64::ANY,
        ) {
            let bytes: Vec<u8> = hashes.iter().flat_map(|p| p.to_le_bytes()).collect();
            let expected = xxh3_64_with_seed(&bytes, seed);
            proptest::prop_assert_eq!(hash_words(&hashes, seed), expected);
            proptest::prop_assert_eq!(WindowHasher::new(hashes.len(), seed).hash(&hashes), expected);
        }
    }
}
