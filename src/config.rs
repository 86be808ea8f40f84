//! The engine's validated configuration: what the CLI (or any caller) hands the pipeline.
//!
//! The CLI parses flags into this plain struct; the engine never sees `clap`. It holds two
//! kinds of settings, each with its view:
//! - what is frozen with a signature ([`crate::signature::SignatureParams`]): features,
//!   weighting, language, stop words, page chrome, statement words, K and seed. They decide
//!   which features a text has and how they are hashed, so signatures made with others are
//!   not comparable: an index or a signatures file stores them, and an index refuses to be
//!   used with others ([`crate::signature::SignatureParams::check_compatible`]);
//! - the match policy ([`Config::policy`]): measure, threshold, level, exact verification
//!   and fact check. It judges pairs of signatures, so it may change over the same ones (a
//!   `check --threshold`, `eval`'s sweep); the LSH banding is derived from it
//!   ([`crate::lsh::Banding::for_policy`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::verdict::Level;

/// One family of features (shingles) extracted from a document.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Family {
    /// n-grams of stems, stop words removed: robust to inflection and to function-word edits.
    Stems {
        /// Words per shingle.
        n: usize,
    },
    /// Unordered pairs of stems at most `w` content words apart, stop words removed: local
    /// phrasing that survives the reordering a rewrite does ("pardoned 23 prisoners" and "23
    /// prisoners were pardoned" share all three pairs; their bigrams share one).
    Pairs {
        /// Window: the largest distance, in content words, between the two stems.
        w: usize,
    },
    /// n-grams of raw (lower-cased, unstemmed) words with stop words kept: the classic
    /// copy-detection shingle (datasketch, text-dedup use n = 5).
    Words {
        /// Words per shingle.
        n: usize,
    },
    /// Character n-grams of the normalized text (spaces folded).
    Chars {
        /// Characters per shingle.
        n: usize,
    },
    /// News facts: each number paired with the content word after it and before it
    /// ("23 prison", "20 men"), and quoted phrases. Facts survive rewriting.
    Facts,
}

impl Family {
    /// Whether this family's features are built from stems and so can be IDF-weighted.
    pub fn is_term_based(&self) -> bool {
        !matches!(self, Family::Chars { .. })
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Family::Stems { n } => write!(f, "stems:{n}"),
            Family::Pairs { w } => write!(f, "pairs:{w}"),
            Family::Words { n } => write!(f, "words:{n}"),
            Family::Chars { n } => write!(f, "chars:{n}"),
            Family::Facts => write!(f, "facts"),
        }
    }
}

/// A family with its multiplier in the feature weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// The family.
    pub family: Family,
    /// Multiplier applied to every feature weight of this family.
    pub weight: f64,
}

/// A list of families, written `stems:1,stems:2,facts*2` on the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features(pub Vec<FeatureSpec>);

/// The largest `n` (or `w`) of a feature family: the longest shingle.
pub const LONGEST_SHINGLE: usize = 16;

/// The largest family weight: a feature is hashed once per unit of weight (per quarter,
/// unweighted), so a far larger multiplier would cost time for nothing a smaller one does not
/// already say.
pub const MAX_FAMILY_WEIGHT: f64 = 100.0;

impl FromStr for Features {
    type Err = Error;

    fn from_str(spec: &str) -> Result<Self> {
        let mut out = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = match part.split_once('*') {
                Some((name, w)) => {
                    let weight: f64 = w.parse().map_err(|_| {
                        Error::Config(format!("feature weight {w:?} in {part:?} is not a number"))
                    })?;
                    if !(weight > 0.0 && weight <= MAX_FAMILY_WEIGHT) {
                        return Err(Error::Config(format!(
                            "feature weight in {part:?} must be positive and at most \
                             {MAX_FAMILY_WEIGHT}"
                        )));
                    }
                    (name, weight)
                }
                None => (part, 1.0),
            };
            let (kind, n) = match name.split_once(':') {
                Some((kind, n)) => {
                    let n: usize = n.parse().map_err(|_| {
                        Error::Config(format!("{part:?}: {n:?} is not a whole number"))
                    })?;
                    if !(1..=LONGEST_SHINGLE).contains(&n) {
                        return Err(Error::Config(format!(
                            "{part:?}: n must be 1 to {LONGEST_SHINGLE}"
                        )));
                    }
                    (kind, Some(n))
                }
                None => (name, None),
            };
            let family = match (kind, n) {
                ("stems", Some(n)) => Family::Stems { n },
                ("pairs", Some(w)) => Family::Pairs { w },
                ("words", Some(n)) => Family::Words { n },
                ("chars", Some(n)) => Family::Chars { n },
                ("facts", None) => Family::Facts,
                _ => {
                    return Err(Error::Config(format!(
                        "unknown feature family {part:?}: use stems:N, pairs:W, words:N, chars:N or facts, \
                         each optionally *WEIGHT"
                    )));
                }
            };
            out.push(FeatureSpec { family, weight });
        }
        if out.is_empty() {
            return Err(Error::Config("no feature family given".into()));
        }
        Ok(Features(out))
    }
}

