//! Tokenize stage: Unicode word boundaries (UAX #29) with a fast path for ASCII lines that
//! gives exactly the same tokens (an oracle property test holds them equal), then terms:
//! lower-cased, stop words marked, stemmed with rust-stemmers, number words and numbers
//! canonicalised ("1,000" → "1000", "three" → "3").

use std::cell::RefCell;
use std::sync::Arc;

use ahash::AHashMap;
use unicode_segmentation::UnicodeSegmentation;

use crate::config::Language;
use crate::hash::term_key;
use crate::normalize::pieces_around_non_ascii;
use crate::slots::HashSlots;

/// A word or number in the normalized text, by byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

/// Calls `f(start, end)` for each word token of `text`, in order, without collecting them.
/// ASCII text takes the fast path; in a text with other characters, so does all of it but
/// the pieces around them ([`unicode_pieces`]), which take the Unicode path.
pub fn for_each_token(text: &str, mut f: impl FnMut(usize, usize)) {
    if text.is_ascii() {
        ascii_tokens(text.as_bytes(), 0, &mut f);
        return;
    }
    let mut done = 0;
    for (start, end) in unicode_pieces(text.as_bytes()) {
        ascii_tokens(&text.as_bytes()[done..start], done, &mut f);
        unicode_tokens(&text[start..end], start, &mut f);
        done = end;
    }
    ascii_tokens(&text.as_bytes()[done..], done, &mut f);
}

/// Whether UAX #29 segments a text cut before byte `at` (inside it) as it segments the whole:
/// after a line break, or after a space that an ASCII character other than a space follows.
/// No rule looks across such a cut: a line break ends a segment whatever surrounds it (a mark
/// after it stands alone); a space is no letter, digit or joining punctuation that a rule
/// looks back or ahead to, and the ASCII character after it neither attaches to it (as a mark
/// or another space would) nor is a regional indicator.
fn is_cut(text: &[u8], at: usize) -> bool {
    match text[at - 1] {
        b'\n' => true,
        b' ' => text[at].is_ascii() && text[at] != b' ',
        _ => false,
    }
}

/// The byte ranges of `text` that need the Unicode path, in order, each from a cut
/// ([`is_cut`]) to the next cut after a non-ASCII character: usually the word holding it and
/// the space after.
fn unicode_pieces(text: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    pieces_around_non_ascii(text, is_cut)
}

/// UAX #29 word segments that contain a letter or digit, as `f(start, end)` (plus `offset`).
pub fn unicode_tokens(text: &str, offset: usize, f: &mut impl FnMut(usize, usize)) {
    for (start, word) in text.split_word_bound_indices() {
        if word.chars().any(char::is_alphanumeric) {
            f(offset + start, offset + start + word.len());
        }
    }
}

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
/// ([`Classes`]); tokens are then read off the mask's runs of ones, a few instructions per
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

/// The hash of a lower-cased word, as word shingles use it: xxh3 of its UTF-8 bytes.
pub fn word_hash(lower: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(lower.as_bytes())
}

/// Appends the [`word_hash`] of every token of a (folded) text: the path of word shingles that
/// builds no string per word, equal to hashing each [`Term::word`] (an oracle test in
/// `shingle` holds them equal). The text is ASCII-lower-cased once into `lower` (reused across
/// texts), so an ASCII word is hashed straight from it; a word with other characters is
/// lower-cased on its own, as Unicode asks. ([`Analyzer::terms`] does the same with a string,
/// whose slicing checks character boundaries: bytes here keep this path 10 % faster.)
pub fn word_hashes(text: &str, lower: &mut Vec<u8>, out: &mut Vec<u64>) {
    let all_ascii = text.is_ascii();
    lower.clear();
    lower.extend(text.bytes().map(|b| b.to_ascii_lowercase()));
    for_each_token(text, |start, end| {
        let word = &lower[start..end];
        if all_ascii || word.is_ascii() {
            out.push(xxhash_rust::xxh3::xxh3_64(word));
        } else {
            out.push(word_hash(&text[start..end].to_lowercase()));
        }
    });
}

