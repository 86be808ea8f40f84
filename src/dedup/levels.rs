//! Verdict levels in dedup: each verified pair's story score and level ([`crate::verdict`]),
//! so that a run can remove only copies (the default) or rewrites too.
//!
//! The story score contrasts each document's features with its neighbours', the documents
//! LSH proposes with it ([`crate::contrast`]). Only the documents in verified pairs need
//! contrasted features, so only their neighbour lists are built, from one scan of the
//! candidate pairs, and only their neighbours' feature sets are read (from memory, or from
//! the spill file). Documents that the contrast cannot tell apart (the same features and
//! slots, and neighbours of the same) are contrasted once, and each pair of them scored once
//! ([`super::classes`]): a crowd of copies costs one judgement, not one per pair.

use std::borrow::Cow;

use rayon::prelude::*;

use super::classes::{Classes, Memo, judge_pairs};
use super::neighbours::{Neighbours, Numbered};
use super::sketches::Store;
use super::{Candidates, FeatureSets, Link, Sketches};
use crate::config::Config;
use crate::contrast::contrasted;
use crate::error::Result;
use crate::features::Feature;
use crate::runner::write::PairLevels;
use crate::signature::Signature;
use crate::similarity::{Evidence, story_of};
use crate::spill::ListFile;
use crate::verdict::{self, Level, Window};

/// Classes whose contrasted features are made at once, in parallel, before they are kept.
const STORY_CHUNK: usize = 4096;

/// Verified pairs scored at once, at most: what is made per pair of a chunk (its numbers,
/// score and verdict) is held for a chunk at a time.
const SCORE_CHUNK: usize = 1 << 20;

/// Bytes a pair of a chunk being scored takes: its numbers, score and verdict, with what
/// [`judge_pairs`] makes of it.
const SCORE_BYTES: usize = 48;

/// Verified pairs scored at once: [`SCORE_CHUNK`], or on the spill path as many as half the
/// budget's buffers hold (the remembered scores take the other half).
fn score_chunk(store: &Store) -> usize {
    match store {
        Store::Memory { .. } => SCORE_CHUNK,
        Store::Disk(spilled) => (spilled.budget.eighths(4) / SCORE_BYTES).clamp(1, SCORE_CHUNK),
    }
}

/// The story score and level of the verified pairs of a run, looked up by pair.
#[derive(Debug, Default)]
pub struct Levels {
    /// `(a, b, story, level)`, `a < b`, sorted by pair.
    judged: Vec<(u32, u32, f64, Level)>,
}

/// The levels the writing read prints beside each pair.
impl PairLevels for Levels {
    fn get(&self, a: u32, b: u32) -> Option<(f64, Level)> {
        Levels::get(self, a, b)
    }
}

impl Levels {
    /// The story score and level of the pair of `a` and `b` (in either order), when judged.
    pub fn get(&self, a: u32, b: u32) -> Option<(f64, Level)> {
        let key = (a.min(b), a.max(b));
        self.judged
            .binary_search_by_key(&key, |&(a, b, _, _)| (a, b))
            .ok()
            .map(|at| (self.judged[at].2, self.judged[at].3))
    }

