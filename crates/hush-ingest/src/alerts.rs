//! Alert decoders: Alertmanager's webhook payload (version 4) and Hush's generic JSON alert
//! schema, both into [`hush_correlate::Alert`], the type the correlator takes.
//!
//! Like the metric decoders they are all-or-nothing: one bad alert refuses the whole request
//! with an [`AlertDecodeError`] naming the alert (by position) and what was wrong, so a sender
//! that retries never half-delivers a batch.
//!
//! Generic schema (`POST /api/v1/alerts`): either `{"alerts": [ … ]}` or a bare array of
//! alerts, each
//! `{"labels": {…}, "annotations": {…}, "status": "firing"|"resolved", "startsAt": RFC 3339,
//! "endsAt": RFC 3339, "fingerprint": "…"}` where only `labels` is required; `status` defaults
//! to firing, `startsAt` to the time of receipt, and the fingerprint to Alertmanager's hash of
//! the sorted labels. A firing alert with an `endsAt` is considered resolved at that time
//! unless re-sent (Alertmanager's API semantics).

use std::collections::BTreeMap;

use chrono::DateTime;
use hush_correlate::{Alert, AlertStatus, fingerprint};
use hush_model::is_valid_label_name;
use serde::Deserialize;

/// Earliest believable alert time: 2000-01-01T00:00:00Z.
const EARLIEST_MS: i64 = 946_684_800_000;
/// Latest believable alert time, relative to receipt: clocks drift, but not by a day.
const MAX_FUTURE_MS: i64 = 86_400_000;

/// Caps on one alert request; the label caps mirror the metric [`crate::Limits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertLimits {
    /// Alerts in one request.
    pub max_alerts: usize,
    /// Labels of one alert.
    pub max_labels: usize,
    /// Bytes of one label or annotation name.
    pub max_name_len: usize,
    /// Bytes of one label value.
    pub max_value_len: usize,
    /// Bytes of one alert's annotations, names and values together.
    pub max_annotation_bytes: usize,
}

impl Default for AlertLimits {
    fn default() -> Self {
        Self::from(&crate::Limits::default())
    }
}

impl From<&crate::Limits> for AlertLimits {
    fn from(l: &crate::Limits) -> Self {
        Self {
            max_alerts: 10_000,
            max_labels: l.max_labels_per_series,
            max_name_len: l.max_label_name_len,
            max_value_len: l.max_label_value_len,
            max_annotation_bytes: 32 * 1024,
        }
    }
}

/// Why an alert request was refused. [`AlertDecodeError::reason`] is a stable short string for
/// counting; the message names the alert and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertDecodeError {
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("unsupported Alertmanager webhook version `{0}`; expected \"4\"")]
    Version(String),
    #[error("missing field `{0}`")]
    MissingTop(&'static str),
    #[error("alert {index}: missing field `{field}`")]
    Missing { index: usize, field: &'static str },
    #[error("alert {index}: `status` is `{value}`; expected `firing` or `resolved`")]
    Status { index: usize, value: String },
    #[error("alert {index}: `{field}` is `{value}`: {why}")]
    Timestamp {
        index: usize,
        field: &'static str,
        value: String,
        why: String,
    },
    #[error("{count} alerts in one request, more than the limit of {max}")]
    TooManyAlerts { count: usize, max: usize },
    #[error("alert {index}: {count} labels, more than the limit of {max}")]
    TooManyLabels {
        index: usize,
        count: usize,
        max: usize,
    },
    #[error("alert {index}: invalid label name `{name}`")]
    LabelName { index: usize, name: String },
    #[error("alert {index}: {error}")]
    Labels { index: usize, error: String },
    #[error("alert {index}: label `{name}` is {len} bytes long, more than the limit of {max}")]
    LabelTooLong {
        index: usize,
        name: String,
        len: usize,
        max: usize,
    },
    #[error("alert {index}: annotations are {bytes} bytes, more than the limit of {max}")]
    AnnotationsTooLarge {
        index: usize,
        bytes: usize,
        max: usize,
    },
    #[error("alert {index}: `labels` is empty")]
    NoLabels { index: usize },
}

impl AlertDecodeError {
    /// A stable short name of the kind of problem.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Json(_) => "bad_json",
            Self::Version(_) => "unsupported_version",
            Self::MissingTop(_) | Self::Missing { .. } => "missing_field",
            Self::Status { .. } => "bad_status",
            Self::Timestamp { .. } => "bad_timestamp",
            Self::TooManyAlerts { .. } => "too_many_alerts",
            Self::TooManyLabels { .. } => "too_many_labels",
            Self::LabelName { .. } | Self::Labels { .. } => "invalid_label_name",
            Self::LabelTooLong { .. } => "label_too_long",
            Self::AnnotationsTooLarge { .. } => "annotations_too_large",
            Self::NoLabels { .. } => "empty_labels",
        }
    }
}

