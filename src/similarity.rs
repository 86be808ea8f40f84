//! Similarity stage: Jaccard and containment, estimated from signatures or computed exactly
//! from the weighted feature sets, and the one judgement of a pair every runner makes
//! ([`similarity_of`]).

use crate::config::{Config, Measure, Weighting};
use crate::features::{Feature, RARE_WEIGHT, Slot};
use crate::signature::{EMPTY, Signature};

mod held;

pub(crate) use held::{Held, Positions};

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

/// The prior weight of evidence against a pair, in containment under IDF weighting: 60 times
/// [`crate::features::RARE_WEIGHT`], the weight of a term seen once (about 150 features of
/// a word in one document in 50). Containment divides by the smaller document, so a short
/// templated notice ("Qtly div 12 cts vs 12 cts prior, pay Nov 10, record Oct 27"), a
/// headline-only flash or a one-paragraph notice that names one firm a long article names too
/// scores high on a handful of shared words: too little evidence to call two documents one
/// story. The prior is added to the denominator in proportion to the part of the smaller
/// document the other does not hold, `|A ∩ B| / (m + prior · (1 − |A ∩ B| / m))` with `m` the
/// smaller size: a short document must share more of itself before it is a duplicate, a copy
/// still scores 1 however short, and articles, whose weighted sizes run to thousands, hardly
/// move. Weights are on a fixed scale ([`crate::features::DocFreq::scale`]), so the prior means
/// the same evidence in a batch of five and an index of millions. Measured on the labelled
/// sets (docs/quality.md): it widens the gap between Clough's heavy rewrites and
/// unrelated answers and halves the documents Reuters clusters. Unweighted features carry no
/// IDF scale to calibrate a prior in, so they get none ([`Calibration::of`]).
pub const CONTAINMENT_PRIOR: f64 = 600.0;

/// How containment weighs the evidence of a pair, from the configuration: its prior
/// ([`CONTAINMENT_PRIOR`]) and the weighted size below which two documents are statements.
///
/// Containment divides by the smaller document because, for articles, an excerpt or an
/// abridged copy is still a copy: what the longer one says beyond it does not count against
/// the pair. Between two statements (sentences, [`crate::features::is_statement`]) it does:
/// a sentence that adds a clause, a cause or a qualifier to another states something else.
/// So when even the larger document is statement-sized, the pair's share is
/// `s = |A ∩ B| / max(|A|, |B|)` (Braun-Blanquet: the smaller of the two containments), and
/// the prior judges it as it judges a document of the statement size, `s · S / (S + prior ·
/// (1 − s))`: every statement is one sentence of evidence, so the score rises with the share
/// alone (a ten-word and a twenty-word sentence that share as much of each other are as
/// alike), and two statements must share about a third of the larger one, as a
/// statement-sized document must, before they are the same story. A statement against an
/// article stays containment: a one-sentence summary is still the article's story.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Calibration {
    /// Weight of evidence against the pair, added to containment's denominator in
    /// proportion to the smaller document's unshared part ([`CONTAINMENT_PRIOR`]).
    pub prior: f64,
    /// `S`: pairs whose larger weighted size is below it are compared as statements. The
    /// most a statement's content stems weigh: `statement_words` terms at
    /// [`crate::features::RARE_WEIGHT`] each. 0 without statements.
    pub statement_size: f64,
}

impl Calibration {
    /// The calibration of a configuration; none without IDF weighting, whose fixed scale
    /// ([`crate::features::DocFreq::scale`]) gives amounts of weight their meaning.
    pub fn of(config: &Config) -> Calibration {
        match config.weighting {
            Weighting::Idf => Calibration {
                prior: CONTAINMENT_PRIOR,
                statement_size: config.statement_words as f64 * RARE_WEIGHT,
            },
            Weighting::None => Calibration::default(),
        }
    }
}

