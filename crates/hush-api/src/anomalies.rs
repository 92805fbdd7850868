//! `GET /api/v1/anomalies`: what live detection found, with explanations.

use crate::AppState;
use crate::error::ApiError;
use crate::params::Params;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use hush_engine::detection::AnomalyFilter;
use serde_json::{Value as J, json};

pub async fn list(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Result<Json<J>, ApiError> {
    let Some(det) = &s.engine.detection else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "anomaly detection is off: set `detection.enabled: true` in the configuration",
        ));
    };
    let p = Params::parse(q.as_deref(), &h, &[])?;
    let min_score = match p.get("min_score") {
        None => 0.0,
        Some(v) => v
            .parse::<f64>()
            .map_err(|_| ApiError::bad_data(format!("invalid parameter `min_score`: `{v}`")))?,
    };
    let limit = match p.get("limit") {
        None => 1000,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| ApiError::bad_data(format!("invalid parameter `limit`: `{v}`")))?,
    };
    let f = AnomalyFilter {
        service: p.get("service").map(str::to_string),
        selectors: p.selectors()?,
        start: p.time("start", i64::MIN)?,
        end: p.time("end", i64::MAX)?,
        min_score,
        limit,
    };
    let items: Vec<J> = det
        .list(&f)
        .into_iter()
        .map(|a| {
            json!({
                "id": a.id,
                "labels": a.labels.iter().map(|l| (l.name.clone(), J::String(l.value.clone()))).collect::<serde_json::Map<_, _>>(),
                "service": a.service,
                "time": a.time as f64 / 1000.0,
                "value": a.value,
                "score": a.score,
                "expected": a.expected,
                "lower": a.lower,
                "upper": a.upper,
                "kind": a.kind,
                "explanation": a.explanation,
            })
        })
        .collect();
    Ok(Json(json!({ "status": "success", "data": items })))
}
