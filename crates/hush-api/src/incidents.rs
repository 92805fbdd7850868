//! Incident endpoints: list, one, operator changes (merge and split included), timeline and the
//! live stream.

use crate::AppState;
use crate::alerts::alert_json;
use crate::error::ApiError;
use crate::params::Params;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use hush_sql::{IncidentFilter, IncidentState, Priority};
use serde_json::{Value as J, json};
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use uuid::Uuid;

/// Rows per page unless `limit` says; at most [`MAX_LIMIT`].
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;
/// Pages scanned for a `service` filter (it is not a column) before answering with a cursor.
const SERVICE_SCAN_PAGES: usize = 10;

pub(crate) fn limit(p: &Params) -> Result<u32, ApiError> {
    Ok(p.limit(DEFAULT_LIMIT as usize, MAX_LIMIT as usize)? as u32)
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id)
        .map_err(|_| ApiError::bad_data(format!("invalid incident id `{id}`: expected a UUID")))
}

pub(crate) fn incident_json(i: &hush_sql::Incident) -> J {
    json!({
        "id": i.id,
        "state": i.state.as_str(),
        "priority": format!("P{}", i.priority.level()),
        "title": i.title,
        "openedAt": i.opened_at,
        "acknowledgedAt": i.acknowledged_at,
        "resolvedAt": i.resolved_at,
        "updatedAt": i.updated_at,
        "services": i.payload.get("services").cloned().unwrap_or(J::Array(vec![])),
        "alerts": i.payload.get("alerts").cloned().unwrap_or(J::from(0)),
        "assignee": i.payload.get("assignee").cloned().unwrap_or(J::Null),
        "reasons": i.payload.get("reasons").cloned().unwrap_or(J::Array(vec![])),
        "flapping": i.payload.get("flapping").cloned().unwrap_or(J::Array(vec![])),
        "severity": i.payload.get("severity").cloned().unwrap_or(J::Null),
        "teams": i.payload.get("teams").cloned().unwrap_or(J::Array(vec![])),
        "rootCause": i.payload.get("root_cause").cloned().unwrap_or(J::Null),
        "mergedInto": i.payload.get("merged_into").cloned().unwrap_or(J::Null),
    })
}

/// `GET /api/v1/incidents?state=&priority=&service=&since=&limit=&before=`: newest first.
/// `priority=P2` keeps P1 and P2; `before` is the `next` cursor of the previous page.
pub async fn list(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
    h: HeaderMap,
) -> Result<Json<J>, ApiError> {
    let p = Params::parse(q.as_deref(), &h, &[])?;
    let state = match p.get("state") {
        None | Some("") => None,
        Some("open") => Some(IncidentState::Open),
        Some("acknowledged") => Some(IncidentState::Acknowledged),
        Some("resolved") => Some(IncidentState::Resolved),
        Some(o) => {
            return Err(ApiError::bad_data(format!(
                "invalid parameter `state`: `{o}`; expected open, acknowledged or resolved"
            )));
        }
    };
    let at_least = match p.get("priority") {
        None | Some("") => None,
        Some(v) => Some(
            v.strip_prefix(['P', 'p'])
                .and_then(|n| n.parse::<u8>().ok())
                .and_then(Priority::new)
                .ok_or_else(|| {
                    ApiError::bad_data(format!(
                        "invalid parameter `priority`: `{v}`; expected P1 to P5"
                    ))
                })?,
        ),
    };
    let before = match p.get("before") {
        None | Some("") => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| {
            ApiError::bad_data(format!(
                "invalid parameter `before`: `{v}`; pass the `next` value of the previous page"
            ))
        })?),
    };
    let since = p.get("since").map(|_| p.time("since", 0)).transpose()?;
    let service = p.get("service").filter(|v| !v.is_empty());
    let want = limit(&p)? as usize;
    let mut filter = IncidentFilter {
        state,
        at_least,
        opened_since: since,
        opened_before: before,
        limit: Some(if service.is_some() {
            MAX_LIMIT
        } else {
            want as u32
        }),
        ..IncidentFilter::default()
    };
    let mut out = Vec::new();
    let mut next = None;
    for _ in 0..SERVICE_SCAN_PAGES {
        let page = s.engine.db.list_incidents(&filter).await?;
        let full = page.len() == filter.limit.unwrap_or(0) as usize;
        for i in page {
            // `opened_at` is unique per node (the engine keeps it strictly increasing), so it
            // is an exact cursor.
            next = Some(i.opened_at);
            let keep = service.is_none_or(|svc| {
                i.payload
                    .get("services")
                    .and_then(J::as_array)
                    .is_some_and(|l| l.iter().any(|x| x == svc))
            });
            if keep {
                out.push(incident_json(&i));
                if out.len() == want {
                    break;
                }
            }
        }
        if out.len() == want || !full {
            if !full && out.len() < want {
                next = None;
            }
            break;
        }
        filter.opened_before = next;
    }
    Ok(Json(
        json!({ "status": "success", "data": out, "next": next }),
    ))
}

