use super::*;
use crate::config::Features;
use crate::tokenize::{Analyzer, Term};

fn feats(text: &str, spec: &str, weighting: Weighting, freq: &DocFreq) -> Vec<Feature> {
    let config = Config {
        features: spec.parse::<Features>().unwrap(),
        weighting,
        ..Config::default()
    };
    let terms = Analyzer::new(config.language).terms(text);
    features(text, &terms, &config, freq)
}

#[test]
fn feature_hashes_are_frozen() {
    // A change here breaks every stored fingerprint: bump the index format version.
    let text = "Lukashenko pardoned 23 prisoners, \"political opponents\" of his regime";
    let spec = "stems:1,stems:2,pairs:2,words:2,chars:4,facts";
    let hashes: Vec<u64> = feats(text, spec, Weighting::None, &DocFreq::default())
        .into_iter()
        .map(|f| f.0)
        .collect();
    // Every hash, as a count and a sum.
    let sum = hashes.iter().fold(0u64, |sum, &h| sum.wrapping_add(h));
    assert_eq!((hashes.len(), sum), FROZEN_FEATURES);
}

const FROZEN_FEATURES: (usize, u64) = (99, 14972796112885131024);

/// Every feature family at once, for the oracle tests.
pub(crate) fn every_family(idf: bool, statement_words: usize) -> Config {
    Config {
        features: "stems:1,stems:2,pairs:2*0.5,words:3,chars:4*0.3,facts*2"
            .parse::<Features>()
            .unwrap(),
        weighting: if idf { Weighting::Idf } else { Weighting::None },
        statement_words,
        ..Config::default()
    }
}

/// How many features of `b` are also in `a`.
fn shared(a: &[Feature], b: &[Feature]) -> usize {
    b.iter().filter(|f| a.iter().any(|g| g.0 == f.0)).count()
}

#[test]
fn stem_shingles_ignore_inflection_and_stop_words() {
    let none = DocFreq::default();
    let a = feats(
        "The prisoners were pardoned",
        "stems:2",
        Weighting::None,
        &none,
    );
    let b = feats("prisoner pardons", "stems:2", Weighting::None, &none);
    assert_eq!(a.len(), 1);
    assert_eq!(a, b);
}

#[test]
fn short_texts_still_get_one_shingle() {
    let f = feats("pardon", "stems:5", Weighting::None, &DocFreq::default());
    assert_eq!(f.len(), 1);
}

#[test]
fn facts_pair_numbers_with_their_words_and_keep_quotes() {
    let none = DocFreq::default();
    let a = feats(
        "three women and 20 men, \"crimes of an extremist orientation\"",
        "facts",
        Weighting::None,
        &none,
    );
    let b = feats("3 women; 20 men", "facts", Weighting::None, &none);
    // 3-women, 20-women, 20-men, and the quote; the rewrite shares 3-women and 20-men.
    assert_eq!(a.len(), 4);
    assert_eq!(shared(&a, &b), 3);
}

#[test]
fn stem_pairs_survive_reordering() {
    let none = DocFreq::default();
    let a = feats(
        "Lukashenko pardoned 23 prisoners",
        "pairs:2",
        Weighting::None,
        &none,
    );
    let b = feats(
        "23 prisoners pardoned by Lukashenko",
        "pairs:2",
        Weighting::None,
        &none,
    );
    // Windows of 2 over 4 content words: 3 + 2 pairs each.
    assert_eq!((a.len(), b.len()), (5, 5));
    let shared = shared(&a, &b);
    // {pardon,23} {pardon,prison} {23,prison} {lukashenko,pardon}; only
    // {lukashenko,23} / {prison,lukashenko} are too far apart in one of them.
    assert_eq!(shared, 4);
}

proptest::proptest! {
    /// Oracle: open features weighted later give exactly the features weighted at once,
    /// for every family, both weightings, and frequencies that know some terms.
    #[test]
    fn feature_terms_weighted_equal_features(
        text in "[a-zA-Z0-9 .,\"\n-]{0,160}",
        idf in proptest::bool::ANY, known in 0usize..6, docs in 1u64..50,
        statement_words in 0usize..30,
    ) {
        let config = every_family(idf, statement_words);
        let terms = Analyzer::new(config.language).terms(&text);
        let mut freq = DocFreq { docs, ..DocFreq::default() };
        for (i, term) in terms.iter().take(known).enumerate() {
            freq.counts.insert(term_key(term.stem()), i as u64 % docs);
        }
        let open = FeatureTerms::new(&text, &terms, &config);
        proptest::prop_assert_eq!(
            open.weighted(config.weighting, &freq),
            features(&text, &terms, &config, &freq)
        );
    }
}

#[test]
fn a_statement_is_its_words_and_meets_an_articles_stems() {
    let analyzer = Analyzer::new(crate::config::Language::English);
    let text = "The minister was not pardoned by the court.";
    let terms = analyzer.terms(text);
    let mut freq = DocFreq::default();
    freq.add(&terms);
    freq.add(&analyzer.terms("The court met."));
    let config = Config::default();
    assert!(is_statement(&terms, &config));
    let f = features(text, &terms, &config, &freq);
    // Each distinct word once ("the" twice in the text): no bigrams, no facts.
    let mut stems: Vec<&str> = terms.iter().map(|t| t.stem()).collect();
    stems.sort_unstable();
    stems.dedup();
    assert_eq!(f.len(), stems.len());
    // Stop words weigh the floor of IDF (1, on the fixed scale); content words their IDF.
    let stop: Vec<&Term> = terms.iter().filter(|t| t.stop()).collect();
    assert!(stop.iter().any(|t| t.stem() == "not"));
    let floor = f.iter().filter(|x| x.1 == freq.scale()).count();
    assert!(floor >= stop.len() - 1, "{f:?}");
    // Its content stems are the `stems:1` features of the same words in an article.
    let article = Config {
        statement_words: 0,
        ..Config::default()
    };
    assert!(!is_statement(&terms, &article));
    let unigrams = Config {
        features: "stems:1".parse::<Features>().unwrap(),
        ..article
    };
    let g = features(text, &terms, &unigrams, &freq);
    assert_eq!(shared(&f, &g), g.len());
    // Unweighted features make no statements: the families stay.
    let none = Config {
        weighting: Weighting::None,
        ..Config::default()
    };
    assert!(!is_statement(&terms, &none));
}

#[test]
fn families_never_collide() {
    let none = DocFreq::default();
    let a = feats("pardon", "stems:1", Weighting::None, &none);
    let b = feats("pardon", "words:1", Weighting::None, &none);
    assert_ne!(a[0].0, b[0].0);
}

#[test]
fn idf_weights_rare_terms_higher() {
    let analyzer = Analyzer::new(crate::config::Language::English);
    let mut freq = DocFreq::default();
    for text in ["Belarus pardons", "Belarus election", "Belarus protests"] {
        freq.add(&analyzer.terms(text));
    }
    let f = feats("Belarus pardons", "stems:1", Weighting::Idf, &freq);
    let belarus = freq.idf(term_key("belarus"));
    let pardon = freq.idf(term_key("pardon"));
    assert!(pardon > belarus && belarus > 0.0);
    let mut weights: Vec<f64> = f.iter().map(|f| f.1).collect();
    weights.sort_by(f64::total_cmp);
    let scale = freq.scale();
    assert_eq!(weights, [scale * belarus, scale * pardon]);
    // "pardon" is in one document of three: on the fixed scale it weighs RARE_WEIGHT.
    assert!((scale * pardon - RARE_WEIGHT).abs() < 1e-12);
}
