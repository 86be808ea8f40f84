//! The pipeline end to end: documents → normalized terms → document frequencies → weighted
//! features → signatures → candidates (LSH) → verified pairs → clusters.
//!
//! Every stage runs in parallel across documents with rayon and collects in input order, and
//! every floating-point sum runs in a fixed order, so results are identical for any thread
//! count.

use rayon::prelude::*;

use crate::cluster::{Cluster, Edge, Scored, cluster};
use crate::config::{Config, Measure, Weighting};
use crate::contrast::{contrast_all, neighbours};
use crate::error::Result;
use crate::features::{DocFreq, Feature, Slot, fact_slots, features};
use crate::input::Document;
use crate::lsh::Banding;
use crate::normalize::normalize;
use crate::pool::Pool;
use crate::signature::{Params, Signature, Sketcher};
use crate::similarity;
use crate::tokenize::{Analyzer, Term};
use crate::verdict::{self, Level};

/// For containment and cosine, LSH must find pairs whose *Jaccard* is lower than the
/// measure's threshold: for sizes 1 and `r`, `J = I / (1 + r − I)` where the intersection `I`
/// is `T` (containment) or `T·√r` (cosine). Recall is designed for pairs whose weighted sizes
/// differ by at most this ratio; more lopsided pairs are found when they collide anyway.
pub const SIZE_RATIO: f64 = 4.0;

/// The Jaccard similarity LSH is tuned to for a configuration.
pub fn lsh_threshold(config: &Config) -> f64 {
    let t = config.threshold;
    let intersection = match config.measure {
        Measure::Jaccard => return t,
        Measure::Containment => t,
        Measure::Cosine => (t * SIZE_RATIO.sqrt()).min(1.0),
    };
    intersection / (1.0 + SIZE_RATIO - intersection)
}

/// The signature parameters implied by a configuration.
pub fn params(config: &Config) -> Params {
    Params {
        num_hashes: config.num_hashes,
        seed: config.seed,
        features: format!(
            "{};weighting={:?};language={};stop_words={};strip_chrome={}{}",
            config.features,
            config.weighting,
            config.language.name(),
            config.stop_words,
            config.strip_chrome,
            // Absent when off, as in the parameters stored before statements existed.
            match config.statement_words {
                0 => String::new(),
                n => format!(";statement_words={n}"),
            }
        ),
    }
}

/// What verifying a pair needs of each document: its features, signature and fact slots.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// Weighted features, sorted by hash.
    pub features: &'a [Feature],
    /// The signature.
    pub signature: &'a Signature,
    /// Fact slots (empty unless `config.fact_check`).
    pub slots: &'a [Slot],
}

/// The similarity of two documents under `config`, the one judgement every command makes
/// (batch, index, report): the configured measure, estimated from signatures or exact from
/// the features with `config.exact` (containment calibrated for the configuration,
/// [`similarity::Calibration`]), scaled by their fact agreement with `config.fact_check`
/// ([`similarity::fact_factor`]).
pub fn similarity_of(config: &Config, a: &Evidence<'_>, b: &Evidence<'_>) -> f64 {
    let calibration = similarity::Calibration::of(config);
    let words = if config.exact {
        similarity::exact(a.features, b.features, config.measure, calibration)
    } else {
        similarity::estimate(a.signature, b.signature, config.measure, calibration)
    };
    if config.fact_check {
        words * similarity::fact_factor(a.slots, b.slots)
    } else {
        words
    }
}

