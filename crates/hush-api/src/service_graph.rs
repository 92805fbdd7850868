//! `POST /v1/traces` (OTLP/HTTP traces → caller→callee edges and their series) and
//! `GET /api/v1/topology` (the merged service graph with each edge's provenance and each node's
//! current health).

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use hush_model::Matcher;
use hush_rca::{Provenance, ServiceGraph};
use serde_json::{Value as J, json};
use std::collections::BTreeMap;

/// Metric label pairs that name a call's two ends, by metric: the OpenTelemetry Collector's
/// and Tempo's service-graph metrics, and Istio's request metrics.
const LABEL_EDGES: [(&str, &str, &str); 2] = [
    ("traces_service_graph_request_total", "client", "server"),
    (
        "istio_requests_total",
        "source_workload",
        "destination_workload",
    ),
];

/// A trace edge counts towards its callee's health while it was seen this recently.
const RECENT_MS: i64 = 5 * 60_000;
/// Error rates from which a callee is degraded or failing.
const DEGRADED: f64 = 0.05;
const FAILING: f64 = 0.2;

/// `POST /v1/traces`: OTLP/HTTP traces, protobuf or JSON by content type.
pub async fn ingest(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    use hush_ingest::otlp::traces::{decode_traces_json, decode_traces_protobuf};
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let spans = if ct.starts_with("application/json") {
        decode_traces_json(&body, &s.engine.limits)
    } else if ct.starts_with("application/x-protobuf") || ct.is_empty() {
        decode_traces_protobuf(&body, &s.engine.limits)
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
    .map_err(|e| {
        s.engine.count_rejected_request(e.reason());
        ApiError::from(e)
    })?;
    let series = s.engine.traces.observe(&spans, s.engine.clock.now_ms());
    if !series.is_empty() {
        // The edges are already counted in memory; a refused sample (say, the series limit)
        // only leaves a gap in their history, which is no reason to refuse the spans.
        let out = s
            .engine
            .ingest(series, "otlp_traces")
            .await
            .map_err(|e| ApiError::internal("storing edge series", e))?;
        if let Some((labels, _, why)) = out.first_rejection {
            tracing::warn!(series = %labels, reason = why.as_str(), "edge series not stored");
        }
    }
    Ok(StatusCode::OK)
}

/// `GET /api/v1/topology`.
pub async fn topology(State(s): State<AppState>) -> Result<Json<J>, ApiError> {
    let now = s.engine.clock.now_ms();
    let mut graph = ServiceGraph::new();
    let mut kinds: BTreeMap<String, String> = BTreeMap::new();
    if let Some(t) = s.engine.topology.get() {
        for svc in &t.file.services {
            graph.add_service(&svc.name, hush_rca::NodeKind::Service);
            if !svc.kind.is_empty() {
                kinds.insert(svc.name.clone(), svc.kind.clone());
            }
            for d in &svc.depends_on {
                graph.add_call(&svc.name, d, Provenance::Config);
            }
        }
    }
    let traced = s.engine.traces.edges();
    for e in &traced {
        graph.add_call(&e.caller, &e.callee, Provenance::Traces);
    }
    for (metric, from, to) in LABEL_EDGES {
        let m = [Matcher::equal("__name__", metric)];
        let found = s
            .engine
            .store
            .series(&m, now - RECENT_MS * 12, now)
            .map_err(|e| ApiError::internal("reading series", e))?;
        for labels in found {
            if let (Some(a), Some(b)) = (labels.get(from), labels.get(to))
                && !a.is_empty()
                && !b.is_empty()
            {
                graph.add_call(a, b, Provenance::Labels);
            }
        }
    }

    // Health: a callee failing its callers' calls (recent trace edges), then open anomalies.
    let mut worst: BTreeMap<&str, f64> = BTreeMap::new();
    for e in traced.iter().filter(|e| now - e.last_seen_ms <= RECENT_MS) {
        let w = worst.entry(e.callee.as_str()).or_default();
        *w = w.max(e.error_rate);
    }
    let mut anomalies: BTreeMap<String, usize> = BTreeMap::new();
    if let Some(det) = &s.engine.detection {
        let f = hush_engine::detection::AnomalyFilter {
            service: None,
            selectors: Vec::new(),
            start: now - RECENT_MS * 3,
            end: i64::MAX,
            min_score: 0.0,
            limit: 10_000,
        };
        for a in det.list(&f) {
            if let Some(svc) = a.service {
                *anomalies.entry(svc).or_default() += 1;
            }
        }
    }
    let nodes: Vec<J> = graph
        .services()
        .map(|n| {
            let err = worst.get(n.name.as_str()).copied().unwrap_or(0.0);
            let anom = anomalies.get(&n.name).copied().unwrap_or(0);
            let mut reasons = Vec::new();
            if err >= DEGRADED {
                reasons.push(format!(
                    "{:.1}% of calls to it failed in the last 5 minutes",
                    err * 100.0
                ));
            }
            if anom > 0 {
                reasons.push(format!("{anom} anomalies in the last 15 minutes"));
            }
            let health = if err >= FAILING {
                "failing"
            } else if err >= DEGRADED || anom > 0 {
                "degraded"
            } else {
                "ok"
            };
            json!({
                "name": n.name,
                "type": kinds.get(&n.name),
                "health": health,
                "reasons": reasons,
            })
        })
        .collect();
    let stats: BTreeMap<(&str, &str), &hush_engine::trace_edges::EdgeView> = traced
        .iter()
        .map(|e| ((e.caller.as_str(), e.callee.as_str()), e))
        .collect();
    let edges: Vec<J> = graph
        .calls()
        .map(|(a, b, e)| {
            let mut v = json!({
                "caller": a,
                "callee": b,
                "provenance": e.provenance(),
            });
            if let Some(st) = stats.get(&(a, b)) {
                v["traces"] = json!({
                    "calls": st.calls,
                    "errors": st.errors,
                    "error_rate": st.error_rate,
                    "latency_p50_seconds": finite(st.latency_p50),
                    "latency_p99_seconds": finite(st.latency_p99),
                    "last_seen": st.last_seen_ms as f64 / 1000.0,
                });
            }
            v
        })
        .collect();
    Ok(Json(json!({
        "status": "success",
        "data": { "nodes": nodes, "edges": edges },
    })))
}

fn finite(v: f64) -> J {
    if v.is_finite() { json!(v) } else { J::Null }
}
