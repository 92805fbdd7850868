//! One error type for every decoder, with a closed set of reasons the server counts and maps to HTTP.

use hush_model::LabelError;

/// Why a request was rejected, as a closed set with stable short names.
///
/// The server counts rejections by [`Reason::as_str`] and maps them to HTTP status codes;
/// [`Reason::limit`] names the [`crate::Limits`] field a breach refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// The (decompressed) payload is larger than `max_decompressed_bytes`.
    BodyTooLarge,
    /// The snappy block is truncated or corrupt.
    BadSnappy,
    /// The protobuf message does not decode.
    BadProtobuf,
    /// The OTLP/JSON document does not decode.
    BadJson,
    /// The OTLP message decodes but contradicts itself (e.g. bucket counts against bounds).
    BadOtlp,
    /// The exposition text (Prometheus text format or OpenMetrics) is malformed.
    BadExposition,
    /// A CSV import row is malformed.
    BadCsv,
    /// The payload is well-formed but says something Hush does not accept (e.g. delta sums).
    Unsupported,
    /// More series than `max_series_per_request`.
    TooManySeries,
    /// More samples than `max_samples_per_request`.
    TooManySamples,
    /// A series has more labels than `max_labels_per_series`.
    TooManyLabels,
    /// A label name is longer than `max_label_name_len`.
    LabelNameTooLong,
    /// A label value is longer than `max_label_value_len`.
    LabelValueTooLong,
    /// A label name is empty.
    EmptyLabelName,
    /// A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`.
    InvalidLabelName,
    /// The same label name occurs twice in one series.
    DuplicateLabelName,
    /// The series has no `__name__`, or its value is not a valid metric name.
    InvalidMetricName,
    /// A sample value is NaN or infinite (and not a stale marker).
    NonFiniteValue,
    /// A timestamp is missing or out of range.
    InvalidTimestamp,
}

impl Reason {
    /// Every reason, for pre-registering counters.
    pub const ALL: [Reason; 19] = [
        Reason::BodyTooLarge,
        Reason::BadSnappy,
        Reason::BadProtobuf,
        Reason::BadJson,
        Reason::BadOtlp,
        Reason::BadExposition,
        Reason::BadCsv,
        Reason::Unsupported,
        Reason::TooManySeries,
        Reason::TooManySamples,
        Reason::TooManyLabels,
        Reason::LabelNameTooLong,
        Reason::LabelValueTooLong,
        Reason::EmptyLabelName,
        Reason::InvalidLabelName,
        Reason::DuplicateLabelName,
        Reason::InvalidMetricName,
        Reason::NonFiniteValue,
        Reason::InvalidTimestamp,
    ];

    /// A stable snake_case name, suitable as a metric label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::BodyTooLarge => "body_too_large",
            Reason::BadSnappy => "bad_snappy",
            Reason::BadProtobuf => "bad_protobuf",
            Reason::BadJson => "bad_json",
            Reason::BadOtlp => "bad_otlp",
            Reason::BadExposition => "bad_exposition",
            Reason::BadCsv => "bad_csv",
            Reason::Unsupported => "unsupported",
            Reason::TooManySeries => "too_many_series",
            Reason::TooManySamples => "too_many_samples",
            Reason::TooManyLabels => "too_many_labels",
            Reason::LabelNameTooLong => "label_name_too_long",
            Reason::LabelValueTooLong => "label_value_too_long",
            Reason::EmptyLabelName => "empty_label_name",
            Reason::InvalidLabelName => "invalid_label_name",
            Reason::DuplicateLabelName => "duplicate_label_name",
            Reason::InvalidMetricName => "invalid_metric_name",
            Reason::NonFiniteValue => "non_finite_value",
            Reason::InvalidTimestamp => "invalid_timestamp",
        }
    }

    /// The [`crate::Limits`] field this reason reports a breach of, if it is a limit.
    ///
    /// `Some` means "the input was valid but too big" (HTTP 413 for the body, 400/429 otherwise,
    /// as the server decides); `None` means the input itself is malformed or refused.
    pub const fn limit(self) -> Option<&'static str> {
        match self {
            Reason::BodyTooLarge => Some("max_decompressed_bytes"),
            Reason::TooManySeries => Some("max_series_per_request"),
            Reason::TooManySamples => Some("max_samples_per_request"),
            Reason::TooManyLabels => Some("max_labels_per_series"),
            Reason::LabelNameTooLong => Some("max_label_name_len"),
            Reason::LabelValueTooLong => Some("max_label_value_len"),
            _ => None,
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rejected request. Decoding is all-or-nothing: on any error nothing of the request is kept.
///
/// Variants carry what identifies the offending input: the series (rendered in Prometheus
/// notation, shortened), the line and column, the limit that was exceeded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IngestError {
    #[error("payload of {size} bytes exceeds max_decompressed_bytes ({limit})")]
    BodyTooLarge { size: u64, limit: usize },
    #[error("invalid snappy block: {0}")]
    BadSnappy(String),
    #[error("invalid protobuf: {0}")]
    BadProtobuf(String),
    #[error("invalid OTLP/JSON at line {line}, column {column}: {message}")]
    BadJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("metric `{metric}`: {message}")]
    BadOtlp { metric: String, message: String },
    /// A span that contradicts itself (ids of the wrong length, ends before it starts).
    #[error("span `{span}`: {message}")]
    BadSpan { span: String, message: String },
    #[error("line {line}, column {column}: {message}")]
    BadExposition {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("line {line}: {message}")]
    BadCsv { line: usize, message: String },
    #[error("unsupported: {what}")]
    Unsupported { what: String },
    #[error("{count} series exceed max_series_per_request ({limit})")]
    TooManySeries { count: usize, limit: usize },
    #[error("{count} samples exceed max_samples_per_request ({limit})")]
    TooManySamples { count: usize, limit: usize },
    #[error("series `{series}` has {count} labels, more than max_labels_per_series ({limit})")]
    TooManyLabels {
        series: String,
        count: usize,
        limit: usize,
    },
    #[error("series `{series}`: label name of {len} bytes exceeds max_label_name_len ({limit})")]
    LabelNameTooLong {
        series: String,
        len: usize,
        limit: usize,
    },
    #[error(
        "series `{series}`: value of label `{name}` has {len} bytes, more than max_label_value_len ({limit})"
    )]
    LabelValueTooLong {
        series: String,
        name: String,
        len: usize,
        limit: usize,
    },
    #[error("series `{series}`: {source}")]
    InvalidLabels { series: String, source: LabelError },
    #[error("series `{series}` has no metric name")]
    MissingMetricName { series: String },
    #[error("series `{series}`: non-finite value {value} at timestamp {timestamp}")]
    NonFiniteValue {
        series: String,
        value: f64,
        timestamp: i64,
    },
    #[error("series `{series}`: invalid timestamp: {detail}")]
    InvalidTimestamp { series: String, detail: String },
    /// A validation error of a line-oriented input, with the line it came from.
    #[error("line {line}: {source}")]
    AtLine {
        line: usize,
        source: Box<IngestError>,
    },
}

