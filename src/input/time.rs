//! Document times: a time field's value as Unix seconds (UTC), for the verdict's time window
//! ([`crate::verdict::Window`]).
//!
//! News feeds write times in a handful of ways; each is read here without a date library:
//!
//! - RFC 3339 / ISO 8601: `2026-12-07T06:54:00Z`, `2026-12-07T08:54:00.25+02:00` (a space may
//!   stand for the `T`; without an offset the time is taken as UTC; a date alone is its
//!   midnight, UTC);
//! - Unix seconds: a JSON number (integer or not) or a numeric string, `1796626440`;
//! - RFC 2822 (e-mail, RSS): `Mon, 07 Dec 2026 06:54:00 +0000`, with `GMT`, `UT`, `UTC`, `Z` or
//!   a North American zone (`EST` … `PDT`) for the offset;
//! - `D-MON-YYYY HH:MM:SS[.ff]`, as Reuters-21578 writes it (`" 5-MAR-1987 09:08:28.37"`, at
//!   times followed by wire codes in capitals, `09:08:28.37 RM`, which are ignored), taken as
//!   UTC.
//!
//! Surrounding white space is ignored and fractions of a second are dropped (rounded down).

use serde_json::Value;

use super::Origin;
use crate::error::{Error, Result};

/// The time written in `text`, in Unix seconds (UTC), from any of the formats of the module
/// documentation.
///
/// ```
/// use storyprint::input::parse_time;
/// assert_eq!(parse_time("2026-12-07T06:54:00Z").unwrap(), 1_796_626_440);
/// assert_eq!(parse_time("Mon, 07 Dec 2026 08:54:00 +0200").unwrap(), 1_796_626_440);
/// assert_eq!(parse_time(" 7-DEC-2026 06:54:00.37").unwrap(), 1_796_626_440);
/// assert_eq!(parse_time("1796626440").unwrap(), 1_796_626_440);
/// assert!(parse_time("last Tuesday").is_err());
/// ```
pub fn parse_time(text: &str) -> Result<i64> {
    let trimmed = text.trim();
    let leading = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    let parsed = match (leading, trimmed.as_bytes().get(leading)) {
        (0, None) => Err("empty"),
        (0, Some(b'+' | b'-')) | (_, None | Some(b'.')) => unix_seconds(trimmed),
        (4, Some(b'-')) => rfc3339(trimmed),
        (1 | 2, Some(b'-')) => reuters(trimmed),
        _ => rfc2822(trimmed),
    };
    parsed.map_err(|why| Error::Time {
        value: text.to_string(),
        why,
    })
}

/// The time a JSON value holds: a number of Unix seconds, or a string [`parse_time`] reads.
pub fn time_of_json(value: &Value) -> Result<i64> {
    let fail = |why| Error::Time {
        value: value.to_string(),
        why,
    };
    match value {
        Value::String(text) => parse_time(text),
        Value::Number(n) => match n.as_i64() {
            Some(seconds) => Ok(seconds),
            None => n
                .as_f64()
                .ok_or(fail("out of range"))
                .and_then(|seconds| float_seconds(seconds).ok_or(fail("out of range"))),
        },
        _ => Err(fail("not a string or a number")),
    }
}

/// The time of the document at `origin` whose time field `field` held `time` (`None`: it has
/// no such field), and the warning when it has none usable: it is then processed untimed.
pub(super) fn document_time(
    origin: &Origin,
    field: &str,
    time: Option<Result<i64>>,
) -> (Option<i64>, Option<String>) {
    match time {
        Some(Ok(time)) => (Some(time), None),
        None => (
            None,
            Some(format!(
                "{origin}: no time field {field:?}; the document is processed untimed"
            )),
        ),
        Some(Err(e)) => (
            None,
            Some(format!(
                "{origin}: time field {field:?}: {e}; the document is processed untimed"
            )),
        ),
    }
}

/// Whole seconds of a finite float in range, rounded down.
fn float_seconds(seconds: f64) -> Option<i64> {
    let floor = seconds.floor();
    // i64::MAX is not exact as an f64; 2^63 is the first value out of range.
    (floor.is_finite() && floor >= -(2f64.powi(63)) && floor < 2f64.powi(63))
        .then_some(floor as i64)
}

/// Unix seconds written in decimal: `[+-]digits[.digits]`.
fn unix_seconds(text: &str) -> std::result::Result<i64, &'static str> {
    let unsigned = text.trim_start_matches(['+', '-']);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let decimal = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if text.len() - unsigned.len() > 1 || whole.is_empty() || !decimal(whole) || !decimal(fraction)
    {
        return Err("not a date in a known format");
    }
    let negative = text.starts_with('-');
    let whole: i64 = whole.parse().map_err(|_| "out of range")?;
    let whole = if negative { -whole } else { whole };
    // Rounded down: -1.5 is -2.
    let below = negative && fraction.bytes().any(|b| b != b'0');
    whole.checked_sub(i64::from(below)).ok_or("out of range")
}