impl fmt::Display for Features {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, spec) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", spec.family)?;
            if spec.weight != 1.0 {
                write!(f, "*{}", spec.weight)?;
            }
        }
        Ok(())
    }
}

/// How features are weighted before hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weighting {
    /// Every feature weighs 1: plain (unweighted) Jaccard.
    None,
    /// Inverse document frequency of the feature's stems, from the batch (or the index):
    /// topic words shared by every article on a subject weigh little, an event's facts a lot.
    Idf,
}

/// Which similarity is reported and thresholded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Measure {
    /// |A ∩ B| / |A ∪ B| (weighted when features are weighted).
    Jaccard,
    /// |A ∩ B| / (min(|A|, |B|) + prior): an abridged copy or an excerpt scores high too, while
    /// a short document must share more than a few template words
    /// ([`crate::similarity::CONTAINMENT_PRIOR`]).
    Containment,
    /// |A ∩ B| / sqrt(|A| |B|) (Ochiai, the cosine of set vectors): between the two, it forgives
    /// a difference in length less than containment does and more than Jaccard does.
    Cosine,
}

/// The stemming language (every algorithm rust-stemmers ships).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Language {
    Arabic,
    Danish,
    Dutch,
    English,
    Finnish,
    French,
    German,
    Greek,
    Hungarian,
    Italian,
    Norwegian,
    Portuguese,
    Romanian,
    Russian,
    Spanish,
    Swedish,
    Tamil,
    Turkish,
}

impl Language {
    /// Every language, for `--help` and validation.
    pub const ALL: [Language; 18] = [
        Language::Arabic,
        Language::Danish,
        Language::Dutch,
        Language::English,
        Language::Finnish,
        Language::French,
        Language::German,
        Language::Greek,
        Language::Hungarian,
        Language::Italian,
        Language::Norwegian,
        Language::Portuguese,
        Language::Romanian,
        Language::Russian,
        Language::Spanish,
        Language::Swedish,
        Language::Tamil,
        Language::Turkish,
    ];

    /// The lower-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Language::Arabic => "arabic",
            Language::Danish => "danish",
            Language::Dutch => "dutch",
            Language::English => "english",
            Language::Finnish => "finnish",
            Language::French => "french",
            Language::German => "german",
            Language::Greek => "greek",
            Language::Hungarian => "hungarian",
            Language::Italian => "italian",
            Language::Norwegian => "norwegian",
            Language::Portuguese => "portuguese",
            Language::Romanian => "romanian",
            Language::Russian => "russian",
            Language::Spanish => "spanish",
            Language::Swedish => "swedish",
            Language::Tamil => "tamil",
            Language::Turkish => "turkish",
        }
    }
}

impl FromStr for Language {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let lower = s.to_ascii_lowercase();
        Language::ALL
            .into_iter()
            .find(|l| l.name() == lower)
            .ok_or_else(|| {
                let names: Vec<_> = Language::ALL.iter().map(|l| l.name()).collect();
                Error::Config(format!(
                    "unknown language {s:?}; one of: {}",
                    names.join(", ")
                ))
            })
    }
}

/// The default [`Config::statement_words`]: fewer than 20 content words (stop words aside) is
/// one sentence, up to about 35 words; a paragraph that tells a story has more.
pub const STATEMENT_WORDS: usize = 20;

