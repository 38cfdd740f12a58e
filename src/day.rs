//! A UTC calendar day, the unit of the ledger's counts, a release's steps
//! and the daily reports: written `YYYY-MM-DD` wherever it is stored; and the
//! range of host times that can be written so.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A UTC day: days since 1970-01-01, written `YYYY-MM-DD` (in state,
/// reports and messages).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

impl Day {
    /// The day of a host time in ms.
    pub fn of(ms: f64) -> Day {
        Day((ms / 86_400_000.0).floor() as i64)
    }

    /// A `YYYY-MM-DD` day, None if it is not a calendar date.
    pub fn parse(text: &str) -> Option<Day> {
        day_number(text).map(Day)
    }

    /// Days from `earlier` to this day.
    pub fn since(self, earlier: Day) -> i64 {
        self.0 - earlier.0
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Day, D::Error> {
        let text = String::deserialize(d)?;
        Day::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a YYYY-MM-DD day")))
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` string.
fn day_number(day: &str) -> Option<i64> {
    let mut parts = day.splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if day.len() != 10 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let n = era * 146_097 + doe - 719_468;
    (civil_from_days(n) == (if m <= 2 { y + 1 } else { y }, m, d)).then_some(n)
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// The host times (ms since 1970) the engine takes: 0000-01-01T00:00:00.000Z
/// to 9999-12-31T23:59:59.999Z. The state and the reports write days as
/// `YYYY-MM-DD`, and `importState` reads back only those: a time outside
/// would write a day the engine's own state then refuses.
pub const CLOCK_RANGE: std::ops::RangeInclusive<f64> = -62_167_219_200_000.0..=253_402_300_799_999.0;

/// A host time in `CLOCK_RANGE` (so finite), else INVALID_OPTIONS: every
/// call that takes a time checks it before it changes anything.
pub fn check_clock(now: f64) -> Result<()> {
    if CLOCK_RANGE.contains(&now) {
        Ok(())
    } else {
        // (1e300 written out is 301 digits)
        let shown = if now.abs() < 1e16 { now.to_string() } else { format!("{now:e}") };
        Err(Error::InvalidOptions(format!(
            "the clock gives {shown} ms, outside years 0–9999 ({} to {} ms since 1970)",
            CLOCK_RANGE.start(),
            CLOCK_RANGE.end()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip() {
        assert_eq!(Day::of(0.0).to_string(), "1970-01-01");
        assert_eq!(Day::of(1_795_219_200_000.0 + 3_600_000.0).to_string(), "2026-11-21");
        for n in [-1000, 0, 59, 60, 365, 11_016, 20_413, 30_000] {
            let day = Day::of(n as f64 * 86_400_000.0 + 1.0).to_string();
            assert_eq!(day_number(&day), Some(n), "{day}");
        }
        assert_eq!(day_number("2026-02-30"), None);
        assert_eq!(day_number("2026-1-01"), None);
        assert_eq!(day_number("x"), None);
    }
}
