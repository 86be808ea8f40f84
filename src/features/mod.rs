//! Features stage: what a document is compared by. Shingle families over its terms (stem
//! n-grams, raw word n-grams, character n-grams, news facts: `shingle`), each hashed by a
//! function frozen across versions and platforms (xxh3 for words and characters; for stems,
//! [`crate::hash::mix`] rounds over the stems' xxh3 keys) and weighted by the inverse
//! document frequency of its stems (`idf`); a short document is a statement, fingerprinted
//! by its words (`statements`); the fact slots a fact check compares (`facts`); and the
//! term-free path of word n-grams (`words`). [`crate::signature`] sketches them.

mod facts;
mod idf;
mod shingle;
mod statements;
mod words;

#[cfg(test)]
pub(crate) mod tests;

pub use crate::hash::term_key;
pub use facts::{Slot, fact_slots, number_facts, quotes};
pub use idf::{DocFreq, RARE_WEIGHT, WordIdf, term_keys};
pub use statements::is_statement;
pub use words::fast_features;
pub(crate) use words::{one_weight, raw_word_hashes, word_features, word_path};

use crate::config::{Config, Weighting};
use crate::tokenize::TermLike;
use idf::IdfMemo;
use shingle::{Content, Parts};

/// A hashed feature and its weight.
pub type Feature = (u64, f64);

/// The features of one document (sorted by hash, each hash once with its largest weight).
pub fn features<T: TermLike>(
    text: &str,
    terms: &[T],
    config: &Config,
    freq: &DocFreq,
) -> Vec<Feature> {
    let mut out: Vec<Feature> = Vec::with_capacity(terms.len() * config.features.0.len());
    let mut idf = IdfMemo::new(freq, terms.len());
    let scale = freq.scale_for(config.weighting);
    each_feature(
        text,
        terms,
        config,
        scale,
        |t: &T| idf.get(t.key()),
        |feature| out.push(feature),
    );
    sorted_unique(out)
}

/// Every feature of one document, repeats included, weighted (see [`features`]) with `scale`
/// and each term's IDF from `idf`.
pub(crate) fn each_feature<T: TermLike>(
    text: &str,
    terms: &[T],
    config: &Config,
    scale: f64,
    mut idf: impl FnMut(&T) -> f64,
    mut give: impl FnMut(Feature),
) {
    let content = Content::new(terms, config);
    let idfs: Vec<f64> = match config.weighting {
        Weighting::Idf => content.terms.iter().map(|t| idf(t)).collect(),
        Weighting::None => Vec::new(),
    };
    content.each_shingle(text, config, |hash, family_weight, parts| {
        // A shingle is at least as rare as its rarest stem: its weight is their largest IDF,
        // the closest bound available from unigram frequencies alone (measured: nearer to true
        // n-gram IDF than the mean, the sum or the minimum), which keeps memory bounded by the
        // vocabulary.
        let weight = match (config.weighting, parts) {
            (Weighting::None, _) | (_, Parts::Unweighted) => 1.0,
            (Weighting::Idf, parts) => {
                let mut largest = 0.0f64;
                parts.each(&idfs, |i| idf(&terms[i]), |w| largest = largest.max(w));
                largest
            }
        };
        give((hash, family_weight * weight * scale));
    });
}

/// Features sorted by hash, each hash once with its largest weight.
fn sorted_unique(mut out: Vec<Feature>) -> Vec<Feature> {
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    out.dedup_by_key(|f| f.0);
    out
}

/// A document's features with their weights left open: each shingle's hash, its family's
/// weight and the term keys whose IDF weights it. [`FeatureTerms::weighted`] with any document
/// frequencies gives exactly [`features`] with those frequencies, without tokenizing or
/// stemming again: the index stores this, so verifying a candidate is a read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureTerms {
    /// The distinct term keys the shingles refer to, sorted.
    pub keys: Vec<u64>,
    /// Each shingle (repeats included), sorted by hash.
    pub shingles: Vec<ShingleTerms>,
    /// Indices into `keys`: shingle `s` uses `terms[s.start..s.start + s.len]`.
    pub terms: Vec<u32>,
}

/// One shingle of a [`FeatureTerms`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShingleTerms {
    /// The shingle's hash.
    pub hash: u64,
    /// Its family's weight.
    pub family_weight: f64,
    /// Where its term indices start in [`FeatureTerms::terms`].
    pub start: u32,
    /// How many terms weight it; 0 for a shingle never IDF-weighted (character n-grams).
    pub len: u32,
}

impl FeatureTerms {
    /// The open features of a document.
    pub fn new(text: &str, terms: &[impl TermLike], config: &Config) -> FeatureTerms {
        let mut shingles: Vec<(u64, f64, Vec<u64>)> = Vec::new();
        let content = Content::new(terms, config);
        content.each_shingle(text, config, |hash, family_weight, parts| {
            let mut keys = Vec::new();
            parts.each(&content.keys, |i| terms[i].key(), |key| keys.push(key));
            shingles.push((hash, family_weight, keys));
        });
        shingles.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut keys: Vec<u64> = shingles.iter().flat_map(|s| s.2.iter().copied()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut out = FeatureTerms {
            keys,
            ..FeatureTerms::default()
        };
        for (hash, family_weight, parts) in shingles {
            out.shingles.push(ShingleTerms {
                hash,
                family_weight,
                start: out.terms.len() as u32,
                len: parts.len() as u32,
            });
            for key in parts {
                // Every part's key is in `keys`, which was built from them.
                let at = out.keys.binary_search(&key).unwrap_or_default();
                out.terms.push(at as u32);
            }
        }
        out
    }

    /// The features weighted with `freq`: equal to [`features`] of the same document.
    pub fn weighted(&self, weighting: Weighting, freq: &DocFreq) -> Vec<Feature> {
        let idf: Vec<f64> = match weighting {
            Weighting::Idf => self.keys.iter().map(|&key| freq.idf(key)).collect(),
            Weighting::None => Vec::new(),
        };
        let scale = freq.scale_for(weighting);
        let out = self
            .shingles
            .iter()
            .map(|s| {
                let parts = &self.terms[s.start as usize..(s.start + s.len) as usize];
                let weight = match weighting {
                    _ if parts.is_empty() => 1.0,
                    Weighting::None => 1.0,
                    Weighting::Idf => parts.iter().map(|&i| idf[i as usize]).fold(0.0, f64::max),
                };
                (s.hash, s.family_weight * weight * scale)
            })
            .collect();
        sorted_unique(out)
    }
}
