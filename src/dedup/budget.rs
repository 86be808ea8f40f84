//! How a spilled run shares its memory budget (`--memory`): what it holds per document and
//! per verified pair comes first, and the buffers of its external sorts and merges share the
//! rest.
//!
//! A spilled run's resident memory is a fixed part ([`FIXED`]: the binary, thread stacks, the
//! allocator, the IDF vocabulary, the text in flight), what it holds outside its buffers per
//! document ([`PER_DOC`]) and per verified pair ([`PER_PAIR`]), and its buffers. Each stage
//! sizes the buffers it has alive at once from [`Budget::buffers`], what the budget leaves
//! once the rest is held, so that together they stay within it. When the rest alone does not
//! fit, the buffers get [`MIN_BUFFERS`] all the same and the run goes on beyond its budget,
//! which [`Budget::warning`] says once.

/// Bytes a run takes whatever its corpus: the binary, thread stacks, the allocator's own and
/// what it keeps of freed memory, the IDF vocabulary, the text in flight (a few chunks of
/// documents, each document's term counts while frequencies are counted) and the chunks the
/// stages work on: 60–70 MB at the defaults on two threads.
pub(super) const FIXED: u64 = 64 << 20;

/// Bytes held per document outside the buffers, at most, in any stage of a spilled run: the
/// reader's map of ids in the first reads (48 bytes an entry, up to twice that between two
/// growths), then the crowds' roles, the feature sets' offsets, the classes of features and
/// of the contrast with their keys, and the keep pass's arrays.
pub(super) const PER_DOC: u64 = 128;

/// Bytes held per verified pair while they are judged and kept: the pair (16 bytes, up to
/// twice that as the list grows), its verdict, and the keep pass's adjacency for the pairs at
/// the level (a few of them, as a rule).
pub(super) const PER_PAIR: u64 = 40;

/// The least the buffers get, even beyond the budget: runs of a useful size (a smaller buffer
/// makes more runs than one merge takes, and a pass more over the pairs).
pub(super) const MIN_BUFFERS: u64 = 16 << 20;

/// A spilled run's memory budget, and what it holds outside its buffers.
#[derive(Debug)]
pub(super) struct Budget {
    /// Bytes the run may take.
    total: u64,
    /// Documents whose state is held.
    docs: u64,
    /// Verified pairs held.
    pairs: u64,
    /// Whether [`Budget::warning`] has said that the held state does not fit.
    warned: bool,
}

impl Budget {
    /// A budget of `total` bytes, nothing held yet.
    pub(super) fn new(total: u64) -> Budget {
        Budget {
            total,
            docs: 0,
            pairs: 0,
            warned: false,
        }
    }

    /// Holds the state of `docs` documents and `pairs` verified pairs from now on.
    pub(super) fn hold(&mut self, docs: u64, pairs: u64) {
        (self.docs, self.pairs) = (docs, pairs);
    }

    /// Bytes held outside the buffers.
    fn held(&self) -> u64 {
        FIXED
            .saturating_add(PER_DOC.saturating_mul(self.docs))
            .saturating_add(PER_PAIR.saturating_mul(self.pairs))
    }

    /// Bytes for every buffer alive at once: what the budget leaves once the held state is
    /// counted, at least [`MIN_BUFFERS`].
    pub(super) fn buffers(&self) -> u64 {
        self.buffers_beside(0)
    }

    /// [`Budget::buffers`] while `pairs` verified pairs more than those held are being made.
    fn buffers_beside(&self, pairs: u64) -> u64 {
        let held = self.held().saturating_add(PER_PAIR.saturating_mul(pairs));
        self.total.saturating_sub(held).max(MIN_BUFFERS)
    }

    /// `parts` eighths of [`Budget::buffers`]: the share of one of the buffers alive at once.
    pub(super) fn eighths(&self, parts: u64) -> usize {
        self.eighths_beside(parts, 0)
    }

    /// [`Budget::eighths`] while `pairs` verified pairs more than those held are being made.
    pub(super) fn eighths_beside(&self, parts: u64, pairs: usize) -> usize {
        let buffers = self.buffers_beside(pairs as u64);
        usize::try_from(buffers / 8 * parts).unwrap_or(usize::MAX)
    }

    /// Records of `record` bytes that a buffer filled with one record per new document may
    /// take, while each of those documents adds [`PER_DOC`] to the held state.
    pub(super) fn growing_records(&self, record: usize) -> usize {
        let records = self.buffers() / (record as u64 + PER_DOC);
        usize::try_from(records).unwrap_or(usize::MAX).max(1)
    }

    /// The first time the held state and [`MIN_BUFFERS`] do not fit the budget, a warning that
    /// says so and what they need; `None` otherwise.
    pub(super) fn warning(&mut self) -> Option<String> {
        let needed = self.held().saturating_add(MIN_BUFFERS);
        if self.warned || needed <= self.total {
            return None;
        }
        self.warned = true;
        Some(format!(
            "a memory budget of {} MB is too small for the state of {} documents and {} \
             verified pairs, which needs about {} MB: going on beyond it (raise --memory to \
             keep within it)",
            mb(self.total),
            self.docs,
            self.pairs,
            mb(needed).max(mb(self.total) + 1)
        ))
    }
}

/// Bytes in MB (2^20 bytes, as `--memory` counts them), rounded up.
fn mb(bytes: u64) -> u64 {
    bytes.div_ceil(1 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_get_what_the_held_state_leaves() {
        let mut budget = Budget::new(256 << 20);
        assert_eq!(budget.buffers(), (256 << 20) - FIXED);
        budget.hold(1_000_000, 10_000);
        let held = FIXED + PER_DOC * 1_000_000 + PER_PAIR * 10_000;
        assert_eq!(budget.buffers(), (256 << 20) - held);
        assert_eq!(budget.eighths(8) as u64, budget.buffers() / 8 * 8);
        let beside = budget.eighths_beside(8, 1000) as u64;
        assert_eq!(beside, (budget.buffers() - PER_PAIR * 1000) / 8 * 8);
        assert_eq!(
            budget.growing_records(32) as u64,
            budget.buffers() / (32 + PER_DOC)
        );
        assert_eq!(budget.warning(), None);
    }

    #[test]
    fn a_budget_too_small_gets_the_least_buffers_and_one_warning() {
        let mut budget = Budget::new(64 << 20);
        budget.hold(10_000_000, 0);
        assert_eq!(budget.buffers(), MIN_BUFFERS);
        let warning = budget.warning().unwrap();
        assert!(warning.contains("64 MB"), "{warning}");
        let needed = mb(FIXED + PER_DOC * 10_000_000 + MIN_BUFFERS);
        assert!(warning.contains(&format!("about {needed} MB")), "{warning}");
        assert_eq!(budget.warning(), None);
    }
}
