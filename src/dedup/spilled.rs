//! The spill path's state and its LSH: signatures on disk, and the candidate pairs merged from
//! sorted runs, with the documents that share a signature banded as one.
//!
//! Documents with the same evidence, signature and fact slots (copies of one text, as a rule:
//! the groups [`super::twins::Twins`] makes in memory), fall in the same bucket of every band. Banding each of them would pair a crowd of `c` copies `c²/2` times in
//! every band, a pair key each on disk (a million one-word documents, about twenty copies of
//! each word, wrote 25 GB of them). So the documents are first grouped by an external sort of
//! their evidence keys ([`Crowds`]); only each group's first document, which stands for the
//! group, is banded, and the pairs of the others follow from its buckets exactly as the
//! banding of every document gives them: the candidate pairs are the same, in the same order.
//!
//! Every buffer is sized from the run's [`Budget`]: those alive at once take shares of what the
//! state held per document leaves, so that together they stay within it.

use std::ops::Range;

use rayon::prelude::*;

use super::budget::Budget;
use super::evidence::evidence_key;
use crate::error::Result;
use crate::features::Slot;
use crate::lsh::{
    Banding, MAX_BUCKET, PairCounter, is_live, pair_key, split_band_entry, split_pair_key,
};
use crate::signature::Signature;
use crate::spill::{Merge, Run, RunWriter, SignatureTable, SortedRuns, SpillDir};

/// The state of a run that outgrew its memory budget.
pub(super) struct Spilled {
    /// Removed with its files when the run ends.
    pub(super) dir: SpillDir,
    pub(super) table: SignatureTable,
    /// Each live document's [`evidence_key`] with the document.
    keys: SortedRuns<(u128, u32)>,
    /// The memory budget, which the buffers of the sorts and merges share with the state
    /// held per document.
    pub(super) budget: Budget,
}

/// Bytes of memory a key record takes in the buffer of [`Spilled::keys`].
const KEY_BYTES: usize = std::mem::size_of::<(u128, u32)>();

/// Documents whose signatures are read and banded at once, at most.
const BAND_CHUNK: usize = 4096;

/// Documents banded at once, at least, however small the budget.
const MIN_BAND_CHUNK: usize = 64;

impl Spilled {
    /// Starts spilling into a new directory inside `temp_dir`.
    pub(super) fn new(temp_dir: &std::path::Path, k: usize, budget: u64) -> Result<Spilled> {
        let mut dir = SpillDir::new(temp_dir)?;
        let table = SignatureTable::new(&mut dir, k)?;
        let budget = Budget::new(budget);
        Ok(Spilled {
            dir,
            table,
            keys: SortedRuns::new("keys", budget.growing_records(KEY_BYTES)),
            budget,
        })
    }

    /// Writes documents `first..` (signatures, their keys, and slots when `slots` has them: it
    /// is empty without the fact check).
    pub(super) fn add(
        &mut self,
        first: usize,
        signatures: &[Signature],
        slots: &[Vec<Slot>],
    ) -> Result<()> {
        // The keys' buffer shrinks as the documents read hold more.
        self.budget.hold(first as u64, 0);
        let capacity = self.budget.growing_records(KEY_BYTES);
        self.keys.set_capacity(capacity, &mut self.dir)?;
        let keys: Vec<Option<u128>> = signatures
            .par_iter()
            .enumerate()
            .map(|(i, signature)| {
                let doc_slots = slots.get(i).map_or(&[][..], Vec::as_slice);
                is_live(signature).then(|| evidence_key(signature, doc_slots))
            })
            .collect();
        for (i, (signature, key)) in signatures.iter().zip(keys).enumerate() {
            let doc_slots = slots.get(i).map_or(&[][..], Vec::as_slice);
            self.table.push(signature, doc_slots)?;
            if let Some(key) = key {
                self.keys.push((key, (first + i) as u32), &mut self.dir)?;
            }
        }
        Ok(())
    }

    /// The candidate pairs, as [`Banding::candidates`] gives them: the documents grouped
    /// ([`Crowds`]), the groups' first documents banded into runs, whose merge visits each
    /// band's buckets in order; each bucket's pairs go to runs, whose merge counts the bands
    /// each pair collides in; the pairs of the groups' other members are derived from them.
    ///
    /// The buffers alive at once share the budget: the band entries' merge reads with a
    /// quarter of it while the bucket pairs take five eighths and the stars one.
    pub(super) fn candidates(&mut self, banding: &Banding) -> Result<Run<u64>> {
        self.budget.hold(self.table.len(), 0);
        let crowds = self.crowds()?;
        let entries = self.band_entries(banding, &crowds)?;
        let mut hits = BucketHits::new(&self.budget, crowds.groups.len());
        let mut bucket: Vec<u32> = Vec::new();
        let mut bucket_key = (0usize, 0u64);
        let read_bytes = self.budget.eighths(2);
        for entry in entries.finish(&mut self.dir, read_bytes)? {
            let (band, key, doc) = split_band_entry(entry?);
            if !bucket.is_empty() && bucket_key != (band, key) {
                hits.bucket(&bucket, &crowds, &mut self.dir)?;
                bucket.clear();
            }
            bucket_key = (band, key);
            bucket.push(doc);
        }
        hits.bucket(&bucket, &crowds, &mut self.dir)?;
        hits.candidates(&crowds, banding.min_hits, self)
    }

