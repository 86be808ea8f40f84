//! Cluster stage: connected components of the verified pairs (union-find), then a guard
//! against chaining.
//!
//! Connected components alone chain: A ~ B and B ~ C put A and C together even when they share
//! nothing. So each component is split into stars: its representative is the member with the
//! most verified pairs inside it (ties: first in input order), the cluster is the
//! representative plus every member whose similarity *to the representative* passes the
//! threshold, and the rest of the component is split the same way. Every member of every
//! cluster is thus a duplicate of its representative (or a copy of one that is), which is the
//! document a user keeps.
//!
//! Copies (pairs at or above [`COPY_SIMILARITY`]) are never split: when a star takes one, it
//! takes its copies too, so that two re-sends of one item, which differ by a title, never
//! land on either side of the threshold against another representative.

use rayon::prelude::*;
use serde::Serialize;

/// Pairs this similar are copies of each other, kept together by the chaining guard.
pub const COPY_SIMILARITY: f64 = 0.9;

/// A verified pair of documents (indices in input order) and their similarity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Edge {
    /// The first document (the smaller index).
    pub a: u32,
    /// The second document.
    pub b: u32,
    /// Their similarity.
    pub similarity: f64,
}

/// A group of documents judged to be the same story.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// The member the others were compared with.
    pub representative: u32,
    /// Members in input order (the representative included).
    pub members: Vec<u32>,
    /// Each member's similarity to the representative (1.0 for itself), parallel to `members`.
    pub to_representative: Vec<f64>,
    /// The verified pairs inside the cluster.
    pub pairs: Vec<Edge>,
}

/// Disjoint sets with path halving and union by size.
#[derive(Debug)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    /// The root of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Merges the sets of `a` and `b`.
    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
    }
}

/// Clusters `n` documents from their verified pairs. `similarity(i, j)` gives any pair's
/// similarity (used to test members against the representative). Clusters come ordered by
/// their first member; documents in no cluster are singletons.
pub fn cluster(
    n: usize,
    edges: &[Edge],
    threshold: f64,
    similarity: impl Fn(u32, u32) -> f64 + Sync,
) -> Vec<Cluster> {
    let mut sets = UnionFind::new(n);
    for e in edges {
        sets.union(e.a, e.b);
    }
    let mut components: Vec<Vec<u32>> = vec![Vec::new(); n];
    for i in 0..n as u32 {
        let root = sets.find(i);
        components[root as usize].push(i);
    }
    // Each component's edges, in their given order (one pass, not one per component).
    let mut component_edges: Vec<Vec<Edge>> = vec![Vec::new(); n];
    for e in edges {
        component_edges[sets.find(e.a) as usize].push(*e);
    }
    let mut clusters = Vec::new();
    for (component, edges) in components
        .into_iter()
        .zip(&component_edges)
        .filter(|(c, _)| c.len() > 1)
    {
        split_into_stars(component, edges, threshold, &similarity, &mut clusters);
    }
    clusters.sort_by_key(|c| c.members[0]);
    clusters
}

