//! `GET /api/v1/anomalies`: what live detection found, with explanations; and
//! `POST /api/v1/anomalies/{id}/feedback`: an operator's verdict, stored and applied.

use crate::AppState;
use crate::error::ApiError;
use crate::params::Params;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use hush_engine::detection::{AnomalyFilter, FeedbackError, Verdict, verdict_name};
use serde_json::{Value as J, json};

fn detection_off() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "anomaly detection is off: set `detection.enabled: true` in the configuration",
    )
}

/// Body of a feedback request.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    verdict: String,
    /// For `missed`: the score of the point that should have alerted.
    score: Option<f64>,
}

pub async fn feedback(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<J>, ApiError> {
    if s.engine.detection.is_none() {
        return Err(detection_off());
    }
    let id: u64 = id.parse().map_err(|_| {
        ApiError::bad_data(format!("invalid anomaly id `{id}`: expected an integer"))
    })?;
    let b: FeedbackBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_data(format!("invalid feedback body: {e}")))?;
    let verdict = match b.verdict.as_str() {
        "true_positive" => Verdict::TruePositive,
        "false_positive" => Verdict::FalsePositive,
        "missed" => Verdict::Missed,
        other => {
            return Err(ApiError::bad_data(format!(
                "invalid verdict `{other}`: use true_positive, false_positive or missed"
            )));
        }
    };
    if let Some(sc) = b.score
        && !(0.0..=1.0).contains(&sc)
    {
        return Err(ApiError::bad_data(format!(
            "invalid score `{sc}`: must be in [0, 1]"
        )));
    }
    let out = s
        .engine
        .anomaly_feedback(id, verdict, b.score, s.engine.clock.now_ms())
        .await
        .map_err(|e| match e {
            FeedbackError::NotFound(_) | FeedbackError::SeriesGone(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            FeedbackError::Store(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "storing the feedback failed; it was not applied, retry later",
            ),
        })?;
    Ok(Json(json!({
        "status": "success",
        "data": {
            "anomaly_id": out.anomaly.id,
            "verdict": verdict_name(verdict),
            "threshold": out.threshold,
        }
    })))
}

pub async fn list(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Result<Json<J>, ApiError> {
    let Some(det) = &s.engine.detection else {
        return Err(detection_off());
    };
    let p = Params::parse(q.as_deref(), &h, &[])?;
    let min_score = match p.get("min_score") {
        None => 0.0,
        Some(v) => v
            .parse::<f64>()
            .map_err(|_| ApiError::bad_data(format!("invalid parameter `min_score`: `{v}`")))?,
    };
    let limit = p.limit(1000, 100_000)?;
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
                "feedback": a.feedback,
            })
        })
        .collect();
    Ok(Json(json!({ "status": "success", "data": items })))
}