/// The whole engine configuration. `Config::default()` is storyprint's tuned default;
/// `Config::classic()` is what the peer tools ship.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Feature families and their multipliers.
    pub features: Features,
    /// Feature weighting.
    pub weighting: Weighting,
    /// Number of MinHash values per signature (K).
    pub num_hashes: usize,
    /// The reported and thresholded similarity.
    pub measure: Measure,
    /// Pairs at or above this similarity are related ([`crate::verdict`]); the story score
    /// decides rewrite and copy.
    pub threshold: f64,
    /// Verify and report exact (weighted) similarities from the feature sets: signatures and
    /// LSH only propose candidates. At the low similarities where rewrites live, a K-value
    /// estimate is too noisy (σ ≈ 0.05 for containment near 0.2 with K = 256) to separate a
    /// rewrite from another story on the same topic. `false`: estimates from signatures alone
    /// (what a persistent index or a streaming dedup keeps).
    pub exact: bool,
    /// Stemming language (and stop-word list).
    pub language: Language,
    /// Remove stop words before building stem shingles.
    pub stop_words: bool,
    /// Scale each verified similarity by the documents' fact agreement
    /// ([`crate::similarity::fact_factor`]): stories that put other numbers in the same
    /// places ("pardoned 30" / "pardoned 23", this week's auction / last week's) are other
    /// events, however alike their words.
    pub fact_check: bool,
    /// Drop page chrome ("Share.", link lists, short navigation lines) before tokenizing.
    pub strip_chrome: bool,
    /// Under IDF weighting, a document with fewer content words than this is a *statement*
    /// (a sentence or two): its features are its words, stop words included, instead of the
    /// families, and two statements are compared as statements
    /// ([`crate::features::is_statement`], [`crate::similarity::Calibration`]). 0 turns it
    /// off; configurations stored before it existed read as 0.
    #[serde(default)]
    pub statement_words: usize,
    /// Seed of every hash; signatures with different seeds are incompatible.
    pub seed: u64,
    /// The lowest level that counts as a match ([`crate::verdict`]).
    #[serde(default = "default_level")]
    pub level: Level,
}

fn default_level() -> Level {
    Level::Rewrite
}

impl Default for Config {
    fn default() -> Self {
        Config {
            features: Features(vec![
                FeatureSpec {
                    family: Family::Stems { n: 1 },
                    weight: 1.0,
                },
                FeatureSpec {
                    family: Family::Stems { n: 2 },
                    weight: 1.0,
                },
                FeatureSpec {
                    family: Family::Facts,
                    weight: 2.0,
                },
            ]),
            weighting: Weighting::Idf,
            num_hashes: 256,
            measure: Measure::Containment,
            threshold: 0.134,
            exact: true,
            language: Language::English,
            stop_words: true,
            fact_check: true,
            strip_chrome: true,
            statement_words: STATEMENT_WORDS,
            seed: 0x5707_0919_2024_0001,
            level: default_level(),
        }
    }
}

impl Config {
    /// The configuration the peer tools ship (datasketch, rensa, gaoya, text-dedup): raw word
    /// 5-gram shingles, 128 unweighted hashes, Jaccard.
    pub fn classic() -> Self {
        Config {
            features: Features(vec![FeatureSpec {
                family: Family::Words { n: 5 },
                weight: 1.0,
            }]),
            weighting: Weighting::None,
            num_hashes: 128,
            measure: Measure::Jaccard,
            threshold: 0.7,
            exact: false,
            fact_check: false,
            strip_chrome: false,
            statement_words: 0,
            // The peers answer one question, "over the threshold or not": pairs at or above
            // it are matches, whatever their level.
            level: Level::Related,
            ..Config::default()
        }
    }

    /// Checks ranges; every entry point calls this before running.
    pub fn validate(&self) -> Result<()> {
        if !(1..=4096).contains(&self.num_hashes) {
            return Err(Error::Config(format!(
                "the number of hashes must be 1 to 4096, not {}",
                self.num_hashes
            )));
        }
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return Err(Error::Config(format!(
                "the threshold must be in (0, 1], not {}",
                self.threshold
            )));
        }
        if self.features.0.is_empty() {
            return Err(Error::Config("no feature family given".into()));
        }
        Ok(())
    }

    /// The match policy: how pairs of signatures are judged (see the module docs).
    pub fn policy(&self) -> Policy {
        Policy {
            measure: self.measure,
            threshold: self.threshold,
            level: self.level,
            exact: self.exact,
            fact_check: self.fact_check,
        }
    }

    /// This configuration judging pairs by `policy` instead of its own: the same signatures.
    pub fn with_policy(&self, policy: &Policy) -> Config {
        Config {
            measure: policy.measure,
            threshold: policy.threshold,
            level: policy.level,
            exact: policy.exact,
            fact_check: policy.fact_check,
            ..self.clone()
        }
    }
}

