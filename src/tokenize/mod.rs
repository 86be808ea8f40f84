//! Tokenize stage: Unicode word boundaries (UAX #29) with a fast path for ASCII lines that
//! gives exactly the same tokens (an oracle property test holds them equal), then terms:
//! lower-cased, stop words marked, stemmed with rust-stemmers, number words and numbers
//! canonicalised ("1,000" → "1000", "three" → "3").

use unicode_segmentation::UnicodeSegmentation;

use crate::normalize::{first_non_ascii, is_european_letter, is_ideograph};

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
/// ASCII text takes the fast path, and so does a text whose only other characters are the
/// letters of the European alphabets, such as accented names or a Greek or Russian text, and
/// Chinese characters (`letters_as_ascii`). In a text with yet other characters, so does all
/// of it but the pieces around them (`unicode_pieces`), which take the Unicode path unless the
/// only other characters in them are European letters and ideographs (`piece_tokens`).
pub fn for_each_token(text: &str, mut f: impl FnMut(usize, usize)) {
    for_each_marked_token(text, |start, end, _| f(start, end));
}

/// [`for_each_token`] telling the path of each token, as `f(start, end, ascii)`: `ascii` for an
/// ASCII token of the ASCII fast path (one of the Unicode path may be ASCII too), so the
/// callers that treat ASCII words apart check only the others.
#[inline]
fn for_each_marked_token(text: &str, mut f: impl FnMut(usize, usize, bool)) {
    if text.is_ascii() {
        ascii_tokens(text.as_bytes(), 0, &mut |start, end| f(start, end, true));
    } else {
        for_each_non_ascii_token(text, &mut f);
    }
}

/// [`for_each_marked_token`] of a text with non-ASCII characters: in one call of the ASCII
/// fast path when they are all European letters or ideographs (`letters_as_ascii`), else the
/// pieces around them (`unicode_pieces`) take `piece_tokens` and the rest the ASCII path.
/// Never inlined, so that the ASCII path stays small enough to inline into its callers.
#[inline(never)]
fn for_each_non_ascii_token(text: &str, f: &mut impl FnMut(usize, usize, bool)) {
    let bytes = text.as_bytes();
    if let Some((letters, ideographs)) = letters_as_ascii(text) {
        // The first non-ASCII byte at or after the start of an earlier token (or of the text).
        let mut other = first_non_ascii(bytes).unwrap_or(bytes.len());
        letter_tokens(text, &letters, ideographs, 0, &mut |start, end| {
            if other < start {
                other = first_non_ascii(&bytes[start..]).map_or(bytes.len(), |n| start + n);
            }
            f(start, end, other >= end);
        });
        return;
    }
    let mut done = 0;
    for (start, end) in unicode_pieces(bytes) {
        ascii_tokens(&bytes[done..start], done, &mut |s, e| f(s, e, true));
        piece_tokens(&text[start..end], start, &mut |s, e| f(s, e, false));
        done = end;
    }
    ascii_tokens(&bytes[done..], done, &mut |start, end| f(start, end, true));
}

/// The tokens of a text from its copy by [`letters_as_ascii`], as `f(start, end)` (plus
/// `offset`), in order: the ASCII fast path over the copy, and each ideograph on its own.
fn letter_tokens(
    text: &str,
    letters: &[u8],
    ideographs: bool,
    offset: usize,
    f: &mut impl FnMut(usize, usize),
) {
    if !ideographs {
        ascii_tokens(letters, offset, f);
        return;
    }
    // Where the ideographs before the next token are looked for.
    let mut done = 0;
    ascii_tokens(letters, 0, &mut |start, end| {
        ideograph_tokens(text, done..start, offset, f);
        done = end;
        f(offset + start, offset + end);
    });
    ideograph_tokens(text, done..text.len(), offset, f);
}

/// The tokens of the ideographs in `text[range]`, where no other token lies, as `f(start,
/// end)` (plus `offset`): each is a word of its own (UAX #29 breaks around an ideograph, and
/// the text has no mark to attach to it; every ideograph is alphanumeric, a test checks each).
fn ideograph_tokens(
    text: &str,
    range: std::ops::Range<usize>,
    offset: usize,
    f: &mut impl FnMut(usize, usize),
) {
    let mut from = range.start;
    while let Some(n) = first_non_ascii(&text.as_bytes()[from..range.end]) {
        let at = from + n;
        let c = text[at..].chars().next().unwrap_or_default();
        from = at + c.len_utf8();
        f(offset + at, offset + from);
    }
}

