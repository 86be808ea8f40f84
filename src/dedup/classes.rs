//! Classes of documents that a judgement cannot tell apart, so that the pairs of a crowd of
//! copies are judged once per pair of classes rather than once per pair of documents.
//!
//! Exact similarity ([`crate::similarity::similarity_of`]) is a function of the two documents'
//! feature sets and fact slots alone (the signature only proposes the pair), and the story
//! score ([`crate::similarity::story_of`]) of their contrasted features and slots, where a
//! document's contrasted features are a function of its own features and of the multiset of
//! its neighbours' ([`crate::contrast::contrasted`]). So the documents are put in classes of
//! equal features and slots ([`Classes::of_features`]), and, for the story, in classes of equal
//! features, slots and multiset of neighbours' classes: two pairs whose documents are in the
//! same classes, in the same order, get the same number, which [`judge_pairs`] computes once.
//! A pair's verdict is still taken pair by pair from those numbers (document times can cap a
//! level), so every verified pair, with its similarity, story score and level, and so every
//! removal, is the one judging each pair gives. A crowd of `c` copies of one text, `c²/2`
//! pairs, is one judgement; a pair of two documents each alone in its class is judged
//! directly and not remembered, so a corpus without copies costs no more than before.
//!
//! Classes are found by a 128-bit key and confirmed by comparing with the class's first
//! document: a key collision only makes a class of its own.

use ahash::AHashMap;
use rayon::prelude::*;

use super::evidence::feature_key;
use super::exact::FeatureSets;
use super::sketches::Sketches;
use crate::error::Result;
use crate::features::{Feature, Slot};

/// Documents in classes: equal within a class for the judgement the classes serve.
#[derive(Debug, PartialEq)]
pub(super) struct Classes {
    /// Each document's class ([`NO_CLASS`] for a document that was not classed).
    class: Vec<u32>,
    /// Each class's first document.
    first: Vec<u32>,
    /// Each class's number of documents.
    size: Vec<u32>,
}

/// [`Classes::class`] of a document that was not classed.
const NO_CLASS: u32 = u32::MAX;

/// Documents keyed per parallel job.
const KEY_CHUNK: usize = 4096;

impl Classes {
    /// The documents `docs` (ascending) in classes by `key`, a document joining the class of
    /// the first document with its key when `same` confirms they are equal.
    pub(super) fn by_key(
        n: usize,
        docs: &[u32],
        key: impl Fn(u32) -> Result<u128> + Sync,
        same: impl Fn(u32, u32) -> Result<bool>,
    ) -> Result<Classes> {
        let mut classifier = Classifier::new(n);
        for chunk in docs.chunks(key_chunk()) {
            let keys = chunk
                .par_iter()
                .map(|&doc| key(doc))
                .collect::<Result<Vec<u128>>>()?;
            classifier.add(chunk, keys, |_, first, doc| same(first, doc))?;
        }
        Ok(classifier.classes)
    }

    /// Every document in classes of equal feature sets and fact slots: what exact
    /// similarity judges by.
    pub(super) fn of_features(sketches: &Sketches, features: &FeatureSets) -> Result<Classes> {
        let evidence = |doc: u32| -> Result<(Vec<Feature>, Vec<Slot>)> {
            let slots = sketches.slots(doc)?;
            Ok((features.get(doc)?.into_owned(), slots.into_owned()))
        };
        let docs: Vec<u32> = (0..sketches.n as u32).collect();
        Classes::by_key(
            sketches.n,
            &docs,
            |doc| {
                let (features, slots) = evidence(doc)?;
                Ok(feature_key(&features, &slots))
            },
            |a, b| Ok(evidence(a)? == evidence(b)?),
        )
    }

    /// Document `doc`'s class.
    pub(super) fn of(&self, doc: u32) -> u32 {
        self.class[doc as usize]
    }

    /// The first document of class `class`.
    pub(super) fn first(&self, class: u32) -> u32 {
        self.first[class as usize]
    }

    /// The number of classes.
    pub(super) fn len(&self) -> usize {
        self.first.len()
    }

    /// The key of a pair's classes under which [`judge_pairs`] remembers its judgement:
    /// `None` when both documents are alone in their classes (no other pair has the same).
    fn memo_key(&self, (a, b): (u32, u32)) -> Option<(u32, u32)> {
        let (ca, cb) = (self.of(a), self.of(b));
        let alone = |class: u32| self.size.get(class as usize).is_none_or(|&s| s < 2);
        (!(alone(ca) && alone(cb))).then_some((ca, cb))
    }
}

/// Documents keyed at once, in parallel, before they join their classes.
pub(super) fn key_chunk() -> usize {
    KEY_CHUNK * rayon::current_num_threads().max(1)
}

/// Classes made a chunk of documents at a time, each chunk keyed beforehand (see
/// [`Classes::by_key`]).
pub(super) struct Classifier {
    pub(super) classes: Classes,
    /// The class of each key met, by the first document with it.
    known: AHashMap<u128, u32>,
}

impl Classifier {
    /// No class yet, among documents `0..n`.
    pub(super) fn new(n: usize) -> Classifier {
        Classifier {
            classes: Classes {
                class: vec![NO_CLASS; n],
                first: Vec::new(),
                size: Vec::new(),
            },
            known: AHashMap::new(),
        }
    }

