//! The contrast's neighbour lists ([`super::levels`]): for each document of a verified pair,
//! the classes of the documents LSH proposes with it, sorted, and the classes of documents
//! alike for the contrast that they make (the same class, the same list).
//!
//! In memory the lists are built from one scan of the candidate pairs. On the spill path they
//! would outgrow the budget (a hundred neighbours a document at the defaults, and most
//! documents may be in a verified pair), so the scan writes `(document, neighbour's class)`
//! records to an external sort instead, whose merge gives each document's list in turn,
//! sorted. The documents are classed a chunk at a time as their lists come, and only the list
//! of each class's first document is kept, in a file: later documents with the same key are
//! compared with it, and the contrast reads it.

use std::borrow::Cow;

use rayon::prelude::*;

use super::budget::Budget;
use super::candidates::Candidates;
use super::classes::{Classes, Classifier, key_chunk, list_key};
use super::sketches::Store;
use crate::error::Result;
use crate::spill::{ListFile, Merge, SortedRuns, SpillDir};

/// Per document numbered for the contrast, its neighbours' classes, sorted.
pub(super) enum Neighbours {
    /// Every numbered document's list.
    Memory(Vec<Vec<u32>>),
    /// The list of each contrast class's first document: class `c`'s is `list`'s items
    /// `starts[c]..starts[c + 1]`.
    Disk {
        list: ListFile<u32>,
        starts: Vec<u64>,
    },
}

/// The documents numbered for the contrast: `docs[i]` is document number `i`, and `slot[doc]`
/// is the number of `doc`, or `u32::MAX` when it has none.
pub(super) struct Numbered<'a> {
    pub(super) docs: &'a [u32],
    pub(super) slot: &'a [u32],
}

impl Numbered<'_> {
    /// Calls `f` with the number of each numbered document of each candidate pair and the
    /// class of the other one, in the order of the pairs.
    fn for_each_neighbour(
        &self,
        candidates: &Candidates,
        classes: &Classes,
        mut f: impl FnMut(u32, u32) -> Result<()>,
    ) -> Result<()> {
        candidates.for_each_batch(|batch| {
            for &(a, b) in batch {
                for (x, y) in [(a, b), (b, a)] {
                    let i = self.slot[x as usize];
                    if i != u32::MAX {
                        f(i, classes.of(y))?;
                    }
                }
            }
            Ok(())
        })
    }
}

impl Neighbours {
    /// The numbered documents in classes alike for the contrast (the same class of `classes`,
    /// the same list of neighbours' classes in the candidate pairs), and their lists: in
    /// memory, or on disk when the run has spilled.
    pub(super) fn alike(
        store: &mut Store,
        numbered: &Numbered<'_>,
        candidates: &Candidates,
        classes: &Classes,
    ) -> Result<(Classes, Neighbours)> {
        match store {
            Store::Memory { .. } => Ok(in_memory(numbered, candidates, classes)?),
            Store::Disk(spilled) => {
                let spilled = &mut **spilled;
                let shares = Shares::of(&spilled.budget);
                on_disk(&mut spilled.dir, shares, numbered, candidates, classes)
            }
        }
    }

    /// The list of the first document of class `class` of `alike`.
    pub(super) fn of(&self, alike: &Classes, class: u32) -> Result<Cow<'_, [u32]>> {
        match self {
            Neighbours::Memory(near) => Ok(Cow::Borrowed(&near[alike.first(class) as usize])),
            Neighbours::Disk { list, starts } => {
                let class = class as usize;
                let (start, end) = (starts[class], starts[class + 1]);
                let len = u32::try_from(end - start).unwrap_or(u32::MAX);
                Ok(Cow::Owned(list.get(start, len)?))
            }
        }
    }
}

/// The key of a document's contrast class: its class and its list.
fn alike_key(own: u32, list: &[u32]) -> u128 {
    list_key(std::iter::once(own).chain(list.iter().copied()))
}

/// [`Neighbours::alike`] in memory: every list at once.
fn in_memory(
    numbered: &Numbered<'_>,
    candidates: &Candidates,
    classes: &Classes,
) -> Result<(Classes, Neighbours)> {
    let docs = numbered.docs;
    let mut near: Vec<Vec<u32>> = vec![Vec::new(); docs.len()];
    numbered.for_each_neighbour(candidates, classes, |i, class| {
        near[i as usize].push(class);
        Ok(())
    })?;
    near.par_iter_mut().for_each(|list| list.sort_unstable());
    let numbers: Vec<u32> = (0..docs.len() as u32).collect();
    let own = |i: u32| classes.of(docs[i as usize]);
    let alike = Classes::by_key(
        docs.len(),
        &numbers,
        |i| Ok(alike_key(own(i), &near[i as usize])),
        |i, j| Ok(own(i) == own(j) && near[i as usize] == near[j as usize]),
    )?;
    Ok((alike, Neighbours::Memory(near)))
}

/// Bytes of the buffers of [`on_disk`].
struct Shares {
    /// The external sort's buffer, while the candidate pairs are scanned.
    sort: usize,
    /// The merge's read buffers, while the lists are merged.
    read: usize,
    /// The chunk of lists in hand, meanwhile.
    chunk: usize,
}

impl Shares {
    /// The sort takes the budget's buffers; then the merge reads with a quarter of them and
    /// the chunk of lists takes half.
    fn of(budget: &Budget) -> Shares {
        Shares {
            sort: budget.eighths(8),
            read: budget.eighths(2),
            chunk: budget.eighths(4),
        }
    }
}

