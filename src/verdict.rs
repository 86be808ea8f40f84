//! Verdict stage: how alike two documents are, as a level a person can act on.
//!
//! One similarity cannot answer three questions. Two documents can be
//!
//! - [`Level::Copy`]: the same text, re-sent, cut or lightly edited;
//! - [`Level::Rewrite`]: the same news item told again (another outlet's version, an expanded
//!   flash, a correction);
//! - [`Level::Related`]: the same subject, a different news item (the same company's next
//!   announcement, another week's auction, the other earthquake).
//!
//! *Related* is judged on the similarity every command reports ([`crate::similarity::
//! similarity_of`]): shared weighted vocabulary, checked against the numbers both give.
//! *Rewrite* and *copy* are judged on the **story score**: the same measure over features
//! contrasted with the documents' neighbours ([`crate::contrast`]), where the subject's and
//! the template's words have faded and what is left is what the two documents share *and
//! their neighbours do not*, scaled by their fact agreement.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How alike two documents are, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Same subject, a different news item.
    Related,
    /// The same news item told again.
    Rewrite,
    /// The same text, re-sent, cut or lightly edited.
    Copy,
}

impl Level {
    /// Every level, from least to most alike.
    pub const ALL: [Level; 3] = [Level::Related, Level::Rewrite, Level::Copy];

    /// The name used on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Level::Related => "related",
            Level::Rewrite => "rewrite",
            Level::Copy => "copy",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Level {
    type Err = Error;

    fn from_str(s: &str) -> Result<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::Config(format!("unknown level {s:?}: copy, rewrite or related")))
    }
}

/// The story score at or above which two documents are the same news item. Measured on the
/// labelled sets (docs/quality.md): ECB+ articles of one event against the other event of
/// their topic, and the Reuters audit's rewrites against related items.
pub const REWRITE_STORY: f64 = 0.1;

/// The story score at or above which two documents are copies of one text.
pub const COPY_STORY: f64 = 0.7;

/// The story score at or above which two documents whose whole texts are also alike
/// (similarity at least [`COPY_SIMILARITY`]) are copies. A short re-send differs from its
/// first send only in what no other document holds (a wire header's serial number and time
/// stamp): the contrast keeps all of that and fades the shared text its neighbours also hold,
/// so its story score falls to 0.5–0.7 while its similarity stays high. Measured on the
/// Reuters audit (docs/quality.md): copies found 44 → 56 of 61 at the same precision.
pub const COPY_STORY_ALIKE: f64 = 0.5;

/// The similarity at or above which [`COPY_STORY_ALIKE`] makes a copy.
pub const COPY_SIMILARITY: f64 = 0.45;

/// The level of a pair from its similarity and story score, `None` when it is not even
/// related (similarity below the configured `threshold`). A pair is related before it can
/// be a rewrite or a copy: on the Reuters audit every pair with a rewrite's story score but a
/// similarity below the threshold was another news item, and on ECB+ the gate costs nothing.
pub fn level(similarity: f64, story: f64, threshold: f64) -> Option<Level> {
    if similarity < threshold {
        None
    } else if story >= COPY_STORY || story >= COPY_STORY_ALIKE && similarity >= COPY_SIMILARITY {
        Some(Level::Copy)
    } else if story >= REWRITE_STORY {
        Some(Level::Rewrite)
    } else {
        Some(Level::Related)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_from_least_to_most_alike() {
        assert!(Level::Related < Level::Rewrite && Level::Rewrite < Level::Copy);
        for l in Level::ALL {
            assert_eq!(l.name().parse::<Level>().unwrap(), l);
        }
        assert!("same".parse::<Level>().is_err());
    }

    #[test]
    fn the_story_score_decides_rewrite_and_copy() {
        assert_eq!(level(0.9, 0.8, 0.134), Some(Level::Copy));
        assert_eq!(level(0.2, REWRITE_STORY, 0.134), Some(Level::Rewrite));
        assert_eq!(level(0.2, 0.05, 0.134), Some(Level::Related));
        assert_eq!(level(0.1, 0.05, 0.134), None);
    }

    #[test]
    fn a_copy_needs_its_story_or_its_whole_text_alike() {
        assert_eq!(level(0.3, COPY_STORY, 0.134), Some(Level::Copy));
        assert_eq!(
            level(COPY_SIMILARITY, COPY_STORY_ALIKE, 0.134),
            Some(Level::Copy)
        );
        assert_eq!(level(0.44, 0.69, 0.134), Some(Level::Rewrite));
        assert_eq!(level(0.9, 0.49, 0.134), Some(Level::Rewrite));
    }

    #[test]
    fn a_pair_below_the_threshold_is_no_rewrite_whatever_its_story() {
        assert_eq!(level(0.12, 0.3, 0.134), None);
        assert_eq!(level(0.12, 0.9, 0.134), None);
    }
}
