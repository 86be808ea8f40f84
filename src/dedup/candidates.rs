//! LSH candidate pairs over the signatures, from the dedup's two candidate sources
//! ([`crate::candidates`]): sorted in memory, or merged from band runs on disk.

use ahash::AHashMap;
use rayon::prelude::*;

use super::evidence::evidence_key;
use super::sketches::{Sketches, Store};
use super::spilled::Spilled;
use super::{Dedup, Summary};
use crate::candidates::{CandidateSource, Memory};
use crate::error::Result;
use crate::features::Slot;
use crate::lsh::{Banding, is_live, pair_key, split_pair_key};
use crate::signature::Signature;
use crate::sort::radix_sort_by_key;
use crate::spill::Run;

/// Candidate pairs verified per batch.
const VERIFY_BATCH: usize = 1 << 16;

/// The LSH candidate pairs `(a, b)`, `a < b`, sorted: in memory, or in a file on the spill
/// path.
pub(super) enum Candidates {
    Memory(Vec<(u32, u32)>),
    Disk(Run<u64>),
}

impl Candidates {
    pub(super) fn len(&self) -> u64 {
        match self {
            Candidates::Memory(pairs) => pairs.len() as u64,
            Candidates::Disk(run) => run.len(),
        }
    }

    /// Calls `f` on the pairs in order, in batches of [`VERIFY_BATCH`] (so that what is
    /// made per pair of a batch is held for a batch at a time).
    pub(super) fn for_each_batch(
        &self,
        mut f: impl FnMut(&[(u32, u32)]) -> Result<()>,
    ) -> Result<()> {
        match self {
            Candidates::Memory(pairs) => pairs.chunks(VERIFY_BATCH).try_for_each(f),
            Candidates::Disk(run) => {
                let mut batch = Vec::with_capacity(VERIFY_BATCH);
                for key in run.read(1 << 16)? {
                    let key = key?;
                    batch.push(split_pair_key(key));
                    if batch.len() == VERIFY_BATCH {
                        f(&batch)?;
                        batch.clear();
                    }
                }
                if batch.is_empty() { Ok(()) } else { f(&batch) }
            }
        }
    }
}

/// The spill path as a candidate source: its pairs in a run on disk
/// ([`Spilled::candidates`]).
impl CandidateSource<'_> for Spilled {
    type Query = ();
    type Found = Result<Candidates>;

    fn find(&mut self, banding: &Banding, (): ()) -> Result<Candidates> {
        Ok(Candidates::Disk(self.candidates(banding)?))
    }
}

impl Dedup {
    /// LSH candidate pairs over the signatures.
    pub(super) fn candidates(
        &self,
        sketches: &mut Sketches,
        summary: &mut Summary,
    ) -> Result<Candidates> {
        let banding = self.banding();
        let candidates = match &mut sketches.store {
            Store::Memory { signatures, slots } => Candidates::Memory(
                grouped_candidates(&banding, signatures, slots)
                    .unwrap_or_else(|| Memory(signatures).find(&banding, ())),
            ),
            Store::Disk(spilled) => spilled.find(&banding, ())?,
        };
        summary.candidates = candidates.len();
        Ok(candidates)
    }
}

/// [`Banding::candidates`] of every document, found by banding one document per group of
/// documents with the same evidence (signature and slots: copies of one text, as a rule),
/// which fall in the same buckets: the pairs of two groups' documents are those of the
/// groups' first documents, and the documents of a group pair with each other (they collide
/// in every band). `None` when no two documents have the same evidence, or a bucket would
/// hold more than [`crate::lsh::MAX_BUCKET`] documents with the groups' others (a star, which
/// pairs its first document only).
///
/// Banding every document counts, per document, the later documents of its bucket in every
/// band: a crowd of `c` copies cost `c²/2` counts per band, each pair counted again in each
/// of the hundreds of bands (a million one-word documents, twenty copies of each word).
pub(super) fn grouped_candidates(
    banding: &Banding,
    signatures: &[Signature],
    slots: &[Vec<Slot>],
) -> Option<Vec<(u32, u32)>> {
    let n = signatures.len();
    let no_slots: &[Slot] = &[];
    let slots_of = |doc: usize| slots.get(doc).map_or(no_slots, Vec::as_slice);
    let keys: Vec<Option<u128>> = (0..n)
        .into_par_iter()
        .map(|doc| is_live(&signatures[doc]).then(|| evidence_key(&signatures[doc], slots_of(doc))))
        .collect();
    // Each document's group, by its first document, and the documents each first stands for.
    let mut group: Vec<u32> = (0..n as u32).collect();
    let mut size = vec![1u32; n];
    let mut firsts: AHashMap<u128, u32> = AHashMap::new();
    for (doc, key) in keys.into_iter().enumerate() {
        let Some(key) = key else { continue };
        let first = *firsts.entry(key).or_insert(doc as u32) as usize;
        if first != doc && signatures[first] == signatures[doc] && slots_of(first) == slots_of(doc)
        {
            (group[doc], size[doc]) = (first as u32, 0);
            size[first] += 1;
        }
    }
    drop(firsts);
    if !size.contains(&0) {
        return None;
    }
    let pairs = banding.candidates_among(signatures, &size)?;
    // The documents of each group, ascending, at `members[start[first]..start[first + 1]]`.
    let mut start = vec![0usize; n + 1];
    for &first in &group {
        start[first as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut next = start.clone();
    let mut members = vec![0u32; n];
    for (doc, &first) in group.iter().enumerate() {
        members[next[first as usize]] = doc as u32;
        next[first as usize] += 1;
    }
    let of = |first: u32| &members[start[first as usize]..start[first as usize + 1]];
    let mut keys: Vec<u64> = Vec::new();
    for &(a, b) in &pairs {
        for &x in of(a) {
            keys.extend(of(b).iter().map(|&y| pair_key(x, y)));
        }
    }
    if banding.bands >= banding.min_hits {
        for first in (0..n as u32).filter(|&doc| size[doc as usize] > 1) {
            let docs = of(first);
            for (x, &a) in docs.iter().enumerate() {
                keys.extend(docs[x + 1..].iter().map(|&b| pair_key(a, b)));
            }
        }
    }
    radix_sort_by_key(&mut keys, |&key| key);
    Some(keys.into_iter().map(split_pair_key).collect())
}