    /// Puts the documents `docs` (ascending, after those added before) in classes by their
    /// `keys`, a document joining the class of the first document with its key when `same`
    /// confirms they are equal (`same(class, first, doc)`).
    pub(super) fn add(
        &mut self,
        docs: &[u32],
        keys: Vec<u128>,
        same: impl Fn(u32, u32, u32) -> Result<bool>,
    ) -> Result<()> {
        let classes = &mut self.classes;
        for (&doc, key) in docs.iter().zip(keys) {
            let class = match self.known.get(&key) {
                Some(&class) if same(class, classes.first[class as usize], doc)? => class,
                found => {
                    let class = classes.first.len() as u32;
                    if found.is_none() {
                        self.known.insert(key, class);
                    }
                    classes.first.push(doc);
                    classes.size.push(0);
                    class
                }
            };
            classes.class[doc as usize] = class;
            classes.size[class as usize] += 1;
        }
        Ok(())
    }
}

/// The key of a list of `u32`s (a class and the sorted classes of its neighbours).
pub(super) fn list_key(values: impl Iterator<Item = u32>) -> u128 {
    let bytes: Vec<u8> = values.flat_map(u32::to_le_bytes).collect();
    xxhash_rust::xxh3::xxh3_128(&bytes)
}

/// The judgements [`judge_pairs`] remembers by pair of classes, across calls.
pub(super) struct Memo<T> {
    judged: AHashMap<(u32, u32), T>,
}

impl<T> Memo<T> {
    /// Nothing remembered.
    pub(super) fn new() -> Memo<T> {
        Memo {
            judged: AHashMap::new(),
        }
    }

    /// Forgets everything when more than `most` judgements are remembered (on the spill
    /// path, where the budget bounds them): that only judges some pairs of classes again, to
    /// the same numbers.
    pub(super) fn bound(&mut self, most: usize) {
        if self.judged.len() > most {
            self.judged = AHashMap::new();
        }
    }
}

/// The judgement of each of `pairs`, in order, computed once per ordered pair of `classes`
/// and remembered in `memo` across calls (a pair of two documents alone in their classes is
/// judged directly). `judge` is given the pairs to judge, in the order of `pairs` (so that
/// pairs with a document in common stay together), and returns the judgement of each.
pub(super) fn judge_pairs<T: Copy>(
    classes: &Classes,
    pairs: &[(u32, u32)],
    memo: &mut Memo<T>,
    judge: impl FnOnce(&[(u32, u32)]) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let memo = &mut memo.judged;
    // The pairs whose judgement is not remembered when their turn comes, in order.
    let mut asked: ahash::AHashSet<(u32, u32)> = ahash::AHashSet::new();
    let to_judge: Vec<(u32, u32)> = (pairs.iter().copied())
        .filter(|&pair| {
            classes
                .memo_key(pair)
                .is_none_or(|key| !memo.contains_key(&key) && asked.insert(key))
        })
        .collect();
    drop(asked);
    let judged = judge(&to_judge)?;
    // The same walk again, taking each of those pairs' judgement from the answers in turn.
    let mut answers = to_judge.iter().zip(judged);
    let mut out = Vec::with_capacity(pairs.len());
    for &pair in pairs {
        let key = classes.memo_key(pair);
        if let Some(&judgement) = key.and_then(|key| memo.get(&key)) {
            out.push(judgement);
            continue;
        }
        let Some((&asked_pair, judgement)) = answers.next() else {
            unreachable!("every pair not remembered is asked for");
        };
        debug_assert_eq!(asked_pair, pair);
        if let Some(key) = key {
            memo.insert(key, judgement);
        }
        out.push(judgement);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_join_the_class_of_their_first_equal_document() {
        let values = [5u32, 7, 5, 5, 9, 7];
        let docs: Vec<u32> = (0..6).collect();
        // Every key collides: equality decides, and a collision makes a class of its own.
        let classes = Classes::by_key(
            6,
            &docs,
            |doc| Ok(u128::from(values[doc as usize] % 2)),
            |a, b| Ok(values[a as usize] == values[b as usize]),
        )
        .unwrap();
        let of: Vec<u32> = docs.iter().map(|&d| classes.of(d)).collect();
        assert_eq!(of, [0, 1, 0, 0, 2, 3]);
        assert_eq!((classes.first(1), classes.len()), (1, 4));
        assert_eq!(classes.memo_key((0, 2)), Some((0, 0)));
        assert_eq!(classes.memo_key((1, 4)), None);
    }

    #[test]
    fn each_pair_of_classes_is_judged_once() {
        let values = [1u32, 1, 1, 2, 3];
        let docs: Vec<u32> = (0..5).collect();
        let classes = Classes::by_key(
            5,
            &docs,
            |doc| Ok(u128::from(values[doc as usize])),
            |a, b| Ok(values[a as usize] == values[b as usize]),
        )
        .unwrap();
        let pairs = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (3, 4)];
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let judge = |asked: &[(u32, u32)]| {
            calls.fetch_add(asked.len(), std::sync::atomic::Ordering::Relaxed);
            Ok(asked
                .iter()
                .map(|&(a, b)| values[a as usize] * 10 + values[b as usize])
                .collect())
        };
        let mut memo = Memo::new();
        let judged = judge_pairs(&classes, &pairs, &mut memo, judge).unwrap();
        assert_eq!(judged, [11, 11, 11, 12, 12, 23]);
        // (1, 1), (1, 2) remembered; (3, 4) judged directly.
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 3);
        // A later batch asks again for the lone pair only.
        let again = judge_pairs(&classes, &[(1, 2), (3, 4), (0, 3)], &mut memo, judge).unwrap();
        assert_eq!(again, [11, 23, 12]);
        assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 4);
        assert_eq!(memo.judged.len(), 2);
        // Bounded below what it holds, it forgets, and judges those pairs again alike.
        memo.bound(1);
        let again = judge_pairs(&classes, &[(0, 1), (1, 2)], &mut memo, judge).unwrap();
        assert_eq!(again, [11, 11]);
        assert_eq!(calls.into_inner(), 5);
    }
}
