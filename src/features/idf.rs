//! Document frequencies and the inverse document frequency that weights features.

use ahash::AHashMap;

use crate::config::Weighting;
use crate::probe::ProbeMap;
use crate::tokenize::{TermLike, TermRef};

/// The sorted distinct keys of a document's non-stop terms: what document frequencies count.
pub fn term_keys(terms: &[impl TermLike]) -> Vec<u64> {
    let mut keys: Vec<u64> = terms
        .iter()
        .filter(|t| !t.stop())
        .map(|t| t.key())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Document frequencies of terms, from a batch or an index. Memory is bounded by the
/// vocabulary (one entry per distinct stem), never by the number of shingles.
#[derive(Debug, Clone, Default)]
pub struct DocFreq {
    /// Documents counted.
    pub docs: u64,
    /// Documents containing each term key.
    pub counts: AHashMap<u64, u64>,
}

impl DocFreq {
    /// Counts one document's distinct terms.
    pub fn add(&mut self, terms: &[impl TermLike]) {
        self.docs += 1;
        for key in term_keys(terms) {
            *self.counts.entry(key).or_insert(0) += 1;
        }
    }

    /// Adds another table's counts (for parallel counting; the sum is order-independent).
    pub fn merge(&mut self, other: DocFreq) {
        self.docs += other.docs;
        for (key, count) in other.counts {
            *self.counts.entry(key).or_insert(0) += count;
        }
    }

    /// Smoothed inverse document frequency, `ln((N + 1) / (df + 1)) + 1`: at least 1 for
    /// every term (a word in every document still counts), largest for a term seen once, and
    /// defined for a term never seen (a new document checked against an index). Of the
    /// formulas measured on the labelled sets it moves least with the batch size, which a
    /// fixed default threshold needs.
    pub fn idf(&self, key: u64) -> f64 {
        let df = self.counts.get(&key).copied().unwrap_or(0) as f64;
        ((self.docs as f64 + 1.0) / (df + 1.0)).ln() + 1.0
    }

    /// The factor that puts IDF weights on a fixed scale: [`RARE_WEIGHT`] over the IDF of a
    /// term seen in one document (at least 1). IDF grows with the log of the collection size,
    /// so without it a weight means more in a large batch than in a fresh index of ten
    /// documents; on the fixed scale, a term seen once weighs the same in both, and an amount
    /// of weight (the containment prior, [`crate::similarity::CONTAINMENT_PRIOR`]) means the
    /// same evidence whatever the collection's size. Ratios of weights are unchanged.
    pub fn scale(&self) -> f64 {
        let rarest = ((self.docs as f64 + 1.0) / 2.0).ln() + 1.0;
        RARE_WEIGHT / rarest.max(1.0)
    }

    /// [`DocFreq::scale`] under IDF weighting; 1 without weighting.
    pub fn scale_for(&self, weighting: Weighting) -> f64 {
        match weighting {
            Weighting::Idf => self.scale(),
            Weighting::None => 1.0,
        }
    }
}

/// The weight of a term seen in one document of the collection under IDF weighting (before a
/// family's multiplier): see [`DocFreq::scale`].
pub const RARE_WEIGHT: f64 = 10.0;

/// One document's IDF of each of its terms, looked up in the document frequencies once: a
/// term is in several shingles, and the document's own small table stays in cache where the
/// collection's does not. Term keys are uniform hashes, so they are their own slots.
pub(super) struct IdfMemo<'f> {
    freq: &'f DocFreq,
    /// Terms of the document: what the table is sized for when first used (never, unweighted).
    terms: usize,
    known: ProbeMap<f64>,
}

impl IdfMemo<'_> {
    /// A memo for a document of `terms` terms.
    pub(super) fn new(freq: &DocFreq, terms: usize) -> IdfMemo<'_> {
        IdfMemo {
            freq,
            terms,
            known: ProbeMap::default(),
        }
    }

    /// [`DocFreq::idf`] of `key`.
    pub(super) fn get(&mut self, key: u64) -> f64 {
        if self.known.is_unsized() {
            self.known.reset(self.terms);
        }
        *self.known.entry(key, || self.freq.idf(key)).0
    }
}

/// The IDF of words by their number in an analyzer's vocabulary ([`TermRef::id`]), for one
/// table of document frequencies, kept from one document to the next: a word's weight is
/// looked up in the collection's table (a cache miss, and a logarithm) once per thread, not
/// once per document.
#[derive(Debug)]
pub struct WordIdf<'f> {
    pub(crate) freq: &'f DocFreq,
    /// By word number: the word's key and IDF; NaN when not yet known. The key is checked,
    /// since numbers are reused when a vocabulary is cleared.
    known: Vec<(u64, f64)>,
}

impl<'f> WordIdf<'f> {
    /// IDF weights from `freq`.
    pub fn new(freq: &'f DocFreq) -> WordIdf<'f> {
        WordIdf {
            freq,
            known: Vec::new(),
        }
    }

    /// [`DocFreq::idf`] of a term's key.
    #[inline]
    pub(crate) fn get(&mut self, term: &TermRef) -> f64 {
        let id = term.id as usize;
        if id >= self.known.len() {
            self.known.resize(id + 1, (0, f64::NAN));
        }
        let (key, idf) = &mut self.known[id];
        if idf.is_nan() || *key != term.key() {
            *key = term.key();
            *idf = self.freq.idf(*key);
        }
        *idf
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Language;
    use crate::hash::term_key;
    use crate::tokenize::{Analyzer, Term};

    /// Word numbers are reused when a vocabulary is cleared: a number that now stands for
    /// another word gets that word's IDF, not the one kept for the number.
    #[test]
    fn word_idf_follows_the_word_not_its_number() {
        let (first, second) = (
            Analyzer::new(Language::English),
            Analyzer::new(Language::English),
        );
        let mut freq = DocFreq::default();
        first.with_terms("pardon", |terms| freq.add(terms));
        freq.add(&[] as &[Term]);
        let mut idf = WordIdf::new(&freq);
        let pardon = first.with_terms("pardon", |terms| idf.get(&terms[0]));
        let gas = second.with_terms("gas", |terms| {
            assert_eq!(
                terms[0].id, 0,
                "both words are number 0 of their vocabulary"
            );
            idf.get(&terms[0])
        });
        assert_eq!(
            (pardon, gas),
            (freq.idf(term_key("pardon")), freq.idf(term_key("gas")))
        );
        assert!(gas > pardon);
    }

    #[test]
    fn the_weight_scale_does_not_depend_on_the_collection_size() {
        let analyzer = Analyzer::new(crate::config::Language::English);
        for docs in [1, 10, 1000] {
            let mut freq = DocFreq::default();
            freq.add(&analyzer.terms("Belarus pardons"));
            for _ in 1..docs {
                freq.add(&analyzer.terms("Belarus election"));
            }
            let weight = freq.scale() * freq.idf(term_key("pardon"));
            assert!((weight - RARE_WEIGHT).abs() < 1e-9, "{docs}: {weight}");
        }
        // An empty table (an empty index): the rarest IDF is taken as 1.
        assert_eq!(DocFreq::default().scale(), RARE_WEIGHT);
    }
}
