//! What a signature is made with, frozen with it: the settings that decide which features a
//! text has and how they are hashed. Two signatures made with different ones estimate nothing
//! about each other, so they are compared only after [`SignatureParams::check_compatible`].
//!
//! The match policy (threshold, measure, level, exact verification, fact check) is not among
//! them: it judges pairs of signatures and may change between two runs over the same ones
//! ([`crate::config::Policy`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::{Config, Features, Language, Weighting};
use crate::error::{Error, Incompatible, Result};

/// The version of what is hashed into a signature (feature hashes, copies, band keys): two
/// signatures of one configuration compare only when made at the same version. Bump it on
/// any change to them, and with it [`crate::index::FORMAT_VERSION`] (format 3 changed the
/// shingle hashes and the copies).
pub const SIGNATURE_FORMAT: u32 = 3;

/// The parameters a signature is made with (see the module docs).
///
/// Stored as the JSON `{"num_hashes":K,"seed":S,"features":"…"}` (the index's `params`), the
/// last being [`SignatureParams::settings_text`]; the format version is stored beside them
/// (the index's `format_version`, the signatures file's `storyprint.format`), so a stored
/// value reads at [`SIGNATURE_FORMAT`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "Stored", try_from = "Stored")]
pub struct SignatureParams {
    /// The hashing version ([`SIGNATURE_FORMAT`]).
    pub format: u32,
    /// Feature families and their multipliers.
    pub features: Features,
    /// Feature weighting.
    pub weighting: Weighting,
    /// Stemming language (and stop-word list).
    pub language: Language,
    /// Stop words removed before building stem shingles.
    pub stop_words: bool,
    /// Page chrome dropped before tokenizing.
    pub strip_chrome: bool,
    /// Content words below which a document is a statement (0: off).
    pub statement_words: usize,
    /// Number of bins (K).
    pub num_hashes: usize,
    /// Hash seed.
    pub seed: u64,
}

impl SignatureParams {
    /// The parameters `config` signs with, at the current [`SIGNATURE_FORMAT`].
    pub fn of(config: &Config) -> SignatureParams {
        SignatureParams {
            format: SIGNATURE_FORMAT,
            features: config.features.clone(),
            weighting: config.weighting,
            language: config.language,
            stop_words: config.stop_words,
            strip_chrome: config.strip_chrome,
            statement_words: config.statement_words,
            num_hashes: config.num_hashes,
            seed: config.seed,
        }
    }

    /// Fails with the first parameter that differs from `other`'s: signatures made with
    /// either compare only when none does (as sourmash's `check_compatible`).
    pub fn check_compatible(&self, other: &SignatureParams) -> Result<(), Incompatible> {
        let on_off = |on: &'static str, off: &'static str| move |b: bool| if b { on } else { off };
        let removed = on_off("removed", "kept");
        let stripped = on_off("stripped", "kept");
        let statements = |n: usize| match n {
            0 => "off".to_string(),
            n => n.to_string(),
        };
        let differs = [
            (self.format != other.format)
                .then(|| Incompatible::new("signature format", self.format, other.format)),
            (self.features != other.features)
                .then(|| Incompatible::new("features", &self.features, &other.features)),
            (self.weighting != other.weighting).then(|| {
                Incompatible::new(
                    "weighting",
                    weighting_name(self.weighting),
                    weighting_name(other.weighting),
                )
            }),
            (self.language != other.language).then(|| {
                Incompatible::new("language", self.language.name(), other.language.name())
            }),
            (self.stop_words != other.stop_words).then(|| {
                Incompatible::new(
                    "stop words",
                    removed(self.stop_words),
                    removed(other.stop_words),
                )
            }),
            (self.strip_chrome != other.strip_chrome).then(|| {
                Incompatible::new(
                    "page chrome",
                    stripped(self.strip_chrome),
                    stripped(other.strip_chrome),
                )
            }),
            (self.statement_words != other.statement_words).then(|| {
                Incompatible::new(
                    "statement words",
                    statements(self.statement_words),
                    statements(other.statement_words),
                )
            }),
            (self.num_hashes != other.num_hashes)
                .then(|| Incompatible::new("K", self.num_hashes, other.num_hashes)),
            (self.seed != other.seed).then(|| {
                Incompatible::new(
                    "seed",
                    format!("{:#x}", self.seed),
                    format!("{:#x}", other.seed),
                )
            }),
        ];
        match differs.into_iter().flatten().next() {
            Some(difference) => Err(difference),
            None => Ok(()),
        }
    }