    /// The documents grouped by evidence, from the merge of their keys.
    fn crowds(&mut self) -> Result<Crowds> {
        let keys = std::mem::replace(&mut self.keys, SortedRuns::new("keys", 1));
        let mut crowds = Crowds {
            role: vec![ALONE; self.table.len() as usize],
            groups: Vec::new(),
            members: Vec::new(),
        };
        let mut same: Vec<u32> = Vec::new();
        let mut same_key = 0u128;
        let read_bytes = self.budget.eighths(8);
        for record in keys.finish(&mut self.dir, read_bytes)? {
            let (key, doc) = record?;
            if !same.is_empty() && key != same_key {
                crowds.add(&same, &self.table)?;
                same.clear();
            }
            same_key = key;
            same.push(doc);
        }
        crowds.add(&same, &self.table)?;
        Ok(crowds)
    }

    /// The band entries of the documents that stand for themselves or a group, in runs: the
    /// chunk of documents being banded takes a quarter of the buffers, the runs' buffer the
    /// rest.
    fn band_entries(&mut self, banding: &Banding, crowds: &Crowds) -> Result<SortedRuns<u128>> {
        let mut entries = SortedRuns::in_bytes("bands", self.budget.eighths(6));
        // A document in the chunk: its record, its signature and its band entries.
        let doc_bytes = 2 * self.table.record_size() + 16 * banding.bands + 64;
        let chunk = (self.budget.eighths(2) / doc_bytes).clamp(MIN_BAND_CHUNK, BAND_CHUNK);
        let n = self.table.len() as u32;
        for first in (0..n).step_by(chunk) {
            let docs = first..first.saturating_add(chunk as u32).min(n);
            let signatures = self.table.signatures(docs.clone())?;
            let chunk: Vec<Vec<u128>> = signatures
                .par_iter()
                .zip(docs)
                .map(|(signature, doc)| match crowds.weight(doc) {
                    0 => Vec::new(),
                    _ => banding.band_entries(signature, doc),
                })
                .collect();
            for entry in chunk.into_iter().flatten() {
                entries.push(entry, &mut self.dir)?;
            }
        }
        Ok(entries)
    }
}

/// The spilled documents grouped by evidence (their band keys are the same): each group of two
/// or more is banded as its first document, which stands for all of them.
struct Crowds {
    /// Per document, the index of the group it is first in, or [`ALONE`] or [`MEMBER`].
    role: Vec<u32>,
    /// The groups of two or more: each one's range in `members`.
    groups: Vec<Range<usize>>,
    /// Each group's documents, ascending.
    members: Vec<u32>,
}

/// [`Crowds::role`] of a document in no group.
const ALONE: u32 = u32::MAX;

/// [`Crowds::role`] of a group's member other than its first.
const MEMBER: u32 = u32::MAX - 1;

impl Crowds {
    /// Groups the documents of `same`, ascending, whose keys are equal: those whose evidence
    /// is the first's (all but by a hash collision).
    fn add(&mut self, same: &[u32], table: &SignatureTable) -> Result<()> {
        let [first, others @ ..] = same else {
            return Ok(());
        };
        if others.is_empty() {
            return Ok(());
        }
        let evidence = table.get(*first)?;
        let start = self.members.len();
        self.members.push(*first);
        for &doc in others {
            if table.get(doc)? == evidence {
                self.members.push(doc);
                self.role[doc as usize] = MEMBER;
            }
        }
        let range = start..self.members.len();
        if range.len() > 1 {
            self.role[*first as usize] = self.groups.len() as u32;
            self.groups.push(range);
        } else {
            self.members.truncate(start);
        }
        Ok(())
    }

    /// The index of the group `doc` is first in.
    fn group(&self, doc: u32) -> Option<usize> {
        match self.role[doc as usize] {
            ALONE | MEMBER => None,
            group => Some(group as usize),
        }
    }

