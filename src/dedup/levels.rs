//! Verdict levels in dedup: each verified pair's story score and level ([`crate::verdict`]),
//! so that a run can remove only copies (the default) or rewrites too.
//!
//! The story score contrasts each document's features with its neighbours', the documents
//! LSH proposes with it ([`crate::contrast`]). Only the documents in verified pairs need
//! contrasted features, so only their neighbour lists are built, from one scan of the
//! candidate pairs, and only their neighbours' feature sets are read (from memory, or from
//! the spill file).

use std::borrow::Cow;

use rayon::prelude::*;

use super::{Candidates, FeatureSets, Link, Sketches};
use crate::config::Config;
use crate::contrast::contrasted;
use crate::error::Result;
use crate::features::Feature;
use crate::runner::write::PairLevels;
use crate::similarity::{Evidence, story_of};
use crate::verdict::{self, Level, Window};

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
    /// related). `features` holds the feature sets of every document in a candidate pair.
    pub(super) fn judge(
        config: &Config,
        window: Window,
        sketches: &Sketches,
        candidates: &Candidates,
        features: &FeatureSets,
        edges: Vec<Link>,
    ) -> Result<(Vec<Link>, Levels)> {
        const NONE: u32 = u32::MAX;
        // The documents in verified pairs, numbered, and their neighbours.
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
        let mut near: Vec<Vec<u32>> = vec![Vec::new(); docs.len()];
        candidates.for_each_batch(|batch| {
            for &(a, b) in batch {
                for (x, y) in [(a, b), (b, a)] {
                    if let Some(list) = near.get_mut(slot[x as usize] as usize) {
                        list.push(y);
                    }
                }
            }
            Ok(())
        })?;
        let story: Vec<Vec<Feature>> = docs
            .par_iter()
            .zip(&near)
            .map(|(&doc, list)| {
                let own = features.get(doc)?;
                let others = list
                    .iter()
                    .map(|&j| features.get(j))
                    .collect::<Result<Vec<Cow<'_, [Feature]>>>>()?;
                Ok(contrasted(&own, others.iter().map(|f| &**f)))
            })
            .collect::<Result<_>>()?;
        drop(near);
        let judged = edges
            .par_iter()
            .map(|&(a, b, similarity)| {
                let (signature_a, slots_a) = sketches.evidence(a)?;
                let (signature_b, slots_b) = sketches.evidence(b)?;
                let evidence = |doc: u32, signature, slots| Evidence {
                    features: &story[slot[doc as usize] as usize],
                    signature,
                    slots,
                };
                let score = story_of(
                    config,
                    &evidence(a, &signature_a, &slots_a),
                    &evidence(b, &signature_b, &slots_b),
                );
                let time = |doc: u32| sketches.times.get(doc as usize).copied().flatten();
                let evidence = window.evidence(score, time(a), time(b));
                Ok(verdict::level(similarity, evidence, config.threshold)
                    .filter(|&level| level >= config.level)
                    .map(|level| ((a, b, similarity), (a, b, score, level))))
            })
            .collect::<Result<Vec<_>>>()?;
        let (edges, judged) = judged.into_iter().flatten().unzip();
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
