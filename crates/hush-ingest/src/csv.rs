//! `timestamp,value` CSV for `hush import`; the caller supplies the series' labels.
//!
//! - One sample per line: `timestamp,value`. Fields may be surrounded by blanks or double quotes.
//!   Blank lines and lines starting with `#` are skipped, as is a UTF-8 byte order mark.
//! - **Header**: the first data line is taken as a header when neither field parses
//!   (`timestamp,value`, `time,v`, …).
//! - **Timestamps** are detected per value: RFC 3339 when it holds a `-` after the first character
//!   or a `:` (`2024-05-01T12:00:00Z`, `2024-05-01 12:00:00+02:00`); otherwise a number, read as
//!   **milliseconds when its magnitude is at least 10^11** and as seconds (fractions allowed) below
//!   that. 10^11 seconds is the year 5138 and 10^11 milliseconds is March 1973, so real data on
//!   either side of the cut is unambiguous.
//! - Values follow the request's [`crate::NonFinite`] policy like every other decoder.

use crate::IngestError;
use crate::limits::{Budget, Limits};
use hush_model::{Labels, Sample, TimeSeries};
use std::io::BufRead;

/// Magnitude from which a numeric timestamp is read as milliseconds.
const MILLIS_FROM: f64 = 1e11;

/// Parses CSV text into one series labelled `labels` (which must include `__name__`).
pub fn parse(text: &str, labels: &Labels, limits: &Limits) -> Result<Vec<TimeSeries>, IngestError> {
    limits.check_size(text.len() as u64)?;
    parse_reader(text.as_bytes(), labels, limits)
}

/// Like [`parse`], reading lines from `reader`, so a caller can wrap a file to report progress.
/// An IO error or invalid UTF-8 is reported as a [`crate::Reason::BadCsv`] on its line.
pub fn parse_reader<R: BufRead>(
    reader: R,
    labels: &Labels,
    limits: &Limits,
) -> Result<Vec<TimeSeries>, IngestError> {
    let labels = limits.labels(
        labels
            .iter()
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect(),
    )?;
    let mut budget = Budget::new(limits);
    budget.add_series(1)?;
    let mut samples = Vec::new();
    let mut seen_data = false;
    for (i, line) in reader.lines().enumerate() {
        let line_no = i + 1;
        let line = line.map_err(|e| IngestError::BadCsv {
            line: line_no,
            message: e.to_string(),
        })?;
        let line = if i == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            &line
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let first = !seen_data;
        seen_data = true;
        let Some(sample) = row(line, line_no, first)? else {
            continue;
        };
        if limits
            .check_value(&labels, sample.t, sample.v)
            .map_err(|e| e.at_line(line_no))?
        {
            budget.add_samples(1)?;
            samples.push(sample);
        }
    }
    Ok(if samples.is_empty() {
        Vec::new()
    } else {
        vec![TimeSeries::new(labels, samples)]
    })
}

/// One data line; `Ok(None)` for a header on the first data line.
fn row(line: &str, line_no: usize, first: bool) -> Result<Option<Sample>, IngestError> {
    let bad = |message: String| IngestError::BadCsv {
        line: line_no,
        message,
    };
    let fields: Vec<&str> = line.split(',').map(field).collect();
    let [ts, value] = fields[..] else {
        return Err(bad(format!(
            "expected 2 fields `timestamp,value`, found {}",
            fields.len()
        )));
    };
    let t = timestamp(ts);
    let v = value.parse::<f64>().ok();
    match (t, v) {
        (Some(t), Some(v)) => Ok(Some(Sample::new(t, v))),
        (None, None) if first => Ok(None),
        (None, _) => Err(bad(format!(
            "invalid timestamp `{ts}`: expected unix seconds, unix milliseconds or RFC 3339"
        ))),
        (_, None) => Err(bad(format!("invalid value `{value}`"))),
    }
}

/// Trims blanks and one pair of surrounding double quotes.
fn field(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
}