/// A calendar date and time of day with its offset from UTC, as written.
#[derive(Debug, Default)]
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    /// Seconds east of UTC.
    offset: i64,
}

impl Civil {
    /// Unix seconds, once every field is checked to be in range (a leap second, `:60`, counts
    /// as the next second).
    fn seconds(&self) -> std::result::Result<i64, &'static str> {
        if !(1..=12).contains(&self.month) {
            return Err("no such month");
        }
        if self.day < 1 || self.day > days_in_month(self.year, self.month) {
            return Err("no such day in that month");
        }
        if self.hour > 23 || self.minute > 59 || self.second > 60 {
            return Err("no such time of day");
        }
        if self.offset.abs() >= 24 * 3600 {
            return Err("offset of a day or more");
        }
        let days = days_from_civil(self.year, self.month, self.day);
        let time = i64::from(self.hour * 3600 + self.minute * 60 + self.second);
        Ok(days * 86_400 + time - self.offset)
    }
}

/// Whether `year` is a leap year in the proleptic Gregorian calendar.
fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days in `month` (1–12) of `year`.
fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
/// `days_from_civil`: years counted from March, in 400-year eras).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = i64::from((153 * ((month + 9) % 12) + 2) / 5 + day - 1);
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// A position in the text being parsed.
struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    /// A number of at least `min` ASCII digits, and of the first `max` when more follow.
    fn number(&mut self, min: usize, max: usize) -> std::result::Result<u32, &'static str> {
        let len = self
            .rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len < min {
            return Err("not a date in a known format");
        }
        let (digits, rest) = self.rest.split_at(len);
        self.rest = rest;
        digits.parse().map_err(|_| "not a date in a known format")
    }

    /// Consumes `c` if it comes next.
    fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// Requires `c` next.
    fn expect(&mut self, c: char) -> std::result::Result<(), &'static str> {
        self.eat(c)
            .then_some(())
            .ok_or("not a date in a known format")
    }

    /// A run of ASCII letters (possibly empty).
    fn word(&mut self) -> &'a str {
        let len = self
            .rest
            .bytes()
            .take_while(u8::is_ascii_alphabetic)
            .count();
        let (word, rest) = self.rest.split_at(len);
        self.rest = rest;
        word
    }

    /// Skips white space; whether there was any.
    fn spaces(&mut self) -> bool {
        let rest = self.rest.trim_start();
        let skipped = rest.len() < self.rest.len();
        self.rest = rest;
        skipped
    }

    /// `:SS` if it comes next (else 0), then `.fraction` if it comes next (dropped).
    fn seconds(&mut self) -> std::result::Result<u32, &'static str> {
        if !self.eat(':') {
            return Ok(0);
        }
        let second = self.number(2, 2)?;
        if self.eat('.') {
            let digits = self.rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err("bad fraction of a second");
            }
            self.rest = &self.rest[digits..];
        }
        Ok(second)
    }

    /// Requires the end of the text.
    fn end(&self) -> std::result::Result<(), &'static str> {
        self.rest
            .is_empty()
            .then_some(())
            .ok_or("unexpected text after the time")
    }

    /// A numeric offset `+HH:MM` or `+HHMM` (or `-`), in seconds east of UTC.
    fn numeric_offset(&mut self) -> std::result::Result<i64, &'static str> {
        let sign = if self.eat('+') {
            1
        } else if self.eat('-') {
            -1
        } else {
            return Err("bad offset from UTC");
        };
        let hours = self.number(2, 2).map_err(|_| "bad offset from UTC")?;
        self.eat(':');
        let minutes = self.number(2, 2).map_err(|_| "bad offset from UTC")?;
        if minutes > 59 {
            return Err("bad offset from UTC");
        }
        Ok(sign * i64::from(hours * 3600 + minutes * 60))
    }
}

/// The month of an English name or its three-letter abbreviation, any case.
fn month_named(word: &str) -> std::result::Result<u32, &'static str> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let word = word.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|name| word.len() >= 3 && (*name == word || name[..3] == word))
        .map(|at| at as u32 + 1)
        .ok_or("no such month")
}

