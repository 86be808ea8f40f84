//! Twins: groups of documents with identical evidence, found before LSH so that a group is
//! one document there.

use ahash::AHashMap;

use super::evidence::evidence_key;
use super::exact::FeatureSets;
use super::judge::{judge, judge_all};
use super::sketches::{Sketches, Store, with_featureless_pairs};
use super::{Dedup, Summary};
use crate::error::Result;
use crate::features::Slot;
use crate::keep::{Adjacency, Link, Removal, greedy, keep_order, most_similar_kept, ranks};
use crate::lsh::is_live;
use crate::signature::Signature;
use crate::similarity::estimating;

/// Groups of documents with identical signatures and fact slots (copies of one text, as a
/// rule), found before LSH so that a group is one document there. Each group's *leader* is
/// its first member in keep order; every other member, a *twin*, verifies as a duplicate of
/// it (estimated similarity, which identical evidence makes the same for every pair of the
/// group).
///
/// Without the groups, a bucket of `c` identical documents paired all its members in every
/// band: `c²/2` pairs, counted band by band (a million one-word documents, twenty copies of
/// each word, made dedup quadratic). With them, LSH, verification and the keep pass see the
/// leaders only, and each twin's removal follows from its leader's, exactly as the greedy
/// pass over every document decides it: a twin is never kept (its leader, or the kept
/// document its leader duplicates, comes first in keep order), and the kept documents it
/// pairs with are its leader and its leader's kept neighbours, at the same similarities.
pub(super) struct Twins {
    /// Each document's leader (a leader, or a document in no group, is its own).
    leader: Vec<u32>,
    /// Each twin with its similarity to its leader, in keep order.
    pub(super) twins: Vec<(u32, f64)>,
    /// The keep order.
    pub(super) order: Vec<u32>,
}

impl Twins {
    /// The verified pairs among the leaders and the removals of every document, the summary's
    /// counts set as if every document had taken part; `None` when there is no group (the
    /// usual case) or the signatures are on disk.
    pub(super) fn select(
        dedup: &Dedup,
        sketches: &Sketches,
        summary: &mut Summary,
    ) -> Result<Option<(Vec<Link>, Vec<Removal>)>> {
        let Store::Memory { signatures, slots } = &sketches.store else {
            return Ok(None);
        };
        match Twins::find(dedup, sketches, signatures, slots)? {
            Some(twins) => twins.removals(dedup, sketches, signatures, summary),
            None => Ok(None),
        }
    }

    /// The groups; `None` when there is none.
    fn find(
        dedup: &Dedup,
        sketches: &Sketches,
        signatures: &[Signature],
        slots: &[Vec<Slot>],
    ) -> Result<Option<Twins>> {
        let n = sketches.n;
        let config = estimating(&dedup.config);
        let no_slots: &[Slot] = &[];
        let slots_of = |doc: u32| slots.get(doc as usize).map_or(no_slots, Vec::as_slice);
        let evidence_key = |doc: u32| evidence_key(&signatures[doc as usize], slots_of(doc));
        let order = keep_order(n, dedup.keep, &sketches.lengths);
        let mut leader: Vec<u32> = (0..n as u32).collect();
        let mut leaders: AHashMap<u128, u32> = AHashMap::new();
        let mut twins = Vec::new();
        for &doc in &order {
            if !is_live(&signatures[doc as usize]) {
                continue;
            }
            let first = *leaders.entry(evidence_key(doc)).or_insert(doc);
            let same = first != doc
                && signatures[first as usize] == signatures[doc as usize]
                && slots_of(first) == slots_of(doc);
            if !same {
                continue;
            }
            let pair = (first.min(doc), first.max(doc));
            if let Some((_, _, similarity)) =
                judge(&config, sketches, &FeatureSets::Estimated, pair)?
            {
                leader[doc as usize] = first;
                twins.push((doc, similarity));
            }
        }
        Ok((!twins.is_empty()).then_some(Twins {
            leader,
            twins,
            order,
        }))
    }

    /// LSH and verification among the leaders, then the removals of every document; `None`
    /// when a bucket would be larger than [`crate::lsh::MAX_BUCKET`] with every document in
    /// it, so that LSH pairs the group's members through its first member only (a star), not
    /// with each other.
    pub(super) fn removals(
        &self,
        dedup: &Dedup,
        sketches: &Sketches,
        signatures: &[Signature],
        summary: &mut Summary,
    ) -> Result<Option<(Vec<Link>, Vec<Removal>)>> {
        let n = sketches.n;
        let is_leader = |doc: u32| self.leader[doc as usize] == doc;
        let mut size = vec![0u32; n];
        for &leader in &self.leader {
            size[leader as usize] += 1;
        }
        let Some(pairs) = dedup.banding().candidates_among(signatures, &size) else {
            return Ok(None);
        };
        let config = estimating(&dedup.config);
        let edges = judge_all(&config, sketches, &FeatureSets::Estimated, &pairs)?;
        let edges = with_featureless_pairs(edges, sketches, dedup.keep);
        // The counts of the pairs every document would have given: each pair of leaders
        // stands for the pairs of their groups, and the members of a group pair with each
        // other (in every band, and verified).
        let within: u64 = size
            .iter()
            .map(|&g| u64::from(g) * u64::from(g.saturating_sub(1)) / 2)
            .sum();
        let across = |pairs: &mut dyn Iterator<Item = (u32, u32)>| -> u64 {
            pairs
                .map(|(a, b)| u64::from(size[a as usize]) * u64::from(size[b as usize]))
                .sum()
        };
        summary.candidates = across(&mut pairs.iter().copied()) + within;
        summary.verified = across(&mut edges.iter().map(|&(a, b, _)| (a, b))) + within;
        let leader_order: Vec<u32> = self
            .order
            .iter()
            .copied()
            .filter(|&d| is_leader(d))
            .collect();
        let mut removals = greedy(n, &edges, &leader_order);
        let mut kept = vec![false; n];
        for &doc in &leader_order {
            kept[doc as usize] = true;
        }
        for r in &removals {
            kept[r.removed as usize] = false;
        }
        let rank = ranks(n, &self.order);
        let neighbours = Adjacency::new(n, &edges);
        for &(twin, to_leader) in &self.twins {
            let leader = self.leader[twin as usize];
            let options = neighbours
                .of(leader)
                .iter()
                .copied()
                .chain(std::iter::once((leader, to_leader)));
            if let Some((other, similarity)) =
                most_similar_kept(options, &kept, |other| rank[other as usize])
            {
                removals.push(Removal {
                    removed: twin,
                    kept: other,
                    similarity,
                });
            }
        }
        removals.sort_by_key(|r| r.removed);
        summary.removed = removals.len() as u64;
        summary.kept = n as u64 - summary.removed;
        Ok(Some((edges, removals)))
    }
}
