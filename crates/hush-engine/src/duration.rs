//! Prometheus-style durations (`15s`, `5m`, `1h30m`, `15d`, `2w`, `500ms`).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PromDuration(pub Duration);

impl PromDuration {
    pub const fn from_secs(s: u64) -> Self {
        Self(Duration::from_secs(s))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{0}`: expected e.g. 30s, 5m, 1h30m, 15d")]
pub struct DurationError(pub String);

impl std::str::FromStr for PromDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DurationError(s.to_string());
        if s.is_empty() {
            return Err(err());
        }
        let mut total: u128 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err());
            }
            let n: u128 = rest[..digits].parse().map_err(|_| err())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let ms: u128 = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "w" => 604_800_000,
                "y" => 31_536_000_000,
                _ => return Err(err()),
            };
            rest = &rest[unit_len..];
            total = total
                .checked_add(n.checked_mul(ms).ok_or_else(err)?)
                .ok_or_else(err)?;
        }
        let ms = u64::try_from(total).map_err(|_| err())?;
        Ok(Self(Duration::from_millis(ms)))
    }
}

impl<'de> serde::Deserialize<'de> for PromDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        let p = |s: &str| s.parse::<PromDuration>().map(|d| d.0.as_millis());
        assert_eq!(p("15s"), Ok(15_000));
        assert_eq!(p("1h30m"), Ok(5_400_000));
        assert_eq!(p("500ms"), Ok(500));
        assert_eq!(p("15d"), Ok(15 * 86_400_000));
        assert!(p("").is_err());
        assert!(p("5").is_err());
        assert!(p("5x").is_err());
        assert!(p("s").is_err());
        assert!(p("99999999999999999999999y").is_err());
    }
}
