//! Candidates: the one interface through which every runner finds the documents whose
//! signatures collide in at least [`Banding::min_hits`] bands of a [`Banding`], whatever holds
//! their band keys (as sourmash's `RevIndex` is one interface over its indexes on disk and in
//! memory):
//!
//! - [`Memory`]: the signatures in memory, banded by sorting ([`Banding::candidates`]), for
//!   the batch commands and `dedup` within its budget;
//! - the spill path's runs on disk (`dedup::spilled`, `dedup` beyond its budget);
//! - the band table of an index (`index`: one query's collisions, counted in redb);
//! - the dataflow operators of `dist` (buckets exchanged between workers).
//!
//! Each source computes what it computed before; the interface only names the step, so that a
//! driver reads "candidates from this source" and the sources can be found from here.

use crate::lsh::Banding;
use crate::signature::Signature;

/// A place the band keys of signed documents are held, where the documents that collide in
/// at least `banding.min_hits` bands are found.
pub(crate) trait CandidateSource<'q> {
    /// What a search is asked with: nothing more for a batch (every pair of its documents),
    /// one signature for an index, the stream of band keys for the dataflow.
    type Query;
    /// What a search finds: pairs for a batch, documents for a query (in a `Result` where
    /// the source reads files).
    type Found;

    /// The candidates of `query` under `banding`.
    fn find(&mut self, banding: &Banding, query: Self::Query) -> Self::Found;
}

/// Signatures in memory, document `i` at index `i`: their candidate pairs `(a, b)`, `a < b`,
/// sorted ([`Banding::candidates`]).
pub(crate) struct Memory<'a>(pub(crate) &'a [Signature]);

impl CandidateSource<'_> for Memory<'_> {
    type Query = ();
    type Found = Vec<(u32, u32)>;

    fn find(&mut self, banding: &Banding, (): ()) -> Vec<(u32, u32)> {
        banding.candidates(self.0)
    }
}