/// How pairs of signatures are judged: the part of a [`Config`] that is not frozen with a
/// signature (see the module docs). Each field is the [`Config`] field of the same name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// The reported and thresholded similarity.
    pub measure: Measure,
    /// The similarity at or above which a pair is related.
    pub threshold: f64,
    /// The lowest level that counts as a match.
    pub level: Level,
    /// Verify from the feature sets rather than estimate from signatures.
    pub exact: bool,
    /// Scale similarities by the documents' fact agreement.
    pub fact_check: bool,
}

impl Policy {
    /// This policy judging from signatures alone (dedup, dist, the signatures file): they keep
    /// no feature sets to verify exactly.
    pub fn estimating(self) -> Policy {
        Policy {
            exact: false,
            ..self
        }
    }
}

/// A named starting configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Preset {
    /// storyprint's defaults ([`Config::default`]).
    #[default]
    Default,
    /// What the peer tools ship ([`Config::classic`]).
    Classic,
}

/// Parses a setting's value by its lower-case name among `names`, or says what the names are.
fn by_name<T: Copy>(what: &str, s: &str, names: &[(&str, T)]) -> Result<T> {
    names
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|&(_, value)| value)
        .ok_or_else(|| {
            let all: Vec<&str> = names.iter().map(|(name, _)| *name).collect();
            Error::Config(format!("unknown {what} {s:?}; one of: {}", all.join(", ")))
        })
}

impl FromStr for Preset {
    type Err = Error;

    fn from_str(s: &str) -> Result<Preset> {
        by_name(
            "preset",
            s,
            &[("default", Preset::Default), ("classic", Preset::Classic)],
        )
    }
}

impl FromStr for Weighting {
    type Err = Error;

    fn from_str(s: &str) -> Result<Weighting> {
        by_name(
            "weighting",
            s,
            &[("none", Weighting::None), ("idf", Weighting::Idf)],
        )
    }
}

impl FromStr for Measure {
    type Err = Error;

    fn from_str(s: &str) -> Result<Measure> {
        by_name(
            "measure",
            s,
            &[
                ("jaccard", Measure::Jaccard),
                ("containment", Measure::Containment),
                ("cosine", Measure::Cosine),
            ],
        )
    }
}

/// Engine settings as a user names them (the command's flags, the Python package's keyword
/// arguments): a preset, then overrides of it. [`Overrides::config`] makes the validated
/// configuration, so that every front end turns the same settings into the same [`Config`].
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// The starting configuration.
    pub preset: Preset,
    /// Feature families.
    pub features: Option<Features>,
    /// Feature weighting.
    pub weighting: Option<Weighting>,
    /// MinHash values per signature (K).
    pub hashes: Option<usize>,
    /// Similarity measure.
    pub measure: Option<Measure>,
    /// Similarity threshold.
    pub threshold: Option<f64>,
    /// The lowest level that counts as a match.
    pub level: Option<Level>,
    /// Exact verification (`Some(true)`), estimates (`Some(false)`), or the preset's.
    pub exact: Option<bool>,
    /// Stemming language.
    pub language: Option<Language>,
    /// Keep stop words in stem shingles.
    pub keep_stop_words: bool,
    /// Judge pairs without the fact check.
    pub no_fact_check: bool,
    /// Keep page chrome.
    pub keep_chrome: bool,
    /// Content words below which a document is a statement.
    pub statement_words: Option<usize>,
    /// Hash seed.
    pub seed: Option<u64>,
}

