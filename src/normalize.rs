//! Normalize stage: Unicode NFKC, typographic quotes and dashes folded to ASCII, and page
//! chrome dropped. Case is kept (the tokenizer folds it per token) so later stages can still
//! show the text as written.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Folds one character's typographic variants: curly quotes, primes, dashes, the non-breaking
/// space. NFKC does not fold these, and rewrites disagree on them constantly.
fn fold_char(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => '\'',
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => '"',
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}'
        | '\u{2212}' => '-',
        '\u{00A0}' | '\u{202F}' | '\u{2007}' => ' ',
        c => c,
    }
}

/// Whether a character is a letter of the European alphabets: Latin (Latin-1, Latin
/// Extended-A and -B: U+00C0 to U+024F but `×` and `÷`), Greek (U+0370 to U+03FF but its
/// signs and punctuation) and Cyrillic (U+0400 to U+052F but its signs and combining marks).
/// To word segmentation each is a letter, as `a` is (a test checks every one).
pub(crate) fn is_european_letter(c: char) -> bool {
    match c {
        '\u{c0}'..='\u{24f}' => !matches!(c, '\u{d7}' | '\u{f7}'),
        '\u{370}'..='\u{3ff}' => !matches!(
            c,
            '\u{375}' | '\u{378}'..='\u{379}' | '\u{37e}' | '\u{380}'..='\u{385}' | '\u{387}'
                | '\u{38b}' | '\u{38d}' | '\u{3a2}' | '\u{3f6}'
        ),
        '\u{400}'..='\u{52f}' => !matches!(c, '\u{482}'..='\u{489}'),
        _ => false,
    }
}

/// Whether a character is a CJK unified ideograph (U+3400 to U+4DBF, U+4E00 to U+9FFF): to
/// word segmentation a word of its own, apart from every neighbour but a mark after it (a test
/// checks every one).
pub(crate) fn is_ideograph(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}')
}

/// Whether a character folds ([`fold_char`]) without NFKC: the typographic characters news
/// text is full of, all but the double prime (which NFKC turns into two primes), the
/// ideographs ([`is_ideograph`]), and the European letters ([`is_european_letter`]) but the
/// ligatures and compatibility letters (`ĳ`, `ŀ`, `ŉ`, `ſ`, `ǆ`, `ǳ`…, the Greek numeral sign
/// and the Greek letter symbols `ϐ`, `ϑ`, `ϕ`…), which NFKC changes. NFKC leaves each alone
/// or gives what it folds to, it has combining class 0, and no composition takes it as its
/// second character (a test checks all three), so NFKC changes nothing across a cut before
/// one.
fn folds_alone(c: char) -> bool {
    kept_alone(c) || c != '\u{2033}' && fold_char(c) != c
}

/// Whether a character folds alone ([`folds_alone`]) to itself: a European letter that NFKC
/// keeps, or an ideograph.
fn kept_alone(c: char) -> bool {
    is_ideograph(c)
        || is_european_letter(c)
            && !matches!(
                c,
                '\u{132}' | '\u{133}' | '\u{13f}' | '\u{140}' | '\u{149}' | '\u{17f}' | '\u{1c4}'
                    ..='\u{1cc}' | '\u{1f1}'..='\u{1f3}' | '\u{374}' | '\u{37a}' | '\u{3d0}'..='\u{3d6}'
                    | '\u{3f0}'..='\u{3f2}' | '\u{3f4}' | '\u{3f5}' | '\u{3f9}'
            )
}