/// A token turned into a term: what the features are built from. Its word is a copy of the
/// analyzer's vocabulary entry, whose strings it shares, so a term of an ASCII word already
/// seen allocates nothing. Signature paths that need no owned terms borrow them instead
/// ([`Analyzer::with_terms`]). Its fields are read through [`TermLike`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The word, analysed.
    pub entry: Word,
    /// The token's byte range in the normalized text.
    pub token: Token,
}

/// A distinct lower-cased word as the analyzer knows it: a [`Term`] but its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The stem (numbers canonicalised, number words as digits).
    pub stem: Arc<str>,
    /// The stem's key, [`term_key`]: what document frequencies count.
    pub key: u64,
    /// The lower-cased word as written.
    pub word: Arc<str>,
    /// A stop word (never for numbers).
    pub stop: bool,
    /// A number or a number word.
    pub number: bool,
}

/// A term borrowed from the analyzer's vocabulary ([`Analyzer::with_terms`]): a [`Term`]
/// without the reference counting of its strings, which costs two atomic operations per token
/// to make and two to drop.
#[derive(Debug, Clone, Copy)]
pub struct TermRef<'a> {
    /// The word, analysed.
    pub entry: &'a Word,
    /// The word's number in the vocabulary (for caches by word, such as IDF weights). A number
    /// is reused once the vocabulary is cleared, so a cache checks the word's key too.
    pub id: u32,
    /// The token's byte range in the normalized text.
    pub token: Token,
}

/// What features read of a term, owned ([`Term`]) or borrowed ([`TermRef`]): its analysed
/// word and its position; the rest is read from the word.
pub trait TermLike {
    /// The analysed word.
    fn entry(&self) -> &Word;
    /// Its byte range in the normalized text.
    fn token(&self) -> Token;
    /// The stem.
    fn stem(&self) -> &str {
        &self.entry().stem
    }
    /// The stem's key.
    fn key(&self) -> u64 {
        self.entry().key
    }
    /// The lower-cased word.
    fn word(&self) -> &str {
        &self.entry().word
    }
    /// Whether it is a stop word.
    fn stop(&self) -> bool {
        self.entry().stop
    }
    /// Whether it is a number or a number word.
    fn number(&self) -> bool {
        self.entry().number
    }
}

impl TermLike for Term {
    fn entry(&self) -> &Word {
        &self.entry
    }
    fn token(&self) -> Token {
        self.token
    }
}

impl TermLike for TermRef<'_> {
    fn entry(&self) -> &Word {
        self.entry
    }
    fn token(&self) -> Token {
        self.token
    }
}

impl<T: TermLike> TermLike for &T {
    fn entry(&self) -> &Word {
        (**self).entry()
    }
    fn token(&self) -> Token {
        (**self).token()
    }
}

/// English stop words: the Snowball list, plus "said" and "also" (in nearly every news
/// story, so they carry no information). No numbers.
const ENGLISH_STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "aren't",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can't",
    "cannot",
    "could",
    "couldn't",
    "did",
    "didn't",
    "do",
    "does",
    "doesn't",
    "doing",
    "don't",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "hadn't",
    "has",
    "hasn't",
    "have",
    "haven't",
    "having",
    "he",
    "he'd",
    "he'll",
    "he's",
    "her",
    "here",
    "here's",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "how's",
    "i",
    "i'd",
    "i'll",
    "i'm",
    "i've",
    "if",
    "in",
    "into",
    "is",
    "isn't",
    "it",
    "it's",
    "its",
    "itself",
    "let's",
    "me",
    "more",
    "most",
    "mustn't",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "ought",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "shan't",
    "she",
    "she'd",
    "she'll",
    "she's",
    "should",
    "shouldn't",
    "so",
    "some",
    "such",
    "than",
    "that",
    "that's",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "there's",
    "these",
    "they",
    "they'd",
    "they'll",
    "they're",
    "they've",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "wasn't",
    "we",
    "we'd",
    "we'll",
    "we're",
    "we've",
    "were",
    "weren't",
    "what",
    "what's",
    "when",
    "when's",
    "where",
    "where's",
    "which",
    "while",
    "who",
    "who's",
    "whom",
    "why",
    "why's",
    "will",
    "with",
    "won't",
    "would",
    "wouldn't",
    "you",
    "you'd",
    "you'll",
    "you're",
    "you've",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "s",
    "t",
    "said",
    "also",
];

