//! Dedup: streams a corpus of any size, removes near-duplicates, and writes every kept
//! document's original line unchanged.
//!
//! Memory holds one signature per document (plus its length with `--keep longest`), never the
//! text, and features only for the documents in candidate pairs with exact verification, so
//! the corpus is read in passes. With a memory budget
//! ([`Dedup::memory`]) the signatures, band keys and candidate pairs move to disk once they
//! outgrow it (see *Beyond memory* below).
//!
//! 1. *(IDF weighting only)* document frequencies: the weights of the features depend on the
//!    whole corpus, so they are counted in a pass of their own (memory: the vocabulary).
//! 2. Signatures, in chunks of documents sketched in parallel with rayon.
//! 3. LSH candidates by sorting band keys ([`Banding::candidates`]); each candidate pair is
//!    verified by [`crate::similarity::similarity_of`] as every command is, from the *estimated* similarity (the
//!    feature sets are not kept, so [`Config::exact`] does not apply) and, with
//!    [`Config::fact_check`], the documents' fact slots (kept per document: a few bytes per
//!    number); a greedy pass in keep order decides what stays.
//! 4. The inputs are read again and the kept lines written in input order.
//!
//! Exact verification ([`Dedup::verify_exact`]) recomputes the feature sets of the documents
//! in candidate pairs from the text. For [`Keep::First`] in memory it does so in the writing
//! read, deciding each chunk's documents before writing them (`judge::Streaming`): one read of the
//! inputs fewer. Otherwise (the keep order is not the input order, or the pairs are on disk)
//! it takes a read of its own between steps 3 and 4.
//!
//! **Levels.** Above [`Level::Related`] (`config.level`), a verified pair must also reach the
//! level ([`crate::verdict`]): the run verifies exactly, contrasts the documents in verified
//! pairs with their candidates ([`Levels`]), and removes only what is a copy (or a rewrite).
//! The streaming verification does not apply then: a document's later neighbours are needed.
//! With a time field, documents further apart than [`Dedup::window`] are at most related
//! (their times are kept per document, 16 bytes each, in memory).
//!
//! **Crowds of copies.** Copies of one text fall in the same buckets of every band, so a crowd
//! of `c` copies is `c²/2` candidate pairs. In memory, LSH bands one document per group of
//! documents with the same evidence and gives its groups' pairs from it
//! (`candidates::grouped_candidates`; on disk, `spilled::Crowds`); exact verification and
//! the levels judge each pair of classes of documents they cannot tell apart once
//! (`classes`), so that every pair still gets its own verdict, listed with `--pairs`.
//!
//! **The keep rule** ([`crate::keep`]): a greedy pass in keep order removes each document
//! that has a verified pair with a document already kept.
//!
//! **Beyond memory.** While the state that the in-memory path holds per document (the
//! signature, its slots, and the band keys LSH sorts) fits the budget, nothing changes. When
//! it would not, the signatures seen so far and every later one are written to a
//! `SignatureTable` on disk, and their evidence keys to sorted runs (`SortedRuns`), whose
//! merge groups the documents with the same evidence (`spilled::Crowds`: a crowd of copies is
//! banded as one document). The band entries of the documents that stand for a group or
//! themselves go to sorted runs; LSH merges them k ways, bucket by bucket, and writes each
//! bucket's pair keys to runs of their own, whose merge counts the bands each pair collides
//! in; the pairs of the groups' other members follow. The candidate pairs come out in the
//! same order as from [`Banding::candidates`] and are
//! verified in batches that read their two signatures back by position, so the output is
//! byte-identical to the in-memory path's for any budget. The budget is then the whole
//! run's (`budget`): a fixed part, what is held per document (the reader's map of ids in the
//! first reads, the keep pass's arrays, the classes) and per verified pair come first, and
//! every buffer alive at once (sort runs, merge reads, the chunk being banded, the remembered
//! judgements) shares what they leave; when they leave too little, a warning says so. The
//! contrast of the levels sorts its neighbour lists on disk too (`neighbours`).
//!
//! Every step is in a fixed order, so the output is identical for any thread count.

use std::path::PathBuf;

