//! The term-free path of word n-grams: the features of the classic preset straight from a
//! raw text's word hashes, building no terms.

use super::shingle::{family_seed, word_ngrams};
use super::{Feature, sorted_unique};
use crate::config::{Config, Family, Weighting};
use crate::normalize::{fold, normalize};
use crate::tokenize::word_hashes;

/// Whether the term-free word path serves a configuration: every family is word n-grams,
/// unweighted (the classic preset).
pub(crate) fn word_path(config: &Config) -> bool {
    config.weighting == Weighting::None
        && config
            .features
            .0
            .iter()
            .all(|spec| matches!(spec.family, Family::Words { .. }))
}

/// Whether every feature family of a configuration has the same weight.
pub(crate) fn one_weight(config: &Config) -> bool {
    let specs = &config.features.0;
    specs.iter().all(|spec| spec.weight == specs[0].weight)
}

/// The hashes of a raw text's words on the term-free path, into `hashes`.
pub(crate) fn raw_word_hashes(
    text: &str,
    config: &Config,
    lower: &mut Vec<u8>,
    hashes: &mut Vec<u64>,
) {
    // Tokens never span lines, so dropping blank lines (all `normalize` does beyond folding
    // without chrome stripping) changes no word.
    let text: std::borrow::Cow<str> = if config.strip_chrome {
        normalize(text, true).into()
    } else if text.is_ascii() {
        text.into()
    } else {
        fold(text).into()
    };
    hashes.clear();
    word_hashes(&text, lower, hashes);
}

/// Every word n-gram of every family, repeats included, as `emit(hash, weight)`.
pub(crate) fn word_features(hashes: &[u64], config: &Config, mut emit: impl FnMut(u64, f64)) {
    for spec in &config.features.0 {
        if let Family::Words { n } = spec.family {
            let seed = family_seed(spec.family, config.seed);
            word_ngrams(hashes, n, seed, |h, _| emit(h, spec.weight));
        }
    }
}

/// The features of a raw text, when the configuration allows a path that builds no
/// [`Term`](crate::tokenize::Term)s (`word_path`). Equal to [`features`](super::features())
/// of the normalized text's terms; `None` for other configurations.
pub fn fast_features(text: &str, config: &Config) -> Option<Vec<Feature>> {
    if !word_path(config) {
        return None;
    }
    let mut hashes = Vec::with_capacity(text.len() / 5);
    raw_word_hashes(text, config, &mut Vec::new(), &mut hashes);
    let specs = &config.features.0;
    if one_weight(config) {
        // One weight for all: sort and deduplicate bare hashes, which is cheaper.
        let mut keys: Vec<u64> = Vec::with_capacity(hashes.len() * specs.len());
        word_features(&hashes, config, |h, _| keys.push(h));
        keys.sort_unstable();
        keys.dedup();
        return Some(keys.into_iter().map(|h| (h, specs[0].weight)).collect());
    }
    let mut out: Vec<Feature> = Vec::with_capacity(hashes.len() * specs.len());
    word_features(&hashes, config, |h, w| out.push((h, w)));
    Some(sorted_unique(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Features;
    use crate::features::{DocFreq, features};
    use crate::tokenize::Analyzer;

    #[test]
    fn long_words_hash_like_the_term_path() {
        let config = Config {
            features: "words:1".parse::<Features>().unwrap(),
            ..Config::classic()
        };
        for text in [
            format!("{} and {}", "Ab".repeat(50), "cd".repeat(40)),
            format!("{} \u{e9}t\u{e9} fin", "XY".repeat(40)),
        ] {
            let normalized = normalize(&text, config.strip_chrome);
            let terms = Analyzer::new(config.language).terms(&normalized);
            let slow = features(&normalized, &terms, &config, &DocFreq::default());
            assert_eq!(slow.len(), 3);
            assert_eq!(fast_features(&text, &config), Some(slow), "{text}");
        }
    }

    proptest::proptest! {
        /// Oracle: the allocation-free word path gives exactly the features of the term path.
        #[test]
        fn fast_word_features_equal_the_term_path(
            text in "[a-zA-Z0-9 .,'\n\u{2019}\u{e9}\u{c9}\u{201C}\u{2014}\u{a0}\u{fb01}\u{3a3}-]{0,120}",
            n in 1usize..6, strip_chrome in proptest::bool::ANY, second_weight in 1u8..3,
        ) {
            let config = Config {
                features: format!("words:{n},words:{}*{second_weight}", n + 1)
                    .parse::<Features>()
                    .unwrap(),
                weighting: Weighting::None,
                strip_chrome,
                ..Config::classic()
            };
            let normalized = normalize(&text, strip_chrome);
            let terms = Analyzer::new(config.language).terms(&normalized);
            let slow = features(&normalized, &terms, &config, &DocFreq::default());
            proptest::prop_assert_eq!(fast_features(&text, &config), Some(slow));
        }
    }

    #[test]
    fn fast_features_refuse_configurations_they_cannot_serve() {
        assert!(fast_features("a b c", &Config::default()).is_none());
        let idf = Config {
            weighting: Weighting::Idf,
            ..Config::classic()
        };
        assert!(fast_features("a b c", &idf).is_none());
    }
}