impl IngestError {
    /// The closed reason of this error.
    pub fn kind(&self) -> Reason {
        match self {
            IngestError::BodyTooLarge { .. } => Reason::BodyTooLarge,
            IngestError::BadSnappy(_) => Reason::BadSnappy,
            IngestError::BadProtobuf(_) => Reason::BadProtobuf,
            IngestError::BadJson { .. } => Reason::BadJson,
            IngestError::BadOtlp { .. } | IngestError::BadSpan { .. } => Reason::BadOtlp,
            IngestError::BadExposition { .. } => Reason::BadExposition,
            IngestError::BadCsv { .. } => Reason::BadCsv,
            IngestError::Unsupported { .. } => Reason::Unsupported,
            IngestError::TooManySeries { .. } => Reason::TooManySeries,
            IngestError::TooManySamples { .. } => Reason::TooManySamples,
            IngestError::TooManyLabels { .. } => Reason::TooManyLabels,
            IngestError::LabelNameTooLong { .. } => Reason::LabelNameTooLong,
            IngestError::LabelValueTooLong { .. } => Reason::LabelValueTooLong,
            IngestError::InvalidLabels { source, .. } => match source {
                LabelError::EmptyName => Reason::EmptyLabelName,
                LabelError::InvalidName(_) => Reason::InvalidLabelName,
                LabelError::DuplicateName(_) => Reason::DuplicateLabelName,
                LabelError::InvalidMetricName(_) => Reason::InvalidMetricName,
            },
            IngestError::MissingMetricName { .. } => Reason::InvalidMetricName,
            IngestError::NonFiniteValue { .. } => Reason::NonFiniteValue,
            IngestError::InvalidTimestamp { .. } => Reason::InvalidTimestamp,
            IngestError::AtLine { source, .. } => source.kind(),
        }
    }

    /// Wraps a validation error with the input line it came from.
    pub(crate) fn at_line(self, line: usize) -> IngestError {
        IngestError::AtLine {
            line,
            source: Box::new(self),
        }
    }

    /// The stable short name of [`IngestError::kind`], e.g. `too_many_series`.
    pub fn reason(&self) -> &'static str {
        self.kind().as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_names_are_unique_snake_case() {
        let mut names: Vec<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert!(
            names
                .iter()
                .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Reason::ALL.len());
    }

    #[test]
    fn label_errors_map_to_specific_reasons() {
        let e = IngestError::InvalidLabels {
            series: "x".into(),
            source: LabelError::DuplicateName("a".into()),
        };
        assert_eq!(e.reason(), "duplicate_label_name");
        assert_eq!(e.to_string(), "series `x`: duplicate label name `a`");
        assert_eq!(
            Reason::TooManySeries.limit(),
            Some("max_series_per_request")
        );
        assert_eq!(Reason::BadSnappy.limit(), None);
    }
}
