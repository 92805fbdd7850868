//! Durations in runbooks and remediation settings: `500ms`, `30s`, `10m`, `2h`.
//!
//! Written here rather than shared with the engine's Prometheus duration type so this crate does
//! not depend on the runtime crate; one unit per value is all runbooks need.

use serde::Deserialize;
use std::time::Duration;

/// A duration written with one unit suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl Dur {
    /// `secs` seconds.
    pub const fn secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// Milliseconds, saturating.
    pub fn as_ms(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }
}

/// Parses `500ms`, `30s`, `10m`, `2h` or `1d`.
pub fn parse(s: &str) -> Result<Dur, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("duration `{s}` has no unit (ms, s, m, h, d)"))?;
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("duration `{s}` does not start with a number"))?;
    let ms = match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1_000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        _ => return Err(format!("duration `{s}` has unknown unit `{unit}`")),
    }
    .ok_or_else(|| format!("duration `{s}` is too long"))?;
    Ok(Dur(Duration::from_millis(ms)))
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_errors() {
        assert_eq!(parse("500ms").unwrap().0, Duration::from_millis(500));
        assert_eq!(parse("30s").unwrap().0, Duration::from_secs(30));
        assert_eq!(parse("10m").unwrap().0, Duration::from_secs(600));
        assert_eq!(parse("2h").unwrap().0, Duration::from_secs(7200));
        assert!(parse("10").unwrap_err().contains("no unit"));
        assert!(parse("s").unwrap_err().contains("number"));
        assert!(parse("3w").unwrap_err().contains("unknown unit"));
        assert!(parse("99999999999999999999d").is_err());
    }
}
