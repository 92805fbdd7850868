//! OTLP metrics (`ExportMetricsServiceRequest`) in protobuf and OTLP/JSON, to Prometheus-style
//! series.
//!
//! Decisions, following the Prometheus OTLP receiver where it has one:
//! - **Names**: metric names are sanitised with unit and type suffixes (`http.server.duration`
//!   in `s` → `http_server_duration_seconds`; monotonic sums end in `_total`); attribute names
//!   have invalid characters replaced by `_`.
//! - **Resource attributes** all become labels: `service.name` → `service`,
//!   `service.instance.id` → `instance`, the rest sanitised (`host.name` → `host_name`). A data
//!   point attribute wins over a resource attribute of the same name.
//! - **Sums**: cumulative monotonic sums are counters, cumulative non-monotonic sums gauges.
//!   **Delta temporality is rejected** with [`crate::Reason::Unsupported`] (for sums and
//!   histograms): turning deltas into the cumulative counters PromQL's `rate` expects needs
//!   state across requests, which a decoder must not keep.
//! - **Histograms** become `_bucket{le=...}` (cumulative, `+Inf` included), `_sum` (when sent)
//!   and `_count`; **summaries** `{quantile=...}`, `_sum` and `_count`.
//! - **Exponential histograms are converted** to classic cumulative buckets at their own
//!   resolution (see `convert::exponential`), so `histogram_quantile` works on them.
//! - A point flagged *no recorded value* becomes Prometheus' stale marker; a point without a
//!   value is dropped; a point without a timestamp rejects the request.

mod convert;
mod names;

pub(crate) use names::value_string;

use crate::IngestError;
use crate::limits::Limits;
use hush_model::TimeSeries;
use prost::Message;

pub use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;

/// Decodes a protobuf `ExportMetricsServiceRequest` body (`application/x-protobuf`).
pub fn decode_metrics_protobuf(
    body: &[u8],
    limits: &Limits,
) -> Result<Vec<TimeSeries>, IngestError> {
    limits.check_size(body.len() as u64)?;
    let req = ExportMetricsServiceRequest::decode(body)
        .map_err(|e| IngestError::BadProtobuf(e.to_string()))?;
    convert::convert(&req, limits)
}

/// Decodes an OTLP/JSON `ExportMetricsServiceRequest` body (`application/json`).
pub fn decode_metrics_json(body: &[u8], limits: &Limits) -> Result<Vec<TimeSeries>, IngestError> {
    limits.check_size(body.len() as u64)?;
    let req: ExportMetricsServiceRequest = serde_json::from_slice(body).map_err(|e| {
        // serde_json appends the position to its message; the variant carries it already.
        let message = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        let message = message
            .strip_suffix(&position)
            .map_or(message.clone(), str::to_string);
        IngestError::BadJson {
            line: e.line(),
            column: e.column(),
            message,
        }
    })?;
    convert::convert(&req, limits)
}

/// Converts an already decoded request (e.g. from an OTLP/gRPC service).
pub fn convert(
    req: &ExportMetricsServiceRequest,
    limits: &Limits,
) -> Result<Vec<TimeSeries>, IngestError> {
    convert::convert(req, limits)
}

#[cfg(test)]
mod tests;
