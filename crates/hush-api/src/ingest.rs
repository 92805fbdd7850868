//! Ingestion endpoints. Each decodes and validates the whole request first, so a rejected
//! request stores nothing; then the store appends and the answer waits for durability.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use bytes::Bytes;
use hush_model::TimeSeries;
use hush_store::RejectReason;

async fn store(
    state: &AppState,
    series: Vec<TimeSeries>,
    source: &str,
) -> Result<StatusCode, ApiError> {
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