/// `YYYY-MM-DD[(T| )HH:MM[:SS[.fff]][Z|±HH:MM|±HHMM]]`.
fn rfc3339(text: &str) -> std::result::Result<i64, &'static str> {
    let mut at = Cursor { rest: text };
    let mut civil = Civil {
        year: i64::from(at.number(4, 4)?),
        ..Civil::default()
    };
    at.expect('-')?;
    civil.month = at.number(2, 2)?;
    at.expect('-')?;
    civil.day = at.number(2, 2)?;
    if !at.rest.is_empty() {
        if !(at.eat('T') || at.eat('t') || at.eat(' ')) {
            return Err("not a date in a known format");
        }
        civil.hour = at.number(2, 2)?;
        at.expect(':')?;
        civil.minute = at.number(2, 2)?;
        civil.second = at.seconds()?;
        if !(at.rest.is_empty() || at.eat('Z') || at.eat('z')) {
            civil.offset = at.numeric_offset()?;
        }
    }
    at.end()?;
    civil.seconds()
}

/// `D-MON-YYYY[ HH:MM[:SS[.ff]]]` (Reuters-21578), UTC; capital letters after the time (the
/// collection's stray wire codes, `09:08:28.37RM`, `09:08:28.37E F`) are ignored.
fn reuters(text: &str) -> std::result::Result<i64, &'static str> {
    let mut at = Cursor { rest: text };
    let day = at.number(1, 2)?;
    at.expect('-')?;
    let month = month_named(at.word())?;
    at.expect('-')?;
    let mut civil = Civil {
        year: i64::from(at.number(4, 4)?),
        month,
        day,
        ..Civil::default()
    };
    if at.spaces() {
        civil.hour = at.number(1, 2)?;
        at.expect(':')?;
        civil.minute = at.number(2, 2)?;
        civil.second = at.seconds()?;
        // The wire's category codes the collection left after some times.
        at.rest = at
            .rest
            .trim_start_matches(|c: char| c.is_ascii_uppercase() || c == ' ');
    }
    at.end()?;
    civil.seconds()
}

/// `[Day,] D Mon YYYY HH:MM[:SS] (±HHMM|GMT|UT|UTC|Z|EST|…)` (RFC 2822; a missing zone is
/// UTC).
fn rfc2822(text: &str) -> std::result::Result<i64, &'static str> {
    let mut at = Cursor { rest: text };
    if !at.word().is_empty() {
        at.expect(',')?;
        at.spaces();
    }
    let day = at.number(1, 2)?;
    at.spaces();
    let month = month_named(at.word())?;
    at.spaces();
    let mut civil = Civil {
        year: i64::from(at.number(4, 4)?),
        month,
        day,
        ..Civil::default()
    };
    at.spaces();
    civil.hour = at.number(2, 2)?;
    at.expect(':')?;
    civil.minute = at.number(2, 2)?;
    civil.second = at.seconds()?;
    at.spaces();
    civil.offset = if at.rest.starts_with(['+', '-']) {
        at.numeric_offset()?
    } else {
        zone_offset(at.word())?
    };
    at.end()?;
    civil.seconds()
}