/// A measure from the weighted intersection, union and sizes of two sets: the one formula
/// that exact and estimated similarities share. Containment follows `calibration`.
pub fn score(
    measure: Measure,
    calibration: Calibration,
    intersection: f64,
    union: f64,
    size_a: f64,
    size_b: f64,
) -> f64 {
    let denominator = match measure {
        Measure::Jaccard => union,
        Measure::Containment => {
            let (smaller, larger) = (size_a.min(size_b), size_a.max(size_b));
            if larger < calibration.statement_size {
                // Two statements: see Calibration. s · S / (S + P (1 − s)) = I / D with
                // D = max · (1 + P (1 − s) / S).
                let share = intersection / larger;
                larger * (1.0 + calibration.prior * (1.0 - share) / calibration.statement_size)
            } else if smaller > 0.0 {
                // See CONTAINMENT_PRIOR.
                smaller + calibration.prior * (1.0 - (intersection / smaller).min(1.0))
            } else {
                0.0
            }
        }
        Measure::Cosine => (size_a * size_b).sqrt(),
    };
    if denominator > 0.0 {
        (intersection / denominator).min(1.0)
    } else {
        0.0
    }
}

/// The weighted intersection implied by a Jaccard similarity and the two sizes:
/// `|A ∩ B| = J (|A| + |B|) / (1 + J)`.
pub fn intersection_from_jaccard(jaccard: f64, size_a: f64, size_b: f64) -> f64 {
    jaccard * (size_a + size_b) / (1.0 + jaccard)
}

/// Containment from Jaccard and the two weighted sizes.
pub fn containment_from_jaccard(jaccard: f64, size_a: f64, size_b: f64) -> f64 {
    let intersection = intersection_from_jaccard(jaccard, size_a, size_b);
    score(
        Measure::Containment,
        Calibration::default(),
        intersection,
        size_a + size_b - intersection,
        size_a,
        size_b,
    )
}

/// The measure estimated from two signatures (the sizes are the signatures' weighted sizes),
/// containment calibrated by `calibration`.
pub fn estimate(a: &Signature, b: &Signature, measure: Measure, calibration: Calibration) -> f64 {
    let jaccard = estimate_jaccard(a, b);
    if measure == Measure::Jaccard {
        return jaccard;
    }
    let intersection = intersection_from_jaccard(jaccard, a.weight, b.weight);
    score(
        measure,
        calibration,
        intersection,
        a.weight + b.weight - intersection,
        a.weight,
        b.weight,
    )
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

/// Σ min of the weights two feature sets sorted by hash share, their weighted intersection,
/// summed in hash order as [`min_max`] sums it (so bit for bit the same): one merge that
/// stops at the end of either set and advances without a branch on the order of the hashes.
fn intersection(a: &[Feature], b: &[Feature]) -> f64 {
    let (mut i, mut j) = (0, 0);
    let mut min = 0.0;
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x.0 == y.0 {
            min += x.1.min(y.1);
        }
        i += usize::from(x.0 <= y.0);
        j += usize::from(y.0 <= x.0);
    }
    min
}

/// The weighted size of a feature set: the sum of its weights, in order.
pub fn weighted_size(features: &[Feature]) -> f64 {
    features.iter().map(|f| f.1).sum()
}

/// Exact weighted Jaccard, `Σ min / Σ max`, of two feature sets sorted by hash.
pub fn exact_jaccard(a: &[Feature], b: &[Feature]) -> f64 {
    exact(a, b, Measure::Jaccard, Calibration::default())
}

/// The exact measure of two feature sets sorted by hash, containment calibrated by
/// `calibration`.
pub fn exact(a: &[Feature], b: &[Feature], measure: Measure, calibration: Calibration) -> f64 {
    let (min, max) = min_max(a, b);
    score(
        measure,
        calibration,
        min,
        max,
        weighted_size(a),
        weighted_size(b),
    )
}

/// [`exact`] of a [`Held`] feature set and another of weighted size `size_b`, both sorted by
/// hash: the same value, for less when a caller judging many pairs computes each document's
/// [`weighted_size`] once and holds a document judged against many others. Containment and
/// cosine need no union, so they sum the shared weights only. Every measure is symmetric,
/// so either document of a pair may be the held one.
pub(crate) fn exact_sized(
    a: &Held<'_>,
    (b, size_b): (&[Feature], f64),
    measure: Measure,
    calibration: Calibration,
) -> f64 {
    match measure {
        Measure::Jaccard => exact(a.features(), b, measure, calibration),
        Measure::Containment | Measure::Cosine => {
            // The union is not used by these measures.
            score(
                measure,
                calibration,
                a.intersection(b),
                0.0,
                a.size(),
                size_b,
            )
        }
    }
}

