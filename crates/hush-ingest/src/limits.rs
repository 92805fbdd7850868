//! Limits and validation, in one place for every decoder.
//!
//! Every decoder funnels label pairs through [`Limits::labels`] and samples through
//! [`Limits::check_value`], and counts what it produced with a [`Budget`], so the same input is
//! judged the same way whichever protocol carried it.

use crate::IngestError;
use hush_model::{LabelError, Labels, LabelsBuilder, METRIC_NAME, is_valid_label_name};

/// The bit pattern Prometheus writes as a *stale marker*: a NaN that says "this series ended".
///
/// It is a protocol signal, not a measurement, so it is accepted and must be kept bit-exact.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// Whether `v` is Prometheus' stale marker (compares bits: every NaN compares unequal).
pub fn is_stale_marker(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// The stale marker as a value.
pub fn stale_marker() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// What to do with a NaN or infinite sample value (stale markers are always kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NonFinite {
    /// Reject the whole request with [`crate::Reason::NonFiniteValue`]; the default.
    #[default]
    Reject,
    /// Drop such samples silently (a series left without samples is dropped too). Meant for
    /// scrapes, where one summary quantile reported as `NaN` should not lose the whole target.
    Drop,
}

/// Caps on one request, checked before the caller stores anything.
///
/// Defaults follow Grafana Mimir's per-tenant defaults where one exists (label name 1024 bytes,
/// value 2048 bytes); `max_labels_per_series` is 64 rather than Mimir's 30 because OTLP resource
/// attributes become labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Distinct series in one request.
    pub max_series_per_request: usize,
    /// Samples in one request, summed over its series.
    pub max_samples_per_request: usize,
    /// Labels of one series, `__name__` included.
    pub max_labels_per_series: usize,
    /// Bytes of one label name.
    pub max_label_name_len: usize,
    /// Bytes of one label value (the metric name included).
    pub max_label_value_len: usize,
    /// Bytes of the payload after decompression; uncompressed payloads count as they are.
    pub max_decompressed_bytes: usize,
    /// Policy for NaN and infinite values.
    pub non_finite: NonFinite,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_series_per_request: 100_000,
            max_samples_per_request: 1_000_000,
            max_labels_per_series: 64,
            max_label_name_len: 1024,
            max_label_value_len: 2048,
            max_decompressed_bytes: 64 << 20,
            non_finite: NonFinite::Reject,
        }
    }
}

/// Metric names are label names that may also contain `:` (recording rules use it).
fn is_valid_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(b) if b.is_ascii_alphabetic() || b == b'_' || b == b':' => {}
        _ => return false,
    }
    bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// The first name that occurs twice. Senders usually sort labels (Prometheus does), which makes
/// the check linear; otherwise it is quadratic over a count already capped by the limits.
fn duplicate_name(pairs: &[(String, String)]) -> Option<&str> {
    if pairs.windows(2).all(|w| w[0].0 < w[1].0) {
        return None;
    }
    pairs
        .iter()
        .enumerate()
        .find(|(i, (k, _))| pairs[..*i].iter().any(|(j, _)| j == k))
        .map(|(_, (k, _))| k.as_str())
}

/// Longest series description an error carries; label sets can be kilobytes.
const DESCRIBE_MAX: usize = 200;

/// Renders label pairs like Prometheus (`name{a="1", b="2"}`), shortened for error messages.
pub(crate) fn describe(pairs: &[(String, String)]) -> String {
    let mut s = String::new();
    if let Some((_, n)) = pairs.iter().find(|(k, _)| k == METRIC_NAME) {
        s.push_str(n);
    }
    s.push('{');
    let mut first = true;
    for (k, v) in pairs.iter().filter(|(k, _)| k != METRIC_NAME) {
        if !first {
            s.push_str(", ");
        }
        first = false;
        s.push_str(&format!("{k}={v:?}"));
        if s.len() > DESCRIBE_MAX {
            break;
        }
    }
    s.push('}');
    truncate(s)
}

