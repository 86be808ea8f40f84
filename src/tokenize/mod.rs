//! Tokenize stage: Unicode word boundaries (UAX #29) with a fast path for ASCII lines that
//! gives exactly the same tokens (an oracle property test holds them equal), then terms:
//! lower-cased, stop words marked, stemmed with rust-stemmers, number words and numbers
//! canonicalised ("1,000" → "1000", "three" → "3").

use unicode_segmentation::UnicodeSegmentation;

use crate::normalize::pieces_around_non_ascii;

mod ascii;
mod terms;

pub use ascii::ascii_tokens;
pub use terms::{Analyzer, Term, TermLike, TermRef, Word};

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
/// the pieces around them (`unicode_pieces`), which take the Unicode path.
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

/// The hash of a lower-cased word, as word shingles use it: xxh3 of its UTF-8 bytes.
pub fn word_hash(lower: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(lower.as_bytes())
}

/// Appends the [`word_hash`] of every token of a (folded) text: the path of word shingles that
/// builds no string per word, equal to hashing each [`Term::word`] (an oracle test in
/// `features` holds them equal). The text is ASCII-lower-cased once into `lower` (reused across
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
}
