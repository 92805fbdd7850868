//! Errors of the RCA crate; each variant names the input that caused it.

/// What can go wrong when asking for a root-cause analysis.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RcaError {
    /// The incident's target service is not in the graph.
    #[error("target service `{0}` is not in the service graph")]
    UnknownTarget(String),
    /// A series names a service the graph does not know.
    #[error("series `{series}` belongs to service `{service}`, which is not in the service graph")]
    UnknownService {
        /// The service named by the series.
        service: String,
        /// The series' display name.
        series: String,
    },
    /// A time range whose end precedes its start.
    #[error("{what} time range is empty or reversed: {start}..{end}")]
    BadRange {
        /// Which range (baseline or incident).
        what: &'static str,
        /// Range start, Unix seconds.
        start: i64,
        /// Range end, Unix seconds.
        end: i64,
    },
    /// A series whose values and timestamps differ in length.
    #[error("series `{0}` has a different number of timestamps and values")]
    RaggedSeries(String),
    /// A configuration value outside its allowed range.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}