/// Cuts `s` to [`DESCRIBE_MAX`] bytes on a character boundary, marking the cut.
pub(crate) fn truncate(mut s: String) -> String {
    if s.len() > DESCRIBE_MAX {
        let mut cut = DESCRIBE_MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

impl Limits {
    /// Rejects a payload bigger than `max_decompressed_bytes`.
    pub(crate) fn check_size(&self, size: u64) -> Result<(), IngestError> {
        if size > self.max_decompressed_bytes as u64 {
            return Err(IngestError::BodyTooLarge {
                size,
                limit: self.max_decompressed_bytes,
            });
        }
        Ok(())
    }

    /// Validates label pairs into a [`Labels`]: counts, lengths, names, duplicates, metric name.
    /// Pairs with an empty value mean "absent" and are dropped, as in Prometheus.
    pub(crate) fn labels(&self, pairs: Vec<(String, String)>) -> Result<Labels, IngestError> {
        let present = pairs.iter().filter(|(_, v)| !v.is_empty()).count();
        if present > self.max_labels_per_series {
            return Err(IngestError::TooManyLabels {
                series: describe(&pairs),
                count: present,
                limit: self.max_labels_per_series,
            });
        }
        for (k, v) in &pairs {
            if k.len() > self.max_label_name_len {
                return Err(IngestError::LabelNameTooLong {
                    series: describe(&pairs),
                    len: k.len(),
                    limit: self.max_label_name_len,
                });
            }
            if v.len() > self.max_label_value_len {
                return Err(IngestError::LabelValueTooLong {
                    series: describe(&pairs),
                    name: truncate(k.clone()),
                    len: v.len(),
                    limit: self.max_label_value_len,
                });
            }
        }
        // Check names on borrowed pairs so the error can describe the series; the builder then
        // takes the strings by move (it would refuse the same inputs, but could not say which
        // series they belong to).
        let invalid = |source| {
            Err(IngestError::InvalidLabels {
                series: describe(&pairs),
                source,
            })
        };
        for (k, v) in &pairs {
            if k.is_empty() {
                return invalid(LabelError::EmptyName);
            }
            if !is_valid_label_name(k) {
                return invalid(LabelError::InvalidName(truncate(k.clone())));
            }
            if k == METRIC_NAME && !v.is_empty() && !is_valid_metric_name(v) {
                return invalid(LabelError::InvalidMetricName(truncate(v.clone())));
            }
        }
        if let Some(dup) = duplicate_name(&pairs) {
            return invalid(LabelError::DuplicateName(dup.to_string()));
        }
        if !pairs.iter().any(|(k, v)| k == METRIC_NAME && !v.is_empty()) {
            return Err(IngestError::MissingMetricName {
                series: describe(&pairs),
            });
        }
        let mut b = LabelsBuilder::with_capacity(pairs.len());
        for (k, v) in pairs {
            b.push(k, v);
        }
        let labels = b.build().map_err(|source| IngestError::InvalidLabels {
            series: String::new(),
            source,
        })?;
        Ok(labels)
    }

    /// Applies the non-finite policy to one value: `Ok(true)` keep, `Ok(false)` drop.
    pub(crate) fn check_value(&self, labels: &Labels, t: i64, v: f64) -> Result<bool, IngestError> {
        if v.is_finite() || is_stale_marker(v) {
            return Ok(true);
        }
        match self.non_finite {
            NonFinite::Drop => Ok(false),
            NonFinite::Reject => Err(IngestError::NonFiniteValue {
                series: truncate(labels.to_string()),
                value: v,
                timestamp: t,
            }),
        }
    }
}

/// Counts series and samples of one request against the limits, failing as soon as one is passed.
#[derive(Debug)]
pub(crate) struct Budget<'a> {
    limits: &'a Limits,
    series: usize,
    samples: usize,
}

impl<'a> Budget<'a> {
    pub(crate) fn new(limits: &'a Limits) -> Self {
        Self {
            limits,
            series: 0,
            samples: 0,
        }
    }

    pub(crate) fn add_series(&mut self, n: usize) -> Result<(), IngestError> {
        self.series += n;
        if self.series > self.limits.max_series_per_request {
            return Err(IngestError::TooManySeries {
                count: self.series,
                limit: self.limits.max_series_per_request,
            });
        }
        Ok(())
    }

    pub(crate) fn add_samples(&mut self, n: usize) -> Result<(), IngestError> {
        self.samples += n;
        if self.samples > self.limits.max_samples_per_request {
            return Err(IngestError::TooManySamples {
                count: self.samples,
                limit: self.limits.max_samples_per_request,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn labels_validate_and_name_the_series() {
        let l = Limits::default();
        let ok = l
            .labels(pairs(&[("job", "a"), ("__name__", "up"), ("empty", "")]))
            .unwrap();
        assert_eq!(ok.to_string(), r#"up{job="a"}"#);

        let e = l
            .labels(pairs(&[("__name__", "up"), ("a", "1"), ("a", "2")]))
            .unwrap_err();
        assert_eq!(e.reason(), "duplicate_label_name");
        assert!(e.to_string().contains(r#"up{a="1", a="2"}"#), "{e}");

        let e = l
            .labels(pairs(&[("__name__", "up"), ("", "1")]))
            .unwrap_err();
        assert_eq!(e.reason(), "empty_label_name");
        let e = l
            .labels(pairs(&[("__name__", "up"), ("a.b", "1")]))
            .unwrap_err();
        assert_eq!(e.reason(), "invalid_label_name");
        let e = l.labels(pairs(&[("job", "x")])).unwrap_err();
        assert_eq!(e.reason(), "invalid_metric_name");
        assert_eq!(e.to_string(), r#"series `{job="x"}` has no metric name"#);
    }

    #[test]
    fn length_and_count_limits() {
        let l = Limits {
            max_labels_per_series: 2,
            max_label_name_len: 8,
            max_label_value_len: 3,
            ..Limits::default()
        };
        let e = l
            .labels(pairs(&[("__name__", "up"), ("a", "1"), ("b", "2")]))
            .unwrap_err();
        assert_eq!(e.reason(), "too_many_labels");
        let e = l
            .labels(pairs(&[("__name__", "up"), ("abcdefghi", "1")]))
            .unwrap_err();
        assert_eq!(e.reason(), "label_name_too_long");
        let e = l
            .labels(pairs(&[("__name__", "up"), ("a", "1234")]))
            .unwrap_err();
        assert_eq!(e.reason(), "label_value_too_long");
        assert!(e.to_string().contains("label `a` has 4 bytes"), "{e}");
    }

    #[test]
    fn non_finite_policy_keeps_stale_markers() {
        let labels = Labels::from_pairs([("__name__", "up")]).unwrap();
        let l = Limits::default();
        assert!(l.check_value(&labels, 1, stale_marker()).unwrap());
        let e = l.check_value(&labels, 7, f64::NAN).unwrap_err();
        assert_eq!(e.reason(), "non_finite_value");
        assert_eq!(
            e.to_string(),
            "series `up{}`: non-finite value NaN at timestamp 7"
        );
        assert_eq!(
            l.check_value(&labels, 1, f64::NEG_INFINITY)
                .unwrap_err()
                .reason(),
            "non_finite_value"
        );
        let drop = Limits {
            non_finite: NonFinite::Drop,
            ..Limits::default()
        };
        assert!(!drop.check_value(&labels, 1, f64::INFINITY).unwrap());
    }

    #[test]
    fn describe_truncates_on_char_boundary() {
        let long = "é".repeat(300);
        let d = describe(&pairs(&[("__name__", "m"), ("a", &long)]));
        assert!(d.len() <= DESCRIBE_MAX + '…'.len_utf8());
        assert!(d.ends_with('…'));
    }

    #[test]
    fn budget_fails_past_the_limit() {
        let l = Limits {
            max_series_per_request: 2,
            max_samples_per_request: 3,
            ..Limits::default()
        };
        let mut b = Budget::new(&l);
        b.add_series(2).unwrap();
        assert_eq!(b.add_series(1).unwrap_err().reason(), "too_many_series");
        b.add_samples(3).unwrap();
        assert_eq!(b.add_samples(1).unwrap_err().reason(), "too_many_samples");
    }
}