/// `text` with every byte of its European letters ([`is_european_letter`]) an `a` and every
/// byte of its ideographs ([`is_ideograph`]) a space, and whether it has ideographs, when
/// those are its only non-ASCII characters (`None` otherwise). UAX #29 takes each such letter
/// as it takes `a`, a letter, and a run of letters is one letter to every rule; it breaks
/// around an ideograph as around a space. So the ASCII fast path over the copy gives the UAX
/// #29 tokens of the text, byte range for byte range, but the ideographs (`ideograph_tokens`).
fn letters_as_ascii(text: &str) -> Option<(Vec<u8>, bool)> {
    let bytes = text.as_bytes();
    let (mut from, mut ideographs) = (0, false);
    while let Some(n) = first_non_ascii(&bytes[from..]) {
        // The run of non-ASCII characters from there: a word, in Greek or Cyrillic, or
        // Chinese text.
        let at = from + n;
        let (end, c) = (text[at..].char_indices())
            .find(|&(_, c)| {
                let ideograph = is_ideograph(c);
                ideographs |= ideograph;
                c.is_ascii() || !ideograph && !is_european_letter(c)
            })
            .map_or((text.len(), 'a'), |(n, c)| (at + n, c));
        if !c.is_ascii() {
            return None;
        }
        from = end;
    }
    let letters = if ideographs {
        // The letters are two bytes long and the ideographs three: the first byte of each
        // character tells which, and its other bytes follow suit.
        let mut fill = b'a';
        (bytes.iter())
            .map(|&b| match b {
                0..0x80 => b,
                0x80..0xc0 => fill,
                0xc0..0xe0 => {
                    fill = b'a';
                    fill
                }
                _ => {
                    fill = b' ';
                    fill
                }
            })
            .collect()
    } else {
        bytes
            .iter()
            .map(|&b| if b.is_ascii() { b } else { b'a' })
            .collect()
    };
    Some((letters, ideographs))
}

/// `word` lower-cased as [`str::to_lowercase`] does, into `buf` (reused across words, so no
/// word allocates): character by character (the characters below U+0530 from a table,
/// [`lower_below`]), but for a word with a capital sigma, whose lower case depends on its
/// place in the word.
fn lower_case<'a>(word: &str, buf: &'a mut String) -> &'a str {
    buf.clear();
    if word.contains('\u{3a3}') {
        buf.push_str(&word.to_lowercase());
        return buf;
    }
    let table = lower_below();
    for c in word.chars() {
        match table.get(c as usize) {
            Some(&lower) if lower != '\0' => buf.push(lower),
            _ if is_ideograph(c) => buf.push(c),
            _ => buf.extend(c.to_lowercase()),
        }
    }
    buf
}

/// Where the table of [`lower_below`] ends: the Latin, Greek and Cyrillic letters of
/// [`is_european_letter`] are below it.
const LOWER_TABLE_END: u32 = 0x530;

/// The lower case of every character below [`LOWER_TABLE_END`] that lower-cases to one
/// character, by code point (`'\0'` for the others, `İ` alone): a lookup where
/// [`char::to_lowercase`] searches Unicode's table, which is most of the cost of a Greek or
/// Cyrillic word. Built once.
fn lower_below() -> &'static [char] {
    static TABLE: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..LOWER_TABLE_END)
            .map(|code| {
                let mut lower = char::from_u32(code)
                    .into_iter()
                    .flat_map(char::to_lowercase);
                match (lower.next(), lower.next()) {
                    (Some(one), None) => one,
                    _ => '\0',
                }
            })
            .collect()
    })
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

/// The byte ranges of `text` that need the Unicode path, in order, each from the last cut
/// ([`is_cut`]) at or before a non-ASCII byte to the first cut after it: usually the word
/// holding it and the space after. What lies between the ranges is ASCII.
fn unicode_pieces(text: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        let other = from + first_non_ascii(&text[from..])?;
        let start = (from + 1..=other)
            .rev()
            .find(|&at| is_cut(text, at))
            .unwrap_or(from);
        let end = (other + 1..text.len())
            .find(|&at| is_cut(text, at))
            .unwrap_or(text.len());
        from = end;
        Some((start, end))
    })
}