/// NFKC plus typographic folding, in one pass over the text. ASCII is its own NFKC and is
/// copied as is, and the characters that fold alone (`folds_alone`) are folded one by one:
/// NFKC runs only on the pieces around other characters, and not at all on a piece that the
/// NFKC quick check finds normalized already. A piece runs from the character before such a
/// character (which a combining mark after it may compose with), or the end of the previous
/// piece, to the next cut (`is_nfkc_cut`); NFKC of the text is NFKC of each piece with the
/// rest unchanged.
pub fn fold(text: &str) -> String {
    let Some(first) = first_non_ascii(text.as_bytes()) else {
        return text.to_string();
    };
    let mut out = String::with_capacity(text.len());
    // `text[..copied]` is folded into `out`, and `text[copied..at]` is its own folding (ASCII
    // and characters that fold alone to themselves, such as the letters of a Greek or Cyrillic
    // word, copied in one piece when something else comes); `alone` is where the last
    // character folded alone to another starts in `text` and in `out`, when it ends at
    // `copied`.
    let (mut copied, mut alone, mut next) = (0, None, Some(first));
    while let Some(at) = next {
        let c = text[at..].chars().next().unwrap_or_default();
        if folds_alone(c) {
            let after = at + c.len_utf8();
            let folded = fold_char(c);
            if folded != c {
                out.push_str(&text[copied..at]);
                alone = Some((at, out.len()));
                out.push(folded);
                copied = after;
            }
            // The rest of a Greek or Cyrillic word, or of a Chinese sentence, folds to itself:
            // it stays in the copy.
            let own = text[after..]
                .char_indices()
                .find(|&(_, c)| !kept_alone(c))
                .map_or(text.len(), |(n, _)| after + n);
            next = next_non_ascii(text, own);
            continue;
        }
        let start = if at > copied {
            // The character before, which a mark may compose with: ASCII or one that folds
            // alone to itself.
            (copied..at)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(copied)
        } else if let Some((start, folded)) = alone {
            // The piece starts at that character: its folding is undone.
            out.truncate(folded);
            start
        } else {
            copied
        };
        out.push_str(&text[copied..start.max(copied)]);
        let end = (at + 1..text.len())
            .find(|&i| is_nfkc_cut(text, i))
            .unwrap_or(text.len());
        let piece = &text[start..end];
        if is_nfkc_quick(piece.chars()) == IsNormalized::Yes {
            out.extend(piece.chars().map(fold_char));
        } else {
            out.extend(piece.nfkc().map(fold_char));
        }
        (copied, alone) = (end, None);
        next = next_non_ascii(text, end);
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether NFKC of a text is NFKC of its two parts cut before byte `at`: when an ASCII
/// character or one that folds alone starts there. Such a character has combining class 0, so
/// no mark is reordered or composed across it, and no composition takes it as its second
/// character (a test checks every decomposition).
fn is_nfkc_cut(text: &str, at: usize) -> bool {
    text.as_bytes()[at].is_ascii()
        || text.is_char_boundary(at) && text[at..].chars().next().is_some_and(folds_alone)
}

/// The position of the first non-ASCII byte at or after byte `from`.
fn next_non_ascii(text: &str, from: usize) -> Option<usize> {
    first_non_ascii(&text.as_bytes()[from..]).map(|n| from + n)
}

/// The position of the first non-ASCII byte, looked for 32 bytes at a time (the high bits of
/// four `u64`s or'ed), then eight at a time: the lowest high bit of a little-endian `u64` is
/// the first such byte, so a short run of ASCII (news text has a non-breaking space or a curly
/// quote every few words) costs as little as a long one.
pub(crate) fn first_non_ascii(bytes: &[u8]) -> Option<usize> {
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Within a Greek, Cyrillic or Chinese run the next character is one at once.
    if bytes.first().is_some_and(|b| !b.is_ascii()) {
        return Some(0);
    }
    let word = |chunk: &[u8]| u64::from_le_bytes(chunk.try_into().unwrap_or_default());
    let ascii_blocks = bytes
        .chunks_exact(32)
        .take_while(|block| block.chunks_exact(8).fold(0, |any, c| any | word(c)) & HIGHS == 0)
        .count();
    let from = 32 * ascii_blocks;
    let mut chunks = bytes[from..].chunks_exact(8);
    for (k, chunk) in (&mut chunks).enumerate() {
        let high = word(chunk) & HIGHS;
        if high != 0 {
            return Some(from + 8 * k + high.trailing_zeros() as usize / 8);
        }
    }
    let rest = chunks.remainder();
    let n = rest.iter().position(|b| !b.is_ascii())?;
    Some(bytes.len() - rest.len() + n)
}

/// Whether a white-space separated token looks like a link, a domain or a handle.
fn looks_like_link(token: &str) -> bool {
    let token = token.trim_matches(|c: char| !c.is_alphanumeric());
    if token.contains("://") || token.starts_with("www.") {
        return true;
    }
    match token.rsplit_once('.') {
        Some((head, tld)) => {
            !head.is_empty()
                && !head.contains('.')
                && (2..=6).contains(&tld.len())
                && tld.chars().all(|c| c.is_ascii_lowercase())
                && head.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && head.chars().any(|c| c.is_ascii_lowercase())
        }
        None => false,
    }
}

/// Alphanumeric words on a line, and how many of them look like links ([`looks_like_link`]),
/// in one pass. On an ASCII line (without the vertical tab, white space to Unicode but not
/// to ASCII) the byte tests give what the Unicode ones do, several times faster.
fn words_and_links(line: &str) -> (usize, usize) {
    if line.is_ascii() && !line.contains('\x0b') {
        tally(line.split_ascii_whitespace(), |word| {
            word.bytes().any(|b| b.is_ascii_alphanumeric())
        })
    } else {
        tally(line.split_whitespace(), |word| {
            word.chars().any(char::is_alphanumeric)
        })
    }
}

/// [`words_and_links`] of a line split into `words`, `alphanumeric` telling words from
/// punctuation. A link has a `.` or a `:` (`://`), so other words skip the test.
fn tally<'a>(
    words: impl Iterator<Item = &'a str>,
    alphanumeric: impl Fn(&str) -> bool,
) -> (usize, usize) {
    let (mut words_seen, mut links) = (0, 0);
    for word in words {
        if alphanumeric(word) {
            words_seen += 1;
            // Bytes, not chars: an ASCII byte is never part of another character in UTF-8.
            if word.bytes().any(|b| b == b'.' || b == b':') && looks_like_link(word) {
                links += 1;
            }
        }
    }
    (words_seen, links)
}

/// Whether a line ends a sentence: `.`, `!`, `?` or `:`, possibly followed by closing quotes
/// or brackets.
fn ends_sentence(line: &str) -> bool {
    line.trim_end()
        .trim_end_matches(['"', '\'', ')', ']'])
        .ends_with(['.', '!', '?', ':'])
}

/// Which lines of a text are page chrome rather than article text. The rule is general, not
/// a list of strings. A line is chrome when it is a link line, or when it is not part of a
/// hard-wrapped paragraph and is either a fragment of at most 2 words ("Share.", "Read also")
/// or a label of fewer than 8 words that does not end a sentence ("Exit mobile version",
/// "Site icon Bangladeshi Help", section headings). A line belongs to a wrapped paragraph when
/// the line before it (with no blank line between) does not end a sentence, or when it does
/// not end one itself and the next line starts in lower case.
pub fn chrome_lines(lines: &[&str]) -> Vec<bool> {
    let mut out = Vec::with_capacity(lines.len());
    let mut previous_open = false;
    // The first line is the headline unless it is a fragment or links: a flash's headline may
    // be the only place the company it is about is named.
    let mut headline = true;
    for (k, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            previous_open = false;
            out.push(false);
            continue;
        }
        let (words, links) = words_and_links(line);
        let ends = ends_sentence(line);
        let next_lower = lines
            .get(k + 1)
            .and_then(|next| next.trim_start().chars().next())
            .is_some_and(char::is_lowercase);
        let wrapped = previous_open || (!ends && next_lower);
        let short = words <= 2 || (words < 8 && !ends && !headline);
        // Mostly links or domains ("👉 bdphone.com", "Follow www.x.com").
        let link_line = links > 0 && links * 2 >= words;
        out.push(link_line || (!wrapped && short));
        headline = false;
        previous_open = !ends;
    }
    out
}

