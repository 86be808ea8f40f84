//! Judging candidate pairs: each pair's similarity from both documents' evidence, and the
//! streaming judgement that decides keep-first removals in the writing read.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::Dedup;
use super::candidates::Candidates;
use super::classes::{Classes, Memo, judge_pairs};
use super::exact::FeatureSets;
use super::sketches::Sketches;
use crate::config::Config;
use crate::error::Result;
use crate::features::{DocFreq, Feature};
use crate::keep::{Link, Removal, most_similar_kept};
use crate::runner::read::Layout;
use crate::runner::write::{Decide, Judged};
use crate::sign::Signing;
use crate::similarity::{Evidence, Held, exact_similarity_reaching, similarity_of};

/// Exact verification and the keep pass for [`Keep::First`] (in memory), run in the writing
/// read, which saves the extra read [`Dedup::verify_exactly`] makes: the documents in candidate
/// pairs get their feature sets as they are parsed, the pairs whose later document is in the
/// chunk are judged, and the chunk's documents are removed or kept in input order, exactly as
/// [`greedy`] decides from all the verified pairs (in input order, a document's kept
/// neighbours all come before it). A document's features are held until its last pair is
/// judged.
pub(super) struct Streaming<'a> {
    pub(super) judging: Judging<'a>,
    pub(super) decisions: Decisions,
}

/// What [`Streaming`] judges pairs with; it does not change during the read.
pub(super) struct Judging<'a> {
    /// The exact configuration.
    pub(super) config: Config,
    pub(super) freq: &'a DocFreq,
    /// The signing stage the features are recomputed with.
    pub(super) signing: &'a Signing,
    pub(super) sketches: &'a Sketches,
    /// The candidate pairs as (later, earlier) document, sorted: by the document that decides
    /// when they are judged.
    pub(super) pairs: Vec<(u32, u32)>,
    /// Per document, the last document of its candidate pairs ([`NO_PAIR`]: none).
    last_use: Vec<u32>,
}

/// What [`Streaming`] has decided so far.
pub(super) struct Decisions {
    /// Pairs judged so far (a prefix of [`Judging::pairs`]).
    pub(super) judged: usize,
    pub(super) features: FeatureSets,
    /// The held feature sets by the document after which they are no longer needed, earliest
    /// first.
    expiry: BinaryHeap<Reverse<(u32, u32)>>,
    pub(super) kept: Vec<bool>,
    /// Per document, whether it is in a verified pair judged so far.
    pub(super) linked: Vec<bool>,
    pub(super) edges: Vec<Link>,
    pub(super) removals: Vec<Removal>,
}

/// [`Judging::last_use`] of a document in no candidate pair.
const NO_PAIR: u32 = u32::MAX;

impl<'a> Streaming<'a> {
    /// Ready to judge the candidate `pairs` (`(a, b)`, `a < b`) under the exact `config`.
    pub(super) fn new(
        config: Config,
        freq: &'a DocFreq,
        signing: &'a Signing,
        sketches: &'a Sketches,
        mut pairs: Vec<(u32, u32)>,
    ) -> Streaming<'a> {
        let n = sketches.n;
        let mut last_use = vec![NO_PAIR; n];
        for pair in &mut pairs {
            let (a, b) = *pair;
            for doc in [a, b] {
                let last = &mut last_use[doc as usize];
                *last = if *last == NO_PAIR { b } else { (*last).max(b) };
            }
            *pair = (b, a);
        }
        pairs.sort_unstable();
        Streaming {
            judging: Judging {
                config,
                freq,
                signing,
                sketches,
                pairs,
                last_use,
            },
            decisions: Decisions {
                judged: 0,
                features: FeatureSets::memory(n),
                expiry: BinaryHeap::new(),
                kept: vec![false; n],
                linked: vec![false; n],
                edges: Vec::new(),
                removals: Vec::new(),
            },
        }
    }
}