/// The offset of an RFC 2822 zone name (none: UTC).
fn zone_offset(zone: &str) -> std::result::Result<i64, &'static str> {
    let hours = match zone.to_ascii_uppercase().as_str() {
        "" | "GMT" | "UT" | "UTC" | "Z" => 0,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        _ => return Err("unknown time zone"),
    };
    Ok(hours * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07T06:54:00Z.
    const T: i64 = 1_796_626_440;

    #[test]
    fn rfc3339_with_offsets_and_fractions() {
        assert_eq!(parse_time("2026-12-07T06:54:00Z").unwrap(), T);
        assert_eq!(parse_time("2026-12-07t06:54:00z").unwrap(), T);
        assert_eq!(parse_time("2026-12-07T08:54:00+02:00").unwrap(), T);
        assert_eq!(parse_time("2026-12-06T23:24:00-07:30").unwrap(), T);
        assert_eq!(parse_time("2026-12-07T08:54:00+0200").unwrap(), T);
        assert_eq!(parse_time("2026-12-07T06:54:00.999999Z").unwrap(), T);
        assert_eq!(parse_time("2026-12-07 06:54:00").unwrap(), T);
        assert_eq!(parse_time("2026-12-07T06:54Z").unwrap(), T);
        assert_eq!(parse_time("  2026-12-07T06:54:00Z\n").unwrap(), T);
        assert_eq!(parse_time("2026-12-07").unwrap(), T - (6 * 3600 + 54 * 60));
        assert_eq!(parse_time("1970-01-01T00:00:00Z").unwrap(), 0);
        assert_eq!(parse_time("1969-12-31T23:59:59Z").unwrap(), -1);
        // A leap second is the next second.
        assert_eq!(
            parse_time("2016-12-31T23:59:60Z").unwrap(),
            parse_time("2017-01-01T00:00:00Z").unwrap()
        );
    }

    #[test]
    fn unix_seconds_as_numbers_and_strings() {
        assert_eq!(parse_time("1796626440").unwrap(), T);
        assert_eq!(parse_time(" 1796626440.75 ").unwrap(), T);
        assert_eq!(parse_time("-1.5").unwrap(), -2);
        assert_eq!(parse_time("-1.0").unwrap(), -1);
        assert_eq!(parse_time("+12").unwrap(), 12);
        assert_eq!(time_of_json(&serde_json::json!(T)).unwrap(), T);
        assert_eq!(time_of_json(&serde_json::json!(1796626440.5)).unwrap(), T);
        assert_eq!(time_of_json(&serde_json::json!("1796626440")).unwrap(), T);
        assert_eq!(
            time_of_json(&serde_json::json!(u64::MAX))
                .unwrap_err()
                .to_string(),
            "not a time: \"18446744073709551615\" (out of range)"
        );
        assert!(time_of_json(&serde_json::json!(1e300)).is_err());
        assert!(time_of_json(&serde_json::json!(null)).is_err());
        assert!(time_of_json(&serde_json::json!([1])).is_err());
        assert!(parse_time("99999999999999999999").is_err());
        assert!(parse_time("--1").is_err());
        assert!(parse_time("1.2.3").is_err());
    }

    #[test]
    fn rfc2822_with_numeric_and_named_zones() {
        assert_eq!(parse_time("Mon, 07 Dec 2026 06:54:00 +0000").unwrap(), T);
        assert_eq!(parse_time("Mon, 07 Dec 2026 06:54:00 GMT").unwrap(), T);
        assert_eq!(parse_time("Mon, 7 Dec 2026 01:54:00 EST").unwrap(), T);
        assert_eq!(parse_time("07 Dec 2026 08:54:00 +0200").unwrap(), T);
        assert_eq!(parse_time("Mon, 07 December 2026 06:54 UT").unwrap(), T);
        assert_eq!(parse_time("Mon, 07 Dec 2026 06:54:00").unwrap(), T);
        assert!(parse_time("Mon, 07 Dec 2026 06:54:00 XYZ").is_err());
        assert!(parse_time("Mon 07 Dec 2026 06:54:00 GMT").is_err());
    }

    #[test]
    fn reuters_dates() {
        assert_eq!(parse_time(" 7-DEC-2026 06:54:00.37").unwrap(), T);
        assert_eq!(parse_time("7-dec-2026 06:54:00").unwrap(), T);
        assert_eq!(parse_time("07-Dec-2026 6:54:00").unwrap(), T);
        assert_eq!(
            parse_time(" 5-MAR-1987 09:08:28.37").unwrap(),
            parse_time("1987-03-05T09:08:28Z").unwrap()
        );
        assert_eq!(parse_time("7-DEC-2026").unwrap(), T - (6 * 3600 + 54 * 60));
        assert_eq!(parse_time("7-DEC-2026 06:54:00.13RM").unwrap(), T);
        assert_eq!(parse_time("7-DEC-2026 06:54:00.68C G T M").unwrap(), T);
        assert!(parse_time("7-DEC-2026 06:54:00.68 rm").is_err());
    }

    #[test]
    fn leap_days_only_in_leap_years() {
        assert_eq!(
            parse_time("2024-02-29T12:00:00Z").unwrap() + 86_400,
            parse_time("2024-03-01T12:00:00Z").unwrap()
        );
        assert_eq!(
            parse_time("2000-02-29").unwrap() + 86_400,
            parse_time("2000-03-01").unwrap()
        );
        assert!(parse_time("2026-02-29").is_err());
        assert!(parse_time("1900-02-29").is_err());
        assert!(parse_time("29-FEB-1987 00:00:00").is_err());
        assert!(parse_time("29-FEB-1988 00:00:00").is_ok());
    }

    /// Oracle: every day from 1600 to 2400 is one day after the one before, and 1970-01-01 is
    /// day 0.
    #[test]
    fn days_follow_each_other() {
        let mut previous = days_from_civil(1599, 12, 31);
        for year in 1600..2400 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    let days = days_from_civil(year, month, day);
                    assert_eq!(days, previous + 1, "{year}-{month}-{day}");
                    previous = days;
                }
            }
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }

    #[test]
    fn bad_values_are_typed_errors() {
        for bad in [
            "",
            "   ",
            "yesterday",
            "2026-13-01",
            "2026-12-32",
            "2026-12-07T24:00:00Z",
            "2026-12-07T06:60:00Z",
            "2026-12-07T06:54:00+2:00",
            "2026-12-07T06:54:00+25:00",
            "2026-12-07T06:54:00Zjunk",
            "2026-12-07X06:54:00",
            "2026/12/07",
            "5-XYZ-1987 09:08:28",
            "5-MAR-87 09:08:28",
            "Mon, 07 Dec 2026",
        ] {
            match parse_time(bad) {
                Err(Error::Time { value, .. }) => assert_eq!(value, bad),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
