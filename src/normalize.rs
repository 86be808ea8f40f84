//! Normalize stage: Unicode NFKC, typographic quotes and dashes folded to ASCII, and page
//! chrome dropped. Case is kept (the tokenizer folds it per token) so later stages can still
//! show the text as written.

use unicode_normalization::UnicodeNormalization;

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

/// NFKC plus typographic folding; ASCII text is returned as is, without allocation work.
pub fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_string();
    }
    text.nfkc().map(fold_char).collect()
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

/// Whether a line is page chrome rather than article text. The rule is general, not a list
/// of strings:
/// - a link line: at least half of its words are links or domains ("👉 bdphone.com");
/// - a fragment: one word, or at most 3 words not ending a sentence ("Share.", "Read also");
/// - a label: at most 6 words, no digit, not ending a sentence ("Exit mobile version",
///   "Site icon Bangladeshi Help", section headings).
///
/// Fragments and labels must start with a capital or a symbol.
///
/// Wrapped lines of running text start in lower case and are never chrome.
pub fn is_chrome(line: &str) -> bool {
    let words: Vec<&str> = line
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    if words.is_empty() {
        return !line.trim().is_empty();
    }
    let links = words.iter().filter(|w| looks_like_link(w)).count();
    if links * 2 >= words.len() {
        return true;
    }
    let starts_lower = line
        .trim_start()
        .chars()
        .find(|c| c.is_alphanumeric())
        .is_some_and(char::is_lowercase);
    if starts_lower {
        return false;
    }
    if words.len() == 1 {
        return true;
    }
    let ends_sentence = line
        .trim_end()
        .ends_with(['.', '!', '?', '"', '\'', ':', ';', ')']);
    if ends_sentence {
        return false;
    }
    words.len() <= 3 || (words.len() <= 6 && !line.chars().any(|c| c.is_ascii_digit()))
}

/// The normalized text of a document: folded, with chrome lines removed (when asked) and
/// blank lines dropped. If every line looks like chrome (a one-line note, say), the text is
/// kept whole: a short document is still a document.
pub fn normalize(text: &str, strip_chrome: bool) -> String {
    let folded = fold(text);
    let keep = |line: &&str| !(line.trim().is_empty() || strip_chrome && is_chrome(line));
    let kept: Vec<&str> = folded.lines().filter(keep).collect();
    if kept.is_empty() {
        return folded
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
    }
    kept.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typography_is_folded() {
        assert_eq!(
            fold("\u{201C}crimes\u{201D} \u{2014} Lukashenko\u{2019}s \u{FB01}le"),
            "\"crimes\" - Lukashenko's file"
        );
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
            "kinds of student",
            "The pardons come amid a renewed crackdown on dissent.",
            "He said so.",
            "U.S. officials met in Geneva on Monday, officials said.",
        ] {
            assert!(!is_chrome(text), "{text}");
        }
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