/// [`Neighbours::alike`] on disk: the lists sorted externally and classed a chunk at a time,
/// only each class's first list kept.
fn on_disk(
    dir: &mut SpillDir,
    shares: Shares,
    numbered: &Numbered<'_>,
    candidates: &Candidates,
    classes: &Classes,
) -> Result<(Classes, Neighbours)> {
    let docs = numbered.docs;
    let mut records = SortedRuns::<u64>::in_bytes("near", shares.sort);
    numbered.for_each_neighbour(candidates, classes, |i, class| {
        records.push((u64::from(i) << 32) | u64::from(class), dir)
    })?;
    let mut merged = Lists {
        merge: records.finish(dir, shares.read)?.peekable(),
        next: 0,
    };
    let mut classifier = Classifier::new(docs.len());
    let mut list = ListFile::<u32>::new(dir, "near")?;
    let mut starts = vec![0u64];
    let own = |i: u32| classes.of(docs[i as usize]);
    while (merged.next as usize) < docs.len() {
        let start = merged.next;
        let mut lists: Vec<Vec<u32>> = Vec::new();
        let mut bytes = 0;
        while (merged.next as usize) < docs.len()
            && lists.len() < key_chunk()
            && bytes < shares.chunk
        {
            let next = merged.next_list()?;
            bytes += std::mem::size_of_val(next.as_slice()) + std::mem::size_of::<Vec<u32>>();
            lists.push(next);
        }
        let chunk: Vec<u32> = (start..merged.next).collect();
        let keys: Vec<u128> = (chunk.par_iter())
            .map(|&i| alike_key(own(i), &lists[(i - start) as usize]))
            .collect();
        // A class's first list: in the chunk, or kept in the file.
        let first_list = |class: u32, first: u32| -> Result<Cow<'_, [u32]>> {
            match first.checked_sub(start) {
                Some(at) => Ok(Cow::Borrowed(&lists[at as usize])),
                None => {
                    let (from, to) = (starts[class as usize], starts[class as usize + 1]);
                    let len = u32::try_from(to - from).unwrap_or(u32::MAX);
                    Ok(Cow::Owned(list.get(from, len)?))
                }
            }
        };
        classifier.add(&chunk, keys, |class, first, i| {
            Ok(own(first) == own(i) && *first_list(class, first)? == lists[(i - start) as usize])
        })?;
        for (&i, doc_list) in chunk.iter().zip(&lists) {
            if classifier.classes.first(classifier.classes.of(i)) == i {
                let (offset, len) = list.push(doc_list)?;
                starts.push(offset + u64::from(len));
            }
        }
        list.flush()?;
    }
    list.finish(dir)?;
    Ok((classifier.classes, Neighbours::Disk { list, starts }))
}

/// The merge of the `(document, class)` records, a document's list at a time.
struct Lists {
    merge: std::iter::Peekable<Merge<u64>>,
    /// The document whose list comes next.
    next: u32,
}

impl Lists {
    /// The next document's list (empty when it has no record), sorted.
    fn next_list(&mut self) -> Result<Vec<u32>> {
        let doc = self.next;
        self.next += 1;
        let mut list = Vec::new();
        let of_doc = |record: &Result<u64>| match record {
            Ok(record) => (record >> 32) as u32 == doc,
            Err(_) => true,
        };
        while let Some(record) = self.merge.next_if(of_doc) {
            list.push(record? as u32);
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spill::SpillDir;
    use proptest::prelude::*;

    /// Candidate pairs among `n` documents, each `(a, b)` with `a < b`, sorted and distinct.
    fn pairs(n: u32, picks: &[(u32, u32)]) -> Vec<(u32, u32)> {
        let mut pairs: Vec<(u32, u32)> = (picks.iter())
            .map(|&(a, b)| (a % n, b % n))
            .filter(|&(a, b)| a != b)
            .map(|(a, b)| (a.min(b), a.max(b)))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(60))]

        /// Oracle: sorted on disk and classed a chunk at a time (down to one document a chunk,
        /// so that later documents are compared with lists read back from the file), the
        /// contrast classes and their lists are those built in memory.
        #[test]
        fn lists_on_disk_equal_the_lists_in_memory(
            n in 2u32..60,
            picks in proptest::collection::vec((0u32..60, 0u32..60), 1..200),
            values in proptest::collection::vec(0u32..4, 60),
            every in 1usize..4,
            sort in 1usize..64,
            chunk in 1usize..64,
        ) {
            let candidates = Candidates::Memory(pairs(n, &picks));
            let docs: Vec<u32> = (0..n).collect();
            let classes = Classes::by_key(
                n as usize,
                &docs,
                |doc| Ok(u128::from(values[doc as usize])),
                |a, b| Ok(values[a as usize] == values[b as usize]),
            ).unwrap();
            // Every `every`th document numbered, in an order of their own.
            let numbered_docs: Vec<u32> = docs.iter().rev().copied().step_by(every).collect();
            let mut slot = vec![u32::MAX; n as usize];
            for (i, &doc) in numbered_docs.iter().enumerate() {
                slot[doc as usize] = i as u32;
            }
            let numbered = Numbered { docs: &numbered_docs, slot: &slot };
            let (alike, near) = in_memory(&numbered, &candidates, &classes).unwrap();
            let parent = tempfile::tempdir().unwrap();
            let mut dir = SpillDir::new(parent.path()).unwrap();
            let shares = Shares { sort: 8 * sort, read: 1 << 12, chunk };
            let (alike_disk, near_disk) =
                on_disk(&mut dir, shares, &numbered, &candidates, &classes).unwrap();
            prop_assert_eq!(&alike, &alike_disk);
            for class in 0..alike.len() as u32 {
                prop_assert_eq!(
                    near.of(&alike, class).unwrap(),
                    near_disk.of(&alike_disk, class).unwrap()
                );
            }
        }
    }
}
