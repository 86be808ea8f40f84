//! Features stage: shingle families over terms (stem n-grams, raw word n-grams, character
//! n-grams, news facts), each hashed by a function frozen across versions and platforms (xxh3
//! for words and characters; for stems, [`crate::signature::mix`] rounds over the stems' xxh3
//! keys) and weighted by the inverse document frequency of its stems.

use ahash::AHashMap;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::config::{Config, Family, LONGEST_SHINGLE, Weighting};
use crate::normalize::{fold, normalize};
use crate::signature::{Signature, Sketcher, mix};
use crate::slots::HashSlots;
use crate::tokenize::{TermLike, TermRef, word_hash, word_hashes};

/// A hashed feature and its weight.
pub type Feature = (u64, f64);

/// The key under which a term's document frequency is counted: xxh3 of its stem.
pub fn term_key(stem: &str) -> u64 {
    xxh3_64_with_seed(stem.as_bytes(), 0x7e57_ab1e)
}

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

/// Hash of a word n-gram from its words' hashes (at most [`LONGEST_SHINGLE`]): xxh3 of their
/// little-endian bytes, seeded per family so that the families never collide with each
/// other. Each word is hashed once, however many n-grams hold it.
fn hash_words(hashes: &[u64], seed: u64) -> u64 {
    let mut bytes = [0u8; 8 * LONGEST_SHINGLE];
    for (slot, hash) in bytes.chunks_exact_mut(8).zip(hashes) {
        slot.copy_from_slice(&hash.to_le_bytes());
    }
    xxh3_64_with_seed(&bytes[..8 * hashes.len()], seed)
}

/// Hash of a sequence of term keys, seeded per family: [`mix`] chained over the keys in
/// order, from the mixed seed. The keys are xxh3 hashes of the stems already, so one
/// multiply-xorshift round per key is all a shingle costs; [`mix`] is a fixed function,
/// frozen like xxh3.
fn hash_keys(keys: impl IntoIterator<Item = u64>, seed: u64) -> u64 {
    keys.into_iter().fold(mix(seed), |h, key| mix(h ^ key))
}

fn family_seed(family: Family, seed: u64) -> u64 {
    let tag = match family {
        Family::Stems { n } => 0x100 + n as u64,
        Family::Words { n } => 0x200 + n as u64,
        Family::Chars { n } => 0x300 + n as u64,
        Family::Facts => 0x400,
        Family::Pairs { w } => 0x500 + w as u64,
    };
    seed ^ tag.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The terms a shingle is made of, by position: what weights it under IDF (the largest IDF of
/// its terms) and what an index keeps of it (their keys).
#[derive(Debug, Clone, Copy)]
enum Parts {
    /// None that weights it: a character n-gram, a statement's stop word.
    Unweighted,
    /// The content terms `start..end` (stem n-grams, quotes, a statement's content word).
    Run(usize, usize),
    /// Two content terms (stem pairs, number facts), in the order their keys are hashed.
    Pair(usize, usize),
    /// The document's terms `start..end`, stop words included (word n-grams).
    Words(usize, usize),
}

impl Parts {
    /// Calls `f` with the value of each part, in order: `content[i]` for a content term,
    /// `word(i)` for the document's term `i`.
    fn each<X: Copy>(self, content: &[X], mut word: impl FnMut(usize) -> X, mut f: impl FnMut(X)) {
        match self {
            Parts::Unweighted => {}
            Parts::Run(start, end) => content[start..end].iter().for_each(|&x| f(x)),
            Parts::Pair(i, j) => {
                f(content[i]);
                f(content[j]);
            }
            Parts::Words(start, end) => (start..end).for_each(|i| f(word(i))),
        }
    }
}

/// The terms shingles are made of: a document's terms but its stop words (when
/// `config.stop_words`), with their keys side by side, so that each term's word is read once
/// from the vocabulary however many shingles hold it.
struct Content<'t, T> {
    /// Every term of the document.
    all: &'t [T],
    /// Its content terms.
    terms: Vec<&'t T>,
    /// Their keys.
    keys: Vec<u64>,
}

impl<'t, T: TermLike> Content<'t, T> {
    fn new(terms: &'t [T], config: &Config) -> Content<'t, T> {
        let mut content = Content {
            all: terms,
            terms: Vec::with_capacity(terms.len()),
            keys: Vec::with_capacity(terms.len()),
        };
        for term in terms.iter().filter(|t| !(config.stop_words && t.stop())) {
            content.terms.push(term);
            content.keys.push(term.key());
        }
        content
    }
}

/// One document's IDF of each of its terms, looked up in the document frequencies once: a
/// term is in several shingles, and the document's own small table stays in cache where the
/// collection's does not. Term keys are uniform hashes, so they are their own slots.
struct IdfMemo<'f> {
    freq: &'f DocFreq,
    /// Terms of the document: what the table is sized for when first used (never, unweighted).
    terms: usize,
    known: HashSlots<f64>,
}

impl IdfMemo<'_> {
    /// A memo for a document of `terms` terms.
    fn new(freq: &DocFreq, terms: usize) -> IdfMemo<'_> {
        IdfMemo {
            freq,
            terms,
            known: HashSlots::default(),
        }
    }

    /// [`DocFreq::idf`] of `key`.
    fn get(&mut self, key: u64) -> f64 {
        if self.known.is_unsized() {
            self.known.reset(self.terms);
        }
        *self.known.entry(key, || self.freq.idf(key)).0
    }
}

