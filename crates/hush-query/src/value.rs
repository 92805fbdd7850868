//! Query results, shaped like the `data` of Prometheus' query API.

use hush_model::{Labels, Sample, TimeSeries};

/// The bit pattern Prometheus writes as a stale marker: a NaN that ends a series.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `v` is a stale marker (not merely any NaN).
pub fn is_stale_marker(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// The result of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A single number at a time (ms).
    Scalar(i64, f64),
    /// One sample per series, all at the evaluation time.
    Vector(Vec<(Labels, Sample)>),
    /// Samples over time per series; range queries always answer with this.
    Matrix(Vec<TimeSeries>),
    /// A string literal at a time (ms).
    String(i64, String),
}

impl Value {
    /// Prometheus' `resultType`: `scalar`, `vector`, `matrix` or `string`.
    pub fn result_type(&self) -> &'static str {
        match self {
            Value::Scalar(..) => "scalar",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
            Value::String(..) => "string",
        }
    }
}

/// Formats a sample value the way Prometheus' JSON does: shortest round-trip decimal,
/// `NaN`, `+Inf`, `-Inf`.
pub fn format_sample_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        // Rust's Display never uses an exponent and prints the shortest round-trip digits,
        // as Go's `strconv.FormatFloat(v, 'f', -1, 64)` does.
        format!("{v}")
    }
}

/// Converts a millisecond timestamp to the seconds Prometheus' JSON carries (`1435781451.781`).
pub fn timestamp_seconds(t_ms: i64) -> f64 {
    t_ms as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_prometheus() {
        assert_eq!(format_sample_value(1.0), "1");
        assert_eq!(format_sample_value(0.1), "0.1");
        assert_eq!(format_sample_value(1e21), "1000000000000000000000");
        assert_eq!(format_sample_value(f64::NAN), "NaN");
        assert_eq!(format_sample_value(f64::INFINITY), "+Inf");
        assert_eq!(format_sample_value(f64::NEG_INFINITY), "-Inf");
        assert_eq!(timestamp_seconds(1_435_781_451_781), 1_435_781_451.781);
    }

    #[test]
    fn stale_marker_is_one_specific_nan() {
        assert!(is_stale_marker(f64::from_bits(STALE_NAN_BITS)));
        assert!(!is_stale_marker(f64::NAN));
        assert!(!is_stale_marker(1.0));
    }
}
