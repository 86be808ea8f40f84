//! Cluster stage: documents grouped so that each group is one story, by average linkage gated
//! by a verified pair.
//!
//! Connected components of the verified pairs chain: A ~ B and B ~ C put A and C together
//! even when they share nothing, and one pair across two events of a topic merges them whole.
//! Here two groups merge when (a) at least one pair between them is verified at the level
//! asked for (the *gate*: its score reaches the level's threshold) and (b) the *average* score
//! over every pair between them, a pair LSH did not propose counting 0, reaches
//! [`AVERAGE_SHARE`] of that threshold. The most alike groups merge first. So every member is
//! the same story as the group as a whole, not only as one neighbour: independent reports of
//! one event, each a rewrite of a few of the others, gather, while a member of the other event
//! that matches one report cannot pull its whole event in. Copies, the most alike, merge
//! first and so always travel together.
//!
//! Each cluster's representative is the member with the highest total score to the others
//! (ties: the first in input order): the document a user keeps.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use serde::Serialize;

use crate::verdict::Level;

/// The share of the gate the average score between two groups must reach for them to merge.
/// Measured on ECB+ (docs/quality.md): 0.5 merges the two events of some topics, 0.7 leaves
/// reports of one event apart.
pub const AVERAGE_SHARE: f64 = 0.6;

/// A verified pair of documents (indices in input order), their similarity and its level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Edge {
    /// The first document (the smaller index).
    pub a: u32,
    /// The second document.
    pub b: u32,
    /// Their similarity.
    pub similarity: f64,
    /// Their story score ([`crate::verdict`]): what they share that their neighbours do not.
    pub story: f64,
    /// How alike they are.
    pub level: Level,
}

/// A group of documents judged to be the same story.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// The member with the highest total score to the others.
    pub representative: u32,
    /// Members in input order (the representative included).
    pub members: Vec<u32>,
    /// Each member's score against the representative (1.0 for itself, 0 when LSH did not
    /// propose the pair), parallel to `members`.
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

/// A scored candidate pair `(a, b, score)`, `a < b`: the score that decides the level asked
/// for (the similarity for related, the story score above).
pub type Scored = (u32, u32, f64);

/// A possible merge of groups `a < b`, most alike first, then by the groups' first members.
#[derive(Debug, PartialEq)]
struct Merge {
    average: f64,
    a: u32,
    b: u32,
    stamps: (u32, u32),
}

impl Eq for Merge {}

impl Ord for Merge {
    fn cmp(&self, other: &Self) -> Ordering {
        self.average
            .total_cmp(&other.average)
            .then(other.a.cmp(&self.a))
            .then(other.b.cmp(&self.b))
    }
}

