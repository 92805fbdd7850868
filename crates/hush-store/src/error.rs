use std::path::{Path, PathBuf};

/// Errors of the store; input problems are reported per sample in [`crate::AppendOutcome`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("io error on `{path}`: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("corrupt file `{path}`: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("write-ahead log failed: {0}")]
    Wal(String),
    #[error("store `{path}` is in use by another process (a running `hush serve`?)")]
    Locked { path: PathBuf },
    #[error("store is closed")]
    Closed,
    #[error("too many active series (limit {limit})")]
    SeriesLimit { limit: usize },
    #[error("{0}")]
    Internal(String),
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        Self::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
