use crate::Labels;

/// Milliseconds since the Unix epoch, the unit Prometheus uses on the wire and in its API.
pub type Timestamp = i64;

/// One observation of one series.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub t: Timestamp,
    /// The value; NaN and infinities are legal here (Prometheus uses a NaN for stale markers),
    /// ingestion decides what it accepts.
    pub v: f64,
}

impl Sample {
    pub const fn new(t: Timestamp, v: f64) -> Self {
        Self { t, v }
    }
}

/// A label set and samples for it, in the order they were received.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TimeSeries {
    pub labels: Labels,
    pub samples: Vec<Sample>,
}

impl TimeSeries {
    pub fn new(labels: Labels, samples: Vec<Sample>) -> Self {
        Self { labels, samples }
    }
}
