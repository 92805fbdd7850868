//! `POST /api/v1/changes` and `GET /api/v1/changes`: deploys, configuration changes, feature
//! flags and scaling, stored as `change` events — the suspects root-cause analysis weighs by how
//! close they came before a symptom.

use crate::AppState;
use crate::error::ApiError;
use crate::params::{Params, parse_time};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use hush_model::Labels;
use hush_sql::{EventFilter, EventKind, NewEvent};
use serde_json::{Value as J, json};

/// Kinds of change accepted.
const KINDS: [&str; 5] = ["deploy", "rollback", "config", "feature_flag", "scaling"];

/// The request body.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeIn {
    service: String,
    kind: String,
    #[serde(default)]
    version: Option<String>,
    /// RFC 3339 or Unix seconds (number or string); the time of the request when absent.
    #[serde(default)]
    time: Option<J>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// `POST /api/v1/changes`.
pub async fn create(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<J>), ApiError> {
    let c: ChangeIn = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_data(format!("invalid change: {e}")))?;
    if c.service.trim().is_empty() {
        return Err(ApiError::bad_data("invalid change: `service` is empty"));
    }
    if !KINDS.contains(&c.kind.as_str()) {
        return Err(ApiError::bad_data(format!(
            "invalid change: `kind` is `{}`, expected one of {}",
            c.kind,
            KINDS.join(", ")
        )));
    }
    let at = match &c.time {
        None | Some(J::Null) => s.engine.clock.now_ms(),
        Some(J::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite() && v.abs() < 1e13)
            .map(|v| (v * 1000.0).round() as i64)
            .ok_or_else(|| ApiError::bad_data(format!("invalid change: `time` {n}")))?,
        Some(J::String(t)) => parse_time(t).ok_or_else(|| {
            ApiError::bad_data(format!(
                "invalid change: `time` `{t}` is neither RFC 3339 nor Unix seconds"
            ))
        })?,
        Some(other) => {
            return Err(ApiError::bad_data(format!(
                "invalid change: `time` must be RFC 3339 or Unix seconds, got {other}"
            )));
        }
    };
    let payload = json!({
        "kind": c.kind,
        "version": c.version,
        "author": c.author,
        "description": c.description,
    });
    let ev = s
        .engine
        .db
        .insert_event(&NewEvent {
            kind: EventKind::Change,
            service: Some(c.service.trim().to_string()),
            series: Labels::empty(),
            at,
            score: None,
            payload,
        })
        .await
        .map_err(|e| ApiError::internal("storing the change", e))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "status": "success", "data": view(&ev) })),
    ))
}

/// `GET /api/v1/changes?service=&start=&end=&limit=`, oldest first.
pub async fn list(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &[])?;
    let limit = Some(p.limit(hush_sql::DEFAULT_LIMIT as usize, 10_000)? as u32);
    let f = EventFilter {
        kind: Some(EventKind::Change),
        service: p.get("service").map(str::to_string),
        from: Some(p.time("start", i64::MIN)?).filter(|&t| t != i64::MIN),
        to: Some(p.time("end", i64::MAX)?).filter(|&t| t != i64::MAX),
        limit,
        ..EventFilter::default()
    };
    let events = s
        .engine
        .db
        .list_events(&f)
        .await
        .map_err(|e| ApiError::internal("listing changes", e))?;
    Ok(Json(json!({
        "status": "success",
        "data": events.iter().map(view).collect::<Vec<_>>(),
    })))
}

fn view(e: &hush_sql::Event) -> J {
    let field = |k: &str| e.payload.get(k).cloned().unwrap_or(J::Null);
    json!({
        "id": e.id.to_string(),
        "service": e.service,
        "kind": field("kind"),
        "version": field("version"),
        "time": e.at as f64 / 1000.0,
        "author": field("author"),
        "description": field("description"),
    })
}