/// The decisions of a streaming judgement with what they are judged from: the removals the
/// writing read decides as it goes ([`Decide`]).
pub(super) struct Deciding<'j, 'a> {
    pub(super) judging: &'j Judging<'a>,
    pub(super) decisions: Decisions,
}

impl Judged for Judging<'_> {
    fn in_pairs(&self, doc: usize) -> bool {
        Judging::in_pairs(self, doc)
    }

    fn layout(&self) -> &Layout {
        &self.sketches.layout
    }

    fn recompute(&self) -> (&Signing, &DocFreq) {
        (self.signing, self.freq)
    }
}

impl Decide for Deciding<'_, '_> {
    fn decide(
        &mut self,
        first: usize,
        features: Vec<Option<Vec<Feature>>>,
        removed: &mut [bool],
    ) -> Result<Vec<u32>> {
        let done = self
            .decisions
            .decide(self.judging, first, features, removed)?;
        let linked = &self.decisions.linked;
        Ok(done
            .into_iter()
            .filter(|&doc| !linked[doc as usize])
            .collect())
    }

    fn finish(self: Box<Self>) -> (Vec<Link>, Vec<Removal>) {
        let mut edges = self.decisions.edges;
        edges.sort_unstable_by_key(|&(a, b, _)| (a, b));
        (edges, self.decisions.removals)
    }
}

impl Judging<'_> {
    /// Whether document `doc` is in a candidate pair (any removal or verified pair names only
    /// such documents).
    pub(super) fn in_pairs(&self, doc: usize) -> bool {
        self.last_use.get(doc).is_some_and(|&last| last != NO_PAIR)
    }
}

impl Decisions {
    /// Decides the next chunk's documents, numbered from `first` (the chunks come in input
    /// order), given their recomputed `features` (those in candidate pairs have them): marks
    /// the removed ones in `removed`. Returns the documents whose last pair is now judged,
    /// earlier ones included.
    pub(super) fn decide(
        &mut self,
        judging: &Judging<'_>,
        first: usize,
        features: Vec<Option<Vec<Feature>>>,
        removed: &mut [bool],
    ) -> Result<Vec<u32>> {
        let end = first + removed.len();
        for (doc, features) in (first..end).zip(features) {
            if let Some(features) = features {
                self.expiry
                    .push(Reverse((judging.last_use[doc], doc as u32)));
                self.features.insert(doc, features)?;
            }
        }
        let pending = &judging.pairs[self.judged..];
        let count = pending.partition_point(|&(b, _)| (b as usize) < end);
        let chunk_pairs: Vec<(u32, u32)> = pending[..count].iter().map(|&(b, a)| (a, b)).collect();
        self.judged += count;
        let edges = judge_all(
            &judging.config,
            judging.sketches,
            &self.features,
            &chunk_pairs,
        )?;
        let mut at = 0;
        for doc in first..end {
            let from = at;
            while edges.get(at).is_some_and(|e| e.1 as usize == doc) {
                at += 1;
            }
            let neighbours = edges[from..at].iter().map(|&(a, _, s)| (a, s));
            match most_similar_kept(neighbours, &self.kept, |other| other) {
                Some((kept, similarity)) => {
                    removed[doc - first] = true;
                    self.removals.push(Removal {
                        removed: doc as u32,
                        kept,
                        similarity,
                    });
                }
                None => self.kept[doc] = true,
            }
        }
        for &(a, b, _) in &edges {
            (self.linked[a as usize], self.linked[b as usize]) = (true, true);
        }
        self.edges.extend(edges);
        let mut done = Vec::new();
        while let Some(&Reverse((last, doc))) = self.expiry.peek() {
            if last as usize >= end {
                break;
            }
            self.expiry.pop();
            self.features.release(doc);
            done.push(doc);
        }
        Ok(done)
    }
}