/// The story score of two documents ([`crate::verdict`]): the configured measure over their
/// features contrasted with their neighbours' ([`crate::contrast`]), exact, scaled by their
/// fact agreement. `a.features` and `b.features` are the contrasted features.
pub fn story_of(config: &Config, a: &Evidence<'_>, b: &Evidence<'_>) -> f64 {
    let calibration = similarity::Calibration::of(config);
    let words = similarity::exact(a.features, b.features, config.measure, calibration);
    if config.fact_check {
        words * similarity::quantity_agreement(a.slots, b.slots)
    } else {
        words
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
/// analyzers' vocabularies through a pool).
pub fn analyze(texts: &[&str], config: &Config) -> Vec<Analysis> {
    let analyzers = Pool::default();
    texts
        .par_iter()
        .map_init(
            || analyzers.lend(|| Analyzer::new(config.language)),
            |analyzer, text| {
                let text = normalize(text, config.strip_chrome);
                let terms = analyzer.terms(&text);
                Analysis { text, terms }
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

/// Fingerprints of a batch of documents, and everything computed from them.
#[derive(Debug, Clone)]
pub struct Fingerprints {
    /// Document ids, in input order.
    pub ids: Vec<String>,
    /// Each document's analysis.
    pub analyses: Vec<Analysis>,
    /// Each document's weighted features, sorted by hash.
    pub features: Vec<Vec<Feature>>,
    /// Each document's signature.
    pub signatures: Vec<Signature>,
    /// Each document's fact slots (empty unless `config.fact_check`).
    pub slots: Vec<Vec<Slot>>,
    /// The configuration they were made with.
    pub config: Config,
    /// The document frequencies the weights came from.
    pub freq: DocFreq,
    /// LSH candidates and the features contrasted with them, made on first use.
    neighbourhood: std::sync::OnceLock<Neighbourhood>,
}

/// The candidate pairs of a batch and each document's features contrasted with its
/// candidates' ([`crate::contrast`]).
#[derive(Debug, Clone)]
struct Neighbourhood {
    candidates: Vec<(u32, u32)>,
    story: Vec<Vec<Feature>>,
}

impl Fingerprints {
    /// Fingerprints documents, with document frequencies from the batch itself.
    ///
    /// ```
    /// use storyprint::{Config, Document, Fingerprints, Origin};
    /// let doc = |id: &str, text: &str| Document {
    ///     id: id.into(),
    ///     text: text.into(),
    ///     origin: Origin { path: id.into(), line: None },
    /// };
    /// let docs = [
    ///     doc("a", "Lukashenko pardoned 23 prisoners, three women and 20 men."),
    ///     doc("b", "Twenty men and three women, 23 prisoners in all, were pardoned by Lukashenko."),
    ///     doc("c", "The central bank raised interest rates by half a point."),
    /// ];
    /// let prints = Fingerprints::new(&docs, &Config::default()).unwrap();
    /// assert!(prints.similarity(0, 1) > prints.similarity(0, 2));
    /// ```
    pub fn new(docs: &[Document], config: &Config) -> Result<Fingerprints> {
        config.validate()?;
        let texts: Vec<&str> = docs.iter().map(|d| d.text.as_str()).collect();
        let analyses = analyze(&texts, config);
        let freq = match config.weighting {
            Weighting::Idf => doc_freq(&analyses),
            Weighting::None => DocFreq::default(),
        };
        let ids = docs.iter().map(|d| d.id.clone()).collect();
        Ok(Self::from_analyses(ids, analyses, config, freq))
    }

    /// Fingerprints analysed documents with given document frequencies (from an index, say).
    pub fn from_analyses(
        ids: Vec<String>,
        analyses: Vec<Analysis>,
        config: &Config,
        freq: DocFreq,
    ) -> Fingerprints {
        let sketcher = Sketcher::for_config(config);
        let ((features, signatures), slots): ((Vec<_>, Vec<_>), Vec<_>) = analyses
            .par_iter()
            .map(|a| {
                let f = features(&a.text, &a.terms, config, &freq);
                let s = sketcher.sketch(&f);
                let slots = fact_slots(&a.terms, config);
                ((f, s), slots)
            })
            .unzip();
        Fingerprints {
            ids,
            analyses,
            features,
            signatures,
            slots,
            config: config.clone(),
            freq,
            neighbourhood: std::sync::OnceLock::new(),
        }
    }

    /// The warning naming the documents without features (see [`Featureless`]), `docs` being
    /// the documents fingerprinted.
    pub fn featureless_warning(&self, docs: &[Document]) -> Option<String> {
        let mut featureless = Featureless::default();
        for (doc, features) in docs.iter().zip(&self.features) {
            if features.is_empty() {
                featureless.add(&doc.id, &doc.origin);
            }
        }
        featureless.warning(false)
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Each id's position in input order.
    pub fn id_index(&self) -> ahash::AHashMap<&str, usize> {
        self.ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect()
    }

    /// Whether there are no documents.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The similarity of documents `i` and `j` (see [`similarity_of`]).
    pub fn similarity(&self, i: usize, j: usize) -> f64 {
        similarity_of(&self.config, &self.evidence(i), &self.evidence(j))
    }

    /// What verifying a pair needs of document `i`.
    pub fn evidence(&self, i: usize) -> Evidence<'_> {
        Evidence {
            features: &self.features[i],
            signature: &self.signatures[i],
            slots: &self.slots[i],
        }
    }

    /// The dense N×N similarity matrix (symmetric, diagonal 1).
    pub fn matrix(&self) -> Vec<Vec<f64>> {
        let n = self.len();
        (0..n)
            .into_par_iter()
            .map(|i| {
                (0..n)
                    .map(|j| {
                        if i == j {
                            1.0
                        } else {
                            self.similarity(i.min(j), i.max(j))
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// The entries of the similarity matrix at or above `floor`, above its diagonal: each
    /// pair `(i, j)`, `i < j`, in row order. Memory holds these entries only, never the dense
    /// matrix.
    pub fn sparse_matrix(&self, floor: f64) -> Vec<Scored> {
        let n = self.len();
        (0..n)
            .into_par_iter()
            .map(|i| {
                (i + 1..n)
                    .filter_map(|j| {
                        let s = self.similarity(i, j);
                        (s >= floor).then_some((i as u32, j as u32, s))
                    })
                    .collect::<Vec<Scored>>()
            })
            .collect::<Vec<_>>()
            .concat()
    }

    /// The banding used to find candidates.
    pub fn banding(&self) -> Banding {
        Banding::optimal(lsh_threshold(&self.config), self.config.num_hashes)
    }

    /// LSH candidate pairs, before verification.
    pub fn candidates(&self) -> Vec<(u32, u32)> {
        self.neighbourhood().candidates.clone()
    }

    fn neighbourhood(&self) -> &Neighbourhood {
        self.neighbourhood.get_or_init(|| {
            let candidates = self.banding().candidates(&self.signatures);
            let story = contrast_all(&self.features, &neighbours(self.len(), &candidates));
            Neighbourhood { candidates, story }
        })
    }

    /// The story score of documents `i` and `j` (see [`story_of`]).
    pub fn story(&self, i: usize, j: usize) -> f64 {
        let story = &self.neighbourhood().story;
        let evidence = |k: usize| Evidence {
            features: &story[k],
            signature: &self.signatures[k],
            slots: &self.slots[k],
        };
        story_of(&self.config, &evidence(i), &evidence(j))
    }

    /// The verified pair of `a` and `b`, when they are at least related.
    pub fn judge(&self, a: u32, b: u32) -> Option<Edge> {
        let similarity = self.similarity(a as usize, b as usize);
        self.verdict(a, b, similarity, self.story(a as usize, b as usize))
    }

    /// The pair of `a` and `b` with its scores, when they are at least related.
    fn verdict(&self, a: u32, b: u32, similarity: f64, story: f64) -> Option<Edge> {
        verdict::level(similarity, story, self.config.threshold).map(|level| Edge {
            a,
            b,
            similarity,
            story,
            level,
        })
    }

    /// Candidate pairs at or above the configured level, sorted by document.
    pub fn pairs(&self) -> Vec<Edge> {
        let level = self.config.level;
        self.neighbourhood()
            .candidates
            .par_iter()
            .filter_map(|&(a, b)| self.judge(a, b).filter(|e| e.level >= level))
            .collect()
    }

    /// Clusters at the configured level ([`crate::cluster`]): every candidate pair's level
    /// score (the similarity for related, the story score above) is averaged between groups,
    /// and a merge needs one pair verified at the level. Each pair is judged once.
    pub fn clusters(&self) -> Vec<Cluster> {
        let level = self.config.level;
        let judged: Vec<(Scored, Option<Edge>)> = self
            .neighbourhood()
            .candidates
            .par_iter()
            .map(|&(a, b)| {
                let similarity = self.similarity(a as usize, b as usize);
                let story = self.story(a as usize, b as usize);
                let score = match level {
                    Level::Related => similarity,
                    Level::Rewrite | Level::Copy => story,
                };
                let edge = self.verdict(a, b, similarity, story);
                ((a, b, score), edge.filter(|e| e.level >= level))
            })
            .collect();
        let (scored, edges): (Vec<Scored>, Vec<Option<Edge>>) = judged.into_iter().unzip();
        let edges: Vec<Edge> = edges.into_iter().flatten().collect();
        let gate = match level {
            Level::Related => self.config.threshold,
            Level::Rewrite => verdict::REWRITE_STORY,
            Level::Copy => verdict::COPY_STORY,
        };
        cluster(self.len(), &scored, gate, &edges)
    }

    /// The signature parameters.
    pub fn params(&self) -> Params {
        params(&self.config)
    }
}
