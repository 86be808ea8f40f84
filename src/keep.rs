//! The keep rule: which documents of verified pairs a dedup keeps, the same in `dedup` and
//! `dist`.
//!
//! Documents are visited in keep order: input order for [`Keep::First`], longest text first
//! for [`Keep::Longest`] (ties: input order). A document is removed when it has a verified
//! pair with a document already kept; it names the kept document it is most similar to
//! (ties: earliest in keep order) and that similarity. Otherwise it is kept. So every removed
//! document duplicates a kept one *directly*, never through a chain (A ~ B ~ C with A and C
//! unalike keeps A and C), and a removal can always be checked by comparing the two
//! documents named in `removed.tsv`.

/// Which document of a group of duplicates is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Keep {
    /// The first in input order.
    #[default]
    First,
    /// The one with the longest text (in bytes); ties: the first in input order.
    Longest,
}

/// A verified pair as the keep pass links documents: two documents (input order, `a < b`)
/// and their similarity (estimated, or exact with [`crate::runner::Dedup::verify_exact`]);
/// without the story score and level of a [`crate::cluster::Edge`].
pub type Link = (u32, u32, f64);

/// A removed document, the kept document it duplicates, and their similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Removal {
    /// Index of the removed document, in input order.
    pub removed: u32,
    /// Index of the kept document.
    pub kept: u32,
    /// Their similarity under the configured measure (estimated, or exact with
    /// [`crate::runner::Dedup::verify_exact`]).
    pub similarity: f64,
}

/// Documents in the order the keep rule visits them.
pub(crate) fn keep_order(n: usize, keep: Keep, lengths: &[u32]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    if keep == Keep::Longest {
        order.sort_by_key(|&i| (std::cmp::Reverse(lengths[i as usize]), i));
    }
    order
}

/// The kept document a document is removed in favour of, among its `neighbours` (document,
/// similarity): the most similar kept one, ties broken by the earlier `rank` in keep order;
/// `None` when no neighbour is kept (the document is kept).
pub(crate) fn most_similar_kept(
    neighbours: impl Iterator<Item = (u32, f64)>,
    kept: &[bool],
    rank: impl Fn(u32) -> u32,
) -> Option<(u32, f64)> {
    neighbours
        .filter(|&(other, _)| kept[other as usize])
        .min_by(|x, y| y.1.total_cmp(&x.1).then(rank(x.0).cmp(&rank(y.0))))
}

/// The greedy keep pass (see the module docs): visits documents in `order`; one with a
/// verified pair to an already kept document is removed in favour of the most similar one.
/// Returns the removals sorted by removed document.
pub(crate) fn greedy(n: usize, edges: &[Link], order: &[u32]) -> Vec<Removal> {
    let rank = ranks(n, order);
    let neighbours = Adjacency::towards_earlier(n, edges, &rank);
    let mut kept = vec![false; n];
    let mut removals = Vec::new();
    for &doc in order {
        let mine = neighbours.of(doc).iter();
        match most_similar_kept(mine.copied(), &kept, |other| rank[other as usize]) {
            Some((other, similarity)) => removals.push(Removal {
                removed: doc,
                kept: other,
                similarity,
            }),
            None => kept[doc as usize] = true,
        }
    }
    removals.sort_by_key(|r| r.removed);
    removals
}

/// Each document's place in `order`.
pub(crate) fn ranks(n: usize, order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0u32; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    rank
}

/// Verified pairs in compressed rows: each document's neighbours with their similarity.
pub(crate) struct Adjacency {
    start: Vec<usize>,
    neighbours: Vec<(u32, f64)>,
}

impl Adjacency {
    /// Each document's neighbours through `edges`, in the order of `edges`.
    pub(crate) fn new(n: usize, edges: &[Link]) -> Adjacency {
        Adjacency::of_directed(
            n,
            edges.iter().flat_map(|&(a, b, s)| [(a, b, s), (b, a, s)]),
        )
    }

