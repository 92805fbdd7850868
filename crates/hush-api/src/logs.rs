//! Log endpoints: OTLP/HTTP logs and JSON lines in; raw lines, templates, log anomalies and
//! pipeline counters out. Decoding refuses a bad request whole (HTTP 4xx naming the problem)
//! before anything is mined, so a refusal loses nothing accepted earlier.

use crate::AppState;
use crate::error::ApiError;
use crate::params::Params;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use hush_engine::logs::{LogQuery, level_name};
use hush_ingest::logs::{Decoded, LogError, LogReason};
use serde_json::{Value as J, json};

fn refused(s: &AppState, e: LogError) -> ApiError {
    s.engine.logs.count(e.reason.as_str(), 1);
    s.engine
        .count_rejected_request(&format!("logs_{}", e.reason.as_str()));
    let status = match e.reason {
        LogReason::BodyTooLarge | LogReason::TooManyRecords => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, "bad_data", e.to_string())
}

async fn accept(s: &AppState, decoded: Decoded) -> Result<Json<J>, ApiError> {
    let engine = s.engine.clone();
    // Mining is CPU work and sealing a segment writes a file: off the async workers.
    let n = tokio::task::spawn_blocking(move || engine.logs.ingest(decoded, engine.clock.now_ms()))
        .await
        .map_err(|e| ApiError::internal("ingesting logs", e))?;
    Ok(Json(
        json!({ "status": "success", "data": { "accepted": n } }),
    ))
}

/// `POST /v1/logs`: OTLP/HTTP logs, protobuf or JSON by content type.
pub async fn otlp(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<J>, ApiError> {
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let logs = &s.engine.logs;
    let decoded = if ct.starts_with("application/json") {
        hush_ingest::logs::decode_logs_json(
            &body,
            s.engine.clock.now_ms(),
            &logs.defaults,
            &logs.limits,
        )
    } else if ct.starts_with("application/x-protobuf") || ct.is_empty() {
        hush_ingest::logs::decode_logs_protobuf(
            &body,
            s.engine.clock.now_ms(),
            &logs.defaults,
            &logs.limits,
        )
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
    .map_err(|e| refused(&s, e))?;
    accept(&s, decoded).await
}

/// `POST /api/v1/logs`: JSON lines; `?message_field=` overrides `logs.json_message_field`.
pub async fn json_lines(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &[])?;
    let logs = &s.engine.logs;
    let field = p
        .get("message_field")
        .unwrap_or(&logs.config().json_message_field)
        .to_string();
    let decoded = hush_ingest::logs::decode_json_lines(
        &body,
        &field,
        s.engine.clock.now_ms(),
        &logs.defaults,
        &logs.limits,
    )
    .map_err(|e| refused(&s, e))?;
    accept(&s, decoded).await
}

/// `T12` or `12`.
fn template_id(v: &str) -> Result<u64, ApiError> {
    v.strip_prefix('T')
        .unwrap_or(v)
        .parse()
        .map_err(|_| ApiError::bad_data(format!("invalid parameter `template`: `{v}` (e.g. T12)")))
}

/// `GET /api/v1/logs?service=&template=&level=&q=&start=&end=&limit=`: raw lines, newest first.
pub async fn list(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &[])?;
    let level = match p.get("level") {
        None => None,
        Some(v) => Some(
            level_name(v)
                .ok_or_else(|| {
                    ApiError::bad_data(format!(
                        "invalid parameter `level`: `{v}` (trace, debug, info, warn, error, fatal, unknown)"
                    ))
                })?
                .to_string(),
        ),
    };
    let query = LogQuery {
        service: p.get("service").map(str::to_string),
        template: p.get("template").map(template_id).transpose()?,
        level,
        contains: p.get("q").map(str::to_string),
        start: p.time("start", i64::MIN)?,
        end: p.time("end", i64::MAX)?,
        limit: p.limit(100, 10_000)?,
    };
    let engine = s.engine.clone();
    let lines = tokio::task::spawn_blocking(move || engine.logs.query(&query))
        .await
        .map_err(|e| ApiError::internal("reading logs", e))?
        .map_err(|e| ApiError::internal("reading logs", e))?;
    let data: Vec<J> = lines
        .into_iter()
        .map(|l| {
            json!({
                "time": l.t as f64 / 1000.0,
                "service": l.service,
                "host": l.host,
                "level": l.level,
                "template_id": format!("T{}", l.template),
                "message": l.message,
            })
        })
        .collect();
    Ok(Json(json!({ "status": "success", "data": data })))
}

/// `GET /api/v1/log-templates?service=&limit=`: templates by count.
pub async fn templates(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &[])?;
    let n = p.limit(1000, 100_000)?;
    let data: Vec<J> = s
        .engine
        .logs
        .templates(p.get("service"))
        .into_iter()
        .take(n)
        .map(|t| {
            json!({
                "id": format!("T{}", t.id),
                "template": t.template,
                "level": t.level,
                "count": t.count,
                "first_seen": t.first_seen as f64 / 1000.0,
                "last_seen": t.last_seen as f64 / 1000.0,
                "services": t.services,
                "examples": t.examples,
            })
        })
        .collect();
    Ok(Json(json!({ "status": "success", "data": data })))
}

/// `GET /api/v1/log-anomalies?service=&kind=&limit=`: newest first.
pub async fn anomalies(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &[])?;
    let kind = p.get("kind");
    if let Some(k) = kind
        && k != "surge"
        && k != "new_error_template"
    {
        return Err(ApiError::bad_data(format!(
            "invalid parameter `kind`: `{k}` (surge or new_error_template)"
        )));
    }
    let n = p.limit(100, 10_000)?;
    let data: Vec<J> = s
        .engine
        .logs
        .anomalies(p.get("service"), kind, n)
        .into_iter()
        .map(|a| {
            json!({
                "id": a.id,
                "kind": a.kind,
                "time": a.time as f64 / 1000.0,
                "service": a.service,
                "template_id": format!("T{}", a.template_id),
                "template": a.template,
                "level": a.level,
                "count": a.count,
                "expected_per_minute": a.expected,
                "examples": a.examples,
                "explanation": a.explanation,
            })
        })
        .collect();
    Ok(Json(json!({ "status": "success", "data": data })))
}

/// `GET /api/v1/log-stats`: lines, templates, refusals and repairs by reason.
pub async fn stats(State(s): State<AppState>) -> Json<J> {
    Json(json!({ "status": "success", "data": s.engine.logs.stats() }))
}
