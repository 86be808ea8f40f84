//! Contrast stage: weights each document's features by how specific they are *among its
//! neighbours*, the documents LSH proposes with it.
//!
//! IDF says how rare a feature is in the whole collection. But the documents a story is
//! confused with are its neighbours: other items on the same subject (the same company, the
//! same negotiation, the other earthquake) or on the same template (another company's dividend
//! notice, another week's auction). Their shared vocabulary (the company's name, "magnitude",
//! "qtly div") is rare in the collection, so IDF weighs it heavily, yet it is evidence of the
//! *subject*, not of the *story*. Among the neighbours it is common, and that is what this
//! stage measures: a feature held by a share `p` of a document's neighbours keeps `(1 − p)²` of
//! its weight. What a rewrite keeps of its story (the figures, the names of the people in it,
//! the quoted charge) is held by the story's other versions only, so it keeps most of its
//! weight, while subject and template words fade. A copy keeps its score: both sides lose the
//! same features.
//!
//! The share is smoothed by [`NEIGHBOUR_PRIOR`] pseudo-neighbours that hold nothing, so that
//! a document with one or two neighbours (a story told twice, with nothing else on its
//! subject) keeps most of what it shares with them.

use rayon::prelude::*;

use crate::features::Feature;
use crate::similarity::Positions;

/// Pseudo-neighbours that hold no feature: a document's share of neighbours holding a feature
/// is `count / (neighbours + NEIGHBOUR_PRIOR)`. With 10, a story told three times with nothing
/// else near it keeps at least `(1 − 2/12)²` = 69 % of its shared weight; a feature in every
/// one of 30 neighbours keeps 6 %.
pub const NEIGHBOUR_PRIOR: f64 = 10.0;

/// The weight kept by a feature held by `count` of `neighbours` neighbours.
pub fn kept(count: usize, neighbours: usize) -> f64 {
    let share = count as f64 / (neighbours as f64 + NEIGHBOUR_PRIOR);
    (1.0 - share).powi(2)
}

/// Each document's neighbours, in ascending order, from candidate pairs `(a, b)` of `n`
/// documents.
pub fn neighbours(n: usize, pairs: &[(u32, u32)]) -> Vec<Vec<u32>> {
    let mut out = vec![Vec::new(); n];
    for &(a, b) in pairs {
        out[a as usize].push(b);
        out[b as usize].push(a);
    }
    out.par_iter_mut().for_each(|list| {
        list.sort_unstable();
        list.dedup();
    });
    out
}

/// How many of `neighbours` (feature sets with distinct hashes) hold each of `features`:
/// each neighbour's hashes looked up among the document's ([`Positions`]), where a merge per
/// neighbour would walk the document's features again each time.
fn counts<'a>(features: &[Feature], neighbours: impl Iterator<Item = &'a [Feature]>) -> Vec<usize> {
    let mut counts = vec![0; features.len()];
    let positions = Positions::new(features);
    for other in neighbours {
        positions.for_each_shared(other, |at, _| counts[at] += 1);
    }
    counts
}

/// `features` reweighted against the feature sets of its neighbours (see the module
/// documentation); still sorted by hash.
pub fn contrasted<'a>(
    features: &[Feature],
    neighbours: impl ExactSizeIterator<Item = &'a [Feature]>,
) -> Vec<Feature> {
    let n = neighbours.len();
    let counts = counts(features, neighbours);
    features
        .iter()
        .zip(counts)
        .map(|(&(hash, weight), count)| (hash, weight * kept(count, n)))
        .collect()
}

/// Every document's features contrasted with its neighbours', in parallel.
pub fn contrast_all(features: &[Vec<Feature>], neighbours: &[Vec<u32>]) -> Vec<Vec<Feature>> {
    features
        .par_iter()
        .zip(neighbours)
        .map(|(own, near)| contrasted(own, near.iter().map(|&j| features[j as usize].as_slice())))
        .collect()
}

/// Each member of a group of mutual neighbours contrasted with all the others: what a check
/// against an index uses, where a draft's neighbours are the indexed documents LSH proposes
/// and each of those is taken to neighbour the draft and the others (its own neighbours in
/// the index are not looked up).
pub fn contrast_group(group: &[&[Feature]]) -> Vec<Vec<Feature>> {
    (0..group.len())
        .map(|i| {
            let others: Vec<&[Feature]> = (group.iter().enumerate())
                .filter(|&(j, _)| j != i)
                .map(|(_, f)| *f)
                .collect();
            contrasted(group[i], others.into_iter())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_common_among_neighbours_fade_and_specific_ones_stay() {
        // Feature 1 is in every neighbour (the subject), feature 2 in one (the story's other
        // version), feature 3 in none.
        let doc = vec![(1, 10.0), (2, 10.0), (3, 10.0)];
        let others = [
            vec![(1, 5.0), (2, 5.0)],
            vec![(1, 5.0)],
            vec![(1, 5.0), (9, 1.0)],
        ];
        let out = contrasted(&doc, others.iter().map(Vec::as_slice));
        assert_eq!(out[0], (1, 10.0 * kept(3, 3)));
        assert_eq!(out[1], (2, 10.0 * kept(1, 3)));
        assert_eq!(out[2], (3, 10.0));
        assert!(out[0].1 < out[1].1 && out[1].1 < out[2].1);
    }

    #[test]
    fn a_group_contrasts_each_member_with_the_others() {
        let members = [
            vec![(1, 1.0), (2, 1.0)],
            vec![(1, 1.0), (3, 1.0)],
            vec![(1, 1.0), (2, 1.0), (3, 1.0)],
        ];
        let group: Vec<&[Feature]> = members.iter().map(Vec::as_slice).collect();
        let out = contrast_group(&group);
        for (i, own) in members.iter().enumerate() {
            let others = (members.iter().enumerate())
                .filter(|&(j, _)| j != i)
                .map(|(_, f)| f.as_slice());
            assert_eq!(
                out[i],
                contrasted(own, others.collect::<Vec<_>>().into_iter())
            );
        }
        assert_eq!(out[0][0], (1, kept(2, 2)));
    }

    #[test]
    fn a_lone_document_keeps_its_weights() {
        let doc = vec![(1, 2.0), (5, 3.0)];
        assert_eq!(contrasted(&doc, std::iter::empty()), doc);
    }

    /// The merge against the obvious count.
    #[test]
    fn counts_match_a_direct_count() {
        let doc: Vec<Feature> = (0..50).map(|h| (h * 3, 1.0)).collect();
        let others: Vec<Vec<Feature>> = (1..6)
            .map(|k| (0..80).filter(|h| h % k == 0).map(|h| (h, 1.0)).collect())
            .collect();
        let fast = counts(&doc, others.iter().map(Vec::as_slice));
        for (i, &(hash, _)) in doc.iter().enumerate() {
            let slow = others
                .iter()
                .filter(|o| o.iter().any(|f| f.0 == hash))
                .count();
            assert_eq!(fast[i], slow, "feature {hash}");
        }
    }

    #[test]
    fn neighbours_are_symmetric_sorted_and_distinct() {
        let lists = neighbours(4, &[(0, 2), (2, 1), (0, 2), (3, 0)]);
        assert_eq!(lists, [vec![2, 3], vec![2], vec![0, 1], vec![0]]);
    }
}
