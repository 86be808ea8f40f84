//! Signing stage: a document's text → its signature and fact slots, and its exact feature
//! set when a runner asks for it, the same for every runner (`cluster`, `dedup`, `dist`, the
//! signatures file).
//!
//! [`Signing`] holds what signing depends on besides the text: the configuration, the
//! sketcher, and the analyzers (one per thread at a time, lent from a pool so that each
//! keeps the stems it has learnt: see `pool`). The document frequencies that weight
//! features come from the batch itself ([`doc_freq`]) or from a frequency pass counting each
//! document with `Signing::count_terms`. A text is signed on the fast path (words straight
//! to the signature, no term list) when the configuration allows it, on the general path
//! (normalize, analyse, features, fact slots) otherwise; both give the same signature.

use rayon::prelude::*;

use crate::config::{Config, Language};
use crate::features::{DocFreq, Feature, Slot, WordIdf, fact_slots, fast_features, features};
use crate::normalize::normalize;
use crate::pool::{Lent, Pool};
use crate::signature::{Signature, SketchBuffers, Sketcher, fast_sketch, sketch_features};
use crate::tokenize::{Analyzer, Term, TermRef};

/// Analyzers for one language, lent to parallel jobs and given back when each ends: the one
/// place a runner gets an analyzer.
pub(crate) struct Analyzers {
    language: Language,
    pool: Pool<Analyzer>,
}

impl Analyzers {
    /// None made yet, for `language`.
    pub(crate) fn new(language: Language) -> Analyzers {
        Analyzers {
            language,
            pool: Pool::default(),
        }
    }

    /// An analyzer for the job that calls it: a waiting one, with the stems it has learnt,
    /// or a new one; back in the pool when dropped.
    pub(crate) fn lend(&self) -> Lent<'_, Analyzer> {
        self.pool.lend(|| Analyzer::new(self.language))
    }
}

/// A document after normalizing and tokenizing: what features and explanations are built
/// from.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The normalized text (case kept, chrome removed).
    pub text: String,
    /// Its terms.
    pub terms: Vec<Term>,
}

/// Normalizes and tokenizes documents in parallel, in input order (the jobs share their
/// analyzers' vocabularies).
pub fn analyze(texts: &[&str], config: &Config) -> Vec<Analysis> {
    analyze_with(&Analyzers::new(config.language), texts, config)
}

/// [`analyze`] with analyzers from `analyzers`.
pub(crate) fn analyze_with(
    analyzers: &Analyzers,
    texts: &[&str],
    config: &Config,
) -> Vec<Analysis> {
    texts
        .par_iter()
        .map_init(
            || analyzers.lend(),
            |analyzer, text| {
                let text = normalize(text, config.strip_chrome);
                let terms = analyzer.terms(&text);
                Analysis { text, terms }
            },
        )
        .collect()
}

/// Tokenizes texts that are normalized already (stored records) in parallel, in input order,
/// exactly as [`analyze_with`] tokenizes after normalizing.
#[cfg(feature = "index")]
pub(crate) fn analyze_normalized(analyzers: &Analyzers, texts: &[&str]) -> Vec<Analysis> {
    texts
        .par_iter()
        .map_init(
            || analyzers.lend(),
            |analyzer, text| Analysis {
                text: text.to_string(),
                terms: analyzer.terms(text),
            },
        )
        .collect()
}

/// Document frequencies over analyses (the batch's own statistics).
pub fn doc_freq(analyses: &[Analysis]) -> DocFreq {
    analyses
        .par_chunks(1024)
        .map(|chunk| {
            let mut freq = DocFreq::default();
            for a in chunk {
                freq.add(&a.terms);
            }
            freq
        })
        .collect::<Vec<_>>()
        .into_iter()
        .fold(DocFreq::default(), |mut acc, f| {
            acc.merge(f);
            acc
        })
}

/// The signing stage for one configuration (see the module docs).
pub struct Signing {
    config: Config,
    sketcher: Sketcher,
    analyzers: Analyzers,
}

/// What one thread signs documents with: an analyzer, the document frequencies that weight
/// features (with the IDF of the words seen so far), and the buffers the signature paths
/// reuse from one document to the next. Made by [`Signing::state`]; its analyzer returns to
/// the stage when it is dropped.
pub struct Sketching<'s> {
    analyzer: Lent<'s, Analyzer>,
    idf: WordIdf<'s>,
    buffers: SketchBuffers,
}

