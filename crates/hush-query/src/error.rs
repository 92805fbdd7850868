//! What can go wrong while parsing or evaluating a query.

use crate::storage::StorageError;

/// Why a query failed.
///
/// [`QueryError::Parse`], [`QueryError::Unsupported`] and [`QueryError::InvalidQuery`] are the
/// caller's fault (HTTP 400, Prometheus' `bad_data`); [`QueryError::Execution`] and
/// [`QueryError::TooManySamples`] arise from the data (Prometheus answers 422, `execution`);
/// [`QueryError::Storage`] is ours (5xx).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// The query string is not valid PromQL.
    #[error("parse error: {0}")]
    Parse(String),
    /// Valid PromQL that Hush does not evaluate; the payload names the construct.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Valid syntax with an invalid argument: a bad regex, label name, step or time range.
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The data made the query unanswerable, e.g. duplicate series in a one-to-one match.
    #[error("execution failed: {0}")]
    Execution(String),
    /// The query would hold more samples in memory than the engine allows.
    #[error("query processing would load too many samples into memory (limit {limit})")]
    TooManySamples {
        /// The configured [`EngineOptions::max_samples`](crate::EngineOptions::max_samples).
        limit: usize,
    },
    /// The storage could not be read.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl QueryError {
    /// Whether the query itself is at fault (maps to HTTP 400).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Self::Parse(_) | Self::Unsupported(_) | Self::InvalidQuery(_)
        )
    }

    pub(crate) fn unsupported(what: impl Into<String>) -> Self {
        Self::Unsupported(what.into())
    }
}