/// Word n-gram hashes from the words' hashes: xxh3 of the window's hashes (little-endian),
/// seeded per family, so each word is hashed once however many n-grams hold it. `emit` gets
/// each n-gram's hash and the index of its first word (a single n-gram of everything when
/// there are fewer than `n` words).
fn word_ngrams(hashes: &[u64], n: usize, seed: u64, mut emit: impl FnMut(u64, usize)) {
    if hashes.is_empty() {
        return;
    }
    let n = n.min(hashes.len());
    for (i, window) in hashes.windows(n).enumerate() {
        emit(hash_words(window, seed), i);
    }
}

/// Whether the term-free word path serves a configuration: every family is word n-grams,
/// unweighted (the classic preset).
fn word_path(config: &Config) -> bool {
    config.weighting == Weighting::None
        && config
            .features
            .0
            .iter()
            .all(|spec| matches!(spec.family, Family::Words { .. }))
}

/// Whether every feature family of a configuration has the same weight.
fn one_weight(config: &Config) -> bool {
    let specs = &config.features.0;
    specs.iter().all(|spec| spec.weight == specs[0].weight)
}

/// The hashes of a raw text's words on the term-free path, into `hashes`.
fn raw_word_hashes(text: &str, config: &Config, lower: &mut Vec<u8>, hashes: &mut Vec<u64>) {
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
fn word_features(hashes: &[u64], config: &Config, mut emit: impl FnMut(u64, f64)) {
    for spec in &config.features.0 {
        if let Family::Words { n } = spec.family {
            let seed = family_seed(spec.family, config.seed);
            word_ngrams(hashes, n, seed, |h, _| emit(h, spec.weight));
        }
    }
}

/// The features of a raw text, when the configuration allows a path that builds no
/// [`Term`]s ([`word_path`]). Equal to [`features`] of the normalized text's terms; `None`
/// for other configurations.
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

/// Buffers the signature paths ([`fast_sketch`], [`sketch_features`]) reuse from one document
/// to the next (one per thread).
#[derive(Debug, Default)]
pub struct SketchBuffers {
    lower: Vec<u8>,
    hashes: Vec<u64>,
    seen: HashSlots<()>,
    bins: Vec<u64>,
    weights: HashSlots<f64>,
}

/// The signature of a raw text straight from its word n-grams, when every family is word
/// n-grams, unweighted (the classic preset): no feature list is built or sorted. When every
/// family weighs the same, a reused set passes each distinct n-gram to the sketch once;
/// otherwise each n-gram's largest weight is kept first ([`sketch_largest`]). Equal to
/// sketching [`fast_features`]; `None` for other configurations.
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
    weights: &mut HashSlots<f64>,
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

/// Features sorted by hash, each hash once with its largest weight.
fn sorted_unique(mut out: Vec<Feature>) -> Vec<Feature> {
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    out.dedup_by_key(|f| f.0);
    out
}

/// n-grams over a sequence of term keys (a single shingle of everything when it is shorter),
/// as `emit(hash, parts)`.
fn ngrams(keys: &[u64], n: usize, seed: u64, mut emit: impl FnMut(u64, Parts)) {
    if keys.is_empty() {
        return;
    }
    let n = n.min(keys.len());
    for (i, window) in keys.windows(n).enumerate() {
        emit(
            hash_keys(window.iter().copied(), seed),
            Parts::Run(i, i + n),
        );
    }
}

/// Number facts: each number beside a content word (the word before it and the word after
/// it), as pairs of positions `(number, word)` in `content`. Shared by the `facts` feature
/// family and by [`crate::explain`], which shows them.
pub fn number_facts(content: &[&impl TermLike]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, term) in content.iter().enumerate() {
        if !term.number() {
            continue;
        }
        for j in [i.checked_sub(1), Some(i + 1)].into_iter().flatten() {
            if content.get(j).is_some_and(|o| !o.number()) {
                out.push((i, j));
            }
        }
    }
    out
}