use crate::config::{Config, Weighting};
use crate::error::{Error, Result};
use crate::features::DocFreq;
use crate::input::read_once;
pub use crate::keep::{Keep, Link, Removal};
use crate::keep::{greedy, keep_order};
use crate::lsh::{Banding, Scan};
use crate::runner::write::{PairLevels, Removals};
pub use crate::runner::{
    CHUNK_DOCS_PER_THREAD, CHUNK_THREADS, Dedup, Observer, Outputs, Pass, Summary,
};
use crate::sign::Signing;
use crate::similarity::estimating;
pub use crate::spill::physical_memory;
use crate::verdict::Level;

mod budget;
mod candidates;
mod classes;
mod evidence;
mod exact;
mod judge;
mod levels;
mod neighbours;
mod sketches;
mod spilled;
#[cfg(test)]
mod tests;
mod twins;

use candidates::Candidates;
use classes::Classes;
use exact::FeatureSets;
use judge::{Deciding, Streaming};
pub use levels::Levels;
use sketches::{Sketches, featureless_pairs, with_featureless_pairs};
use twins::Twins;

/// The level dedup removes at unless told otherwise: the lowest whose precision on the
/// Reuters audit (`tests/audit/`) is at least 0.95, so that a distinct story is not lost.
pub const DEFAULT_LEVEL: Level = Level::Copy;

impl Dedup {
    /// Deduplicates `paths`, writing kept lines, and when asked the removals and the verified
    /// pairs (see [`Outputs`]).
    ///
    /// ```
    /// use storyprint::Config;
    /// use storyprint::dedup::{Dedup, Outputs};
    /// use storyprint::input::InputOptions;
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("docs.jsonl");
    /// let story = "the central bank raised its key interest rate by half a point on tuesday";
    /// std::fs::write(&path, format!(
    ///     "{{\"id\":\"a\",\"text\":\"{story}\"}}\n{{\"id\":\"b\",\"text\":\"{story}\",\"x\":1}}\n"
    /// )).unwrap();
    /// let (mut unique, mut removed) = (Vec::new(), Vec::new());
    /// let dedup = Dedup::new(Config::classic(), InputOptions::default());
    /// let outputs = Outputs { unique: &mut unique, removed: Some(&mut removed), pairs: None };
    /// let summary = dedup.run(&[path], outputs, &mut ()).unwrap();
    /// assert_eq!((summary.kept, summary.removed), (1, 1));
    /// assert!(String::from_utf8(unique).unwrap().starts_with("{\"id\":\"a\""));
    /// assert_eq!(
    ///     String::from_utf8(removed).unwrap(),
    ///     "removed_id\tkept_id\tsimilarity\tstory\tlevel\nb\ta\t1.0000\t\t\n"
    /// );
    /// ```
    pub fn run(
        &self,
        paths: &[PathBuf],
        outputs: Outputs<'_>,
        observer: &mut dyn Observer,
    ) -> Result<Summary> {
        self.config.validate()?;
        if let Some(path) = read_once(paths) {
            return Err(Error::Config(format!(
                "dedup reads its inputs twice, so it cannot read standard input or a pipe ({}); \
                 save it to a file first",
                path.display()
            )));
        }
        let mut summary = Summary::default();
        // The frequency pass's analyzers, with every word they stemmed, serve the next pass.
        let signing = Signing::new(&self.config);
        let freq = match self.config.weighting {
            Weighting::Idf => self.frequencies(paths, &signing, observer, &mut summary),
            Weighting::None => DocFreq::default(),
        };
        let first_pass = self.config.weighting == Weighting::None;
        let mut sketches =
            self.sketch(paths, &freq, &signing, first_pass, observer, &mut summary)?;
        if let Some(warning) = sketches.hold(0) {
            observer.warning(&warning);
        }
        let exact = self.judges_levels() || self.verify_exact;
        // Every verified pair is wanted with --pairs: the twins' shortcut would not list them.
        if !exact
            && outputs.pairs.is_none()
            && let Some((edges, removals)) = Twins::select(self, &sketches, &mut summary)?
        {
            drop(freq);
            let known = Removals::Known {
                edges: &edges,
                removals: &removals,
                levels: None,
            };
            return self.write_known(paths, sketches, known, outputs, observer, summary);
        }
        let candidates = self.candidates(&mut sketches, &mut summary)?;
        let candidates = match candidates {
            Candidates::Memory(pairs)
                if self.verify_exact
                    && !self.judges_levels()
                    && self.keep == Keep::First
                    && featureless_pairs(&sketches, self.keep).is_empty() =>
            {
                sketches.release_signatures();
                let config = self.exact_config();
                let Streaming { judging, decisions } =
                    Streaming::new(config, &freq, &signing, &sketches, pairs);
                let removals = Removals::Streaming {
                    judged: &judging,
                    decide: Box::new(Deciding {
                        judging: &judging,
                        decisions,
                    }),
                };
                self.write_pass(paths, removals, None, outputs, observer, &mut summary)?;
                return Ok(summary);
            }
            candidates => candidates,
        };
        let (edges, mut levels) = if exact {
            sketches.release_signatures();
            let features =
                self.exact_features(paths, &freq, &signing, &mut sketches, &candidates, observer)?;
            let classes = Classes::of_features(&sketches, &features)?;
            let config = &self.exact_config();
            let judging = (&features, &classes);
            let edges = self.verify(&sketches, &candidates, config, (&features, Some(&classes)))?;
            if let Some(warning) = sketches.hold(edges.len()) {
                observer.warning(&warning);
            }
            if self.judges_levels() {
                let (edges, levels) = Levels::judge(
                    config,
                    self.window,
                    &mut sketches,
                    &candidates,
                    judging,
                    edges,
                )?;
                (edges, Some(levels))
            } else {
                (edges, None)
            }
        } else {
            let config = &estimating(&self.config);
            let estimated = (&FeatureSets::Estimated, None);
            let edges = self.verify(&sketches, &candidates, config, estimated)?;
            (edges, None)
        };
        drop(freq);
        drop(candidates);
        if let Some(levels) = &mut levels {
            levels.add_copies(&featureless_pairs(&sketches, self.keep));
        }
        let edges = with_featureless_pairs(edges, &sketches, self.keep);
        let removals = self.select(&sketches, &edges, &mut summary);
        let known = Removals::Known {
            edges: &edges,
            removals: &removals,
            levels: levels.as_ref().map(|l| l as &dyn PairLevels),
        };
        self.write_known(paths, sketches, known, outputs, observer, summary)
    }