/// `GET /api/v1/incidents/{id}`: the incident with its alerts.
pub async fn get(State(s): State<AppState>, Path(id): Path<String>) -> Result<Json<J>, ApiError> {
    let id = parse_id(&id)?;
    let inc = s
        .engine
        .db
        .get_incident(id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let alerts = s.engine.db.incident_alerts(id).await?;
    let mut j = incident_json(&inc);
    j["members"] = J::Array(alerts.iter().map(alert_json).collect());
    Ok(Json(json!({ "status": "success", "data": j })))
}

fn not_found(id: Uuid) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("incident `{id}` not found"),
    )
}

/// `PATCH /api/v1/incidents/{id}` with `{"state", "assignee", "note"}` (operator role).
pub async fn patch(
    State(s): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<J>, ApiError> {
    let id = parse_id(&id)?;
    let patch: hush_engine::incidents::Patch = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_data(format!("invalid incident change: {e}")))?;
    let actor = crate::auth::actor(&s, &h);
    let row = s.engine.patch_incident(id, patch, actor).await?;
    Ok(Json(
        json!({ "status": "success", "data": incident_json(&row) }),
    ))
}

/// `POST /api/v1/incidents/{id}/merge` with `{"into": "<id>"}` (operator role): this incident's
/// alerts move into `into`; this one resolves, marked `mergedInto`. Answers both.
pub async fn merge(
    State(s): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<J>, ApiError> {
    let id = parse_id(&id)?;
    let m: hush_engine::incidents::Merge = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_data(format!(
            "invalid merge: {e}; expected {{\"into\": \"<incident id>\"}}"
        ))
    })?;
    let actor = crate::auth::actor(&s, &h);
    let r = s.engine.merge_incidents(id, m.into, actor).await?;
    Ok(Json(json!({
        "status": "success",
        "data": {"merged": incident_json(&r.incident), "into": incident_json(&r.other)},
    })))
}

/// `POST /api/v1/incidents/{id}/split` with `{"alerts": ["<fingerprint>", …]}` (operator role):
/// those alerts leave this incident and form a new one. Answers both.
pub async fn split(
    State(s): State<AppState>,
    Path(id): Path<String>,
    h: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<J>, ApiError> {
    let id = parse_id(&id)?;
    let sp: hush_engine::incidents::Split = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_data(format!(
            "invalid split: {e}; expected {{\"alerts\": [\"<fingerprint>\", …]}}"
        ))
    })?;
    let actor = crate::auth::actor(&s, &h);
    let r = s.engine.split_incident(id, sp.alerts, actor).await?;
    Ok(Json(json!({
        "status": "success",
        "data": {"incident": incident_json(&r.incident), "new": incident_json(&r.other)},
    })))
}

/// `GET /api/v1/incidents/{id}/timeline`: alerts joined, state changes, assignments and notes,
/// oldest first.
pub async fn timeline(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<J>, ApiError> {
    let id = parse_id(&id)?;
    let db = &s.engine.db;
    db.get_incident(id).await?.ok_or_else(|| not_found(id))?;
    let mut items: Vec<(i64, J)> = Vec::new();
    for a in db.incident_alerts(id).await? {
        items.push((
            a.first_seen,
            json!({"at": a.first_seen, "kind": "alert", "alert": alert_json(&a)}),
        ));
    }
    for e in db.list_audit_for(&id.to_string(), 10_000).await? {
        let details: J = serde_json::from_str(&e.details).unwrap_or(J::Null);
        items.push((
            e.at,
            json!({"at": e.at, "kind": e.action, "actor": e.actor, "details": details}),
        ));
    }
    items.sort_by_key(|(at, _)| *at);
    let data: Vec<J> = items.into_iter().map(|(_, j)| j).collect();
    Ok(Json(json!({ "status": "success", "data": data })))
}

/// Set once the server starts shutting down: open event streams end so graceful shutdown
/// does not wait on them forever.
static CLOSING: std::sync::LazyLock<watch::Sender<bool>> =
    std::sync::LazyLock::new(|| watch::channel(false).0);

pub(crate) fn close_streams() {
    CLOSING.send_replace(true);
}

/// `GET /api/v1/incidents/stream`: Server-Sent Events, one `incident` event per change.
pub async fn stream(
    State(s): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = s.engine.incidents.subscribe_live();
    let closing = CLOSING.subscribe();
    let events = futures_util::stream::unfold((rx, closing), |(mut rx, mut closing)| async move {
        if *closing.borrow() {
            return None;
        }
        let got = tokio::select! {
            r = rx.recv() => r,
            _ = closing.wait_for(|c| *c) => return None,
        };
        let event = match got {
            Ok(ev) => Event::default()
                .event("incident")
                .data(serde_json::to_string(&ev).unwrap_or_default()),
            // A slow reader is told how much it missed rather than dropped silently.
            Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(n.to_string()),
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(event), (rx, closing)))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