/// One alert as both formats spell it; every field optional so a missing one is reported by
/// name and position rather than by serde's byte offset.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireAlert {
    status: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    fingerprint: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookWire {
    version: Option<String>,
    alerts: Option<Vec<WireAlert>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum GenericWire {
    List(Vec<WireAlert>),
    Wrapped { alerts: Option<Vec<WireAlert>> },
}

/// Which format, for the few rules that differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Alertmanager,
    Generic,
}

/// Decodes an Alertmanager webhook body (version 4) received at `now` (epoch ms).
///
/// Required: `alerts`, and in each alert `status`, `labels` and `startsAt`. The `endsAt` of a
/// firing alert is ignored: Alertmanager sets it to its own resolve timeout but re-sends only
/// every `repeat_interval`, and it sends an explicit resolved notification when the alert ends.
pub fn decode_alertmanager(
    body: &[u8],
    now: i64,
    limits: &AlertLimits,
) -> Result<Vec<Alert>, AlertDecodeError> {
    let wire: WebhookWire = parse_json(body)?;
    if let Some(v) = wire.version.filter(|v| v != "4") {
        return Err(AlertDecodeError::Version(v));
    }
    let alerts = wire.alerts.ok_or(AlertDecodeError::MissingTop("alerts"))?;
    convert(alerts, now, limits, Format::Alertmanager)
}

/// Decodes a body of the generic alert schema (see the module documentation).
pub fn decode_generic(
    body: &[u8],
    now: i64,
    limits: &AlertLimits,
) -> Result<Vec<Alert>, AlertDecodeError> {
    let alerts = match parse_json::<GenericWire>(body)? {
        GenericWire::List(a) => a,
        GenericWire::Wrapped { alerts } => alerts.ok_or(AlertDecodeError::MissingTop("alerts"))?,
    };
    convert(alerts, now, limits, Format::Generic)
}

fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, AlertDecodeError> {
    serde_json::from_slice(body).map_err(|e| AlertDecodeError::Json(e.to_string()))
}

fn convert(
    wire: Vec<WireAlert>,
    now: i64,
    limits: &AlertLimits,
    format: Format,
) -> Result<Vec<Alert>, AlertDecodeError> {
    if wire.len() > limits.max_alerts {
        return Err(AlertDecodeError::TooManyAlerts {
            count: wire.len(),
            max: limits.max_alerts,
        });
    }
    wire.into_iter()
        .enumerate()
        .map(|(index, w)| one(index, w, now, limits, format))
        .collect()
}

