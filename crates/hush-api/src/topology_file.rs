//! `GET /api/v1/topology/file` and `PUT /api/v1/topology/file`: the service dependency graph as
//! written (`services: [{name, type, team, criticality, dependsOn}]`), shared by correlation and
//! RCA.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use bytes::Bytes;
use hush_engine::topology::LoadedTopology;
use serde_json::{Value as J, json};

/// The file as JSON (YAML accepted on `PUT`); an empty service list when none is loaded.
pub async fn get(State(s): State<AppState>) -> Json<J> {
    let file = s.engine.topology.get().map(|t| t.file).unwrap_or_default();
    Json(json!({
        "status": "success",
        "data": file,
        "path": s.engine.config.topology_file,
    }))
}

/// Replaces the topology (admin role). The body is validated whole before anything changes;
/// with `topology_file` configured it is written there (temporary file, then rename), so a
/// restart loads it.
pub async fn put(
    State(s): State<AppState>,
    h: HeaderMap,
    body: Bytes,
) -> Result<Json<J>, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_data("invalid topology: the body is not UTF-8"))?;
    let loaded = LoadedTopology::parse(text).map_err(|e| ApiError::bad_data(e.to_string()))?;
    let persisted = match &s.engine.config.topology_file {
        Some(path) => {
            let tmp = path.with_extension("yaml.tmp");
            let bytes = body.to_vec();
            let (p, t) = (path.clone(), tmp.clone());
            tokio::task::spawn_blocking(move || {
                std::fs::write(&t, &bytes)?;
                std::fs::rename(&t, &p)
            })
            .await
            .map_err(|e| ApiError::internal("writing the topology file", e))?
            .map_err(|e| ApiError::internal("writing the topology file", e))?;
            true
        }
        None => false,
    };
    let services = loaded.file.services.len();
    s.engine.topology.replace(loaded);
    let actor = crate::auth::actor(&s, &h);
    s.engine
        .db
        .append_audit(&hush_sql::NewAuditEntry {
            at: s.engine.clock.now_ms(),
            actor,
            action: "topology.replace".into(),
            subject: "topology".into(),
            details: json!({"services": services, "persisted": persisted}),
        })
        .await?;
    Ok(Json(json!({
        "status": "success",
        "data": {"services": services, "persisted": persisted},
    })))
}
