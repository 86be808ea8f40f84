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
//!
//! **Time.** When documents have times ([`crate::input::InputOptions::time_field`]), two
//! further apart than a [`Window`] are at most related: the same company's next announcement
//! a week later shares its names, its template and often its numbers, but it is not the same
//! news item told again. Their story score is then no evidence of one story
//! ([`Window::evidence`]): not for their level, not for a cluster.

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

/// How far apart in time two documents may be and still be the same news item: further
/// apart, they are at most [`Level::Related`]. Written `72h`, `3d`, `90m` or `3600s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    seconds: u64,
}

impl Window {
    /// 72 hours. On the Reuters audit all copy and rewrite pairs but one (a table re-sent
    /// with lines added three weeks later) are less than 46 hours apart, while most pairs
    /// wrongly called rewrites are the same company's or market's next item, days or weeks
    /// later (docs/quality.md).
    pub const DEFAULT: Window = Window { seconds: 72 * 3600 };

    /// Its length in seconds.
    pub fn seconds(self) -> u64 {
        self.seconds
    }

    /// Whether documents at times `a` and `b` (Unix seconds) are further apart than the
    /// window; never when either has no time.
    pub fn apart(self, a: Option<i64>, b: Option<i64>) -> bool {
        matches!((a, b), (Some(a), Some(b)) if a.abs_diff(b) > self.seconds)
    }

    /// The story score of documents at times `a` and `b` as evidence that they are one news
    /// item: the score itself, or 0 when they are further apart than the window. Every
    /// judgement of a level or a cluster goes through it, so that the cap is applied in one
    /// place; the score printed beside a pair stays the score itself.
    ///
    /// ```
    /// use storyprint::verdict::{Level, Window, level};
    /// let (day, weeks) = (Some(0), Some(14 * 86_400));
    /// let story = Window::DEFAULT.evidence(0.9, Some(0), day);
    /// assert_eq!(level(0.9, story, 0.134), Some(Level::Copy));
    /// let story = Window::DEFAULT.evidence(0.9, Some(0), weeks);
    /// assert_eq!(level(0.9, story, 0.134), Some(Level::Related));
    /// ```
    pub fn evidence(self, story: f64, a: Option<i64>, b: Option<i64>) -> f64 {
        if self.apart(a, b) { 0.0 } else { story }
    }
}

impl Default for Window {
    fn default() -> Window {
        Window::DEFAULT
    }
}

/// The units a window is written in, with their seconds.
const WINDOW_UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3600), ('m', 60), ('s', 1)];

impl FromStr for Window {
    type Err = Error;

    fn from_str(s: &str) -> Result<Window> {
        let bad = || {
            Error::Config(format!(
                "bad window {s:?}: a whole number of days, hours, minutes or seconds, such as \
                 72h, 3d, 90m or 3600s"
            ))
        };
        let unit = s.chars().last().ok_or_else(bad)?;
        let &(_, per_unit) = WINDOW_UNITS
            .iter()
            .find(|&&(name, _)| name == unit.to_ascii_lowercase())
            .ok_or_else(bad)?;
        let count: u64 = s[..s.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
        let seconds = count.checked_mul(per_unit).ok_or_else(bad)?;
        Ok(Window { seconds })
    }
}

/// The level of a pair from its similarity and story score, `None` when it is not even
/// related (similarity below the configured `threshold`). With document times, `story` is
/// the score as evidence ([`Window::evidence`]). A pair is related before it can
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
    fn documents_further_apart_than_the_window_are_at_most_related() {
        let window: Window = "72h".parse().unwrap();
        let hour = 3600;
        let near = window.evidence(0.9, Some(0), Some(72 * hour));
        assert_eq!(level(0.9, near, 0.134), Some(Level::Copy));
        let far = window.evidence(0.9, Some(72 * hour + 1), Some(0));
        assert_eq!(level(0.9, far, 0.134), Some(Level::Related));
        let far = window.evidence(0.3, Some(-10 * 86_400), Some(0));
        assert_eq!(level(0.3, far, 0.134), Some(Level::Related));
        // A document without a time is never capped.
        for (a, b) in [(None, Some(0)), (Some(0), None), (None, None)] {
            assert_eq!(
                level(0.9, window.evidence(0.9, a, b), 0.134),
                Some(Level::Copy)
            );
        }
        // Nor is a pair below the threshold lifted to related.
        assert_eq!(level(0.1, far, 0.134), None);
        assert!(!Window::DEFAULT.apart(Some(i64::MIN), Some(i64::MIN)));
        assert!(Window::DEFAULT.apart(Some(i64::MIN), Some(i64::MAX)));
    }

    #[test]
    fn windows_read_in_days_hours_minutes_and_seconds() {
        for (text, seconds) in [
            ("72h", 72 * 3600),
            ("3d", 3 * 86_400),
            ("90m", 90 * 60),
            ("3600s", 3600),
            ("0s", 0),
            ("7H", 7 * 3600),
        ] {
            let window: Window = text.parse().unwrap();
            assert_eq!(window.seconds(), seconds, "{text}");
        }
        assert_eq!(Window::default(), "72h".parse().unwrap());
        for bad in [
            "",
            "h",
            "72",
            "-3d",
            "3.5d",
            "3w",
            "99999999999999999999d",
            "3 d",
        ] {
            assert!(bad.parse::<Window>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_pair_below_the_threshold_is_no_rewrite_whatever_its_story() {
        assert_eq!(level(0.12, 0.3, 0.134), None);
        assert_eq!(level(0.12, 0.9, 0.134), None);
    }
}