/// English number words and their values, so "three women" and "3 women" agree.
const ENGLISH_NUMBERS: &[(&str, &str)] = &[
    ("zero", "0"),
    ("one", "1"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("thirteen", "13"),
    ("fourteen", "14"),
    ("fifteen", "15"),
    ("sixteen", "16"),
    ("seventeen", "17"),
    ("eighteen", "18"),
    ("nineteen", "19"),
    ("twenty", "20"),
    ("thirty", "30"),
    ("forty", "40"),
    ("fifty", "50"),
    ("sixty", "60"),
    ("seventy", "70"),
    ("eighty", "80"),
    ("ninety", "90"),
    ("hundred", "100"),
    ("thousand", "1000"),
    ("million", "1000000"),
    ("billion", "1000000000"),
    ("dozen", "12"),
];

fn algorithm(language: Language) -> rust_stemmers::Algorithm {
    use rust_stemmers::Algorithm as A;
    match language {
        Language::Arabic => A::Arabic,
        Language::Danish => A::Danish,
        Language::Dutch => A::Dutch,
        Language::English => A::English,
        Language::Finnish => A::Finnish,
        Language::French => A::French,
        Language::German => A::German,
        Language::Greek => A::Greek,
        Language::Hungarian => A::Hungarian,
        Language::Italian => A::Italian,
        Language::Norwegian => A::Norwegian,
        Language::Portuguese => A::Portuguese,
        Language::Romanian => A::Romanian,
        Language::Russian => A::Russian,
        Language::Spanish => A::Spanish,
        Language::Swedish => A::Swedish,
        Language::Tamil => A::Tamil,
        Language::Turkish => A::Turkish,
    }
}

/// Turns tokens into terms for one language. Each distinct word is analysed once per thread
/// and kept in a vocabulary (news vocabularies are Zipfian: most tokens are repeats), so a
/// repeat costs a hash and one lookup in a compact table, and allocates nothing.
pub struct Analyzer {
    stemmer: rust_stemmers::Stemmer,
    stop_words: ahash::AHashSet<&'static str>,
    numbers: AHashMap<&'static str, &'static str>,
    vocabulary: RefCell<Vocabulary>,
}

/// The distinct words an analyzer has seen, numbered in order of first sight.
#[derive(Default)]
struct Vocabulary {
    /// xxh3 of each word's bytes → its number. The 64-bit hash stands for the word, as it
    /// does in word shingles ([`word_hash`]): two words would share an entry only by a hash
    /// collision, about one chance in 10⁹ for a full vocabulary.
    numbers: HashSlots<u32>,
    words: Vec<Word>,
}

/// Words kept in the vocabulary before it is cleared (bounds memory on huge vocabularies);
/// it is cleared between texts only, so a text's word numbers stay valid while it is used.
const CACHE_LIMIT: usize = 200_000;

impl Analyzer {
    /// An analyzer for `language`. Stop words and number words are English-only for now;
    /// other languages get stemming alone.
    pub fn new(language: Language) -> Analyzer {
        let english = language == Language::English;
        Analyzer {
            stemmer: rust_stemmers::Stemmer::create(algorithm(language)),
            stop_words: if english {
                ENGLISH_STOP_WORDS.iter().copied().collect()
            } else {
                Default::default()
            },
            numbers: if english {
                ENGLISH_NUMBERS.iter().copied().collect()
            } else {
                Default::default()
            },
            vocabulary: RefCell::new(Vocabulary::default()),
        }
    }

    /// Whether `word` (lower-cased) is a stop word.
    pub fn is_stop_word(&self, word: &str) -> bool {
        self.stop_words.contains(word)
    }

    /// The terms of a normalized text.
    pub fn terms(&self, text: &str) -> Vec<Term> {
        let numbered = self.number_tokens(text);
        let vocabulary = self.vocabulary.borrow();
        numbered
            .into_iter()
            .map(|(id, token)| Term {
                entry: vocabulary.words[id as usize].clone(),
                token,
            })
            .collect()
    }

    /// Calls `f` with the terms of a normalized text borrowed from the vocabulary: the same
    /// terms as [`Analyzer::terms`], without owning their strings. `f` must not use this
    /// analyzer (the vocabulary is borrowed while it runs).
    pub fn with_terms<R>(&self, text: &str, f: impl FnOnce(&[TermRef<'_>]) -> R) -> R {
        let numbered = self.number_tokens(text);
        let vocabulary = self.vocabulary.borrow();
        let terms: Vec<TermRef> = numbered
            .into_iter()
            .map(|(id, token)| TermRef {
                entry: &vocabulary.words[id as usize],
                id,
                token,
            })
            .collect();
        f(&terms)
    }

    /// Each token of a normalized text with its word's number in the vocabulary, new words
    /// analysed and added. The text is ASCII-lower-cased once, so an ASCII word is looked up
    /// straight from it; a word with other characters is lower-cased on its own, as Unicode
    /// asks.
    fn number_tokens(&self, text: &str) -> Vec<(u32, Token)> {
        let mut vocabulary = self.vocabulary.borrow_mut();
        if vocabulary.words.len() >= CACHE_LIMIT {
            *vocabulary = Vocabulary::default();
        }
        let lower = text.to_ascii_lowercase();
        // Most texts are ASCII throughout: one check for the text spares one per token.
        let ascii = text.is_ascii();
        let mut out = Vec::with_capacity(text.len() / 5);
        for_each_token(text, |start, end| {
            let token = Token { start, end };
            let raw = &text[start..end];
            let id = if ascii || raw.is_ascii() {
                self.number_of(&mut vocabulary, &lower[start..end])
            } else {
                self.number_of(&mut vocabulary, &raw.to_lowercase())
            };
            out.push((id, token));
        });
        out
    }

    /// The number of a lower-cased word, analysed and added when new.
    fn number_of(&self, vocabulary: &mut Vocabulary, word: &str) -> u32 {
        let next = vocabulary.words.len() as u32;
        let (&mut id, fresh) = vocabulary.numbers.entry(word_hash(word), || next);
        if fresh {
            vocabulary.words.push(self.analyze_word(word));
        }
        id
    }

    fn analyze_word(&self, word: &str) -> Word {
        let (stem, stop, number) = if word.starts_with(|c: char| c.is_ascii_digit())
            && word
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | '\''))
        {
            let digits: String = word.chars().filter(|&c| c != ',' && c != '\'').collect();
            (digits, false, true)
        } else if let Some(value) = self.numbers.get(word) {
            ((*value).to_string(), false, true)
        } else {
            let stop = self.stop_words.contains(word);
            (self.stemmer.stem(word).into_owned(), stop, false)
        };
        Word {
            key: term_key(&stem),
            stem: stem.into(),
            word: word.into(),
            stop,
            number,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for_each_token(text, |start, end| out.push(&text[start..end]));
        out
    }

    #[test]
    fn numbers_and_contractions_are_one_token() {
        assert_eq!(
            words("Over 1,000 prisoners (19.5 years) don't; U.S. e.g. snake_case 10:30"),
            [
                "Over",
                "1,000",
                "prisoners",
                "19.5",
                "years",
                "don't",
                "U.S",
                "e.g",
                "snake_case",
                "10",
                "30"
            ]
        );
    }

    #[test]
    fn non_ascii_lines_use_unicode_boundaries() {
        assert_eq!(
            words("Łukaszenka — naïve café 23"),
            ["Łukaszenka", "naïve", "café", "23"]
        );
    }

    /// A mark after spaces attaches to them (UAX #29 rule WB4): the piece sent to the
    /// Unicode path must start before the spaces, not at the last one.
    #[test]
    fn words_straddling_ascii_and_other_characters_are_whole() {
        let text = "Müller's café's 1,5é U.É. a.é \u{93e}x  \u{93e}x naïve 🇩🇪 z";
        assert_eq!(
            words(text),
            [
                "Müller's",
                "café's",
                "1,5é",
                "U.É",
                "a.é",
                " \u{93e}",
                "x",
                "  \u{93e}",
                "x",
                "naïve",
                "z"
            ]
        );
        let mut whole = Vec::new();
        unicode_tokens(text, 0, &mut |s, e| whole.push(&text[s..e]));
        assert_eq!(words(text), whole);
    }

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

        /// Oracle: tokens of mixed text, the ASCII runs on the fast path, are the UAX #29
        /// tokens of the whole text, with words straddling both ("Müller", "café's"), the
        /// joining punctuation around them, marks, spaces of every kind, CJK, emoji and flags.
        #[test]
        fn mixed_text_tokens_equal_unicode_segmentation(
            text in "([a-zA-Z0-9_ .,;:'\"!?()\n\r\t-]|[\u{e9}\u{fc}\u{e3}\u{141}\u{3b1}]|\
                     [\u{300}\u{308}\u{93e}\u{ad}\u{200b}-\u{200d}\u{2060}\u{feff}]|\
                     [\u{a0}\u{2003}\u{3000}\u{85}\u{2028}\u{b7}\u{2019}\u{ff0e}\u{fe13}]|\
                     [\u{4e2d}\u{6587}\u{30ab}\u{30fc}\u{3005}\u{5d0}\u{5d1}\u{661}\u{ff11}]|\
                     [\u{1f600}\u{1f44d}\u{1f3fd}\u{2764}\u{fe0f}\u{1f1e9}\u{1f1ea}])*",
        ) {
            let mut mixed = Vec::new();
            for_each_token(&text, |s, e| mixed.push((s, e)));
            let mut whole = Vec::new();
            unicode_tokens(&text, 0, &mut |s, e| whole.push((s, e)));
            prop_assert_eq!(mixed, whole);
        }

        /// The ASCII fast path is exactly UAX #29 on ASCII text.
        #[test]
        fn ascii_fast_path_matches_unicode_segmentation(text in "[a-zA-Z0-9_ .,;:'!?()\\-\"\\n]{0,300}") {
            let mut fast = Vec::new();
            ascii_tokens(text.as_bytes(), 0, &mut |s, e| fast.push((s, e)));
            let mut slow = Vec::new();
            unicode_tokens(&text, 0, &mut |s, e| slow.push((s, e)));
            prop_assert_eq!(fast, slow);
        }
    }

    #[test]
    fn terms_are_stemmed_stopped_and_numbers_canonical() {
        let analyzer = Analyzer::new(Language::English);
        let terms = analyzer.terms("The prisoners were pardoned: three women and 1,000 men");
        let stems: Vec<_> = terms.iter().map(|t| t.stem()).collect();
        assert_eq!(
            stems,
            [
                "the", "prison", "were", "pardon", "3", "women", "and", "1000", "men"
            ]
        );
        let stops: Vec<_> = terms.iter().map(|t| t.stop()).collect();
        assert_eq!(
            stops,
            [true, false, true, false, false, false, true, false, false]
        );
        assert!(terms[4].number() && terms[7].number());
        assert_eq!(terms[1].word(), "prisoners");
    }

    #[test]
    fn other_languages_stem_without_stop_words() {
        let analyzer = Analyzer::new(Language::German);
        let terms = analyzer.terms("die Gefangenen");
        assert_eq!(terms[1].stem(), "gefang");
        assert!(!terms[0].stop());
    }
}