impl Signing {
    /// The stage for `config`.
    pub fn new(config: &Config) -> Signing {
        Signing {
            config: config.clone(),
            sketcher: Sketcher::for_config(config),
            analyzers: Analyzers::new(config.language),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// An analyzer for the calling job, back to the stage when dropped.
    pub(crate) fn analyzer(&self) -> Lent<'_, Analyzer> {
        self.analyzers.lend()
    }

    /// Normalizes and tokenizes documents in parallel, in input order ([`analyze`]).
    pub fn analyze(&self, texts: &[&str]) -> Vec<Analysis> {
        analyze_with(&self.analyzers, texts, &self.config)
    }

    /// Counts one document's terms in `freq`, as every frequency pass counts them.
    pub(crate) fn count_terms(&self, freq: &mut DocFreq, analyzer: &Analyzer, text: &str) {
        analysed(analyzer, &self.config, text, |_, terms| freq.add(terms));
    }

    /// The document frequencies of `texts`, counted in parallel as a frequency pass counts
    /// them (the analyzers keep their stems for the signing that follows).
    pub fn frequencies(&self, texts: &[&str]) -> DocFreq {
        texts
            .par_iter()
            .fold(
                || (DocFreq::default(), self.analyzer()),
                |(mut freq, analyzer), text| {
                    self.count_terms(&mut freq, &analyzer, text);
                    (freq, analyzer)
                },
            )
            .map(|(freq, _)| freq)
            .reduce(DocFreq::default, |mut a, b| {
                a.merge(b);
                a
            })
    }

    /// A state for one thread, weighting features with `freq`, analysing with an analyzer of
    /// the stage's (such as a frequency pass's, whose vocabulary has every word stemmed).
    pub fn state<'s>(&'s self, freq: &'s DocFreq) -> Sketching<'s> {
        Sketching {
            analyzer: self.analyzer(),
            idf: WordIdf::new(freq),
            buffers: SketchBuffers::default(),
        }
    }

    /// One document's signature and fact slots (none without the fact check).
    pub fn sign(&self, state: &mut Sketching<'_>, text: &str) -> (Signature, Vec<Slot>) {
        let Sketching {
            analyzer,
            idf,
            buffers,
        } = state;
        let config = &self.config;
        if !config.fact_check
            && let Some(signature) = fast_sketch(text, config, &self.sketcher, buffers)
        {
            return (signature, Vec::new());
        }
        analysed(analyzer, config, text, |text, terms| {
            let slots = fact_slots(terms, config);
            let signature = sketch_features(text, terms, config, idf, &self.sketcher, buffers);
            (signature, slots)
        })
    }

    /// The features of a raw text, as exact verification compares them.
    pub(crate) fn exact_features(
        &self,
        analyzer: &Analyzer,
        freq: &DocFreq,
        text: &str,
    ) -> Vec<Feature> {
        let config = &self.config;
        if let Some(features) = fast_features(text, config) {
            return features;
        }
        analysed(analyzer, config, text, |text, terms| {
            features(text, terms, config, freq)
        })
    }

    /// An analysed document's features, signature and fact slots, weighted by `freq` (the
    /// batch keeps all three).
    pub fn sign_analysis(
        &self,
        analysis: &Analysis,
        freq: &DocFreq,
    ) -> (Vec<Feature>, Signature, Vec<Slot>) {
        let features = features(&analysis.text, &analysis.terms, &self.config, freq);
        let signature = self.sketcher.sketch(&features);
        let slots = fact_slots(&analysis.terms, &self.config);
        (features, signature, slots)
    }
}

/// `f` of a raw text's normalized text and its terms (borrowed from the analyzer's
/// vocabulary): what features and fact slots are made of.
fn analysed<R>(
    analyzer: &Analyzer,
    config: &Config,
    text: &str,
    f: impl FnOnce(&str, &[TermRef]) -> R,
) -> R {
    let text = normalize(text, config.strip_chrome);
    analyzer.with_terms(&text, |terms| f(&text, terms))
}

/// Documents without features named in one warning at most; the others are counted.
pub const FEATURELESS_NAMED: usize = 5;

/// Collects the documents that have no features (only punctuation, symbols, emoji or stop
/// words): they match no document, not even a copy of themselves, so a user is told.
#[derive(Debug, Default)]
pub struct Featureless {
    /// The first [`FEATURELESS_NAMED`], each as `"id" (file:line)`.
    named: Vec<String>,
    /// How many there are.
    count: u64,
}

impl Featureless {
    /// Notes one document without features.
    pub fn add(&mut self, id: &str, origin: &crate::input::Origin) {
        self.count += 1;
        if self.named.len() < FEATURELESS_NAMED {
            self.named.push(format!("{id:?} ({origin})"));
        }
    }

    /// The warning naming them, or `None` when every document has features. `copies_match`:
    /// the command pairs documents with the same normalized text (`dedup`) though they have
    /// no features.
    pub fn warning(&self, copies_match: bool) -> Option<String> {
        (self.count > 0).then(|| {
            let more = self.count - self.named.len() as u64;
            format!(
                "{} document(s) have no features (only punctuation, symbols, emoji or stop \
                 words), so {}: {}{}",
                self.count,
                if copies_match {
                    "only copies of their text match them"
                } else {
                    "they match no document, not even a copy of themselves"
                },
                self.named.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        })
    }
}