/// How far two documents agree on their facts, in (0, 1]: over the context words both use
/// with a number, the numbers both give, plus one, over the numbers either gives, plus one.
/// A rewrite keeps its story's numbers ("23 prisoners", "20 men"); another event told with
/// the same words or the same template fills the same slots with other numbers ("sell 13.2
/// billion in bills" one week, "12.8 billion" the next). The added one keeps a single
/// disagreement (a corrected figure, "23" written another way) from sinking a pair; 1 when no
/// context is shared, so that texts without numbers are judged on their words alone.
pub fn fact_agreement(a: &[Slot], b: &[Slot]) -> f64 {
    let (mut agree, mut total) = (0usize, 0usize);
    for_each_shared_context(a, b, |sa, sb| {
        let shared = sa.iter().filter(|s| sb.binary_search(s).is_ok()).count();
        agree += shared;
        total += sa.len() + sb.len() - shared;
    });
    (agree + 1) as f64 / (total + 1) as f64
}

/// How far two documents agree on the quantities they both give, by what each counts
/// (the slot's context word): a context where they give a common number agrees; one where
/// each gives a single number and the numbers differ ("pardoned 23" / "pardoned 30")
/// disagrees; one where either gives several numbers (times of day, a table) says nothing.
/// `(agreeing + 1) / (agreeing + disagreeing + 1)`, in (0, 1]. Independent reports of one
/// event give many numbers the other does not ("the 33-year-old", "1:32 PM"); only a
/// flat contradiction is evidence of another event.
pub fn quantity_agreement(a: &[Slot], b: &[Slot]) -> f64 {
    let (mut agree, mut disagree) = (0usize, 0usize);
    for_each_shared_context(a, b, |sa, sb| {
        if sa.iter().any(|s| sb.binary_search(s).is_ok()) {
            agree += 1;
        } else if sa.len() == 1 && sb.len() == 1 {
            disagree += 1;
        }
    });
    (agree + 1) as f64 / (agree + disagree + 1) as f64
}

/// Calls `f` with the slots of `a` and of `b` for each context word both fill (slots sorted
/// by context, then number), in one merge.
fn for_each_shared_context(a: &[Slot], b: &[Slot], mut f: impl FnMut(&[Slot], &[Slot])) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (ca, cb) = (a[i].0, b[j].0);
        let na = a[i..].iter().take_while(|s| s.0 == ca).count();
        let nb = b[j..].iter().take_while(|s| s.0 == cb).count();
        if ca <= cb {
            i += na;
        }
        if cb <= ca {
            j += nb;
        }
        if ca == cb {
            f(&a[i - na..i], &b[j - nb..j]);
        }
    }
}

/// The factor fact agreement scales a similarity by: [`fact_agreement`] squared. Squared,
/// because a lower default threshold (see [`CONTAINMENT_PRIOR`]) must still keep apart the
/// recurring items one template tells with other numbers (this week's Treasury bill auction,
/// 12.8 billion dlrs on March 30, and last week's, 13.2 billion on March 23): with one shared
/// number in five they score a third of their word similarity unsquared, a ninth squared.
/// A single disagreement in many agreements still costs little (9 of 10 agree: 0.83).
pub fn fact_factor(a: &[Slot], b: &[Slot]) -> f64 {
    fact_agreement(a, b).powi(2)
}

/// What verifying a pair needs of each document: its features, signature and fact slots.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// Weighted features, sorted by hash.
    pub features: &'a [Feature],
    /// The signature.
    pub signature: &'a Signature,
    /// Fact slots (empty unless `config.fact_check`).
    pub slots: &'a [Slot],
}

/// The similarity of two documents under `config`, the one judgement every command makes
/// (batch, dedup, index, report): the configured measure, estimated from signatures or exact
/// from the features with `config.exact` (containment calibrated for the configuration,
/// [`Calibration`]), scaled by their fact agreement with `config.fact_check`
/// ([`fact_factor`]).
pub fn similarity_of(config: &Config, a: &Evidence<'_>, b: &Evidence<'_>) -> f64 {
    let calibration = Calibration::of(config);
    let words = if config.exact {
        exact(a.features, b.features, config.measure, calibration)
    } else {
        estimate(a.signature, b.signature, config.measure, calibration)
    };
    if config.fact_check {
        words * fact_factor(a.slots, b.slots)
    } else {
        words
    }
}

