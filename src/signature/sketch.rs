//! Signatures of documents straight from their text or their terms, without building or
//! sorting a feature list: the path each runner takes over a corpus.

use crate::config::Config;
use crate::features::{
    Feature, WordIdf, each_feature, one_weight, raw_word_hashes, word_features, word_path,
};
use crate::probe::ProbeMap;
use crate::signature::{Signature, Sketcher};
use crate::tokenize::TermRef;

/// Buffers the signature paths ([`fast_sketch`], [`sketch_features`]) reuse from one document
/// to the next (one per thread).
#[derive(Debug, Default)]
pub struct SketchBuffers {
    lower: Vec<u8>,
    hashes: Vec<u64>,
    seen: ProbeMap<()>,
    bins: Vec<u64>,
    weights: ProbeMap<f64>,
}

/// The signature of a raw text straight from its word n-grams, when every family is word
/// n-grams, unweighted (the classic preset): no feature list is built or sorted. When every
/// family weighs the same, a reused set passes each distinct n-gram to the sketch once;
/// otherwise each n-gram's largest weight is kept first (`sketch_largest`). Equal to
/// sketching [`fast_features`](crate::features::fast_features); `None` for other configurations.
pub fn fast_sketch(
    text: &str,
    config: &Config,
    sketcher: &Sketcher,
    buffers: &mut SketchBuffers,
) -> Option<Signature> {
    if !word_path(config) {
        return None;
    }
    let SketchBuffers {
        lower,
        hashes,
        seen,
        bins,
        weights,
    } = buffers;
    raw_word_hashes(text, config, lower, hashes);
    // A text of w words has at most w n-grams per family (one when it is shorter than n).
    let most = hashes.len() * config.features.0.len();
    if !one_weight(config) {
        let each =
            |give: &mut dyn FnMut(Feature)| word_features(hashes, config, |h, w| give((h, w)));
        return Some(sketch_largest(sketcher, weights, bins, most, each));
    }
    seen.reset(most);
    Some(sketcher.sketch_with(bins, |bins| {
        word_features(hashes, config, |h, w| {
            if seen.insert(h) {
                bins.add(h, w);
            }
        })
    }))
}

/// The signature of the features `each` gives (at most `most`, repeats included), each hash at
/// its largest weight, as [`sorted_unique`] keeps it: `weights` and `bins` are reused across
/// documents.
fn sketch_largest(
    sketcher: &Sketcher,
    weights: &mut ProbeMap<f64>,
    bins: &mut Vec<u64>,
    most: usize,
    each: impl FnOnce(&mut dyn FnMut(Feature)),
) -> Signature {
    weights.reset(most);
    each(&mut |(hash, weight)| {
        let (kept, _) = weights.entry(hash, || weight);
        *kept = kept.max(weight);
    });
    sketcher.sketch_with(bins, |bins| {
        for (hash, weight) in weights.iter() {
            bins.add(hash, weight);
        }
    })
}

