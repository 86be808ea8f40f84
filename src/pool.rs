//! Per-thread state lent to parallel jobs and given back when each ends: the analyzers (whose
//! vocabularies cache every word's stem) and the signature pass's states.
//!
//! rayon's `map_init` makes a fresh state for every job it splits off, many per chunk of
//! documents, so a fresh analyzer would stem again every word it meets, chunk after chunk.
//! Borrowed from a pool, a state keeps what earlier jobs learnt, and one pass can hand its
//! analyzers to the next. Which job gets which state varies from run to run; nothing computed
//! depends on it (a vocabulary only caches what analysing a word gives).

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, PoisonError};

/// States waiting to be lent.
#[derive(Debug)]
pub struct Pool<T>(Mutex<Vec<T>>);

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool(Mutex::new(Vec::new()))
    }
}

impl<T> Pool<T> {
    /// A state from the pool, or `make()` when none is waiting; it returns to the pool when the
    /// loan is dropped.
    pub fn lend(&self, make: impl FnOnce() -> T) -> Lent<'_, T> {
        let value = self.take().unwrap_or_else(make);
        Lent {
            pool: self,
            value: Some(value),
        }
    }

    /// A waiting state, taken for good.
    pub fn take(&self) -> Option<T> {
        self.waiting().pop()
    }

    /// Puts a state in the pool.
    pub fn give(&self, value: T) {
        self.waiting().push(value);
    }

    /// Every waiting state.
    #[cfg(test)]
    pub fn into_inner(self) -> Vec<T> {
        self.0.into_inner().unwrap_or_else(PoisonError::into_inner)
    }

    /// The waiting states. A job that panicked while holding the lock left a vector that is
    /// still whole (pushing and popping do not panic half-way), so poisoning is ignored.
    fn waiting(&self) -> std::sync::MutexGuard<'_, Vec<T>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A state lent by a [`Pool`], given back when dropped.
#[derive(Debug)]
pub struct Lent<'p, T> {
    pool: &'p Pool<T>,
    /// Always `Some` until dropped.
    value: Option<T>,
}

impl<T> Deref for Lent<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl<T> DerefMut for Lent<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.value
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }
}

impl<T> Drop for Lent<'_, T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.pool.give(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn a_loan_returns_to_the_pool_and_is_lent_again() {
        let pool = Pool::default();
        {
            let mut first = pool.lend(Vec::new);
            first.push(1);
            let second = pool.lend(|| vec![7]);
            assert_eq!((&*first, &*second), (&vec![1], &vec![7]));
        }
        // Both came back; the next loan gets one of them, not a new one.
        assert_eq!(pool.lend(|| vec![99]).len(), 1);
        let mut left = pool.into_inner();
        left.sort();
        assert_eq!(left, [vec![1], vec![7]]);
    }

    #[test]
    fn parallel_jobs_share_at_most_one_state_per_running_job() {
        let pool: Pool<usize> = Pool::default();
        let made = std::sync::atomic::AtomicUsize::new(0);
        for _ in 0..10 {
            (0..10_000).into_par_iter().for_each_init(
                || {
                    pool.lend(|| {
                        made.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        0
                    })
                },
                |state, _| **state += 1,
            );
        }
        let states = pool.into_inner();
        // Every item was counted by some state, and no more states were made than jobs ever
        // ran at once (one per thread): the rest were lent again.
        assert_eq!(states.iter().sum::<usize>(), 100_000);
        let made = made.into_inner();
        assert_eq!(states.len(), made);
        assert!(made <= rayon::current_num_threads(), "{made}");
    }
}
