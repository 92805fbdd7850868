//! Ingestion endpoints. Each decodes and validates the whole request first, so a rejected
//! request stores nothing; then the store appends and the answer waits for durability. In
//! cluster mode the samples go to the ingest stream instead, and the answer waits for the
//! stream's acknowledgements; the shard's owner stores them.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use hush_engine::metrics::{ReasonLabel, SourceLabel};
use hush_model::TimeSeries;
use hush_store::RejectReason;

async fn store(
    state: &AppState,
    series: Vec<TimeSeries>,
    source: &str,
) -> Result<StatusCode, ApiError> {
    if let Some(cluster) = &state.engine.cluster {
        let m = &state.engine.metrics;
        return match cluster.publish(series, source).await {
            Ok(n) => {
                m.cluster_published
                    .get_or_create(&SourceLabel {
                        source: source.to_string(),
                    })
                    .inc_by(n);
                Ok(StatusCode::NO_CONTENT)
            }
            Err(e) => {
                let reason = match e {
                    hush_engine::cluster::ClusterError::Lagging { .. } => "lagging",
                    _ => "unavailable",
                };
                m.cluster_refused
                    .get_or_create(&ReasonLabel {
                        reason: reason.into(),
                    })
                    .inc();
                Err(e.into())
            }
        };
    }
    let out = state
        .engine
        .ingest(series, source)
        .await
        .map_err(|e| ApiError::internal("storing samples", e))?;
    let total = out.rejected_total();
    if let Some((labels, sample, why)) = out.first_rejection {
        let msg = format!(
            "{why}: {total} sample(s) rejected, {} stored; first: {labels} at {} ({})",
            out.stored,
            sample.t,
            match why {
                RejectReason::SeriesLimit => "active series limit `storage.max_series` reached",
                RejectReason::TooOld =>
                    "older than the out-of-order window `storage.out_of_order_window`",
                RejectReason::OutOfRetention => "older than `storage.retention`",
                RejectReason::DuplicateTimestamp => "a different value is stored at this timestamp",
            },
            why = why.as_str(),
        );
        // Over the series limit the client should back off and retry; other rejections are final.
        let status = if why == RejectReason::SeriesLimit {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::BAD_REQUEST
        };
        return Err(ApiError::new(status, "bad_data", msg));
    }
    Ok(StatusCode::NO_CONTENT)
}

fn rejected(state: &AppState, e: hush_ingest::IngestError) -> ApiError {
    state.engine.count_rejected_request(e.reason());
    ApiError::from(e)
}

/// `POST /api/v1/write`: Prometheus remote_write 1.0 (snappy-compressed protobuf).
pub async fn remote_write(State(s): State<AppState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let series =
        hush_ingest::decode_remote_write(&body, &s.engine.limits).map_err(|e| rejected(&s, e))?;
    store(&s, series, "remote_write").await
}

/// `POST /v1/metrics`: OTLP/HTTP metrics, protobuf or JSON by content type.
pub async fn otlp_metrics(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let series = if ct.starts_with("application/json") {
        hush_ingest::otlp::decode_metrics_json(&body, &s.engine.limits)
    } else if ct.starts_with("application/x-protobuf") || ct.is_empty() {
        hush_ingest::otlp::decode_metrics_protobuf(&body, &s.engine.limits)
    } else {
        s.engine.count_rejected_request("unsupported_media_type");
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad_data",
            format!(
                "unsupported content type `{ct}`: use application/x-protobuf or application/json"
            ),
        ));
    }
    .map_err(|e| rejected(&s, e))?;
    store(&s, series, "otlp").await
}