/// The signature of one document's [`features`](crate::features::features()), which it
/// equals, from terms borrowed from the analyzer's vocabulary, without building or sorting
/// the features (`sketch_largest`, with buffers and IDF weights reused across documents).
pub fn sketch_features(
    text: &str,
    terms: &[TermRef],
    config: &Config,
    idf: &mut WordIdf,
    sketcher: &Sketcher,
    buffers: &mut SketchBuffers,
) -> Signature {
    let SketchBuffers { bins, weights, .. } = buffers;
    let most = terms.len() * config.features.0.len();
    let scale = idf.freq.scale_for(config.weighting);
    let each = |give: &mut dyn FnMut(Feature)| {
        each_feature(text, terms, config, scale, |t| idf.get(t), give)
    };
    sketch_largest(sketcher, weights, bins, most, each)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Features;
    use crate::features::tests::every_family;
    use crate::features::{DocFreq, fast_features, features, is_statement};
    use crate::tokenize::{Analyzer, TermLike};

    proptest::proptest! {
        /// Oracle: the streaming sketch of the word path equals sketching its sorted features,
        /// with one buffer set reused across documents (as each thread does), repeated
        /// n-grams included, for one weight (a set of distinct n-grams) and mixed weights
        /// (each n-gram at its largest).
        #[test]
        fn fast_sketch_equals_sketching_the_features(
            texts in proptest::collection::vec("[a-dA-D0-9 .,\n\u{e9}]{0,200}", 1..6),
            n in 1usize..4, families in 1usize..3, weight in 1u8..4, mixed in proptest::bool::ANY,
        ) {
            let specs: Vec<String> = (0..families)
                .map(|f| format!("words:{}*{}", n + f, weight + u8::from(mixed && f > 0)))
                .collect();
            let config = Config {
                features: specs.join(",").parse::<Features>().unwrap(),
                ..Config::classic()
            };
            let sketcher = Sketcher::new(64, 9, 1.0);
            let mut buffers = SketchBuffers::default();
            for text in &texts {
                let fast = fast_sketch(text, &config, &sketcher, &mut buffers);
                let slow = sketcher.sketch(&fast_features(text, &config).unwrap());
                proptest::prop_assert_eq!(fast, Some(slow));
            }
        }
    }

    proptest::proptest! {
        /// Oracle: sketching each document's features straight from its borrowed terms, with
        /// one buffer set and one table of word IDFs reused across documents, equals sketching
        /// its sorted [`features`] of owned terms, for every family and both weightings
        /// (statements included).
        #[test]
        fn sketch_features_equals_sketching_the_features(
            texts in proptest::collection::vec("[a-fA-F0-9 .,\"\n-]{0,160}", 1..5),
            idf in proptest::bool::ANY, docs in 1u64..50, statement_words in 0usize..30,
        ) {
            let config = every_family(idf, statement_words);
            let analyzer = Analyzer::new(config.language);
            let mut freq = DocFreq { docs, ..DocFreq::default() };
            for (i, term) in analyzer.terms(&texts[0]).iter().enumerate() {
                freq.counts.insert(term.key(), i as u64 % docs);
            }
            let sketcher = Sketcher::new(64, 3, 1.0);
            let mut buffers = SketchBuffers::default();
            let mut idf = WordIdf::new(&freq);
            for text in &texts {
                let terms = analyzer.terms(text);
                let slow = sketcher.sketch(&features(text, &terms, &config, &freq));
                let fast = analyzer.with_terms(text, |terms| {
                    sketch_features(text, terms, &config, &mut idf, &sketcher, &mut buffers)
                });
                proptest::prop_assert_eq!(fast, slow);
            }
        }
    }

    #[test]
    fn a_hash_seen_twice_keeps_its_largest_weight_when_sketched() {
        // In a statement the stop word "does" and the word "doe" share the stem "doe": one
        // hash, first at the floor weight, then at the IDF of "doe".
        let analyzer = Analyzer::new(crate::config::Language::English);
        let text = "It does. The doe ran.";
        let terms = analyzer.terms(text);
        assert_eq!((terms[1].stem(), terms[1].stop()), ("doe", true));
        assert_eq!((terms[3].stem(), terms[3].stop()), ("doe", false));
        let mut freq = DocFreq::default();
        freq.add(&terms);
        freq.add(&analyzer.terms("A cat sat."));
        let config = Config::default();
        assert!(is_statement(&terms, &config));
        let sketcher = Sketcher::new(64, 3, 1.0);
        let slow = sketcher.sketch(&features(text, &terms, &config, &freq));
        let mut buffers = SketchBuffers::default();
        let mut idf = WordIdf::new(&freq);
        let fast = analyzer.with_terms(text, |terms| {
            sketch_features(text, terms, &config, &mut idf, &sketcher, &mut buffers)
        });
        // The two weights differ: "doe" is in one document of two, above the floor of 1.
        assert!(freq.idf(terms[3].key()) > 1.0);
        assert_eq!(fast, slow);
    }
}