/// Quoted passages: the stems of 2 to 20 content words between a pair of double quotes.
pub fn quotes<'a, T: TermLike>(text: &str, terms: &[&'a T]) -> Vec<Vec<&'a T>> {
    quote_runs(text, terms)
        .into_iter()
        .map(|run| terms[run].to_vec())
        .collect()
}

/// [`quotes`] as ranges of positions in `terms` (in text order, so the terms inside a pair of
/// quotes are a run, found by two binary searches).
fn quote_runs(text: &str, terms: &[&impl TermLike]) -> Vec<std::ops::Range<usize>> {
    let marks: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
    marks
        .chunks_exact(2)
        .map(|pair| {
            let start = terms.partition_point(|t| t.token().start <= pair[0]);
            let end = terms.partition_point(|t| t.token().end <= pair[1]);
            start..end.max(start)
        })
        .filter(|run| (2..=20).contains(&run.len()))
        .collect()
}

/// A fact slot: the key of a number's context word and the key of the number, e.g.
/// (prison, 23). Two stories that fill the same slot with different numbers ("sell 13.2
/// billion" / "sell 12.8 billion") report different events.
pub type Slot = (u64, u64);

/// Whether a number stem is a year (1900 to 2099): a date, whose next word is not what it
/// counts ("from 2007 Google penalised…").
fn is_year(stem: &str) -> bool {
    stem.len() == 4 && (stem.starts_with("19") || stem.starts_with("20"))
}

/// The fact slots of a document, sorted and distinct; none without `config.fact_check`. A
/// quantity is a run of adjacent number tokens ("13.2 billion", "three women" → 3); its slot is
/// the next content word, what it counts ("prisoners", "dlrs", "women"). Years fill no slot.
pub fn fact_slots(terms: &[impl TermLike], config: &Config) -> Vec<Slot> {
    let mut slots = Vec::new();
    if !config.fact_check {
        return slots;
    }
    let mut i = 0;
    while i < terms.len() {
        if !terms[i].number() {
            i += 1;
            continue;
        }
        let run = terms[i..].iter().take_while(|t| t.number()).count();
        let quantity = &terms[i..i + run];
        i += run;
        if let [only] = quantity
            && is_year(only.stem())
        {
            continue;
        }
        let unit = terms[i..]
            .iter()
            .find(|t| !(config.stop_words && t.stop()))
            .filter(|t| !t.number());
        if let Some(unit) = unit {
            let value = hash_keys(quantity.iter().map(|t| t.key()), 0);
            slots.push((unit.key(), value));
        }
    }
    slots.sort_unstable();
    slots.dedup();
    slots
}

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

