//! Runbooks, runs, approvals, dry-runs, the kill switch, and the audit log.
//!
//! Reading needs a `read` token; approving, dry-running and the kill switch need `operator`.
//! The caller's token name is what the audit log records as the actor.

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hush_remediate::Remediator;
use serde::Deserialize;
use serde_json::{Value as J, json};
use std::sync::Arc;

fn ok(data: J) -> Json<J> {
    Json(json!({ "status": "success", "data": data }))
}

fn remediator(s: &AppState) -> Result<Arc<Remediator>, ApiError> {
    s.engine.remediation.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "remediation is not configured: set remediation.runbooks_dir",
        )
    })
}

fn run_id(id: &str) -> Result<uuid::Uuid, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_data(format!("run id `{id}` is not a UUID")))
}

fn who(caller: Option<axum::Extension<Caller>>) -> String {
    caller
        .map(|c| c.0.0)
        .unwrap_or_else(|| "anonymous".to_owned())
}

/// `GET /api/v1/runbooks`: loaded runbooks and files refused at the last (re)load.
pub(crate) async fn runbooks(State(s): State<AppState>) -> Result<Json<J>, ApiError> {
    let r = remediator(&s)?;
    let (rbs, errors) = r.runbooks();
    let list: Vec<J> = rbs
        .iter()
        .map(|rb| {
            json!({
                "name": rb.name,
                "description": rb.description,
                "file": rb.file.display().to_string(),
                "mode": rb.mode,
                "confidence_threshold": rb.confidence_threshold,
                "steps": rb.steps.iter().map(|s| &s.name).collect::<Vec<_>>(),
                "rollback": rb.rollback.iter().map(|s| &s.name).collect::<Vec<_>>(),
                "verification": rb.verification.as_ref().map(|v| &v.query),
                "limits": rb.limits,
            })
        })
        .collect();
    let errors: Vec<J> = errors
        .iter()
        .map(|e| json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message, "error": e.to_string()}))
        .collect();
    Ok(ok(
        json!({"runbooks": list, "errors": errors, "kill_switch": r.kill_switch()}),
    ))
}

/// `GET /api/v1/remediation/runs`: every run in memory, newest first.
pub(crate) async fn runs(State(s): State<AppState>) -> Result<Json<J>, ApiError> {
    let r = remediator(&s)?;
    let runs = serde_json::to_value(r.runs()).map_err(|e| ApiError::internal("list runs", e))?;
    Ok(ok(json!({"runs": runs, "kill_switch": r.kill_switch()})))
}

/// `GET /api/v1/remediation/runs/{id}`.
pub(crate) async fn run(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<J>, ApiError> {
    let r = remediator(&s)?;
    let id = run_id(&id)?;
    let run = r.run(id).ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no run `{id}`"))
    })?;
    Ok(ok(
        serde_json::to_value(run).map_err(|e| ApiError::internal("read run", e))?
    ))
}

/// `GET /api/v1/remediation/incidents/{id}/runbooks`: the runbooks that apply to an incident,
/// most confident first, with their record on similar incidents.
pub(crate) async fn ranked(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<J>, ApiError> {
    let r = remediator(&s)?;
    let id: uuid::Uuid = id
        .parse()
        .map_err(|_| ApiError::bad_data(format!("incident id `{id}` is not a UUID")))?;
    let incident = s
        .engine
        .db
        .get_incident(id)
        .await
        .map_err(|e| ApiError::internal("read incident", e))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no incident `{id}`"),
            )
        })?;
    let ranked =
        serde_json::to_value(r.rank(&incident)).map_err(|e| ApiError::internal("rank", e))?;
    Ok(ok(ranked))
}

/// `POST /api/v1/remediation/runs/{id}/approve`.
pub(crate) async fn approve(
    State(s): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path(id): Path<String>,
) -> Result<Json<J>, ApiError> {
    let r = remediator(&s)?;
    let id = run_id(&id)?;
    let run = r.approve(id, &who(caller)).await?;
    Ok(ok(
        serde_json::to_value(run).map_err(|e| ApiError::internal("approve run", e))?
    ))
}

/// `POST /api/v1/remediation/runs/{id}/dry-run`: what would run, running nothing.
pub(crate) async fn dry_run(
    State(s): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    Path(id): Path<String>,
) -> Result<Json<J>, ApiError> {
    let r = remediator(&s)?;
    let id = run_id(&id)?;
    Ok(ok(r.dry_run(id, &who(caller)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KillSwitch {
    engaged: bool,
}

/// `POST /api/v1/remediation/kill-switch` with `{"engaged": true|false}`.
pub(crate) async fn kill_switch(
    State(s): State<AppState>,
    caller: Option<axum::Extension<Caller>>,
    body: Bytes,
) -> Result<Json<J>, ApiError> {
    let r = remediator(&s)?;
    let k: KillSwitch = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_data(format!("body must be {{\"engaged\": true|false}}: {e}"))
    })?;
    let cancelled = r.set_kill_switch(k.engaged, &who(caller)).await?;
    Ok(ok(json!({"engaged": k.engaged, "cancelled": cancelled})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    after: Option<i64>,
    before: Option<i64>,
    order: Option<String>,
    limit: Option<u32>,
}

fn entry_json(e: &hush_sql::AuditEntry) -> J {
    // Details are stored as the exact canonical text that was hashed; shown parsed.
    let details: J = serde_json::from_str(&e.details).unwrap_or(J::String(e.details.clone()));
    json!({
        "seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject,
        "details": details, "prev_hash": e.prev_hash, "hash": e.hash,
    })
}

/// `GET /api/v1/audit?after=N&limit=M`: entries after position N, in chain order;
/// `?order=desc&before=N`: entries before position N (default: from the newest), newest first,
/// so a reader sees the latest actions without paging through the whole chain.
pub(crate) async fn audit(
    State(s): State<AppState>,
    q: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<J>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::bad_data(format!("bad audit query: {e}")))?;
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::bad_data("limit must be 1 to 1000"));
    }
    let newest_first = match q.order.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(o) => {
            return Err(ApiError::bad_data(format!(
                "invalid order `{o}`: use asc or desc"
            )));
        }
    };
    let entries = match (newest_first, q.after, q.before) {
        (false, after, None) => s.engine.db.list_audit(after.unwrap_or(0), limit).await,
        (true, None, before) => {
            s.engine
                .db
                .list_audit_before(before.unwrap_or(i64::MAX), limit)
                .await
        }
        (false, _, Some(_)) => {
            return Err(ApiError::bad_data("`before` needs order=desc"));
        }
        (true, Some(_), _) => {
            return Err(ApiError::bad_data("`after` needs order=asc"));
        }
    }
    .map_err(|e| ApiError::internal("read audit log", e))?;
    Ok(ok(J::Array(entries.iter().map(entry_json).collect())))
}

/// `GET /api/v1/audit/export`: the whole chain as JSON lines, one entry per line.
pub(crate) async fn export(State(s): State<AppState>) -> Result<Response, ApiError> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = s
            .engine
            .db
            .list_audit(after, 1000)
            .await
            .map_err(|e| ApiError::internal("export audit log", e))?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            out.extend_from_slice(entry_json(e).to_string().as_bytes());
            out.push(b'\n');
        }
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], out).into_response())
}
