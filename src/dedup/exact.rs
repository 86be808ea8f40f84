//! Exact verification's feature sets: those of the documents in candidate pairs, recomputed
//! from the text in a read of their own, held in memory or on disk.

use std::borrow::Cow;
use std::path::PathBuf;

use super::candidates::Candidates;
use super::sketches::{Sketches, Store};
use super::{Dedup, Observer, Pass};
use crate::error::{Error, Result};
use crate::features::{DocFreq, Feature};
use crate::runner::read::{Reading, Recompute};
use crate::sign::Signing;
use crate::similarity::weighted_size;
use crate::spill::ListFile;

/// The feature sets verification judges by: none (estimated similarity), per document in
/// memory with their [`weighted_size`]s (summed once, not once per pair), or on the spill
/// path on disk for the documents in candidate pairs (document `i`'s are `list`'s items
/// `starts[i]..starts[i + 1]`, none past the end of `starts`: a lookup by position, as
/// verification makes tens of millions of them in a crowd of copies).
pub(super) enum FeatureSets {
    Estimated,
    Memory {
        sets: Vec<Vec<Feature>>,
        sizes: Vec<f64>,
    },
    Disk {
        list: ListFile,
        starts: Vec<u64>,
    },
}

impl FeatureSets {
    /// No feature sets yet, in memory, for `n` documents.
    pub(super) fn memory(n: usize) -> FeatureSets {
        FeatureSets::Memory {
            sets: vec![Vec::new(); n],
            sizes: vec![0.0; n],
        }
    }

    /// Document `i`'s features ([`FeatureSets::get`]) and their [`weighted_size`].
    pub(super) fn get_sized(&self, i: u32) -> Result<(Cow<'_, [Feature]>, f64)> {
        if let FeatureSets::Memory { sizes, .. } = self {
            let size = sizes.get(i as usize).copied().unwrap_or(0.0);
            return Ok((self.get(i)?, size));
        }
        let features = self.get(i)?;
        let size = weighted_size(&features);
        Ok((features, size))
    }

    /// Document `i`'s features (none when estimating or when it is in no candidate pair).
    pub(super) fn get(&self, i: u32) -> Result<Cow<'_, [Feature]>> {
        match self {
            FeatureSets::Estimated => Ok(Cow::Borrowed(&[])),
            FeatureSets::Memory { sets, .. } => Ok(Cow::Borrowed(
                sets.get(i as usize).map_or(&[][..], Vec::as_slice),
            )),
            FeatureSets::Disk { list, starts } => {
                let i = i as usize;
                let (Some(&start), Some(&end)) = (starts.get(i), starts.get(i + 1)) else {
                    return Ok(Cow::Borrowed(&[]));
                };
                if start == end {
                    return Ok(Cow::Borrowed(&[]));
                }
                let len = u32::try_from(end - start).unwrap_or(u32::MAX);
                let items = list.get(start, len)?;
                Ok(Cow::Owned(
                    items
                        .into_iter()
                        .map(|(hash, weight)| (hash, f64::from_bits(weight)))
                        .collect(),
                ))
            }
        }
    }

    /// Frees document `i`'s features (in memory; nothing to free otherwise).
    pub(super) fn release(&mut self, i: u32) {
        if let FeatureSets::Memory { sets, .. } = self {
            sets[i as usize] = Vec::new();
        }
    }

    /// Keeps document `i`'s features (documents come in input order).
    pub(super) fn insert(&mut self, i: usize, features: Vec<Feature>) -> Result<()> {
        match self {
            FeatureSets::Estimated => Ok(()),
            FeatureSets::Memory { sets, sizes } => {
                sizes[i] = weighted_size(&features);
                sets[i] = features;
                Ok(())
            }
            FeatureSets::Disk { list, starts } => {
                let end = starts.last().copied().unwrap_or(0);
                starts.resize(i + 1, end);
                let items: Vec<(u64, u64)> =
                    features.iter().map(|&(h, w)| (h, w.to_bits())).collect();
                let (offset, len) = list.push(&items)?;
                starts.push(offset + u64::from(len));
                Ok(())
            }
        }
    }
}

impl Dedup {
    /// The feature sets of the documents in candidate pairs, recomputed in one more read (only
    /// theirs are held, in memory, or on disk on the spill path), for exact verification.
    pub(super) fn exact_features(
        &self,
        paths: &[PathBuf],
        freq: &DocFreq,
        signing: &Signing,
        sketches: &mut Sketches,
        candidates: &Candidates,
        observer: &mut dyn Observer,
    ) -> Result<FeatureSets> {
        let n = sketches.n;
        let mut wanted = vec![false; n];
        candidates.for_each_batch(|batch| {
            for &(a, b) in batch {
                wanted[a as usize] = true;
                wanted[b as usize] = true;
            }
            Ok(())
        })?;
        let mut features = match &mut sketches.store {
            Store::Memory { .. } => FeatureSets::memory(n),
            Store::Disk(spilled) => FeatureSets::Disk {
                list: ListFile::new(&mut spilled.dir, "features")?,
                starts: vec![0],
            },
        };
        let recompute = Recompute {
            signing,
            freq,
            wanted: &|doc| wanted.get(doc).copied().unwrap_or(false),
        };
        let mut failure: Option<Error> = None;
        let mut next = 0usize;
        let read = Reading::again(
            Pass::Verifying,
            Some(n as u64),
            false,
            Some(&sketches.layout),
        );
        let found = self.reread(paths, read, observer, Some(&recompute), |chunk, made| {
            let first = next;
            next += chunk.len();
            for (i, f) in made.into_iter().enumerate() {
                if let Some(f) = f
                    && failure.is_none()
                    && let Err(e) = features.insert(first + i, f)
                {
                    failure = Some(e);
                }
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        found.same_as_first(n)?;
        if let (FeatureSets::Disk { list, .. }, Store::Disk(spilled)) =
            (&mut features, &mut sketches.store)
        {
            list.finish(&mut spilled.dir)?;
        }
        Ok(features)
    }
}