/// The normalized text of a document: folded, with chrome lines removed (when asked) and
/// blank lines dropped. If every line looks like chrome (a one-line note, say), the text is
/// kept whole: a short document is still a document. So a text of one line (many JSONL
/// corpora hold a paragraph per document) is kept without looking for chrome.
pub fn normalize(text: &str, strip_chrome: bool) -> String {
    let folded = fold(text);
    let lines: Vec<&str> = folded.lines().collect();
    let several_lines = || {
        lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .nth(1)
            .is_some()
    };
    let chrome = if strip_chrome && several_lines() {
        chrome_lines(&lines)
    } else {
        vec![false; lines.len()]
    };
    kept_text(&lines, &chrome)
}

/// The non-blank lines not marked as chrome, joined; all non-blank lines if that leaves none.
fn kept_text(lines: &[&str], chrome: &[bool]) -> String {
    let text_lines = |skip_chrome: bool| {
        lines
            .iter()
            .zip(chrome)
            .filter(|(l, c)| !(l.trim().is_empty() || skip_chrome && **c))
            .map(|(l, _)| *l)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let kept = text_lines(true);
    if kept.is_empty() {
        text_lines(false)
    } else {
        kept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`fold`] must give: NFKC and typographic folding of the whole text at once.
    fn fold_whole(text: &str) -> String {
        text.nfkc().map(fold_char).collect()
    }

    #[test]
    fn no_composition_takes_an_ascii_second_character_or_one_that_folds_alone() {
        // Every pair NFC composes is a canonical decomposition, so every second character of
        // one appears after the first character of some full decomposition.
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let mut parts = Vec::new();
            unicode_normalization::char::decompose_canonical(c, |part| parts.push(part));
            assert!(
                parts
                    .iter()
                    .skip(1)
                    .all(|&p| !p.is_ascii() && !folds_alone(p)),
                "{c:?}"
            );
        }
        let alone: Vec<char> = (0..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|&c| folds_alone(c))
            .collect();
        let typographic = alone.iter().filter(|&&c| fold_char(c) != c).count();
        assert_eq!(typographic, 22);
        for c in alone {
            assert_eq!(unicode_normalization::char::canonical_combining_class(c), 0);
            assert_eq!(fold_whole(&c.to_string()), fold_char(c).to_string());
        }
    }

    /// The European letters that fold alone are those NFKC keeps, and NFKC keeps each of them
    /// whatever ASCII follows: none is a compatibility character or waits for a mark.
    #[test]
    fn european_letters_fold_alone_when_nfkc_keeps_them() {
        for c in ('\u{80}'..='\u{52f}').filter(|&c| is_european_letter(c)) {
            let alone = c.to_string();
            let kept =
                is_nfkc_quick(alone.chars()) == IsNormalized::Yes && alone.nfkc().eq(alone.chars());
            assert_eq!(folds_alone(c), kept, "{c:?}");
            assert!(c.is_alphabetic(), "{c:?}");
        }
    }

    #[test]
    fn marks_compose_across_pieces() {
        for text in [
            "Cafe\u{301}",
            "e\u{301}\u{300}x",
            "\u{301}a",
            "ﬁ\u{2019}s a\u{308}b",
            "x\u{2019}\u{301}\u{2014}e\u{301}",
            "\u{a0}\u{308}a\u{2013}\u{e9}\u{327}\u{301}\u{a0}",
            "\u{f8}\u{301}",
            "G\u{fc}\u{304}l \u{2019}\u{f8}\u{301}\u{e9}",
            "\u{e9}\u{e9}\u{301}\u{e9}",
            "\u{c5}\u{1c4}\u{30c}\u{17f}\u{307}x",
            "\u{202f}\u{2126}",
            "\u{2018}\u{dd9}",
            "\u{436}\u{438}\u{306}\u{2019}\u{3b1}\u{301}\u{3d2}\u{301}",
        ] {
            assert_eq!(fold(text), fold_whole(text), "{text:?}");
        }
        assert_eq!(fold("Mu\u{308}ller\u{2019}s"), "M\u{fc}ller's");
    }

    #[test]
    fn typography_is_folded() {
        assert_eq!(
            fold("\u{201C}crimes\u{201D} \u{2014} Lukashenko\u{2019}s \u{FB01}le"),
            "\"crimes\" - Lukashenko's file"
        );
    }

    /// Whether `line` is chrome below a first line (which may be a headline).
    fn is_chrome(line: &str) -> bool {
        chrome_lines(&["The minister resigned.", line])[1]
    }

    #[test]
    fn a_first_line_is_a_headline_unless_a_fragment_or_links() {
        let notice = [
            "SIERRA PACIFIC RESOURCES <SRP> SETS DIVIDEND",
            "",
            "Qtly div 15 cts vs 15 cts prior, pay May 1, record April 15.",
        ];
        assert_eq!(chrome_lines(&notice), [false, false, false]);
        assert!(chrome_lines(&["Share.", "The minister resigned."])[0]);
        assert!(chrome_lines(&["👉 www.forexdhaka.com", "The minister resigned."])[0]);
    }

    #[test]
    fn chrome_lines_are_recognised_by_shape() {
        for chrome in [
            "Share.",
            "Exit mobile version",
            "Weather     Live Markets",
            "Site icon Bangladeshi Help",
            "👉 www.forexdhaka.com",
            "👉 ultra-sim.com",
            "Read also",
            "More news",
            "Crackdown on Dissent",
        ] {
            assert!(is_chrome(chrome), "{chrome}");
        }
        for text in [
            "Belarus President Lukashenko Pardons 23 Political Prisoners Ahead of Election",
            "Who Were the Released Prisoners?",
            "The pardons come amid a renewed crackdown on dissent.",
            "He said so.",
            "U.S. officials met in Geneva on Monday, officials said.",
        ] {
            assert!(!is_chrome(text), "{text}");
        }
    }

    proptest::proptest! {
        /// Oracle: folding piece by piece equals folding the whole text, byte for byte, on
        /// mixed text with what NFKC and the folding change: every character that folds alone
        /// and the double prime, spaces, compatibility forms, every European letter (those that
        /// fold alone and the compatibility ones) and combining marks (after ASCII letters and
        /// after characters that fold alone too), Hangul jamo, CJK and emoji.
        #[test]
        fn folding_pieces_equals_folding_the_whole_text(
            text in "([a-zA-Z0-9 .,'\"\n-]|[\u{300}-\u{36f}\u{1dc0}\u{20d0}]|\
                     [\u{2018}-\u{201f}\u{2010}-\u{2015}\u{a0}\u{202f}\u{ab}\u{bb}]|\
                     [\u{2007}\u{2212}\u{2032}\u{2033}\u{2bc}\u{2003}\u{3000}]|\
                     [\u{c0}-\u{ff}\u{100}-\u{17f}\u{1e9e}\u{3a3}]|[\u{180}-\u{24f}]|\
                     [\u{370}-\u{3ff}]|[\u{400}-\u{52f}\u{419}\u{439}\u{451}]|\
                     [\u{4e00}-\u{4e0f}\u{9fa5}\u{3400}\u{f900}\u{3001}]|\
                     [\u{fb00}-\u{fb06}\u{ff01}-\u{ff5e}\u{2460}-\u{2473}\u{bd}\u{2126}]|\
                     [\u{1100}-\u{1112}\u{1161}-\u{1175}\u{11a8}-\u{11c2}\u{ac00}]|\
                     [\u{e9}\u{fc}\u{141}\u{4e2d}\u{6587}\u{1f600}\u{1f44d}\u{1f3fd}\u{200d}]|\
                     [\u{b47}\u{b3e}\u{dd9}\u{dcf}\u{1025}\u{102e}\u{3099}\u{304b}])*",
        ) {
            proptest::prop_assert_eq!(fold(&text), fold_whole(&text));
        }

        /// Oracle: the first non-ASCII byte, 32 and eight bytes at a time, is the first one
        /// by one.
        #[test]
        fn first_non_ascii_is_found(
            mut bytes in proptest::collection::vec(0u8..128, 0..300),
            at in proptest::collection::vec(0usize..320, 0..3), other in 128u8..=255,
        ) {
            for at in at {
                if let Some(b) = bytes.get_mut(at) {
                    *b = other;
                }
            }
            let slow = bytes.iter().position(|b| !b.is_ascii());
            proptest::prop_assert_eq!(first_non_ascii(&bytes), slow);
        }

        /// Oracle: the ASCII fast path counts what the Unicode path counts.
        #[test]
        fn words_and_links_equal_the_unicode_count(
            line in "([\x00-\x7f]|[\u{85}\u{a0}\u{2003}é€]|www\\.|[a-z]{2,3}\\.com|://)*",
        ) {
            let unicode = tally(line.split_whitespace(), |w| w.chars().any(char::is_alphanumeric));
            proptest::prop_assert_eq!(words_and_links(&line), unicode);
        }

        /// Oracle: skipping chrome detection on a one-line text changes nothing: normalizing
        /// equals looking for chrome on every text, of one line or several.
        #[test]
        fn one_line_texts_need_no_chrome_detection(
            text in "(Share\\.|[a-z]{1,8}|www\\.x\\.com|[ .:]|\n{1,2}){0,40}",
        ) {
            let folded = fold(&text);
            let lines: Vec<&str> = folded.lines().collect();
            let looked = kept_text(&lines, &chrome_lines(&lines));
            proptest::prop_assert_eq!(normalize(&text, true), looked);
        }
    }

    #[test]
    fn wrapped_paragraph_lines_are_text() {
        let lines = [
            "Inheritance is a basic concept of Object-Oriented Programming where",
            "the basic idea is to create",
            "New classes",
            "that add extra detail.",
            "Crackdown on Dissent",
            "The pardons come amid a renewed crackdown on dissent.",
        ];
        assert_eq!(
            chrome_lines(&lines),
            [false, false, false, false, true, false]
        );
    }

    #[test]
    fn a_document_of_only_chrome_is_kept_whole() {
        assert_eq!(
            normalize("Breaking News\n\nShare.", true),
            "Breaking News\nShare."
        );
        assert_eq!(
            normalize("Share.\nThe minister resigned on Friday, aides said.", true),
            "The minister resigned on Friday, aides said."
        );
        assert_eq!(normalize("Share.\nText here.", false), "Share.\nText here.");
    }
}
