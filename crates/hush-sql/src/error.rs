//! The one error type of the crate, and its classification.

use crate::audit::AuditBreak;

/// Everything that can go wrong in the SQL store.
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("unsupported database url `{url}`: expected sqlite:// or postgres://")]
    UnsupportedUrl {
        /// The URL with any password removed.
        url: String,
    },
    /// The URL could not be parsed into connection options.
    #[error("invalid database url `{url}`")]
    InvalidUrl {
        /// The URL with any password removed.
        url: String,
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
    /// The database could not be reached or opened.
    #[error("failed to connect to `{url}`")]
    Connect {
        /// The URL with any password removed.
        url: String,
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
    /// Applying the embedded migrations failed.
    #[error("failed to migrate `{url}`")]
    Migrate {
        /// The URL with any password removed.
        url: String,
        /// What the migrator said.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed; `op` names what the store was doing.
    #[error("failed to {op}")]
    Query {
        /// The operation, e.g. `upsert alert`.
        op: &'static str,
        /// What the driver said.
        #[source]
        source: sqlx::Error,
    },
    /// A row the caller named does not exist.
    #[error("{entity} `{id}` not found")]
    NotFound {
        /// The kind of row, e.g. `incident`.
        entity: &'static str,
        /// Its id.
        id: String,
    },
    /// A caller-supplied value is outside what the store accepts.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// A stored row does not decode into its type (edited by hand, or a newer schema).
    #[error("stored {entity} `{id}` is malformed: {reason}")]
    Malformed {
        /// The kind of row.
        entity: &'static str,
        /// Its id.
        id: String,
        /// What did not decode.
        reason: String,
    },
    /// The audit hash chain does not verify.
    #[error("audit chain broken at entry {}: {}", .0.seq, .0.reason)]
    AuditChainBroken(AuditBreak),
}

/// The classes an error falls into, so callers (the HTTP layer) map them in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller asked for something malformed.
    InvalidInput,
    /// The caller named a row that does not exist.
    NotFound,
    /// The database is unreachable or busy; retrying may help.
    Unavailable,
    /// Anything else: a bug, corruption, a broken audit chain.
    Internal,
}

impl SqlError {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::UnsupportedUrl { .. } | Self::InvalidUrl { .. } | Self::Invalid { .. } => {
                ErrorKind::InvalidInput
            }
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Connect { .. } => ErrorKind::Unavailable,
            Self::Query { source, .. } => match source {
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                    ErrorKind::Unavailable
                }
                _ => ErrorKind::Internal,
            },
            Self::Migrate { .. } | Self::Malformed { .. } | Self::AuditChainBroken(_) => {
                ErrorKind::Internal
            }
        }
    }
}

/// Attaches the operation name to a driver error.
pub(crate) trait OpContext<T> {
    fn op(self, op: &'static str) -> Result<T, SqlError>;
}

impl<T> OpContext<T> for Result<T, sqlx::Error> {
    fn op(self, op: &'static str) -> Result<T, SqlError> {
        self.map_err(|source| SqlError::Query { op, source })
    }
}
