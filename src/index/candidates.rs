//! Candidate lookup: the documents whose signatures collide with a query's in enough LSH
//! bands, counted from the band table (the index's candidate source, [`crate::candidates`]).

use std::cell::RefCell;

use redb::ReadableMultimapTable;

use super::tables::TableSet;
use crate::candidates::CandidateSource;
use crate::error::Result;
use crate::lsh::Banding;
use crate::signature::{EMPTY, Signature};

/// A band value shared by more documents than this is boilerplate (a stock phrase of the
/// wire): checks skip it rather than read thousands of entries. A real duplicate collides in
/// many other bands. (Lower caps are faster but change verdicts: docs/performance.md, "`check` latency".)
pub const MAX_QUERY_BUCKET: u64 = 512;

/// At most this many candidates are verified per check: those colliding in the most bands
/// (ties: the earliest added). A near duplicate collides in far more bands than a chance
/// candidate, so the cap bounds the time of a query that collides with a crowd (a story held
/// hundreds of times); the matches reported are then the best of those verified, not every
/// copy. On the check bench's queries it changed no verdict and no best match
/// (docs/performance.md).
pub const MAX_VERIFIED: usize = 32;

thread_local! {
    /// The thread's band-hit counts, emptied and reused from one check to the next: a check
    /// counts thousands of documents, and a new map grows (rehashes) several times.
    static HITS: RefCell<ahash::AHashMap<u64, u32>> = RefCell::new(ahash::AHashMap::new());
}

/// Whether a signature has any feature (an empty document has none and is never banded).
pub(super) fn has_features(signature: &Signature) -> bool {
    signature.values.first().is_some_and(|&v| v != EMPTY)
}

/// The band keys of `signature`, one per band of `banding`: the keys a document is stored
/// under and a query looks up. None for a signature without features.
pub(super) fn band_keys<'a>(
    banding: &'a Banding,
    signature: &'a Signature,
) -> impl Iterator<Item = u64> + 'a {
    let banded = has_features(signature);
    banding
        .band_keys(signature)
        .filter(move |_| banded)
        .map(|(_, key)| key)
}

/// The band table of an index (and the writes pending in it) as a candidate source.
pub(super) struct BandTable<'a, T>(pub(super) &'a T);

/// A query of the band table: a signature, and the stored document to leave out.
impl<'q, T: TableSet> CandidateSource<'q> for BandTable<'_, T> {
    type Query = (&'q Signature, Option<u64>);
    type Found = Result<Vec<u64>>;

    /// The documents whose band values collide with `signature`'s in at least
    /// [`Banding::min_hits`] bands (buckets over [`MAX_QUERY_BUCKET`] skipped), `exclude`
    /// left out: the [`MAX_VERIFIED`] with the most hits (ties: the earliest added), by
    /// sequence number.
    fn find(
        &mut self,
        banding: &Banding,
        (signature, exclude): (&'q Signature, Option<u64>),
    ) -> Result<Vec<u64>> {
        let tables = self.0;
        // Band keys read in sorted order walk the B-tree from left to right.
        let mut keys: Vec<u64> = band_keys(banding, signature).collect();
        keys.sort_unstable();
        let mut candidates = HITS.with_borrow_mut(|hits| -> Result<Vec<(u32, u64)>> {
            hits.clear();
            for key in keys {
                let values = tables.bands().get(key)?;
                let pending = tables.pending(key);
                if values.len() + pending.len() as u64 > MAX_QUERY_BUCKET {
                    continue;
                }
                for seq in values {
                    *hits.entry(seq?.value()).or_insert(0) += 1;
                }
                for &seq in pending {
                    *hits.entry(seq).or_insert(0) += 1;
                }
            }
            Ok(hits
                .iter()
                .filter(|&(&seq, &n)| n as usize >= banding.min_hits && Some(seq) != exclude)
                .map(|(&seq, &n)| (n, seq))
                .collect())
        })?;
        candidates.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        candidates.truncate(MAX_VERIFIED);
        candidates.sort_unstable_by_key(|&(_, seq)| seq);
        Ok(candidates.into_iter().map(|(_, seq)| seq).collect())
    }
}
