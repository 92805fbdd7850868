//! `GET/POST /api/v1/silences`, `DELETE /api/v1/silences/{id}`: notification silences.

use crate::AppState;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use hush_engine::notify::Silence;
use serde_json::{Value as J, json};

pub async fn list(State(s): State<AppState>) -> Json<J> {
    Json(json!({ "status": "success", "data": s.engine.silences.list() }))
}

/// Adds a silence: `{"service" | "team", "starts", "ends", "comment"}`, times in epoch ms.
pub async fn add(
    State(s): State<AppState>,
    h: HeaderMap,
    body: Bytes,
) -> Result<Json<J>, ApiError> {
    let silence: Silence = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_data(format!("invalid silence: {e}")))?;
    if silence.id.is_some() {
        return Err(ApiError::bad_data(
            "invalid silence: `id` is assigned by Hush",
        ));
    }
    let silences = &s.engine.silences;
    let added = silences
        .add(silence)
        .map_err(|e| ApiError::bad_data(format!("invalid silence: {e}")))?;
    audit(&s, &h, "silence.add", &added).await?;
    Ok(Json(json!({ "status": "success", "data": added })))
}

pub async fn remove(
    State(s): State<AppState>,
    h: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<J>, ApiError> {
    let uuid = uuid::Uuid::parse_str(&id)
        .map_err(|_| ApiError::bad_data(format!("invalid silence id `{id}`: expected a UUID")))?;
    let found = s
        .engine
        .silences
        .list()
        .into_iter()
        .find(|x| x.id == Some(uuid));
    let removed = s
        .engine
        .silences
        .remove(uuid)
        .map_err(|e| ApiError::internal("removing a silence", e))?;
    match (removed, found) {
        (true, Some(f)) => {
            audit(&s, &h, "silence.remove", &f).await?;
            Ok(Json(json!({ "status": "success", "data": f })))
        }
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "silence `{uuid}` not found (silences from the configuration cannot be removed here)"
            ),
        )),
    }
}

async fn audit(
    s: &AppState,
    h: &HeaderMap,
    action: &str,
    silence: &Silence,
) -> Result<(), ApiError> {
    s.engine
        .db
        .append_audit(&hush_sql::NewAuditEntry {
            at: s.engine.clock.now_ms(),
            actor: crate::auth::actor(s, h),
            action: action.into(),
            subject: silence.id.map(|i| i.to_string()).unwrap_or_default(),
            details: serde_json::to_value(silence).unwrap_or(J::Null),
        })
        .await?;
    Ok(())
}
