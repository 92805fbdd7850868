//! The Prometheus HTTP API subset that Grafana's Prometheus data source uses.

use crate::AppState;
use crate::error::ApiError;
use crate::params::{Params, parse_duration_ms};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use bytes::Bytes;
use hush_model::{Labels, Matcher, TimeSeries};
use hush_query::{Value, format_sample_value, timestamp_seconds};
use serde_json::{Map, Value as J, json};

/// Adapts the store to the evaluator's read trait: the local store, or in cluster mode every
/// shard's owner, with a warning for each part of the answer that is missing.
pub(crate) struct StoreSource {
    store: hush_store::Store,
    cluster: Option<std::sync::Arc<hush_engine::cluster::Cluster>>,
    warnings: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl hush_query::Storage for StoreSource {
    fn select(
        &self,
        m: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<TimeSeries>, hush_query::StorageError> {
        match &self.cluster {
            None => self
                .store
                .select(m, start, end)
                .map_err(|e| hush_query::StorageError(e.to_string())),
            Some(c) => {
                // Evaluation runs on a blocking thread inside the runtime (see `evaluate`).
                let g = tokio::runtime::Handle::current().block_on(c.select(m, start, end));
                if let Ok(mut w) = self.warnings.lock() {
                    w.extend(g.warnings);
                }
                Ok(g.series)
            }
        }
    }
}

fn ok(data: J) -> Json<J> {
    Json(json!({ "status": "success", "data": data }))
}

/// A success that may be partial: Prometheus' `warnings` list, present only when not empty.
fn ok_warned(data: J, warnings: Vec<String>) -> Json<J> {
    if warnings.is_empty() {
        return ok(data);
    }
    Json(json!({ "status": "success", "data": data, "warnings": warnings }))
}

pub(crate) fn labels_json(l: &Labels) -> J {
    J::Object(
        l.iter()
            .map(|l| (l.name.clone(), J::String(l.value.clone())))
            .collect::<Map<_, _>>(),
    )
}

pub(crate) fn point(t: i64, v: f64) -> J {
    json!([timestamp_seconds(t), format_sample_value(v)])
}

fn render(v: Value) -> J {
    let result = match &v {
        Value::Scalar(t, x) => point(*t, *x),
        Value::String(t, s) => json!([timestamp_seconds(*t), s]),
        Value::Vector(items) => J::Array(
            items
                .iter()
                .map(|(l, s)| json!({ "metric": labels_json(l), "value": point(s.t, s.v) }))
                .collect(),
        ),
        Value::Matrix(series) => J::Array(
            series
                .iter()
                .map(|ts| {
                    let values: Vec<J> = ts.samples.iter().map(|s| point(s.t, s.v)).collect();
                    json!({ "metric": labels_json(&ts.labels), "values": values })
                })
                .collect(),
        ),
    };
    json!({ "resultType": v.result_type(), "result": result })
}

fn engine(state: &AppState) -> (hush_query::Engine<StoreSource>, Warnings) {
    let warnings = Warnings::default();
    let source = StoreSource {
        store: state.engine.store.clone(),
        cluster: state.engine.cluster.clone(),
        warnings: warnings.0.clone(),
    };
    (
        hush_query::Engine::new(source, hush_query::EngineOptions::default()),
        warnings,
    )
}

/// Warnings a query's reads collected (cluster mode: shards that did not answer).
#[derive(Default)]
pub(crate) struct Warnings(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Warnings {
    fn take(&self) -> Vec<String> {
        let mut w = self
            .0
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        w.sort();
        w.dedup();
        w
    }
}

/// Runs a query off the async threads: evaluation is CPU-bound and reads block files. Returns
/// the value and the warnings of a partial answer.
pub(crate) async fn evaluate<F>(state: AppState, f: F) -> Result<(Value, Vec<String>), ApiError>
where
    F: FnOnce(hush_query::Engine<StoreSource>) -> Result<Value, hush_query::QueryError>
        + Send
        + 'static,
{
    let (e, warnings) = engine(&state);
    let v = tokio::task::spawn_blocking(move || f(e))
        .await
        .map_err(|e| ApiError::internal("query", e))?
        .map_err(ApiError::from)?;
    Ok((v, warnings.take()))
}

pub async fn instant(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &body)?;
    let query = p.required("query")?.to_string();
    let t = p.time("time", s.engine.clock.now_ms())?;
    let (v, warnings) = evaluate(s, move |e| e.instant(&query, t)).await?;
    Ok(ok_warned(render(v), warnings))
}

pub async fn range(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &body)?;
    let query = p.required("query")?.to_string();
    let start = p.time("start", i64::MIN)?;
    let end = p.time("end", i64::MIN)?;
    if start == i64::MIN || end == i64::MIN {
        return Err(ApiError::bad_data("missing parameter `start` or `end`"));
    }
    if end < start {
        return Err(ApiError::bad_data(
            "invalid parameter `end`: end timestamp must not be before start time",
        ));
    }
    let step = p.required("step").and_then(|s| {
        parse_duration_ms(s).ok_or_else(|| {
            ApiError::bad_data(format!("invalid parameter `step`: cannot parse `{s}`"))
        })
    })?;
    if (end - start) / step > 11_000 {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let (v, warnings) = evaluate(s, move |e| e.range(&query, start, end, step)).await?;
    Ok(ok_warned(render(v), warnings))
}

fn span(p: &Params) -> Result<(i64, i64), ApiError> {
    Ok((p.time("start", i64::MIN)?, p.time("end", i64::MAX)?))
}

pub async fn series(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &body)?;
    let sels = p.selectors()?;
    if sels.is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let (start, end) = span(&p)?;
    let mut all: Vec<Labels> = Vec::new();
    let mut warnings = Vec::new();
    for m in sels {
        match &s.engine.cluster {
            // Every shard's owner, labels only.
            Some(c) => {
                let g = c.series(&m, start, end).await;
                all.extend(g.series.into_iter().map(|ts| ts.labels));
                warnings.extend(g.warnings);
            }
            None => all.extend(
                s.engine
                    .store
                    .series(&m, start, end)
                    .map_err(|e| ApiError::internal("series", e))?,
            ),
        }
    }
    all.sort();
    all.dedup();
    warnings.sort();
    warnings.dedup();
    Ok(ok_warned(
        J::Array(all.iter().map(labels_json).collect()),
        warnings,
    ))
}

pub async fn labels(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
    body: Bytes,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &body)?;
    let sels = p.selectors()?;
    if let Some(c) = &s.engine.cluster {
        let (all, warnings) = cluster_series(c, sels, &p).await?;
        let mut names: Vec<String> = all
            .iter()
            .flat_map(|l| l.iter().map(|l| l.name.clone()))
            .collect();
        names.sort();
        names.dedup();
        return Ok(ok_warned(json!(names), warnings));
    }
    let mut names: Vec<String> = if sels.is_empty() {
        s.engine.store.label_names(&[])
    } else {
        sels.iter()
            .flat_map(|m| s.engine.store.label_names(m))
            .collect()
    };
    names.sort();
    names.dedup();
    Ok(ok(json!(names)))
}