/// Judges the candidate pair `(a, b)` under `config` from both documents' signatures, slots
/// and (exact verification) `features`: the verified pair, when it reaches the threshold.
pub(super) fn judge(
    config: &Config,
    sketches: &Sketches,
    features: &FeatureSets,
    (a, b): (u32, u32),
) -> Result<Option<Link>> {
    if config.exact {
        let mut similarity = [None];
        judge_exactly(config, sketches, features, a, &[(a, b)], &mut similarity)?;
        return Ok(similarity[0].map(|s| (a, b, s)));
    }
    let (signature_a, slots_a) = sketches.evidence(a)?;
    let (signature_b, slots_b) = sketches.evidence(b)?;
    let evidence = |signature, slots| Evidence {
        features: &[],
        signature,
        slots,
    };
    let s = similarity_of(
        config,
        &evidence(&signature_a, &slots_a),
        &evidence(&signature_b, &slots_b),
    );
    Ok((s >= config.threshold).then_some((a, b, s)))
}

/// Judges under an exact `config` the candidate `pairs`, each of which has the document
/// `shared` (its features held for all of them, indexed when there are several: see
/// [`Held`]): each pair's similarity when it reaches the threshold, in order, in
/// `similarities` (one per pair).
fn judge_exactly(
    config: &Config,
    sketches: &Sketches,
    features: &FeatureSets,
    shared: u32,
    pairs: &[(u32, u32)],
    similarities: &mut [Option<f64>],
) -> Result<()> {
    let (own, own_size) = features.get_sized(shared)?;
    let held = if pairs.len() >= INDEXED_PAIRS {
        Held::indexed(&own, own_size)
    } else {
        Held::merged(&own, own_size)
    };
    let own_slots = sketches.slots(shared)?;
    for (&(a, b), similarity) in pairs.iter().zip(similarities) {
        let other = if a == shared { b } else { a };
        let (other_features, other_size) = features.get_sized(other)?;
        let other_slots = sketches.slots(other)?;
        let slots = if a == shared {
            (&*own_slots, &*other_slots)
        } else {
            (&*other_slots, &*own_slots)
        };
        let other = (&*other_features, other_size);
        *similarity = exact_similarity_reaching(config, &held, other, slots, config.threshold);
    }
    Ok(())
}

/// Pairs with a document in common from which [`judge_exactly`] indexes its features: a
/// table costs about a merge to build, and each probe of it less than half a merge step.
const INDEXED_PAIRS: usize = 3;

/// The most pairs in a run of [`shared_runs`]: runs are judged in parallel, and one document
/// may be in a pair with each of thousands (the first of a crowd of copies).
const MAX_RUN: usize = 256;

/// `pairs` cut into runs of consecutive pairs with a document in common, each with that
/// document: pairs sorted by either document come as one run per document (of at most
/// [`MAX_RUN`] pairs).
fn shared_runs(pairs: &[(u32, u32)]) -> Vec<(u32, std::ops::Range<usize>)> {
    let mut runs = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        let (a, b) = pairs[start];
        let has = |doc: u32| {
            pairs
                .get(start + 1)
                .is_some_and(|&(x, y)| x == doc || y == doc)
        };
        let shared = if !has(a) && has(b) { b } else { a };
        let len = pairs[start..]
            .iter()
            .take(MAX_RUN)
            .take_while(|&&(a, b)| a == shared || b == shared)
            .count();
        runs.push((shared, start..start + len));
        start += len;
    }
    runs
}

