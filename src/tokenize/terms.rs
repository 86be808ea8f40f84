//! Terms: tokens lower-cased, stop words marked, stemmed, numbers canonicalised, each
//! distinct word analysed once into an analyzer's vocabulary.

use std::cell::RefCell;
use std::sync::Arc;

use ahash::AHashMap;

use super::{Token, for_each_marked_token, lower_case, word_hash};
use crate::config::Language;
use crate::hash::term_key;
use crate::probe::ProbeMap;

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
    numbers: ProbeMap<u32>,
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
    /// asks ([`lower_case`]).
    fn number_tokens(&self, text: &str) -> Vec<(u32, Token)> {
        let mut vocabulary = self.vocabulary.borrow_mut();
        if vocabulary.words.len() >= CACHE_LIMIT {
            *vocabulary = Vocabulary::default();
        }
        let lower = text.to_ascii_lowercase();
        let mut unicode_lower = String::new();
        let mut out = Vec::with_capacity(text.len() / 5);
        for_each_marked_token(text, |start, end, ascii| {
            let token = Token { start, end };
            let raw = &text[start..end];
            let id = if ascii || raw.is_ascii() {
                self.number_of(&mut vocabulary, &lower[start..end])
            } else {
                self.number_of(&mut vocabulary, lower_case(raw, &mut unicode_lower))
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