    /// How many documents `doc` stands for: 1 alone, its group's size if it is its first, 0
    /// for the group's other members.
    fn weight(&self, doc: u32) -> u64 {
        match self.role[doc as usize] {
            ALONE => 1,
            MEMBER => 0,
            group => self.groups[group as usize].len() as u64,
        }
    }

    /// The documents `doc` stands for: its group's, or itself.
    fn stood_for<'a>(&'a self, doc: &'a u32) -> &'a [u32] {
        match self.group(*doc) {
            Some(g) => &self.members[self.groups[g].clone()],
            None => std::slice::from_ref(doc),
        }
    }
}

/// The collisions the buckets of banded documents yield, as the banding of every document
/// would count them: a bucket that stands for at most [`MAX_BUCKET`] documents pairs them
/// all, a larger one pairs its first document (the first of the bucket's first group) with
/// every other one (a star).
struct BucketHits {
    /// One key per bucket that pairs two banded documents and, through them, every document
    /// of one with every document of the other.
    pairs: SortedRuns<u64>,
    /// One key per star whose first document stands for a group, with another banded
    /// document: the star pairs the group's first document only with those the other stands
    /// for.
    stars: SortedRuns<u64>,
    /// Per group, the bands whose bucket pairs all its members, and those whose bucket pairs
    /// its first document with the others (the former, and the stars it leads).
    within: Vec<(u32, u32)>,
}

impl BucketHits {
    fn new(budget: &Budget, groups: usize) -> BucketHits {
        BucketHits {
            pairs: SortedRuns::in_bytes("pairs", budget.eighths(5)),
            stars: SortedRuns::in_bytes("stars", budget.eighths(1)),
            within: vec![(0, 0); groups],
        }
    }

    /// Counts one bucket's banded documents, ascending.
    fn bucket(&mut self, docs: &[u32], crowds: &Crowds, dir: &mut SpillDir) -> Result<()> {
        let Some(&first) = docs.first() else {
            return Ok(());
        };
        let stands_for: u64 = docs.iter().map(|&doc| crowds.weight(doc)).sum();
        if stands_for <= MAX_BUCKET as u64 {
            for (x, &a) in docs.iter().enumerate() {
                for &b in &docs[x + 1..] {
                    self.pairs.push(pair_key(a, b), dir)?;
                }
                if let Some(g) = crowds.group(a) {
                    self.within[g].0 += 1;
                    self.within[g].1 += 1;
                }
            }
            return Ok(());
        }
        let group = crowds.group(first);
        // A star led by a document in no group pairs it with everything the others stand
        // for, as a bucket of all pairs would.
        let out = if group.is_some() {
            &mut self.stars
        } else {
            &mut self.pairs
        };
        for &b in &docs[1..] {
            out.push(pair_key(first, b), dir)?;
        }
        if let Some(g) = group {
            self.within[g].1 += 1;
        }
        Ok(())
    }

    /// The candidate pairs, sorted, in a run: the pairs of banded documents that collide in at
    /// least `min_hits` bands or, through groups, those of the documents they stand for. The
    /// merges of the pairs and stars read with an eighth of the buffers each, while the
    /// derived pairs take three quarters.
    fn candidates(
        self,
        crowds: &Crowds,
        min_hits: usize,
        spilled: &mut Spilled,
    ) -> Result<crate::spill::Run<u64>> {
        let read_bytes = spilled.budget.eighths(1);
        let dir = &mut spilled.dir;
        let pairs = self.pairs.finish(dir, read_bytes)?;
        let mut out = RunWriter::<u64>::new(dir, "candidates")?;
        if crowds.groups.is_empty() {
            // Every document is banded: the counted pairs are the candidates, in order.
            let mut counter = PairCounter::new(min_hits);
            for key in pairs {
                if let Some((a, b)) = counter.push(key?) {
                    out.push(pair_key(a, b))?;
                }
            }
            if let Some((a, b)) = counter.finish() {
                out.push(pair_key(a, b))?;
            }
            return out.finish(dir);
        }
        let stars = self.stars.finish(dir, read_bytes)?;
        let min_hits = u32::try_from(min_hits).unwrap_or(u32::MAX);
        let mut derived = SortedRuns::<u64>::in_bytes("derived", spilled.budget.eighths(6));
        for_each_count(pairs, stars, |key, paired, starred| {
            let (a, b) = split_pair_key(key);
            if paired >= min_hits {
                for &x in crowds.stood_for(&a) {
                    for &y in crowds.stood_for(&b) {
                        derived.push(pair_key(x, y), dir)?;
                    }
                }
            } else if paired + starred >= min_hits {
                for &y in crowds.stood_for(&b) {
                    derived.push(pair_key(a, y), dir)?;
                }
            }
            Ok(())
        })?;
        for (range, &(paired, led)) in crowds.groups.iter().zip(&self.within) {
            let members = &crowds.members[range.clone()];
            let pairing = if paired >= min_hits {
                members.len()
            } else if led >= min_hits {
                1
            } else {
                0
            };
            for (x, &a) in members.iter().enumerate().take(pairing) {
                for &b in &members[x + 1..] {
                    derived.push(pair_key(a, b), dir)?;
                }
            }
        }
        for key in derived.finish(dir, spilled.budget.eighths(2))? {
            out.push(key?)?;
        }
        out.finish(dir)
    }
}