/// Milliseconds since the epoch from RFC 3339, unix seconds or unix milliseconds.
fn timestamp(s: &str) -> Option<i64> {
    if s.contains(':') || s.get(1..).is_some_and(|r| r.contains('-')) {
        // RFC 3339 allows a space for the `T` separator; chrono wants one of `T`/`t`.
        let normalised = match s.as_bytes().get(10) {
            Some(b' ') => format!("{}T{}", &s[..10], &s[11..]),
            _ => s.to_string(),
        };
        return chrono::DateTime::parse_from_rfc3339(&normalised)
            .ok()
            .map(|d| d.timestamp_millis());
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(if (i.unsigned_abs() as f64) < MILLIS_FROM {
            i.checked_mul(1000)?
        } else {
            i
        });
    }
    let f = s.parse::<f64>().ok().filter(|f| f.is_finite())?;
    let ms = if f.abs() < MILLIS_FROM { f * 1000.0 } else { f };
    let ms = ms.round();
    // Beyond ±2^63 the cast would saturate; such a time is an input error.
    (ms > i64::MIN as f64 && ms < i64::MAX as f64).then_some(ms as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        Labels::from_pairs([("__name__", "temperature"), ("room", "kitchen")]).unwrap()
    }

    fn ok(text: &str) -> Vec<Sample> {
        let out = parse(text, &labels(), &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].labels, labels());
        out[0].samples.clone()
    }

    fn err(text: &str) -> String {
        parse(text, &labels(), &Limits::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn timestamp_forms() {
        let s = ok("\u{feff}timestamp,value\n\
            1700000000,1\n\
            1700000000.5,2\n\
            1700000000123,3\n\
            \"2023-11-14T22:13:20Z\",4\n\
            2023-11-14 23:13:20.25+01:00, 5 \r\n\
            # a comment\n\
            \n\
            0,6\n");
        let t: Vec<i64> = s.iter().map(|s| s.t).collect();
        assert_eq!(
            t,
            [
                1_700_000_000_000,
                1_700_000_000_500,
                1_700_000_000_123,
                1_700_000_000_000,
                1_700_000_000_250,
                0
            ]
        );
        assert_eq!(s[4].v, 5.0);
    }

    #[test]
    fn no_header_and_no_rows() {
        assert_eq!(ok("1,2\n").len(), 1);
        assert!(
            parse("t,v\n", &labels(), &Limits::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            err("1,1\nx,2\n"),
            "line 2: invalid timestamp `x`: expected unix seconds, unix milliseconds or RFC 3339"
        );
        assert_eq!(err("1,1\n2,abc\n"), "line 2: invalid value `abc`");
        assert_eq!(
            err("1,1,1\n"),
            "line 1: expected 2 fields `timestamp,value`, found 3"
        );
        assert_eq!(
            err("2024-13-01T00:00:00Z,1\n"),
            "line 1: invalid timestamp `2024-13-01T00:00:00Z`: expected unix seconds, unix milliseconds or RFC 3339"
        );
        let e = parse("1,1\n2,NaN\n", &labels(), &Limits::default()).unwrap_err();
        assert_eq!(e.reason(), "non_finite_value");
        assert!(
            e.to_string()
                .starts_with("line 2: series `temperature{room=\"kitchen\"}`"),
            "{e}"
        );
        assert!(err("1e300,1\n").starts_with("line 1: invalid timestamp `1e300`"));
    }

    #[test]
    fn limits_and_labels() {
        let l = Limits {
            max_samples_per_request: 1,
            ..Limits::default()
        };
        assert_eq!(
            parse("1,1\n2,2\n", &labels(), &l).unwrap_err().reason(),
            "too_many_samples"
        );
        let no_name = Labels::from_pairs([("room", "x")]).unwrap();
        assert_eq!(
            parse("1,1\n", &no_name, &Limits::default())
                .unwrap_err()
                .reason(),
            "invalid_metric_name"
        );
    }
}
