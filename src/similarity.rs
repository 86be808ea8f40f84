//! Similarity stage: Jaccard and containment, estimated from signatures or computed exactly
//! from the weighted feature sets.

use crate::config::Measure;
use crate::shingle::Feature;
use crate::signature::{EMPTY, Signature};

/// Estimated weighted Jaccard: the share of bins on which the two signatures agree.
pub fn estimate_jaccard(a: &Signature, b: &Signature) -> f64 {
    if a.values.is_empty() || a.values[0] == EMPTY || b.values[0] == EMPTY {
        return 0.0;
    }
    let equal = a
        .values
        .iter()
        .zip(&b.values)
        .filter(|(x, y)| x == y)
        .count();
    equal as f64 / a.values.len() as f64
}

/// Containment from Jaccard and the two weighted sizes:
/// `|A ∩ B| = J (|A| + |B|) / (1 + J)`, divided by the smaller size.
pub fn containment_from_jaccard(jaccard: f64, size_a: f64, size_b: f64) -> f64 {
    let smaller = size_a.min(size_b);
    if smaller <= 0.0 {
        return 0.0;
    }
    let intersection = jaccard * (size_a + size_b) / (1.0 + jaccard);
    (intersection / smaller).min(1.0)
}

/// The measure estimated from two signatures.
pub fn estimate(a: &Signature, b: &Signature, measure: Measure) -> f64 {
    let jaccard = estimate_jaccard(a, b);
    match measure {
        Measure::Jaccard => jaccard,
        Measure::Containment => containment_from_jaccard(jaccard, a.weight, b.weight),
    }
}

/// Sum of min and sum of max weights over two feature sets sorted by hash.
fn min_max(a: &[Feature], b: &[Feature]) -> (f64, f64) {
    let (mut i, mut j) = (0, 0);
    let (mut min, mut max) = (0.0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                max += a[i].1;
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                max += b[j].1;
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                min += a[i].1.min(b[j].1);
                max += a[i].1.max(b[j].1);
                i += 1;
                j += 1;
            }
        }
    }
    max += a[i..].iter().map(|f| f.1).sum::<f64>() + b[j..].iter().map(|f| f.1).sum::<f64>();
    (min, max)
}

/// Exact weighted Jaccard, `Σ min / Σ max`, of two feature sets sorted by hash.
pub fn exact_jaccard(a: &[Feature], b: &[Feature]) -> f64 {
    let (min, max) = min_max(a, b);
    if max > 0.0 { min / max } else { 0.0 }
}

/// The exact measure of two feature sets sorted by hash.
pub fn exact(a: &[Feature], b: &[Feature], measure: Measure) -> f64 {
    match measure {
        Measure::Jaccard => exact_jaccard(a, b),
        Measure::Containment => {
            let (min, _) = min_max(a, b);
            let size_a: f64 = a.iter().map(|f| f.1).sum();
            let size_b: f64 = b.iter().map(|f| f.1).sum();
            let smaller = size_a.min(size_b);
            if smaller > 0.0 {
                (min / smaller).min(1.0)
            } else {
                0.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_measures_on_a_small_example() {
        let a = [(1, 1.0), (2, 2.0), (3, 1.0)];
        let b = [(2, 1.0), (3, 1.0)];
        // min: 1 + 1 = 2; max: 1 + 2 + 1 = 4.
        assert_eq!(exact_jaccard(&a, &b), 0.5);
        assert_eq!(exact(&a, &b, Measure::Containment), 1.0);
        assert_eq!(exact(&a, &[], Measure::Jaccard), 0.0);
        assert_eq!(exact(&a, &[], Measure::Containment), 0.0);
    }

    #[test]
    fn containment_follows_from_jaccard_and_sizes() {
        // A of size 4 holds B of size 2 entirely: J = 2 / 4.
        assert!((containment_from_jaccard(0.5, 4.0, 2.0) - 1.0).abs() < 1e-12);
        assert_eq!(containment_from_jaccard(0.0, 4.0, 2.0), 0.0);
        assert_eq!(containment_from_jaccard(0.5, 0.0, 2.0), 0.0);
    }
}