    /// Judges the exact verified pairs `edges` (sorted by pair): the pairs at `config.level`
    /// or above, and their levels (documents further apart in time than `window` are at most
    /// related). `features` holds the feature sets of every document in a candidate pair,
    /// `classes` puts the documents in classes of equal features and slots: the documents of
    /// verified pairs whose classes and neighbours' classes are the same share their
    /// contrasted features, and each pair of them is scored once ([`judge_pairs`]).
    pub(super) fn judge(
        config: &Config,
        window: Window,
        sketches: &mut Sketches,
        candidates: &Candidates,
        (features, classes): (&FeatureSets, &Classes),
        mut edges: Vec<Link>,
    ) -> Result<(Vec<Link>, Levels)> {
        const NONE: u32 = u32::MAX;
        // The documents in verified pairs, numbered, and their neighbours' classes.
        let mut slot = vec![NONE; sketches.n];
        let mut docs = Vec::new();
        for &(a, b, _) in &edges {
            for doc in [a, b] {
                if slot[doc as usize] == NONE {
                    slot[doc as usize] = docs.len() as u32;
                    docs.push(doc);
                }
            }
        }
        // Numbered documents alike for the contrast: the same class, the same neighbours'.
        let numbered = Numbered {
            docs: &docs,
            slot: &slot,
        };
        let (alike, near) = Neighbours::alike(&mut sketches.store, &numbered, candidates, classes)?;
        // The contrasted features of each class, in memory, or on disk beside the other
        // spilled state (documents in verified pairs may be most of a large corpus).
        let mut story = match &mut sketches.store {
            Store::Memory { .. } => FeatureSets::memory(alike.len()),
            Store::Disk(spilled) => FeatureSets::Disk {
                list: ListFile::new(&mut spilled.dir, "story")?,
                starts: vec![0],
            },
        };
        for first in (0..alike.len()).step_by(STORY_CHUNK) {
            let end = (first + STORY_CHUNK).min(alike.len());
            let made = (first as u32..end as u32)
                .into_par_iter()
                .map(|class| {
                    let i = alike.first(class);
                    let own = features.get(docs[i as usize])?;
                    // Each neighbours' class read once, however often it neighbours (a crowd
                    // of copies is one class, thousands of times).
                    let list = near.of(&alike, class)?;
                    let distinct = (list.chunk_by(|a, b| a == b))
                        .map(|same| features.get(classes.first(same[0])))
                        .collect::<Result<Vec<Cow<'_, [Feature]>>>>()?;
                    let others: Vec<&[Feature]> = (list.chunk_by(|a, b| a == b).zip(&distinct))
                        .flat_map(|(same, set)| std::iter::repeat_n(&**set, same.len()))
                        .collect();
                    Ok(contrasted(&own, others.into_iter()))
                })
                .collect::<Result<Vec<Vec<Feature>>>>()?;
            for (class, contrasted) in (first..).zip(made) {
                story.insert(class, contrasted)?;
            }
        }
        if let (FeatureSets::Disk { list, .. }, Store::Disk(spilled)) =
            (&mut story, &mut sketches.store)
        {
            list.finish(&mut spilled.dir)?;
        }
        drop(near);
        // The story score reads features and slots only; the signatures may be released.
        let no_signature = Signature {
            values: Vec::new(),
            weight: 0.0,
        };
        let score = |&(i, j): &(u32, u32)| {
            let (a, b) = (docs[i as usize], docs[j as usize]);
            let (slots_a, slots_b) = (sketches.slots(a)?, sketches.slots(b)?);
            let (story_a, story_b) = (story.get(alike.of(i))?, story.get(alike.of(j))?);
            let evidence = |features, slots| Evidence {
                features,
                signature: &no_signature,
                slots,
            };
            Ok(story_of(
                config,
                &evidence(&story_a, &slots_a),
                &evidence(&story_b, &slots_b),
            ))
        };
        let verdict = |&(a, b, similarity): &Link, score: f64| {
            let time = |doc: u32| sketches.times.get(doc as usize).copied().flatten();
            let evidence = window.evidence(score, time(a), time(b));
            verdict::level(similarity, evidence, config.threshold)
                .filter(|&level| level >= config.level)
                .map(|level| (score, level))
        };
        // The pairs at the level asked, and which pairs they are: a crowd has millions of
        // verified pairs, judged a chunk at a time.
        let mut judged = Vec::new();
        let mut at_level = Vec::with_capacity(edges.len());
        let mut memo = Memo::new();
        for chunk in edges.chunks(score_chunk(&sketches.store)) {
            memo.bound(sketches.memo_room(0));
            let numbered_pairs: Vec<(u32, u32)> = (chunk.iter())
                .map(|&(a, b, _)| (slot[a as usize], slot[b as usize]))
                .collect();
            let scores = judge_pairs(&alike, &numbered_pairs, &mut memo, |pairs| {
                pairs.par_iter().map(score).collect()
            })?;
            drop(numbered_pairs);
            let verdicts: Vec<Option<(f64, Level)>> = (chunk.par_iter().zip(scores))
                .map(|(edge, score)| verdict(edge, score))
                .collect();
            judged.extend(
                chunk
                    .iter()
                    .zip(&verdicts)
                    .filter_map(|(&(a, b, _), verdict)| {
                        verdict.map(|(score, level)| (a, b, score, level))
                    }),
            );
            at_level.extend(verdicts.iter().map(Option::is_some));
        }
        let mut kept = at_level.iter();
        edges.retain(|_| kept.next().is_some_and(|&kept| kept));
        edges.shrink_to_fit();
        Ok((edges, Levels { judged }))
    }

    /// Adds pairs judged copies without a story score (documents without features whose
    /// normalized texts are the same), keeping the order.
    pub(super) fn add_copies(&mut self, pairs: &[Link]) {
        if pairs.is_empty() {
            return;
        }
        let copies = pairs.iter().map(|&(a, b, _)| (a, b, 1.0, Level::Copy));
        self.judged.extend(copies);
        self.judged.sort_by_key(|&(a, b, _, _)| (a, b));
        self.judged.dedup_by_key(|&mut (a, b, _, _)| (a, b));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_found_in_either_order() {
        let mut levels = Levels {
            judged: vec![(0, 3, 0.4, Level::Rewrite), (1, 2, 0.9, Level::Copy)],
        };
        assert_eq!(levels.get(3, 0), Some((0.4, Level::Rewrite)));
        assert_eq!(levels.get(1, 2), Some((0.9, Level::Copy)));
        assert_eq!(levels.get(0, 1), None);
        levels.add_copies(&[(0, 1, 1.0), (1, 2, 1.0)]);
        assert_eq!(levels.get(0, 1), Some((1.0, Level::Copy)));
        assert_eq!(levels.get(1, 2), Some((0.9, Level::Copy)));
        assert_eq!(levels.judged.len(), 3);
    }
}
