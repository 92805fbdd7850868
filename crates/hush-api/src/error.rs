//! The one place errors become HTTP responses, in Prometheus' error envelope.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An API error: a status, Prometheus' `errorType` and a message for the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (429 and 503 the client should retry).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn bad_data(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: "bad_data",
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            retry_after: None,
        }
    }
    /// Server-side failures: logged in full, answered without internals.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(context, error = %err, "request failed");
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "internal",
            message: format!("{context} failed"),
            retry_after: None,
        }
    }
}

impl From<hush_ingest::IngestError> for ApiError {
    fn from(e: hush_ingest::IngestError) -> Self {
        use hush_ingest::Reason as R;
        let status = match e.kind() {
            R::BodyTooLarge | R::TooManySeries | R::TooManySamples => StatusCode::PAYLOAD_TOO_LARGE,
            R::Unsupported => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        Self {
            status,
            kind: "bad_data",
            message: format!("{}: {e}", e.reason()),
            retry_after: None,
        }
    }
}

impl From<hush_query::QueryError> for ApiError {
    fn from(e: hush_query::QueryError) -> Self {
        match e {
            hush_query::QueryError::Storage(s) => Self::internal("query", s),
            e if e.is_bad_input() => Self::bad_data(e.to_string()),
            hush_query::QueryError::TooManySamples { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "execution", e.to_string())
            }
            e => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "execution", e.to_string()),
        }
    }
}

impl From<hush_ingest::alerts::AlertDecodeError> for ApiError {
    fn from(e: hush_ingest::alerts::AlertDecodeError) -> Self {
        use hush_ingest::alerts::AlertDecodeError as E;
        let status = match e {
            E::TooManyAlerts { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, "bad_data", format!("{}: {e}", e.reason()))
    }
}

impl From<hush_engine::incidents::IncidentError> for ApiError {
    fn from(e: hush_engine::incidents::IncidentError) -> Self {
        use hush_engine::incidents::IncidentError as E;
        match e {
            E::Invalid(m) => Self::bad_data(m),
            E::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            E::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            E::Unavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                e.to_string(),
            ),
            // Cluster mode between two leaders: the election ends within one lease.
            E::NoLeader => Self {
                retry_after: Some(5),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    e.to_string(),
                )
            },
            E::Internal(m) => Self::internal("incident processing", m),
        }
    }
}

impl From<hush_sql::SqlError> for ApiError {
    fn from(e: hush_sql::SqlError) -> Self {
        use hush_sql::ErrorKind as K;
        match e.kind() {
            K::InvalidInput => Self::bad_data(e.to_string()),
            K::NotFound => Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            K::Unavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is unavailable",
            ),
            K::Internal => Self::internal("database", e),
        }
    }
}

impl From<hush_remediate::controller::RemediationError> for ApiError {
    fn from(e: hush_remediate::controller::RemediationError) -> Self {
        use hush_remediate::controller::RemediationError as E;
        match e {
            E::NotFound(_) => Self::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            E::Conflict(_) | E::KillSwitch => {
                Self::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            E::Audit(_) => Self::internal("append to the audit log", e),
        }
    }
}

impl From<hush_engine::cluster::ClusterError> for ApiError {
    /// Nothing was acknowledged: the client keeps the samples and retries, so none is lost.
    fn from(e: hush_engine::cluster::ClusterError) -> Self {
        use hush_engine::cluster::ClusterError as E;
        match e {
            E::Lagging { .. } => Self {
                retry_after: Some(5),
                ..Self::new(StatusCode::TOO_MANY_REQUESTS, "unavailable", e.to_string())
            },
            E::TooLarge(_) => Self::bad_data(e.to_string()),
            E::Unavailable(_)
            | E::Connect { .. }
            | E::Setup { .. }
            | E::Read { .. }
            | E::ShardsMismatch { .. } => {
                tracing::warn!(error = %e, "write refused: the ingest stream is unavailable");
                Self {
                    retry_after: Some(5),
                    ..Self::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the ingest stream is unavailable; retry later",
                    )
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({ "status": "error", "errorType": self.kind, "error": self.message });
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, s.into());
        }
        resp
    }
}