pub async fn label_values(
    State(s): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &[])?;
    if !hush_model::is_valid_label_name(&name) {
        return Err(ApiError::bad_data(format!("invalid label name: `{name}`")));
    }
    let sels = p.selectors()?;
    if let Some(c) = &s.engine.cluster {
        let (all, warnings) = cluster_series(c, sels, &p).await?;
        let mut values: Vec<String> = all
            .iter()
            .filter_map(|l| l.get(&name).map(str::to_string))
            .collect();
        values.sort();
        values.dedup();
        return Ok(ok_warned(json!(values), warnings));
    }
    let mut values: Vec<String> = if sels.is_empty() {
        s.engine.store.label_values(&name, &[])
    } else {
        sels.iter()
            .flat_map(|m| s.engine.store.label_values(&name, m))
            .collect()
    };
    values.sort();
    values.dedup();
    Ok(ok(json!(values)))
}

/// Cluster mode's label lists: the labels of every series the selectors (all series without
/// one) pick in the request's time range, gathered from the shards' owners, with the
/// warnings of a partial answer.
async fn cluster_series(
    c: &hush_engine::cluster::Cluster,
    mut sels: Vec<Vec<Matcher>>,
    p: &Params,
) -> Result<(Vec<Labels>, Vec<String>), ApiError> {
    let (start, end) = span(p)?;
    if sels.is_empty() {
        sels.push(vec![
            Matcher::new(hush_model::MatchOp::Regex, "__name__", ".+")
                .map_err(|e| ApiError::internal("label list", e))?,
        ]);
    }
    let (mut all, mut warnings) = (Vec::new(), Vec::new());
    for m in sels {
        let g = c.series(&m, start, end).await;
        all.extend(g.series.into_iter().map(|ts| ts.labels));
        warnings.extend(g.warnings);
    }
    warnings.sort();
    warnings.dedup();
    Ok((all, warnings))
}

pub async fn buildinfo() -> Json<J> {
    ok(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": "",
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
        "application": "hush",
    }))
}
