//! Hush's HTTP API: ingestion, the Prometheus-compatible query API, health and self-metrics.
//!
//! [`router`] builds the whole app for a running [`Engine`] and can be driven in-process in
//! tests; [`serve`] runs it on an already bound listener until a shutdown signal.
//! **Invariant:** errors become HTTP responses only in `error.rs`; 5xx bodies hold no internals.

mod alerts;
mod anomalies;
mod auth;
mod changes;
mod error;
mod forecast;
mod incidents;
mod ingest;
mod logs;
mod params;
mod query;
mod remediation;
mod service_graph;
mod silences;
mod topology_file;
mod ui;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use hush_engine::Engine;
use hush_engine::config::Role;
use hush_engine::metrics::HandlerLabel;
use std::sync::Arc;
use std::time::Instant;

pub use error::ApiError;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
}

/// The whole HTTP app.
pub fn router(engine: Arc<Engine>) -> Router {
    let state = AppState {
        engine: engine.clone(),
    };
    let max_body = engine.config.limits.max_body_bytes;
    let read = Router::new()
        .route("/api/v1/query", get(query::instant).post(query::instant))
        .route("/api/v1/query_range", get(query::range).post(query::range))
        .route("/api/v1/series", get(query::series).post(query::series))
        .route("/api/v1/labels", get(query::labels).post(query::labels))
        .route("/api/v1/label/{name}/values", get(query::label_values))
        .route("/api/v1/status/buildinfo", get(query::buildinfo))
        .route("/api/v1/status/config", get(ui::config))
        .route("/api/v1/anomalies", get(anomalies::list))
        .route("/api/v1/logs", get(logs::list))
        .route("/api/v1/log-templates", get(logs::templates))
        .route("/api/v1/log-anomalies", get(logs::anomalies))
        .route("/api/v1/log-stats", get(logs::stats))
        .route("/api/v1/forecast", get(forecast::forecast))
        .route("/api/v1/capacity", get(forecast::capacity))
        .route("/api/v1/topology", get(service_graph::topology))
        .route("/api/v1/changes", get(changes::list))
        .route("/metrics", get(self_metrics))
        .route("/api/v1/alerts", get(alerts::list))
        .route("/api/v1/incidents", get(incidents::list))
        .route("/api/v1/incidents/stream", get(incidents::stream))
        .route("/api/v1/incidents/{id}", get(incidents::get))
        .route("/api/v1/incidents/{id}/timeline", get(incidents::timeline))
        .route("/api/v1/topology/file", get(topology_file::get))
        .route("/api/v1/silences", get(silences::list))
        .route("/api/v1/cluster/status", get(cluster_status))
        .merge(remediation_read())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require(Role::Read),
        ));
    let operate = Router::new()
        .route(
            "/api/v1/incidents/{id}",
            axum::routing::patch(incidents::patch),
        )
        .route("/api/v1/incidents/{id}/merge", post(incidents::merge))
        .route("/api/v1/incidents/{id}/split", post(incidents::split))
        .route("/api/v1/silences", post(silences::add))
        .route(
            "/api/v1/silences/{id}",
            axum::routing::delete(silences::remove),
        )
        .merge(remediation_operate())
        .route("/api/v1/anomalies/{id}/feedback", post(anomalies::feedback))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require(Role::Operator),
        ));
    let admin = Router::new()
        .route("/api/v1/topology/file", put(topology_file::put))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require(Role::Admin),
        ));
    let write = Router::new()
        .route("/api/v1/write", post(ingest::remote_write))
        .route("/v1/metrics", post(ingest::otlp_metrics))
        .route("/v1/logs", post(logs::otlp))
        .route("/api/v1/logs", post(logs::json_lines))
        .route("/api/v1/alerts", post(alerts::generic))
        .route("/api/v1/alerts/alertmanager", post(alerts::alertmanager))
        .route("/v1/traces", post(service_graph::ingest))
        .route("/api/v1/changes", post(changes::create))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require(Role::Write),
        ));
    let open = Router::new()
        .route("/-/healthy", get(|| async { "Hush is Healthy.\n" }))
        .route("/-/ready", get(ready))
        .route("/api/v1/whoami", get(ui::whoami));
    read.merge(write)
        .merge(operate)
        .merge(admin)
        .merge(open)
        .fallback(ui::fallback)
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        // Larger bodies are refused before they are read, with the limit named.
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(max_body, body_limit_message))
        .with_state(state)
}

fn remediation_read() -> Router<AppState> {
    use remediation as r;
    Router::new()
        .route("/api/v1/runbooks", get(r::runbooks))
        .route("/api/v1/remediation/runs", get(r::runs))
        .route("/api/v1/remediation/runs/{id}", get(r::run))
        .route(
            "/api/v1/remediation/incidents/{id}/runbooks",
            get(r::ranked),
        )
        .route("/api/v1/audit", get(r::audit))
        .route("/api/v1/audit/export", get(r::export))
}

fn remediation_operate() -> Router<AppState> {
    use remediation as r;
    Router::new()
        .route("/api/v1/remediation/runs/{id}/approve", post(r::approve))
        .route("/api/v1/remediation/runs/{id}/dry-run", post(r::dry_run))
        .route("/api/v1/remediation/kill-switch", post(r::kill_switch))
}

async fn ready(State(s): State<AppState>) -> Response {
    if s.engine.is_ready() {
        (StatusCode::OK, "Hush is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Hush is not ready.\n").into_response()
    }
}

/// The cluster as JetStream sees it; 404 in embedded mode.
async fn cluster_status(State(s): State<AppState>) -> Result<Response, ApiError> {
    let Some(c) = &s.engine.cluster else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "not a cluster node: `cluster` is not configured",
        ));
    };
    let status = c.status().await?;
    Ok(axum::Json(serde_json::json!({ "status": "success", "data": status })).into_response())
}

async fn self_metrics(State(s): State<AppState>) -> Response {
    let stats = s.engine.store.stats();
    let body = s.engine.metrics.render(&stats);
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Times every request by route pattern and status.
async fn observe(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let handler = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let started = Instant::now();
    let resp = next.run(req).await;
    let label = HandlerLabel {
        handler,
        code: resp.status().as_u16().to_string(),
    };
    s.engine
        .metrics
        .request_duration
        .get_or_create(&label)
        .observe(started.elapsed().as_secs_f64());
    resp
}

/// Replaces axum's plain-text 413 with a message naming the limit.
async fn body_limit_message(State(max): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return body_too_large(max);
    }
    let resp = next.run(req).await;
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE
        && resp
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_none_or(|c| c != "application/json")
    {
        return body_too_large(max);
    }
    resp
}

fn body_too_large(max: usize) -> Response {
    let mut r = ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "bad_data",
        format!("body_too_large: request body exceeds `limits.max_body_bytes` ({max} bytes)"),
    )
    .into_response();
    // The body was not read: the connection cannot carry another request, and a client that
    // reused it would see its next request cut off.
    r.headers_mut().insert(
        axum::http::header::CONNECTION,
        axum::http::HeaderValue::from_static("close"),
    );
    r
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            incidents::close_streams();
        })
        .await
}