impl Overrides {
    /// [`Overrides::config`] at `level` unless a level is given or the preset is not the
    /// default: what a command whose default level is not the engine's uses (`dedup`, at
    /// [`crate::dedup::DEFAULT_LEVEL`]).
    pub fn config_at(&self, level: Level) -> Result<Config> {
        let mut config = self.config()?;
        if self.level.is_none() && self.preset == Preset::Default {
            config.level = level;
        }
        Ok(config)
    }

    /// The preset with the overrides applied, validated.
    pub fn config(&self) -> Result<Config> {
        let mut config = match self.preset {
            Preset::Default => Config::default(),
            Preset::Classic => Config::classic(),
        };
        if let Some(features) = &self.features {
            config.features = features.clone();
        }
        if let Some(weighting) = self.weighting {
            config.weighting = weighting;
        }
        if let Some(k) = self.hashes {
            config.num_hashes = k;
        }
        if let Some(measure) = self.measure {
            config.measure = measure;
        }
        if let Some(t) = self.threshold {
            config.threshold = t;
        }
        if let Some(level) = self.level {
            config.level = level;
        }
        if let Some(exact) = self.exact {
            config.exact = exact;
        }
        if let Some(language) = self.language {
            config.language = language;
        }
        if let Some(n) = self.statement_words {
            config.statement_words = n;
        }
        if let Some(seed) = self.seed {
            config.seed = seed;
        }
        config.stop_words &= !self.keep_stop_words;
        config.strip_chrome &= !self.keep_chrome;
        config.fact_check &= !self.no_fact_check;
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_round_trip_through_their_spec() {
        let f: Features = "stems:1,stems:2*0.5,pairs:3,facts*2,chars:5,words:5"
            .parse()
            .unwrap();
        assert_eq!(f.0.len(), 6);
        assert_eq!(
            f.to_string(),
            "stems:1,stems:2*0.5,pairs:3,facts*2,chars:5,words:5"
        );
        assert_eq!(f.to_string().parse::<Features>().unwrap(), f);
    }

    #[test]
    fn bad_feature_specs_are_refused_with_a_reason() {
        for bad in [
            "",
            "stems",
            "stems:0",
            "stems:x",
            "facts:2",
            "grams:3",
            "stems:1*-1",
            "stems:1*NaN",
            "stems:1*1e30",
        ] {
            let err = bad.parse::<Features>().unwrap_err().to_string();
            assert!(err.starts_with("invalid setting"), "{bad}: {err}");
        }
    }

    #[test]
    fn overrides_apply_to_their_preset() {
        let classic = Overrides {
            preset: "classic".parse().unwrap(),
            threshold: Some(0.8),
            ..Overrides::default()
        };
        let config = classic.config().unwrap();
        assert_eq!((config.threshold, config.num_hashes), (0.8, 128));
        let estimating = Overrides {
            exact: Some(false),
            measure: Some("Jaccard".parse().unwrap()),
            no_fact_check: true,
            ..Overrides::default()
        };
        let config = estimating.config().unwrap();
        assert!(!config.exact && !config.fact_check && config.measure == Measure::Jaccard);
        let err = "tfidf".parse::<Weighting>().unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid setting: unknown weighting \"tfidf\"; one of: none, idf"
        );
        let bad = Overrides {
            hashes: Some(0),
            ..Overrides::default()
        };
        assert!(bad.config().is_err());
    }

    #[test]
    fn a_policy_replaces_only_the_policy() {
        let config = Config::default();
        assert_eq!(config.with_policy(&config.policy()), config);
        let classic = Config::classic();
        let judged = config.with_policy(&classic.policy());
        assert_eq!(judged.policy(), classic.policy());
        assert_eq!(
            crate::signature::SignatureParams::of(&judged),
            crate::signature::SignatureParams::of(&config)
        );
        let estimating = config.policy().estimating();
        assert!(!estimating.exact);
        assert_eq!(
            Policy {
                exact: true,
                ..estimating
            },
            config.policy()
        );
    }

    #[test]
    fn languages_parse_case_insensitively() {
        assert_eq!("German".parse::<Language>().unwrap(), Language::German);
        assert!("klingon".parse::<Language>().is_err());
    }

    #[test]
    fn defaults_validate() {
        Config::default().validate().unwrap();
        Config::classic().validate().unwrap();
        let bad = Config {
            threshold: 0.0,
            ..Config::default()
        };
        assert!(bad.validate().is_err());
    }
}