    /// Each document's neighbours through `edges` that come before it in keep order (`rank`,
    /// from [`ranks`]): all the greedy pass looks at, since only those can be kept when it
    /// comes to the document. Half the rows of [`Adjacency::new`], which matters when
    /// millions of pairs are verified.
    fn towards_earlier(n: usize, edges: &[Link], rank: &[u32]) -> Adjacency {
        let later_first = |&(a, b, s): &Link| {
            if rank[a as usize] > rank[b as usize] {
                (a, b, s)
            } else {
                (b, a, s)
            }
        };
        Adjacency::of_directed(n, edges.iter().map(later_first))
    }

    /// The rows of the directed links `(from, to, similarity)`, each row in the order of
    /// `links` (which is walked twice: counting, then filling).
    fn of_directed(n: usize, links: impl Iterator<Item = Link> + Clone) -> Adjacency {
        let mut start = vec![0usize; n + 1];
        for (from, _, _) in links.clone() {
            start[from as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut neighbours = vec![(0u32, 0.0f64); start[n]];
        for (from, to, s) in links {
            neighbours[fill[from as usize]] = (to, s);
            fill[from as usize] += 1;
        }
        Adjacency { start, neighbours }
    }

    /// The neighbours of `doc`, with their similarity.
    pub(crate) fn of(&self, doc: u32) -> &[(u32, f64)] {
        &self.neighbours[self.start[doc as usize]..self.start[doc as usize + 1]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_removes_direct_duplicates_of_kept_documents_only() {
        // 0 ~ 1 ~ 2 (a chain: 0 and 2 unalike), 3 ~ 4.
        let edges = [(0, 1, 0.9), (1, 2, 0.85), (3, 4, 0.95)];
        let removals = greedy(5, &edges, &[0, 1, 2, 3, 4]);
        assert_eq!(
            removals,
            [
                Removal {
                    removed: 1,
                    kept: 0,
                    similarity: 0.9
                },
                Removal {
                    removed: 4,
                    kept: 3,
                    similarity: 0.95
                }
            ]
        );
    }

    #[test]
    fn greedy_names_the_most_similar_kept_document() {
        // 0 and 1 unalike, both kept; 2 is closer to 1.
        let edges = [(0, 2, 0.8), (1, 2, 0.9)];
        let removals = greedy(3, &edges, &[0, 1, 2]);
        assert_eq!(removals.len(), 1);
        assert_eq!((removals[0].removed, removals[0].kept), (2, 1));
    }

    proptest::proptest! {
        /// Oracle: the greedy pass equals the rule read literally, each document in keep order
        /// looking through every verified pair for the kept documents it has one with.
        #[test]
        fn greedy_equals_the_rule_over_every_pair(
            pairs in proptest::collection::btree_map((0u32..12, 0u32..12), 0u8..4, 0..40),
            lengths in proptest::collection::vec(0u32..4, 12),
            longest in proptest::bool::ANY,
        ) {
            let n = 12;
            let edges: Vec<Link> = pairs
                .into_iter()
                .filter(|&((a, b), _)| a < b)
                .map(|((a, b), s)| (a, b, 0.5 + f64::from(s) / 8.0))
                .collect();
            let keep = if longest { Keep::Longest } else { Keep::First };
            let order = keep_order(n, keep, &lengths);
            let rank = ranks(n, &order);
            let mut kept = vec![false; n];
            let mut expected = Vec::new();
            for &doc in &order {
                let pairs = edges.iter().filter_map(|&(a, b, s)| {
                    (a == doc).then_some((b, s)).or((b == doc).then_some((a, s)))
                });
                match most_similar_kept(pairs, &kept, |other| rank[other as usize]) {
                    Some((other, similarity)) => expected.push(Removal {
                        removed: doc,
                        kept: other,
                        similarity,
                    }),
                    None => kept[doc as usize] = true,
                }
            }
            expected.sort_by_key(|r| r.removed);
            proptest::prop_assert_eq!(greedy(n, &edges, &order), expected);
        }
    }

    #[test]
    fn keep_longest_visits_long_documents_first_ties_in_input_order() {
        assert_eq!(keep_order(4, Keep::Longest, &[5, 9, 5, 9]), [1, 3, 0, 2]);
        assert_eq!(keep_order(3, Keep::First, &[]), [0, 1, 2]);
        let removals = greedy(2, &[(0, 1, 0.9)], &keep_order(2, Keep::Longest, &[3, 7]));
        assert_eq!((removals[0].removed, removals[0].kept), (0, 1));
    }
}