/// [`similarity_of`] under an exact `config` when it reaches `floor`, `None` when it does
/// not: the same value, for less. The fact agreement of their `slots` (in the pair's order)
/// is taken first, from a few slots: words measure at most 1, so a pair whose fact factor is
/// below the floor cannot reach it, and its words are not measured. Otherwise the words
/// are measured by [`exact_sized`] between a held document and another's features of
/// weighted size `size_b`, and scaled by the fact factor as [`similarity_of`] scales them.
pub(crate) fn exact_similarity_reaching(
    config: &Config,
    a: &Held<'_>,
    b: (&[Feature], f64),
    slots: (&[Slot], &[Slot]),
    floor: f64,
) -> Option<f64> {
    debug_assert!(config.exact);
    let facts = config.fact_check.then(|| fact_factor(slots.0, slots.1));
    if facts.is_some_and(|facts| facts < floor) {
        return None;
    }
    let words = exact_sized(a, b, config.measure, Calibration::of(config));
    if words < floor {
        return None;
    }
    let s = match facts {
        Some(facts) => words * facts,
        None => words,
    };
    (s >= floor).then_some(s)
}

/// The story score of two documents ([`crate::verdict`]): the configured measure over their
/// features contrasted with their neighbours' ([`crate::contrast`]), exact, scaled by their
/// fact agreement. `a.features` and `b.features` are the contrasted features.
pub fn story_of(config: &Config, a: &Evidence<'_>, b: &Evidence<'_>) -> f64 {
    let calibration = Calibration::of(config);
    let words = exact(a.features, b.features, config.measure, calibration);
    if config.fact_check {
        words * quantity_agreement(a.slots, b.slots)
    } else {
        words
    }
}

/// The configuration a pair is judged with from signatures alone (dedup, dist, the
/// signatures file): `config` with estimates, since the feature sets are not kept.
pub fn estimating(config: &Config) -> Config {
    config.with_policy(&config.policy().estimating())
}