/// Calls `f` on each key of the sorted merges `pairs` and `stars`, in order, with the times
/// it occurs in each.
fn for_each_count(
    pairs: Merge<u64>,
    stars: Merge<u64>,
    mut f: impl FnMut(u64, u32, u32) -> Result<()>,
) -> Result<()> {
    let mut pairs = pairs.peekable();
    let mut stars = stars.peekable();
    // Takes the occurrences of `key` at the head of a merge.
    fn take(merge: &mut std::iter::Peekable<Merge<u64>>, key: u64) -> Result<u32> {
        let mut count = 0;
        while let Some(next) = merge.next_if(|next| !matches!(next, Ok(k) if *k != key)) {
            next?;
            count += 1;
        }
        Ok(count)
    }
    loop {
        let head = |merge: &mut std::iter::Peekable<Merge<u64>>| match merge.peek() {
            Some(Ok(key)) => Ok(Some(*key)),
            Some(Err(_)) => merge.next().transpose().map(|_| None),
            None => Ok(None),
        };
        let key = match (head(&mut pairs)?, head(&mut stars)?) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return Ok(()),
        };
        let paired = take(&mut pairs, key)?;
        let starred = take(&mut stars, key)?;
        f(key, paired, starred)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::EMPTY;
    use proptest::prelude::*;

    /// The candidate pairs of the spill path for `signatures` under `banding`.
    fn spilled_candidates(signatures: &[Signature], banding: &Banding) -> Vec<(u32, u32)> {
        let parent = tempfile::tempdir().unwrap();
        let k = banding.bands * banding.rows;
        let mut spilled = Spilled::new(parent.path(), k, 1).unwrap();
        spilled.add(0, signatures, &[]).unwrap();
        spilled.table.finish(&mut spilled.dir).unwrap();
        let run = spilled.candidates(banding).unwrap();
        let keys = run.read(1 << 16).unwrap();
        keys.map(|key| crate::lsh::split_pair_key(key.unwrap()))
            .collect()
    }

    /// `docs` signatures of `k` values, each a copy of one of `texts` texts whose values are
    /// drawn from `0..alphabet` (few values: buckets are shared), every tenth text empty.
    fn crowd(seed: u64, docs: usize, texts: usize, k: usize, alphabet: u32) -> Vec<Signature> {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let texts: Vec<Signature> = (0..texts)
            .map(|t| Signature {
                values: (0..k)
                    .map(|_| match t % 10 {
                        9 => EMPTY,
                        _ => (next() % u64::from(alphabet)) as u32,
                    })
                    .collect(),
                weight: 1.0,
            })
            .collect();
        (0..docs)
            .map(|_| texts[next() as usize % texts.len()].clone())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]

        /// Oracle: grouped on disk, the candidates are those of the in-memory banding of
        /// every document, crowds and stars included.
        #[test]
        fn spilled_candidates_equal_the_banding_of_every_document(
            seed in any::<u64>(),
            docs in 2usize..700,
            texts in 1usize..60,
            rows in 1usize..3,
            min_hits in 1usize..4,
            alphabet in 2u32..12,
        ) {
            let banding = Banding { bands: 4, rows, min_hits };
            let signatures = crowd(seed, docs, texts, 4 * rows, alphabet);
            prop_assert_eq!(
                spilled_candidates(&signatures, &banding),
                banding.candidates(&signatures)
            );
        }
    }

    #[test]
    fn a_crowd_past_the_bucket_limit_is_a_star_from_its_first_copy() {
        let banding = Banding {
            bands: 3,
            rows: 1,
            min_hits: 2,
        };
        // 300 copies of one text, 5 of another sharing one band with it, a text of its own.
        let text = |values: [u32; 3]| Signature {
            values: values.to_vec(),
            weight: 1.0,
        };
        let mut signatures = vec![text([9, 9, 9]); 300];
        signatures.splice(2..2, vec![text([9, 9, 4]); 5]);
        signatures.push(text([1, 2, 3]));
        let expected = banding.candidates(&signatures);
        assert!(expected.iter().all(|&(a, _)| a == 0));
        assert_eq!(spilled_candidates(&signatures, &banding), expected);
    }
}