/// [`judge`] on each pair: its similarity when it reaches the threshold, in the order of
/// `pairs`. Under an exact `config`, each run of pairs with a document in common is judged
/// together ([`judge_exactly`]). In parallel when there are at least [`PARALLEL_JUDGING`]
/// pairs: below, the calling thread judges them faster than it can hand them over, in
/// particular to a pool busy parsing the next chunk (verification in the writing read).
fn similarities(
    config: &Config,
    sketches: &Sketches,
    features: &FeatureSets,
    pairs: &[(u32, u32)],
) -> Result<Vec<Option<f64>>> {
    let parallel = pairs.len() >= PARALLEL_JUDGING;
    if !config.exact {
        let judged =
            |&pair: &(u32, u32)| Ok(judge(config, sketches, features, pair)?.map(|(_, _, s)| s));
        return if parallel {
            pairs.par_iter().map(judged).collect()
        } else {
            pairs.iter().map(judged).collect()
        };
    }
    let runs = shared_runs(pairs);
    let mut similarities = vec![None; pairs.len()];
    // Each run's share of `similarities`: the runs cover `pairs` in order.
    let mut outputs = Vec::with_capacity(runs.len());
    let mut rest = &mut similarities[..];
    for (_, run) in &runs {
        let (output, after) = std::mem::take(&mut rest).split_at_mut(run.len());
        outputs.push(output);
        rest = after;
    }
    let judged = |((shared, run), output): (&(u32, std::ops::Range<usize>), &mut [Option<f64>])| {
        judge_exactly(
            config,
            sketches,
            features,
            *shared,
            &pairs[run.clone()],
            output,
        )
    };
    if parallel {
        runs.par_iter().zip(outputs).try_for_each(judged)?;
    } else {
        runs.iter().zip(outputs).try_for_each(judged)?;
    }
    Ok(similarities)
}

/// The verified pairs among `pairs`, in order ([`similarities`]).
pub(super) fn judge_all(
    config: &Config,
    sketches: &Sketches,
    features: &FeatureSets,
    pairs: &[(u32, u32)],
) -> Result<Vec<Link>> {
    let similarities = similarities(config, sketches, features, pairs)?;
    let verified = pairs.iter().zip(similarities);
    Ok(verified
        .filter_map(|(&(a, b), s)| Some((a, b, s?)))
        .collect())
}

/// Candidate pairs from which [`judge_all`] judges in parallel (one exact judgement takes a
/// few microseconds).
const PARALLEL_JUDGING: usize = 4096;

impl Dedup {
    /// The candidate pairs whose similarity under `config` reaches its threshold, judged from
    /// the signatures, slots and (exact verification) `features` of both documents; once per
    /// pair of `classes` when given ([`judge_pairs`]).
    pub(super) fn verify(
        &self,
        sketches: &Sketches,
        candidates: &Candidates,
        config: &Config,
        (features, classes): (&FeatureSets, Option<&Classes>),
    ) -> Result<Vec<Link>> {
        let mut edges = Vec::new();
        let mut memo = Memo::new();
        candidates.for_each_batch(|batch| {
            let Some(classes) = classes else {
                edges.extend(judge_all(config, sketches, features, batch)?);
                return Ok(());
            };
            memo.bound(sketches.memo_room(edges.len()));
            let similarities = judge_pairs(classes, batch, &mut memo, |pairs| {
                similarities(config, sketches, features, pairs)
            })?;
            let verified = batch.iter().zip(similarities);
            edges.extend(verified.filter_map(|(&(a, b), s)| Some((a, b, s?))));
            Ok(())
        })?;
        Ok(edges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_share_a_document_whichever_side_it_is_on() {
        let by_first = [(0, 1), (0, 5), (0, 7), (2, 3), (4, 9)];
        assert_eq!(shared_runs(&by_first), [(0, 0..3), (2, 3..4), (4, 4..5)]);
        let by_second = [(1, 8), (3, 8), (5, 9), (6, 9), (7, 9)];
        assert_eq!(shared_runs(&by_second), [(8, 0..2), (9, 2..5)]);
        assert_eq!(shared_runs(&[]), []);
        let star: Vec<(u32, u32)> = (1..=600).map(|b| (0, b)).collect();
        let runs = [
            (0, 0..MAX_RUN),
            (0, MAX_RUN..2 * MAX_RUN),
            (0, 2 * MAX_RUN..600),
        ];
        assert_eq!(shared_runs(&star), runs);
    }
}