    /// The feature settings as one text, as stored since the first index format:
    /// `FEATURES;weighting=Idf;language=english;stop_words=true;strip_chrome=true`, then
    /// `;statement_words=N` unless statements are off (so that the text stored before they
    /// existed reads as off).
    pub fn settings_text(&self) -> String {
        SettingsText(self).to_string()
    }

    /// The parameters of K, seed and a [`SignatureParams::settings_text`], at the current
    /// [`SIGNATURE_FORMAT`].
    pub fn from_settings_text(num_hashes: usize, seed: u64, text: &str) -> Result<Self> {
        let bad = |why: String| Error::Config(format!("signature parameters {text:?}: {why}"));
        let mut parts = text.split(';');
        let features: Features = parts.next().unwrap_or_default().parse()?;
        let mut params = SignatureParams {
            format: SIGNATURE_FORMAT,
            features,
            weighting: Weighting::None,
            language: Language::English,
            stop_words: false,
            strip_chrome: false,
            statement_words: 0,
            num_hashes,
            seed,
        };
        let bool_of = |value: &str| match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad(format!("{value:?} is not true or false"))),
        };
        let mut seen = Vec::new();
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("{part:?} is not KEY=VALUE")))?;
            if seen.contains(&key) {
                return Err(bad(format!("{key} given twice")));
            }
            seen.push(key);
            match key {
                "weighting" => {
                    params.weighting = WEIGHTINGS
                        .iter()
                        .find(|(name, _)| *name == value)
                        .map(|&(_, w)| w)
                        .ok_or_else(|| bad(format!("unknown weighting {value:?}")))?;
                }
                "language" => params.language = value.parse()?,
                "stop_words" => params.stop_words = bool_of(value)?,
                "strip_chrome" => params.strip_chrome = bool_of(value)?,
                "statement_words" => {
                    params.statement_words = value
                        .parse()
                        .map_err(|_| bad(format!("{value:?} is not a whole number")))?;
                }
                _ => return Err(bad(format!("unknown setting {key:?}"))),
            }
        }
        let missing = ["weighting", "language", "stop_words", "strip_chrome"]
            .into_iter()
            .find(|key| !seen.contains(key));
        match missing {
            Some(key) => Err(bad(format!("{key} is missing"))),
            None => Ok(params),
        }
    }
}

/// The stored names of the weightings (their `Debug` names, as the first format wrote them).
const WEIGHTINGS: [(&str, Weighting); 2] = [("None", Weighting::None), ("Idf", Weighting::Idf)];

/// A weighting as the command line names it.
fn weighting_name(weighting: Weighting) -> &'static str {
    match weighting {
        Weighting::None => "none",
        Weighting::Idf => "idf",
    }
}

/// [`SignatureParams::settings_text`] as a `Display`.
struct SettingsText<'a>(&'a SignatureParams);

impl fmt::Display for SettingsText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        let weighting = WEIGHTINGS
            .iter()
            .find(|&&(_, w)| w == p.weighting)
            .map_or("", |(name, _)| name);
        write!(
            f,
            "{};weighting={weighting};language={};stop_words={};strip_chrome={}",
            p.features,
            p.language.name(),
            p.stop_words,
            p.strip_chrome
        )?;
        // Absent when off, as in the parameters stored before statements existed.
        match p.statement_words {
            0 => Ok(()),
            n => write!(f, ";statement_words={n}"),
        }
    }
}

/// The stored form of [`SignatureParams`], field for field as the first index format wrote it.
#[derive(Serialize, Deserialize)]
struct Stored {
    num_hashes: usize,
    seed: u64,
    features: String,
}

impl From<SignatureParams> for Stored {
    fn from(params: SignatureParams) -> Stored {
        Stored {
            num_hashes: params.num_hashes,
            seed: params.seed,
            features: params.settings_text(),
        }
    }
}

impl TryFrom<Stored> for SignatureParams {
    type Error = Error;

    fn try_from(stored: Stored) -> Result<SignatureParams> {
        SignatureParams::from_settings_text(stored.num_hashes, stored.seed, &stored.features)
    }
}

#[cfg(test)]
mod tests;
