//! `GET /api/v1/forecast` (yhat, lower and upper series for a PromQL query) and
//! `GET /api/v1/capacity` (resources ranked by time to exhaustion, with predictive alerts).

use crate::AppState;
use crate::error::ApiError;
use crate::params::{Params, parse_duration_ms};
use crate::query::{evaluate, labels_json, point};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use hush_forecast::{AutoConfig, AutoForecaster, Forecaster};
use hush_query::Value;
use serde_json::{Value as J, json};

/// Most steps forecast per series: a bound on CPU per request.
const MAX_HORIZON_STEPS: i64 = 11_000;
/// Most series forecast in one request.
const MAX_SERIES: usize = 500;

fn duration(p: &Params, key: &str, default: Option<i64>) -> Result<i64, ApiError> {
    let ms = match (p.get(key), default) {
        (Some(s), _) => parse_duration_ms(s).ok_or_else(|| {
            ApiError::bad_data(format!("invalid parameter `{key}`: cannot parse `{s}`"))
        })?,
        (None, Some(d)) => d,
        (None, None) => return Err(ApiError::bad_data(format!("missing parameter `{key}`"))),
    };
    if ms <= 0 {
        return Err(ApiError::bad_data(format!(
            "invalid parameter `{key}`: must be positive"
        )));
    }
    Ok(ms)
}

pub async fn forecast(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &[])?;
    let query = p.required("query")?.to_string();
    let horizon = duration(&p, "horizon", None)?;
    let step = duration(&p, "step", Some(300_000))?;
    let lookback = duration(&p, "lookback", Some(7 * 86_400_000))?;
    let level = match p.get("interval") {
        None => 0.95,
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|l| *l > 0.0 && *l < 1.0)
            .ok_or_else(|| {
                ApiError::bad_data(format!(
                    "invalid parameter `interval`: `{v}` is not strictly between 0 and 1"
                ))
            })?,
    };
    let steps = horizon / step;
    if !(1..=MAX_HORIZON_STEPS).contains(&steps) || lookback / step > MAX_HORIZON_STEPS {
        return Err(ApiError::bad_data(format!(
            "horizon and lookback must each be between 1 and {MAX_HORIZON_STEPS} steps of `step`"
        )));
    }
    let end = p.time("time", s.engine.clock.now_ms())?;
    let start = end.saturating_sub(lookback);
    let (v, warnings) = evaluate(s, move |e| e.range(&query, start, end, step)).await?;
    let series = match v {
        Value::Matrix(m) => m,
        other => {
            return Err(ApiError::bad_data(format!(
                "expected a query returning series, got a {}",
                other.result_type()
            )));
        }
    };
    if series.len() > MAX_SERIES {
        return Err(ApiError::bad_data(format!(
            "query returned {} series; at most {MAX_SERIES} can be forecast at once",
            series.len()
        )));
    }
    // A day and a week of steps; periods that do not fit the history are skipped per series.
    let periods: Vec<usize> = [86_400_000, 7 * 86_400_000]
        .iter()
        .map(|p| (p / step) as usize)
        .filter(|p| *p >= 2)
        .collect();
    let result = tokio::task::spawn_blocking(move || {
        let fc = AutoForecaster::new(AutoConfig::for_periods(&periods));
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for ts in series {
            // The range query's points sit on the `start + k * step` grid; NaN marks a gap.
            let n = ((end - start) / step + 1) as usize;
            let mut grid = vec![f64::NAN; n];
            for smp in &ts.samples {
                let k = (smp.t - start) / step;
                if (0..n as i64).contains(&k) {
                    grid[k as usize] = smp.v;
                }
            }
            let last = start + step * (n as i64 - 1);
            match fc.forecast(&grid, steps as usize, level) {
                Ok(f) => {
                    let at = |i: usize| last + step * (i as i64 + 1);
                    let pts = |v: &[f64]| -> Vec<J> {
                        v.iter()
                            .enumerate()
                            .map(|(i, x)| point(at(i), *x))
                            .collect()
                    };
                    out.push(json!({
                        "metric": labels_json(&ts.labels),
                        "model": f.model,
                        "backtestMase": f.backtest_mase,
                        "level": level,
                        "yhat": pts(&f.point),
                        "lower": pts(&f.lower),
                        "upper": pts(&f.upper),
                    }));
                }
                Err(e) => errors.push(json!({
                    "metric": labels_json(&ts.labels),
                    "error": e.to_string(),
                })),
            }
        }
        (out, errors)
    })
    .await
    .map_err(|e| ApiError::internal("forecast", e))?;
    let mut body = json!({
        "status": "success",
        "data": { "resultType": "forecast", "result": result.0, "errors": result.1 },
    });
    if !warnings.is_empty() {
        body["warnings"] = json!(warnings);
    }
    Ok(Json(body))
}

pub async fn capacity(State(s): State<AppState>) -> Result<Json<J>, ApiError> {
    let engine = s.engine.clone();
    let now = s.engine.clock.now_ms();
    let report = tokio::task::spawn_blocking(move || engine.capacity.evaluate(&engine.store, now))
        .await
        .map_err(|e| ApiError::internal("capacity", e))?
        .map_err(|e| ApiError::internal("capacity", e))?;
    let alerts = s.engine.capacity.alerts();
    Ok(Json(json!({
        "status": "success",
        "data": {
            "evaluatedAt": report.evaluated_at,
            "horizonDays": s.engine.config.capacity.horizon.0.as_secs_f64() / 86_400.0,
            "resources": report.resources,
            "skipped": report.skipped,
            "alerts": alerts,
        },
    })))
}