impl PartialOrd for Merge {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The groups of `n` documents by gated average linkage (see the module documentation):
/// `scored` holds every candidate pair's score, `gate` is the level's threshold. Each group
/// is named by its smallest member; the result gives each document its group.
pub fn average_linkage(n: usize, scored: &[Scored], gate: f64) -> Vec<u32> {
    let average = AVERAGE_SHARE * gate;
    // Between groups: (sum of scores, best score).
    let mut links: Vec<BTreeMap<u32, (f64, f64)>> = vec![BTreeMap::new(); n];
    for &(a, b, score) in scored {
        let (a, b) = (a.min(b), a.max(b));
        links[a as usize].insert(b, (score, score));
        links[b as usize].insert(a, (score, score));
    }
    let mut size = vec![1u32; n];
    let mut stamp = vec![0u32; n];
    let mut group: Vec<u32> = (0..n as u32).collect();
    let candidate = |a: u32, b: u32, (sum, best): (f64, f64), size: &[u32], stamp: &[u32]| {
        let mean = sum / (size[a as usize] as f64 * size[b as usize] as f64);
        (best >= gate && mean >= average).then(|| Merge {
            average: mean,
            a: a.min(b),
            b: a.max(b),
            stamps: (stamp[a.min(b) as usize], stamp[a.max(b) as usize]),
        })
    };
    let mut heap: BinaryHeap<Merge> = links
        .iter()
        .enumerate()
        .flat_map(|(a, near)| {
            near.iter()
                .filter(move |(b, _)| **b > a as u32)
                .filter_map(|(&b, &link)| candidate(a as u32, b, link, &size, &stamp))
                .collect::<Vec<_>>()
        })
        .collect();
    while let Some(merge) = heap.pop() {
        let (a, b) = (merge.a, merge.b);
        let alive = group[a as usize] == a && group[b as usize] == b;
        if !alive || merge.stamps != (stamp[a as usize], stamp[b as usize]) {
            continue;
        }
        // b joins a.
        group[b as usize] = a;
        size[a as usize] += size[b as usize];
        stamp[a as usize] += 1;
        let taken = std::mem::take(&mut links[b as usize]);
        links[a as usize].remove(&b);
        for (c, (sum, best)) in taken {
            if c == a {
                continue;
            }
            links[c as usize].remove(&b);
            let link = links[a as usize].entry(c).or_insert((0.0, 0.0));
            link.0 += sum;
            link.1 = link.1.max(best);
            let link = *link;
            links[c as usize].insert(a, link);
        }
        for (&c, &link) in &links[a as usize] {
            heap.extend(candidate(a, c, link, &size, &stamp));
        }
    }
    (0..n as u32)
        .map(|mut x| {
            while group[x as usize] != x {
                x = group[x as usize];
            }
            x
        })
        .collect()
}

/// Clusters `n` documents: groups by [`average_linkage`] over `scored` with `gate`, each with
/// its representative and the verified pairs of `edges` inside it. Clusters come ordered by
/// their first member; documents in no cluster are singletons.
pub fn cluster(n: usize, scored: &[Scored], gate: f64, edges: &[Edge]) -> Vec<Cluster> {
    let group = average_linkage(n, scored, gate);
    let mut members: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (doc, &g) in group.iter().enumerate() {
        members.entry(g).or_default().push(doc as u32);
    }
    let score: ahash::AHashMap<(u32, u32), f64> = scored
        .iter()
        .filter(|&&(a, b, _)| group[a as usize] == group[b as usize])
        .map(|&(a, b, s)| ((a.min(b), a.max(b)), s))
        .collect();
    let of = |a: u32, b: u32| score.get(&(a.min(b), a.max(b))).copied().unwrap_or(0.0);
    let mut pairs: BTreeMap<u32, Vec<Edge>> = BTreeMap::new();
    for e in edges {
        if group[e.a as usize] == group[e.b as usize] {
            pairs.entry(group[e.a as usize]).or_default().push(*e);
        }
    }
    members
        .into_iter()
        .filter(|(_, m)| m.len() > 1)
        .map(|(g, members)| {
            let total = |x: u32| members.iter().map(|&y| of(x, y)).sum::<f64>();
            let mut representative = members[0];
            let mut best = total(representative);
            for &m in &members[1..] {
                let t = total(m);
                if t > best {
                    (representative, best) = (m, t);
                }
            }
            let to_representative = members
                .iter()
                .map(|&m| {
                    if m == representative {
                        1.0
                    } else {
                        of(representative, m)
                    }
                })
                .collect();
            Cluster {
                representative,
                members,
                to_representative,
                pairs: pairs.remove(&g).unwrap_or_default(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(a: u32, b: u32, similarity: f64) -> Edge {
        Edge {
            a,
            b,
            similarity,
            story: similarity,
            level: Level::Rewrite,
        }
    }

    fn scored(edges: &[Edge]) -> Vec<Scored> {
        edges.iter().map(|e| (e.a, e.b, e.similarity)).collect()
    }

    fn groups(clusters: &[Cluster]) -> Vec<Vec<u32>> {
        clusters.iter().map(|c| c.members.clone()).collect()
    }

    #[test]
    fn verified_pairs_become_clusters() {
        let edges = [edge(0, 1, 0.9), edge(3, 4, 0.8)];
        let clusters = cluster(5, &scored(&edges), 0.5, &edges);
        assert_eq!(groups(&clusters), [vec![0, 1], vec![3, 4]]);
        assert_eq!(clusters[0].pairs, [edges[0]]);
    }

    #[test]
    fn a_chain_stops_where_the_average_falls() {
        // 0, 1 and 2 are alike; 3 is like 2 only. {0, 1} and 2 average (0.8 + 0.5) / 2; then
        // {0, 1, 2} and 3 average 0.35 / 3, below 0.6 of the gate 0.3.
        let edges = [
            edge(0, 1, 0.9),
            edge(0, 2, 0.5),
            edge(1, 2, 0.8),
            edge(2, 3, 0.35),
        ];
        let clusters = cluster(4, &scored(&edges), 0.3, &edges);
        assert_eq!(groups(&clusters), [vec![0, 1, 2]]);
        assert_eq!(clusters[0].representative, 1);
        assert_eq!(clusters[0].to_representative, [0.9, 1.0, 0.8]);
        assert_eq!(clusters[0].pairs, edges[..3]);
    }

    #[test]
    fn a_link_below_the_gate_never_merges() {
        // Averages pass, but no pair between the groups reaches the gate.
        let scored = [(0, 1, 0.45), (1, 2, 0.45)];
        assert!(cluster(3, &scored, 0.5, &[]).is_empty());
    }

    #[test]
    fn one_pair_across_two_events_does_not_merge_them() {
        // Two events of four reports each, all alike within; one report of each is like one
        // of the other: 1 pair of 16 between them.
        let mut scored = Vec::new();
        for event in [0u32, 4] {
            for a in event..event + 4 {
                for b in a + 1..event + 4 {
                    scored.push((a, b, 0.3));
                }
            }
        }
        scored.push((3, 4, 0.25));
        let clusters = cluster(8, &scored, 0.2, &[]);
        assert_eq!(groups(&clusters), [vec![0, 1, 2, 3], vec![4, 5, 6, 7]]);
    }

    /// The heap against a direct search of the best merge at every step.
    #[test]
    fn average_linkage_matches_a_direct_search() {
        let n = 24u32;
        let mut scored = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                let h = (a * 31 + b * 17) % 23;
                if h < 9 {
                    scored.push((a, b, h as f64 / 20.0));
                }
            }
        }
        let gate = 0.25;
        let fast = average_linkage(n as usize, &scored, gate);
        // Direct: groups as sets, every step the best pair of groups by average.
        let score = |a: u32, b: u32| {
            scored
                .iter()
                .find(|s| s.0 == a.min(b) && s.1 == a.max(b))
                .map_or(0.0, |s| s.2)
        };
        let mut slow: Vec<Vec<u32>> = (0..n).map(|i| vec![i]).collect();
        loop {
            let mut best: Option<(f64, usize, usize)> = None;
            for i in 0..slow.len() {
                for j in i + 1..slow.len() {
                    let all: Vec<f64> = slow[i]
                        .iter()
                        .flat_map(|&x| slow[j].iter().map(move |&y| (x, y)))
                        .map(|(x, y)| score(x, y))
                        .collect();
                    let top = all.iter().cloned().fold(0.0, f64::max);
                    let mean = all.iter().sum::<f64>() / all.len() as f64;
                    if top >= gate
                        && mean >= AVERAGE_SHARE * gate
                        && best.is_none_or(|(m, _, _)| mean > m)
                    {
                        best = Some((mean, i, j));
                    }
                }
            }
            let Some((_, i, j)) = best else { break };
            let moved = slow.remove(j);
            slow[i].extend(moved);
        }
        for g in &slow {
            let first = fast[g[0] as usize];
            assert!(g.iter().all(|&m| fast[m as usize] == first), "{g:?}");
        }
        let distinct: std::collections::BTreeSet<u32> = fast.iter().copied().collect();
        assert_eq!(distinct.len(), slow.len());
    }
}