    /// Whether the run judges each pair's level ([`crate::verdict`]): when it removes only
    /// rewrites or copies (`config.level` above related). It then verifies exactly, whatever
    /// [`Dedup::verify_exact`] says: the story score needs the feature sets.
    pub fn judges_levels(&self) -> bool {
        self.config.level > Level::Related
    }

    /// The writing read once the removals are `known` ([`Dedup::write_pass`]), the sketches
    /// dropped first.
    fn write_known(
        &self,
        paths: &[PathBuf],
        mut sketches: Sketches,
        known: Removals<'_>,
        outputs: Outputs<'_>,
        observer: &mut dyn Observer,
        mut summary: Summary,
    ) -> Result<Summary> {
        summary.spilled = sketches.spilled();
        let layout = std::mem::take(&mut sketches.layout);
        drop(sketches);
        self.write_pass(paths, known, Some(&layout), outputs, observer, &mut summary)?;
        Ok(summary)
    }

    /// The banding dedup uses.
    fn banding(&self) -> Banding {
        Banding::for_config(&self.config, Scan::Streaming)
    }

    /// The configuration exact verification judges pairs with.
    fn exact_config(&self) -> Config {
        Config {
            exact: true,
            ..self.config.clone()
        }
    }

    /// The greedy keep pass over the verified pairs: the removals, sorted by removed document.
    fn select(&self, sketches: &Sketches, edges: &[Link], summary: &mut Summary) -> Vec<Removal> {
        let n = sketches.n;
        summary.verified = edges.len() as u64;
        let order = keep_order(n, self.keep, &sketches.lengths);
        let removals = greedy(n, edges, &order);
        summary.removed = removals.len() as u64;
        summary.kept = n as u64 - summary.removed;
        removals
    }
}
