//! LSH candidate pairs over the signatures, from the dedup's two candidate sources
//! ([`crate::candidates`]): sorted in memory, or merged from band runs on disk.

use super::sketches::{Sketches, Store};
use super::spilled::Spilled;
use super::{Dedup, Summary};
use crate::candidates::{CandidateSource, Memory};
use crate::error::Result;
use crate::lsh::{Banding, split_pair_key};
use crate::spill::Run;

/// Candidate pairs verified per batch on the spill path.
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

    /// Calls `f` on the pairs in order: all at once from memory, in batches of
    /// [`VERIFY_BATCH`] from disk.
    pub(super) fn for_each_batch(
        &self,
        mut f: impl FnMut(&[(u32, u32)]) -> Result<()>,
    ) -> Result<()> {
        match self {
            Candidates::Memory(pairs) => f(pairs),
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
        self.candidates(banding)
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
            Store::Memory { signatures, .. } => {
                Candidates::Memory(Memory(signatures).find(&banding, ()))
            }
            Store::Disk(spilled) => spilled.find(&banding, ())?,
        };
        summary.candidates = candidates.len();
        Ok(candidates)
    }
}