/// The similarity of a pair from each document's signature and fact slots: the same
/// judgement as every command ([`similarity_of`]) under an [`estimating`] configuration.
pub fn estimated_similarity(
    config: &Config,
    a: (&Signature, &[Slot]),
    b: (&Signature, &[Slot]),
) -> f64 {
    similarity_of(
        config,
        &Evidence {
            features: &[],
            signature: a.0,
            slots: a.1,
        },
        &Evidence {
            features: &[],
            signature: b.0,
            slots: b.1,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Containment with a prior and no statements.
    fn prior(prior: f64) -> Calibration {
        Calibration {
            prior,
            statement_size: 0.0,
        }
    }

    #[test]
    fn exact_measures_on_a_small_example() {
        let a = [(1, 1.0), (2, 2.0), (3, 1.0)];
        let b = [(2, 1.0), (3, 1.0)];
        // min: 1 + 1 = 2; max: 1 + 2 + 1 = 4.
        assert_eq!(exact_jaccard(&a, &b), 0.5);
        assert_eq!(exact(&a, &b, Measure::Containment, prior(0.0)), 1.0);
        assert_eq!(exact(&a, &[], Measure::Jaccard, prior(0.0)), 0.0);
        assert_eq!(exact(&a, &[], Measure::Containment, prior(0.0)), 0.0);
        // sizes 4 and 2: 2 / sqrt(8).
        assert!((exact(&a, &b, Measure::Cosine, prior(0.0)) - 2.0 / 8f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn the_prior_asks_short_documents_for_more_shared_evidence() {
        // A (size 4) and C (size 2) share feature 3 (weight 1): containment 1/2 without a
        // prior; a prior of 2 on the unshared half adds 1: 1 / (2 + 1).
        let a = [(1, 1.0), (2, 2.0), (3, 1.0)];
        let c = [(3, 1.0), (4, 1.0)];
        assert_eq!(exact(&a, &c, Measure::Containment, prior(0.0)), 0.5);
        assert!((exact(&a, &c, Measure::Containment, prior(2.0)) - 1.0 / 3.0).abs() < 1e-12);
        // The same pair 200 times heavier hardly moves: 200 / (400 + 1).
        let heavy = |f: &[Feature]| f.iter().map(|&(h, w)| (h, 200.0 * w)).collect::<Vec<_>>();
        let long = exact(&heavy(&a), &heavy(&c), Measure::Containment, prior(2.0));
        assert!((long - 200.0 / 401.0).abs() < 1e-12);
        // A set wholly inside the other (a copy, an excerpt) keeps 1 however short.
        let b = [(2, 1.0), (3, 1.0)];
        assert_eq!(exact(&a, &b, Measure::Containment, prior(2.0)), 1.0);
        // Jaccard does not take it, and unweighted features get none.
        assert_eq!(exact(&a, &b, Measure::Jaccard, prior(2.0)), 0.5);
        let none = Config {
            weighting: Weighting::None,
            ..Config::default()
        };
        assert_eq!(Calibration::of(&none), Calibration::default());
        let idf = Calibration::of(&Config::default());
        assert_eq!(idf.prior, CONTAINMENT_PRIOR);
        assert_eq!(idf.statement_size, 200.0);
    }

    #[test]
    fn statements_count_what_either_adds_and_articles_do_not() {
        // B is A plus a clause (feature 4): as articles, B holds all of A (containment 1);
        // as statements, A is 3/4 of B.
        let a = [(1, 1.0), (2, 1.0), (3, 1.0)];
        let b = [(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)];
        let statements = |prior| Calibration {
            prior,
            statement_size: 10.0,
        };
        assert_eq!(exact(&a, &b, Measure::Containment, prior(0.0)), 1.0);
        assert_eq!(exact(&a, &b, Measure::Containment, statements(0.0)), 0.75);
        // With a prior of 4 on the statement size 10: 0.75 · 10 / (10 + 4 · 0.25).
        let judged = exact(&a, &b, Measure::Containment, statements(4.0));
        assert!((judged - 7.5 / 11.0).abs() < 1e-12);
        // The score follows the share alone: the same pair at half the weight scores the same.
        let half = |f: &[Feature]| f.iter().map(|&(h, w)| (h, 0.5 * w)).collect::<Vec<_>>();
        let light = exact(&half(&a), &half(&b), Measure::Containment, statements(4.0));
        assert!((light - judged).abs() < 1e-12);
        // Identical statements are copies; a statement against an article (larger than the
        // statement size) stays containment.
        assert_eq!(exact(&b, &b, Measure::Containment, statements(4.0)), 1.0);
        let article: Vec<Feature> = (1..=20).map(|h| (h, 1.0)).collect();
        assert_eq!(
            exact(&a, &article, Measure::Containment, statements(0.0)),
            1.0
        );
    }

    #[test]
    fn estimates_agree_with_exact_measures_when_signatures_agree_fully() {
        let sig = |weight| Signature {
            values: vec![7; 8],
            weight,
        };
        // Identical signatures: J = 1, so equal sizes give 1 for every measure.
        for measure in [Measure::Jaccard, Measure::Containment, Measure::Cosine] {
            assert!((estimate(&sig(3.0), &sig(3.0), measure, prior(0.0)) - 1.0).abs() < 1e-12);
        }
        // A prior leaves identical signatures at 1, as it leaves identical sets.
        let estimated = estimate(&sig(3.0), &sig(3.0), Measure::Containment, prior(5.0));
        assert!((estimated - 1.0).abs() < 1e-12);
    }

    #[test]
    fn facts_agree_when_shared_slots_hold_the_same_numbers() {
        // Slots (context, number): both say (prison, 23) and (men, 20).
        let a = [(1, 23), (2, 20), (3, 1987)];
        let b = [(1, 23), (2, 20), (4, 5)];
        assert_eq!(fact_agreement(&a, &b), 1.0);
        // Context 1 now holds another number: 1 agreement of 3 numbers, (1 + 1) / (3 + 1).
        let c = [(1, 30), (2, 20)];
        assert_eq!(fact_agreement(&a, &c), 2.0 / 4.0);
        // Nothing shared: no evidence either way.
        assert_eq!(fact_agreement(&a, &[(9, 9)]), 1.0);
        assert_eq!(fact_agreement(&[], &b), 1.0);
        // The factor squares the agreement.
        assert_eq!(fact_factor(&a, &c), 0.25);
        assert_eq!(fact_factor(&a, &b), 1.0);
    }

    #[test]
    fn quantities_disagree_only_where_each_gives_one_number() {
        // Context 1: one number each, different (23 / 30): a disagreement. Context 2: a
        // common number among several: an agreement. Context 3: several numbers against one,
        // none shared: no evidence. Context 9 is in one document only.
        let a = [(1, 23), (2, 20), (2, 21), (3, 5), (3, 6), (9, 1)];
        let b = [(1, 30), (2, 20), (3, 7)];
        assert_eq!(quantity_agreement(&a, &b), 2.0 / 3.0);
        assert_eq!(quantity_agreement(&a, &[]), 1.0);
        // The same slots through fact_agreement count every number: (1 + 1) / (7 + 1).
        assert_eq!(fact_agreement(&a, &b), 2.0 / 8.0);
    }

    /// A feature set of a few hundred features from `seed`, sorted by hash, with weights
    /// spread like IDF weights; documents from nearby seeds share many hashes.
    fn scattered_features(seed: u64, len: usize) -> Vec<Feature> {
        let mut state = seed;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 33
        };
        let mut out: Vec<Feature> = (0..len)
            .map(|_| (next() % 600, 1.0 + (next() % 1000) as f64 / 37.0))
            .collect();
        out.sort_by_key(|f| f.0);
        out.dedup_by_key(|f| f.0);
        out
    }

    /// The sized merge against the plain one, bit for bit, for every measure.
    #[test]
    fn exact_sized_is_exact_bit_for_bit() {
        let calibrations = [prior(0.0), Calibration::of(&Config::default())];
        for seed in 0..40 {
            let a = scattered_features(seed, 50 + 7 * seed as usize);
            let b = scattered_features(seed / 2 + 100, 300 - 5 * seed as usize);
            for measure in [Measure::Jaccard, Measure::Containment, Measure::Cosine] {
                for calibration in calibrations {
                    let plain = exact(&a, &b, measure, calibration);
                    let b = (&b[..], weighted_size(&b));
                    for held in [
                        Held::merged(&a, weighted_size(&a)),
                        Held::indexed(&a, weighted_size(&a)),
                    ] {
                        let sized = exact_sized(&held, b, measure, calibration);
                        assert_eq!(plain.to_bits(), sized.to_bits(), "{seed} {measure:?}");
                    }
                }
            }
        }
    }

    /// The judgement with a floor against the plain one: the same value when it reaches the
    /// floor, `None` when it does not.
    #[test]
    fn exact_similarity_reaching_agrees_with_similarity_of() {
        let config = Config::default();
        let signature = Signature {
            values: vec![1; 4],
            weight: 1.0,
        };
        let slots_a = [(1, 23), (2, 20), (3, 1987)];
        let slots_b = [(1, 30), (2, 20)];
        // No number in common: a fact factor of 1/49, below the default threshold.
        let slots_c = [(1, 31), (2, 21), (3, 5)];
        let mut reached = 0;
        for seed in 0..60 {
            let a = scattered_features(seed, 200);
            let b = scattered_features(seed + 1, 40 + 4 * seed as usize);
            let slot_pairs = [
                (&slots_a[..], &slots_b[..]),
                (&slots_a[..], &slots_a[..]),
                (&slots_a[..], &slots_c[..]),
            ];
            for (sa, sb) in slot_pairs {
                let evidence = |features, slots| Evidence {
                    features,
                    signature: &signature,
                    slots,
                };
                let (ea, eb) = (evidence(&a[..], sa), evidence(&b[..], sb));
                let plain = similarity_of(&config, &ea, &eb);
                for floor in [0.0, config.threshold, plain, 0.6] {
                    // Either document may be the held one.
                    for (held, other) in [(&a, &b), (&b, &a)] {
                        let fast = exact_similarity_reaching(
                            &config,
                            &Held::indexed(held, weighted_size(held)),
                            (other, weighted_size(other)),
                            (sa, sb),
                            floor,
                        );
                        assert_eq!(fast, (plain >= floor).then_some(plain), "{seed} {floor}");
                        reached += usize::from(fast.is_some() && floor > 0.0);
                    }
                }
            }
        }
        assert!(reached > 60, "{reached}");
    }

    #[test]
    fn containment_follows_from_jaccard_and_sizes() {
        // A of size 4 holds B of size 2 entirely: J = 2 / 4.
        assert!((containment_from_jaccard(0.5, 4.0, 2.0) - 1.0).abs() < 1e-12);
        assert_eq!(containment_from_jaccard(0.0, 4.0, 2.0), 0.0);
        assert_eq!(containment_from_jaccard(0.5, 0.0, 2.0), 0.0);
    }
}
