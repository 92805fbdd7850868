//! Request parameters as Prometheus' API takes them: from the query string or a form body,
//! repeated keys (`match[]`), and times as Unix seconds or RFC 3339.

use crate::error::ApiError;
use axum::http::HeaderMap;
use hush_model::Matcher;

/// All parameters of a request, in order, from the URL and (for POST forms) the body.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        let mut v: Vec<(String, String)> = match query {
            Some(q) => serde_urlencoded::from_str(q)
                .map_err(|e| ApiError::bad_data(format!("invalid query string: {e}")))?,
            None => Vec::new(),
        };
        let form = headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if form && !body.is_empty() {
            let more: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
                .map_err(|e| ApiError::bad_data(format!("invalid form body: {e}")))?;
            v.extend(more);
        }
        Ok(Self(v))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn required(&self, key: &str) -> Result<&str, ApiError> {
        self.get(key)
            .ok_or_else(|| ApiError::bad_data(format!("missing parameter `{key}`")))
    }

    /// `limit`: `default` when absent, else a count in `1..=max` (400 naming the range).
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.get("limit") {
            None | Some("") => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    ApiError::bad_data(format!(
                        "invalid parameter `limit`: `{v}`; expected 1 to {max}"
                    ))
                }),
        }
    }

    /// A time parameter in ms, or `default` when absent.
    pub fn time(&self, key: &str, default: i64) -> Result<i64, ApiError> {
        match self.get(key) {
            None | Some("") => Ok(default),
            Some(s) => parse_time(s).ok_or_else(|| {
                ApiError::bad_data(format!(
                    "invalid parameter `{key}`: cannot parse `{s}` to a valid timestamp"
                ))
            }),
        }
    }

    /// Selectors given as `match[]`, each a set of matchers.
    pub fn selectors(&self) -> Result<Vec<Vec<Matcher>>, ApiError> {
        self.all("match[]")
            .into_iter()
            .map(parse_selector)
            .collect()
    }
}

/// Unix seconds (with fraction) or RFC 3339, to ms.
pub fn parse_time(s: &str) -> Option<i64> {
    if let Ok(f) = s.parse::<f64>() {
        return f.is_finite().then(|| (f * 1000.0).round() as i64);
    }
    chrono_free_rfc3339(s)
}

/// A step or duration: seconds as a float, or a Prometheus duration like `15s`.
pub fn parse_duration_ms(s: &str) -> Option<i64> {
    if let Ok(f) = s.parse::<f64>() {
        return (f.is_finite() && f > 0.0).then(|| (f * 1000.0).round() as i64);
    }
    promql_parser::util::parse_duration(s)
        .ok()
        .map(|d| d.as_millis() as i64)
}

/// RFC 3339 without a date library: `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)`.
fn chrono_free_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b.get(4) != Some(&b'-') || b.get(10).is_none_or(|c| *c != b'T' && *c != b't')
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, se) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    let mut i = 19;
    let mut ms = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let frac = s.get(start..i)?;
        let padded: String = frac.chars().chain(std::iter::repeat('0')).take(3).collect();
        ms = padded.parse().ok()?;
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' => 0,
        b'+' | b'-' => {
            let sign = if b[i] == b'-' { -1 } else { 1 };
            sign * (num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?)
        }
        _ => return None,
    };
    // Days from civil date (Howard Hinnant's algorithm).
    let (yy, mm) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60) * 1000) + ms)
}

/// Parses a series selector such as `up{job="node"}` into matchers.
pub fn parse_selector(s: &str) -> Result<Vec<Matcher>, ApiError> {
    hush_engine::selector::parse(s).map_err(ApiError::bad_data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1700000000.5"), Some(1_700_000_000_500));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(
            parse_time("2023-11-14T23:13:20.25+01:00"),
            Some(1_700_000_000_250)
        );
        assert_eq!(parse_time("nope"), None);
        assert_eq!(parse_duration_ms("15s"), Some(15_000));
        assert_eq!(parse_duration_ms("0.5"), Some(500));
        assert_eq!(parse_duration_ms("-1"), None);
    }

    #[test]
    fn selectors() {
        let m = parse_selector(r#"up{job=~"n.*",instance!="a"}"#).unwrap();
        assert_eq!(m.len(), 3);
        assert!(parse_selector("rate(x[5m])").is_err());
    }
}