/// [`unicode_tokens`] of a piece of text (one of `unicode_pieces`), as `f(start, end)` (plus
/// `offset`). When its only non-ASCII characters are European letters and ideographs, as in
/// an accented name, the fast path gives them (`letter_tokens`).
fn piece_tokens(piece: &str, offset: usize, f: &mut impl FnMut(usize, usize)) {
    match letters_as_ascii(piece) {
        Some((letters, ideographs)) => letter_tokens(piece, &letters, ideographs, offset, f),
        None => unicode_tokens(piece, offset, f),
    }
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
/// lower-cased on its own, as Unicode asks (`lower_case`). ([`Analyzer::terms`] does the same
/// with a string, whose slicing checks character boundaries: bytes here keep this path 10 %
/// faster.)
pub fn word_hashes(text: &str, lower: &mut Vec<u8>, out: &mut Vec<u64>) {
    lower.clear();
    lower.extend(text.bytes().map(|b| b.to_ascii_lowercase()));
    let mut unicode_lower = String::new();
    for_each_marked_token(text, |start, end, ascii| {
        let word = &lower[start..end];
        if ascii || word.is_ascii() {
            out.push(xxhash_rust::xxh3::xxh3_64(word));
        } else {
            out.push(word_hash(lower_case(&text[start..end], &mut unicode_lower)));
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

    /// Every European letter is tokenized as UAX #29 tokenizes it, beside letters, digits, the
    /// joining punctuation and spaces: the ASCII fast path may take it as an `a`.
    #[test]
    fn european_letters_are_letters_to_unicode_segmentation() {
        let letters: Vec<char> = ('\u{80}'..='\u{fff}')
            .filter(|&c| is_european_letter(c))
            .collect();
        // Latin, Greek and Cyrillic, less what is not a letter.
        assert_eq!(
            letters.len(),
            (0x250 - 0xc0 - 2) + (0x90 - 15) + (0x130 - 8)
        );
        for c in letters {
            assert!(c.is_alphabetic(), "{c:?}");
            for context in [
                "#", "x#", "#1", "1#", "#'#", "#.#", "#:x", "x:#", "1.#", "#,1", "#;1", "_#", "#_",
                " # ", "##a", "#'s", "U.#.", "a'#'", "#\n#", "#-#",
            ] {
                let piece = context.replace('#', &c.to_string());
                let mut fast = Vec::new();
                piece_tokens(&piece, 3, &mut |s, e| fast.push((s, e)));
                let mut slow = Vec::new();
                unicode_tokens(&piece, 3, &mut |s, e| slow.push((s, e)));
                assert_eq!(fast, slow, "{piece:?}");
            }
        }
    }

    /// Every ideograph is tokenized as UAX #29 tokenizes it, beside letters of every kind,
    /// digits, the joining punctuation, spaces, other ideographs and an emoji: the fast path
    /// may take it as a word of its own.
    #[test]
    fn ideographs_are_words_of_their_own_to_unicode_segmentation() {
        let ideographs = ('\u{3400}'..='\u{4dbf}').chain('\u{4e00}'..='\u{9fff}');
        for c in ideographs.filter(|&c| is_ideograph(c)) {
            for context in [
                "#",
                "x#",
                "#x",
                "1#",
                "#1",
                "a'#",
                "#'a",
                "#.#",
                "##",
                "# #",
                "\u{e9}#\u{436}",
                "#\n#",
                "1,#",
                "#_",
                "U.#.",
                "#\u{3b1}'s",
                "#\u{1f600}#",
                "\u{1f600}#'s",
            ] {
                let text = context.replace('#', &c.to_string());
                let mut fast = Vec::new();
                for_each_token(&text, |s, e| fast.push((s, e)));
                let mut slow = Vec::new();
                unicode_tokens(&text, 0, &mut |s, e| slow.push((s, e)));
                assert_eq!(fast, slow, "{text:?}");
            }
        }
    }

    proptest! {
        /// Oracle: on folded mixed news text (curly quotes, dashes, spaces of every kind,
        /// compatibility forms, accented and cased letters, the capital sigma, marks), the
        /// fast path's tokens are the UAX #29 tokens of the whole text, token for token, and
        /// its word hashes and terms are those of each token lower-cased by
        /// `str::to_lowercase`.
        #[test]
        fn folded_news_tokens_and_words_equal_the_unicode_path(
            text in "([a-zA-Z0-9 .,;:'\"\n-]|[\u{2018}-\u{201f}\u{2010}-\u{2015}\u{2212}]|\
                     [\u{2032}\u{2033}\u{2bc}\u{ab}\u{bb}\u{a0}\u{202f}\u{2007}\u{2003}]|\
                     [\u{fb00}-\u{fb06}\u{ff01}-\u{ff5e}\u{2460}-\u{2473}\u{bd}\u{2126}]|\
                     [\u{e9}\u{fc}\u{e3}\u{c9}\u{dc}\u{141}\u{130}\u{3a3}\u{3c3}\u{df}]|\
                     [\u{c0}-\u{24f}\u{250}\u{1e00}\u{ff21}]|[\u{370}-\u{52f}]|\
                     [\u{4e00}-\u{4e0f}\u{9fa5}\u{3400}\u{3001}\u{3002}\u{30ab}\u{f900}]|\
                     [\u{1e9e}\u{300}\u{308}\u{327}])*",
        ) {
            let folded = crate::normalize::fold(&text);
            let mut fast = Vec::new();
            for_each_token(&folded, |s, e| fast.push((s, e)));
            let mut slow = Vec::new();
            unicode_tokens(&folded, 0, &mut |s, e| slow.push((s, e)));
            prop_assert_eq!(&fast, &slow);
            let lower: Vec<String> = slow.iter().map(|&(s, e)| folded[s..e].to_lowercase()).collect();
            let mut hashes = Vec::new();
            word_hashes(&folded, &mut Vec::new(), &mut hashes);
            let slow_hashes: Vec<u64> = lower.iter().map(|w| word_hash(w)).collect();
            prop_assert_eq!(hashes, slow_hashes);
            let terms = Analyzer::new(crate::config::Language::English).terms(&folded);
            let words: Vec<&str> = terms.iter().map(|t| t.word()).collect();
            prop_assert_eq!(words, lower.iter().map(String::as_str).collect::<Vec<_>>());
        }

        /// Oracle: lower-casing into a buffer is `str::to_lowercase`, final sigma included.
        #[test]
        fn lower_case_is_to_lowercase(
            word in "[a-zA-Z'.\u{c0}-\u{17f}\u{391}-\u{3c9}\u{130}\u{1e9e}\u{300}\u{400}-\u{52f}\u{10a0}]{0,12}",
        ) {
            let mut buf = String::from("stale");
            prop_assert_eq!(lower_case(&word, &mut buf), word.to_lowercase());
        }

        /// Oracle: tokens of mixed text, the ASCII runs on the fast path, are the UAX #29
        /// tokens of the whole text, with words straddling both ("Müller", "café's"), the
        /// joining punctuation around them, marks, spaces of every kind, CJK, emoji and flags.
        #[test]
        fn mixed_text_tokens_equal_unicode_segmentation(
            text in "([a-zA-Z0-9_ .,;:'\"!?()\n\r\t-]|[\u{e9}\u{fc}\u{e3}\u{141}\u{3b1}]|\
                     [\u{c0}-\u{24f}]|[\u{c0}-\u{24f}][\u{300}\u{308}\u{327}]|\
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

        /// Oracle: tokens of ASCII text with European letters (the whole-text fast path), and
        /// their paths, are the UAX #29 tokens of the text, with the ASCII ones marked.
        #[test]
        fn european_text_tokens_equal_unicode_segmentation(
            text in "([a-zA-Z0-9_ .,;:'\"!?()\n\r\t-]|[\u{c0}-\u{d6}\u{d8}-\u{f6}\u{f8}-\u{24f}]|\
                     [\u{386}\u{388}-\u{38a}\u{38c}\u{38e}-\u{3a1}\u{3a3}-\u{3ce}]|[\u{400}-\u{481}\u{48a}-\u{52f}]|\
                     [\u{4e00}-\u{4e0f}\u{9fa5}\u{3400}]){0,80}",
        ) {
            let mut fast = Vec::new();
            for_each_marked_token(&text, |s, e, ascii| fast.push((s, e, ascii)));
            let mut slow = Vec::new();
            unicode_tokens(&text, 0, &mut |s, e| slow.push((s, e, false)));
            for (s, e, ascii) in &mut slow {
                *ascii = text[*s..*e].is_ascii();
            }
            prop_assert_eq!(fast, slow);
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
