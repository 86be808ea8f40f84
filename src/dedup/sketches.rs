//! The per-document state kept between the passes: signatures and fact slots in memory, or
//! on disk once they outgrow the budget, and the documents without features.

use std::borrow::Cow;
use std::path::PathBuf;

use super::spilled::Spilled;
use super::{Dedup, Observer, Pass, Summary};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::features::{DocFreq, Slot};
use crate::keep::{Keep, Link, keep_order, ranks};
use crate::lsh::Banding;
use crate::normalize::normalize;
use crate::pool::Pool;
use crate::runner::read::{Layout, Reading};
use crate::sign::{Featureless, Signing, Sketching};
use crate::signature::Signature;

/// Per-document state kept between the passes.
pub(super) struct Sketches {
    /// Documents sketched.
    pub(super) n: usize,
    /// The signature pass's [`Layout`].
    pub(super) layout: Layout,
    pub(super) lengths: Vec<u32>,
    /// Each document's time, when the run reads a time field (empty otherwise).
    pub(super) times: Vec<Option<i64>>,
    pub(super) store: Store,
    /// Estimated bytes the in-memory store holds.
    pub(super) held: u64,
    /// The documents without features, each with the key of its normalized text
    /// ([`featureless_pairs`]).
    featureless: Vec<(u128, u32)>,
}

/// Where the signatures (and fact slots) are.
pub(super) enum Store {
    Memory {
        signatures: Vec<Signature>,
        /// Fact slots per document, only with `config.fact_check`.
        slots: Vec<Vec<Slot>>,
    },
    Disk(Box<Spilled>),
}

impl Sketches {
    /// Document `i`'s fact slots (none without the fact check): borrowed from memory, or read
    /// from the spill file. Exact verification needs only these of the sketches.
    pub(super) fn slots(&self, i: u32) -> Result<Cow<'_, [Slot]>> {
        match &self.store {
            Store::Memory { slots, .. } => Ok(Cow::Borrowed(
                slots.get(i as usize).map_or(&[][..], Vec::as_slice),
            )),
            Store::Disk(spilled) => Ok(Cow::Owned(spilled.table.get(i)?.1)),
        }
    }

    /// Frees the in-memory signatures once the candidates are found, when the pairs are
    /// verified exactly: that judgement reads features and slots only, and the signatures
    /// (`4 K` bytes a document) are most of what the sketches hold. [`Sketches::evidence`]
    /// must not be called afterwards.
    pub(super) fn release_signatures(&mut self) {
        if let Store::Memory { signatures, .. } = &mut self.store {
            *signatures = Vec::new();
        }
    }

    /// Document `i`'s signature and fact slots (none without the fact check): borrowed from
    /// memory, or read from the spill file. For estimated verification, before
    /// [`Sketches::release_signatures`].
    pub(super) fn evidence(&self, i: u32) -> Result<(Cow<'_, Signature>, Cow<'_, [Slot]>)> {
        match &self.store {
            Store::Memory { signatures, slots } => Ok((
                Cow::Borrowed(&signatures[i as usize]),
                Cow::Borrowed(slots.get(i as usize).map_or(&[][..], Vec::as_slice)),
            )),
            Store::Disk(spilled) => {
                let (signature, slots) = spilled.table.get(i)?;
                Ok((Cow::Owned(signature), Cow::Owned(slots)))
            }
        }
    }

    /// Counts the state of every document and of `pairs` verified pairs in a spilled run's
    /// budget ([`super::budget`]): a warning the first time it does not fit.
    pub(super) fn hold(&mut self, pairs: usize) -> Option<String> {
        let Store::Disk(spilled) = &mut self.store else {
            return None;
        };
        spilled.budget.hold(self.n as u64, pairs as u64);
        spilled.budget.warning()
    }

    /// Judgements a [`super::classes::Memo`] may remember beside `pairs` verified pairs not
    /// yet counted in the budget: no limit in memory; on the spill path, half the budget's
    /// buffers.
    pub(super) fn memo_room(&self, pairs: usize) -> usize {
        match &self.store {
            Store::Memory { .. } => usize::MAX,
            Store::Disk(spilled) => spilled.budget.eighths_beside(4, pairs) / MEMO_ENTRY_BYTES,
        }
    }

    /// Bytes written to disk so far.
    pub(super) fn spilled(&self) -> u64 {
        match &self.store {
            Store::Memory { .. } => 0,
            Store::Disk(spilled) => spilled.dir.written(),
        }
    }
}

/// Bytes a judgement remembered in a [`super::classes::Memo`] takes, at most: the key and the
/// judgement (24 bytes), with the hash table's control byte, spare room and growth.
const MEMO_ENTRY_BYTES: usize = 64;

/// What the in-memory path holds for one document: its signature (header, values and the
/// allocator's share), its slots, and its band keys while LSH sorts them.
fn held_bytes(k: usize, bands: usize, slots: &[Slot]) -> u64 {
    let signature = std::mem::size_of::<Signature>() + 4 * k + 16;
    let slots = std::mem::size_of::<Vec<Slot>>() + std::mem::size_of_val(slots);
    (signature + slots + 16 * bands) as u64
}

