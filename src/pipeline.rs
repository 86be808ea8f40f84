//! The pipeline end to end: documents → normalized terms → document frequencies → weighted
//! features → signatures → candidates (LSH) → verified pairs → clusters.
//!
//! Every stage runs in parallel across documents with rayon and collects in input order, and
//! every floating-point sum runs in a fixed order, so results are identical for any thread
//! count.

use rayon::prelude::*;

use crate::candidates::{CandidateSource as _, Memory};
use crate::cluster::{Cluster, Edge, Scored, cluster};
use crate::config::{Config, Policy, Weighting};
use crate::contrast::{contrast_all, neighbours};
use crate::error::Result;
use crate::features::{DocFreq, Feature, Slot};
use crate::input::Document;
use crate::lsh::{Banding, Scan};
use crate::sign::{Analysis, Featureless, Signing, doc_freq};
use crate::signature::{Signature, SignatureParams};
use crate::similarity::{Evidence, similarity_of, story_of};
use crate::verdict::{self, Level, Window};

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
    /// Each document's time in Unix seconds, when it has one ([`Document::time`]).
    pub times: Vec<Option<i64>>,
    /// Documents further apart in time than this are at most related ([`Window`]).
    pub window: Window,
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
    ///     time: None,
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
        let analyses = Signing::new(config).analyze(&texts);
        let freq = match config.weighting {
            Weighting::Idf => doc_freq(&analyses),
            Weighting::None => DocFreq::default(),
        };
        let ids = docs.iter().map(|d| d.id.clone()).collect();
        let mut prints = Self::from_analyses(ids, analyses, config, freq);
        prints.times = docs.iter().map(|d| d.time).collect();
        Ok(prints)
    }

    /// Fingerprints analysed documents with given document frequencies (from an index, say),
    /// without times.
    pub fn from_analyses(
        ids: Vec<String>,
        analyses: Vec<Analysis>,
        config: &Config,
        freq: DocFreq,
    ) -> Fingerprints {
        let signing = Signing::new(config);
        let ((features, signatures), slots): ((Vec<_>, Vec<_>), Vec<_>) = analyses
            .par_iter()
            .map(|a| {
                let (f, s, slots) = signing.sign_analysis(a, &freq);
                ((f, s), slots)
            })
            .unzip();
        Fingerprints {
            times: vec![None; ids.len()],
            ids,
            analyses,
            features,
            signatures,
            slots,
            config: config.clone(),
            freq,
            window: Window::DEFAULT,
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
        Banding::for_config(&self.config, Scan::Batch)
    }

    /// LSH candidate pairs, before verification.
    pub fn candidates(&self) -> Vec<(u32, u32)> {
        self.neighbourhood().candidates.clone()
    }

    fn neighbourhood(&self) -> &Neighbourhood {
        self.neighbourhood.get_or_init(|| {
            let candidates = Memory(&self.signatures).find(&self.banding(), ());
            let story = contrast_all(&self.features, &neighbours(self.len(), &candidates));
            Neighbourhood { candidates, story }
        })
    }

    /// The story score of documents `i` and `j` (see [`story_of`]).
    pub fn story(&self, i: usize, j: usize) -> f64 {
        self.story_under(&self.config, i, j)
    }

    /// [`Fingerprints::story`] under `config` (the batch's with another policy).
    fn story_under(&self, config: &Config, i: usize, j: usize) -> f64 {
        let story = &self.neighbourhood().story;
        let evidence = |k: usize| Evidence {
            features: &story[k],
            signature: &self.signatures[k],
            slots: &self.slots[k],
        };
        story_of(config, &evidence(i), &evidence(j))
    }

    /// The verified pair of `a` and `b`, when they are at least related.
    pub fn judge(&self, a: u32, b: u32) -> Option<Edge> {
        let similarity = self.similarity(a as usize, b as usize);
        let story = self.story(a as usize, b as usize);
        let evidence = self.story_evidence(a, b, story);
        self.verdict(a, b, similarity, story, evidence, self.config.threshold)
    }

    /// The story score of `a` and `b` as evidence of one news item: 0 when their times are
    /// further apart than the window ([`Window::evidence`]).
    fn story_evidence(&self, a: u32, b: u32, story: f64) -> f64 {
        let time = |doc: u32| self.times[doc as usize];
        self.window.evidence(story, time(a), time(b))
    }

    /// The pair of `a` and `b` with its scores, when they are at least related under
    /// `threshold`; its level is judged on `evidence`, the story score as evidence
    /// ([`Self::story_evidence`]).
    fn verdict(
        &self,
        a: u32,
        b: u32,
        similarity: f64,
        story: f64,
        evidence: f64,
        threshold: f64,
    ) -> Option<Edge> {
        verdict::level(similarity, evidence, threshold).map(|level| Edge {
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
    /// score (the similarity for related, the story score as evidence above: 0 for documents
    /// further apart in time than the window) is averaged between groups, and a merge needs
    /// one pair verified at the level. Each pair is judged once.
    pub fn clusters(&self) -> Vec<Cluster> {
        self.clusters_under(&self.config.policy())
    }

    /// [`Fingerprints::clusters`] judged by another match policy than the configuration's
    /// (`eval` sweeps thresholds and levels over one batch); the candidates stay those of the
    /// configuration's banding.
    pub fn clusters_under(&self, policy: &Policy) -> Vec<Cluster> {
        let config = self.config.with_policy(policy);
        let level = policy.level;
        let judged: Vec<(Scored, Option<Edge>)> = self
            .neighbourhood()
            .candidates
            .par_iter()
            .map(|&(a, b)| {
                let similarity = similarity_of(
                    &config,
                    &self.evidence(a as usize),
                    &self.evidence(b as usize),
                );
                let story = self.story_under(&config, a as usize, b as usize);
                let evidence = self.story_evidence(a, b, story);
                let edge = self.verdict(a, b, similarity, story, evidence, policy.threshold);
                let score = match level {
                    Level::Related => similarity,
                    Level::Rewrite => evidence,
                    // A copy by its whole text ([`verdict::COPY_STORY_ALIKE`]) passes the gate.
                    Level::Copy if edge.is_some_and(|e| e.level == Level::Copy) => {
                        evidence.max(verdict::COPY_STORY)
                    }
                    Level::Copy => evidence,
                };
                ((a, b, score), edge.filter(|e| e.level >= level))
            })
            .collect();
        let (scored, edges): (Vec<Scored>, Vec<Option<Edge>>) = judged.into_iter().unzip();
        let edges: Vec<Edge> = edges.into_iter().flatten().collect();
        let gate = match level {
            Level::Related => policy.threshold,
            Level::Rewrite => verdict::REWRITE_STORY,
            Level::Copy => verdict::COPY_STORY,
        };
        cluster(self.len(), &scored, gate, &edges)
    }

    /// The signature parameters.
    pub fn params(&self) -> SignatureParams {
        SignatureParams::of(&self.config)
    }
}