fn one(
    index: usize,
    w: WireAlert,
    now: i64,
    limits: &AlertLimits,
    format: Format,
) -> Result<Alert, AlertDecodeError> {
    let missing = |field| AlertDecodeError::Missing { index, field };
    let status = match (w.status.as_deref(), format) {
        (Some("firing"), _) | (None, Format::Generic) => AlertStatus::Firing,
        (Some("resolved"), _) => AlertStatus::Resolved,
        (Some(other), _) => {
            return Err(AlertDecodeError::Status {
                index,
                value: truncate(other),
            });
        }
        (None, Format::Alertmanager) => return Err(missing("status")),
    };
    let labels = w.labels.ok_or_else(|| missing("labels"))?;
    check_labels(index, &labels, limits)?;
    let ann_bytes = w
        .annotations
        .iter()
        .map(|(k, v)| k.len().saturating_add(v.len()))
        .fold(0usize, usize::saturating_add);
    if ann_bytes > limits.max_annotation_bytes {
        return Err(AlertDecodeError::AnnotationsTooLarge {
            index,
            bytes: ann_bytes,
            max: limits.max_annotation_bytes,
        });
    }
    let starts_at = match (w.starts_at.as_deref(), format) {
        (Some(s), _) => time(index, "startsAt", s, now)?,
        (None, Format::Generic) => None,
        (None, Format::Alertmanager) => return Err(missing("startsAt")),
    };
    let starts_at = match (starts_at, format) {
        (Some(t), _) => t,
        (None, Format::Generic) => now,
        // Go's zero time: Alertmanager never sends it for a start.
        (None, Format::Alertmanager) => {
            return Err(AlertDecodeError::Timestamp {
                index,
                field: "startsAt",
                value: w.starts_at.unwrap_or_default(),
                why: "the zero time is not a start".into(),
            });
        }
    };
    let ends_at = match w.ends_at.as_deref() {
        Some(s) => time(index, "endsAt", s, now)?,
        None => None,
    };
    let ends_at = match (status, format) {
        (AlertStatus::Firing, Format::Alertmanager) => None,
        _ => ends_at,
    };
    if let Some(e) = ends_at
        && e < starts_at
        && status == AlertStatus::Resolved
    {
        return Err(AlertDecodeError::Timestamp {
            index,
            field: "endsAt",
            value: w.ends_at.unwrap_or_default(),
            why: "before `startsAt`".into(),
        });
    }
    let fingerprint = match w.fingerprint.filter(|f| !f.is_empty()) {
        Some(f) if f.len() <= 64 => f,
        Some(f) => {
            return Err(AlertDecodeError::LabelTooLong {
                index,
                name: "fingerprint".into(),
                len: f.len(),
                max: 64,
            });
        }
        None => fingerprint(&labels),
    };
    Ok(Alert {
        fingerprint,
        status,
        labels,
        annotations: w.annotations,
        starts_at,
        ends_at,
        received_at: now,
    })
}

fn check_labels(
    index: usize,
    labels: &BTreeMap<String, String>,
    limits: &AlertLimits,
) -> Result<(), AlertDecodeError> {
    if labels.len() > limits.max_labels {
        return Err(AlertDecodeError::TooManyLabels {
            index,
            count: labels.len(),
            max: limits.max_labels,
        });
    }
    if labels.is_empty() {
        return Err(AlertDecodeError::NoLabels { index });
    }
    for (k, v) in labels {
        if k.len() > limits.max_name_len {
            return Err(AlertDecodeError::LabelTooLong {
                index,
                name: truncate(k),
                len: k.len(),
                max: limits.max_name_len,
            });
        }
        if !is_valid_label_name(k) {
            return Err(AlertDecodeError::LabelName {
                index,
                name: truncate(k),
            });
        }
        if v.len() > limits.max_value_len {
            return Err(AlertDecodeError::LabelTooLong {
                index,
                name: k.clone(),
                len: v.len(),
                max: limits.max_value_len,
            });
        }
    }
    // The metric-name rule applies too: alerts are stored with the same label type.
    hush_model::Labels::from_pairs(labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(
        |e| AlertDecodeError::Labels {
            index,
            error: e.to_string(),
        },
    )?;
    Ok(())
}

/// Parses an RFC 3339 time; Go's zero time (`0001-01-01T00:00:00Z`, what Alertmanager writes
/// for "no time") is `None`; anything before 2000 or more than a day past `now` is refused.
fn time(
    index: usize,
    field: &'static str,
    s: &str,
    now: i64,
) -> Result<Option<i64>, AlertDecodeError> {
    let bad = |why: String| AlertDecodeError::Timestamp {
        index,
        field,
        value: truncate(s),
        why,
    };
    let t =
        DateTime::parse_from_rfc3339(s).map_err(|e| bad(format!("not an RFC 3339 time ({e})")))?;
    if t.timestamp() == -62_135_596_800 {
        return Ok(None);
    }
    let ms = t.timestamp_millis();
    if ms < EARLIEST_MS {
        return Err(bad("before the year 2000".into()));
    }
    if ms > now.saturating_add(MAX_FUTURE_MS) {
        return Err(bad("more than a day in the future".into()));
    }
    Ok(Some(ms))
}

/// Echoed input is cut short so an error message stays small.
fn truncate(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests;