fn split_into_stars(
    component: Vec<u32>,
    edges: &[Edge],
    threshold: f64,
    similarity: &(impl Fn(u32, u32) -> f64 + Sync),
    clusters: &mut Vec<Cluster>,
) {
    let inside: std::collections::BTreeSet<u32> = component.iter().copied().collect();
    let mut local: Vec<Edge> = edges
        .iter()
        .filter(|e| inside.contains(&e.a) && inside.contains(&e.b))
        .copied()
        .collect();
    let slot: std::collections::BTreeMap<u32, usize> =
        component.iter().enumerate().map(|(k, &m)| (m, k)).collect();
    let mut copy_sets = UnionFind::new(component.len());
    for e in local
        .iter()
        .filter(|e| e.similarity >= COPY_SIMILARITY.max(threshold))
    {
        copy_sets.union(slot[&e.a] as u32, slot[&e.b] as u32);
    }
    let mut remaining = inside;
    while remaining.len() > 1 {
        let mut degree: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
        for e in &local {
            *degree.entry(e.a).or_default() += 1;
            *degree.entry(e.b).or_default() += 1;
        }
        // Most pairs first; the first in input order among equals.
        let Some((&representative, _)) =
            degree.iter().max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0)))
        else {
            break;
        };
        // Every remaining member against the representative, in parallel, in order.
        let to_star: Vec<(u32, f64)> = remaining
            .par_iter()
            .map(|&m| {
                let s = if m == representative {
                    1.0
                } else {
                    similarity(representative, m)
                };
                (m, s)
            })
            .collect();
        let mut taken: std::collections::BTreeSet<usize> = std::collections::BTreeSet::new();
        for &(m, s) in &to_star {
            if m == representative || s >= threshold {
                taken.insert(copy_sets.find(slot[&m] as u32) as usize);
            }
        }
        let mut members = Vec::new();
        let mut to_representative = Vec::new();
        for &(m, s) in &to_star {
            if taken.contains(&(copy_sets.find(slot[&m] as u32) as usize)) {
                members.push(m);
                to_representative.push(s);
            }
        }
        for m in &members {
            remaining.remove(m);
        }
        let (pairs, rest): (Vec<Edge>, Vec<Edge>) = local
            .into_iter()
            .partition(|e| members.contains(&e.a) && members.contains(&e.b));
        local = rest
            .into_iter()
            .filter(|e| remaining.contains(&e.a) && remaining.contains(&e.b))
            .collect();
        if members.len() > 1 {
            clusters.push(Cluster {
                representative,
                members,
                to_representative,
                pairs,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(a: u32, b: u32, similarity: f64) -> Edge {
        Edge { a, b, similarity }
    }

    /// The similarity of a pair as listed in `edges`, 0 for pairs not listed.
    fn similarity_of(edges: &[Edge]) -> impl Fn(u32, u32) -> f64 + '_ {
        move |a, b| {
            edges
                .iter()
                .find(|e| e.a == a.min(b) && e.b == a.max(b))
                .map_or(0.0, |e| e.similarity)
        }
    }

    #[test]
    fn components_become_clusters() {
        let edges = [edge(0, 1, 0.9), edge(3, 4, 0.8)];
        let sim = similarity_of(&edges);
        let clusters = cluster(5, &edges, 0.5, sim);
        let members: Vec<_> = clusters.iter().map(|c| c.members.clone()).collect();
        assert_eq!(members, [vec![0, 1], vec![3, 4]]);
        assert_eq!(clusters[0].pairs, [edges[0]]);
    }

    #[test]
    fn a_chain_is_cut_at_the_representative() {
        // 0 - 1 - 2 - 3: a chain where 0 and 3 share nothing.
        let edges = [edge(0, 1, 0.6), edge(1, 2, 0.6), edge(2, 3, 0.6)];
        let sim = |a: u32, b: u32| if a.abs_diff(b) == 1 { 0.6 } else { 0.1 };
        let clusters = cluster(4, &edges, 0.5, sim);
        // Node 1 has degree 2 (first among equals): {0, 1, 2}; 3 is left alone.
        assert_eq!(clusters.len(), 1);
        assert_eq!(clusters[0].representative, 1);
        assert_eq!(clusters[0].members, [0, 1, 2]);
        assert_eq!(clusters[0].to_representative, [0.6, 1.0, 0.6]);
    }

    #[test]
    fn copies_are_never_split() {
        // 0 and 1 are copies; 2 is the hub. 2 ~ 0 passes, 2 ~ 1 does not.
        let edges = [
            edge(0, 1, 0.95),
            edge(0, 2, 0.5),
            edge(2, 3, 0.6),
            edge(2, 4, 0.6),
        ];
        let sim = similarity_of(&edges);
        let clusters = cluster(5, &edges, 0.5, sim);
        assert_eq!(clusters.len(), 1);
        assert_eq!(clusters[0].representative, 2);
        assert_eq!(clusters[0].members, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn every_member_passes_against_its_representative() {
        let n = 30u32;
        let sim = |a: u32, b: u32| {
            if (a % 3 == b % 3) || a.abs_diff(b) == 1 {
                0.7
            } else {
                0.0
            }
        };
        let mut edges = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                if sim(a, b) >= 0.5 {
                    edges.push(edge(a, b, sim(a, b)));
                }
            }
        }
        for c in cluster(n as usize, &edges, 0.5, sim) {
            for &m in &c.members {
                assert!(m == c.representative || sim(c.representative, m) >= 0.5);
            }
        }
    }
}