impl Dedup {
    pub(super) fn sketch(
        &self,
        paths: &[PathBuf],
        freq: &DocFreq,
        signing: &Signing,
        report: bool,
        observer: &mut dyn Observer,
        summary: &mut Summary,
    ) -> Result<Sketches> {
        let config = &self.config;
        let banding = self.banding();
        let longest = self.keep == Keep::Longest;
        let timed = self.input.time_field.is_some();
        let mut sketches = Sketches {
            n: 0,
            layout: Layout::default(),
            lengths: Vec::new(),
            times: Vec::new(),
            store: Store::Memory {
                signatures: Vec::new(),
                slots: Vec::new(),
            },
            held: 0,
            featureless: Vec::new(),
        };
        let mut failure: Option<Error> = None;
        let mut featureless = Featureless::default();
        let states: Pool<Sketching<'_>> = Pool::default();
        let read = Reading::new(
            Pass::Signatures,
            (!report).then_some(summary.documents),
            report,
        );
        let found = self.for_each_chunk(
            paths,
            read,
            observer,
            || states.lend(|| signing.state(freq)),
            |state, _, record| {
                let length = u32::try_from(record.doc.text.len()).unwrap_or(u32::MAX);
                let (signature, slots) = signing.sign(state, &record.doc.text);
                let text_key = signature
                    .is_empty()
                    .then(|| normalized_key(&record.doc.text, config));
                (signature, slots, length, text_key)
            },
            |records, made| {
                if failure.is_some() {
                    return;
                }
                let mut evidence = Vec::with_capacity(made.len());
                let first = sketches.n as u32;
                for (i, (record, (signature, slots, length, text_key))) in
                    records.iter().zip(made).enumerate()
                {
                    if let Some(key) = text_key {
                        featureless.add(&record.doc.id, &record.doc.origin);
                        sketches.featureless.push((key, first + i as u32));
                    }
                    evidence.push((signature, slots));
                    if longest {
                        sketches.lengths.push(length);
                    }
                    if timed {
                        sketches.times.push(record.doc.time);
                    }
                }
                if let Err(e) = self.keep_sketches(&mut sketches, &banding, evidence) {
                    failure = Some(e);
                }
            },
        );
        (summary.documents, summary.bytes, summary.skipped) =
            (found.docs, found.bytes, found.skipped);
        if let Some(warning) = featureless.warning(true) {
            observer.warning(&warning);
        }
        sketches.layout = found.layout;
        // The states' analyzers go back to the stage for the later reads.
        drop(states);
        if let Some(e) = failure {
            return Err(e);
        }
        if let Store::Disk(spilled) = &mut sketches.store {
            spilled.table.finish(&mut spilled.dir)?;
        }
        Ok(sketches)
    }

    /// Keeps a chunk's signatures and slots: in memory while they fit the budget; once they
    /// do not, everything so far and from then on on disk.
    fn keep_sketches(
        &self,
        sketches: &mut Sketches,
        banding: &Banding,
        evidence: Vec<(Signature, Vec<Slot>)>,
    ) -> Result<()> {
        let first = sketches.n;
        sketches.n += evidence.len();
        let (signatures, slots) = match &mut sketches.store {
            Store::Disk(spilled) => {
                let (signatures, slots): (Vec<Signature>, Vec<Vec<Slot>>) =
                    evidence.into_iter().unzip();
                return spilled.add(first, &signatures, &slots);
            }
            Store::Memory { signatures, slots } => (signatures, slots),
        };
        for (signature, doc_slots) in evidence {
            sketches.held += held_bytes(self.config.num_hashes, banding.bands, &doc_slots);
            signatures.push(signature);
            if self.config.fact_check {
                slots.push(doc_slots);
            }
        }
        // Half the budget: the band entries' buffer, once spilling, takes the other half.
        let Some(budget) = self.memory.filter(|&budget| sketches.held > budget / 2) else {
            return Ok(());
        };
        let mut spilled = Spilled::new(&self.temp_dir, self.config.num_hashes, budget)?;
        let chunk_docs = self.chunk_docs();
        for start in (0..signatures.len()).step_by(chunk_docs) {
            let end = (start + chunk_docs).min(signatures.len());
            let chunk_slots = slots.get(start..end).unwrap_or(&[]);
            spilled.add(start, &signatures[start..end], chunk_slots)?;
        }
        sketches.store = Store::Disk(Box::new(spilled));
        sketches.held = 0;
        Ok(())
    }
}

/// The key of a text's normalized form: documents without features are duplicates when
/// their normalized texts are the same.
fn normalized_key(text: &str, config: &Config) -> u128 {
    xxhash_rust::xxh3::xxh3_128(normalize(text, config.strip_chrome).as_bytes())
}

/// Documents without features match no other by their features, not even a copy: those with
/// the same normalized text are paired here instead, at similarity 1, each with the group's
/// first in keep order (a star, linear in the group), sorted.
pub(super) fn featureless_pairs(sketches: &Sketches, keep: Keep) -> Vec<Link> {
    let mut groups = sketches.featureless.clone();
    if groups.len() < 2 {
        return Vec::new();
    }
    let rank = ranks(sketches.n, &keep_order(sketches.n, keep, &sketches.lengths));
    groups.sort_unstable_by_key(|&(key, doc)| (key, rank[doc as usize]));
    let mut pairs: Vec<Link> = groups
        .chunk_by(|a, b| a.0 == b.0)
        .flat_map(|group| {
            let first = group[0].1;
            group[1..]
                .iter()
                .map(move |&(_, doc)| (first.min(doc), first.max(doc), 1.0))
        })
        .collect();
    pairs.sort_unstable_by_key(|&(a, b, _)| (a, b));
    pairs
}

/// The verified pairs with [`featureless_pairs`] added, in document order (unchanged when
/// every document has features).
pub(super) fn with_featureless_pairs(
    mut edges: Vec<Link>,
    sketches: &Sketches,
    keep: Keep,
) -> Vec<Link> {
    let extra = featureless_pairs(sketches, keep);
    if !extra.is_empty() {
        edges.extend(extra);
        edges.sort_by_key(|&(a, b, _)| (a, b));
    }
    edges
}