/// The signature of one document's [`features`], which it equals, from terms borrowed from
/// the analyzer's vocabulary, without building or sorting the features ([`sketch_largest`],
/// with buffers and IDF weights reused across documents).
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

/// Every feature of one document, repeats included, weighted (see [`features`]) with `scale`
/// and each term's IDF from `idf`.
fn each_feature<T: TermLike>(
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

/// The IDF of words by their number in an analyzer's vocabulary ([`TermRef::id`]), for one
/// table of document frequencies, kept from one document to the next: a word's weight is
/// looked up in the collection's table (a cache miss, and a logarithm) once per thread, not
/// once per document.
#[derive(Debug)]
pub struct WordIdf<'f> {
    freq: &'f DocFreq,
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
    fn get(&mut self, term: &TermRef) -> f64 {
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

/// Whether a document is a *statement* under `config` (see [`Config::statement_words`]):
/// IDF weighting, and fewer content words (stop words aside) than `config.statement_words`.
///
/// A statement is fingerprinted by its words instead of the configured families: the stem of
/// each content word, IDF-weighted, and each stop word at the weight of a word in every
/// document (1, the floor of IDF). Phrase features (stem bigrams, number facts) are evidence of
/// shared wording across an article; a sentence rewritten by another writer keeps its words
/// and reorders them, so its phrases measure word order rather than content. The stop words
/// carry what the content words do not in one sentence: negation, tense, who did what to whom
/// ("was not", "has", "by"); across an article they average out and stay removed.
pub fn is_statement(terms: &[impl TermLike], config: &Config) -> bool {
    statement_of(config, || terms.iter().filter(|t| !t.stop()).count())
}

/// [`is_statement`] of a document whose content words `content_words` counts (only called
/// under IDF weighting).
fn statement_of(config: &Config, content_words: impl FnOnce() -> usize) -> bool {
    config.weighting == Weighting::Idf && content_words() < config.statement_words
}

impl<T: TermLike> Content<'_, T> {
    /// Every shingle of the document, in family order, repeats included: `sink` gets its hash,
    /// its family's weight, and the terms whose IDF weights it ([`Parts::Unweighted`] for
    /// character n-grams and a statement's stop words; never empty otherwise), by position in
    /// the content terms or in all the terms. A statement ([`is_statement`]) gets its word stems
    /// instead of the families.
    fn each_shingle(&self, text: &str, config: &Config, mut sink: impl FnMut(u64, f64, Parts)) {
        let (terms, keys) = (self.all, &self.keys[..]);
        // Without stop words, the content terms are the content words, counted already.
        let statement = if config.stop_words {
            statement_of(config, || keys.len())
        } else {
            is_statement(terms, config)
        };
        if statement {
            // Hashed as the `stems:1` family, so that a statement's words meet an article's.
            let seed = family_seed(Family::Stems { n: 1 }, config.seed);
            // The position among the content terms of the next one.
            let mut next = 0;
            for term in terms {
                let parts = if term.stop() {
                    Parts::Unweighted
                } else {
                    Parts::Run(next, next + 1)
                };
                next += usize::from(!(config.stop_words && term.stop()));
                sink(hash_keys([term.key()], seed), 1.0, parts);
            }
            return;
        }
        for spec in &config.features.0 {
            let seed = family_seed(spec.family, config.seed);
            let mut emit = |hash: u64, parts: Parts| sink(hash, spec.weight, parts);
            match spec.family {
                Family::Stems { n } => ngrams(keys, n, seed, &mut emit),
                Family::Pairs { w } => {
                    for i in 0..keys.len() {
                        for j in (i + 1..keys.len()).take(w) {
                            let (first, second) = if keys[i] <= keys[j] { (i, j) } else { (j, i) };
                            let hash = hash_keys([keys[first], keys[second]], seed);
                            emit(hash, Parts::Pair(first, second));
                        }
                    }
                }
                Family::Words { n } => {
                    let hashes: Vec<u64> = terms.iter().map(|t| word_hash(t.word())).collect();
                    word_ngrams(&hashes, n, seed, |h, i| {
                        emit(h, Parts::Words(i, (i + n).min(terms.len())));
                    });
                }
                Family::Chars { n } => {
                    let folded: Vec<char> = terms
                        .iter()
                        .flat_map(|t| t.word().chars().chain(std::iter::once(' ')))
                        .collect();
                    let n = n.min(folded.len());
                    let mut buf = String::new();
                    for window in folded.windows(n.max(1)) {
                        buf.clear();
                        buf.extend(window);
                        emit(xxh3_64_with_seed(buf.as_bytes(), seed), Parts::Unweighted);
                    }
                }
                Family::Facts => {
                    for (i, j) in number_facts(&self.terms) {
                        emit(hash_keys([keys[i], keys[j]], seed), Parts::Pair(i, j));
                    }
                    for run in quote_runs(text, &self.terms) {
                        let hash = hash_keys(keys[run.clone()].iter().copied(), seed);
                        emit(hash, Parts::Run(run.start, run.end));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Features;
    use crate::config::Language;
    use crate::tokenize::{Analyzer, Term};

    fn feats(text: &str, spec: &str, weighting: Weighting, freq: &DocFreq) -> Vec<Feature> {
        let config = Config {
            features: spec.parse::<Features>().unwrap(),
            weighting,
            ..Config::default()
        };
        let terms = Analyzer::new(config.language).terms(text);
        features(text, &terms, &config, freq)
    }

    #[test]
    fn feature_hashes_are_frozen() {
        // A change here breaks every stored fingerprint: bump the index format version.
        let text = "Lukashenko pardoned 23 prisoners, \"political opponents\" of his regime";
        let spec = "stems:1,stems:2,pairs:2,words:2,chars:4,facts";
        let hashes: Vec<u64> = feats(text, spec, Weighting::None, &DocFreq::default())
            .into_iter()
            .map(|f| f.0)
            .collect();
        // Every hash, as a count and a sum.
        let sum = hashes.iter().fold(0u64, |sum, &h| sum.wrapping_add(h));
        assert_eq!((hashes.len(), sum), FROZEN_FEATURES);
    }

    const FROZEN_FEATURES: (usize, u64) = (99, 14972796112885131024);

    /// Every feature family at once, for the oracle tests.
    fn every_family(idf: bool, statement_words: usize) -> Config {
        Config {
            features: "stems:1,stems:2,pairs:2*0.5,words:3,chars:4*0.3,facts*2"
                .parse::<Features>()
                .unwrap(),
            weighting: if idf { Weighting::Idf } else { Weighting::None },
            statement_words,
            ..Config::default()
        }
    }

    /// How many features of `b` are also in `a`.
    fn shared(a: &[Feature], b: &[Feature]) -> usize {
        b.iter().filter(|f| a.iter().any(|g| g.0 == f.0)).count()
    }

    #[test]
    fn stem_shingles_ignore_inflection_and_stop_words() {
        let none = DocFreq::default();
        let a = feats(
            "The prisoners were pardoned",
            "stems:2",
            Weighting::None,
            &none,
        );
        let b = feats("prisoner pardons", "stems:2", Weighting::None, &none);
        assert_eq!(a.len(), 1);
        assert_eq!(a, b);
    }

    #[test]
    fn short_texts_still_get_one_shingle() {
        let f = feats("pardon", "stems:5", Weighting::None, &DocFreq::default());
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn facts_pair_numbers_with_their_words_and_keep_quotes() {
        let none = DocFreq::default();
        let a = feats(
            "three women and 20 men, \"crimes of an extremist orientation\"",
            "facts",
            Weighting::None,
            &none,
        );
        let b = feats("3 women; 20 men", "facts", Weighting::None, &none);
        // 3-women, 20-women, 20-men, and the quote; the rewrite shares 3-women and 20-men.
        assert_eq!(a.len(), 4);
        assert_eq!(shared(&a, &b), 3);
    }

    #[test]
    fn stem_pairs_survive_reordering() {
        let none = DocFreq::default();
        let a = feats(
            "Lukashenko pardoned 23 prisoners",
            "pairs:2",
            Weighting::None,
            &none,
        );
        let b = feats(
            "23 prisoners pardoned by Lukashenko",
            "pairs:2",
            Weighting::None,
            &none,
        );
        // Windows of 2 over 4 content words: 3 + 2 pairs each.
        assert_eq!((a.len(), b.len()), (5, 5));
        let shared = shared(&a, &b);
        // {pardon,23} {pardon,prison} {23,prison} {lukashenko,pardon}; only
        // {lukashenko,23} / {prison,lukashenko} are too far apart in one of them.
        assert_eq!(shared, 4);
    }

    #[test]
    fn fact_slots_pair_each_quantity_with_what_it_counts() {
        let config = Config::default();
        let terms = Analyzer::new(config.language)
            .terms("In 2025 he pardoned 23 of the prisoners and 13.2 million dollars, then 5 more");
        let value = |parts: &[&str]| hash_keys(parts.iter().map(|p| term_key(p)), 0);
        let mut expected = vec![
            (term_key("prison"), value(&["23"])),
            (term_key("dollar"), value(&["13.2", "1000000"])),
        ];
        expected.sort_unstable();
        // The year fills no slot; "5 more" counts nothing (a stop word, then the end).
        assert_eq!(fact_slots(&terms, &config), expected);
    }

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
            text in "[a-zA-Z0-9 .,'\n\u{2019}\u{e9}\u{c9}\u{201C}-]{0,120}",
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
        /// Oracle: open features weighted later give exactly the features weighted at once,
        /// for every family, both weightings, and frequencies that know some terms.
        #[test]
        fn feature_terms_weighted_equal_features(
            text in "[a-zA-Z0-9 .,\"\n-]{0,160}",
            idf in proptest::bool::ANY, known in 0usize..6, docs in 1u64..50,
            statement_words in 0usize..30,
        ) {
            let config = every_family(idf, statement_words);
            let terms = Analyzer::new(config.language).terms(&text);
            let mut freq = DocFreq { docs, ..DocFreq::default() };
            for (i, term) in terms.iter().take(known).enumerate() {
                freq.counts.insert(term_key(term.stem()), i as u64 % docs);
            }
            let open = FeatureTerms::new(&text, &terms, &config);
            proptest::prop_assert_eq!(
                open.weighted(config.weighting, &freq),
                features(&text, &terms, &config, &freq)
            );
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

    proptest::proptest! {
        /// Oracle: the quoted runs found by binary search are the content terms each pair of
        /// quotes encloses, filtered one by one.
        #[test]
        fn quote_runs_are_the_terms_between_quotes(text in "[a-c \"]{0,80}") {
            let terms = Analyzer::new(Language::English).terms(&text);
            let content: Vec<&Term> = terms.iter().filter(|t| !t.stop()).collect();
            let marks: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
            let slow: Vec<Vec<&Term>> = marks
                .chunks_exact(2)
                .map(|pair| {
                    content
                        .iter()
                        .copied()
                        .filter(|t| t.token.start > pair[0] && t.token.end <= pair[1])
                        .collect::<Vec<_>>()
                })
                .filter(|inside| (2..=20).contains(&inside.len()))
                .collect();
            proptest::prop_assert_eq!(quotes(&text, &content), slow);
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

    proptest::proptest! {
        /// Oracle: a word n-gram's hash is xxh3 of its words' little-endian bytes, for every
        /// length a configuration allows.
        #[test]
        fn hash_words_hashes_the_words_bytes(
            hashes in proptest::collection::vec(proptest::num::u64::ANY, 0..=LONGEST_SHINGLE),
            seed in proptest::num::u64::ANY,
        ) {
            let bytes: Vec<u8> = hashes.iter().flat_map(|p| p.to_le_bytes()).collect();
            proptest::prop_assert_eq!(
                hash_words(&hashes, seed),
                xxh3_64_with_seed(&bytes, seed)
            );
        }
    }

    #[test]
    fn a_statement_is_its_words_and_meets_an_articles_stems() {
        let analyzer = Analyzer::new(crate::config::Language::English);
        let text = "The minister was not pardoned by the court.";
        let terms = analyzer.terms(text);
        let mut freq = DocFreq::default();
        freq.add(&terms);
        freq.add(&analyzer.terms("The court met."));
        let config = Config::default();
        assert!(is_statement(&terms, &config));
        let f = features(text, &terms, &config, &freq);
        // Each distinct word once ("the" twice in the text): no bigrams, no facts.
        let mut stems: Vec<&str> = terms.iter().map(|t| t.stem()).collect();
        stems.sort_unstable();
        stems.dedup();
        assert_eq!(f.len(), stems.len());
        // Stop words weigh the floor of IDF (1, on the fixed scale); content words their IDF.
        let stop: Vec<&Term> = terms.iter().filter(|t| t.stop()).collect();
        assert!(stop.iter().any(|t| t.stem() == "not"));
        let floor = f.iter().filter(|x| x.1 == freq.scale()).count();
        assert!(floor >= stop.len() - 1, "{f:?}");
        // Its content stems are the `stems:1` features of the same words in an article.
        let article = Config {
            statement_words: 0,
            ..Config::default()
        };
        assert!(!is_statement(&terms, &article));
        let unigrams = Config {
            features: "stems:1".parse::<Features>().unwrap(),
            ..article
        };
        let g = features(text, &terms, &unigrams, &freq);
        assert_eq!(shared(&f, &g), g.len());
        // Unweighted features make no statements: the families stay.
        let none = Config {
            weighting: Weighting::None,
            ..Config::default()
        };
        assert!(!is_statement(&terms, &none));
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

    #[test]
    fn families_never_collide() {
        let none = DocFreq::default();
        let a = feats("pardon", "stems:1", Weighting::None, &none);
        let b = feats("pardon", "words:1", Weighting::None, &none);
        assert_ne!(a[0].0, b[0].0);
    }

    #[test]
    fn idf_weights_rare_terms_higher() {
        let analyzer = Analyzer::new(crate::config::Language::English);
        let mut freq = DocFreq::default();
        for text in ["Belarus pardons", "Belarus election", "Belarus protests"] {
            freq.add(&analyzer.terms(text));
        }
        let f = feats("Belarus pardons", "stems:1", Weighting::Idf, &freq);
        let belarus = freq.idf(term_key("belarus"));
        let pardon = freq.idf(term_key("pardon"));
        assert!(pardon > belarus && belarus > 0.0);
        let mut weights: Vec<f64> = f.iter().map(|f| f.1).collect();
        weights.sort_by(f64::total_cmp);
        let scale = freq.scale();
        assert_eq!(weights, [scale * belarus, scale * pardon]);
        // "pardon" is in one document of three: on the fixed scale it weighs RARE_WEIGHT.
        assert!((scale * pardon - RARE_WEIGHT).abs() < 1e-12);
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
