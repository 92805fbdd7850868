//! OTLP logs (`ExportLogsServiceRequest`) in protobuf and OTLP/JSON.
//!
//! The messages come from `opentelemetry-proto` (the official generated types, as for
//! metrics); `service.name` and `host.name` resource attributes name the service and host, the
//! body (a string, or any other value rendered as JSON) is the message, `severityNumber` (else
//! `severityText`, else the text) gives the level.

use super::{
    Decoded, Level, LogDefaults, LogError, LogLimits, LogReason, LogRecord, check_body,
    check_records, cut, name,
};
use crate::otlp::value_string;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message;

/// Decodes a protobuf `ExportLogsServiceRequest` (`application/x-protobuf`).
pub fn decode_logs_protobuf(
    body: &[u8],
    now_ms: i64,
    defaults: &LogDefaults,
    limits: &LogLimits,
) -> Result<Decoded, LogError> {
    check_body(body.len(), limits)?;
    let req = ExportLogsServiceRequest::decode(body)
        .map_err(|e| LogError::new(LogReason::BadProtobuf, e.to_string()))?;
    convert(&req, now_ms, defaults, limits)
}

/// Decodes an OTLP/JSON `ExportLogsServiceRequest` (`application/json`).
pub fn decode_logs_json(
    body: &[u8],
    now_ms: i64,
    defaults: &LogDefaults,
    limits: &LogLimits,
) -> Result<Decoded, LogError> {
    check_body(body.len(), limits)?;
    let req: ExportLogsServiceRequest = serde_json::from_slice(body).map_err(|e| {
        LogError::new(
            LogReason::BadJson,
            format!("line {} column {}: {e}", e.line(), e.column()),
        )
    })?;
    convert(&req, now_ms, defaults, limits)
}

fn attr(kvs: &[KeyValue], key: &str) -> Option<String> {
    kvs.iter()
        .find(|kv| kv.key == key)
        .map(|kv| name(&value_string(kv.value.as_ref())))
        .filter(|s| !s.is_empty())
}

/// OTLP severity numbers: 1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–20 ERROR, 21–24 FATAL.
fn level(number: i32, text: &str, message: &str) -> Level {
    match number {
        1..=4 => Level::Trace,
        5..=8 => Level::Debug,
        9..=12 => Level::Info,
        13..=16 => Level::Warn,
        17..=20 => Level::Error,
        21..=24 => Level::Fatal,
        _ => Level::parse(text).unwrap_or_else(|| Level::infer(message)),
    }
}

fn convert(
    req: &ExportLogsServiceRequest,
    now_ms: i64,
    defaults: &LogDefaults,
    limits: &LogLimits,
) -> Result<Decoded, LogError> {
    let total: usize = req
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum();
    check_records(total, limits)?;
    let mut out = Decoded::default();
    out.records.reserve(total);
    for rl in &req.resource_logs {
        let attrs = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes);
        let service = attr(attrs, "service.name").unwrap_or_else(|| defaults.service.clone());
        let host = attr(attrs, "host.name").unwrap_or_else(|| defaults.host.clone());
        for sl in &rl.scope_logs {
            for r in &sl.log_records {
                let message = cut(
                    value_string(r.body.as_ref()),
                    limits.max_message_bytes,
                    &mut out.lossy,
                );
                let ns = if r.time_unix_nano != 0 {
                    r.time_unix_nano
                } else {
                    r.observed_time_unix_nano
                };
                // Nanoseconds past i64 milliseconds cannot happen before the year 292 million.
                let time = if ns == 0 {
                    now_ms
                } else {
                    (ns / 1_000_000) as i64
                };
                out.records.push(LogRecord {
                    time,
                    service: service.clone(),
                    host: host.clone(),
                    level: level(r.severity_number, &r.severity_text, &message),
                    message,
                });
            }
        }
    }
    Ok(out)
}
