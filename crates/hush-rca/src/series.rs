//! Series as the ranker sees them: a key saying which service and what kind of signal, and
//! (time, value) points. Missing values are `NaN` and are skipped everywhere.

use serde::Serialize;

/// The kind of signal a series carries; it fixes which direction is bad and how to word it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Response time; up is bad.
    Latency,
    /// Share of successful requests (0–1 or 0–100); down is bad.
    Availability,
    /// Errors per second or error ratio; up is bad.
    Errors,
    /// Request or message rate; a move either way is suspicious.
    Throughput,
    /// CPU, memory, queue depth, connections; up is bad.
    Saturation,
    /// Count of one log template; up is bad.
    LogTemplate,
    /// Anything else; a move either way counts.
    Other,
}

/// Which direction of movement counts as a departure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadDirection {
    /// Rising is bad.
    Up,
    /// Falling is bad.
    Down,
    /// Either way.
    Both,
}

impl MetricKind {
    /// The direction in which this kind of signal gets worse.
    pub fn bad_direction(self) -> BadDirection {
        match self {
            MetricKind::Availability => BadDirection::Down,
            MetricKind::Throughput | MetricKind::Other => BadDirection::Both,
            _ => BadDirection::Up,
        }
    }

    /// Whether values are a bounded ratio, whose noise floor is a share of full scale.
    pub fn is_ratio(self) -> bool {
        matches!(self, MetricKind::Availability)
    }
}

/// Identifies one series: the service it describes, its kind and a display name
/// (`"latency p90"`, a log template, `"cpu"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SeriesKey {
    /// Service (graph node) the series belongs to.
    pub service: String,
    /// Kind of signal.
    pub kind: MetricKind,
    /// Display name, unique within the service.
    pub name: String,
}

impl SeriesKey {
    /// A key from its parts.
    pub fn new(service: impl Into<String>, kind: MetricKind, name: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            kind,
            name: name.into(),
        }
    }
}

impl std::fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.service, self.name)
    }
}

/// A series: timestamps (Unix seconds, ascending) and values (`NaN` = missing).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// What the series is.
    pub key: SeriesKey,
    /// Sample times, Unix seconds, ascending.
    pub times: Vec<i64>,
    /// Sample values, same length as `times`.
    pub values: Vec<f64>,
}

impl Series {
    /// A series from its key and aligned times and values.
    pub fn new(key: SeriesKey, times: Vec<i64>, values: Vec<f64>) -> Self {
        Self { key, times, values }
    }

    /// Finite values whose time lies in `[start, end]`.
    pub(crate) fn values_in(&self, start: i64, end: i64) -> impl Iterator<Item = (i64, f64)> + '_ {
        self.times
            .iter()
            .zip(&self.values)
            .filter(move |(t, v)| **t >= start && **t <= end && v.is_finite())
            .map(|(t, v)| (*t, *v))
    }
}
